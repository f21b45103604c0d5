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
 *   4   2  format version (1)
 *   6   2  header size (64)
 *   8   8  LSN: the state is this file plus the WAL after this LSN
 *  16   8  key count
 *  24   8  created at, Unix ms
 *  32  20  replication id (40 hex digits as 20 bytes; zeros when none)
 *  52   8  reserved, zero
 *  60   4  CRC32 of bytes 0..60
 * blocks, each
 *   0   4  body size N, 1..MAX_BLOCK_BYTES (0 ends the blocks)
 *   4   4  CRC32 of the body, seeded with the previous block's CRC (the
 *          first with the CRC32 of header bytes 0..16: magic, version,
 *          size, LSN), so blocks cannot be reordered, lost or borrowed from
 *          another snapshot unnoticed
 *   8   N  entries: u32 key size, u32 value size, u64 expiresAtMs (0:
 *          none), key bytes, value bytes
 * end
 *   0   4  zero
 *   4   4  CRC32 of the 8-byte key count, seeded with the last block's CRC
 * ```
 *
 * A file is written as `<name>.tmp`, fsynced, renamed into place and the
 * directory fsynced, so a crash never leaves a partial file under a
 * snapshot's name. The header is written last (it holds the key count), at
 * offset 0, before that fsync.
 *
 * @example
 * ```ts
 * const writer = await SnapshotWriter.create(dir, 42, replid, Date.now());
 * writer.add("k", "v", 0);
 * const done = await writer.finish(); // { path, bytes, keys }
 * ```
 * @module
 */

import { crc32 } from "node:zlib";
import { join } from "node:path";
import { writeBinary } from "../bytes/binary_string.ts";
import { writeAll } from "../bytes/io.ts";
import { syncDir } from "../wal/segment.ts";

/** The file's first four bytes. */
export const SNAPSHOT_MAGIC = "KSNP";
/** The format this kvdb writes and reads. */
export const SNAPSHOT_FORMAT_VERSION = 1;
/** Header size in bytes. */
export const SNAPSHOT_HEADER_BYTES = 64;
/** A block is written once its body reaches this size. */
export const SNAPSHOT_BLOCK_TARGET_BYTES = 64 * 1024;
/** Largest block body (one entry of the largest size fits). */
export const MAX_BLOCK_BYTES = 80 * 1024 * 1024;
/** Bytes an entry takes besides its key and value. */
export const ENTRY_OVERHEAD_BYTES = 16;

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

function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

/** The seed of the block CRC chain: the CRC32 of header bytes 0..16. */
export function chainSeed(header: Uint8Array): number {
  return crc32(header.subarray(0, 16));
}

/**
 * Writes one snapshot file: entries are buffered into blocks and written
 * as each block fills, so the caller can walk the keyspace in slices and
 * await {@link SnapshotWriter.flush} between them.
 *
 * @example
 * ```ts
 * const writer = await SnapshotWriter.create(dir, lsn, replid, Date.now());
 * for (const [k, v] of slice) writer.add(k, v, 0);
 * await writer.flush();
 * await writer.finish();
 * ```
 */
export class SnapshotWriter {
  readonly #file: Deno.FsFile;
  readonly #dir: string;
  readonly #tmpPath: string;
  readonly #header: SnapshotHeader;
  #block = new Uint8Array(SNAPSHOT_BLOCK_TARGET_BYTES + 1024);
  #blockBytes = 0;
  #crc: number;
  #keys = 0;
  #bytes = SNAPSHOT_HEADER_BYTES;
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
    const header = { lsn, keys: 0, createdMs, replid };
    // A placeholder: the real header (with the key count) goes in last.
    await writeAll(file, encodeHeader(header));
    return new SnapshotWriter(file, dir, tmpPath, header);
  }

  /** Keys added so far. */
  get keys(): number {
    return this.#keys;
  }

  /** Bytes buffered and not yet written. */
  get pendingBytes(): number {
    return this.#blockBytes;
  }

  /** Adds one entry (binary strings; `expiresAtMs` 0 = none). */
  add(key: string, value: string, expiresAtMs: number): void {
    const size = ENTRY_OVERHEAD_BYTES + key.length + value.length;
    if (this.#blockBytes + size > this.#block.length) this.#grow(this.#blockBytes + size);
    const b = this.#block;
    let at = this.#blockBytes;
    le.putU32(b, at, key.length);
    le.putU32(b, at + 4, value.length);
    le.putU64(b, at + 8, expiresAtMs);
    at = writeBinary(key, b, at + ENTRY_OVERHEAD_BYTES);
    at = writeBinary(value, b, at);
    this.#blockBytes = at;
    this.#keys++;
  }

  /** Writes the buffered block if it reached its target size. */
  async flush(): Promise<void> {
    if (this.#blockBytes >= SNAPSHOT_BLOCK_TARGET_BYTES) await this.#writeBlock();
  }

  /**
   * Writes the rest, the end and the final header, fsyncs, renames into
   * place and fsyncs the directory.
   */
  async finish(): Promise<{ path: string; bytes: number; keys: number }> {
    if (this.#blockBytes > 0) await this.#writeBlock();
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
    const path = join(this.#dir, snapshotName(this.#header.lsn));
    await Deno.rename(this.#tmpPath, path);
    await syncDir(this.#dir);
    return { path, bytes: this.#bytes, keys: this.#keys };
  }

  /**
   * Everything {@link finish} does, blocking: for SAVE, which (as in Redis)
   * holds the server until the snapshot is on disk.
   */
  finishSync(): { path: string; bytes: number; keys: number } {
    if (this.#blockBytes > 0) this.#writeBlockSync();
    const end = new Uint8Array(8);
    const count = new Uint8Array(8);
    le.putU64(count, 0, this.#keys);
    le.putU32(end, 4, crc32(count, this.#crc));
    writeAllSync(this.#file, end);
    this.#bytes += end.length;
    this.#file.seekSync(0, Deno.SeekMode.Start);
    writeAllSync(this.#file, encodeHeader({ ...this.#header, keys: this.#keys }));
    this.#file.syncSync();
    this.#file.close();
    this.#done = true;
    const path = join(this.#dir, snapshotName(this.#header.lsn));
    Deno.renameSync(this.#tmpPath, path);
    const dir = Deno.openSync(this.#dir, { read: true });
    try {
      dir.syncSync();
    } finally {
      dir.close();
    }
    return { path, bytes: this.#bytes, keys: this.#keys };
  }

  /** Writes the buffered block if it reached its target size, blocking. */
  flushSync(): void {
    if (this.#blockBytes >= SNAPSHOT_BLOCK_TARGET_BYTES) this.#writeBlockSync();
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
    await Deno.remove(this.#tmpPath).catch(() => {});
  }

  /** The next block's frame: its head and body; advances the CRC chain. */
  #nextBlock(): [Uint8Array, Uint8Array] {
    const body = this.#block.subarray(0, this.#blockBytes);
    if (body.length > MAX_BLOCK_BYTES) throw new RangeError(`block of ${body.length} bytes`);
    const head = new Uint8Array(8);
    le.putU32(head, 0, body.length);
    this.#crc = crc32(body, this.#crc);
    le.putU32(head, 4, this.#crc);
    this.#bytes += head.length + body.length;
    return [head, body];
  }

  #blockWritten(): void {
    this.#blockBytes = 0;
    if (this.#block.length > 4 * SNAPSHOT_BLOCK_TARGET_BYTES) {
      this.#block = new Uint8Array(SNAPSHOT_BLOCK_TARGET_BYTES + 1024);
    }
  }

  async #writeBlock(): Promise<void> {
    const [head, body] = this.#nextBlock();
    await writeAll(this.#file, head);
    await writeAll(this.#file, body);
    this.#blockWritten();
  }

  #writeBlockSync(): void {
    const [head, body] = this.#nextBlock();
    writeAllSync(this.#file, head);
    writeAllSync(this.#file, body);
    this.#blockWritten();
  }

  #grow(needed: number): void {
    const grown = new Uint8Array(Math.max(needed, this.#block.length * 2));
    grown.set(this.#block.subarray(0, this.#blockBytes));
    this.#block = grown;
  }
}
