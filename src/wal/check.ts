/**
 * `kvdb wal check`: a read-only report of every segment and all damage,
 * classified exactly as recovery would classify it.
 *
 * @example
 * ```ts
 * const report = await checkWal("/data/wal");
 * if (report.damage.length > 0) console.log(report.damage[0].reason);
 * ```
 * @module
 */

import type { SegmentExpectation } from "./_header_check.ts";
import { type SegmentScan, SegmentScanner } from "./_segment_scan.ts";
import { isTornTail } from "./recovery.ts";
import { listSegments } from "./segment.ts";

/**
 * One segment as found on disk.
 *
 * @example
 * ```ts
 * `${s.name}: ${s.records} records, LSN ${s.firstLsn}..${s.lastLsn}`;
 * ```
 */
export interface SegmentReport {
  name: string;
  path: string;
  bytes: number;
  /** Records that verify, up to the segment's first damage. */
  records: number;
  /** First LSN (from the name). */
  firstLsn: number;
  /** Last verified LSN; `firstLsn - 1` if the segment has none. */
  lastLsn: number;
}

/**
 * What kind of damage:
 * - `torn-tail`: the end of the last segment, as a crash mid-write leaves
 *   it; opening the log truncates it by itself.
 * - `corrupt`: damage a crash cannot explain; the server refuses to start.
 * - `foreign`: a file that is not a segment; the server refuses to start.
 *
 * @example
 * ```ts
 * const kind: WalDamageKind = "torn-tail";
 * ```
 */
export type WalDamageKind = "torn-tail" | "corrupt" | "foreign";

/**
 * One problem, located.
 *
 * @example
 * ```ts
 * `${d.file} at byte ${d.offset}: ${d.reason}`;
 * ```
 */
export interface WalDamage {
  kind: WalDamageKind;
  /** Path of the file. */
  file: string;
  /** Index into `segments` (-1 for a foreign file). */
  segment: number;
  /** Byte offset in the file (0 for a foreign file). */
  offset: number;
  reason: string;
}

/**
 * The whole check.
 *
 * @example
 * ```ts
 * const { segments, damage } = await checkWal(dir);
 * ```
 */
export interface WalCheckReport {
  dir: string;
  segments: SegmentReport[];
  /** In log order: by segment, then offset; foreign files last. */
  damage: WalDamage[];
  /** Verified records in all segments. */
  records: number;
}

/**
 * Scans every segment of `dir` (which must exist). Each segment is also
 * verified on its own from its header, so damage in one does not hide the
 * state of the ones after it.
 *
 * @example
 * ```ts
 * const report = await checkWal(dir);
 * Deno.exit(report.damage.length === 0 ? 0 : 1);
 * ```
 */
export async function checkWal(dir: string): Promise<WalCheckReport> {
  const info = await Deno.stat(dir);
  if (!info.isDirectory) throw new Error(`${dir} is not a directory`);
  const { segments, foreign } = await listSegments(dir);
  const report: WalCheckReport = { dir, segments: [], damage: [], records: 0 };
  const scanner = new SegmentScanner();
  let previous: SegmentScan | undefined = undefined;
  for (let i = 0; i < segments.length; i++) {
    const file = segments[i];
    const expect: SegmentExpectation | undefined =
      previous !== undefined && previous.damage === undefined
        ? { firstLsn: previous.lastLsn + 1, seedCrc: previous.lastCrc }
        : undefined;
    const scan = scanner.scan(file, expect, undefined);
    // A header that breaks the chain is still worth reading on its own.
    const own: SegmentScan = scan.damage?.inHeader && expect !== undefined
      ? scanner.scan(file, undefined, undefined)
      : scan;
    report.segments.push({
      name: file.name,
      path: file.path,
      bytes: own.fileBytes,
      records: own.records,
      firstLsn: file.firstLsn,
      lastLsn: own.header === undefined ? file.firstLsn - 1 : own.lastLsn,
    });
    report.records += own.records;
    const isLast = i === segments.length - 1;
    for (const s of own === scan ? [scan] : [scan, own]) {
      if (s.damage === undefined) continue;
      if (s !== scan && s.damage.offset === scan.damage?.offset) continue;
      const torn = s === scan && isLast && isTornTail(s, previous?.lastCrc ?? 0);
      report.damage.push({
        kind: torn ? "torn-tail" : "corrupt",
        file: file.path,
        segment: i,
        offset: s.damage.offset,
        reason: s.damage.reason,
      });
    }
    previous = own;
  }
  for (const name of foreign) {
    report.damage.push({
      kind: "foreign",
      file: `${dir}/${name}`,
      segment: -1,
      offset: 0,
      reason: "not a WAL segment (the server refuses to start with it here)",
    });
  }
  return report;
}
