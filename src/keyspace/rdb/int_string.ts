/**
 * Redis's `string2ll` as its encoders use it: whether a binary string is
 * exactly the canonical decimal text of a 64-bit integer (no sign `+`, no
 * leading zeros, no `-0`, at most 20 characters). Such strings are stored
 * as integers in listpacks, intsets and RDB's integer-encoded strings.
 *
 * @example
 * ```ts
 * canonicalInt64("-12"); // -12n
 * canonicalInt64("012"); // undefined
 * ```
 * @module
 */

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The integer `s` is the canonical text of, or undefined.
 *
 * @example
 * ```ts
 * canonicalInt64("9223372036854775808"); // undefined: past int64
 * ```
 */
export function canonicalInt64(s: string): bigint | undefined {
  if (s.length === 0 || s.length > 20) return undefined;
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return undefined;
  const value = BigInt(s);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}
