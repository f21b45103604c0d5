/**
 * Script flags, one mechanism for EVAL scripts and functions (Redis 7.0):
 * a script's `#!lua flags=...` shebang and `redis.register_function`'s
 * `flags` name the same flags, and both decide what a run may do the way
 * Redis's `scriptFlagsToCmdFlags` and `scriptPrepareForRun` do. A script
 * without a shebang is in "EVAL compatibility mode": it runs as before
 * flags existed (its writes are checked one by one as they come).
 *
 * @example
 * ```ts
 * const { flags, shebangBytes } = parseShebang("#!lua flags=no-writes\nreturn 1");
 * (flags & SCRIPT_FLAGS.noWrites) !== 0; // true; the code starts at shebangBytes
 * ```
 * @module
 */

import { CommandError } from "../protocol/reply_writer.ts";
import type { CommandContext } from "../executor/command_spec.ts";
import { noReplicas, readOnlyReplica } from "../executor/errors.ts";
import { outOfMemory } from "../memory/memory_manager.ts";
import { splitInlineArguments } from "../protocol/inline_split.ts";
import { binaryToBytes } from "../bytes/binary_string.ts";

/** The flag bits (Redis's SCRIPT_FLAG_*). */
export const SCRIPT_FLAGS = {
  noWrites: 1,
  allowOom: 2,
  allowStale: 4,
  noCluster: 8,
  allowCrossSlotKeys: 16,
  /** No shebang: an EVAL script as before Redis 7 (no flags declared). */
  evalCompat: 32,
} as const;

/** The flags' names, as a shebang and `register_function` spell them. */
export const SCRIPT_FLAG_NAMES: ReadonlyMap<string, number> = new Map([
  ["no-writes", SCRIPT_FLAGS.noWrites],
  ["allow-oom", SCRIPT_FLAGS.allowOom],
  ["allow-stale", SCRIPT_FLAGS.allowStale],
  ["no-cluster", SCRIPT_FLAGS.noCluster],
  ["allow-cross-slot-keys", SCRIPT_FLAGS.allowCrossSlotKeys],
]);

/** The bits of flag names (all known: `register_function` checked them). */
export function scriptFlagBits(names: readonly string[]): number {
  let bits = 0;
  for (const name of names) bits |= SCRIPT_FLAG_NAMES.get(name) ?? 0;
  return bits;
}

function err(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/**
 * An EVAL script's flags and the length of its shebang line (0 without
 * one; the code after it keeps the line's `\n`, so line numbers are the
 * script's), as Redis's `evalExtractShebangFlags` reads them — the line
 * split as `sdssplitargs` splits (quotes allowed), the flags by commas.
 * Throws Redis's errors.
 */
export function parseShebang(body: string): { flags: number; shebangBytes: number } {
  if (!body.startsWith("#!")) return { flags: SCRIPT_FLAGS.evalCompat, shebangBytes: 0 };
  const end = body.indexOf("\n");
  // Redis finds the line's end with strchr, which stops at a NUL.
  const nul = body.indexOf("\0");
  if (end < 0 || (nul >= 0 && nul < end)) throw err("Invalid script shebang");
  const line = binaryToBytes(body.slice(0, end));
  const parts = splitInlineArguments(line, 0, line.length);
  if (parts === undefined || parts.length === 0) throw err("Invalid engine in script shebang");
  if (parts[0] !== "#!lua") throw err(`Unexpected engine in script shebang: ${parts[0]}`);
  let flags = 0;
  for (let i = 1; i < parts.length; i++) {
    if (!parts[i].startsWith("flags=")) throw err(`Unknown lua shebang option: ${parts[i]}`);
    const list = parts[i].slice(6);
    if (list === "") continue;
    for (const name of list.split(",")) {
      const bit = SCRIPT_FLAG_NAMES.get(name);
      if (bit === undefined) throw err(`Unexpected flag in script shebang: ${name}`);
      flags |= bit;
    }
  }
  return { flags, shebangBytes: end };
}

/** min-replicas-to-write refuses writes now (the rule cmd/server.ts gives the executor). */
function tooFewReplicas(ctx: CommandContext): boolean {
  const replication = ctx.server.replication();
  const { minReplicasToWrite, minReplicasMaxLagMs } = ctx.server.admin.config.replication;
  return replication !== undefined && minReplicasToWrite !== 0 &&
    replication.goodReplicas(minReplicasMaxLagMs) < minReplicasToWrite;
}

const WRITE_FLAG_ON_RO = "Can not execute a script with write flag using *_ro command.";

/**
 * Why a script (or function) with `flags` may not run now, or undefined.
 * With declared flags the request is checked as Redis's processCommand
 * checks a command whose flags the script's give (a script that may write
 * is a write; without `allow-oom` or `no-writes` it is `denyoom`), in
 * Redis's order (`*_RO`'s rule comes later: {@link roRefusal}). An EVAL script in compatibility mode
 * is not checked here: its writes meet the usual checks one by one.
 * `allow-stale` changes nothing: kvdb has no `replica-serve-stale-data no`
 * (its one stale state, a demoted master catching up, refuses a script's
 * reads and writes inside it).
 */
export function scriptRefusal(ctx: CommandContext, flags: number): CommandError | undefined {
  if ((flags & SCRIPT_FLAGS.evalCompat) !== 0) return undefined;
  const writes = (flags & SCRIPT_FLAGS.noWrites) === 0;
  const replica = ctx.server.role === "slave";
  if (
    (flags & (SCRIPT_FLAGS.allowOom | SCRIPT_FLAGS.noWrites)) === 0 &&
    ctx.store.memory.maxmemoryBytes !== 0 && !replica && !ctx.store.memory.freeMemory()
  ) {
    return outOfMemory();
  }
  if (writes && !replica && tooFewReplicas(ctx)) return noReplicas();
  if (writes && replica) return readOnlyReplica();
  return undefined;
}

/**
 * EVAL_RO, EVALSHA_RO, FCALL_RO of a script that declared it may write
 * (Redis's scriptPrepareForRun: after the arguments are checked and the
 * script compiled).
 */
export function roRefusal(flags: number, readOnlyCommand: boolean): CommandError | undefined {
  if (!readOnlyCommand || (flags & (SCRIPT_FLAGS.evalCompat | SCRIPT_FLAGS.noWrites)) !== 0) {
    return undefined;
  }
  return err(WRITE_FLAG_ON_RO);
}

/** Whether a run with `flags` may write (a `_RO` command's never does). */
export function scriptMayWrite(flags: number, readOnlyCommand: boolean): boolean {
  if (readOnlyCommand) return false;
  return (flags & SCRIPT_FLAGS.evalCompat) !== 0 || (flags & SCRIPT_FLAGS.noWrites) === 0;
}
