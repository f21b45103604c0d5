/**
 * Whether a script has run past `busy-reply-threshold` in this process:
 * the executor then refuses every command without the `allow_busy` flag
 * (SCRIPT KILL, FUNCTION KILL, SHUTDOWN, AUTH, HELLO... have it) with
 * Redis's BUSY error. One number read per command while nothing is busy.
 *
 * @example
 * ```ts
 * if (BUSY_SCRIPTS.count !== 0) w.error(busyError());
 * ```
 * @module
 */

import { CommandError } from "../protocol/reply_writer.ts";
import { COMMAND_FLAG_BITS, type CommandSpec } from "../executor/command_spec.ts";

const ALLOW_BUSY = COMMAND_FLAG_BITS.allow_busy;

/**
 * Whether a busy server refuses this request: no `allow_busy` flag, or a
 * SHUTDOWN that would save (only SHUTDOWN NOSAVE passes, as in Redis).
 */
export function refusedWhileBusy(spec: CommandSpec, args: string[]): boolean {
  if ((spec.flags & ALLOW_BUSY) === 0) return true;
  return spec.name === "SHUTDOWN" && !args.some((a) => a.toUpperCase() === "NOSAVE");
}

/**
 * Scripts running past the threshold now (0 or 1 per server), and whether
 * the busy one is a function (FCALL: FUNCTION KILL stops it) or a script.
 */
export const BUSY_SCRIPTS = { count: 0, function: false };

const BUSY_MESSAGE =
  "Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION_MESSAGE =
  "Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/** Redis's `-BUSY` reply (naming FUNCTION KILL while a function is busy). */
export function busyError(isFunction = BUSY_SCRIPTS.function): CommandError {
  const message = isFunction ? BUSY_FUNCTION_MESSAGE : BUSY_MESSAGE;
  return new CommandError("BUSY", message, message);
}
