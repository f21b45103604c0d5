/**
 * The expiry options SET and GETEX share: `EX s`, `PX ms`, `EXAT unix-s`,
 * `PXAT unix-ms`, turned into an absolute time in Unix ms, with Redis's
 * checks (a positive time that does not overflow).
 *
 * @module
 */

import { CommandError } from "../../protocol/reply_writer.ts";
import { integerArgument, syntaxError } from "../command_spec.ts";

/** Latest expiry time accepted (keeps every sum a safe integer). */
const MAX_EXPIRES_AT_MS = 2 ** 52;

const UNIT_MS: Record<string, number> = { EX: 1000, PX: 1, EXAT: 1000, PXAT: 1 };

/** The name of an expiry option, upper-cased, or undefined. */
export function expiryOptionName(arg: string): "EX" | "PX" | "EXAT" | "PXAT" | undefined {
  const upper = arg.toUpperCase();
  return upper in UNIT_MS ? upper as "EX" | "PX" | "EXAT" | "PXAT" : undefined;
}

/**
 * The absolute expiry time for option `name` with argument `value`; throws
 * Redis's `invalid expire time in '<command>' command` when it is not
 * positive or too far.
 */
export function expiryFromOption(
  name: "EX" | "PX" | "EXAT" | "PXAT",
  value: string | undefined,
  nowMs: number,
  command: string,
): number {
  if (value === undefined) throw syntaxError();
  const amount = integerArgument(value);
  const invalid = new CommandError(
    "ERR",
    `invalid expire time in '${command}' command`,
    `invalid expire time in '${command}' command`,
  );
  if (amount <= 0) throw invalid;
  const ms = amount * UNIT_MS[name];
  const at = name === "EX" || name === "PX" ? nowMs + ms : ms;
  if (!Number.isSafeInteger(at) || at > MAX_EXPIRES_AT_MS) throw invalid;
  return at;
}
