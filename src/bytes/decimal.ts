/**
 * A safe integer's decimal form written as bytes where it goes (a reply
 * line, a counter's value in the key table): no string made of it.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(decimalLength(-42));
 * writeDecimal(-42, bytes, 0); // 3; bytes: "-42"
 * ```
 * @module
 */

import { assert } from "../_assert.ts";

const DIGIT_0 = 0x30;
const MINUS_SIGN = 0x2d;

/** The bytes of `value`'s decimal form (a safe integer): its digits, and a sign if negative. */
export function decimalLength(value: number): number {
  let digits = 1;
  const magnitude = value < 0 ? -value : value;
  for (let bound = 10; bound <= magnitude && digits < 16; bound *= 10) digits++;
  return value < 0 ? digits + 1 : digits;
}

/**
 * Writes `value` (a safe integer) in decimal into `bytes` at `at`; returns
 * the offset after it. The caller guarantees `length` bytes, its
 * {@link decimalLength} (passed by a caller that needed it first).
 */
export function writeDecimal(
  value: number,
  bytes: Uint8Array,
  at: number,
  length: number = decimalLength(value),
): number {
  assert(Number.isSafeInteger(value), "a decimal is written of a safe integer");
  const end = at + length;
  if (value < 0) {
    bytes[at] = MINUS_SIGN;
    value = -value;
  }
  let i = end;
  if (value <= 0x7fffffff) {
    // Int32 arithmetic: no double division.
    let v = value | 0;
    do {
      const q = (v / 10) | 0;
      bytes[--i] = DIGIT_0 + v - q * 10;
      v = q;
    } while (v > 0);
  } else {
    do {
      const digit = value % 10;
      bytes[--i] = DIGIT_0 + digit;
      value = (value - digit) / 10;
    } while (value > 0);
  }
  return end;
}
