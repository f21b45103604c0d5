/**
 * Redis's listpack byte format (what RDB types 16, 17 and 18 carry): a
 * header of the total bytes (u32 LE) and the element count (u16 LE,
 * 65535 when unknown), the entries, and a 0xFF end byte. Each entry is an
 * encoding byte (with data) followed by its own length in 1..5 "backlen"
 * bytes. A string that is the canonical text of an int64 is stored as an
 * integer in the smallest of 7, 13, 16, 24, 32 or 64 bits; other strings
 * with a 6, 12 or 32-bit length.
 *
 * @example
 * ```ts
 * const bytes = encodeListpack(["a", "17"]);
 * decodeListpack(bytes); // ["a", "17"]
 * ```
 * @module
 */

import { bytesToBinary } from "../../bytes/binary_string.ts";
import { ByteWriter } from "./byte_writer.ts";
import { canonicalInt64 } from "./int_string.ts";

const HEADER_BYTES = 6;
const END = 0xff;
const UNKNOWN_COUNT = 65535;

/** The backlen bytes of an entry of `length` bytes (encoding + data). */
function writeBacklen(out: ByteWriter, length: number): void {
  if (length <= 127) {
    out.u8(length);
  } else if (length < 16383) {
    out.u8(length >> 7).u8((length & 127) | 128);
  } else if (length < 2097151) {
    out.u8(length >> 14).u8(((length >> 7) & 127) | 128).u8((length & 127) | 128);
  } else if (length < 268435455) {
    out.u8(length >> 21).u8(((length >> 14) & 127) | 128).u8(((length >> 7) & 127) | 128)
      .u8((length & 127) | 128);
  } else {
    out.u8(Math.floor(length / 2 ** 28)).u8(((length >> 21) & 127) | 128)
      .u8(((length >> 14) & 127) | 128).u8(((length >> 7) & 127) | 128).u8((length & 127) | 128);
  }
}

function backlenBytes(length: number): number {
  return length <= 127 ? 1 : length < 16383 ? 2 : length < 2097151 ? 3 : length < 268435455 ? 4 : 5;
}

/** Appends one entry (encoding, data, backlen). */
function writeEntry(out: ByteWriter, element: string): void {
  const start = out.length;
  const v = canonicalInt64(element);
  if (v !== undefined) {
    if (v >= 0n && v <= 127n) out.u8(Number(v));
    else if (v >= -4096n && v <= 4095n) {
      const u = Number(BigInt.asUintN(13, v));
      out.u8(0xc0 | (u >> 8)).u8(u & 0xff);
    } else if (v >= -32768n && v <= 32767n) out.u8(0xf1).intLE(v, 2);
    else if (v >= -8388608n && v <= 8388607n) out.u8(0xf2).intLE(v, 3);
    else if (v >= -2147483648n && v <= 2147483647n) out.u8(0xf3).intLE(v, 4);
    else out.u8(0xf4).intLE(v, 8);
  } else {
    const n = element.length;
    if (n < 64) out.u8(0x80 | n);
    else if (n < 4096) out.u8(0xe0 | (n >> 8)).u8(n & 0xff);
    else out.u8(0xf0).u32le(n);
    out.binary(element);
  }
  writeBacklen(out, out.length - start);
}

/**
 * The listpack holding `elements` in order.
 *
 * @example
 * ```ts
 * encodeListpack([]).length; // 7: the header and the end byte
 * ```
 */
export function encodeListpack(elements: readonly string[]): Uint8Array {
  const out = new ByteWriter();
  out.u32le(0).u8(0).u8(0);
  for (const element of elements) writeEntry(out, element);
  out.u8(END);
  const bytes = out.finish();
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(0, bytes.length, true);
  const count = Math.min(elements.length, UNKNOWN_COUNT);
  bytes[4] = count & 0xff;
  bytes[5] = count >> 8;
  return bytes;
}

/**
 * The bytes a listpack grows by when `element` is appended (Redis's
 * quicklist sizes nodes by the listpack's bytes).
 *
 * @example
 * ```ts
 * listpackEntryBytes("a"); // 3: encoding, data, backlen
 * ```
 */
export function listpackEntryBytes(element: string): number {
  const v = canonicalInt64(element);
  let length: number;
  if (v !== undefined) {
    length = v >= 0n && v <= 127n
      ? 1
      : v >= -4096n && v <= 4095n
      ? 2
      : v >= -32768n && v <= 32767n
      ? 3
      : v >= -8388608n && v <= 8388607n
      ? 4
      : v >= -2147483648n && v <= 2147483647n
      ? 5
      : 9;
  } else {
    const n = element.length;
    length = (n < 64 ? 1 : n < 4096 ? 2 : 5) + n;
  }
  return length + backlenBytes(length);
}

/**
 * The elements of a listpack (integers as their decimal text), or
 * undefined if the bytes are not a well-formed listpack (header, entry
 * encodings, backlens, count and end byte are all checked).
 *
 * @example
 * ```ts
 * decodeListpack(new Uint8Array([1, 2])); // undefined
 * ```
 */
export function decodeListpack(bytes: Uint8Array): string[] | undefined {
  if (bytes.length < HEADER_BYTES + 1) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== bytes.length) return undefined;
  const count = view.getUint16(4, true);
  const out: string[] = [];
  let at = HEADER_BYTES;
  const end = bytes.length - 1;
  while (at < end) {
    const start = at;
    const b = bytes[at];
    let element: string;
    let dataEnd: number;
    const int = (width: number): string => {
      let v = 0n;
      for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[start + 1 + i]);
      return String(BigInt.asIntN(width * 8, v));
    };
    if (b < 0x80) {
      element = String(b);
      dataEnd = at + 1;
    } else if ((b & 0xc0) === 0x80) {
      dataEnd = at + 1 + (b & 0x3f);
      if (dataEnd > end) return undefined;
      element = bytesToBinary(bytes, at + 1, dataEnd);
    } else if ((b & 0xe0) === 0xc0) {
      dataEnd = at + 2;
      if (dataEnd > end) return undefined;
      element = String(BigInt.asIntN(13, BigInt(((b & 0x1f) << 8) | bytes[at + 1])));
    } else if ((b & 0xf0) === 0xe0) {
      if (at + 2 > end) return undefined;
      dataEnd = at + 2 + (((b & 0x0f) << 8) | bytes[at + 1]);
      if (dataEnd > end) return undefined;
      element = bytesToBinary(bytes, at + 2, dataEnd);
    } else if (b === 0xf0) {
      if (at + 5 > end) return undefined;
      dataEnd = at + 5 + view.getUint32(at + 1, true);
      if (dataEnd > end) return undefined;
      element = bytesToBinary(bytes, at + 5, dataEnd);
    } else {
      const width = b === 0xf1 ? 2 : b === 0xf2 ? 3 : b === 0xf3 ? 4 : b === 0xf4 ? 8 : 0;
      if (width === 0) return undefined; // 0xf5..0xfe are not encodings; 0xff ends early
      dataEnd = at + 1 + width;
      if (dataEnd > end) return undefined;
      element = int(width);
    }
    const length = dataEnd - start;
    const backlen = backlenBytes(length);
    if (dataEnd + backlen > end) return undefined;
    // The backlen is read right to left: 7 bits a byte, the high bit set on all but the last read.
    let read = 0;
    for (let i = 0; i < backlen; i++) {
      const byte = bytes[dataEnd + backlen - 1 - i];
      read += (byte & 127) * 2 ** (7 * i);
    }
    if (read !== length) return undefined;
    at = dataEnd + backlen;
    out.push(element);
  }
  if (at !== end || bytes[end] !== END) return undefined;
  if (count !== UNKNOWN_COUNT && count !== out.length) return undefined;
  return out;
}
