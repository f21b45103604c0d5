/**
 * `kvdb wal repair`: makes a data directory startable while removing the
 * least it must, after saying what goes, keeping every byte it takes out
 * in `DIR/repair-backup-<UTC timestamp>/`:
 * - damage in segments the loaded snapshot covers costs nothing: those
 *   segments (from the oldest up to the last damaged one) move to the
 *   backup; nothing the start needs goes;
 * - damaged snapshots move to the backup (a start would set them aside);
 * - damage in the records a start needs: the log is cut at the first of
 *   it — the damaged segment truncated there (moved whole if its header is
 *   bad) and every later segment moved, even if it verifies on its own:
 *   the log must stay one contiguous, chained history, and records after
 *   a hole cannot be replayed without the ones in it. Snapshots past the
 *   cut go too (they belong to the history that was cut);
 * - records that no file holds (`missing`) cannot be repaired: it says so.
 * The report names every file it moved or truncated.
 *
 * @example
 * ```ts
 * const { plan, backupDir } = await repairWal("/data/wal");
 * if (plan) console.log(describeRepairPlan(plan).join("\n"), backupDir);
 * ```
 * @module
 */

import { join } from "node:path";
import { copyRange, makeBackupDir, writeNote } from "./_backup.ts";
import { checkWal, type SegmentReport, type WalCheckReport, type WalDamage } from "./check.ts";
import { lockDirectory } from "./lock.ts";
import { SEGMENT_HEADER_BYTES, syncDir } from "./segment.ts";

/**
 * What a repair will do.
 *
 * @example
 * ```ts
 * const plan = planRepair(await checkWal(dir));
 * ```
 */
export interface RepairPlan {
  /** The first damage it removes (the cut's, if the needed log is cut). */
  damage: WalDamage;
  /** The segment cut, when the records a start needs are damaged. */
  segment: SegmentReport | undefined;
  /** Cut `segment` here; 0 = the whole file goes (bad header). */
  cutOffset: number;
  /** Bytes cut from `segment` (0 if none). */
  cutBytes: number;
  /** Segments after the cut, all moved to the backup. */
  laterSegments: SegmentReport[];
  /** Verified records in `laterSegments` (lost from the log). */
  laterRecords: number;
  /** Covered segments moved to the backup (nothing lost: the snapshot stands for them). */
  coveredSegments: SegmentReport[];
  /** Snapshot files moved to the backup: damaged ones, and any past the cut. */
  snapshots: string[];
  /** The log's last LSN after the repair (0 = empty). */
  lastLsnAfter: number;
  /** Whether acknowledged records may be cut: the log then starts a new history. */
  newHistory: boolean;
}

/**
 * What a repair did (or, dry, would do).
 *
 * @example
 * ```ts
 * const result: RepairResult = await repairWal(dir, { dryRun: true });
 * ```
 */
export interface RepairResult {
  report: WalCheckReport;
  /** `undefined` if there was nothing a repair can remove. */
  plan: RepairPlan | undefined;
  /** Damage no repair can remove (records in no file): the start stays refused. */
  unfixable: WalDamage[];
  /** Where the cut bytes went; `undefined` for a dry run or no repair. */
  backupDir: string | undefined;
}

/**
 * Options of {@link repairWal}.
 *
 * @example
 * ```ts
 * await repairWal(dir, { dryRun: true });
 * ```
 */
export interface RepairOptions {
  /** Report the plan, change nothing. */
  dryRun?: boolean;
  /** Timestamp for the backup directory's name (tests). */
  now?: Date;
}

/**
 * The least repair for a check report, or `undefined` if nothing needs
 * removing. Throws if the report lists foreign files: repair touches only
 * the log.
 *
 * @example
 * ```ts
 * const plan = planRepair(report);
 * ```
 */
export function planRepair(report: WalCheckReport): RepairPlan | undefined {
  const foreign = report.damage.filter((d) => d.kind === "foreign");
  if (foreign.length > 0) {
    throw new Error(
      `refusing to repair: ${report.dir} holds files that are not WAL segments ` +
        `(${foreign.map((d) => d.file).join(", ")}); move them elsewhere first`,
    );
  }
  const segments = report.segments;
  const needed = report.damage.find((d) => d.kind === "corrupt" || d.kind === "torn-tail");
  const covered = report.damage.filter((d) => d.kind === "covered");
  const damagedSnapshots = report.damage.filter((d) => d.kind === "snapshot").map((d) => d.file);
  const first = needed ?? covered[0] ?? report.damage.find((d) => d.kind === "snapshot");
  if (first === undefined) return undefined;

  let segment: SegmentReport | undefined;
  let cutOffset = 0;
  let laterSegments: SegmentReport[] = [];
  let lastLsnAfter = segments.length > 0 ? segments[segments.length - 1].lastLsn : 0;
  if (needed !== undefined) {
    segment = segments[needed.segment];
    cutOffset = needed.offset < SEGMENT_HEADER_BYTES ? 0 : needed.offset;
    laterSegments = segments.slice(needed.segment + 1);
    lastLsnAfter = cutOffset > 0
      ? segment.lastLsn
      : needed.segment > 0
      ? segments[needed.segment - 1].lastLsn
      : 0;
  }
  // Covered segments go only while the snapshot that covers them stays.
  const keepsSnapshot = lastLsnAfter >= report.snapshotLsn;
  let lastCovered = -1;
  for (const d of covered) {
    // Damage in a covered segment: it goes with every one before it. A
    // first needed segment that does not continue the covered one before
    // it: the covered ones go. Covered records inside the first needed
    // segment stay (a start reads past them; only a rewrite could drop them).
    const index = segments[d.segment].covered
      ? d.segment
      : d.offset < SEGMENT_HEADER_BYTES
      ? d.segment - 1
      : -1;
    if (index > lastCovered) lastCovered = index;
  }
  const coveredSegments = keepsSnapshot ? segments.slice(0, lastCovered + 1) : [];
  const snapshots = new Set(damagedSnapshots);
  if (needed !== undefined) {
    for (const s of report.snapshots) {
      if (!s.setAside && s.lsn > lastLsnAfter) snapshots.add(s.path);
    }
  }
  if (needed === undefined && coveredSegments.length === 0 && snapshots.size === 0) {
    return undefined;
  }
  return {
    damage: first,
    segment,
    cutOffset,
    cutBytes: segment === undefined ? 0 : segment.bytes - cutOffset,
    laterSegments,
    laterRecords: laterSegments.reduce((n, s) => n + s.records, 0),
    coveredSegments,
    snapshots: [...snapshots],
    lastLsnAfter,
    newHistory: needed?.kind === "corrupt",
  };
}

/**
 * The plan in plain words, one line each; every file it moves or cuts is named.
 *
 * @example
 * ```ts
 * for (const line of describeRepairPlan(plan)) console.log(line);
 * ```
 */
export function describeRepairPlan(plan: RepairPlan): string[] {
  const { damage, segment } = plan;
  const lines = [
    `first damage: ${damage.file} at byte offset ${damage.offset}: ${damage.reason} (${damage.kind})`,
  ];
  if (segment !== undefined) {
    lines.push(
      plan.cutOffset === 0
        ? `cut: all of ${segment.name} (${plan.cutBytes} bytes, header unusable)`
        : `cut: ${segment.name} from byte offset ${plan.cutOffset}: ${plan.cutBytes} bytes, ` +
          `with whatever records they hold (unverifiable)`,
    );
    if (plan.laterSegments.length > 0) {
      const last = plan.laterSegments[plan.laterSegments.length - 1];
      lines.push(
        `cut: ${plan.laterSegments.length} later segment(s) ` +
          `${plan.laterSegments.map((s) => s.name).join(", ")} ` +
          `holding ${plan.laterRecords} verified record(s)` +
          (plan.laterRecords > 0 ? ` up to LSN ${last.lastLsn}` : ""),
      );
    } else {
      lines.push("cut: no later segments");
    }
  } else {
    lines.push("cut: nothing the server needs (no record after the snapshot is lost)");
  }
  if (plan.coveredSegments.length > 0) {
    lines.push(
      `moved: ${plan.coveredSegments.length} segment(s) the snapshot covers (nothing lost): ` +
        plan.coveredSegments.map((s) => s.name).join(", "),
    );
  }
  for (const path of plan.snapshots) lines.push(`moved: snapshot ${path}`);
  if (plan.newHistory) {
    lines.push(
      "moved: REPLICATION, if present (the cut log is a new history: replicas resynchronise)",
    );
  }
  lines.push(`after repair the log ends at LSN ${plan.lastLsnAfter}`);
  return lines;
}

/**
 * Checks `dir` and, if a repair can remove damage, does the least repair:
 * the lock first (no server may run on it), then the backup (written and
 * fsynced), then truncate/move, then fsync the directory. A crash midway
 * leaves a log that `check` flags and `repair` finishes; the backup is
 * already complete.
 *
 * @example
 * ```ts
 * const { plan, backupDir } = await repairWal(dir);
 * ```
 */
export async function repairWal(dir: string, options: RepairOptions = {}): Promise<RepairResult> {
  const lock = options.dryRun ? undefined : await lockDirectory(dir);
  try {
    const report = await checkWal(dir);
    const plan = planRepair(report);
    const unfixable = report.damage.filter((d) => d.kind === "missing");
    if (plan === undefined || options.dryRun) {
      return { report, plan, unfixable, backupDir: undefined };
    }
    const backupDir = await cut(dir, plan, options);
    return { report, plan, unfixable, backupDir };
  } finally {
    lock?.close();
  }
}

async function cut(dir: string, plan: RepairPlan, options: RepairOptions): Promise<string> {
  const backupDir = await makeBackupDir(dir, options.now ?? new Date());
  await writeNote(backupDir, "REPAIR.txt", describeRepairPlan(plan));
  const segment = plan.segment;
  if (segment !== undefined && plan.cutOffset > 0) {
    const cutName = `${segment.name}.cut-at-${plan.cutOffset}`;
    await copyRange(segment.path, plan.cutOffset, segment.bytes, join(backupDir, cutName));
  }
  await syncDir(backupDir);

  // A cut log is another history: the LSNs cut will be reused for other
  // writes. Moving the replication identity away (kept in the backup) makes
  // a master start a new one, so its replicas resynchronise instead of
  // resuming over records they hold and it no longer does; and makes a
  // replica resynchronise from its master.
  if (plan.newHistory) {
    try {
      await Deno.rename(join(dir, REPLICATION_FILE), join(backupDir, REPLICATION_FILE));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  if (segment !== undefined && plan.cutOffset > 0) {
    const handle = await Deno.open(segment.path, { write: true });
    try {
      await handle.truncate(plan.cutOffset);
      await handle.sync();
    } finally {
      handle.close();
    }
  } else if (segment !== undefined) {
    await Deno.rename(segment.path, join(backupDir, segment.name));
  }
  // Newest first: a crash midway leaves the oldest later segments in place,
  // still contiguous with each other, for a rerun to cut.
  for (let i = plan.laterSegments.length - 1; i >= 0; i--) {
    const later = plan.laterSegments[i];
    await Deno.rename(later.path, join(backupDir, later.name));
  }
  for (const path of plan.snapshots) {
    await Deno.rename(path, join(backupDir, path.slice(path.lastIndexOf("/") + 1)));
  }
  // Oldest first: a crash midway leaves a log that still starts before
  // the snapshot's LSN.
  for (const covered of plan.coveredSegments) {
    await Deno.rename(covered.path, join(backupDir, covered.name));
  }
  await syncDir(backupDir);
  await syncDir(dir);
  return backupDir;
}

/** The replication identity's file (replication/replication_identity.ts). */
const REPLICATION_FILE = "REPLICATION";
