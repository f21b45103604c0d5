/**
 * Decodes WAL frames (layout in `encoder.ts`) out of a byte buffer.
 *
 * Decoding never throws and never allocates beyond the key and value
 * strings: it returns a code, so replaying a million records costs no
 * exceptions or result objects, and the caller (recovery, check, reader)
 * decides what a bad frame means where it found it.
 *
 * @example
 * ```ts
 * const out = newDecodedRecord();
 * const n = decodeRecord(buf, 0, buf.length, seedCrc, out);
 * if (n > 0) console.log(out.lsn, out.key);
 * ```
 * @module
 */

import { crc32 } from "node:zlib";
import { bytesToBinary } from "../bytes/binary_string.ts";
import { pad8, readU32, readU53 } from "./_bytes.ts";
import {
  RECORD_BODY_FIXED_BYTES,
  RECORD_HEADER_BYTES,
  RECORD_MAX_BODY_BYTES,
  RECORD_MAX_FRAME_BYTES,
} from "./encoder.ts";
import { entryProblem, isWalOp, WAL_KNOWN_FLAGS, WalOp, type WalRecord } from "./record.ts";

/**
 * A decoded record plus its CRC, which seeds the next record's check.
 *
 * @example
 * ```ts
 * const out: DecodedRecord = newDecodedRecord();
 * ```
 */
export interface DecodedRecord extends WalRecord {
  crc: number;
  flags: number;
}

/**
 * A fresh, reusable output object for {@link decodeRecord}.
 *
 * @example
 * ```ts
 * const out = newDecodedRecord(); // lsn 0, op 0, empty key/value
 * ```
 */
export function newDecodedRecord(): DecodedRecord {
  return { lsn: 0, op: 0, db: 0, flags: 0, key: "", value: "", expiresAtMs: 0, crc: 0 };
}

/**
 * Returned when the frame at the offset is not complete in the bytes given:
 * read more, or (at end of file) the frame is cut short.
 *
 * @example
 * ```ts
 * if (decodeRecord(buf, at, end, seed, out) === DECODE_INCOMPLETE) refill();
 * ```
 */
export const DECODE_INCOMPLETE = 0;

/**
 * Returned when the length field at the offset is zero: never written by
 * the encoder (a body has at least 24 bytes), it is the preallocated, still
 * unwritten part of a segment (`_durable_file.ts`) — the end of its records
 * if every byte after it is zero too.
 *
 * @example
 * ```ts
 * if (decodeRecord(buf, at, end, seed, out) === DECODE_ZERO_FILL) endOfRecords();
 * ```
 */
export const DECODE_ZERO_FILL = -100;

/**
 * Negative results of {@link decodeRecord}: what is wrong with a frame.
 *
 * @example
 * ```ts
 * if (code === DecodeError.BadChecksum) console.log("bit rot or foreign record");
 * ```
 */
export const DecodeError = {
  BadLength: -1,
  BadChecksum: -2,
  BadOp: -3,
  BadReserved: -4,
  BadLsn: -5,
  BadKeyLength: -6,
  BadExpiry: -7,
  BadPadding: -8,
  BadFields: -9,
} as const;

const DESCRIPTIONS: Record<number, string> = {
  [DECODE_INCOMPLETE]: "record cut short at end of file",
  [DECODE_ZERO_FILL]: "zero-filled (unwritten) bytes where a record was expected",
  [DecodeError.BadLength]: "impossible record length",
  [DecodeError.BadChecksum]: "checksum mismatch",
  [DecodeError.BadOp]: "unknown op code",
  [DecodeError.BadReserved]: "reserved bytes not zero",
  [DecodeError.BadLsn]: "LSN out of range",
  [DecodeError.BadKeyLength]: "key length exceeds record length",
  [DecodeError.BadExpiry]: "expiry time out of range",
  [DecodeError.BadPadding]: "padding bytes not zero",
  [DecodeError.BadFields]: "fields not valid for the op",
};

/**
 * Human-readable meaning of a {@link decodeRecord} result code.
 *
 * @example
 * ```ts
 * describeDecodeResult(DecodeError.BadChecksum); // "checksum mismatch"
 * ```
 */
export function describeDecodeResult(code: number): string {
  return DESCRIPTIONS[code] ?? `decode result ${code}`;
}

/**
 * Checks everything about the frame at `buf[offset]` except its checksum
 * and returns its size, {@link DECODE_INCOMPLETE} if it extends past `end`,
 * {@link DECODE_ZERO_FILL} for a zero length field, or a
 * {@link DecodeError}. Recovery also uses it to spot a plausible frame in
 * damaged bytes.
 *
 * @example
 * ```ts
 * const n = checkFrame(buf, 0, buf.length); // > 0: a well-formed frame of n bytes
 * ```
 */
export function checkFrame(buf: Uint8Array, offset: number, end: number): number {
  if (end - offset < 8) return DECODE_INCOMPLETE;
  const bodyBytes = readU32(buf, offset);
  if (bodyBytes === 0) return DECODE_ZERO_FILL;
  if (bodyBytes < RECORD_BODY_FIXED_BYTES || bodyBytes > RECORD_MAX_BODY_BYTES) {
    return DecodeError.BadLength;
  }
  const frame = 8 + pad8(bodyBytes);
  if (end - offset < frame) return DECODE_INCOMPLETE;
  if (!isWalOp(buf[offset + 16])) return DecodeError.BadOp;
  if ((buf[offset + 19] & ~WAL_KNOWN_FLAGS) !== 0) return DecodeError.BadReserved;
  if (readU53(buf, offset + 8) < 1) return DecodeError.BadLsn;
  if (readU32(buf, offset + 20) > bodyBytes - RECORD_BODY_FIXED_BYTES) {
    return DecodeError.BadKeyLength;
  }
  if (readU53(buf, offset + 24) < 0) return DecodeError.BadExpiry;
  for (let p = offset + 8 + bodyBytes; p < offset + frame; p++) {
    if (buf[p] !== 0) return DecodeError.BadPadding;
  }
  return frame;
}

/**
 * Whether the stored CRC of the well-formed frame at `offset` matches its
 * body checksummed from `seedCrc`.
 *
 * @example
 * ```ts
 * crcMatches(buf, 0, previousCrc); // false for a record from another history
 * ```
 */
export function crcMatches(
  buf: Uint8Array,
  offset: number,
  seedCrc: number,
): boolean {
  const bodyBytes = readU32(buf, offset);
  const crc = crc32(buf.subarray(offset + 8, offset + 8 + bodyBytes), seedCrc);
  return crc === readU32(buf, offset + 4);
}

/**
 * Decodes the frame at `buf[offset]` (complete frames only, up to `end`)
 * into `out`, verifying the chained CRC from `seedCrc`. Returns the frame
 * size (> 0), {@link DECODE_INCOMPLETE}, {@link DECODE_ZERO_FILL}, or a
 * {@link DecodeError}; `out` is only meaningful after a positive result.
 * LSN contiguity is the caller's check: it knows which LSN comes next.
 *
 * @example
 * ```ts
 * let at = 0, seed = header.seedCrc;
 * for (let n; (n = decodeRecord(buf, at, buf.length, seed, out)) > 0; at += n) seed = out.crc;
 * ```
 */
export function decodeRecord(
  buf: Uint8Array,
  offset: number,
  end: number,
  seedCrc: number,
  out: DecodedRecord,
): number {
  const frame = checkFrame(buf, offset, end);
  if (frame <= 0) return frame;
  if (!crcMatches(buf, offset, seedCrc)) return DecodeError.BadChecksum;
  const bodyBytes = readU32(buf, offset);
  const keyBytes = readU32(buf, offset + 20);
  const keyStart = offset + RECORD_HEADER_BYTES;
  const valueStart = keyStart + keyBytes;
  const valueEnd = offset + 8 + bodyBytes;
  const op = buf[offset + 16];
  const expiresAtMs = readU53(buf, offset + 24);
  // The encoder never writes fields an op does not use; a record with them
  // passed its CRC, so it was written by something else, not torn by a crash.
  if (
    op === WalOp.HashSet
      ? expiresAtMs > valueEnd - valueStart
      : op === WalOp.ZsetAdd
      ? expiresAtMs !== 0 || valueEnd - valueStart < 8
      : op !== WalOp.Set &&
        entryProblem(op, keyBytes > 0 ? "k" : "", valueEnd > valueStart ? "v" : "", expiresAtMs) !==
          undefined
  ) {
    return DecodeError.BadFields;
  }
  out.lsn = readU53(buf, offset + 8);
  out.op = op;
  out.db = buf[offset + 17] | (buf[offset + 18] << 8);
  out.flags = buf[offset + 19];
  out.key = keyBytes === 0 ? "" : bytesToBinary(buf, keyStart, valueStart);
  out.value = valueEnd === valueStart ? "" : bytesToBinary(buf, valueStart, valueEnd);
  out.expiresAtMs = expiresAtMs;
  out.crc = readU32(buf, offset + 4);
  return frame;
}

/**
 * A buffer that can hold the whole frame starting at `buf[0]`, of which
 * `buf[0, end)` is read: `buf` itself, or a larger copy (doubling, at most
 * the largest frame). For readers that refill a chunk buffer.
 *
 * @example
 * ```ts
 * buf = bufferForFrame(buf, end); // then read on into buf[end..]
 * ```
 */
export function bufferForFrame(buf: Uint8Array, end: number): Uint8Array {
  if (end < 8) return buf;
  // checkFrame rejects lengths above the limit before a caller reads on.
  const need = 8 + pad8(readU32(buf, 0));
  if (need <= buf.length) return buf;
  const grown = new Uint8Array(Math.min(Math.max(need, buf.length * 2), RECORD_MAX_FRAME_BYTES));
  grown.set(buf.subarray(0, end));
  return grown;
}
