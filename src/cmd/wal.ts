/**
 * `kvdb wal ...`: operator commands for the write-ahead log.
 *
 *     kvdb wal check  --dir DIR             report segments and damage
 *     kvdb wal repair --dir DIR [--dry-run] cut the log at the first damage
 *
 * Exit codes: 0 clean / repaired (the server can start), 1 damaged (the
 * report says whether the server can start) or repair failed, 2 bad usage.
 *
 * @example
 * ```ts
 * Deno.exit(await walMain(["check", "--dir", "./data/wal"]));
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { checkWal, type WalCheckReport, type WalDamageKind } from "../wal/check.ts";
import { describeRepairPlan, repairWal } from "../wal/repair.ts";

/**
 * Usage text of `kvdb wal`.
 *
 * @example
 * ```ts
 * console.log(WAL_USAGE);
 * ```
 */
export const WAL_USAGE = `Usage:
  kvdb wal check  --dir DIR             list every snapshot and segment and any damage,
                                        and whether the server can start; exit 0 if
                                        clean, 1 if damaged (harmless or not)
  kvdb wal repair --dir DIR [--dry-run] remove the least that lets the server start:
                                        damage a snapshot covers costs nothing, damage
                                        in needed records cuts the log there; all of it
                                        is saved in DIR/repair-backup-<timestamp>/ first
  kvdb wal --help                       this text`;

/**
 * Where `walMain` writes: stdout-like and stderr-like line sinks.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * await walMain(["check", "--dir", dir], { out: (l) => lines.push(l), err: (l) => lines.push(l) });
 * ```
 */
export interface WalCommandOutput {
  out(line: string): void;
  err(line: string): void;
}

const CONSOLE: WalCommandOutput = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/**
 * Runs `kvdb wal <args>` and returns the exit code.
 *
 * @example
 * ```ts
 * const code = await walMain(Deno.args.slice(1));
 * ```
 */
export async function walMain(
  args: string[],
  output: WalCommandOutput = CONSOLE,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        dir: { type: "string" },
        "dry-run": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    return usageError(output, error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    output.out(WAL_USAGE);
    return 0;
  }
  const [command, ...extra] = positionals;
  if (command === undefined) return usageError(output, "missing command (check or repair)");
  if (command !== "check" && command !== "repair") {
    return usageError(output, `unknown command "${command}"`);
  }
  if (extra.length > 0) return usageError(output, `unexpected argument "${extra[0]}"`);
  if (values.dir === undefined || values.dir === "") {
    return usageError(output, "--dir DIR is required");
  }
  if (command === "check" && values["dry-run"]) {
    return usageError(output, "--dry-run applies to repair only");
  }
  try {
    return command === "check"
      ? await check(values.dir, output)
      : await repair(values.dir, values["dry-run"] ?? false, output);
  } catch (error) {
    output.err(`kvdb wal ${command}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

function usageError(output: WalCommandOutput, message: string): number {
  output.err(`kvdb wal: ${message}`);
  output.err(WAL_USAGE);
  return 2;
}

/** What a start does about each kind of damage. */
const CONSEQUENCE: Record<WalDamageKind, string> = {
  "torn-tail": "torn tail from a crash mid-write: the server cuts it on start, keeping a copy",
  covered: "harmless: the snapshot covers it; only a fallback to an older snapshot needs it",
  snapshot: "the server sets it aside (.damaged) and loads the one before, with the WAL",
  corrupt: "the server refuses to start",
  missing: "the server refuses to start",
  foreign: "the server refuses to start",
};

function printReport(report: WalCheckReport, output: WalCommandOutput): void {
  output.out(
    `WAL ${report.dir}: ${report.segments.length} segment(s), ${report.records} verified record(s)`,
  );
  if (report.inUse) {
    output.out(
      "  (a kvdb process holds this directory's lock: the report may already be out of date)",
    );
  }
  for (const s of report.snapshots) {
    const state = s.setAside
      ? "set aside as damaged"
      : s.damage !== undefined
      ? "DAMAGED"
      : s.lsn === report.snapshotLsn
      ? `${s.keys} keys, loaded at start`
      : `${s.keys} keys, fallback`;
    output.out(`  ${s.name}  ${s.bytes} bytes  LSN ${s.lsn}  ${state}`);
  }
  for (const s of report.segments) {
    const range = s.records > 0 ? `LSN ${s.firstLsn}..${s.lastLsn}` : "no records";
    const covered = s.covered ? `  (covered by the snapshot at LSN ${report.snapshotLsn})` : "";
    output.out(`  ${s.name}  ${s.bytes} bytes  ${s.records} record(s)  ${range}${covered}`);
  }
  for (const d of report.damage) {
    const where = d.offset === 0 && d.segment < 0 && d.kind !== "snapshot"
      ? d.file
      : `${d.file} at byte offset ${d.offset}`;
    output.out(`DAMAGE ${d.kind}: ${where}: ${d.reason} (${CONSEQUENCE[d.kind]})`);
  }
}

function printVerdict(report: WalCheckReport, dir: string, output: WalCommandOutput): void {
  if (report.damage.length === 0) {
    output.out("clean: the server can start");
    return;
  }
  if (report.canStart) {
    output.out(
      `damaged, but the server can start: ${report.damage.length} harmless problem(s) ` +
        `(see above); "kvdb wal repair --dir ${dir}" sets them aside without losing a record`,
    );
    return;
  }
  const blocking = report.damage.filter((d) => d.blocksStart);
  const repairable = blocking.some((d) => d.kind === "corrupt");
  output.out(
    `damaged: the server cannot start: ${blocking.length} problem(s) stop it` +
      (repairable ? `; "kvdb wal repair --dir ${dir}" cuts the log at the first damage` : ""),
  );
}

async function check(dir: string, output: WalCommandOutput): Promise<number> {
  const report = await checkWal(dir);
  printReport(report, output);
  printVerdict(report, dir, output);
  return report.damage.length === 0 ? 0 : 1;
}

async function repair(dir: string, dryRun: boolean, output: WalCommandOutput): Promise<number> {
  const { report, plan, unfixable, backupDir } = await repairWal(dir, { dryRun });
  printReport(report, output);
  for (const d of unfixable) {
    output.out(
      `cannot repair: ${d.reason}; no file holds those records (restore the damaged or ` +
        "missing files from a backup, or move the directory aside to start empty)",
    );
  }
  if (plan === undefined) {
    if (report.damage.length === 0) output.out("nothing to repair: the log is clean");
    else if (unfixable.length === 0) output.out("nothing to repair: no damage a repair removes");
    return unfixable.length === 0 ? 0 : 1;
  }
  for (const line of describeRepairPlan(plan)) output.out(line);
  if (dryRun) {
    output.out("dry run: nothing changed");
    return 0;
  }
  output.out(`repaired: everything moved or cut is in ${backupDir}`);
  const after = await checkWal(dir);
  if (!after.canStart) {
    printReport(after, output);
    printVerdict(after, dir, output);
    output.err("kvdb wal repair: the server still cannot start (see above)");
    return 1;
  }
  if (after.damage.length > 0) {
    printReport(after, output);
    printVerdict(after, dir, output);
    return 0;
  }
  output.out(`the log is clean: ${after.records} record(s) in ${after.segments.length} segment(s)`);
  return 0;
}
