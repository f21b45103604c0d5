/**
 * A batch: encoded frames waiting to be written by one write+fsync, in one
 * reused, growable buffer.
 *
 * @module
 */

import { assert } from "../_assert.ts";
import { RECORD_MAX_FRAME_BYTES } from "./encoder.ts";

/**
 * A batch this large is flushed as if it had reached `batchSize`, so one
 * write stays a size the kernel handles in one go.
 *
 * @example
 * ```ts
 * WAL_BATCH_FLUSH_BYTES; // 1 MiB
 * ```
 */
export const WAL_BATCH_FLUSH_BYTES = 1024 * 1024;

/**
 * The most one write can hold: a batch reaching `WAL_BATCH_FLUSH_BYTES`
 * plus the record that took it there. Recovery bounds a torn write by it.
 *
 * @example
 * ```ts
 * WAL_MAX_WRITE_BYTES > WAL_BATCH_FLUSH_BYTES; // true
 * ```
 */
export const WAL_MAX_WRITE_BYTES = WAL_BATCH_FLUSH_BYTES + RECORD_MAX_FRAME_BYTES;

/**
 * Initial (and, after a large batch, restored) buffer size.
 *
 * @example
 * ```ts
 * new Batch().buf.length === BATCH_INITIAL_BYTES; // true
 * ```
 */
export const BATCH_INITIAL_BYTES = 64 * 1024;

/**
 * A buffer that grew past this is dropped after its batch, so one burst of
 * large values does not pin memory for the life of the process.
 *
 * @example
 * ```ts
 * if (batch.buf.length > BATCH_RETAINED_BYTES) batch.reset(); // drops the big buffer
 * ```
 */
export const BATCH_RETAINED_BYTES = 4 * 1024 * 1024;

/**
 * Where the batch must continue in a new segment (rotation).
 *
 * @example
 * ```ts
 * batch.cuts.push({ offset: batch.bytes, firstLsn: lsn, seedCrc: lastCrc });
 * ```
 */
export interface SegmentCut {
  /** Offset in the batch buffer of the first frame of the new segment. */
  offset: number;
  /** LSN of that frame (the segment's first LSN, and its name). */
  firstLsn: number;
  /** CRC of the frame before it (the segment header's seed). */
  seedCrc: number;
}

/**
 * Frames of one batch and who waits for them.
 *
 * @example
 * ```ts
 * const batch = new Batch();
 * batch.reserve(frameBytes(1, 1), WAL_MAX_PENDING_BYTES);
 * ```
 */
export class Batch {
  buf: Uint8Array = new Uint8Array(BATCH_INITIAL_BYTES);
  bytes = 0;
  records = 0;
  firstLsn = 0;
  lastLsn = 0;
  /** CRC of the last record (the next record's seed). */
  lastCrc = 0;
  startedMs = 0;
  /** Usually empty: only a batch that crosses `maxSegmentBytes` has cuts. */
  readonly cuts: SegmentCut[] = [];
  /** Created by the first `commit()` that waits for this batch. */
  done: PromiseWithResolvers<void> | undefined = undefined;

  /**
   * Makes room for `frameBytes` more bytes, doubling (amortized O(1) per
   * byte) but never past `maxBytes`, which the caller has checked `bytes +
   * frameBytes` against.
   */
  reserve(frameBytes: number, maxBytes: number): void {
    const need = this.bytes + frameBytes;
    if (need <= this.buf.length) return;
    assert(need <= maxBytes, "batch reserve beyond its limit");
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(Math.min(size, maxBytes));
    grown.set(this.buf.subarray(0, this.bytes));
    this.buf = grown;
  }

  /** Empties the batch for reuse; drops an oversized buffer. */
  reset(): void {
    this.bytes = 0;
    this.records = 0;
    this.firstLsn = 0;
    this.lastLsn = 0;
    this.lastCrc = 0;
    this.startedMs = 0;
    this.cuts.length = 0;
    this.done = undefined;
    if (this.buf.length > BATCH_RETAINED_BYTES) this.buf = new Uint8Array(BATCH_INITIAL_BYTES);
  }
}
