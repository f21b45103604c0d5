/**
 * Recovery: replays every segment in LSN order and leaves the log ready for
 * appending. A torn tail of the last segment is truncated (a crash mid-write
 * loses only unacknowledged records); anything else that does not verify
 * throws {@link WalCorruptError}, because skipping it could lose or
 * resurrect acknowledged writes.
 *
 * @example
 * ```ts
 * const state = await recoverWal(dir, logger, (r) => apply(r));
 * console.log(state.lastLsn);
 * ```
 * @module
 */

import type { Logger } from "../log/logger.ts";
import { readTailSync, type SegmentScan, SegmentScanner } from "./_segment_scan.ts";
import { readU32 } from "./_bytes.ts";
import { findLaterRecord, isTornWrite } from "./_tail.ts";
import { WAL_MAX_WRITE_BYTES } from "./_batch.ts";
import type { DecodedRecord } from "./decoder.ts";
import { WalCorruptError } from "./errors.ts";
import type { WalRecord } from "./record.ts";
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
 * Whether the damage a scan of the LAST segment found is a torn tail (true)
 * or corruption (false): torn if no verifiable record follows the damage,
 * or if what follows fits in one write and has a sector of zeros (see
 * `_tail.ts`). For a damaged header the whole segment is
 * searched, with `prevCrc` (the previous segment's last CRC, 0 if none) as
 * the seed its first record would have.
 *
 * @example
 * ```ts
 * if (scan.damage && isTornTail(scan, 0)) await Deno.truncate(scan.file.path, scan.goodBytes);
 * ```
 */
export function isTornTail(scan: SegmentScan, prevCrc: number): boolean {
  const damage = scan.damage;
  if (damage === undefined) return false;
  if (!damage.inHeader) {
    const tail = readTailSync(scan.file.path, damage.offset);
    return findLaterRecord(tail, scan.lastLsn) < 0 ||
      isTornWrite(tail, damage.offset, WAL_MAX_WRITE_BYTES);
  }
  // A crash while the segment was being created: the header is cut short or
  // unwritten, and no record made it after it.
  if (damage.incomplete) return true;
  const bytes = readTailSync(scan.file.path, 0);
  const headerSeed = bytes.length >= 20 ? readU32(bytes, 16) : 0;
  return findLaterRecord(bytes, scan.file.firstLsn - 1, [prevCrc, headerSeed]) < 0;
}

/**
 * Creates `dir` if missing and replays its records through `onRecord` in
 * LSN order. `onRecord` receives one reused object: copy fields to keep
 * them. Throws {@link WalCorruptError} for damage a crash cannot explain,
 * and an Error naming them for files in `dir` that are not segments.
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
  // Segments wholly before the first record needed (a snapshot covers
  // them; they are kept only as a fallback) are neither read nor judged:
  // damage there must not stop a start that does not need them.
  let skip = 0;
  while (
    skip + 1 < listing.segments.length && listing.segments[skip + 1].firstLsn <= neededFromLsn
  ) {
    skip++;
  }
  const segments = listing.segments.slice(skip);
  if (foreign.length > 0) {
    throw new Error(
      `WAL directory ${dir} holds files that are not WAL segments: ${foreign.join(", ")}; ` +
        "move them elsewhere (the WAL directory must hold only the log)",
    );
  }
  const state: RecoveredWal = {
    segments: segments.length,
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

  for (let i = 0; i < segments.length; i++) {
    const file = segments[i];
    const isLast = i === segments.length - 1;
    const expect = i === 0 ? undefined : { firstLsn: state.lastLsn + 1, seedCrc: state.lastCrc };
    const scan = scanner.scan(file, expect, onRecord, onProgress);
    doneBytes += scan.fileBytes;
    state.records += scan.records;
    if (scan.header !== undefined) {
      state.lastLsn = scan.lastLsn;
      state.lastCrc = scan.lastCrc;
    }
    state.lastSegment = file;
    // Where appending resumes: after the records, not after preallocated zeros.
    const previousGoodBytes = state.lastSegmentBytes;
    state.lastSegmentBytes = scan.goodBytes;
    const damage = scan.damage;
    if (damage === undefined) continue;
    if (!isLast || !isTornTail(scan, state.lastCrc)) {
      throw new WalCorruptError(file.path, damage.offset, damage.reason);
    }
    if (damage.inHeader) {
      logger.warn("wal: removing last segment: header torn and no record after it", {
        file: file.path,
        bytes: scan.fileBytes,
      });
      await Deno.remove(file.path);
      await syncDir(dir);
      state.segments--;
      state.truncatedBytes = scan.fileBytes;
      state.lastSegment = i > 0 ? segments[i - 1] : undefined;
      state.lastSegmentBytes = i > 0 ? previousGoodBytes : 0;
      continue;
    }
    const cutBytes = scan.fileBytes - scan.goodBytes;
    logger.warn(
      "wal: truncating torn tail of the last segment (crash mid-write; those records were never acknowledged)",
      {
        file: file.path,
        offset: scan.goodBytes,
        bytes: cutBytes,
        reason: damage.reason,
      },
    );
    await truncateDurably(file.path, scan.goodBytes);
    state.truncatedBytes = cutBytes;
    state.lastSegmentBytes = scan.goodBytes;
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
