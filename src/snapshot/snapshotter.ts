/**
 * When snapshots are taken and what they make disposable: one at a time,
 * on demand (SAVE, BGSAVE) or when the WAL written since the last one
 * passes `wal.snapshot_threshold`; after each, compaction keeps the newest
 * two snapshots (the previous one is the fallback if the newest is found
 * damaged) and deletes the segments wholly covered by the older of them —
 * never the segment being written.
 *
 * Compaction is off while the server serves replicas: a replica that needs
 * records from the start of the log is resynchronised from them until
 * snapshots can be streamed to replicas.
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
import { loadSnapshot, SnapshotCorruptError } from "./snapshot_reader.ts";
import { type SnapshotResult, takeSnapshot } from "./take_snapshot.ts";

/** Snapshots kept: the newest and its fallback. */
export const SNAPSHOTS_KEPT = 2;

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
}

/** A snapshot is already being taken. */
export class SnapshotInProgressError extends Error {}

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

  constructor(options: SnapshotterOptions) {
    this.#options = options;
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

  /** Takes a snapshot now; rejects with {@link SnapshotInProgressError} if one runs. */
  save(): Promise<SnapshotResult> {
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

  /** Starts a snapshot in the background; false if one runs already. */
  startInBackground(): boolean {
    if (this.#running) return false;
    this.save().catch(() => {
      // #take logged it.
    });
    return true;
  }

  /** Starts one if the WAL written since the last passed the threshold. */
  maybeStart(): void {
    const written = this.#options.wal.stats().bytesWritten - this.#walBytesAtLast;
    if (written >= this.#options.thresholdBytes && !this.#options.wal.failure) {
      this.startInBackground();
    }
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

  /** INFO persistence fields. */
  info(): InfoFields {
    const last = this.#last;
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
      ["snapshot_threshold_bytes", this.#options.thresholdBytes],
    ];
  }

  async #take(): Promise<SnapshotResult> {
    const { store, wal, log } = this.#options;
    const bytesBefore = wal.stats().bytesWritten;
    try {
      const result = await takeSnapshot(store, {
        dir: wal.dir,
        replid: this.#options.replid(),
        log,
      });
      this.#walBytesAtLast = bytesBefore;
      this.#last = { ...result, finishedMs: Date.now() };
      this.#lastFailed = false;
      if (this.#options.compact) await this.#compact();
      return result;
    } catch (e) {
      this.#failures++;
      this.#lastFailed = true;
      log.error("snapshot failed", { error: e instanceof Error ? e.message : String(e) });
      throw e;
    }
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
