/**
 * What makes a snapshot's walk read the keyspace as it was at the
 * snapshot's LSN although writes go on between its slices: one
 * {@link WalkGuard} per database engine (see `storage/write_guard.ts`).
 * Before a key changes, its guard decides it once: a key the walk has read
 * already, or one absent at the LSN, needs nothing but must not be read
 * again (it may come back ahead of the walk); a key not read yet has its
 * state saved now — copied, a collection in snapshot chunks — for the walk
 * to write. The cost is one copy of each key first written during a walk
 * (a collection of a million elements: its chunks, once), as Redis's
 * fork pays a page copy for each page first written during its save.
 *
 * @example
 * ```ts
 * const walk = new WalkPosition();
 * const guard = new WalkGuard(0, engine, walk);
 * engine.setWriteGuard(guard);
 * ```
 * @module
 */

import type { Engine, Partition } from "../storage/engine.ts";
import type { WriteGuard } from "../storage/write_guard.ts";
import { Collection } from "../types/collection.ts";
import { BigString } from "../types/string/big_string.ts";
import { fnv1a } from "../storage/hash.ts";
import { SNAPSHOT_BLOCK_TARGET_BYTES } from "./snapshot_file.ts";

/**
 * Bits of the filter in front of the set of keys decided: 2^20 (128 KiB,
 * allocated at the first decision), so that with k keys decided a key
 * that is not passes the filter with probability ~k / 2^20.
 */
const FILTER_BITS = 1 << 20;

/** One snapshot entry saved ahead of the walk. */
export interface SavedEntry {
  db: number;
  key: string;
  value: string;
  expiresAtMs: number;
  /** 0: a string; else the collection's snapshot entry type. */
  type: number;
}

/**
 * Where the walk is: entries before `(db, partition, from)` are read; a
 * collection being written in chunks is `resumeValue`, from `resumeAt`.
 */
export class WalkPosition {
  db = 0;
  partition = 0;
  from = 0;
  resumeValue: Collection | undefined = undefined;
  resumeAt = 0;
  /** States saved ahead of the walk, for it to write (drained by the walk). */
  readonly saved: SavedEntry[] = [];
}

/** One database engine's guard during one snapshot. */
export class WalkGuard implements WriteGuard {
  /** Keys decided (saved, read already, or absent at the LSN): the walk skips them. */
  readonly #decided = new Set<string>();
  /**
   * A bit per hash of the keys in `#decided` (see {@link isDecided}); empty
   * until the first decision.
   */
  #filter: Uint32Array | undefined;
  /** The engine's partitions as at the LSN: an emptied engine leaves them to the walk. */
  readonly partitions: readonly Partition[];
  #attached = true;

  constructor(readonly db: number, readonly engine: Engine, readonly walk: WalkPosition) {
    this.partitions = Array.from({ length: engine.partitionCount }, (_, p) => engine.partition(p));
  }

  /**
   * Whether the walk must skip `key`. A Set lookup with a string made
   * fresh from the arena costs ~250 ns in V8 15 (it internalizes the
   * string, through the string forwarding table) and grows that table:
   * asked for each of 1M keys, 2 s of walk and slices of 50–80 ms while
   * the table doubled (measured: bench `--only stall`, perf). The
   * walk asks it of every key, so a bit per hash answers first.
   */
  isDecided(key: string): boolean {
    const filter = this.#filter;
    if (filter === undefined) return false;
    const bit = fnv1a(key) & (FILTER_BITS - 1);
    if ((filter[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    return this.#decided.has(key);
  }

  beforeWrite(key: string, hash: number, partition: number): void {
    const bit = hash & (FILTER_BITS - 1);
    const filter = this.#filter ??= new Uint32Array(FILTER_BITS >>> 5);
    const word = bit >>> 5, mask = 1 << (bit & 31);
    if ((filter[word] & mask) !== 0 && this.#decided.has(key)) return;
    filter[word] |= mask;
    this.#decided.add(key);
    const { values } = this.partitions[partition];
    const entry = values.entryOf(key, hash);
    if (entry < 0) return; // absent at the LSN: nothing to save
    const walk = this.walk;
    const here = this.db === walk.db && partition === walk.partition;
    if (
      this.db < walk.db || (this.db === walk.db && partition < walk.partition) ||
      (here && entry < walk.from)
    ) {
      return; // read already, as it was at the LSN
    }
    const value = values.valueRefAt(entry);
    const expiresAtMs = values.expiryAt(entry);
    if (value instanceof Collection) {
      // Its chunks not yet written (all, unless the walk is inside it).
      let at = here && entry === walk.from && value === walk.resumeValue ? walk.resumeAt : 0;
      if (value === walk.resumeValue) walk.resumeValue = undefined;
      do {
        const chunk = value.snapshotChunk(at, SNAPSHOT_BLOCK_TARGET_BYTES);
        if (chunk.body !== "") {
          walk.saved.push({
            db: this.db,
            key,
            value: chunk.body,
            expiresAtMs,
            type: value.snapshotType,
          });
        }
        at = chunk.next;
      } while (at >= 0);
      return;
    }
    // A BigString changes in place: copy it.
    const text = value instanceof BigString ? value.toBinary() : String(value);
    walk.saved.push({ db: this.db, key, value: text, expiresAtMs, type: 0 });
  }

  detached(): void {
    this.#attached = false;
  }

  /** Removes the guard from its engine, unless the engine dropped it already. */
  release(): void {
    if (this.#attached) this.engine.setWriteGuard(undefined);
    this.#attached = false;
  }
}
