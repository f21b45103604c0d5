/**
 * The size in bytes of what Redis 7.0 writes into a stream node's listpack,
 * without writing it: Redis decides when a node is full by its listpack's
 * bytes (`stream-node-max-bytes`), and MAXLEN/MINID `~` trim whole nodes,
 * so kvdb keeps Redis's node boundaries by computing the same sizes.
 *
 * @example
 * ```ts
 * intElementBytes(5); // 2: one encoding byte, one back-length byte
 * stringElementBytes("hello"); // 7
 * ```
 * @module
 */

/** A listpack's header (total bytes, element count) and end byte. */
export const LISTPACK_EMPTY_BYTES = 7;

/** Bytes of an integer element of value `v` (a signed 64-bit value, exact below 2^53). */
export function intElementBytes(v: number): number {
  if (v >= 0 && v <= 127) return 2;
  if (v >= -4096 && v <= 4095) return 3;
  if (v >= -32768 && v <= 32767) return 4;
  if (v >= -8388608 && v <= 8388607) return 5;
  if (v >= -2147483648 && v <= 2147483647) return 6;
  return 10;
}

/** Bytes of an integer element of a bigint value. */
export function bigIntElementBytes(v: bigint): number {
  if (v >= -2147483648n && v <= 2147483647n) return intElementBytes(Number(v));
  return 10;
}

/** The back-length's bytes for an element of `l` bytes. */
function backlenBytes(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** The value of `s` if listpack stores it as an integer (`lpStringToInt64`), else undefined. */
function asInteger(s: string): number | bigint | undefined {
  const length = s.length;
  if (length === 0 || length >= 21) return undefined;
  if (s === "0") return 0;
  const start = s.charCodeAt(0) === 45 ? 1 : 0;
  if (start === length) return undefined;
  const first = s.charCodeAt(start);
  if (first < 49 || first > 57) return undefined;
  for (let i = start + 1; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  if (length <= 15) return Number(s);
  const big = BigInt(s);
  return big > INT64_MAX || big < INT64_MIN ? undefined : big;
}

/** Bytes of the element listpack makes of the string `s` (an integer if it reads as one). */
export function stringElementBytes(s: string): number {
  const n = asInteger(s);
  if (n !== undefined) return typeof n === "number" ? intElementBytes(n) : bigIntElementBytes(n);
  const length = s.length;
  const encoded = length <= 63 ? 1 + length : length <= 4095 ? 2 + length : 5 + length;
  return encoded + backlenBytes(encoded);
}
