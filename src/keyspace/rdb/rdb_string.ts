/**
 * RDB's lengths and strings, as Redis writes and reads them in DUMP
 * payloads.
 *
 * Lengths: `00xxxxxx` (6 bits), `01xxxxxx xxxxxxxx` (14 bits, big-endian),
 * `0x80` + u32 BE, `0x81` + u64 BE. Strings: a length and the bytes, or a
 * special `11xxxxxx` form: 0 int8, 1 int16 LE, 2 int32 LE (the canonical
 * text of a small integer), 3 LZF (compressed length, length, data).
 * Redis writes a string of at most 11 bytes that is an integer's text as
 * an integer, and LZF-compresses one longer than 20 bytes when that saves
 * at least 4 bytes ({@link writeRdbString} does the same, so payloads have
 * Redis's bytes).
 *
 * @example
 * ```ts
 * const out = new ByteWriter();
 * writeRdbString(out, "12");
 * new RdbReader(out.finish()).string(); // "12"
 * ```
 * @module
 */

import { bytesToBinary } from "../../bytes/binary_string.ts";
import { ByteWriter } from "./byte_writer.ts";
import { canonicalInt64 } from "./int_string.ts";
import { lzfCompress, lzfDecompress } from "./lzf.ts";

const ENC_INT8 = 0xc0;
const ENC_INT16 = 0xc1;
const ENC_INT32 = 0xc2;
const ENC_LZF = 0xc3;

/**
 * Writes an RDB length.
 *
 * @example
 * ```ts
 * writeRdbLength(new ByteWriter(), 100).finish(); // [0x40, 100]
 * ```
 */
export function writeRdbLength(out: ByteWriter, length: number): ByteWriter {
  if (length < 64) return out.u8(length);
  if (length < 16384) return out.u8(0x40 | (length >> 8)).u8(length & 0xff);
  if (length <= 0xffffffff) return out.u8(0x80).u32be(length);
  out.u8(0x81).u32be(Math.floor(length / 2 ** 32)).u32be(length >>> 0);
  return out;
}

/**
 * Writes a string as Redis's rdbSaveRawString does: integer-encoded,
 * LZF-compressed, or as it is. `s` is a binary string or bytes.
 *
 * @example
 * ```ts
 * writeRdbString(new ByteWriter(), "-1").finish(); // [0xc0, 0xff]
 * ```
 */
export function writeRdbString(out: ByteWriter, s: string | Uint8Array): ByteWriter {
  const length = s.length;
  if (length <= 11) {
    const text = typeof s === "string" ? s : bytesToBinary(s);
    const v = canonicalInt64(text);
    if (v !== undefined && v >= -(2n ** 31n) && v < 2n ** 31n) {
      if (v >= -128n && v <= 127n) return out.u8(ENC_INT8).intLE(v, 1);
      if (v >= -32768n && v <= 32767n) return out.u8(ENC_INT16).intLE(v, 2);
      return out.u8(ENC_INT32).intLE(v, 4);
    }
  }
  const bytes = typeof s === "string" ? binaryBytes(s) : s;
  if (length > 20) {
    const packed = lzfCompress(bytes, length - 4);
    if (packed !== undefined) {
      out.u8(ENC_LZF);
      writeRdbLength(out, packed.length);
      writeRdbLength(out, length);
      return out.bytes(packed);
    }
  }
  writeRdbLength(out, length);
  return out.bytes(bytes);
}

function binaryBytes(s: string): Uint8Array {
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/**
 * Reads RDB lengths, strings and doubles from a payload body; each read
 * answers undefined for anything malformed or cut short.
 *
 * @example
 * ```ts
 * new RdbReader(new Uint8Array([1, 97])).string(); // "a"
 * ```
 */
export class RdbReader {
  constructor(readonly bytes: Uint8Array, public at = 0) {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  byte(): number | undefined {
    return this.at < this.bytes.length ? this.bytes[this.at++] : undefined;
  }

  /** A length, or a special string encoding as `{ special }`. */
  #lengthOrSpecial(): number | { special: number } | undefined {
    const first = this.byte();
    if (first === undefined) return undefined;
    const kind = first >> 6;
    if (kind === 0) return first & 0x3f;
    if (kind === 1) {
      const second = this.byte();
      return second === undefined ? undefined : ((first & 0x3f) << 8) | second;
    }
    if (kind === 3) return { special: first & 0x3f };
    const size = first === 0x80 ? 4 : first === 0x81 ? 8 : 0;
    if (size === 0 || this.at + size > this.bytes.length) return undefined;
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + this.bytes[this.at++];
    return Number.isSafeInteger(value) ? value : undefined;
  }

  /** A plain length (a count). */
  length(): number | undefined {
    const length = this.#lengthOrSpecial();
    return typeof length === "number" ? length : undefined;
  }

  /** A string's bytes (integer and LZF forms decoded). */
  stringBytes(): Uint8Array | undefined {
    const s = this.string();
    return s === undefined ? undefined : binaryBytes(s);
  }

  /** A string as a binary string. */
  string(): string | undefined {
    const length = this.#lengthOrSpecial();
    if (length === undefined) return undefined;
    if (typeof length === "number") {
      if (this.at + length > this.bytes.length) return undefined;
      const s = bytesToBinary(this.bytes, this.at, this.at + length);
      this.at += length;
      return s;
    }
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const width = [1, 2, 4][length.special];
    if (width !== undefined) {
      if (this.at + width > this.bytes.length) return undefined;
      const v = width === 1
        ? view.getInt8(this.at)
        : width === 2
        ? view.getInt16(this.at, true)
        : view.getInt32(this.at, true);
      this.at += width;
      return String(v);
    }
    if (length.special !== 3) return undefined;
    const compressed = this.length();
    const size = this.length();
    if (compressed === undefined || size === undefined) return undefined;
    if (this.at + compressed > this.bytes.length) return undefined;
    const out = lzfDecompress(this.bytes.subarray(this.at, this.at + compressed), size);
    this.at += compressed;
    return out === undefined ? undefined : bytesToBinary(out);
  }

  /** RDB's binary double (8 bytes LE). */
  binaryDouble(): number | undefined {
    if (this.at + 8 > this.bytes.length) return undefined;
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const v = view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }

  /** The old text double (zset v1): a length byte (253 NaN, 254 +inf, 255 -inf) and text. */
  textDouble(): number | undefined {
    const length = this.byte();
    if (length === undefined) return undefined;
    if (length === 253) return NaN;
    if (length === 254) return Infinity;
    if (length === 255) return -Infinity;
    if (this.at + length > this.bytes.length) return undefined;
    const text = bytesToBinary(this.bytes, this.at, this.at + length);
    this.at += length;
    const v = Number(text);
    return text.trim() === "" || Number.isNaN(v) ? undefined : v;
  }
}
