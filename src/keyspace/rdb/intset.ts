/**
 * Redis's intset byte format (RDB type 11): the width of every value (u32
 * LE: 2, 4 or 8 bytes — the smallest that holds them all), the count (u32
 * LE), then the values ascending, each little-endian two's complement.
 *
 * @example
 * ```ts
 * decodeIntset(encodeIntset([3n, -1n])); // [-1n, 3n]
 * ```
 * @module
 */

import { ByteWriter } from "./byte_writer.ts";

/**
 * The intset of `values` (any order; distinct).
 *
 * @example
 * ```ts
 * encodeIntset([1n]).length; // 10: header and one 16-bit value
 * ```
 */
export function encodeIntset(values: readonly bigint[]): Uint8Array {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let width = 2;
  for (const v of sorted) {
    if (v < -2147483648n || v > 2147483647n) width = 8;
    else if ((v < -32768n || v > 32767n) && width < 4) width = 4;
  }
  const out = new ByteWriter();
  out.u32le(width).u32le(sorted.length);
  for (const v of sorted) out.intLE(v, width);
  return out.finish();
}

/**
 * The values of an intset, or undefined if it is malformed (a bad width,
 * a size that does not match the count, values not strictly ascending).
 *
 * @example
 * ```ts
 * decodeIntset(new Uint8Array(3)); // undefined
 * ```
 */
export function decodeIntset(bytes: Uint8Array): bigint[] | undefined {
  if (bytes.length < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(0, true);
  const count = view.getUint32(4, true);
  if (width !== 2 && width !== 4 && width !== 8) return undefined;
  if (8 + count * width !== bytes.length) return undefined;
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const at = 8 + i * width;
    const v = width === 2
      ? BigInt(view.getInt16(at, true))
      : width === 4
      ? BigInt(view.getInt32(at, true))
      : view.getBigInt64(at, true);
    if (i > 0 && v <= out[i - 1]) return undefined;
    out.push(v);
  }
  return out;
}
