/**
 * Cutting a log after an LSN, on disk: the records after it are a replica's
 * divergent tail (it held writes of a master that its new master never
 * had). The cut bytes go aside first, as `wal repair` puts them, into
 * `repair-backup-<time>/` with a `DIVERGED.txt` saying why: the segment
 * holding the first cut record is copied from that record on and then
 * truncated, every later segment is moved. Each step is durable before the
 * next (file fsync, then directory fsync), so a crash leaves either the
 * whole log or a prefix of it with its tail aside — and the caller has
 * already marked the directory's history as unknown (see the replica).
 *
 * @example
 * ```ts
 * const cut = await cutLogAfter("/data/wal", 1200, "diverged from the new master");
 * cut.lastCrc; // the chain's seed for the record after 1200
 * ```
 * @module
 */

import { join } from "node:path";
import { copyRange, makeBackupDir, writeNote } from "./_backup.ts";
import { SegmentScanner } from "./_segment_scan.ts";
import { listSegments, SEGMENT_HEADER_BYTES, syncDir } from "./segment.ts";

/** Where the log ends after a cut. */
export interface LogCut {
  /** The segment now last, and its length. */
  path: string;
  bytes: number;
  /** CRC of the record at the cut (the next record's seed). */
  lastCrc: number;
  /** Segments left. */
  segments: number;
  /** Where the cut bytes went. */
  backupDir: string;
}

/**
 * Cuts the log in `dir` right after record `lsn` (which it must hold, or
 * whose successor must start a segment). Throws, changing nothing, if the
 * log does not reach back to `lsn + 1` or its records up to `lsn` cannot
 * be read.
 */
export async function cutLogAfter(dir: string, lsn: number, why: string): Promise<LogCut> {
  const { segments } = await listSegments(dir);
  let index = -1;
  for (let i = 0; i < segments.length && segments[i].firstLsn <= lsn + 1; i++) index = i;
  if (index < 0) throw new Error(`the log does not reach back to LSN ${lsn + 1}`);
  // The cut point: after record `lsn` in the segment that holds it, or the
  // very start of a segment that begins right after it.
  let holder = segments[index];
  let scan = new SegmentScanner().scan(holder, undefined, undefined, undefined, undefined, lsn);
  if (holder.firstLsn === lsn + 1) {
    if (index === 0) {
      // The log's first segment starts after `lsn`: keep its header only.
      if (scan.header === undefined) throw new Error(`${holder.name}: ${scan.damage?.reason}`);
      scan = { ...scan, goodBytes: SEGMENT_HEADER_BYTES, lastCrc: scan.header.seedCrc };
    } else {
      holder = segments[--index];
      scan = new SegmentScanner().scan(holder, undefined, undefined, undefined, undefined, lsn);
    }
  }
  if (holder.firstLsn !== lsn + 1 && scan.lastLsn !== lsn) {
    throw new Error(
      `${holder.name}: cannot read up to LSN ${lsn}` +
        (scan.damage ? ` (${scan.damage.reason} at offset ${scan.damage.offset})` : ""),
    );
  }
  const backupDir = await makeBackupDir(dir, new Date());
  const size = (await Deno.stat(holder.path)).size;
  const later = segments.slice(index + 1);
  await writeNote(backupDir, "DIVERGED.txt", [
    `The log was cut after LSN ${lsn}: ${why}.`,
    `${holder.name}: bytes ${scan.goodBytes}..${size} copied to ${holder.name}.cut-at-${scan.goodBytes}`,
    ...later.map((s) => `${s.name}: moved here whole`),
  ]);
  if (size > scan.goodBytes) {
    await copyRange(
      holder.path,
      scan.goodBytes,
      size,
      join(backupDir, `${holder.name}.cut-at-${scan.goodBytes}`),
    );
  }
  // Newest first: a crash midway leaves a shorter log, never a hole.
  for (const segment of [...later].reverse()) {
    await Deno.rename(segment.path, join(backupDir, segment.name));
  }
  const file = await Deno.open(holder.path, { write: true });
  try {
    await file.truncate(scan.goodBytes);
    await file.sync();
  } finally {
    file.close();
  }
  await syncDir(dir);
  await syncDir(backupDir);
  return {
    path: holder.path,
    bytes: scan.goodBytes,
    lastCrc: scan.lastCrc,
    segments: index + 1,
    backupDir,
  };
}
