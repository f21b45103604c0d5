/**
 * The replication stream's frames, after the text handshake (see
 * `protocol.ts`). Both directions use the same framing:
 *
 * ```text
 * offset  bytes  field
 * 0       4      body length N, u32 little-endian, 1..MAX_FRAME_BODY_BYTES
 * 4       4      CRC32 (IEEE) of the body
 * 8       N      body: type (1 byte), then the payload of that type
 * ```
 *
 * | type | direction | payload |
 * |---|---|---|
 * | RECORDS (1) | master → slave | u32 count, then per record: u64 lsn, u8 op, u16 db, u8 flags, u64 expiresAtMs, u32 keyLen, key, u32 valueLen, value |
 * | HEARTBEAT (2) | master → slave | u64 master's durable LSN, u64 master's clock (Unix ms) |
 * | ACK (3) | slave → master | u64 slave's durable LSN |
 *
 * u64 fields hold integers below 2^53 (two u32 words, low first). TCP
 * checksums are weak and bugs are not: the CRC makes any corruption a
 * reconnect, never a wrong record applied.
 *
 * @example
 * ```ts
 * const out = new OutBuffer();
 * encodeHeartbeat(out, 42, Date.now());
 * const decoder = new FrameDecoder();
 * decoder.push(out.view());
 * decoder.next()?.type; // FrameType.Heartbeat
 * ```
 * @module
 */

import { crc32 } from "node:zlib";
import { bytesToBinary, writeBinary } from "../bytes/binary_string.ts";
import type { OutBuffer } from "../protocol/out_buffer.ts";
import type { WalRecord } from "../wal/record.ts";

/** Frame types. */
export const FrameType = { Records: 1, Heartbeat: 2, Ack: 3 } as const;

/** Largest frame body: one record of the largest size plus room. */
export const MAX_FRAME_BODY_BYTES = 80 * 1024 * 1024;
/** Largest frame a replica sends (an ACK's body is 9 bytes). */
export const MAX_REPLICA_FRAME_BODY_BYTES = 64;
/** A RECORDS frame is closed once its body passes this many bytes. */
export const RECORDS_FRAME_TARGET_BYTES = 256 * 1024;

const FRAME_HEADER_BYTES = 8;
const TWO_POW_32 = 0x1_0000_0000;

/** A decoded frame. */
export type Frame =
  | { type: typeof FrameType.Records; records: WalRecord[] }
  | { type: typeof FrameType.Heartbeat; durableLsn: number; clockMs: number }
  | { type: typeof FrameType.Ack; durableLsn: number };

/** The stream broke its format; the connection must be dropped. */
export class FrameError extends Error {}

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

function getU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>>
    0;
}

function putU64(out: Uint8Array, at: number, v: number): void {
  putU32(out, at, v % TWO_POW_32);
  putU32(out, at + 4, Math.floor(v / TWO_POW_32));
}

function getU64(bytes: Uint8Array, at: number): number {
  return getU32(bytes, at) + getU32(bytes, at + 4) * TWO_POW_32;
}

/**
 * Builds one frame in `out`: reserve the header, let `fill` append the body
 * (type byte first), then write length and CRC.
 */
function frame(out: OutBuffer, fill: (body: BodyWriter) => void): void {
  const start = out.length;
  out.reserve(FRAME_HEADER_BYTES);
  for (let i = 0; i < FRAME_HEADER_BYTES; i++) out.byte(0);
  fill(new BodyWriter(out));
  const bytes = out.view();
  const bodyBytes = bytes.length - start - FRAME_HEADER_BYTES;
  if (bodyBytes > MAX_FRAME_BODY_BYTES) {
    throw new RangeError(`frame body of ${bodyBytes} bytes over ${MAX_FRAME_BODY_BYTES}`);
  }
  putU32(bytes, start, bodyBytes);
  putU32(bytes, start + 4, crc32(bytes.subarray(start + FRAME_HEADER_BYTES)));
}

class BodyWriter {
  readonly #scratch = new Uint8Array(8);
  constructor(readonly out: OutBuffer) {}
  u8(v: number): void {
    this.out.byte(v);
  }
  u32(v: number): void {
    putU32(this.#scratch, 0, v);
    this.out.bytes(this.#scratch.subarray(0, 4));
  }
  u64(v: number): void {
    putU64(this.#scratch, 0, v);
    this.out.bytes(this.#scratch);
  }
  binary(s: string): void {
    this.u32(s.length);
    this.out.binary(s);
  }
}

/**
 * Appends a RECORDS frame holding `records` (in LSN order).
 *
 * @example
 * ```ts
 * encodeRecords(out, [{ lsn: 1, op: 1, db: 0, key: "k", value: "v", expiresAtMs: 0 }]);
 * ```
 */
export function encodeRecords(out: OutBuffer, records: readonly WalRecord[]): void {
  frame(out, (w) => {
    w.u8(FrameType.Records);
    w.u32(records.length);
    for (const r of records) {
      w.u64(r.lsn);
      w.u8(r.op);
      w.u8(r.db & 0xff);
      w.u8(r.db >>> 8);
      w.u8(r.flags ?? 0);
      w.u64(r.expiresAtMs);
      w.binary(r.key);
      w.binary(r.value);
    }
  });
}

/**
 * Bytes of one record in a RECORDS frame besides its key and value: LSN
 * (u64), op (u8), database (u16 as two u8), flags (u8), expiry (u64), and
 * the key's and the value's lengths (u32 each), as {@link encodeRecords}
 * writes them.
 */
export const RECORD_FIXED_BYTES = 28;
/** Where a record's flags byte is, from its start. */
export const RECORD_FLAGS_OFFSET = 11;

/**
 * Writes one record at `at` in `out` exactly as {@link encodeRecords}
 * does inside its frame (`RECORD_FIXED_BYTES` + key + value bytes; the
 * caller made room), for a copy that is framed later
 * ({@link encodeEncodedRecords}); returns the offset after it.
 *
 * @example
 * ```ts
 * const end = writeRecord(chunk, 0, 7, WalOp.Set, 0, 0, "k", "v", 0);
 * ```
 */
export function writeRecord(
  out: Uint8Array,
  at: number,
  lsn: number,
  op: number,
  db: number,
  flags: number,
  key: string,
  value: string,
  expiresAtMs: number,
): number {
  putU64(out, at, lsn);
  out[at + 8] = op;
  out[at + 9] = db & 0xff;
  out[at + 10] = db >>> 8;
  out[at + RECORD_FLAGS_OFFSET] = flags;
  putU64(out, at + 12, expiresAtMs);
  putU32(out, at + 20, key.length);
  at = writeBinary(key, out, at + 24);
  putU32(out, at, value.length);
  return writeBinary(value, out, at + 4);
}

/**
 * Appends a RECORDS frame of `count` records that `copy` appends already
 * encoded (by {@link writeRecord}).
 *
 * @example
 * ```ts
 * encodeEncodedRecords(out, 1, (body) => body.bytesRange(chunk, 0, end));
 * ```
 */
export function encodeEncodedRecords(
  out: OutBuffer,
  count: number,
  copy: (body: OutBuffer) => void,
): void {
  frame(out, (w) => {
    w.u8(FrameType.Records);
    w.u32(count);
    copy(w.out);
  });
}

/**
 * Appends a HEARTBEAT frame.
 *
 * @example
 * ```ts
 * encodeHeartbeat(out, wal.durableLsn, Date.now());
 * ```
 */
export function encodeHeartbeat(out: OutBuffer, durableLsn: number, clockMs: number): void {
  frame(out, (w) => {
    w.u8(FrameType.Heartbeat);
    w.u64(durableLsn);
    w.u64(clockMs);
  });
}

/**
 * Appends an ACK frame.
 *
 * @example
 * ```ts
 * encodeAck(out, wal.durableLsn);
 * ```
 */
export function encodeAck(out: OutBuffer, durableLsn: number): void {
  frame(out, (w) => {
    w.u8(FrameType.Ack);
    w.u64(durableLsn);
  });
}

/**
 * Reassembles frames from stream bytes of any chunking.
 *
 * @example
 * ```ts
 * decoder.push(chunk);
 * for (let f = decoder.next(); f; f = decoder.next()) handle(f);
 * ```
 */
export class FrameDecoder {
  #buffer = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  readonly #maxBodyBytes: number;

  /**
   * `maxBodyBytes` bounds what a peer can make this side buffer: a master
   * reading ACKs expects only tiny frames.
   */
  constructor(maxBodyBytes = MAX_FRAME_BODY_BYTES) {
    this.#maxBodyBytes = Math.min(maxBodyBytes, MAX_FRAME_BODY_BYTES);
  }

  /** Adds received bytes. */
  push(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buffer.length) {
      const used = this.#end - this.#start;
      const needed = used + chunk.length;
      if (needed > this.#buffer.length) {
        let capacity = this.#buffer.length;
        while (capacity < needed) capacity *= 2;
        const grown = new Uint8Array(capacity);
        grown.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = grown;
      } else {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = used;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Bytes received but not yet part of a returned frame. */
  get bufferedBytes(): number {
    return this.#end - this.#start;
  }

  /** The next complete frame, or undefined; throws {@link FrameError}. */
  next(): Frame | undefined {
    if (this.#end - this.#start < FRAME_HEADER_BYTES) return undefined;
    const bytes = this.#buffer;
    const bodyBytes = getU32(bytes, this.#start);
    if (bodyBytes < 1 || bodyBytes > this.#maxBodyBytes) {
      throw new FrameError(`frame body length ${bodyBytes} out of range`);
    }
    const bodyStart = this.#start + FRAME_HEADER_BYTES;
    const bodyEnd = bodyStart + bodyBytes;
    if (bodyEnd > this.#end) return undefined;
    const body = bytes.subarray(bodyStart, bodyEnd);
    if (crc32(body) !== getU32(bytes, this.#start + 4)) {
      throw new FrameError("frame checksum mismatch");
    }
    this.#start = bodyEnd;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return parseBody(body);
  }
}

function parseBody(body: Uint8Array): Frame {
  let at = 1;
  const need = (n: number) => {
    if (at + n > body.length) throw new FrameError("frame body truncated");
  };
  const u8 = () => {
    need(1);
    return body[at++];
  };
  const u32 = () => {
    need(4);
    const v = getU32(body, at);
    at += 4;
    return v;
  };
  const u64 = () => {
    need(8);
    const v = getU64(body, at);
    at += 8;
    return v;
  };
  const binary = () => {
    const length = u32();
    need(length);
    const s = bytesToBinary(body, at, at + length);
    at += length;
    return s;
  };
  let result: Frame;
  switch (body[0]) {
    case FrameType.Records: {
      const count = u32();
      if (count > body.length) throw new FrameError(`record count ${count} impossible`);
      const records: WalRecord[] = [];
      for (let i = 0; i < count; i++) {
        const lsn = u64();
        const op = u8();
        const db = u8() | (u8() << 8);
        const flags = u8();
        const expiresAtMs = u64();
        const key = binary();
        const value = binary();
        records.push({ lsn, op, db, flags, key, value, expiresAtMs });
      }
      result = { type: FrameType.Records, records };
      break;
    }
    case FrameType.Heartbeat:
      result = { type: FrameType.Heartbeat, durableLsn: u64(), clockMs: u64() };
      break;
    case FrameType.Ack:
      result = { type: FrameType.Ack, durableLsn: u64() };
      break;
    default:
      throw new FrameError(`unknown frame type ${body[0]}`);
  }
  if (at !== body.length) throw new FrameError("frame body has trailing bytes");
  return result;
}
