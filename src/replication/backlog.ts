/**
 * The master's replication backlog: the most recent log records, kept in
 * memory so that replicas that are keeping up are fed without reading the
 * segment files back (a replica further behind is served from the files).
 *
 * It sits between the store and the WAL as a {@link LogWriter}: every
 * record the store appends passes through it, in LSN order. It keeps at most
 * about `maxBytes` of records (oldest dropped first, a chunk at a time), and
 * only while it is active: from the first replica's arrival until it is
 * released, as Redis creates its backlog for the first replica and frees it
 * `repl-backlog-ttl` after the last one left.
 *
 * The records are kept as the bytes a RECORDS frame carries them in
 * (`frame.ts`'s `writeRecord`), in chunks of {@link CHUNK_BYTES}: a frame
 * is copied out of them, with no object per record. Kept as objects (what
 * it did first), 16 MiB of records were ~200k objects and ~37 MB of heap,
 * promoted to the old generation, whose mark-compacts paused the server
 * 270–290 ms (`--trace-gc`, a 1M-key snapshot under load) and which every
 * write paid for.
 *
 * @example
 * ```ts
 * const backlog = new ReplicationBacklog(wal, 16 * 1024 * 1024);
 * const store = new Store(engine, backlog);
 * backlog.activate(); // a replica arrived
 * backlog.copyFrame(out, firstWanted, wal.durableLsn, 256 * 1024); // next LSN or undefined
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import type { OutBuffer } from "../protocol/out_buffer.ts";
import type { LogWriter } from "../storage/store.ts";
import { WalFlag } from "../wal/record.ts";
import {
  encodeEncodedRecords,
  RECORD_FIXED_BYTES,
  RECORD_FLAGS_OFFSET,
  writeRecord,
} from "./frame.ts";

/** Bytes of one chunk; a record larger than this has a chunk of its own. */
export const CHUNK_BYTES = 1 << 20;

/** Consecutive records, encoded back to back. */
interface Chunk {
  bytes: Uint8Array;
  used: number;
  firstLsn: number;
  count: number;
  /** Where each record starts in `bytes`, in LSN order from `firstLsn`. */
  starts: Int32Array;
}

/**
 * A LogWriter that remembers what it writes.
 *
 * @example
 * ```ts
 * new ReplicationBacklog(wal, 1 << 24).append(1, 0, "k", "v", 0);
 * ```
 */
export class ReplicationBacklog implements LogWriter {
  readonly #log: LogWriter;
  readonly #maxBytes: number;
  /** Oldest first. */
  #chunks: Chunk[] = [];
  /** A dropped chunk's bytes, reused by the next chunk of that size. */
  #spare: Uint8Array | undefined;
  #bytes = 0;
  #groupDepth = 0;
  #groupRecords = 0;
  #active = false;

  constructor(log: LogWriter, maxBytes: number) {
    this.#log = log;
    this.#maxBytes = maxBytes;
  }

  /** Bytes of the records kept (memory accounting). */
  get bytes(): number {
    return this.#bytes;
  }

  get lastLsn(): number {
    return this.#log.lastLsn;
  }

  get durableLsn(): number {
    return this.#log.durableLsn;
  }

  commit(): Promise<void> {
    return this.#log.commit();
  }

  append(op: number, db: number, key: string, value: string, expiresAtMs: number): number {
    const lsn = this.#log.append(op, db, key, value, expiresAtMs);
    if (!this.#active) return lsn;
    // As the log does (wal.ts): the record before, in the same group, continues.
    if (this.#groupDepth > 0 && this.#groupRecords++ > 0) this.#markContinues(lsn - 1);
    this.#remember(lsn, op, db, key, value, expiresAtMs, 0);
    return lsn;
  }

  beginGroup(): void {
    if (this.#groupDepth++ === 0) this.#groupRecords = 0;
    this.#log.beginGroup();
  }

  endGroup(): void {
    this.#groupDepth--;
    this.#log.endGroup();
  }

  /** As the log's (wal.ts): the group's last record continues, so the group stays torn. */
  abandonGroup(): void {
    this.#groupDepth--;
    if (this.#groupRecords > 0) {
      const last = this.#lastRemembered();
      if (last !== undefined) this.#markContinues(last);
    }
    this.#log.abandonGroup?.();
  }

  appendAt(
    lsn: number,
    op: number,
    db: number,
    key: string,
    value: string,
    expiresAtMs: number,
    flags = 0,
  ): number {
    this.#log.appendAt(lsn, op, db, key, value, expiresAtMs, flags);
    if (this.#active) this.#remember(lsn, op, db, key, value, expiresAtMs, flags);
    return lsn;
  }

  async discardAll(): Promise<void> {
    await this.#log.discardAll();
    this.clear();
  }

  async truncateAfter(lsn: number, why: string): Promise<string> {
    const backup = await this.#log.truncateAfter(lsn, why);
    // Records kept in memory past the cut would be sent to replicas.
    this.clear();
    return backup;
  }

  /**
   * Starts keeping records (a replica arrived); the records before this
   * are read from the segment files.
   */
  activate(): void {
    this.#active = true;
  }

  /** Forgets every record and keeps none until {@link activate}. */
  release(): void {
    this.#active = false;
    this.clear();
    this.#spare = undefined;
  }

  /** Whether it keeps records. */
  get active(): boolean {
    return this.#active;
  }

  /** LSN of the oldest record kept, or undefined when empty. */
  get firstLsn(): number | undefined {
    return this.#chunks.length === 0 ? undefined : this.#chunks[0].firstLsn;
  }

  /**
   * Appends to `out` a RECORDS frame of the records from `fromLsn` up to
   * `toLsn`, at most about `maxBytes` of them (at least one; a group is
   * never split: a frame ends at a group's end, so a replica applies groups
   * whole); returns the LSN after the last one, or undefined (nothing
   * appended) if `fromLsn` is no longer, or not yet, kept.
   */
  copyFrame(out: OutBuffer, fromLsn: number, toLsn: number, maxBytes: number): number | undefined {
    const last = this.#lastRemembered();
    const first = this.firstLsn;
    if (first === undefined || last === undefined) return undefined;
    if (fromLsn < first || fromLsn > toLsn || fromLsn > last) return undefined;
    const c = this.#chunkIndexOf(fromLsn);
    // First pass: how many records, so the frame's count precedes them.
    const endLsn = Math.min(toLsn, last);
    let lsn = fromLsn;
    let bytes = 0;
    let continues = false;
    for (let k = c; k < this.#chunks.length && lsn <= endLsn; k++) {
      const chunk = this.#chunks[k];
      for (let i = lsn - chunk.firstLsn; i < chunk.count && lsn <= endLsn; i++, lsn++) {
        if (bytes >= maxBytes && !continues) break;
        const start = chunk.starts[i];
        bytes += (i + 1 < chunk.count ? chunk.starts[i + 1] : chunk.used) - start;
        continues = (chunk.bytes[start + RECORD_FLAGS_OFFSET] & WalFlag.Continues) !== 0;
      }
      if (bytes >= maxBytes && !continues) break;
    }
    const endExclusive = lsn;
    encodeEncodedRecords(out, endExclusive - fromLsn, (body) => {
      let at = fromLsn;
      for (let k = c; at < endExclusive; k++) {
        const chunk = this.#chunks[k];
        const i = at - chunk.firstLsn;
        const j = Math.min(chunk.count, endExclusive - chunk.firstLsn);
        body.bytesRange(
          chunk.bytes,
          chunk.starts[i],
          j < chunk.count ? chunk.starts[j] : chunk.used,
        );
        at = chunk.firstLsn + j;
      }
    });
    return endExclusive;
  }

  /** Forgets everything (the log was discarded). */
  clear(): void {
    this.#chunks = [];
    this.#bytes = 0;
  }

  #lastRemembered(): number | undefined {
    const tail = this.#chunks[this.#chunks.length - 1];
    return tail === undefined ? undefined : tail.firstLsn + tail.count - 1;
  }

  /** The index of the chunk holding `lsn`, or -1 if it is not kept; newest first, as callers want. */
  #chunkIndexOf(lsn: number): number {
    for (let c = this.#chunks.length - 1; c >= 0; c--) {
      const chunk = this.#chunks[c];
      if (lsn >= chunk.firstLsn) return lsn < chunk.firstLsn + chunk.count ? c : -1;
    }
    return -1;
  }

  #markContinues(lsn: number): void {
    const c = this.#chunkIndexOf(lsn);
    if (c < 0) return;
    const chunk = this.#chunks[c];
    chunk.bytes[chunk.starts[lsn - chunk.firstLsn] + RECORD_FLAGS_OFFSET] |= WalFlag.Continues;
  }

  #remember(
    lsn: number,
    op: number,
    db: number,
    key: string,
    value: string,
    expiresAtMs: number,
    flags: number,
  ): void {
    const last = this.#lastRemembered();
    // A gap (a replica starting over elsewhere) makes older records useless.
    if (last !== undefined && lsn !== last + 1) this.clear();
    const size = RECORD_FIXED_BYTES + key.length + value.length;
    let tail = this.#chunks[this.#chunks.length - 1];
    if (tail === undefined || tail.used + size > tail.bytes.length) {
      tail = this.#newChunk(lsn, size);
      this.#chunks.push(tail);
    }
    if (tail.count === tail.starts.length) {
      const grown = new Int32Array(tail.starts.length * 2);
      grown.set(tail.starts);
      tail.starts = grown;
    }
    tail.starts[tail.count++] = tail.used;
    const end = writeRecord(tail.bytes, tail.used, lsn, op, db, flags, key, value, expiresAtMs);
    assert(end === tail.used + size, "a backlog record is the size it was given");
    tail.used = end;
    this.#bytes += size;
    while (this.#bytes > this.#maxBytes && this.#chunks.length > 1) {
      const old = this.#chunks.shift()!;
      this.#bytes -= old.used;
      if (old.bytes.length === CHUNK_BYTES) this.#spare = old.bytes;
    }
  }

  #newChunk(firstLsn: number, size: number): Chunk {
    let bytes: Uint8Array;
    if (size <= CHUNK_BYTES && this.#spare !== undefined) {
      bytes = this.#spare;
      this.#spare = undefined;
    } else {
      bytes = new Uint8Array(Math.max(CHUNK_BYTES, size));
    }
    return { bytes, used: 0, firstLsn, count: 0, starts: new Int32Array(1024) };
  }
}
