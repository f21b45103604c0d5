/**
 * Taking a snapshot of a live store without stalling it: the keyspace is
 * walked partition by partition in slices of at most `SLICE_KEYS` keys,
 * `SLICE_BYTES` bytes or `SLICE_MS` milliseconds, and the event loop runs
 * between slices (block writes are awaited there), so requests keep being
 * served.
 *
 * The walk's place in a partition is an entry index to look from, never an
 * entry to read: between two slices the entry after the last one read may
 * have been freed (DEL, expiry, FLUSHALL) and even reused by another key,
 * so each slice finds the next live entry afresh, and reads an entry only
 * in the same synchronous step that found it live. A key present for the
 * whole walk keeps its index (see `key_table.ts`) and is read exactly once.
 *
 * Consistency: the snapshot's LSN is the log's end when the walk starts,
 * taken in the same synchronous step as the databases' engines (so a
 * SWAPDB is in the snapshot exactly when its LSN is). Each key is read at
 * some moment of the walk: as it was at the LSN, or as later writes left
 * it — a key created after the LSN in a reused entry, a value overwritten,
 * a key read twice (deleted behind the walk and created again ahead of it;
 * the later read wins on load). Every such write has an LSN after the
 * snapshot's and is replayed over it on restore, and a log effect sets the
 * key's whole state whatever it was before (SET of a value with its expiry,
 * DEL, FLUSHALL; PEXPIREAT only changes the expiry of a key that exists,
 * and a key it applies to exists both in the snapshot and in the true
 * state; SETRANGE writes its bytes at an explicit offset — APPEND's too —
 * so applying it again over a value that already holds it changes
 * nothing, and lengths only grow between two whole-state effects), so replaying the records after the LSN over any state that the
 * walk could have read gives exactly the state at the log's end: the
 * snapshot holds the live keys as of its LSN plus what its replay fixes.
 * Before the file is made durable, the writes the walk may have seen are
 * committed too, so a snapshot never holds a change its log could lose.
 *
 * A snapshot whose keyspace was discarded meanwhile (a replica's full
 * resynchronisation), or whose `signal` was aborted, is abandoned: it is
 * never renamed into place (checked synchronously right before the rename).
 *
 * @example
 * ```ts
 * const result = await takeSnapshot(store, { dir, replid, log });
 * result.lsn; // the state is this file plus the WAL after this LSN
 * ```
 * @module
 */

import type { Logger } from "../log/logger.ts";
import type { Store } from "../storage/store.ts";
import { Collection } from "../types/collection.ts";
import { BigString } from "../types/string/big_string.ts";
import { syncDir } from "../wal/segment.ts";
import { SNAPSHOT_BLOCK_TARGET_BYTES, SnapshotWriter } from "./snapshot_file.ts";

/** Most keys one slice walks before yielding to the event loop. */
export const SLICE_KEYS = 4096;
/**
 * Most bytes one slice copies before yielding (plus the entry that passes
 * it: an entry is copied whole).
 */
export const SLICE_BYTES = 1024 * 1024;
/** Longest one slice runs before yielding, in ms. */
export const SLICE_MS = 5;

/** What a finished snapshot is. */
export interface SnapshotResult {
  path: string;
  lsn: number;
  keys: number;
  bytes: number;
  durationMs: number;
  /** Longest time one slice held the event loop. */
  longestSliceMs: number;
}

/**
 * Pause points for tests only; nothing in the server sets them.
 *
 * @example
 * ```ts
 * await takeSnapshot(store, { dir, replid: "", log, testHooks: { beforeRename: () => held } });
 * ```
 */
export interface SnapshotTestHooks {
  /**
   * Runs after each slice of the walk, with the partition and the entry
   * index the next slice looks from (tests mutate the store here).
   */
  afterSlice?: (partition: number, position: number) => void;
  /** Awaited once the file is complete and fsynced, right before the checks and the rename. */
  beforeRename?: () => Promise<void>;
}

/** Where and how to write. */
export interface SnapshotOptions {
  dir: string;
  /** The replication id of the history the snapshot belongs to ("" if none). */
  replid: string;
  log: Logger;
  /** Keys per slice (tests use small slices to interleave writes). */
  sliceKeys?: number;
  /** Abandons the snapshot when aborted (checked between slices and before the rename). */
  signal?: AbortSignal;
  testHooks?: SnapshotTestHooks;
}

/**
 * A snapshot given up because the history it describes is gone, or on
 * request: not a failure.
 *
 * @example
 * ```ts
 * await takeSnapshot(store, options).catch((e) => {
 *   if (!(e instanceof SnapshotAbandonedError)) throw e;
 * });
 * ```
 */
export class SnapshotAbandonedError extends Error {
  constructor(reason: string) {
    super(`snapshot abandoned: ${reason}`);
    this.name = "SnapshotAbandonedError";
  }
}

const yieldToLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Writes a snapshot of `store` into `options.dir`. The store's log must be
 * enabled (the snapshot's LSN is its position).
 *
 * @example
 * ```ts
 * await takeSnapshot(store, { dir: "/data/wal", replid: "", log });
 * ```
 */
export async function takeSnapshot(
  store: Store,
  options: SnapshotOptions,
): Promise<SnapshotResult> {
  const log = store.log;
  if (log === undefined) throw new Error("snapshots need the WAL (wal.enabled: true)");
  const startedMs = performance.now();
  const generation = store.generation;
  const { signal, testHooks } = options;
  // Why the snapshot must not be kept, or "" while it may.
  const abandoned = () =>
    store.generation !== generation
      ? "the keyspace was discarded during the snapshot (a full resynchronisation)"
      : signal?.aborted
      ? String(signal.reason ?? "cancelled")
      : "";
  const checkWanted = () => {
    const reason = abandoned();
    if (reason !== "") throw new SnapshotAbandonedError(reason);
  };
  await store.commit();
  checkWanted();
  // The LSN and the engines in one synchronous step: memory holds every
  // record logged so far (durable or not: the commit before the rename
  // covers them), so the engines are each database's as of exactly this
  // LSN. SWAPDB after it swaps the databases' engines, not these; had an
  // await come between the two, a SWAPDB in between would be in the
  // engines and replayed again on load, swapping the databases back.
  const lsn = log.lastLsn;
  const engines = Array.from({ length: store.databaseCount }, (_, db) => store.engineOf(db));
  const writer = await SnapshotWriter.create(options.dir, lsn, options.replid, Date.now());
  const sliceKeys = options.sliceKeys ?? SLICE_KEYS;
  let longestSliceMs = 0;
  try {
    for (let db = 0; db < engines.length; db++) {
      const engine = engines[db];
      for (let p = 0; p < engine.partitionCount; p++) {
        const { values, expires } = engine.partition(p);
        let from = 0;
        // A collection too big for one slice: the one being written, and where it goes on.
        let resumeValue: Collection | undefined;
        let resumeAt = 0;
        for (let entry = values.nextEntry(from); entry >= 0; entry = values.nextEntry(from)) {
          checkWanted();
          const sliceStart = performance.now();
          for (let n = 1; entry >= 0; n++) {
            const key = values.keyAt(entry);
            const value = values.valueRefAt(entry);
            const expiresAtMs = expires.size === 0 ? 0 : expires.get(key) ?? 0;
            if (value instanceof Collection) {
              // In chunks: the slice may end inside it, and the next go on
              // from the same place if the same collection is still there.
              const at = value === resumeValue ? resumeAt : 0;
              const chunk = value.snapshotChunk(at, SNAPSHOT_BLOCK_TARGET_BYTES);
              if (chunk.body !== "") {
                writer.add(db, key, chunk.body, expiresAtMs, value.snapshotType);
              }
              if (chunk.next >= 0) {
                resumeValue = value;
                resumeAt = chunk.next;
                from = entry;
                if (n >= sliceKeys || writer.pendingBytes >= SLICE_BYTES) break;
                if (performance.now() - sliceStart >= SLICE_MS) break;
                continue;
              }
              resumeValue = undefined;
            } else {
              writer.add(
                db,
                key,
                value instanceof BigString ? value.peek() : String(value),
                expiresAtMs,
              );
            }
            from = entry + 1;
            if (n >= sliceKeys || writer.pendingBytes >= SLICE_BYTES) break;
            if ((n & 255) === 0 && performance.now() - sliceStart >= SLICE_MS) break;
            entry = values.nextEntry(from);
          }
          longestSliceMs = Math.max(longestSliceMs, performance.now() - sliceStart);
          await writer.flush();
          testHooks?.afterSlice?.(p, from);
          await yieldToLoop();
        }
      }
    }
    // What the walk saw must not outlive what the log keeps.
    await store.commit();
    checkWanted();
    await writer.complete();
    await testHooks?.beforeRename?.();
    // Synchronous from the check to the rename: a resynchronisation cannot
    // slip in between (it discards the keyspace before it deletes snapshots).
    checkWanted();
    const written = writer.renameIntoPlace();
    await syncDir(options.dir);
    const result: SnapshotResult = {
      path: written.path,
      lsn,
      keys: written.keys,
      bytes: written.bytes,
      durationMs: performance.now() - startedMs,
      longestSliceMs,
    };
    options.log.info("snapshot written", {
      file: written.path,
      lsn,
      keys: written.keys,
      bytes: written.bytes,
      ms: Math.round(result.durationMs),
    });
    return result;
  } catch (e) {
    await writer.abort();
    throw e;
  }
}
