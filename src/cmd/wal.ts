/**
 * `kvdb wal ...`: operator commands for the write-ahead log.
 *
 *     kvdb wal check  --dir DIR             report segments and damage
 *     kvdb wal repair --dir DIR [--dry-run] cut the log at the first damage
 *
 * Exit codes: 0 clean / repaired, 1 damaged or failed, 2 bad usage.
 *
 * @example
 * ```ts
 * Deno.exit(await walMain(["check", "--dir", "./data/wal"]));
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { listSnapshots } from "../snapshot/restore.ts";
import { loadSnapshot, SnapshotCorruptError } from "../snapshot/snapshot_reader.ts";
import { checkWal, type WalCheckReport } from "../wal/check.ts";
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
  kvdb wal check  --dir DIR             list every segment (bytes, records, LSN range)
                                        and any damage; exit 0 if clean, 1 if damaged
  kvdb wal repair --dir DIR [--dry-run] cut the log at its first damaged record so the
                                        server can start; everything cut is saved in
                                        DIR/repair-backup-<timestamp>/ first
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

function printReport(report: WalCheckReport, output: WalCommandOutput): void {
  output.out(
    `WAL ${report.dir}: ${report.segments.length} segment(s), ${report.records} verified record(s)`,
  );
  for (const s of report.segments) {
    const range = s.records > 0 ? `LSN ${s.firstLsn}..${s.lastLsn}` : "no records";
    output.out(`  ${s.name}  ${s.bytes} bytes  ${s.records} record(s)  ${range}`);
  }
  for (const d of report.damage) {
    const where = d.kind === "foreign" ? d.file : `${d.file} at byte offset ${d.offset}`;
    const note = d.kind === "torn-tail"
      ? " (torn tail from a crash mid-write: the server truncates it on start)"
      : "";
    output.out(`DAMAGE ${d.kind}: ${where}: ${d.reason}${note}`);
  }
}

/** Verifies every snapshot in `dir`; returns how many are damaged. */
async function checkSnapshots(dir: string, output: WalCommandOutput): Promise<number> {
  let damaged = 0;
  for (const snapshot of await listSnapshots(dir)) {
    try {
      const header = await loadSnapshot(snapshot.path, () => {});
      const { size } = await Deno.stat(snapshot.path);
      output.out(
        `snapshot ${snapshot.name}: ${size} bytes, ${header.keys} keys, LSN ${header.lsn}`,
      );
    } catch (e) {
      if (!(e instanceof SnapshotCorruptError)) throw e;
      damaged++;
      output.out(
        `DAMAGE snapshot: ${snapshot.path} at byte ${e.offset}: ${e.reason} ` +
          "(the server falls back to the previous snapshot and the WAL)",
      );
    }
  }
  return damaged;
}

async function check(dir: string, output: WalCommandOutput): Promise<number> {
  const report = await checkWal(dir);
  printReport(report, output);
  const damagedSnapshots = await checkSnapshots(dir, output);
  if (report.damage.length === 0 && damagedSnapshots === 0) {
    output.out("clean");
    return 0;
  }
  if (report.damage.length === 0) {
    output.out(
      `damaged: ${damagedSnapshots} snapshot(s); delete them once a newer snapshot exists`,
    );
    return 1;
  }
  output.out(
    `damaged: ${report.damage.length} problem(s); "kvdb wal repair --dir ${dir}" cuts the log at the first`,
  );
  return 1;
}

async function repair(dir: string, dryRun: boolean, output: WalCommandOutput): Promise<number> {
  const { report, plan, backupDir } = await repairWal(dir, { dryRun });
  printReport(report, output);
  if (plan === undefined) {
    output.out("nothing to repair: the log is clean");
    return 0;
  }
  for (const line of describeRepairPlan(plan)) output.out(line);
  if (dryRun) {
    output.out("dry run: nothing changed");
    return 0;
  }
  output.out(`repaired: everything cut is in ${backupDir}`);
  const after = await checkWal(dir);
  if (after.damage.length > 0) {
    printReport(after, output);
    output.err("kvdb wal repair: the log is still damaged after the cut (see above)");
    return 1;
  }
  output.out(`the log is clean: ${after.records} record(s) in ${after.segments.length} segment(s)`);
  return 0;
}
