/**
 * What MULTI does to the commands that follow it: which run at once, which
 * are refused (dooming the transaction, as Redis's `flagTransaction`), and
 * the bound on what one client may queue.
 *
 * @example
 * ```ts
 * const refused = queueCommand(session.multi!, spec, args);
 * if (refused === undefined) w.status("QUEUED");
 * ```
 * @module
 */

import { CommandError } from "../protocol/reply_writer.ts";
import type { CommandSpec, QueuedTransaction } from "../executor/command_spec.ts";

/** Commands that run at once inside MULTI instead of being queued (Redis's list). */
export const CONTROLS_TRANSACTION: ReadonlySet<string> = new Set([
  "EXEC",
  "DISCARD",
  "MULTI",
  "WATCH",
  "QUIT",
  "RESET",
]);

/**
 * Commands that cannot be part of a transaction (Redis's `no-multi` flag,
 * and kvdb's replication handshake).
 */
const NOT_IN_TRANSACTION: ReadonlySet<string> = new Set([
  "SHUTDOWN",
  "SAVE",
  "SYNC",
  "PSYNC",
  "REPLSYNC",
]);

/**
 * Most bytes of arguments one transaction may queue. Its log records must
 * fit one batch of the WAL (no batch is cut inside a group): 256 MiB.
 */
export const MAX_QUEUED_BYTES = 128 * 1024 * 1024;

/**
 * Queues `args` in `multi`; returns the error to reply instead when the
 * command may not be queued (the caller dooms the transaction then).
 */
export function queueCommand(
  multi: QueuedTransaction,
  spec: CommandSpec,
  args: string[],
): CommandError | undefined {
  // A command that replies later (SAVE) cannot run inside EXEC's one step.
  if (NOT_IN_TRANSACTION.has(spec.name) || spec.async) {
    return new CommandError(
      "ERR",
      "Command not allowed inside a transaction",
      "Command not allowed inside a transaction",
    );
  }
  let bytes = 0;
  for (const arg of args) bytes += arg.length;
  if (multi.bytes + bytes > MAX_QUEUED_BYTES) {
    const message = `transaction too large: more than ${MAX_QUEUED_BYTES} bytes queued`;
    return new CommandError("ERR", message, message);
  }
  multi.bytes += bytes;
  multi.commands.push(args);
  return undefined;
}
