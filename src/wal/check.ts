/**
 * `kvdb wal check`: a read-only report of a data directory — every
 * snapshot and segment, all damage — and whether a server can start on it,
 * judged exactly as a start judges it:
 * - the start loads the newest snapshot that verifies (LSN s; 0 if none)
 *   and needs the log from s + 1: the segments wholly before that are
 *   covered, kept only as the fallback's, so damage there is harmless now;
 * - damage in the segments it needs stops it, except a torn tail of the
 *   last one, which it cuts (keeping a copy);
 * - a log that starts after s + 1 (records no snapshot stands for), or
 *   files that are not the log's, stop it too.
 *
 * @example
 * ```ts
 * const report = await checkWal("/data/wal");
 * if (!report.canStart) console.log(report.damage.filter((d) => d.blocksStart));
 * ```
 * @module
 */

import type { SegmentExpectation } from "./_header_check.ts";
import { type SegmentScan, SegmentScanner } from "./_segment_scan.ts";
import { type SnapshotReport, verifySnapshots } from "../snapshot/restore.ts";
import { isDirectoryLocked } from "./lock.ts";
import {
  coveredDamageProblem,
  firstNeededSegment,
  judgeLastSegment,
  readPastCoveredDamage,
} from "./recovery.ts";
import { listSegments } from "./segment.ts";

export type { SnapshotReport } from "../snapshot/restore.ts";

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
  /** Wholly before the LSN a start needs: the loaded snapshot stands for it. */
  covered: boolean;
}

/**
 * What kind of damage. Harmless to a start (it goes on, and says so):
 * - `torn-tail`: the end of the last segment as a crash mid-write leaves
 *   it; a start cuts it, copying the bytes into `repair-backup-*` first;
 * - `covered`: in segments the loaded snapshot covers (only a fallback to
 *   an older snapshot would need them);
 * - `snapshot`: a damaged snapshot; a start sets it aside (`.damaged`) and
 *   loads the one before.
 * Stops a start:
 * - `corrupt`: damage in the records a start needs, which a crash cannot
 *   explain;
 * - `missing`: records a start needs are in no segment and no snapshot;
 * - `foreign`: a file that is not the log's.
 *
 * @example
 * ```ts
 * const kind: WalDamageKind = "torn-tail";
 * ```
 */
export type WalDamageKind =
  | "torn-tail"
  | "covered"
  | "snapshot"
  | "corrupt"
  | "missing"
  | "foreign";

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
  /** Whether it stops a server from starting. */
  blocksStart: boolean;
  /** Path of the file (the directory for `missing`). */
  file: string;
  /** Index into `segments` (-1 if not a segment's). */
  segment: number;
  /** Byte offset in the file (0 if not about a place in a file). */
  offset: number;
  reason: string;
}

/**
 * The whole check.
 *
 * @example
 * ```ts
 * const { segments, damage, canStart } = await checkWal(dir);
 * ```
 */
export interface WalCheckReport {
  dir: string;
  segments: SegmentReport[];
  /** Newest first; set-aside `.damaged` ones last. */
  snapshots: SnapshotReport[];
  /** LSN of the snapshot a start loads (the newest that verifies); 0: none. */
  snapshotLsn: number;
  /** Snapshots first, then segments in log order, then foreign files. */
  damage: WalDamage[];
  /** Verified records in all segments. */
  records: number;
  /** Whether a server can start on the directory as it is. */
  canStart: boolean;
  /** A process holds the directory's lock (the report may be out of date). */
  inUse: boolean;
}

const BLOCKS: Record<WalDamageKind, boolean> = {
  "torn-tail": false,
  covered: false,
  snapshot: false,
  corrupt: true,
  missing: true,
  foreign: true,
};

/**
 * Checks `dir` (which must exist). Each segment is also verified on its
 * own from its header, so damage in one does not hide the state of the
 * ones after it. Reads every snapshot whole; changes nothing.
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
  const inUse = await isDirectoryLocked(dir);
  const snapshots = await verifySnapshots(dir);
  const loaded = snapshots.find((s) => s.damage === undefined && !s.setAside);
  const snapshotLsn = loaded?.lsn ?? 0;
  const { segments, foreign } = await listSegments(dir);
  const report: WalCheckReport = {
    dir,
    segments: [],
    snapshots,
    snapshotLsn,
    damage: [],
    records: 0,
    canStart: true,
    inUse,
  };
  const add = (
    kind: WalDamageKind,
    file: string,
    segment: number,
    offset: number,
    reason: string,
  ) => report.damage.push({ kind, blocksStart: BLOCKS[kind], file, segment, offset, reason });

  for (const s of snapshots) {
    if (s.damage === undefined || s.setAside) continue;
    add(
      "snapshot",
      s.path,
      -1,
      s.damage.offset,
      `${s.damage.reason} (a start sets it aside as .damaged and loads the one before)`,
    );
  }
  const firstNeeded = firstNeededSegment(segments, snapshotLsn + 1);
  if (segments.length > 0 && segments[0].firstLsn > snapshotLsn + 1) {
    add("missing", dir, -1, 0, missingReason(segments[0].firstLsn, snapshotLsn, snapshots));
  }

  const scanner = new SegmentScanner();
  let previous: SegmentScan | undefined = undefined;
  /** The log's end as a start leaves it; -1 if damage stops it first. */
  let endLsn = 0;
  for (let i = 0; i < segments.length; i++) {
    const file = segments[i];
    const covered = i < firstNeeded;
    // As recovery reads it: chained to the segment before, except the first
    // needed one, whose link to a covered segment only the fallback needs.
    const chained: SegmentExpectation | undefined =
      previous !== undefined && previous.damage === undefined && i !== firstNeeded
        ? { firstLsn: previous.lastLsn + 1, seedCrc: previous.lastCrc }
        : undefined;
    let scan = scanner.scan(file, chained, undefined);
    let skippedRecords = 0;
    if (i === firstNeeded) {
      const resumed = readPastCoveredDamage(scanner, scan, snapshotLsn + 1, undefined);
      if (resumed !== undefined) {
        add(
          "covered",
          file.path,
          i,
          scan.damage!.offset,
          `${scan.damage!.reason} (in records the snapshot at LSN ${snapshotLsn} covers; a ` +
            `start reads on from LSN ${snapshotLsn + 1} at offset ${resumed.fromBytes})`,
        );
        skippedRecords = scan.records;
        scan = resumed;
      }
    }
    // A header that breaks the chain is still worth reading on its own.
    const own: SegmentScan = scan.damage?.inHeader && chained !== undefined
      ? scanner.scan(file, undefined, undefined)
      : scan;
    report.segments.push({
      name: file.name,
      path: file.path,
      bytes: own.fileBytes,
      records: own.records + skippedRecords,
      firstLsn: file.firstLsn,
      lastLsn: own.header === undefined ? file.firstLsn - 1 : own.lastLsn,
      covered,
    });
    report.records += own.records + skippedRecords;
    if (i === firstNeeded && previous?.damage === undefined && previous !== undefined) {
      const header = own.header;
      if (
        header !== undefined &&
        (header.firstLsn !== previous.lastLsn + 1 || header.seedCrc !== previous.lastCrc)
      ) {
        add(
          "covered",
          file.path,
          i,
          header.firstLsn !== previous.lastLsn + 1 ? 8 : 16,
          `does not continue ${previous.file.name} (LSN ${previous.lastLsn}), which the ` +
            `snapshot at LSN ${snapshotLsn} covers: the fallback to an older snapshot ends here`,
        );
      }
    }
    const isLast = i === segments.length - 1;
    for (const s of own === scan ? [scan] : [scan, own]) {
      if (s.damage === undefined) continue;
      if (s !== scan && s.damage.offset === scan.damage?.offset) continue;
      if (covered) {
        add(
          "covered",
          file.path,
          i,
          s.damage.offset,
          `${s.damage.reason} (covered by the snapshot at LSN ${snapshotLsn})`,
        );
        continue;
      }
      const coveredProblem = i === firstNeeded
        ? coveredDamageProblem(s, snapshotLsn + 1)
        : undefined;
      const verdict = s === scan && isLast && coveredProblem === undefined
        ? judgeLastSegment(s)
        : undefined;
      if (verdict?.torn) {
        add("torn-tail", file.path, i, s.damage.offset, s.damage.reason);
        // A torn header: the segment goes, the log ends where it did before.
        if (!s.damage.inHeader && endLsn >= 0) endLsn = s.lastLsn;
      } else {
        const why = coveredProblem !== undefined
          ? `; ${coveredProblem}`
          : verdict !== undefined && !verdict.torn
          ? `; ${verdict.reason}`
          : "";
        add("corrupt", file.path, i, s.damage.offset, `${s.damage.reason}${why}`);
        endLsn = -1;
      }
    }
    if (!covered && scan.damage === undefined && endLsn >= 0) endLsn = scan.lastLsn;
    if (isLast && !covered && endLsn >= 0 && scan.groupEnd.lsn < endLsn) {
      // A group (one command or transaction) a crash cut short: a start cuts it.
      add(
        "torn-tail",
        file.path,
        i,
        scan.groupEnd.bytes,
        `an incomplete group of ${endLsn - scan.groupEnd.lsn} records (LSN ${
          scan.groupEnd.lsn + 1
        }..${endLsn}) at the end: never acknowledged`,
      );
      endLsn = scan.groupEnd.lsn;
    }
    if (covered && scan.damage === undefined && i === firstNeeded - 1) endLsn = scan.lastLsn;
    previous = own;
  }
  if (endLsn > 0 && endLsn < snapshotLsn) {
    add(
      "missing",
      dir,
      -1,
      0,
      `the log ends at LSN ${endLsn}, before the snapshot's LSN ${snapshotLsn}: ` +
        "the directory does not hold one history",
    );
  }
  for (const name of foreign) {
    add(
      "foreign",
      `${dir}/${name}`,
      -1,
      0,
      "not a WAL segment (the server refuses to start with it here)",
    );
  }
  report.canStart = !report.damage.some((d) => d.blocksStart);
  return report;
}

function missingReason(firstLsn: number, snapshotLsn: number, snapshots: SnapshotReport[]): string {
  const damaged = snapshots.filter((s) => s.damage !== undefined);
  const names = damaged.map((s) => `${s.name} (${s.damage!.reason})`).join(", ");
  return `the log starts at LSN ${firstLsn}, but a start needs it from LSN ${snapshotLsn + 1}` +
    (snapshotLsn === 0
      ? " (no snapshot verifies)"
      : ` (after the snapshot at LSN ${snapshotLsn})`) +
    ": earlier segments are missing" +
    (damaged.length > 0 ? `; damaged snapshots that would have covered them: ${names}` : "");
}
