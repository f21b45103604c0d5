/**
 * The timeout argument of the blocking commands (BLPOP ... BZMPOP), in
 * seconds, as redis-server 7.0.15 reads it (`getTimeoutFromObjectOrReply`
 * with `UNIT_SECONDS`): parsed as a C `long double` (`strtold`: `1.5`,
 * `.5`, `1e3`, `0x10`, `inf`), multiplied by 1000 and rounded up to whole
 * milliseconds in long double arithmetic, then converted to a 64-bit
 * integer — where a value out of its range (`inf`, `1e400`) becomes the
 * most negative integer, so Redis answers "timeout is negative" for it.
 *
 * Consequences users can see, all Redis's: `0` blocks for ever, and so
 * does any value that rounds up to 0 ms (`-0.0005`, and even `-0.001`,
 * whose long double is a hair above -0.001); `0.0001` waits 1 ms; a
 * negative value below that is refused.
 *
 * @example
 * ```ts
 * timeoutMsFromSeconds("0.5"); // 500
 * timeoutMsFromSeconds("0"); // 0: for ever
 * timeoutMsFromSeconds("-1"); // throws "timeout is negative"
 * ```
 * @module
 */

import { CommandError } from "../protocol/reply_writer.ts";
import { parseLongDouble } from "../types/string/long_double.ts";

/** Bits of a long double's significand. */
const MANT_BITS = 64;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function error(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/**
 * `mant × 2^exp` rounded to a 64-bit significand, ties to even (what the
 * x87 unit does with a product): the significand and exponent.
 */
function roundToLongDouble(mant: bigint, exp: number): [bigint, number] {
  const bits = mant.toString(2).length;
  if (bits <= MANT_BITS) return [mant, exp];
  const shift = bits - MANT_BITS;
  let q = mant >> BigInt(shift);
  const rest = mant - (q << BigInt(shift));
  const half = 1n << BigInt(shift - 1);
  if (rest > half || (rest === half && (q & 1n) === 1n)) q++;
  return [q, exp + shift];
}

/** `ceil(mant × 2^exp)` for a non-negative value; `floor` when `down`. */
function roundInteger(mant: bigint, exp: number, down: boolean): bigint {
  if (exp >= 0) return mant << BigInt(exp);
  if (-exp > 16_500) return mant === 0n || down ? 0n : 1n; // far below 1
  const whole = mant >> BigInt(-exp);
  const fraction = mant - (whole << BigInt(-exp));
  return fraction === 0n || down ? whole : whole + 1n;
}

/**
 * The milliseconds a blocking command's `timeout` argument (seconds)
 * asks for: 0 for ever, else at least 1. Throws Redis's errors: `timeout
 * is not a float or out of range`, `timeout is negative`.
 *
 * @example
 * ```ts
 * timeoutMsFromSeconds("0.0001"); // 1
 * ```
 */
export function timeoutMsFromSeconds(arg: string): number {
  const seconds = parseLongDouble(arg);
  if (seconds === undefined) throw error("timeout is not a float or out of range");
  let ms: bigint;
  if (seconds.kind !== "finite") {
    ms = INT64_MIN; // (long long) of an infinite value: x87's "integer indefinite"
  } else {
    // seconds = mant × 2^(exp − 63); × 1000, rounded as a long double, then ceill.
    const [mant, exp] = roundToLongDouble(seconds.mant * 1000n, seconds.exp - (MANT_BITS - 1));
    const magnitude = roundInteger(mant, exp, seconds.negative);
    ms = seconds.negative ? -magnitude : magnitude;
    if (ms < INT64_MIN || ms > INT64_MAX) ms = INT64_MIN;
  }
  if (ms < 0n) throw error("timeout is negative");
  return Number(ms);
}
