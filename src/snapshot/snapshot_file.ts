/**
 * Snapshot files: the whole keyspace (values and expiry times) as of an
 * LSN. The keyspace is that file plus every WAL record after its LSN (log
 * effects are idempotent, so records the walk already saw are harmless).
 *
 * Byte layout (integers little-endian; u64 fields hold integers < 2^53):
 *
 * ```text
 * header, 64 bytes
 *   0   4  magic "KSNP"
 *   4   2  format version (3; 1 and 2 are still read)
 *   6   2  header size (64)
 *   8   8  LSN: the state is this file plus the WAL after this LSN
 *  16   8  entry count (keys, in versions 1 and 2)
 *  24   8  created at, Unix ms
 *  32  20  replication id (40 hex digits as 20 bytes; zeros when none)
 *  52   8  reserved, zero
 *  60   4  CRC32 of bytes 0..60
 * blocks, each
 *   0   4  body size N, 1..MAX_BLOCK_BYTES (80 MiB; 0 ends the blocks)
 *   4   4  CRC32 of the body, seeded with the previous block's CRC (the
 *          first with the CRC32 of header bytes 0..16: magic, version,
 *          size, LSN), so blocks cannot be reordered, lost or borrowed from
 *          another snapshot unnoticed
 *   8   N  entries: u32 key size, u32 value size, u64 expiresAtMs (0:
 *          none), u16 database, u8 type, u8 reserved (0), key bytes,
 *          value bytes (version 1: no database, type or reserved byte —
 *          database 0, a string)
 * entry types
 *   0  string: the value is its bytes
 *   1  hash (version 3): the value is a chunk of fields, each u32 field
 *      size, field bytes, u32 value size, value bytes. A hash takes one or
 *      more consecutive entries of the same key (a big one is written in
 *      chunks of about 64 KiB, so no entry grows with it); the reader adds
 *      each chunk's fields to the key
 *   2  list: a flag byte (1: the first chunk, which starts the list
 *      afresh), 7 reserved bytes (zeros; files of earlier versions hold an
 *      LSN stamp there, ignored), then elements, each u32 size and bytes,
 *      head first
 *   3  set: members, each u32 size and bytes (loading re-encodes by
 *      contents, as an RDB load does)
 *   4  sorted set: members, each u32 size, member bytes, and the score as
 *      an 8-byte little-endian IEEE-754 double
 *   Chunks of one key are consecutive or not (a key saved before a write
 *   during the walk comes out of order, see take_snapshot.ts): the reader
 *   adds each to the key's collection of that type.
 * end
 *   0   4  zero
 *   4   4  CRC32 of the 8-byte key count, seeded with the last block's CRC
 * ```
 *
 * An entry never spans blocks. The writer closes a block before an entry
 * that would take it past 64 KiB, and writes a larger entry as a block of
 * its own; the largest entry the store admits (1 MiB key, 64 MiB value)
 * fits in MAX_BLOCK_BYTES.
 *
 * A file is written as `<name>.tmp`, fsynced, renamed into place and the
 * directory fsynced, so a crash never leaves a partial file under a
 * snapshot's name. The header is written last (it holds the key count), at
 * offset 0, before that fsync.
 *
 * @example
 * ```ts
 * const writer = await SnapshotWriter.create(dir, 42, replid, Date.now());
 * writer.add(0, "k", "v", 0);
 * const done = await writer.finish(); // { path, bytes, keys }
 * ```
 * @module
 */

import { crc32 } from "node:zlib";
import { join } from "node:path";
import { assert } from "../_assert.ts";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from "../storage/store.ts";
import { writeBinary } from "../bytes/binary_string.ts";
import { writeAll } from "../bytes/io.ts";
import { syncDir } from "../wal/segment.ts";

/** The file's first four bytes. */
export const SNAPSHOT_MAGIC = "KSNP";
/** The format this kvdb writes (and the newest it reads; versions 1 and 2 are read too). */
export const SNAPSHOT_FORMAT_VERSION = 3;
/** Entries of version 1 files: no database, no type. */
export const ENTRY_OVERHEAD_BYTES_V1 = 16;
/** Header size in bytes. */
export const SNAPSHOT_HEADER_BYTES = 64;
/**
 * A block closes when the next entry would take it past this size; an
 * entry larger than this is a block of its own.
 */
export const SNAPSHOT_BLOCK_TARGET_BYTES = 64 * 1024;
/**
 * Largest block body the writer writes and the reader accepts: room for
 * the largest entry the store admits (a key of `MAX_KEY_BYTES` and a value
 * of `MAX_VALUE_BYTES`, checked below), so every keyspace the limits admit
 * can be written, and a damaged size field cannot make the reader allocate
 * more. Kept at 80 MiB, what earlier versions accepted, so their files
 * stay readable.
 */
export const MAX_BLOCK_BYTES = 80 * 1024 * 1024;
/** Bytes an entry takes besides its key and value. */
export const ENTRY_OVERHEAD_BYTES = 20;
/** A block's frame head: body size and chained CRC. */
const BLOCK_HEAD_BYTES = 8;
/** The usual block buffer: a frame head and a block of the target size. */
const BLOCK_BUFFER_BYTES = BLOCK_HEAD_BYTES + SNAPSHOT_BLOCK_TARGET_BYTES;
/**
 * Block buffers kept for reuse: what a slice closes between two flushes
 * (a slice stops at 1 MiB, see take_snapshot.ts), so that a snapshot
 * allocates a few buffers, not one per 64 KiB it writes.
 */
const MAX_SPARE_BUFFERS = 32;

assert(
  ENTRY_OVERHEAD_BYTES + MAX_KEY_BYTES + MAX_VALUE_BYTES <= MAX_BLOCK_BYTES,
  "the largest entry the store admits fits in one snapshot block",
);

const TWO_POW_32 = 0x1_0000_0000;

/** Little-endian helpers shared by the writer and the reader. */
export const le = {
  putU32(out: Uint8Array, at: number, v: number): void {
    out[at] = v & 0xff;
    out[at + 1] = (v >>> 8) & 0xff;
    out[at + 2] = (v >>> 16) & 0xff;
    out[at + 3] = (v >>> 24) & 0xff;
  },
  u32(b: Uint8Array, at: number): number {
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  },
  putU64(out: Uint8Array, at: number, v: number): void {
    le.putU32(out, at, v % TWO_POW_32);
    le.putU32(out, at + 4, Math.floor(v / TWO_POW_32));
  },
  u64(b: Uint8Array, at: number): number {
    return le.u32(b, at) + le.u32(b, at + 4) * TWO_POW_32;
  },
};

/** What a snapshot's header says. */
export interface SnapshotHeader {
  /** Format version: 1 (one database, strings) or {@link SNAPSHOT_FORMAT_VERSION}. */
  version: number;
  lsn: number;
  keys: number;
  createdMs: number;
  /** 40 hex digits, or "" when none. */
  replid: string;
}

/**
 * The file name of the snapshot at `lsn`; name order is LSN order.
 *
 * @example
 * ```ts
 * snapshotName(7); // "snapshot-0000000000000007.snap"
 * ```
 */
export function snapshotName(lsn: number): string {
  return `snapshot-${String(lsn).padStart(16, "0")}.snap`;
}

/** The LSN a snapshot file name stands for, or undefined. */
export function parseSnapshotName(name: string): number | undefined {
  const match = /^snapshot-(\d{16,})\.snap$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Encodes a header (64 bytes).
 *
 * @example
 * ```ts
 * encodeHeader({ lsn: 1, keys: 0, createdMs: 0, replid: "" }).length; // 64
 * ```
 */
export function encodeHeader(header: SnapshotHeader): Uint8Array {
  const out = new Uint8Array(SNAPSHOT_HEADER_BYTES);
  writeBinary(SNAPSHOT_MAGIC, out, 0);
  out[4] = SNAPSHOT_FORMAT_VERSION & 0xff;
  out[5] = SNAPSHOT_FORMAT_VERSION >> 8;
  out[6] = SNAPSHOT_HEADER_BYTES;
  le.putU64(out, 8, header.lsn);
  le.putU64(out, 16, header.keys);
  le.putU64(out, 24, header.createdMs);
  if (header.replid !== "") {
    if (!/^[0-9a-f]{40}$/.test(header.replid)) throw new RangeError(`bad replid ${header.replid}`);
    for (let i = 0; i < 20; i++) out[32 + i] = parseInt(header.replid.slice(2 * i, 2 * i + 2), 16);
  }
  le.putU32(out, 60, crc32(out.subarray(0, 60)));
  return out;
}

/** The seed of the block CRC chain: the CRC32 of header bytes 0..16. */
export function chainSeed(header: Uint8Array): number {
  return crc32(header.subarray(0, 16));
}

/**
 * Writes one snapshot file. Entries are packed into blocks as they are
 * added: a block closes when the next entry would take it past
 * {@link SNAPSHOT_BLOCK_TARGET_BYTES}, and an entry larger than that is a
 * block of its own, so no block passes the larger of the two (at most
 * {@link MAX_BLOCK_BYTES}, whatever the caller adds between flushes).
 * Closed blocks wait in memory for {@link SnapshotWriter.flush}: the caller
 * walks the keyspace in slices and flushes between them, bounding what
 * waits by what one slice adds.
 *
 * @example
 * ```ts
 * const writer = await SnapshotWriter.create(dir, lsn, replid, Date.now());
 * for (const [k, v] of slice) writer.add(0, k, v, 0);
 * await writer.flush();
 * await writer.finish();
 * ```
 */
export class SnapshotWriter {
  readonly #file: Deno.FsFile;
  readonly #dir: string;
  readonly #tmpPath: string;
  readonly #header: SnapshotHeader;
  /** The open block: its frame head's 8 bytes, then `#blockBytes` of entries. */
  #block: Uint8Array = new Uint8Array(BLOCK_BUFFER_BYTES);
  #blockBytes = 0;
  /** Closed blocks not yet written, oldest first: a buffer and its frame's length. */
  #closed: { buffer: Uint8Array; frameBytes: number }[] = [];
  #closedBytes = 0;
  /** Written blocks' buffers, kept for the next ones (a slice's worth, see flush). */
  readonly #spares: Uint8Array[] = [];
  #crc: number;
  #keys = 0;
  #bytes = SNAPSHOT_HEADER_BYTES;
  #complete = false;
  #done = false;

  private constructor(file: Deno.FsFile, dir: string, tmpPath: string, header: SnapshotHeader) {
    this.#file = file;
    this.#dir = dir;
    this.#tmpPath = tmpPath;
    this.#header = header;
    this.#crc = chainSeed(encodeHeader(header));
  }

  /** Starts `dir/<name>.tmp` for the state at `lsn`. */
  static async create(
    dir: string,
    lsn: number,
    replid: string,
    createdMs: number,
  ): Promise<SnapshotWriter> {
    const tmpPath = join(dir, `${snapshotName(lsn)}.tmp`);
    const file = await Deno.open(tmpPath, { write: true, create: true, truncate: true });
    const header = { version: SNAPSHOT_FORMAT_VERSION, lsn, keys: 0, createdMs, replid };
    // A placeholder: the real header (with the key count) goes in last.
    await writeAll(file, encodeHeader(header));
    return new SnapshotWriter(file, dir, tmpPath, header);
  }

  /** Keys added so far. */
  get keys(): number {
    return this.#keys;
  }

  /** Bytes added and not yet written. */
  get pendingBytes(): number {
    return this.#closedBytes + this.#blockBytes;
  }

  /**
   * Adds one entry of database `db`: a binary-string key, its value as a
   * binary string or its bytes (a large value, copied as they are now),
   * its expiry (0 = none) and its entry type (0: a string; see the module
   * doc). Throws a RangeError for an entry larger than
   * {@link MAX_BLOCK_BYTES}, which the store's limits never admit.
   */
  add(db: number, key: string, value: string | Uint8Array, expiresAtMs: number, type = 0): void {
    const size = ENTRY_OVERHEAD_BYTES + key.length + value.length;
    if (size > MAX_BLOCK_BYTES) {
      throw new RangeError(`an entry of ${size} bytes exceeds the block limit ${MAX_BLOCK_BYTES}`);
    }
    if (this.#blockBytes > 0 && this.#blockBytes + size > SNAPSHOT_BLOCK_TARGET_BYTES) {
      this.#closeBlock();
    }
    const needed = BLOCK_HEAD_BYTES + this.#blockBytes + size;
    if (needed > this.#block.length) this.#grow(needed);
    const b = this.#block;
    let at = BLOCK_HEAD_BYTES + this.#blockBytes;
    le.putU32(b, at, key.length);
    le.putU32(b, at + 4, value.length);
    le.putU64(b, at + 8, expiresAtMs);
    b[at + 16] = db & 0xff;
    b[at + 17] = db >>> 8;
    b[at + 18] = type; // see "entry types" in the module doc
    b[at + 19] = 0;
    at = writeBinary(key, b, at + ENTRY_OVERHEAD_BYTES);
    if (typeof value === "string") {
      at = writeBinary(value, b, at);
    } else {
      b.set(value, at);
      at += value.length;
    }
    this.#blockBytes = at - BLOCK_HEAD_BYTES;
    this.#keys++;
    if (this.#blockBytes >= SNAPSHOT_BLOCK_TARGET_BYTES) this.#closeBlock();
  }

  /** Writes the closed blocks. */
  async flush(): Promise<void> {
    while (this.#closed.length > 0) {
      const { buffer, frameBytes } = this.#closed.shift()!;
      await writeAll(this.#file, buffer.subarray(0, frameBytes));
      this.#closedBytes -= frameBytes;
      this.#bytes += frameBytes;
      if (buffer.length === BLOCK_BUFFER_BYTES && this.#spares.length < MAX_SPARE_BUFFERS) {
        this.#spares.push(buffer);
      }
    }
  }

  /**
   * Writes the rest, the end record and the final header, and fsyncs: the
   * file is complete under its temporary name, ready for
   * {@link renameIntoPlace}.
   */
  async complete(): Promise<void> {
    if (this.#blockBytes > 0) this.#closeBlock();
    await this.flush();
    const end = new Uint8Array(8);
    const count = new Uint8Array(8);
    le.putU64(count, 0, this.#keys);
    le.putU32(end, 4, crc32(count, this.#crc));
    await writeAll(this.#file, end);
    this.#bytes += end.length;
    const header = encodeHeader({ ...this.#header, keys: this.#keys });
    await this.#file.seek(0, Deno.SeekMode.Start);
    await writeAll(this.#file, header);
    await this.#file.sync();
    this.#file.close();
    this.#done = true;
    this.#complete = true;
  }

  /**
   * Renames the complete file into place, synchronously: a caller that
   * checks whether the snapshot is still wanted right before this call
   * knows nothing ran in between. The directory is not yet fsynced (see
   * {@link finish}).
   */
  renameIntoPlace(): { path: string; bytes: number; keys: number } {
    assert(this.#complete, "a snapshot is complete before it is renamed into place");
    const path = join(this.#dir, snapshotName(this.#header.lsn));
    Deno.renameSync(this.#tmpPath, path);
    return { path, bytes: this.#bytes, keys: this.#keys };
  }

  /**
   * {@link complete}, {@link renameIntoPlace}, then fsyncs the directory so
   * that the rename is durable.
   */
  async finish(): Promise<{ path: string; bytes: number; keys: number }> {
    await this.complete();
    const done = this.renameIntoPlace();
    await syncDir(this.#dir);
    return done;
  }

  /** Abandons the file (a failed or cancelled snapshot). */
  async abort(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      try {
        this.#file.close();
      } catch {
        // Already closed.
      }
    }
    this.#closed = [];
    this.#closedBytes = 0;
    await Deno.remove(this.#tmpPath).catch(() => {});
  }

  /** Closes the open block: fills in its frame head and advances the CRC chain. */
  #closeBlock(): void {
    const size = this.#blockBytes;
    assert(size > 0 && size <= MAX_BLOCK_BYTES, "a closed block holds 1..MAX_BLOCK_BYTES bytes");
    const buffer = this.#block;
    const frameBytes = BLOCK_HEAD_BYTES + size;
    this.#crc = crc32(buffer.subarray(BLOCK_HEAD_BYTES, frameBytes), this.#crc);
    le.putU32(buffer, 0, size);
    le.putU32(buffer, 4, this.#crc);
    this.#closed.push({ buffer, frameBytes });
    this.#closedBytes += frameBytes;
    this.#block = this.#spares.pop() ?? new Uint8Array(BLOCK_BUFFER_BYTES);
    this.#blockBytes = 0;
  }

  /** Room for one entry larger than a block's usual buffer (a block of its own). */
  #grow(needed: number): void {
    const grown = new Uint8Array(needed);
    grown.set(this.#block.subarray(0, BLOCK_HEAD_BYTES + this.#blockBytes));
    this.#block = grown;
  }
}
