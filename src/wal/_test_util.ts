/**
 * Helpers for the WAL tests: real temp directories, a recording logger,
 * and locating frames in real segment files. No file-system mocks.
 *
 * @module
 */

import type { LogFields, Logger, LogLevel } from "../log/logger.ts";
import { readU32 } from "./_bytes.ts";
import { pad8 } from "./_bytes.ts";
import type { WalRecord } from "./record.ts";
import { SEGMENT_HEADER_BYTES } from "./segment.ts";
import { Wal, type WalOptions } from "./wal.ts";

/**
 * A logged line, kept for assertions.
 *
 * @example
 * ```ts
 * logger.lines.some((l: LoggedLine) => l.level === "warn");
 * ```
 */
export interface LoggedLine {
  level: LogLevel;
  message: string;
  fields: LogFields;
}

/**
 * A logger that records every line instead of printing it.
 *
 * @example
 * ```ts
 * const logger = recordingLogger();
 * logger.warn("x", { bytes: 1 });
 * logger.lines[0].fields.bytes; // 1
 * ```
 */
export function recordingLogger(): Logger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const log = (level: LogLevel) => (message: string, fields: LogFields = {}) => {
    lines.push({ level, message, fields });
  };
  return {
    lines,
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    enabled: () => true,
    close: () => {},
  };
}

/**
 * A fresh temp directory, removed by the returned disposer.
 *
 * @example
 * ```ts
 * await using dir = await tempDir();
 * await Deno.writeTextFile(`${dir.path}/x`, "y");
 * ```
 */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "kvdb-wal-test-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/**
 * Options with test-friendly defaults.
 *
 * @example
 * ```ts
 * const options = walOptions(dir.path, { maxSegmentBytes: 1024 });
 * ```
 */
export function walOptions(dir: string, overrides: Partial<WalOptions> = {}): WalOptions {
  return {
    dir,
    maxSegmentBytes: 1024 * 1024,
    batchSize: 100,
    batchTimeoutMs: 10,
    logger: recordingLogger(),
    ...overrides,
  };
}

/**
 * Opens a WAL, collecting copies of the replayed records.
 *
 * @example
 * ```ts
 * const { wal, records } = await openCollect(walOptions(dir.path));
 * ```
 */
export async function openCollect(
  options: WalOptions,
): Promise<{ wal: Wal; records: WalRecord[] }> {
  const records: WalRecord[] = [];
  const wal = await Wal.open(options, (r) => {
    records.push({
      lsn: r.lsn,
      op: r.op,
      db: r.db,
      key: r.key,
      value: r.value,
      expiresAtMs: r.expiresAtMs,
    });
  });
  return { wal, records };
}

/**
 * Replays `records` into a map the way a store would (SET/DEL/FLUSHALL).
 *
 * @example
 * ```ts
 * replayToMap(records).get("k"); // the last value written
 * ```
 */
export function replayToMap(records: WalRecord[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const r of records) {
    if (r.op === 1) map.set(r.key, r.value);
    else if (r.op === 2) map.delete(r.key);
    else if (r.op === 3) map.clear();
  }
  return map;
}

/**
 * Offsets of the frames in a segment file, walking the length fields.
 *
 * @example
 * ```ts
 * const [first] = await frameOffsets(path); // 32
 * ```
 */
export async function frameOffsets(path: string): Promise<number[]> {
  const bytes = await Deno.readFile(path);
  const offsets: number[] = [];
  for (let at = SEGMENT_HEADER_BYTES; at + 8 <= bytes.length;) {
    offsets.push(at);
    at += 8 + pad8(readU32(bytes, at));
  }
  return offsets;
}

/**
 * Segment file names in `dir`, sorted by name.
 *
 * @example
 * ```ts
 * await segmentNames(dir.path); // ["0000000000000001.wal"]
 * ```
 */
export async function segmentNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".wal")) names.push(e.name);
  return names.sort();
}

/**
 * XORs one byte of a file in place.
 *
 * @example
 * ```ts
 * await flipByte(path, 40);
 * ```
 */
export async function flipByte(path: string, offset: number, mask = 0x40): Promise<void> {
  const bytes = await Deno.readFile(path);
  bytes[offset] ^= mask;
  await Deno.writeFile(path, bytes);
}

/**
 * Writes `count` SETs (`k<i>` = `v<i>`) and closes the WAL.
 *
 * @example
 * ```ts
 * await writeLog(walOptions(dir.path), 100);
 * ```
 */
export async function writeLog(options: WalOptions, count: number, valueBytes = 8): Promise<void> {
  const wal = await Wal.open(options, () => {});
  for (let i = 1; i <= count; i++) {
    wal.append(1, 0, `k${i}`, `v${i}`.padEnd(valueBytes, "."), 0);
  }
  await wal.close();
}
