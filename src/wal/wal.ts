/**
 * The write-ahead log writer: append records, group-commit them with one
 * durable write per batch, rotate segments, fail loudly and for good.
 *
 * A segment write (`_durable_file.ts`) returns once its bytes are on
 * stable storage: write and fdatasync on the event loop, as Redis does
 * (measured faster here than a sync on a worker thread; the numbers are in
 * that module), into segments preallocated with zeros.
 *
 * ## Group commit
 *
 * `append` only encodes into the filling batch (no I/O) and returns the
 * LSN, so the caller applies the change to memory in exactly WAL order.
 * `commit` returns a promise for the batch holding the last appended record.
 * At most one durable write is in flight (the writer allows a write that
 * completes later; today's write completes before it returns, so requests
 * that arrive during it wait in the socket buffers and join the next batch).
 * A batch is flushed:
 * 1. at once when it reaches `batchSize` records (or 1 MiB), if nothing is
 *    in flight;
 * 2. when the log is idle: its first record, appended while nothing is in
 *    flight, schedules `setImmediate`, which runs once the event loop has
 *    handed out the I/O it already has (every request that one
 *    `epoll_wait` returned: about 31 of the 50 clients under
 *    `redis-benchmark -c 50`). A lone client waits one turn (µs) and one
 *    fsync, never the timeout. Looking again after a further turn gathers
 *    nothing: the loop does not poll the sockets between immediates
 *    (measured: the same fsyncs per request, 31). Waiting longer for a
 *    fuller batch does not pay here: holding each batch until 45 of 50
 *    clients had joined (timer-bounded, the loop asleep meanwhile) cut
 *    fsyncs by a third but dropped 50-client SET/s from 80k to 70k and
 *    raised CPU per request from 10.7 to 11.9 µs — each sleep and wake-up
 *    costs more than the fsync it saves.
 *    Not `setTimeout(0)`: Deno 2.9 clamps it to ~2 ms (measured), which
 *    would add 2 ms to every lone write and cut 50-client throughput ~3×;
 *    `setImmediate` costs ~2 µs;
 * 3. the moment the in-flight fsync completes, if records arrived during it
 *    (they waited one fsync already; waiting more would only add latency);
 * 4. when `batchTimeoutMs` has passed since its first record, checked on
 *    every 8th append: this bounds a long synchronous burst of appends that
 *    keeps the idle tick from running but stays under `batchSize`.
 *
 * ## Rotation
 *
 * Decided per record at append time: a record that would push the current
 * segment past `maxSegmentBytes` starts a new segment (the batch is split
 * there), so no segment exceeds it — except that a segment always takes at
 * least one record, so a record larger than `maxSegmentBytes` sits alone in
 * a segment of its own. On rotation the old segment is fsynced before the
 * new one is created (a torn tail is then only ever in the last segment),
 * and the directory is fsynced before the batch counts as durable.
 *
 * ## Failure
 *
 * A failed write or fsync rejects every pending commit, sets `failure`,
 * logs at error, and makes every later append throw and commit reject, for
 * the life of the process: after a failed fsync the kernel may have dropped
 * the dirty pages, so nothing written since the last good fsync can be
 * trusted.
 *
 * Before it says so, the log cuts itself back to its last durable record:
 * the segment holding it is truncated to just after it (and fsynced), and
 * segments begun since are removed. A full disk typically fails the
 * preallocation or the fsync after the record's bytes reached the file;
 * left there, those writes — answered "not durable" — would come back at the
 * next start. After the cut the file says exactly what the replies said, and
 * the store rebuilds memory from it. If the cut itself fails (the device is
 * gone), the failure is a {@link WalOutcomeUnknownError}: the pending
 * writes may or may not be on disk, and only the next start's recovery can
 * tell (as etcd and PostgreSQL treat a failed fsync).
 *
 * @example
 * ```ts
 * const wal = await Wal.open({ dir, maxSegmentBytes: 10 << 20, batchSize: 100, batchTimeoutMs: 10, logger }, apply);
 * const lsn = wal.append(WalOp.Set, 0, "k", "v", 0);
 * apply({ lsn, op: WalOp.Set, db: 0, key: "k", value: "v", expiresAtMs: 0 });
 * await wal.commit(); // durable: reply OK
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import { crc32 } from "node:zlib";
import { readU32, writeU32 } from "./_bytes.ts";
import { join } from "node:path";
import { clearImmediate, setImmediate } from "node:timers";
import type { Logger } from "../log/logger.ts";
import { Batch, WAL_BATCH_FLUSH_BYTES } from "./_batch.ts";
import { encodeRecord, frameBytes } from "./encoder.ts";
import {
  WalClosedError,
  WalCorruptError,
  WalFailedError,
  WalOutcomeUnknownError,
  WalOverloadError,
} from "./errors.ts";
import { readRecords, type ReadRecordsOptions } from "./reader.ts";
import { WalFlag, type WalRecord } from "./record.ts";
import { DurableFile } from "./_durable_file.ts";
import { cutLogAfter } from "./_truncate.ts";
import { lockDirectory } from "./lock.ts";
import { recoverWal } from "./recovery.ts";
import {
  encodeSegmentHeader,
  listSegments,
  SEGMENT_HEADER_BYTES,
  segmentName,
  syncDir,
} from "./segment.ts";

/**
 * Smallest allowed `maxSegmentBytes`.
 *
 * @example
 * ```ts
 * WAL_MIN_SEGMENT_BYTES; // 1024
 * ```
 */
export const WAL_MIN_SEGMENT_BYTES = 1024;

/**
 * Largest allowed `maxSegmentBytes`.
 *
 * @example
 * ```ts
 * WAL_MAX_SEGMENT_BYTES; // 1 GiB
 * ```
 */
export const WAL_MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;

/**
 * Largest allowed `batchSize`.
 *
 * @example
 * ```ts
 * WAL_MAX_BATCH_SIZE; // 65536
 * ```
 */
export const WAL_MAX_BATCH_SIZE = 65536;

/**
 * Largest allowed `batchTimeoutMs`.
 *
 * @example
 * ```ts
 * WAL_MAX_BATCH_TIMEOUT_MS; // 60000
 * ```
 */
export const WAL_MAX_BATCH_TIMEOUT_MS = 60_000;

export { WAL_BATCH_FLUSH_BYTES } from "./_batch.ts";

/**
 * Most bytes the filling batch may hold; an append beyond throws
 * {@link WalOverloadError}. Well above one maximal record.
 *
 * @example
 * ```ts
 * WAL_MAX_PENDING_BYTES; // 256 MiB
 * ```
 */
export const WAL_MAX_PENDING_BYTES = 256 * 1024 * 1024;

/**
 * How to open a WAL.
 *
 * @example
 * ```ts
 * const options: WalOptions = { dir: "./data/wal", maxSegmentBytes: 10 << 20, batchSize: 100, batchTimeoutMs: 10, logger };
 * ```
 */
export interface WalOptions {
  /** Directory of segment files; created if missing; holds nothing else. */
  dir: string;
  /** Rotation threshold, [1 KiB, 1 GiB]. */
  maxSegmentBytes: number;
  /** Records that make a batch flush at once, [1, 65536]. */
  batchSize: number;
  /** Longest a batch waits after its first record, [0, 60000] ms. */
  batchTimeoutMs: number;
  logger: Logger;
  /**
   * The log must hold every record from this LSN on: 1 without a snapshot,
   * the snapshot's LSN + 1 with one. A log whose first segment starts later
   * has lost records nothing else stands for, and recovering it would
   * silently drop acknowledged writes. Undefined: any start (tools, tests).
   */
  requiredFromLsn?: number;
  /**
   * When recovery finds no record: the LSN the log continues after (a
   * snapshot's), so the next record is this + 1. 0 by default.
   */
  startAfterLsn?: number;
  /** A lock on `dir` the caller already took (lock.ts), adopted: closed with the WAL. */
  lock?: Deno.FsFile;
}

/**
 * Counters for monitoring (INFO-style output) and benchmarks.
 *
 * @example
 * ```ts
 * const { fsyncs, maxFsyncMs } = wal.stats();
 * ```
 */
export interface WalStats {
  /** Bytes written to segment files since open (headers included). */
  bytesWritten: number;
  /** Durable writes (write + fdatasync) to segment files since open. */
  fsyncs: number;
  /** Batches made durable since open. */
  batches: number;
  /** Records appended since open. */
  records: number;
  /** Records replayed at open. */
  recoveredRecords: number;
  /** Segment files in the directory. */
  segments: number;
  lastFsyncMs: number;
  maxFsyncMs: number;
  totalFsyncMs: number;
  lastLsn: number;
  durableLsn: number;
  /** Appended records not yet durable. */
  pendingRecords: number;
  /** Bytes of the filling batch (compare with WAL_MAX_PENDING_BYTES). */
  pendingBytes: number;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * An open write-ahead log. Single-threaded by construction: call it from
 * one event loop (the server's).
 *
 * @example
 * ```ts
 * const wal = await Wal.open(options, (r) => store.apply(r));
 * wal.append(WalOp.Del, 0, "k", "", 0);
 * await wal.commit();
 * await wal.close();
 * ```
 */
export class Wal {
  /** The directory this WAL lives in. */
  readonly dir: string;
  readonly #maxSegmentBytes: number;
  readonly #batchSize: number;
  readonly #batchTimeoutMs: number;
  readonly #logger: Logger;

  #file: DurableFile | undefined;
  /** Path of `#file`. */
  #filePath = "";
  /**
   * Where the durable records end: the segment holding the last of them
   * (empty: none), the byte offset after it there, and its CRC. A failure
   * cuts the log back to exactly this.
   */
  #durablePath = "";
  #durableBytes = 0;
  #durableCrc = 0;
  /** Segments created since the last durable batch (a cut-back removes them). */
  readonly #createdSinceDurable: string[] = [];
  /** Holds the lock on the directory until close (lock.ts). */
  #lock: Deno.FsFile | undefined;
  readonly #durableListeners = new Set<() => void>();
  /** Size the current segment will have once every appended record is written; -1: no segment yet. */
  #tailBytes: number;
  #lastLsn: number;
  #lastCrc: number;
  #durableLsn: number;
  /** The last record appended (by appendAt) continues its group (WalFlag.Continues). */
  #groupOpen = false;
  /** Open {@link beginGroup}s, and records appended in the outermost one. */
  #groupDepth = 0;
  #groupRecords = 0;
  /**
   * Where the outermost open group began: the LSN and CRC before it, and
   * the batch, offset and record count it started at — what a group held
   * open across turns (a busy script) lets go out before it.
   */
  #groupStartLsn = 0;
  #groupStartCrc = 0;
  #groupStartBatch: Batch | undefined = undefined;
  #groupStartOffset = 0;
  #groupStartRecords = 0;
  /** Where the last record is in the filling batch, and the CRC that seeded it. */
  #lastRecordOffset = 0;
  #lastRecordSeed = 0;
  #filling = new Batch();
  #spare: Batch | undefined = new Batch();
  #flushing: Batch | undefined = undefined;
  #idle: ReturnType<typeof setImmediate> | undefined = undefined;
  #failure: WalFailedError | undefined = undefined;
  #closing = false;
  #closed: Promise<void> | undefined = undefined;

  #bytesWritten = 0;
  #fsyncs = 0;
  #batches = 0;
  #records = 0;
  readonly #recoveredRecords: number;
  #segments: number;
  #lastFsyncMs = 0;
  #maxFsyncMs = 0;
  #totalFsyncMs = 0;

  private constructor(
    lock: Deno.FsFile,
    options: WalOptions,
    file: DurableFile | undefined,
    filePath: string,
    tailBytes: number,
    lastLsn: number,
    lastCrc: number,
    recoveredRecords: number,
    segments: number,
  ) {
    this.#lock = lock;
    this.dir = options.dir;
    this.#maxSegmentBytes = options.maxSegmentBytes;
    this.#batchSize = options.batchSize;
    this.#batchTimeoutMs = options.batchTimeoutMs;
    this.#logger = options.logger;
    this.#file = file;
    this.#filePath = filePath;
    this.#tailBytes = tailBytes;
    this.#lastLsn = lastLsn;
    this.#lastCrc = lastCrc;
    this.#durableLsn = lastLsn;
    this.#durablePath = filePath;
    this.#durableBytes = Math.max(0, tailBytes);
    this.#durableCrc = lastCrc;
    this.#recoveredRecords = recoveredRecords;
    this.#segments = segments;
  }

  /**
   * Creates `dir` if missing and recovers: replays every record in LSN
   * order through `onRecord` (synchronously; `onRecord` gets one reused
   * object, so copy fields, not the object), truncates a torn tail of the
   * last segment with a warning, and throws `WalCorruptError` (file,
   * offset) for damage anywhere else. Appends continue in the last segment:
   * a restart never creates a segment.
   *
   * @example
   * ```ts
   * const wal = await Wal.open({ dir, maxSegmentBytes: 10 << 20, batchSize: 100, batchTimeoutMs: 10, logger }, (r) => store.apply(r));
   * ```
   */
  static async open(
    options: WalOptions,
    onRecord: (record: WalRecord) => void,
  ): Promise<Wal> {
    validateOptions(options);
    await Deno.mkdir(options.dir, { recursive: true });
    const lock = options.lock ?? await lockDirectory(options.dir);
    let state;
    let file: DurableFile | undefined;
    try {
      if (options.requiredFromLsn !== undefined) {
        const first = (await listSegments(options.dir)).segments[0];
        if (first !== undefined && first.firstLsn > options.requiredFromLsn) {
          throw new WalCorruptError(
            first.path,
            0,
            `the log starts at LSN ${first.firstLsn}, after ${options.requiredFromLsn}: ` +
              "earlier segments are missing",
          );
        }
      }
      state = await recoverWal(options.dir, options.logger, onRecord, options.requiredFromLsn ?? 1);
      if (state.lastSegment !== undefined) {
        file = await DurableFile.openAt(
          state.lastSegment.path,
          state.lastSegmentBytes,
          options.maxSegmentBytes,
        );
      }
    } catch (e) {
      lock.close();
      throw e;
    }
    if (state.lastLsn === 0 && (options.startAfterLsn ?? 0) > 0) {
      // An empty log continuing a snapshot: its next record is the one
      // after the snapshot's LSN, whatever is appended.
      state.lastLsn = options.startAfterLsn!;
    }
    return new Wal(
      lock,
      options,
      file,
      state.lastSegment?.path ?? "",
      state.lastSegment === undefined ? -1 : state.lastSegmentBytes,
      state.lastLsn,
      state.lastCrc,
      state.records,
      state.segments,
    );
  }

  /** LSN of the last appended record (0 if none). */
  get lastLsn(): number {
    return this.#lastLsn;
  }

  /** LSN of the last record written and fdatasynced. */
  get durableLsn(): number {
    return this.#durableLsn;
  }

  /** Set once a write or fsync failed; then appends throw and commits reject for good. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /**
   * Encodes a record into the current batch (no I/O) and returns its LSN,
   * `lastLsn + 1`. Throws `WalFailedError` after a failure,
   * `WalClosedError` after `close()`, `WalOverloadError` if the pending
   * batch is full, `RangeError` for an invalid entry (LSN not consumed).
   *
   * @example
   * ```ts
   * const lsn = wal.append(WalOp.Set, 0, key, value, expiresAtMs);
   * ```
   */
  append(op: number, db: number, key: string, value: string, expiresAtMs: number): number {
    const lsn = this.#append(this.#lastLsn + 1, op, db, key, value, expiresAtMs, 0);
    if (this.#groupDepth > 0) this.#groupRecords++;
    return lsn;
  }

  /**
   * Opens a group (see `WalFlag`): the records appended until the matching
   * {@link endGroup} are all-or-nothing — the writer marks each but the
   * last as continuing, starts no flush inside the group (a batch holds
   * whole groups), and keeps the group in one segment. Groups nest; the
   * outermost one counts.
   *
   * @example
   * ```ts
   * wal.beginGroup();
   * wal.append(WalOp.Del, 0, "a", "", 0);
   * wal.append(WalOp.Set, 0, "b", "v", 0);
   * wal.endGroup();
   * ```
   */
  beginGroup(): void {
    if (this.#groupDepth++ !== 0) return;
    this.#groupRecords = 0;
    const batch = this.#filling;
    this.#groupStartLsn = this.#lastLsn;
    this.#groupStartCrc = this.#lastCrc;
    this.#groupStartBatch = batch;
    this.#groupStartOffset = batch.bytes;
    this.#groupStartRecords = batch.records;
  }

  /** Closes the group {@link beginGroup} opened; flushes if a batch became due inside it. */
  endGroup(): void {
    assert(this.#groupDepth > 0, "endGroup without beginGroup");
    if (--this.#groupDepth > 0) return;
    const batch = this.#filling;
    if (
      this.#flushing === undefined && this.#failure === undefined && batch.records > 0 &&
      (batch.records >= this.#batchSize || batch.bytes >= WAL_BATCH_FLUSH_BYTES ||
        ((batch.records & 7) === 0 && Date.now() - batch.startedMs >= this.#batchTimeoutMs))
    ) {
      this.#startFlush();
    } else if (
      batch.records > 0 && this.#flushing === undefined && this.#idle === undefined &&
      this.#failure === undefined
    ) {
      this.#idle = setImmediate(this.#onIdle);
    }
  }

  /**
   * Ends the open (outermost) group without completing it: a script that
   * SHUTDOWN NOSAVE stopped mid-run. Its last record is marked as
   * continuing, so the group stays torn — recovery cuts it, a replica never
   * applies it — and nothing more may be appended (WalClosedError): what
   * follows would join the torn group. The log is about to be closed.
   *
   * @example
   * ```ts
   * wal.beginGroup();
   * wal.append(WalOp.Set, 0, "a", "1", 0);
   * wal.abandonGroup();
   * await wal.close(); // "a" is not recovered
   * ```
   */
  abandonGroup(): void {
    assert(this.#groupDepth === 1, "abandonGroup ends the outermost group");
    this.#groupDepth = 0;
    if (this.#groupRecords > 0) this.#continuePrevious();
    this.#closing = true;
  }

  /**
   * Marks the record appended last as continuing its group: sets the flag
   * and recomputes its CRC (which seeds the next record's). It is still in
   * the filling batch: no flush starts inside a group.
   */
  #continuePrevious(): void {
    const batch = this.#filling;
    assert(
      batch.records > 0 && batch.lastLsn === this.#lastLsn,
      "the group's last record is unflushed",
    );
    const at = this.#lastRecordOffset;
    const bodyBytes = readU32(batch.buf, at);
    batch.buf[at + 19] |= WalFlag.Continues;
    const crc = crc32(batch.buf.subarray(at + 8, at + 8 + bodyBytes), this.#lastRecordSeed);
    writeU32(batch.buf, at + 4, crc);
    this.#lastCrc = crc;
    batch.lastCrc = crc;
  }

  /**
   * Like {@link append}, but with the LSN given, for a replica that must
   * log the master's LSNs. The LSN must be `lastLsn + 1`, except on an
   * empty log (no segment, nothing appended), which may start at any LSN —
   * a replica that loaded a snapshot taken at LSN n starts at n + 1.
   *
   * @example
   * ```ts
   * wal.appendAt(record.lsn, record.op, record.db, record.key, record.value, record.expiresAtMs);
   * ```
   */
  appendAt(
    lsn: number,
    op: number,
    db: number,
    key: string,
    value: string,
    expiresAtMs: number,
    flags = 0,
  ): number {
    const emptyLog = this.#tailBytes < 0 && this.#lastLsn === 0;
    if (lsn !== this.#lastLsn + 1 && !emptyLog) {
      throw new RangeError(
        `WAL appendAt: LSN ${lsn} does not follow the last LSN ${this.#lastLsn}`,
      );
    }
    return this.#append(lsn, op, db, key, value, expiresAtMs, flags);
  }

  #append(
    lsn: number,
    op: number,
    db: number,
    key: string,
    value: string,
    expiresAtMs: number,
    flags: number,
  ): number {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closing) throw new WalClosedError();
    const frame = frameBytes(key.length, value.length);
    const batch = this.#filling;
    if (batch.bytes + frame > WAL_MAX_PENDING_BYTES) {
      throw new WalOverloadError(
        `WAL overloaded: ${batch.bytes} bytes wait for the disk (limit ${WAL_MAX_PENDING_BYTES})`,
      );
    }
    batch.reserve(frame, WAL_MAX_PENDING_BYTES);
    // Not the first record of an open group: the one before continues.
    const joins = this.#groupDepth > 0 && this.#groupRecords > 0;
    if (joins) this.#continuePrevious();
    // A group never spans segments, so recovery finds a torn group whole
    // in the last one: a segment may pass its size by the rest of a group.
    const inGroup = this.#groupOpen || joins;
    const startsSegment = this.#tailBytes < 0 ||
      (!inGroup && this.#tailBytes > SEGMENT_HEADER_BYTES &&
        this.#tailBytes + frame > this.#maxSegmentBytes);
    const seed = this.#lastCrc;
    const crc = encodeRecord(
      batch.buf,
      batch.bytes,
      lsn,
      op,
      db,
      key,
      value,
      expiresAtMs,
      this.#lastCrc,
      flags,
    );
    // Nothing below throws: the record is in.
    this.#lastRecordOffset = batch.bytes;
    this.#lastRecordSeed = seed;
    if (startsSegment) {
      batch.cuts.push({ offset: batch.bytes, firstLsn: lsn, seedCrc: this.#lastCrc });
      this.#tailBytes = SEGMENT_HEADER_BYTES + frame;
    } else {
      this.#tailBytes += frame;
    }
    batch.bytes += frame;
    batch.lastLsn = lsn;
    batch.lastCrc = crc;
    if (batch.records++ === 0) {
      batch.firstLsn = lsn;
      batch.startedMs = Date.now();
      if (this.#flushing === undefined && this.#idle === undefined) {
        this.#idle = setImmediate(this.#onIdle);
      }
    }
    this.#lastLsn = lsn;
    this.#lastCrc = crc;
    this.#records++;
    this.#groupOpen = (flags & WalFlag.Continues) !== 0;
    // A batch ends at a group's end: what becomes durable is whole groups.
    if (
      !this.#groupOpen && this.#groupDepth === 0 && this.#flushing === undefined &&
      (batch.records >= this.#batchSize || batch.bytes >= WAL_BATCH_FLUSH_BYTES ||
        ((batch.records & 7) === 0 && Date.now() - batch.startedMs >= this.#batchTimeoutMs))
    ) {
      this.#startFlush();
    }
    return lsn;
  }

  /**
   * Resolves when every record appended so far is written and fdatasynced
   * — while a group is open across turns (a busy script), every record
   * before it; rejects with `WalFailedError` if a write or fsync failed.
   *
   * @example
   * ```ts
   * wal.append(WalOp.Set, 0, "k", "v", 0);
   * await wal.commit();
   * ```
   */
  commit(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    // Inside a group held open across turns (a busy script yields): what
    // came before it — the group is nobody's to wait for until it ends.
    const target = this.#groupDepth > 0 ? this.#groupStartLsn : this.#lastLsn;
    if (this.#durableLsn >= target) return RESOLVED;
    // One promise per batch, shared by all its waiters: a batch being
    // durable implies every batch before it is.
    const flushing = this.#flushing;
    const batch = flushing !== undefined && flushing.lastLsn >= target
      ? flushing
      : this.#filling.records > 0
      ? this.#filling
      : flushing;
    assert(
      batch !== undefined && (batch.lastLsn === this.#lastLsn || this.#groupDepth > 0),
      "pending records in no batch",
    );
    batch.done ??= Promise.withResolvers<void>();
    return batch.done.promise;
  }

  /**
   * Counters since open.
   *
   * @example
   * ```ts
   * console.log(wal.stats().fsyncs);
   * ```
   */
  stats(): WalStats {
    return {
      bytesWritten: this.#bytesWritten,
      fsyncs: this.#fsyncs,
      batches: this.#batches,
      records: this.#records,
      recoveredRecords: this.#recoveredRecords,
      segments: this.#segments,
      lastFsyncMs: this.#lastFsyncMs,
      maxFsyncMs: this.#maxFsyncMs,
      totalFsyncMs: this.#totalFsyncMs,
      lastLsn: this.#lastLsn,
      durableLsn: this.#durableLsn,
      pendingRecords: this.#lastLsn - this.#durableLsn,
      pendingBytes: this.#filling.bytes,
    };
  }

  /**
   * Durable records with LSN ≥ `fromLsn` (up to `durableLsn` at the call),
   * read from the segment files; see {@link readRecords}.
   *
   * @example
   * ```ts
   * for await (const r of wal.records(replicaLsn + 1)) send(r);
   * ```
   */
  records(fromLsn: number, options: ReadRecordsOptions = {}): AsyncGenerator<WalRecord> {
    const toLsn = Math.min(options.toLsn ?? Infinity, this.#durableLsn);
    return readRecords(this.dir, fromLsn, { ...options, toLsn });
  }

  /**
   * Stops appends, flushes and fsyncs everything pending (resolving the
   * pending commits), and closes the segment file. Rejects with the
   * failure if not everything appended could be made durable.
   *
   * @example
   * ```ts
   * Deno.addSignalListener("SIGTERM", async () => { await wal.close(); Deno.exit(0); });
   * ```
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    if (this.#idle !== undefined) {
      clearImmediate(this.#idle);
      this.#idle = undefined;
    }
    if (this.#failure === undefined && this.#flushing === undefined && this.#filling.records > 0) {
      this.#startFlush();
    }
    try {
      await this.commit();
      this.#file?.finish();
    } finally {
      this.#file?.close();
      this.#file = undefined;
      this.#lock?.close();
      this.#lock = undefined;
      this.#notifyDurable();
    }
  }

  #onIdle = (): void => {
    this.#idle = undefined;
    // Inside a group (a script past busy-reply-threshold yields with its
    // group open) only what came before it goes out: the group's records so
    // far would be written as a whole group, and the next one could not
    // mark the last as continuing. endGroup schedules the rest.
    if (this.#groupDepth > 0) return this.#flushBeforeGroup();
    if (this.#flushing === undefined && this.#filling.records > 0 && this.#failure === undefined) {
      this.#startFlush();
    }
  };

  /**
   * While a group is held open across turns, flushes the records of the
   * filling batch that came before the group, on their own: their clients
   * wait for them (see {@link commit}); the group's records stay in the
   * filling batch until it ends.
   */
  #flushBeforeGroup(): void {
    const batch = this.#filling;
    const before = this.#groupStartBatch === batch ? this.#groupStartRecords : 0;
    if (before === 0 || this.#flushing !== undefined || this.#failure !== undefined) return;
    const offset = this.#groupStartOffset;
    const rest = this.#spare ?? new Batch();
    const restBytes = batch.bytes - offset;
    rest.reserve(restBytes, WAL_MAX_PENDING_BYTES);
    rest.buf.set(batch.buf.subarray(offset, batch.bytes));
    rest.bytes = restBytes;
    rest.records = batch.records - before;
    if (rest.records > 0) {
      rest.firstLsn = this.#groupStartLsn + 1;
      rest.lastLsn = batch.lastLsn;
      rest.lastCrc = batch.lastCrc;
      rest.startedMs = batch.startedMs;
      this.#lastRecordOffset -= offset;
    }
    let kept = 0;
    for (const cut of batch.cuts) {
      if (cut.offset >= offset) rest.cuts.push({ ...cut, offset: cut.offset - offset });
      else batch.cuts[kept++] = cut;
    }
    batch.cuts.length = kept;
    batch.bytes = offset;
    batch.records = before;
    batch.lastLsn = this.#groupStartLsn;
    batch.lastCrc = this.#groupStartCrc;
    // Its waiters (see commit) wait for what came before the group.
    this.#groupStartBatch = rest;
    this.#groupStartOffset = 0;
    this.#groupStartRecords = 0;
    this.#spare = rest; // #startFlush makes it the filling batch
    this.#startFlush();
  }

  #startFlush(): void {
    assert(this.#flushing === undefined, "one write+fsync in flight at a time");
    assert(this.#filling.records > 0 && this.#failure === undefined);
    if (this.#idle !== undefined) {
      clearImmediate(this.#idle);
      this.#idle = undefined;
    }
    const batch = this.#filling;
    this.#filling = this.#spare ?? new Batch();
    this.#spare = undefined;
    this.#flushing = batch;
    this.#writeBatch(batch).then(
      () => this.#flushed(batch),
      (error) => this.#fail(error),
    );
  }

  async #writeBatch(batch: Batch): Promise<void> {
    let from = 0;
    let created = false;
    for (const cut of batch.cuts) {
      // Writes are durable when they resolve, so the old segment
      // is complete before a newer one exists: only the last segment can
      // ever have a torn tail.
      if (cut.offset > from) this.#write(batch.buf.subarray(from, cut.offset));
      if (this.#file !== undefined) {
        this.#file.finish();
        this.#file = undefined;
      }
      this.#file = await this.#createSegment(cut.firstLsn, cut.seedCrc);
      created = true;
      from = cut.offset;
    }
    this.#write(batch.buf.subarray(from, batch.bytes));
    if (created) await syncDir(this.dir);
  }

  async #createSegment(firstLsn: number, seedCrc: number): Promise<DurableFile> {
    const path = join(this.dir, segmentName(firstLsn));
    // Exclusive create: an existing file of that name is someone else's data.
    const file = await DurableFile.create(path, this.#maxSegmentBytes);
    this.#createdSinceDurable.push(path);
    this.#filePath = path;
    this.#segments++;
    try {
      file.write(encodeSegmentHeader({ firstLsn, seedCrc }));
    } catch (error) {
      file.close();
      throw error;
    }
    this.#bytesWritten += SEGMENT_HEADER_BYTES;
    this.#logger.debug("wal segment created", { file: path });
    return file;
  }

  /** A durable write; its latency is counted as the fsync's. */
  #write(bytes: Uint8Array): void {
    assert(this.#file !== undefined, "write with no open segment");
    const startedMs = performance.now();
    this.#file.write(bytes);
    this.#bytesWritten += bytes.length;
    const ms = performance.now() - startedMs;
    this.#fsyncs++;
    this.#lastFsyncMs = ms;
    this.#totalFsyncMs += ms;
    if (ms > this.#maxFsyncMs) this.#maxFsyncMs = ms;
  }

  #flushed(batch: Batch): void {
    assert(batch === this.#flushing, "the batch in flight completed");
    // durableLsn 0: an empty log, which appendAt may start at any LSN.
    assert(
      this.#durableLsn === 0 || batch.firstLsn === this.#durableLsn + 1,
      "batches complete in LSN order",
    );
    this.#durableLsn = batch.lastLsn;
    this.#durablePath = this.#filePath;
    this.#durableBytes = this.#file!.position;
    this.#durableCrc = batch.lastCrc;
    this.#createdSinceDurable.length = 0;
    this.#batches++;
    this.#flushing = undefined;
    const done = batch.done;
    batch.reset();
    this.#spare = batch;
    // Records that arrived during the fsync go out now: they already waited
    // (of a yielded script's open group, only those before it: see #onIdle).
    if (this.#groupDepth > 0) this.#flushBeforeGroup();
    else if (this.#filling.records > 0) this.#startFlush();
    done?.resolve();
    this.#notifyDurable();
  }

  #notifyDurable(): void {
    for (const listener of this.#durableListeners) listener();
  }

  /**
   * Calls `listener` each time `durableLsn` advances, and once when the log
   * fails or closes (so waiters can look at `failure`); returns a function
   * that removes it. Replication ships records only once they are durable.
   *
   * @example
   * ```ts
   * const stop = wal.onDurable(() => wakeSenders());
   * stop();
   * ```
   */
  onDurable(listener: () => void): () => void {
    this.#durableListeners.add(listener);
    return () => this.#durableListeners.delete(listener);
  }

  /**
   * Makes an empty log continue after `lsn` (a snapshot's): its next record
   * is `lsn` + 1, and it counts as durable up to `lsn`.
   *
   * @example
   * ```ts
   * await wal.discardAll();
   * wal.continueAfter(snapshotLsn);
   * ```
   */
  continueAfter(lsn: number): void {
    assert(this.#lastLsn === 0 && this.#tailBytes < 0, "only an empty log continues a snapshot");
    assert(Number.isSafeInteger(lsn) && lsn >= 0);
    this.#lastLsn = lsn;
    this.#durableLsn = lsn;
  }

  /**
   * Removes every record and segment, leaving an empty log whose next
   * `appendAt` may take any LSN: a replica discarding its history to
   * resynchronise from its master. Waits for the batch in flight first.
   *
   * @example
   * ```ts
   * await wal.discardAll();
   * wal.appendAt(1, WalOp.Set, 0, "k", "v", 0);
   * ```
   */
  async discardAll(): Promise<void> {
    if (this.#lastLsn > this.#durableLsn) await this.commit();
    if (this.#failure) throw this.#failure;
    if (this.#closing) throw new WalClosedError();
    assert(this.#flushing === undefined && this.#filling.records === 0, "nothing in flight");
    this.#file?.close();
    this.#file = undefined;
    // Newest first: a crash midway leaves a shorter prefix of the same
    // history, never a log that has lost its head.
    for (const segment of (await listSegments(this.dir)).segments.reverse()) {
      await Deno.remove(segment.path);
    }
    await syncDir(this.dir);
    this.#tailBytes = -1;
    this.#lastLsn = 0;
    this.#lastCrc = 0;
    this.#durableLsn = 0;
    this.#durablePath = "";
    this.#durableBytes = 0;
    this.#durableCrc = 0;
    this.#segments = 0;
    this.#logger.warn("wal discarded: every segment removed", { dir: this.dir });
  }

  /**
   * Cuts every record after `lsn`, durably, the cut bytes copied aside
   * first (see `_truncate.ts`): a replica's divergent tail. Waits for the
   * batch in flight; nothing may be appended meanwhile (the caller holds
   * writes). Returns the backup directory ("" when nothing was cut).
   *
   * @example
   * ```ts
   * await wal.truncateAfter(1200, "diverged from the new master");
   * ```
   */
  async truncateAfter(lsn: number, why: string): Promise<string> {
    if (this.#lastLsn > this.#durableLsn) await this.commit();
    if (this.#failure) throw this.#failure;
    if (this.#closing) throw new WalClosedError();
    assert(this.#flushing === undefined && this.#filling.records === 0, "nothing in flight");
    assert(Number.isSafeInteger(lsn) && lsn >= 0);
    if (lsn >= this.#lastLsn) return "";
    this.#file?.close();
    this.#file = undefined;
    const cut = await cutLogAfter(this.dir, lsn, why);
    this.#file = await DurableFile.openAt(cut.path, cut.bytes, this.#maxSegmentBytes);
    this.#filePath = cut.path;
    this.#tailBytes = cut.bytes;
    this.#lastLsn = lsn;
    this.#lastCrc = cut.lastCrc;
    this.#durableLsn = lsn;
    this.#durablePath = cut.path;
    this.#durableBytes = cut.bytes;
    this.#durableCrc = cut.lastCrc;
    this.#segments = cut.segments;
    this.#createdSinceDurable.length = 0;
    this.#logger.warn("wal cut: records after an LSN set aside", {
      dir: this.dir,
      afterLsn: lsn,
      backup: cut.backupDir,
      why,
    });
    return cut.backupDir;
  }

  #fail(cause: unknown): void {
    const message = cause instanceof Error ? cause.message : String(cause);
    if (this.#idle !== undefined) {
      clearImmediate(this.#idle);
      this.#idle = undefined;
    }
    try {
      this.#file?.close();
    } catch {
      // Already closed or unusable: the failure above is what matters.
    }
    this.#file = undefined;
    const notDurable = this.#lastLsn - this.#durableLsn;
    let failure: WalFailedError;
    try {
      this.#cutBack();
      failure = new WalFailedError(
        `WAL write or fsync failed; refusing writes until restart: ${message}`,
        { cause },
      );
    } catch (cutError) {
      failure = new WalOutcomeUnknownError(
        `WAL write or fsync failed, and cutting the log back failed too ` +
          `(${cutError instanceof Error ? cutError.message : String(cutError)}): ` +
          `whether pending writes are on disk is unknown until restart: ${message}`,
        { cause },
      );
    }
    this.#failure = failure;
    this.#logger.error("WAL WRITE FAILED: refusing all writes until restart", {
      dir: this.dir,
      error: message,
      durableLsn: this.#durableLsn,
      notDurable,
      cutBack: !(failure instanceof WalOutcomeUnknownError),
    });
    this.#flushing?.done?.reject(failure);
    this.#flushing = undefined;
    this.#filling.done?.reject(failure);
    this.#filling.done = undefined;
    this.#notifyDurable();
  }

  /**
   * Makes the files hold exactly the durable records: removes segments
   * begun after the last durable record and truncates the one holding it
   * to just after it, durably. Synchronous, so nothing runs in between.
   * Throws if the files cannot be made so.
   */
  #cutBack(): void {
    // Only files this log created (exclusively) since: anything else of a
    // segment's name is not its to remove.
    const removed = this.#createdSinceDurable.length > 0;
    for (const path of this.#createdSinceDurable) {
      assert(path !== this.#durablePath, "the durable segment was created before its records");
      Deno.removeSync(path);
      this.#segments--;
    }
    this.#createdSinceDurable.length = 0;
    if (this.#durablePath !== "") {
      const file = Deno.openSync(this.#durablePath, { write: true });
      try {
        file.truncateSync(this.#durableBytes);
        file.syncSync();
      } finally {
        file.close();
      }
    }
    if (removed) {
      const dir = Deno.openSync(this.dir, { read: true });
      try {
        dir.syncSync();
      } finally {
        dir.close();
      }
    }
    this.#lastLsn = this.#durableLsn;
    this.#lastCrc = this.#durableCrc;
    this.#tailBytes = this.#durablePath === "" ? -1 : this.#durableBytes;
  }
}

function validateOptions(options: WalOptions): void {
  if (typeof options.dir !== "string" || options.dir === "") {
    throw new TypeError("WAL dir must be a non-empty path");
  }
  checkInteger(
    "maxSegmentBytes",
    options.maxSegmentBytes,
    WAL_MIN_SEGMENT_BYTES,
    WAL_MAX_SEGMENT_BYTES,
  );
  checkInteger("batchSize", options.batchSize, 1, WAL_MAX_BATCH_SIZE);
  checkInteger("batchTimeoutMs", options.batchTimeoutMs, 0, WAL_MAX_BATCH_TIMEOUT_MS);
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`WAL ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}
