/**
 * Taking a snapshot of a live store without stalling it: the keyspace is
 * walked partition by partition in slices of at most `SLICE_KEYS` keys or
 * `SLICE_MS` milliseconds, and the event loop runs between slices (block
 * writes are awaited there), so requests keep being served.
 *
 * Consistency: the snapshot's LSN is the log's durable end when the walk
 * starts (everything up to it is committed first). Writes during the walk
 * may or may not be seen by it, but every one has an LSN after the
 * snapshot's and is replayed over it on restore; log effects are
 * idempotent (SET of a value, DEL, PEXPIREAT of an absolute time, FLUSHALL),
 * so snapshot + the WAL after its LSN is exactly the state at the end.
 * Before the file is made durable, the writes the walk may have seen are
 * committed too, so a snapshot never holds a change its log could lose.
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
import { SnapshotWriter } from "./snapshot_file.ts";

/** Most keys one slice walks before yielding to the event loop. */
export const SLICE_KEYS = 4096;
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

/** Where and how to write. */
export interface SnapshotOptions {
  dir: string;
  /** The replication id of the history the snapshot belongs to ("" if none). */
  replid: string;
  log: Logger;
  /** Keys per slice (tests use small slices to interleave writes). */
  sliceKeys?: number;
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
  await store.commit();
  const lsn = log.durableLsn;
  const generation = store.generation;
  const writer = await SnapshotWriter.create(options.dir, lsn, options.replid, Date.now());
  const sliceKeys = options.sliceKeys ?? SLICE_KEYS;
  let longestSliceMs = 0;
  try {
    const { engine } = store;
    for (let p = 0; p < engine.partitionCount; p++) {
      const { values, expires } = engine.partition(p);
      // Entry indices are stable cursors: a key present throughout is seen once.
      let entry = values.nextEntry(0);
      while (entry >= 0) {
        const sliceStart = performance.now();
        for (let n = 0; n < sliceKeys && entry >= 0; n++) {
          const key = values.keyAt(entry);
          writer.add(key, values.valueAt(entry), expires.size === 0 ? 0 : expires.get(key) ?? 0);
          entry = values.nextEntry(entry + 1);
          if ((n & 255) === 255 && performance.now() - sliceStart >= SLICE_MS) break;
        }
        longestSliceMs = Math.max(longestSliceMs, performance.now() - sliceStart);
        await writer.flush();
        await yieldToLoop();
      }
    }
    // What the walk saw must not outlive what the log keeps.
    await store.commit();
    // A replica that discarded its keyspace meanwhile (a full resync) has
    // another history: this walk saw part of the old one.
    if (store.generation !== generation) {
      throw new Error("the keyspace was discarded during the snapshot; abandoned");
    }
    const written = await writer.finish();
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
