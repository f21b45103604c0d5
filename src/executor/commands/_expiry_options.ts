/**
 * Expiry-time arithmetic for every command that sets one: SET and GETEX's
 * options (`EX s`, `PX ms`, `EXAT unix-s`, `PXAT unix-ms`) and the EXPIRE
 * family. Amounts are signed 64-bit as in Redis, and so are Redis's checks:
 * a product or sum that overflows 64 bits is `invalid expire time`.
 *
 * kvdb keeps expiry times below 2^52 ms (year 144,000; the WAL stores them
 * in 53 bits): a valid time beyond that is clamped to it, which no clock
 * will reach.
 *
 * @module
 */

import { CommandError } from "../../protocol/reply_writer.ts";
import { fitsInt64, notAnInteger, parseInt64, syntaxError } from "../command_spec.ts";

/** Latest expiry time stored (Unix ms). */
export const MAX_EXPIRES_AT_MS = 2 ** 52;

const OPTIONS = {
  EX: { unitMs: 1000n, relative: true },
  PX: { unitMs: 1n, relative: true },
  EXAT: { unitMs: 1000n, relative: false },
  PXAT: { unitMs: 1n, relative: false },
} as const;

/** An expiry option's name. */
export type ExpiryOption = keyof typeof OPTIONS;

/** The name of an expiry option, upper-cased, or undefined. */
export function expiryOptionName(arg: string): ExpiryOption | undefined {
  const upper = arg.toUpperCase();
  return upper in OPTIONS ? upper as ExpiryOption : undefined;
}

function invalidExpireTime(command: string): CommandError {
  return new CommandError(
    "ERR",
    `invalid expire time in '${command}' command`,
    `invalid expire time in '${command}' command`,
  );
}

/**
 * The absolute time (Unix ms, at most {@link MAX_EXPIRES_AT_MS}) that
 * `amount` in `unitMs` means, after `nowMs` when `relative`. It may be in the
 * past (EXPIRE then deletes the key). Throws Redis's errors: not an integer,
 * or an overflowing time.
 */
export function expiryTime(
  amount: string,
  unitMs: 1n | 1000n,
  relative: boolean,
  nowMs: number,
  command: string,
): number {
  const value = parseInt64(amount);
  if (value === undefined) throw notAnInteger();
  const ms = value * unitMs;
  const at = relative ? ms + BigInt(nowMs) : ms;
  if (!fitsInt64(ms) || !fitsInt64(at)) throw invalidExpireTime(command);
  return at > BigInt(MAX_EXPIRES_AT_MS) ? MAX_EXPIRES_AT_MS : Number(at);
}

/**
 * The absolute expiry time for SET/GETEX option `name` with argument
 * `value`; the amount must be positive, as Redis requires there.
 */
export function expiryFromOption(
  name: ExpiryOption,
  value: string | undefined,
  nowMs: number,
  command: string,
): number {
  if (value === undefined) throw syntaxError();
  const amount = parseInt64(value);
  if (amount === undefined) throw notAnInteger();
  if (amount <= 0n) throw invalidExpireTime(command);
  const { unitMs, relative } = OPTIONS[name];
  return expiryTime(value, unitMs, relative, nowMs, command);
}
