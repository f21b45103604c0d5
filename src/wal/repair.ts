/**
 * `kvdb wal repair`: cuts the log at its first damaged record so that the
 * server can start, after saying what is lost, keeping a backup of every
 * byte it cuts in `DIR/repair-backup-<UTC timestamp>/`.
 *
 * The rule: everything from the first damage on goes. The damaged segment
 * is truncated at the damaged record (moved whole if its header is bad),
 * and every later segment is moved out, even if it verifies on its own:
 * the log must stay one contiguous, chained history, and records after a
 * hole cannot be replayed without the ones in it.
 *
 * @example
 * ```ts
 * const { plan, backupDir } = await repairWal("/data/wal");
 * if (plan) console.log(describeRepairPlan(plan).join("\n"), backupDir);
 * ```
 * @module
 */

import { join } from "node:path";
import { checkWal, type SegmentReport, type WalCheckReport, type WalDamage } from "./check.ts";
import { lockDirectory } from "./lock.ts";
import { SEGMENT_HEADER_BYTES, syncDir } from "./segment.ts";

/**
 * What a repair will cut.
 *
 * @example
 * ```ts
 * const plan = planRepair(await checkWal(dir));
 * ```
 */
export interface RepairPlan {
  /** The first damage: where the cut is. */
  damage: WalDamage;
  /** The damaged segment. */
  segment: SegmentReport;
  /** Cut the damaged segment here; 0 = the whole file goes (bad header). */
  cutOffset: number;
  /** Bytes cut from the damaged segment. */
  cutBytes: number;
  /** Segments after the damaged one, all moved to the backup. */
  laterSegments: SegmentReport[];
  /** Verified records in `laterSegments` (lost from the log). */
  laterRecords: number;
  /** The log's last LSN after the repair (0 = empty). */
  lastLsnAfter: number;
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
  /** `undefined` if there was nothing to repair. */
  plan: RepairPlan | undefined;
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
 * The cut for a check report, or `undefined` if no segment is damaged.
 * Throws if the report lists foreign files: repair touches only the log.
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
  const damage = report.damage[0];
  if (damage === undefined) return undefined;
  const segment = report.segments[damage.segment];
  const cutOffset = damage.offset < SEGMENT_HEADER_BYTES ? 0 : damage.offset;
  const laterSegments = report.segments.slice(damage.segment + 1);
  let lastLsnAfter = segment.lastLsn;
  if (cutOffset === 0) {
    lastLsnAfter = damage.segment > 0 ? report.segments[damage.segment - 1].lastLsn : 0;
  }
  return {
    damage,
    segment,
    cutOffset,
    cutBytes: segment.bytes - cutOffset,
    laterSegments,
    laterRecords: laterSegments.reduce((n, s) => n + s.records, 0),
    lastLsnAfter,
  };
}

/**
 * The plan in plain words, one line each.
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
    plan.cutOffset === 0
      ? `cut: all of ${segment.name} (${plan.cutBytes} bytes, header unusable)`
      : `cut: ${segment.name} from byte offset ${plan.cutOffset}: ${plan.cutBytes} bytes, ` +
        `with whatever records they hold (unverifiable)`,
  ];
  if (plan.laterSegments.length > 0) {
    const first = plan.laterSegments[0];
    const last = plan.laterSegments[plan.laterSegments.length - 1];
    lines.push(
      `cut: ${plan.laterSegments.length} later segment(s) ${first.name}..${last.name} ` +
        `holding ${plan.laterRecords} verified record(s)` +
        (plan.laterRecords > 0 ? ` up to LSN ${last.lastLsn}` : ""),
    );
  } else {
    lines.push("cut: no later segments");
  }
  lines.push(`after repair the log ends at LSN ${plan.lastLsnAfter}`);
  return lines;
}

/**
 * Checks `dir` and, if damaged, cuts the log at the first damage: backup
 * first (written and fsynced), then truncate/move, then fsync the
 * directory. A crash midway leaves a log that `check` flags and `repair`
 * finishes; the backup is already complete.
 *
 * @example
 * ```ts
 * const { plan, backupDir } = await repairWal(dir);
 * ```
 */
export async function repairWal(dir: string, options: RepairOptions = {}): Promise<RepairResult> {
  const report = await checkWal(dir);
  const plan = planRepair(report);
  if (plan === undefined || options.dryRun) return { report, plan, backupDir: undefined };

  const lock = await lockDirectory(dir);
  try {
    return await cut(dir, report, plan, options);
  } finally {
    lock.close();
  }
}

async function cut(
  dir: string,
  report: WalCheckReport,
  plan: RepairPlan,
  options: RepairOptions,
): Promise<RepairResult> {
  const backupDir = await makeBackupDir(dir, options.now ?? new Date());
  await Deno.writeTextFile(
    join(backupDir, "REPAIR.txt"),
    describeRepairPlan(plan).join("\n") + "\n",
  );
  const segment = plan.segment;
  if (plan.cutOffset > 0) {
    const cutName = `${segment.name}.cut-at-${plan.cutOffset}`;
    await copyTail(segment.path, plan.cutOffset, join(backupDir, cutName));
  }
  await syncDir(backupDir);
  await syncDir(dir);

  // A cut log is another history: the LSNs cut will be reused for other
  // writes. Moving the replication identity away (kept in the backup) makes
  // a master start a new one, so its replicas resynchronise instead of
  // resuming over records they hold and it no longer does; and makes a
  // replica resynchronise from its master.
  try {
    await Deno.rename(join(dir, REPLICATION_FILE), join(backupDir, REPLICATION_FILE));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }

  if (plan.cutOffset > 0) {
    const handle = await Deno.open(segment.path, { write: true });
    try {
      await handle.truncate(plan.cutOffset);
      await handle.sync();
    } finally {
      handle.close();
    }
  } else {
    await Deno.rename(segment.path, join(backupDir, segment.name));
  }
  // Newest first: a crash midway leaves the oldest later segments in place,
  // still contiguous with each other, for a rerun to cut.
  for (let i = plan.laterSegments.length - 1; i >= 0; i--) {
    const later = plan.laterSegments[i];
    await Deno.rename(later.path, join(backupDir, later.name));
  }
  // Snapshots past the cut hold records the log no longer has: they belong
  // to the history that was cut, so they go to the backup too.
  for await (const entry of Deno.readDir(dir)) {
    const lsn = /^snapshot-(\d{16,})\.snap$/.exec(entry.name)?.[1];
    if (entry.isFile && lsn !== undefined && Number(lsn) > plan.lastLsnAfter) {
      await Deno.rename(join(dir, entry.name), join(backupDir, entry.name));
    }
  }
  await syncDir(backupDir);
  await syncDir(dir);
  return { report, plan, backupDir };
}

/** The replication identity's file (replication/replication_identity.ts). */
const REPLICATION_FILE = "REPLICATION";

/** Creates `DIR/repair-backup-<stamp>[-n]/`, never reusing an existing one. */
async function makeBackupDir(dir: string, now: Date): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const maxAttempts = 100;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const path = join(dir, `repair-backup-${stamp}${attempt === 1 ? "" : `-${attempt}`}`);
    try {
      await Deno.mkdir(path);
      return path;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  throw new Error(`could not create a backup directory in ${dir} after ${maxAttempts} attempts`);
}

/** Copies `[from, end)` of `source` into a new file `target` and fsyncs it. */
async function copyTail(source: string, from: number, target: string): Promise<void> {
  const chunkBytes = 1024 * 1024;
  const buf = new Uint8Array(chunkBytes);
  const input = await Deno.open(source, { read: true });
  try {
    await input.seek(from, Deno.SeekMode.Start);
    const output = await Deno.open(target, { write: true, createNew: true });
    try {
      for (let n = await input.read(buf); n !== null; n = await input.read(buf)) {
        for (let at = 0; at < n;) at += await output.write(buf.subarray(at, n));
      }
      await output.sync();
    } finally {
      output.close();
    }
  } finally {
    input.close();
  }
}
