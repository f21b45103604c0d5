/**
 * When snapshots are taken and what they make disposable: one at a time,
 * on demand (SAVE, BGSAVE) or when the WAL written since the last one
 * passes `wal.snapshot_threshold`; after each, compaction keeps the newest
 * two snapshots (the previous one is the fallback if the newest is found
 * damaged) and deletes the segments wholly covered by the older of them —
 * never the segment being written.
 *
 * A failed snapshot is logged once and retried automatically with
 * exponential backoff — `SNAPSHOT_RETRY_MIN_MS` after the first failure,
 * doubling up to `SNAPSHOT_RETRY_MAX_MS` — rather than at every threshold
 * check; SAVE and BGSAVE are not held back by it. INFO persistence shows
 * the last status, error and the time to the next retry.
 *
 * A replica's full resynchronisation replaces the history a snapshot
 * describes: it {@link Snapshotter.suspend}s snapshots, which cancels the
 * one being taken (it is never renamed into place) and waits for it to end.
 *
 * @example
 * ```ts
 * const snapshotter = new Snapshotter({ store, wal, thresholdBytes, compact: true, replid: () => "", log });
 * await snapshotter.save();
 * ```
 * @module
 */

import type { InfoFields } from "../executor/command_spec.ts";
import type { Logger } from "../log/logger.ts";
import type { Store } from "../storage/store.ts";
import { isSnapshotFileName, listSegments, syncDir } from "../wal/segment.ts";
import type { Wal } from "../wal/wal.ts";
import { listSnapshots, type Restored, setAsideDamaged } from "./restore.ts";
import { loadSnapshot, readSnapshotHeader, SnapshotCorruptError } from "./snapshot_reader.ts";
import {
  SnapshotAbandonedError,
  type SnapshotResult,
  type SnapshotTestHooks,
  takeSnapshot,
} from "./take_snapshot.ts";

/** Snapshots kept: the newest and its fallback. */
export const SNAPSHOTS_KEPT = 2;
/** After a failed snapshot, automatic ones wait this long before the first retry. */
export const SNAPSHOT_RETRY_MIN_MS = 5_000;
/** The backoff doubles per consecutive failure up to this. */
export const SNAPSHOT_RETRY_MAX_MS = 5 * 60_000;

/** What a snapshotter needs. */
export interface SnapshotterOptions {
  store: Store;
  wal: Wal;
  /** Take a snapshot once this many WAL bytes were written since the last. */
  thresholdBytes: number;
  /** Delete snapshots and segments made redundant. */
  compact: boolean;
  /** The replication id the keyspace belongs to ("" if none). */
  replid: () => string;
  log: Logger;
  /** The first LSN replicas still need (a master's), kept up to `retentionBytes`. */
  retainFromLsn?: () => number | undefined;
  /** WAL kept beyond the snapshots for replicas that are behind. */
  retentionBytes?: number;
  /** The snapshot the store was restored from (INFO reports it until the next). */
  restored?: Restored;
  /** Test-only pause points, handed to each snapshot. */
  testHooks?: SnapshotTestHooks;
  /** The clock for the retry backoff, in Unix ms. */
  nowMs?: () => number;
}

/** A snapshot is already being taken. */
export class SnapshotInProgressError extends Error {}

/**
 * Snapshots are suspended (a replica's full resynchronisation is under way).
 *
 * @example
 * ```ts
 * await snapshotter.save().catch((e) => e instanceof SnapshotsSuspendedError);
 * ```
 */
export class SnapshotsSuspendedError extends Error {
  constructor() {
    super("snapshots are suspended while a full resynchronisation replaces this replica's data");
    this.name = "SnapshotsSuspendedError";
  }
}

/**
 * Takes and tracks snapshots of one store.
 *
 * @example
 * ```ts
 * snapshotter.maybeStart(); // from a timer
 * ```
 */
export class Snapshotter {
  readonly #options: SnapshotterOptions;
  #running: Promise<SnapshotResult> | undefined;
  #last: (SnapshotResult & { finishedMs: number }) | undefined;
  #walBytesAtLast: number;
  #failures = 0;
  #lastFailed = false;
  #consecutiveFailures = 0;
  #lastError = "";
  #lastFailureMs = 0;
  /** Automatic snapshots wait until this time (Unix ms; 0: no failure to back off from). */
  #retryAtMs = 0;
  /** Cancels the running snapshot. */
  #abort: AbortController | undefined;
  /** Open {@link suspend}s. */
  #suspensions = 0;
  readonly #nowMs: () => number;

  constructor(options: SnapshotterOptions) {
    this.#options = options;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#walBytesAtLast = options.wal.stats().bytesWritten;
    const restored = options.restored;
    if (restored) {
      this.#last = {
        path: restored.path,
        lsn: restored.lsn,
        keys: restored.keys,
        bytes: restored.bytes,
        durationMs: 0,
        longestSliceMs: 0,
        finishedMs: restored.createdMs,
      };
    }
  }

  /** Removes temporary files a crash left behind (call once, with the WAL open). */
  async removeLeftovers(): Promise<void> {
    for await (const entry of Deno.readDir(this.#options.wal.dir)) {
      if (entry.isFile && entry.name.endsWith(".tmp") && isSnapshotFileName(entry.name)) {
        await Deno.remove(`${this.#options.wal.dir}/${entry.name}`);
        this.#options.log.warn("removed an unfinished snapshot", { file: entry.name });
      }
    }
  }

  /** Whether a snapshot is being taken. */
  get inProgress(): boolean {
    return this.#running !== undefined;
  }

  /**
   * Takes a snapshot now; rejects with {@link SnapshotInProgressError} if
   * one runs, {@link SnapshotsSuspendedError} while suspended.
   */
  save(): Promise<SnapshotResult> {
    if (this.#suspensions > 0) return Promise.reject(new SnapshotsSuspendedError());
    if (this.#running) return Promise.reject(new SnapshotInProgressError());
    const running = this.#take().finally(() => {
      this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  /**
   * Takes a snapshot that holds every change made before the call: waits
   * out one that is running (it may have started before those changes).
   */
  async saveNow(): Promise<SnapshotResult> {
    for (let attempt = 0; attempt < 10; attempt++) {
      await this.settle();
      if (!this.#running) return await this.save();
    }
    throw new SnapshotInProgressError();
  }

  /** Starts a snapshot in the background; false if one runs already (or snapshots are suspended). */
  startInBackground(): boolean {
    if (this.#running || this.#suspensions > 0) return false;
    this.save().catch(() => {
      // #take logged it.
    });
    return true;
  }

  /**
   * Starts one if the WAL written since the last passed the threshold,
   * unless the last one failed less than the backoff ago.
   */
  maybeStart(): void {
    if (this.#retryAtMs > 0 && this.#nowMs() < this.#retryAtMs) return;
    const written = this.#options.wal.stats().bytesWritten - this.#walBytesAtLast;
    if (written >= this.#options.thresholdBytes && !this.#options.wal.failure) {
      this.startInBackground();
    }
  }

  /**
   * Stops snapshots until the returned function is called: cancels the one
   * being taken (its file is never renamed into place), waits for it and
   * its compaction to end, and refuses new ones meanwhile. For a replica's
   * full resynchronisation, which replaces the history a snapshot would
   * describe and the files in the directory.
   *
   * @example
   * ```ts
   * const resume = await snapshotter.suspend("full resynchronisation");
   * try { await replaceEverything(); } finally { resume(); }
   * ```
   */
  async suspend(reason: string): Promise<() => void> {
    this.#suspensions++;
    this.#abort?.abort(reason);
    await this.settle();
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      this.#suspensions--;
    };
  }

  /**
   * A snapshot a replica can start from when the log begins at `firstLsn`:
   * the newest on disk if the log holds every record after it, else a new
   * one.
   */
  async forResync(firstLsn: number): Promise<{ path: string; lsn: number }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const [newest] = await listSnapshots(this.#options.wal.dir);
      if (newest !== undefined && newest.lsn + 1 >= firstLsn) {
        // A damaged file would fail every replica sent it, again and again.
        try {
          await loadSnapshot(newest.path, () => {});
          return newest;
        } catch (e) {
          if (!(e instanceof SnapshotCorruptError)) throw e;
          await setAsideDamaged(newest.path, e, this.#options.log, "taking a new one");
        }
      }
      if (this.#running) await this.settle();
      else await this.save().catch(() => {});
    }
    throw new Error("no snapshot to resynchronise a replica from");
  }

  /** Waits for a running snapshot (at shutdown). */
  async settle(): Promise<void> {
    await this.#running?.catch(() => {});
  }

  /**
   * INFO persistence fields: Redis's `rdb_*` ones, and kvdb's `snapshot_*`
   * (the last failure's error and time, consecutive failures, and the ms
   * until automatic snapshots retry, 0 when none is pending).
   */
  info(): InfoFields {
    const last = this.#last;
    const retryInMs = this.#retryAtMs > 0 ? Math.max(0, this.#retryAtMs - this.#nowMs()) : 0;
    return [
      ["rdb_bgsave_in_progress", this.#running ? 1 : 0],
      ["rdb_changes_since_last_save", this.#options.wal.lastLsn - (last?.lsn ?? 0)],
      ["rdb_last_save_time", last ? Math.floor(last.finishedMs / 1000) : 0],
      ["rdb_last_bgsave_status", this.#lastFailed ? "err" : "ok"],
      ["snapshot_last_lsn", last?.lsn ?? 0],
      ["snapshot_last_bytes", last?.bytes ?? 0],
      ["snapshot_last_keys", last?.keys ?? 0],
      ["snapshot_last_duration_ms", last ? Math.round(last.durationMs) : 0],
      ["snapshot_failures", this.#failures],
      ["snapshot_consecutive_failures", this.#consecutiveFailures],
      ["snapshot_last_error", this.#lastError],
      ["snapshot_last_failure_time", Math.floor(this.#lastFailureMs / 1000)],
      ["snapshot_next_retry_in_ms", Math.ceil(retryInMs)],
      ["snapshot_suspended", this.#suspensions > 0 ? 1 : 0],
      ["snapshot_threshold_bytes", this.#options.thresholdBytes],
    ];
  }

  async #take(): Promise<SnapshotResult> {
    const { store, wal, log } = this.#options;
    const bytesBefore = wal.stats().bytesWritten;
    const abort = new AbortController();
    this.#abort = abort;
    try {
      const result = await this.#unchanged() ?? await takeSnapshot(store, {
        dir: wal.dir,
        replid: this.#options.replid(),
        log,
        signal: abort.signal,
        testHooks: this.#options.testHooks,
      });
      this.#walBytesAtLast = bytesBefore;
      this.#last = { ...result, finishedMs: Date.now() };
      this.#succeeded();
      if (this.#options.compact) await this.#compact();
      return result;
    } catch (e) {
      if (e instanceof SnapshotAbandonedError) log.info(e.message);
      else this.#failed(e);
      throw e;
    } finally {
      this.#abort = undefined;
    }
  }

  /**
   * The newest snapshot on disk, if it already holds the state a new one
   * would: the same LSN and replication id (every change is logged, so
   * the same position in the same history is the same state). Writing it
   * again would cost a walk of the keyspace and, on ext4, a rename over a
   * file of the same name that frees the old file's blocks inside the
   * (synchronous) rename: 41 ms of a stalled event loop measured under
   * `strace -T` for 1M keys. LASTSAVE still moves, as after any SAVE.
   */
  async #unchanged(): Promise<SnapshotResult | undefined> {
    const { store, wal, log } = this.#options;
    // No commit first: every record up to a snapshot's LSN was made durable
    // before its file was renamed into place.
    const lsn = wal.lastLsn;
    if (lsn === 0 || store.inGroup) return undefined;
    const [newest] = await listSnapshots(wal.dir);
    if (newest === undefined || newest.lsn !== lsn) return undefined;
    let header;
    try {
      header = await readSnapshotHeader(newest.path);
    } catch {
      return undefined; // damaged or gone: a new one replaces it
    }
    if (header.replid !== this.#options.replid() || wal.lastLsn !== lsn) return undefined;
    const { size } = await Deno.stat(newest.path);
    log.info("snapshot unchanged since the last; not written again", { file: newest.path, lsn });
    return {
      path: newest.path,
      lsn,
      keys: header.keys,
      bytes: size,
      durationMs: 0,
      longestSliceMs: 0,
    };
  }

  #succeeded(): void {
    if (this.#consecutiveFailures > 0) {
      this.#options.log.info("snapshots succeed again", {
        afterFailures: this.#consecutiveFailures,
      });
    }
    this.#lastFailed = false;
    this.#consecutiveFailures = 0;
    this.#retryAtMs = 0;
  }

  /** Counts a failure, schedules the retry and logs both, once. */
  #failed(e: unknown): void {
    this.#failures++;
    this.#consecutiveFailures++;
    this.#lastFailed = true;
    // One line in INFO: no line breaks from the error's text.
    this.#lastError = (e instanceof Error ? e.message : String(e)).replace(/[\r\n]+/g, " ");
    this.#lastFailureMs = this.#nowMs();
    const backoffMs = Math.min(
      SNAPSHOT_RETRY_MAX_MS,
      SNAPSHOT_RETRY_MIN_MS * 2 ** Math.min(this.#consecutiveFailures - 1, 30),
    );
    this.#retryAtMs = this.#lastFailureMs + backoffMs;
    this.#options.log.error("snapshot failed; automatic snapshots retry after a backoff", {
      error: this.#lastError,
      consecutiveFailures: this.#consecutiveFailures,
      retryInMs: backoffMs,
    });
  }

  /** Deletes snapshots past the newest two and the segments they cover. */
  async #compact(): Promise<void> {
    const { wal, log } = this.#options;
    const snapshots = await listSnapshots(wal.dir);
    for (const old of snapshots.slice(SNAPSHOTS_KEPT)) await Deno.remove(old.path);
    if (snapshots.length < SNAPSHOTS_KEPT) return;
    // Everything up to the fallback snapshot's LSN is in both snapshots.
    const coveredLsn = snapshots[SNAPSHOTS_KEPT - 1].lsn;
    const { segments } = await listSegments(wal.dir);
    // Segments i with an end (the next one's first LSN - 1) at or before
    // the covered LSN may go — unless a replica still needs them and
    // keeping them stays within the retention limit.
    let removable = 0;
    while (removable + 1 < segments.length && segments[removable + 1].firstLsn - 1 <= coveredLsn) {
      removable++;
    }
    const neededFrom = this.#options.retainFromLsn?.();
    if (neededFrom !== undefined && removable > 0) {
      let keepFrom = removable;
      while (keepFrom > 0 && segments[keepFrom].firstLsn > neededFrom) keepFrom--;
      let keptBytes = 0;
      for (let i = keepFrom; i < removable; i++) {
        keptBytes += (await Deno.stat(segments[i].path)).size;
      }
      if (keptBytes <= (this.#options.retentionBytes ?? 0)) removable = keepFrom;
      else {
        log.warn(
          "a replica is behind by more than replication.retention_size; it will resynchronise",
          {
            neededFromLsn: neededFrom,
            retentionBytes: this.#options.retentionBytes ?? 0,
          },
        );
      }
    }
    let deleted = 0;
    for (let i = 0; i < removable; i++) {
      await Deno.remove(segments[i].path);
      deleted++;
    }
    if (deleted > 0 || snapshots.length > SNAPSHOTS_KEPT) {
      await syncDir(wal.dir);
      log.info("wal compacted", {
        segmentsDeleted: deleted,
        snapshotsDeleted: Math.max(0, snapshots.length - SNAPSHOTS_KEPT),
        coveredLsn,
      });
    }
  }
}
