/**
 * Reads records back from segment files, for replication: an async
 * generator over records with LSN ≥ `fromLsn`, reading large chunks with
 * async file I/O so a server can stream a log without blocking its loop.
 *
 * It may run while the writer appends. Records up to the writer's
 * `durableLsn` are complete on disk; beyond it a frame may be half-written,
 * so pass `toLsn` (or use `Wal.records`, which does) for a strict read.
 *
 * @example
 * ```ts
 * for await (const r of readRecords("/data/wal", 1, { toLsn: wal.durableLsn })) send(r);
 * ```
 * @module
 */

import { checkSegmentHeader, isHeaderProblem, type SegmentExpectation } from "./_header_check.ts";
import {
  bufferForFrame,
  DECODE_INCOMPLETE,
  DECODE_ZERO_FILL,
  decodeRecord,
  describeDecodeResult,
  newDecodedRecord,
} from "./decoder.ts";
import { WalCorruptError } from "./errors.ts";
import type { WalRecord } from "./record.ts";
import { listSegments, SEGMENT_HEADER_BYTES, type SegmentFile } from "./segment.ts";

/**
 * Bytes per read call.
 *
 * @example
 * ```ts
 * READ_CHUNK_BYTES; // 1 MiB
 * ```
 */
export const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Bounds of a read.
 *
 * @example
 * ```ts
 * const options: ReadRecordsOptions = { toLsn: wal.durableLsn };
 * ```
 */
export interface ReadRecordsOptions {
  /**
   * Last LSN to yield. A bad or incomplete record at or before it throws
   * `WalCorruptError`. Without it, reading stops quietly at a bad or
   * incomplete record in the last segment (it may be mid-write).
   */
  toLsn?: number;
}

interface SegmentOutcome {
  lastLsn: number;
  lastCrc: number;
  /** Reached `toLsn`: stop. */
  done: boolean;
  /** File offset just after the last good record. */
  endOffset: number;
  damage: { offset: number; reason: string } | undefined;
}

/**
 * How a segment read ended at `endOffset`, after the last good record:
 * `done` at `toLsn`, or at damage there when a `reason` is given.
 */
function ended(
  lastLsn: number,
  lastCrc: number,
  endOffset: number,
  done: boolean,
  reason?: string,
): SegmentOutcome {
  const damage = reason === undefined ? undefined : { offset: endOffset, reason };
  return { lastLsn, lastCrc, done, endOffset, damage };
}

/**
 * Yields records with `fromLsn ≤ lsn ≤ toLsn` in LSN order, each a fresh
 * object. Throws RangeError if `fromLsn` is older than the oldest segment,
 * `WalCorruptError` for damage it cannot attribute to a write in progress.
 * A segment created while reading is picked up.
 *
 * @example
 * ```ts
 * for await (const record of readRecords(dir, 1)) console.log(record.lsn);
 * ```
 */
export async function* readRecords(
  dir: string,
  fromLsn: number,
  options: ReadRecordsOptions = {},
): AsyncGenerator<WalRecord> {
  if (!Number.isSafeInteger(fromLsn) || fromLsn < 1) {
    throw new RangeError(`readRecords: fromLsn must be a positive integer, got ${fromLsn}`);
  }
  const toLsn = options.toLsn ?? Infinity;
  if (fromLsn > toLsn) return;
  const { segments } = await listSegments(dir);
  if (segments.length === 0) return;
  let index = -1;
  for (let i = 0; i < segments.length && segments[i].firstLsn <= fromLsn; i++) index = i;
  if (index < 0) {
    throw new RangeError(
      `readRecords: LSN ${fromLsn} is older than the log (oldest segment starts at ${
        segments[0].firstLsn
      })`,
    );
  }
  const buf = { bytes: new Uint8Array(READ_CHUNK_BYTES) };
  let file = segments[index];
  let expect: SegmentExpectation | undefined = undefined;
  while (true) {
    const outcome: SegmentOutcome = yield* readSegment(file, expect, fromLsn, toLsn, buf);
    if (outcome.done) return;
    const next = (await listSegments(dir)).segments.find((s) => s.firstLsn > file.firstLsn);
    if (outcome.damage !== undefined) {
      // Unbounded, at the end of the log: the frame may be mid-write.
      if (next === undefined && toLsn === Infinity) return;
      throw new WalCorruptError(file.path, outcome.damage.offset, outcome.damage.reason);
    }
    if (outcome.lastLsn >= toLsn) return;
    if (next === undefined) {
      // Records up to a bounded `toLsn` are durable, so they are on disk.
      if (toLsn === Infinity) return;
      throw new WalCorruptError(
        file.path,
        outcome.endOffset,
        `the log ends at LSN ${outcome.lastLsn}, before LSN ${toLsn}`,
      );
    }
    expect = { firstLsn: outcome.lastLsn + 1, seedCrc: outcome.lastCrc };
    file = next;
  }
}

async function* readSegment(
  file: SegmentFile,
  expect: SegmentExpectation | undefined,
  fromLsn: number,
  toLsn: number,
  buf: { bytes: Uint8Array },
): AsyncGenerator<WalRecord, SegmentOutcome> {
  const handle = await Deno.open(file.path, { read: true });
  try {
    let bytes = buf.bytes;
    let end = await readInto(handle, bytes, 0, SEGMENT_HEADER_BYTES);
    const header = checkSegmentHeader(bytes.subarray(0, end), file, expect);
    if (isHeaderProblem(header)) {
      return {
        lastLsn: (expect?.firstLsn ?? file.firstLsn) - 1,
        lastCrc: 0,
        done: false,
        endOffset: 0,
        damage: header,
      };
    }
    let base = SEGMENT_HEADER_BYTES;
    let start = 0;
    end = 0;
    let lsn = header.firstLsn - 1;
    let seed = header.seedCrc;
    let eof = false;
    while (true) {
      const out = newDecodedRecord();
      const code = decodeRecord(bytes, start, end, seed, out);
      if (code > 0) {
        if (out.lsn !== lsn + 1) {
          const reason = `LSN ${out.lsn} where ${lsn + 1} was expected`;
          return ended(lsn, seed, base + start, false, reason);
        }
        lsn = out.lsn;
        seed = out.crc;
        start += code;
        if (lsn >= fromLsn) yield out;
        if (lsn >= toLsn) return ended(lsn, seed, base + start, true);
        continue;
      }
      // The preallocated rest of the segment: its records end here.
      if (code === DECODE_ZERO_FILL) return ended(lsn, seed, base + start, false);
      if (code !== DECODE_INCOMPLETE) {
        const reason = `${describeDecodeResult(code)} (record LSN ${lsn + 1})`;
        return ended(lsn, seed, base + start, false, reason);
      }
      if (eof) {
        const reason = start === end
          ? undefined
          : `record LSN ${lsn + 1} cut short: ${end - start} bytes at end of file`;
        return ended(lsn, seed, base + start, false, reason);
      }
      bytes.copyWithin(0, start, end);
      end -= start;
      base += start;
      start = 0;
      bytes = buf.bytes = bufferForFrame(bytes, end);
      const n = await readInto(handle, bytes, end, bytes.length);
      if (n === 0) eof = true;
      end += n;
    }
  } finally {
    handle.close();
  }
}

async function readInto(
  handle: Deno.FsFile,
  bytes: Uint8Array,
  from: number,
  to: number,
): Promise<number> {
  let at = from;
  while (at < to) {
    const n = await handle.read(bytes.subarray(at, to));
    if (n === null || n === 0) break;
    at += n;
  }
  return at - from;
}
