/**
 * DUMP/RESTORE payloads: one value serialized as Redis's RDB format writes
 * it, then Redis's trailer — the RDB version (2 bytes, little-endian) and a
 * CRC-64 of everything before (8 bytes, little-endian; `bytes/crc64.ts`).
 *
 * Strings are written as RDB type 0 with a plain length-prefixed body (no
 * integer encoding, no LZF compression), which every Redis reads; payloads
 * from Redis are read with its integer and LZF encodings too. Collections
 * are written in Redis 7.0's own formats and bytes (`rdb/rdb_value.ts`:
 * listpacks, intsets, quicklists, LZF as Redis compresses). So `DUMP` from
 * either server `RESTORE`s into the other.
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

import { binaryToBytes } from "../bytes/binary_string.ts";
import { crc64 } from "../bytes/crc64.ts";
import { decodeRdbValue, encodeRdbValue, type RdbValue } from "./rdb/rdb_value.ts";
import { RdbReader } from "./rdb/rdb_string.ts";

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
 * The DUMP payload of a collection (or string) given as plain arrays
 * (`rdb/rdb_value.ts`), with Redis's trailer. `listFill` is
 * list-max-listpack-size (how a list is cut into quicklist nodes).
 *
 * @example
 * ```ts
 * encodeDumpValue({ kind: "hash", pairs: [["f", "v"]], compact: true }, -2)[0]; // 16
 * ```
 */
export function encodeDumpValue(value: RdbValue, listFill: number): Uint8Array {
  const body = encodeRdbValue(value, listFill);
  const out = new Uint8Array(body.length + TRAILER_BYTES);
  out.set(body);
  let at = body.length;
  out[at++] = DUMP_RDB_VERSION & 0xff;
  out[at++] = DUMP_RDB_VERSION >> 8;
  writeCrc(out, at, crc64(out, 0n, 0, at));
  return out;
}

/**
 * The value in a DUMP payload (a binary string), or why it is refused.
 *
 * @example
 * ```ts
 * decodeDump(bytesToBinary(encodeDump("x"))); // { value: { kind: "string", value: "x" } }
 * ```
 */
export function decodeDump(
  payload: string | Uint8Array,
): { value: RdbValue } | { problem: DumpProblem } {
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
  // Bytes between the value and the trailer are ignored, as Redis does.
  const value = decodeRdbValue(new RdbReader(bytes.subarray(0, n - TRAILER_BYTES)));
  return value === undefined ? { problem: "Bad data format" } : { value };
}
