/**
 * Little-endian integer access on plain byte arrays. Plain index arithmetic
 * keeps the hot encode/decode paths free of DataView objects that would
 * have to follow every buffer reallocation.
 *
 * @module
 */

/**
 * 2^32, the weight of the high word of a 53-bit integer.
 *
 * @example
 * ```ts
 * Math.floor(lsn / TWO_POW_32); // high word
 * ```
 */
export const TWO_POW_32 = 0x1_0000_0000;

/**
 * Largest value of the high word of a 53-bit integer (2^21 - 1).
 *
 * @example
 * ```ts
 * MAX_HIGH_WORD * TWO_POW_32 + 0xffff_ffff === Number.MAX_SAFE_INTEGER; // true
 * ```
 */
export const MAX_HIGH_WORD = 0x1f_ffff;

/**
 * Reads a u32 at `offset`.
 *
 * @example
 * ```ts
 * readU32(new Uint8Array([1, 0, 0, 0]), 0); // 1
 * ```
 */
export function readU32(buf: Uint8Array, offset: number): number {
  return (buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) |
    (buf[offset + 3] << 24)) >>> 0;
}

/**
 * Writes a u32 at `offset`.
 *
 * @example
 * ```ts
 * writeU32(buf, 0, 0xdeadbeef);
 * ```
 */
export function writeU32(buf: Uint8Array, offset: number, v: number): void {
  buf[offset] = v;
  buf[offset + 1] = v >>> 8;
  buf[offset + 2] = v >>> 16;
  buf[offset + 3] = v >>> 24;
}

/**
 * Reads a u16 at `offset`.
 *
 * @example
 * ```ts
 * readU16(new Uint8Array([1, 1]), 0); // 257
 * ```
 */
export function readU16(buf: Uint8Array, offset: number): number {
  return buf[offset] | (buf[offset + 1] << 8);
}

/**
 * Writes a u16 at `offset`.
 *
 * @example
 * ```ts
 * writeU16(buf, 4, 1);
 * ```
 */
export function writeU16(buf: Uint8Array, offset: number, v: number): void {
  buf[offset] = v;
  buf[offset + 1] = v >>> 8;
}

/**
 * Writes a safe integer as two u32 words (low, high) at `offset`. Word
 * arithmetic avoids BigInt, which would allocate on every record.
 *
 * @example
 * ```ts
 * writeU53(buf, 8, 2 ** 40);
 * ```
 */
export function writeU53(buf: Uint8Array, offset: number, v: number): void {
  writeU32(buf, offset, v >>> 0);
  writeU32(buf, offset + 4, Math.floor(v / TWO_POW_32));
}

/**
 * Reads two u32 words (low, high) as one number; -1 if the high word is out
 * of the 53-bit range (a damaged field, not a number to trust).
 *
 * @example
 * ```ts
 * readU53(buf, 8); // 2 ** 40, or -1 if damaged
 * ```
 */
export function readU53(buf: Uint8Array, offset: number): number {
  const high = readU32(buf, offset + 4);
  if (high > MAX_HIGH_WORD) return -1;
  return high * TWO_POW_32 + readU32(buf, offset);
}

/**
 * Rounds `n` up to a multiple of 8.
 *
 * @example
 * ```ts
 * pad8(25); // 32
 * ```
 */
export function pad8(n: number): number {
  return (n + 7) & ~7;
}
