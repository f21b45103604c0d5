/**
 * What every collection type (hash; later list, set, sorted set) shares
 * with the keyspace: a collection is a {@link Collection} object held in a
 * partition's `KeyTable` (its `objects` side array; the arena keeps only
 * the key), so the key table, expiry, SCAN, DEL and the snapshot walk treat
 * all types alike, and the string hot path pays nothing (a string is never
 * an object of this class: `typeof value === "string"` answers first).
 *
 * Durability is by effect records: each type lists, in bounded pieces,
 * records that rebuild it ({@link Collection.rebuildRecords}) — what COPY,
 * MOVE and RENAME log for a collection — and writes itself to snapshots in
 * bounded chunks ({@link Collection.snapshotChunk}).
 *
 * @example
 * ```ts
 * const value = db.value("k");
 * if (value instanceof Collection) value.typeName; // "hash"
 * ```
 * @module
 */

import type { BigString } from "./string/big_string.ts";
import type { PrefetchableIndex } from "./string_map.ts";

/**
 * A key's value: a string (inline or a {@link BigString}) or a collection.
 *
 * @example
 * ```ts
 * const value: KeyValue | undefined = db.value("k");
 * ```
 */
export type KeyValue = string | BigString | Collection;

/**
 * Receives one record that rebuilds part of a collection: a `WalOp` code,
 * its value and its numeric field (see `wal/record.ts`).
 *
 * @example
 * ```ts
 * const emit: RecordSink = (op, value, numeric) => log.append(op, db, key, value, numeric);
 * ```
 */
export type RecordSink = (op: number, value: string, numeric: number) => void;

/**
 * A collection value. Subclasses are the types (`HashValue`...).
 *
 * @example
 * ```ts
 * class SetValue extends Collection { ... }
 * ```
 */
export abstract class Collection {
  /** TYPE's answer ("hash", "list", "set", "zset"). */
  abstract get typeName(): string;
  /** The snapshot entry type byte (see `snapshot/snapshot_file.ts`). */
  abstract get snapshotType(): number;
  /** Elements held (never 0 in the keyspace: an emptied collection is deleted). */
  abstract get length(): number;
  /** OBJECT ENCODING's answer, as Redis would encode the same contents. */
  abstract encoding(): string;
  /** An independent copy (COPY). */
  abstract clone(): Collection;
  /** An estimate of the bytes it holds (MEMORY USAGE). */
  abstract memoryBytes(): number;
  /**
   * Emits records that rebuild it under a key that is absent: each a field
   * or element, so no record grows with the collection.
   */
  abstract rebuildRecords(emit: RecordSink): void;
  /**
   * Its contents from element position `from` in one snapshot entry body of
   * about `maxBytes` (at least one element): the body and the position to
   * continue from (-1: done). Positions are stable while elements stay.
   */
  abstract snapshotChunk(from: number, maxBytes: number): { body: string; next: number };
  /** Adds the contents of one snapshot chunk (see {@link snapshotChunk}). */
  abstract loadChunk(body: string): void;
  /**
   * Its bytes if it is small enough to be held inline in the key table
   * (no object per key: what keeps a million small collections compact),
   * else undefined. The registry's `unpackCollection` reads them back.
   * A collection read from the key table may thus be a fresh copy: a
   * change is kept only once it is stored again (`Engine.setCollection`).
   */
  packed(): string | undefined {
    return undefined;
  }
  /**
   * Whether it stays in the keyspace with no elements (a stream does, as
   * in Redis; every other type goes with its last element).
   */
  get keptEmpty(): boolean {
    return false;
  }
  /**
   * Whether {@link memoryBytes} walks the elements (O(n)): its charge in
   * `used_memory`, taken after every change, is then reused over a few
   * changes (see `admin/_collection_memory.ts`).
   */
  get memoryBytesWalks(): boolean {
    return false;
  }
  /**
   * The index its elements are looked up in, if it keeps one (a big
   * hash's fields, a big set's members): pipelined commands prefetch their
   * element there (see `Engine.prefetch`).
   */
  elementMap(): PrefetchableIndex | undefined {
    return undefined;
  }
  /**
   * Prefetching, after the element map's steps: reads what a write to the
   * element at position `at` (-1: none) will touch besides the map (a big
   * hash's value bytes); returns a number made of it.
   */
  touchElement(_at: number): number {
    return 0;
  }
  /**
   * The elements SORT sorts — a list's in order, a set's members, a sorted
   * set's members by rank — or undefined: SORT refuses this type with
   * WRONGTYPE (a hash).
   */
  sortInput(): string[] | undefined {
    return undefined;
  }
}

/**
 * A command met a key of another type: Redis's WRONGTYPE. Thrown by the
 * storage layer's typed reads; the executor turns it into the error reply.
 *
 * @example
 * ```ts
 * throw new WrongTypeError();
 * ```
 */
export class WrongTypeError extends Error {
  constructor() {
    super("Operation against a key holding the wrong kind of value");
    this.name = "WrongTypeError";
  }
}
