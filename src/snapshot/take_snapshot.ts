/**
 * Taking a snapshot of a live store without stalling it: the keyspace is
 * walked partition by partition in slices of at most `SLICE_KEYS` keys,
 * `SLICE_BYTES` bytes or `SLICE_MS` milliseconds, and the event loop runs
 * between slices (block writes are awaited there), so requests keep being
 * served.
 *
 * The walk's place in a partition is an entry index to look from, never an
 * entry to read: between two slices the entry after the last one read may
 * have been freed (DEL, expiry) and even reused by another key, so each
 * slice finds the next live entry afresh, and reads an entry only in the
 * same synchronous step that found it live. A key present for the whole
 * walk keeps its index (see `key_table.ts`) and is read exactly once.
 *
 * Consistency: the snapshot is the state at its LSN, exactly. The LSN is
 * the log's end when the walk starts, and in the same synchronous step a
 * write guard goes on each database's engine (so a SWAPDB is in the
 * snapshot exactly when its LSN is): from then on, a write to a key the
 * walk has not read first saves the key's state for the snapshot — a
 * per-key copy-before-write, see `_point_in_time.ts` — and the walk skips
 * every key so decided (saved, or absent at the LSN and created since). A
 * FLUSHDB or FLUSHALL leaves the engine's old partitions to the walk. So
 * any record after the LSN, whatever state it depends on (a list pop, a
 * rename), replays over the snapshot exactly as it first applied.
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

import { SNAPSHOT_TYPE_FUNCTION_LIBRARY } from "../scripting/function_libraries.ts";
import type { Logger } from "../log/logger.ts";
import type { Store } from "../storage/store.ts";
import { Collection } from "../types/collection.ts";
import { BigString } from "../types/string/big_string.ts";
import { syncDir } from "../wal/segment.ts";
import { SNAPSHOT_BLOCK_TARGET_BYTES, SnapshotWriter } from "./snapshot_file.ts";
import { WalkGuard, WalkPosition } from "./_point_in_time.ts";

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

/** How often a snapshot waiting for an open group to close looks again. */
const GROUP_WAIT_MS = 10;
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
  // Not inside a group a yielded script holds open (see Store.inGroup):
  // the snapshot would hold half of it.
  for (;;) {
    await store.commit();
    checkWanted();
    if (!store.inGroup) break;
    await new Promise((resolve) => setTimeout(resolve, GROUP_WAIT_MS));
  }
  // The LSN and the engines in one synchronous step: memory holds every
  // record logged so far (durable or not: the commit before the rename
  // covers them), so the engines are each database's as of exactly this
  // LSN. SWAPDB after it swaps the databases' engines, not these; had an
  // await come between the two, a SWAPDB in between would be in the
  // engines and replayed again on load, swapping the databases back.
  const lsn = log.lastLsn;
  const libraries = [...store.functions.entries()];
  // From here every write first saves what it changes, if the walk has not
  // read it yet (see _point_in_time.ts): the walk reads the state at `lsn`.
  const walk = new WalkPosition();
  const guards: WalkGuard[] = [];
  const sliceKeys = options.sliceKeys ?? SLICE_KEYS;
  let longestSliceMs = 0;
  let writer: SnapshotWriter | undefined;
  try {
    for (let db = 0; db < store.databaseCount; db++) {
      const guard = new WalkGuard(db, store.engineOf(db), walk);
      guard.engine.setWriteGuard(guard);
      guards.push(guard);
    }
    writer = await SnapshotWriter.create(options.dir, lsn, options.replid, Date.now());
    for (const [name, code] of libraries) {
      writer.add(0, name, code, 0, SNAPSHOT_TYPE_FUNCTION_LIBRARY);
    }
    const addSaved = () => {
      for (const e of walk.saved) writer!.add(e.db, e.key, e.value, e.expiresAtMs, e.type);
      walk.saved.length = 0;
    };
    for (const guard of guards) {
      const db = guard.db;
      walk.db = db;
      for (let p = 0; p < guard.partitions.length; p++) {
        const { values } = guard.partitions[p];
        walk.partition = p;
        let from = 0;
        walk.from = 0;
        for (let entry = values.nextEntry(from); entry >= 0; entry = values.nextEntry(from)) {
          checkWanted();
          const sliceStart = performance.now();
          addSaved();
          for (let n = 1; entry >= 0; n++) {
            const key = values.keyAt(entry);
            const value = values.valueRefAt(entry);
            if (guard.isDecided(key)) {
              // Saved before it changed, read already, or absent at the LSN.
            } else if (value instanceof Collection) {
              const expiresAtMs = values.expiryAt(entry);
              // In chunks: the slice may end inside it, and the next go on
              // from the same place (a write in between saves the rest).
              const at = value === walk.resumeValue ? walk.resumeAt : 0;
              const chunk = value.snapshotChunk(at, SNAPSHOT_BLOCK_TARGET_BYTES);
              if (chunk.body !== "") {
                writer.add(db, key, chunk.body, expiresAtMs, value.snapshotType);
              }
              if (chunk.next >= 0) {
                walk.resumeValue = value;
                walk.resumeAt = chunk.next;
                from = entry;
                if (n >= sliceKeys || writer.pendingBytes >= SLICE_BYTES) break;
                if (performance.now() - sliceStart >= SLICE_MS) break;
                continue;
              }
              walk.resumeValue = undefined;
            } else {
              const expiresAtMs = values.expiryAt(entry);
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
          walk.from = from;
          longestSliceMs = Math.max(longestSliceMs, performance.now() - sliceStart);
          await writer.flush();
          testHooks?.afterSlice?.(p, from);
          await yieldToLoop();
        }
      }
    }
    // Every key is decided now: nothing more is saved.
    for (const guard of guards) guard.release();
    addSaved();
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
      // The longest the walk held the event loop: a pause longer than this came from elsewhere.
      longestSliceMs: Math.round(longestSliceMs),
    });
    return result;
  } catch (e) {
    await writer?.abort();
    throw e;
  } finally {
    for (const guard of guards) guard.release();
  }
}
