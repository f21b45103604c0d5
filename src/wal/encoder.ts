/**
 * Encodes WAL records into frames. The on-disk record layout is defined here.
 *
 * A frame, all integers little-endian, offsets from the frame start:
 *
 * | offset | size | field                                                  |
 * |-------:|-----:|--------------------------------------------------------|
 * |      0 |    4 | `bodyBytes`: length of the body `[8, 8 + bodyBytes)`   |
 * |      4 |    4 | `crc`: CRC-32 (IEEE) of the body, seeded with the previous record's `crc` |
 * |      8 |    8 | LSN: low u32, then high u32 (< 2^21)                   |
 * |     16 |    1 | op ({@link WalOp})                                      |
 * |     17 |    2 | database index (u16; reserved zeros before databases: 0) |
 * |     19 |    1 | flags ({@link WalFlag}; reserved zero before them)      |
 * |     20 |    4 | `keyBytes`                                              |
 * |     24 |    8 | `expiresAtMs`: low u32, then high u32 (< 2^21); 0 = none; SETRANGE's byte offset |
 * |     32 |    k | key                                                     |
 * |   32+k |    v | value, `v = bodyBytes - 24 - keyBytes`                  |
 * |        | 0..7 | zero padding to a multiple of 8                         |
 *
 * Segments are preallocated with zeros (`_durable_file.ts`), so a zero
 * `bodyBytes` — which no frame has — followed by nothing but zeros is the
 * end of a segment's records, as in etcd.
 *
 * Why this shape (borrowed from etcd's WAL):
 * - Frames are 8-byte aligned and segments start 8-aligned, so the length
 *   field never straddles a sector boundary and cannot itself be torn.
 * - The CRC chain (each record's CRC seeded with the previous one's) makes a
 *   record copied in from another history fail, not just a flipped bit. The
 *   first record of a segment is seeded from the segment header, so the
 *   chain survives deleting older segments.
 * - The length comes first and is bounded, so a decoder never allocates for
 *   a garbage length.
 *
 * @example
 * ```ts
 * const buf = new Uint8Array(frameBytes(1, 1));
 * const crc = encodeRecord(buf, 0, 1, WalOp.Set, 0, "k", "v", 0, 0);
 * ```
 * @module
 */

import { crc32 } from "node:zlib";
import { pad8, writeU32, writeU53 } from "./_bytes.ts";
import {
  entryProblem,
  WAL_KNOWN_FLAGS,
  WAL_MAX_DB,
  WAL_MAX_INTEGER,
  WAL_MAX_KEY_BYTES,
  WAL_MAX_VALUE_BYTES,
} from "./record.ts";

/**
 * Bytes before the key: length, crc, LSN, op, reserved, key length, expiry.
 *
 * @example
 * ```ts
 * RECORD_HEADER_BYTES; // 32
 * ```
 */
export const RECORD_HEADER_BYTES = 32;

/**
 * Fixed part of the body (the bytes the CRC covers besides key and value).
 *
 * @example
 * ```ts
 * RECORD_BODY_FIXED_BYTES; // 24
 * ```
 */
export const RECORD_BODY_FIXED_BYTES = 24;

/**
 * Largest body a valid record can have; a larger length field is damage.
 *
 * @example
 * ```ts
 * RECORD_MAX_BODY_BYTES > WAL_MAX_VALUE_BYTES; // true
 * ```
 */
export const RECORD_MAX_BODY_BYTES = RECORD_BODY_FIXED_BYTES +
  WAL_MAX_KEY_BYTES + WAL_MAX_VALUE_BYTES;

/**
 * Largest frame a valid record can have.
 *
 * @example
 * ```ts
 * RECORD_MAX_FRAME_BYTES % 8; // 0
 * ```
 */
export const RECORD_MAX_FRAME_BYTES = 8 + pad8(RECORD_MAX_BODY_BYTES);

/**
 * Size of the frame (header, key, value, padding) for a record with these
 * key and value lengths. Throws RangeError beyond the record limits.
 *
 * @example
 * ```ts
 * frameBytes(16, 64); // 112
 * ```
 */
export function frameBytes(keyBytes: number, valueBytes: number): number {
  if (keyBytes > WAL_MAX_KEY_BYTES) {
    throw new RangeError(
      `WAL key of ${keyBytes} bytes exceeds ${WAL_MAX_KEY_BYTES}`,
    );
  }
  if (valueBytes > WAL_MAX_VALUE_BYTES) {
    throw new RangeError(
      `WAL value of ${valueBytes} bytes exceeds ${WAL_MAX_VALUE_BYTES}`,
    );
  }
  return 8 + pad8(RECORD_BODY_FIXED_BYTES + keyBytes + valueBytes);
}

/**
 * Encodes one record at `out[offset]` and returns its CRC (the seed of the
 * next record). The caller reserved `frameBytes(key.length, value.length)`
 * bytes. Throws RangeError for an invalid entry or a key/value char above
 * 0xFF (not a binary string); the caller's state is untouched then, because
 * the caller only advances after this returns.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(frameBytes(3, 0));
 * const crc = encodeRecord(out, 0, 7, WalOp.Del, 0, "key", "", 0, previousCrc);
 * ```
 */
export function encodeRecord(
  out: Uint8Array,
  offset: number,
  lsn: number,
  op: number,
  db: number,
  key: string,
  value: string,
  expiresAtMs: number,
  seedCrc: number,
  flags = 0,
): number {
  const problem = entryProblem(op, key, value, expiresAtMs);
  if ((flags & ~WAL_KNOWN_FLAGS) !== 0) throw new RangeError(`WAL record: unknown flags ${flags}`);
  if (problem !== undefined) throw new RangeError(`WAL record: ${problem}`);
  if (!Number.isInteger(db) || db < 0 || db > WAL_MAX_DB) {
    throw new RangeError(`WAL record: database index must be in [0, ${WAL_MAX_DB}], got ${db}`);
  }
  if (!Number.isSafeInteger(lsn) || lsn < 1 || lsn > WAL_MAX_INTEGER) {
    throw new RangeError(`WAL record: LSN must be a positive integer, got ${lsn}`);
  }
  const bodyBytes = RECORD_BODY_FIXED_BYTES + key.length + value.length;
  const end = offset + 8 + pad8(bodyBytes);
  if (end > out.length) {
    throw new RangeError(`WAL record: buffer too small (${out.length} < ${end})`);
  }
  writeU32(out, offset, bodyBytes);
  writeU53(out, offset + 8, lsn);
  out[offset + 16] = op;
  out[offset + 17] = db & 0xff;
  out[offset + 18] = db >>> 8;
  out[offset + 19] = flags;
  writeU32(out, offset + 20, key.length);
  writeU53(out, offset + 24, expiresAtMs);
  // Writing and checking in one pass: a char above 0xFF would otherwise be
  // truncated silently into a different byte on disk.
  let p = offset + RECORD_HEADER_BYTES;
  let orChars = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    orChars |= c;
    out[p++] = c;
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    orChars |= c;
    out[p++] = c;
  }
  if (orChars > 0xff) {
    throw new RangeError(
      "WAL record: key/value is not a binary string (char code above 0xFF)",
    );
  }
  // The write buffer is reused, so stale bytes must not leak into padding.
  while (p < end) out[p++] = 0;
  const crc = crc32(out.subarray(offset + 8, offset + 8 + bodyBytes), seedCrc);
  writeU32(out, offset + 4, crc);
  return crc;
}
