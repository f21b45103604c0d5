/**
 * DUMP/RESTORE payloads: one value serialized as Redis's RDB format writes
 * it, then Redis's trailer — the RDB version (2 bytes, little-endian) and a
 * CRC-64 of everything before (8 bytes, little-endian; `bytes/crc64.ts`).
 *
 * Strings are written as RDB type 0 with a plain length-prefixed body (no
 * integer encoding, no LZF compression), which every Redis reads; payloads
 * from Redis are read with its integer and LZF encodings too. So `DUMP`
 * from either server `RESTORE`s into the other.
 *
 * | bytes | what |
 * |---|---|
 * | 1 | RDB type: 0 = string |
 * | 1, 2, 5 or 9 | length: `00xxxxxx` (6 bits), `01xxxxxx xxxxxxxx` (14 bits), `0x80` + u32 BE, `0x81` + u64 BE; or `11xxxxxx` special: 0 int8, 1 int16 LE, 2 int32 LE, 3 LZF |
 * | n | the bytes |
 * | 2 | RDB version (10: Redis 7.0's) |
 * | 8 | CRC-64 |
 *
 * @example
 * ```ts
 * const payload = encodeDump("hello");
 * decodeDump(payload); // { value: "hello" }
 * ```
 * @module
 */

import { binaryToBytes, bytesToBinary } from "../bytes/binary_string.ts";
import { crc64 } from "../bytes/crc64.ts";

/**
 * The RDB version kvdb writes and the newest it reads (Redis 7.0's).
 *
 * @example
 * ```ts
 * DUMP_RDB_VERSION; // 10
 * ```
 */
export const DUMP_RDB_VERSION = 10;

const RDB_TYPE_STRING = 0;
const TRAILER_BYTES = 10;

/**
 * The DUMP payload of a string value (`bytes` as they are stored).
 *
 * @example
 * ```ts
 * encodeDump(new Uint8Array([104, 105])).length; // 1 + 1 + 2 + 10
 * ```
 */
export function encodeDump(bytes: Uint8Array | string): Uint8Array {
  const length = bytes.length;
  const header = length < 64 ? 1 : length < 16384 ? 2 : length <= 0xffffffff ? 5 : 9;
  const out = new Uint8Array(1 + header + length + TRAILER_BYTES);
  out[0] = RDB_TYPE_STRING;
  let at = 1;
  if (header === 1) {
    out[at++] = length;
  } else if (header === 2) {
    out[at++] = 0x40 | (length >> 8);
    out[at++] = length & 0xff;
  } else {
    out[at++] = 0x80;
    new DataView(out.buffer).setUint32(at, length);
    at += 4;
  }
  if (typeof bytes === "string") {
    for (let i = 0; i < length; i++) out[at + i] = bytes.charCodeAt(i);
  } else {
    out.set(bytes, at);
  }
  at += length;
  out[at++] = DUMP_RDB_VERSION & 0xff;
  out[at++] = DUMP_RDB_VERSION >> 8;
  writeCrc(out, at, crc64(out, 0n, 0, at));
  return out;
}

function writeCrc(out: Uint8Array, at: number, crc: bigint): void {
  for (let i = 0; i < 8; i++) out[at + i] = Number((crc >> BigInt(8 * i)) & 0xffn);
}

/**
 * Why a payload was refused, in Redis's words: its trailer does not
 * verify, or its body is not a value kvdb can load.
 *
 * @example
 * ```ts
 * const decoded = decodeDump(payload);
 * if ("problem" in decoded) reply(decoded.problem);
 * ```
 */
export type DumpProblem = "DUMP payload version or checksum are wrong" | "Bad data format";

/**
 * The value in a DUMP payload (a binary string), or why it is refused.
 *
 * @example
 * ```ts
 * decodeDump(bytesToBinary(encodeDump("x"))); // { value: "x" }
 * ```
 */
export function decodeDump(
  payload: string | Uint8Array,
): { value: string } | { problem: DumpProblem } {
  const bytes = typeof payload === "string" ? binaryToBytes(payload) : payload;
  const n = bytes.length;
  if (n < TRAILER_BYTES) return { problem: "DUMP payload version or checksum are wrong" };
  const version = bytes[n - 10] | (bytes[n - 9] << 8);
  if (version > DUMP_RDB_VERSION) return { problem: "DUMP payload version or checksum are wrong" };
  let stored = 0n;
  for (let i = 7; i >= 0; i--) stored = (stored << 8n) | BigInt(bytes[n - 8 + i]);
  if (crc64(bytes, 0n, 0, n - 8) !== stored) {
    return { problem: "DUMP payload version or checksum are wrong" };
  }
  const body = bytes.subarray(0, n - TRAILER_BYTES);
  if (body.length < 1 || body[0] !== RDB_TYPE_STRING) return { problem: "Bad data format" };
  const reader = new BodyReader(body, 1);
  // Bytes between the value and the trailer are ignored, as Redis does.
  const value = reader.string();
  return value === undefined ? { problem: "Bad data format" } : { value };
}

/** Reads RDB-encoded strings; undefined for anything malformed. */
class BodyReader {
  constructor(readonly bytes: Uint8Array, public at: number) {}

  #byte(): number | undefined {
    return this.at < this.bytes.length ? this.bytes[this.at++] : undefined;
  }

  /** A length, or a special encoding as `{ special }`. */
  #length(): number | { special: number } | undefined {
    const first = this.#byte();
    if (first === undefined) return undefined;
    const kind = first >> 6;
    if (kind === 0) return first & 0x3f;
    if (kind === 1) {
      const second = this.#byte();
      return second === undefined ? undefined : ((first & 0x3f) << 8) | second;
    }
    if (kind === 3) return { special: first & 0x3f };
    const size = first === 0x80 ? 4 : first === 0x81 ? 8 : 0;
    if (size === 0 || this.at + size > this.bytes.length) return undefined;
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + this.bytes[this.at++];
    return Number.isSafeInteger(value) ? value : undefined;
  }

  string(): string | undefined {
    const length = this.#length();
    if (length === undefined) return undefined;
    if (typeof length === "number") {
      if (this.at + length > this.bytes.length) return undefined;
      const s = bytesToBinary(this.bytes, this.at, this.at + length);
      this.at += length;
      return s;
    }
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset);
    switch (length.special) {
      case 0: {
        if (this.at + 1 > this.bytes.length) return undefined;
        return String(view.getInt8(this.at++));
      }
      case 1: {
        if (this.at + 2 > this.bytes.length) return undefined;
        const v = view.getInt16(this.at, true);
        this.at += 2;
        return String(v);
      }
      case 2: {
        if (this.at + 4 > this.bytes.length) return undefined;
        const v = view.getInt32(this.at, true);
        this.at += 4;
        return String(v);
      }
      case 3:
        return this.#lzf();
      default:
        return undefined;
    }
  }

  /** An LZF-compressed string: compressed length, length, then the data. */
  #lzf(): string | undefined {
    const compressed = this.#length();
    const length = this.#length();
    if (typeof compressed !== "number" || typeof length !== "number") return undefined;
    if (this.at + compressed > this.bytes.length) return undefined;
    const out = lzfDecompress(this.bytes.subarray(this.at, this.at + compressed), length);
    this.at += compressed;
    return out === undefined ? undefined : bytesToBinary(out);
  }
}

/** LZF decompression into exactly `length` bytes; undefined if the data does not fit. */
function lzfDecompress(input: Uint8Array, length: number): Uint8Array | undefined {
  const out = new Uint8Array(length);
  let i = 0;
  let o = 0;
  while (i < input.length) {
    const ctrl = input[i++];
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (o + run > length || i + run > input.length) return undefined;
      out.set(input.subarray(i, i + run), o);
      i += run;
      o += run;
      continue;
    }
    let run = ctrl >> 5;
    if (run === 7) {
      if (i >= input.length) return undefined;
      run += input[i++];
    }
    if (i >= input.length) return undefined;
    const back = ((ctrl & 0x1f) << 8) + input[i++] + 1;
    run += 2;
    if (back > o || o + run > length) return undefined;
    for (let k = 0; k < run; k++, o++) out[o] = out[o - back];
  }
  return o === length ? out : undefined;
}
