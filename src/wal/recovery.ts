/**
 * Recovery: replays every segment in LSN order and leaves the log ready for
 * appending. A torn tail of the last segment is truncated (a crash mid-write
 * loses only unacknowledged records), its bytes copied first into
 * `repair-backup-<time>/`; anything else that does not verify throws
 * {@link WalCorruptError}, because skipping it could lose or resurrect
 * acknowledged writes.
 *
 * @example
 * ```ts
 * const state = await recoverWal(dir, logger, (r) => apply(r));
 * console.log(state.lastLsn);
 * ```
 * @module
 */

import { join } from "node:path";
import { assert } from "../_assert.ts";
import type { Logger } from "../log/logger.ts";
import { copyRange, makeBackupDir, writeNote } from "./_backup.ts";
import { readTailSync, type SegmentScan, SegmentScanner } from "./_segment_scan.ts";
import {
  endOfNonZero,
  findChainedRecord,
  judgeHeader,
  judgeTail,
  type TailVerdict,
} from "./_tail.ts";
import { WAL_MAX_WRITE_BYTES } from "./_batch.ts";
import type { DecodedRecord } from "./decoder.ts";
import { WalCorruptError } from "./errors.ts";
import type { WalRecord } from "./record.ts";
import { RecordGroups } from "./record_groups.ts";
import { listSegments, type SegmentFile, syncDir } from "./segment.ts";

/** Replay progress is logged at most this often. */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * The log after recovery: where appending continues.
 *
 * @example
 * ```ts
 * const { lastLsn, lastCrc } = await recoverWal(dir, logger, apply);
 * ```
 */
export interface RecoveredWal {
  /** Segments left in the directory. */
  segments: number;
  /** The segment to append to; `undefined` if the log is empty. */
  lastSegment: SegmentFile | undefined;
  /**
   * Bytes of `lastSegment` holding its header and records: appending
   * resumes there (preallocated zeros may follow).
   */
  lastSegmentBytes: number;
  /** LSN of the last record; 0 if none. */
  lastLsn: number;
  /** CRC of the last record (the next record's seed); 0 if none. */
  lastCrc: number;
  /** Records replayed. */
  records: number;
  /** Bytes cut off a torn tail. */
  truncatedBytes: number;
}

/**
 * Whether the damage a scan of the LAST segment found is a torn tail (a
 * crash mid-write: cut it) or corruption (stop), by the rules of
 * `_tail.ts`: for a damaged header, whether it is a segment creation cut
 * short; for a damaged record, whether it can be the last write torn.
 *
 * @example
 * ```ts
 * if (scan.damage && judgeLastSegment(scan).torn) await cut(scan);
 * ```
 */
export function judgeLastSegment(scan: SegmentScan): TailVerdict {
  const damage = scan.damage;
  assert(damage !== undefined, "judging a segment without damage");
  if (damage.inHeader) {
    return judgeHeader(readTailSync(scan.file.path, 0), scan.file.firstLsn, WAL_MAX_WRITE_BYTES);
  }
  return judgeTail(
    readTailSync(scan.file.path, damage.offset),
    damage.offset,
    scan.lastLsn,
    scan.lastCrc,
    WAL_MAX_WRITE_BYTES,
  );
}

/**
 * Whether the damage a scan of the LAST segment found is a torn tail.
 *
 * @example
 * ```ts
 * if (scan.damage && isTornTail(scan)) console.log("the server cuts it on start");
 * ```
 */
export function isTornTail(scan: SegmentScan): boolean {
  return scan.damage !== undefined && judgeLastSegment(scan).torn;
}

/**
 * The first segment a start needs, given the first LSN it needs (a
 * snapshot covers the ones before): the last one starting at or before
 * it. Segments before it are neither replayed nor judged.
 *
 * @example
 * ```ts
 * const first = firstNeededSegment(listing.segments, snapshotLsn + 1);
 * ```
 */
export function firstNeededSegment(
  segments: readonly SegmentFile[],
  neededFromLsn: number,
): number {
  let first = 0;
  while (first + 1 < segments.length && segments[first + 1].firstLsn <= neededFromLsn) first++;
  return first;
}

/**
 * When `scan` (of the first segment a start needs) stopped at damage in
 * records a snapshot covers (LSN < `neededFromLsn`), a scan taken up again
 * at the record `neededFromLsn`, if that record is found and proven by its
 * predecessor's CRC (`findChainedRecord`); else `undefined`. Damage a
 * snapshot covers must not stop a start, even inside the first segment it
 * needs.
 *
 * @example
 * ```ts
 * const resumed = readPastCoveredDamage(scanner, scan, snapshotLsn + 1, undefined);
 * ```
 */
export function readPastCoveredDamage(
  scanner: SegmentScanner,
  scan: SegmentScan,
  neededFromLsn: number,
  onRecord: ((record: WalRecord) => void) | undefined,
  onProgress?: (offset: number) => void,
): SegmentScan | undefined {
  const damage = scan.damage;
  if (damage === undefined || damage.inHeader || scan.lastLsn + 1 >= neededFromLsn) {
    return undefined;
  }
  const found = findChainedRecord(readTailSync(scan.file.path, damage.offset), neededFromLsn);
  if (found === undefined) return undefined;
  return scanner.scan(scan.file, undefined, onRecord, onProgress, {
    offset: damage.offset + found.offset,
    seedCrc: found.seedCrc,
    lastLsn: neededFromLsn - 1,
  });
}

/**
 * Why damage the scan of the first needed segment still reports (after
 * {@link readPastCoveredDamage} found no way past it) is no torn tail even
 * in the last segment: it lies in records up to the snapshot's LSN, which
 * were durable when the snapshot was taken. `undefined` otherwise.
 *
 * @example
 * ```ts
 * const problem = coveredDamageProblem(scan, snapshotLsn + 1);
 * ```
 */
export function coveredDamageProblem(scan: SegmentScan, neededFromLsn: number): string | undefined {
  const damage = scan.damage;
  if (damage === undefined || damage.inHeader || scan.lastLsn + 1 >= neededFromLsn) {
    return undefined;
  }
  return `the damaged record (LSN ${scan.lastLsn + 1}) is one the snapshot at LSN ` +
    `${neededFromLsn - 1} covers, so it was durable (no torn write), and no record LSN ` +
    `${neededFromLsn} proven by its predecessor follows to read on from`;
}

/**
 * Creates `dir` if missing and replays its records through `onRecord` in
 * LSN order. `onRecord` receives one reused object: copy fields to keep
 * them. Throws {@link WalCorruptError} for damage a crash cannot explain,
 * and an Error naming them for files in `dir` that are not segments.
 *
 * Segments wholly before `neededFromLsn` (a snapshot covers them) are not
 * replayed, and damage in them does not stop the start; but the one just
 * before the first needed segment is still read, for where the log would
 * continue if the needed segments turn out to be a torn creation: the CRC
 * chain must go on from its last record, never restart from 0.
 *
 * @example
 * ```ts
 * const state = await recoverWal("/data/wal", logger, (r) => store.apply(r));
 * ```
 */
export async function recoverWal(
  dir: string,
  logger: Logger,
  onRecord: (record: WalRecord) => void,
  neededFromLsn = 1,
): Promise<RecoveredWal> {
  await Deno.mkdir(dir, { recursive: true });
  const listing = await listSegments(dir);
  const { foreign } = listing;
  if (foreign.length > 0) {
    throw new Error(
      `WAL directory ${dir} holds files that are not WAL segments: ${foreign.join(", ")}; ` +
        "move them elsewhere (the WAL directory must hold only the log)",
    );
  }
  const skip = firstNeededSegment(listing.segments, neededFromLsn);
  const segments = listing.segments.slice(skip);
  const state: RecoveredWal = {
    segments: listing.segments.length,
    lastSegment: undefined,
    lastSegmentBytes: 0,
    lastLsn: 0,
    lastCrc: 0,
    records: 0,
    truncatedBytes: 0,
  };
  if (segments.length === 0) return state;

  const totalBytes = await sumSizes(segments);
  const scanner = new SegmentScanner();
  // Groups (WalFlag) reach `onRecord` only whole: a trailing one a crash
  // cut short is never applied, and is cut off below.
  const groups = new RecordGroups(onRecord);
  const apply = (record: WalRecord) => groups.push(record);
  const record: DecodedRecord = scanner.record;
  const startedMs = performance.now();
  let doneBytes = 0;
  let lastProgressMs = startedMs;
  const onProgress = (offset: number) => {
    const now = performance.now();
    if (now - lastProgressMs < PROGRESS_INTERVAL_MS) return;
    lastProgressMs = now;
    logger.info("wal replay progress", {
      records: state.records + Math.max(0, record.lsn - state.lastLsn),
      percent: Math.min(100, Math.floor((doneBytes + offset) / totalBytes * 100)),
    });
  };

  if (skip > 0) {
    const before = scanner.scan(listing.segments[skip - 1], undefined, undefined);
    // Damage there is the fallback's problem (`kvdb wal check` reports it),
    // not this start's: the chain is then known from the next header only.
    if (before.damage === undefined) {
      state.lastSegment = before.file;
      state.lastSegmentBytes = before.goodBytes;
      state.lastLsn = before.lastLsn;
      state.lastCrc = before.lastCrc;
    }
  }

  for (let i = 0; i < segments.length; i++) {
    const file = segments[i];
    const isLast = i === segments.length - 1;
    const expect = i === 0 ? undefined : { firstLsn: state.lastLsn + 1, seedCrc: state.lastCrc };
    let scan = scanner.scan(file, expect, apply, onProgress);
    if (i === 0) {
      const resumed = readPastCoveredDamage(scanner, scan, neededFromLsn, apply, onProgress);
      if (resumed !== undefined) {
        logger.warn(
          "wal: damage in records the snapshot covers (not replayed); reading on from the " +
            "first record needed (kvdb wal repair can set the covered part aside)",
          {
            file: file.path,
            offset: scan.damage!.offset,
            reason: scan.damage!.reason,
            resumedAt: resumed.fromBytes,
          },
        );
        state.records += scan.records;
        scan = resumed;
      }
    }
    doneBytes += scan.fileBytes;
    state.records += scan.records;
    const damage = scan.damage;
    if (damage !== undefined) {
      if (!isLast) throw new WalCorruptError(file.path, damage.offset, damage.reason);
      const covered = coveredDamageProblem(scan, i === 0 ? neededFromLsn : 1);
      if (covered !== undefined) {
        throw new WalCorruptError(file.path, damage.offset, `${damage.reason}; ${covered}`);
      }
      const verdict = judgeLastSegment(scan);
      if (!verdict.torn) {
        throw new WalCorruptError(file.path, damage.offset, `${damage.reason}; ${verdict.reason}`);
      }
      if (damage.inHeader) {
        // Appending continues after the segment before (the chain with it).
        await removeTornSegment(dir, scan, verdict.unwritten, logger);
        state.segments--;
        state.truncatedBytes = scan.fileBytes;
        break;
      }
      state.truncatedBytes = await cutTornTail(dir, scan, verdict.unwritten, logger);
    }
    if (i === 0 && state.lastSegment !== undefined && scan.header !== undefined) {
      noteCoveredChainBreak(state, scan, logger);
    }
    state.lastSegment = file;
    // Where appending resumes: after the records, not after preallocated zeros.
    state.lastSegmentBytes = scan.goodBytes;
    state.lastLsn = scan.lastLsn;
    state.lastCrc = scan.lastCrc;
    if (isLast && groups.held > 0) {
      // A group never spans segments (wal.ts), so its start is in this one.
      assert(
        scan.groupEnd.lsn + 1 === groups.heldFromLsn,
        "an open group starts in the last segment",
      );
      state.truncatedBytes += await cutIncompleteGroup(dir, scan, groups.held, logger);
      state.records -= groups.held;
      groups.discard();
      state.lastSegmentBytes = scan.groupEnd.bytes;
      state.lastLsn = scan.groupEnd.lsn;
      state.lastCrc = scan.groupEnd.crc;
    }
  }
  logger.info("wal recovered", {
    dir,
    segments: state.segments,
    records: state.records,
    lastLsn: state.lastLsn,
    ms: Math.round(performance.now() - startedMs),
  });
  return state;
}

/**
 * The first needed segment does not continue the one before it, which a
 * snapshot covers: harmless for this start (the snapshot stands for the
 * records before), but the fallback to an older snapshot ends there.
 */
function noteCoveredChainBreak(state: RecoveredWal, scan: SegmentScan, logger: Logger): void {
  const header = scan.header!;
  if (header.firstLsn === state.lastLsn + 1 && header.seedCrc === state.lastCrc) return;
  logger.warn(
    "wal: the first segment needed does not continue the one before it (which the snapshot " +
      "covers): harmless for this start; see kvdb wal check",
    { file: scan.file.path, previousLastLsn: state.lastLsn },
  );
}

/**
 * Truncates the last segment before a group it does not hold whole (the
 * records of one command or transaction that a crash cut short: none of it
 * was acknowledged), durably, after copying the bytes aside.
 */
async function cutIncompleteGroup(
  dir: string,
  scan: SegmentScan,
  records: number,
  logger: Logger,
): Promise<number> {
  const from = scan.groupEnd.bytes;
  const cutBytes = scan.goodBytes - from;
  const backup = await backUp(dir, scan, from, [
    `an incomplete group of ${records} records (one command or transaction): a crash cut it ` +
    "short, and none of it was acknowledged.",
  ]);
  logger.warn(
    "wal: cutting an incomplete group at the end of the log (a command or transaction a crash " +
      "cut short; none of it was acknowledged)",
    { file: scan.file.path, offset: from, bytes: cutBytes, records, backup: backup ?? "" },
  );
  await truncateDurably(scan.file.path, from);
  return cutBytes;
}

/** Truncates the torn tail of the last segment, durably, after copying it aside. */
async function cutTornTail(
  dir: string,
  scan: SegmentScan,
  unwritten: boolean,
  logger: Logger,
): Promise<number> {
  const damage = scan.damage!;
  const cutBytes = scan.fileBytes - scan.goodBytes;
  const backup = await backUp(dir, scan, scan.goodBytes, tornTailNote(scan, unwritten));
  logger.warn(
    unwritten
      ? "wal: truncating torn tail of the last segment (crash mid-write; those records were " +
        "never acknowledged)"
      : "wal: truncating torn tail of the last segment: wrong bytes and no record after them, " +
        "within the last write's extent — a crash mid-write (never acknowledged) or damage to " +
        "the last record(s) (acknowledged: a copy is kept)",
    {
      file: scan.file.path,
      offset: scan.goodBytes,
      bytes: cutBytes,
      reason: damage.reason,
      ...(backup === undefined ? {} : { backup }),
    },
  );
  await truncateDurably(scan.file.path, scan.goodBytes);
  return cutBytes;
}

/** Removes a last segment whose creation a crash cut short, after copying it aside. */
async function removeTornSegment(
  dir: string,
  scan: SegmentScan,
  unwritten: boolean,
  logger: Logger,
): Promise<void> {
  const backup = await backUp(dir, scan, 0, tornTailNote(scan, unwritten));
  logger.warn("wal: removing last segment: its creation was cut short by a crash (no record)", {
    file: scan.file.path,
    bytes: scan.fileBytes,
    reason: scan.damage!.reason,
    ...(backup === undefined ? {} : { backup }),
  });
  await Deno.remove(scan.file.path);
  await syncDir(dir);
}

/**
 * Copies `[from, last non-zero byte]` of the scanned file into a new backup
 * directory; `undefined` (nothing made) when those bytes are all zeros,
 * the preallocated, never-written part.
 */
async function backUp(
  dir: string,
  scan: SegmentScan,
  from: number,
  why: string[],
): Promise<string | undefined> {
  const end = from + endOfNonZero(readTailSync(scan.file.path, from));
  if (end === from) return undefined;
  const backup = await makeBackupDir(dir, new Date());
  await copyRange(scan.file.path, from, end, join(backup, `${scan.file.name}.cut-at-${from}`));
  await writeNote(backup, "RECOVERY.txt", [
    `kvdb recovery cut ${scan.file.name} at byte offset ${from} on start`,
    `(${scan.fileBytes - from} bytes; bytes ${from}..${
      end - 1
    } are kept here, the rest were zeros).`,
    ...why,
  ]);
  await syncDir(backup);
  return backup;
}

/** Why a torn tail was cut, for the backup's note. */
function tornTailNote(scan: SegmentScan, unwritten: boolean): string[] {
  return [
    `damage: ${scan.damage!.reason}`,
    unwritten
      ? "It looks like a write torn by a crash: those records were never acknowledged."
      : "No record follows it, within the last write's extent: a crash mid-write or damage to the " +
        "last record(s).",
  ];
}

async function sumSizes(segments: SegmentFile[]): Promise<number> {
  let total = 0;
  for (const s of segments) total += (await Deno.stat(s.path)).size;
  return Math.max(total, 1);
}

async function truncateDurably(path: string, bytes: number): Promise<void> {
  const handle = await Deno.open(path, { write: true });
  try {
    await handle.truncate(bytes);
    await handle.sync();
  } finally {
    handle.close();
  }
}
