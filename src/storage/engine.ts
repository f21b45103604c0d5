/**
 * The in-memory keyspace: `partitions` independent key tables (see
 * `key_table.ts`), chosen by a hash of the key, each with a side map of
 * expiry times for the keys that have one.
 *
 * In a single-threaded runtime partitions buy no parallelism; they bound
 * work that must walk the keyspace (snapshots, expiry scans, compaction) to
 * one partition at a time. Keys are binary strings (see
 * `bytes/binary_string.ts`); a value is a binary string held inline in the
 * partition's arena, or, past {@link INLINE_MAX_BYTES}, a {@link BigString}
 * of its own (the engine picks; readers see {@link StoredValue}). The engine
 * stores expiry times; it does not judge them — what "expired" means (and
 * who deletes) is the store's call.
 *
 * @example
 * ```ts
 * const engine = new Engine(16);
 * engine.set("user1", "John");
 * engine.get("user1"); // "John"
 * engine.delete("user1"); // true
 * ```
 * @module
 */

import { BigString, INLINE_MAX_BYTES } from "../types/string/big_string.ts";
import { Collection, type KeyValue } from "../types/collection.ts";
import { newCollection } from "../types/registry.ts";
import { type PrefetchableIndex, prefetchStrings } from "../types/string_map.ts";
import { fnv1a, partitionIndex } from "./hash.ts";
import {
  type ByteRange,
  EncodingHint,
  KeyTable,
  MAX_ARENA_BYTES,
  MemoryMeter,
} from "./key_table.ts";
import type { WriteGuard } from "./write_guard.ts";
import { objectCostBytes } from "../memory/object_cost.ts";
import { assert } from "../_assert.ts";

/**
 * What an expiry time costs besides its key's bytes, for memory
 * accounting: a `Map` entry (key, value, chain: ~3 words with the table's
 * slack) and the key string's header.
 */
export const EXPIRY_OVERHEAD_BYTES = 64;

/**
 * A value as the engine holds it: a short string inline, a long one as a
 * {@link BigString}.
 *
 * @example
 * ```ts
 * const value: StoredValue | undefined = engine.get("k");
 * const text = typeof value === "string" ? value : value?.toBinary();
 * ```
 */
export type StoredValue = string | BigString;

/**
 * Most keys one {@link Engine.prefetch} touches: a batch's worth (64
 * requests; MSET's ten keys each), within the second-level cache (three
 * lines per key). 64 left most of a pipelined MSET's keys out: server CPU
 * per request at pipeline 16, 3 alternating rounds, median 7.33 -> 6.17 µs
 * with 256 (and every key of a request prefetched, see the executor).
 *
 * @example
 * ```ts
 * engine.prefetch(keys.slice(0, PREFETCH_MAX_KEYS));
 * ```
 */
export const PREFETCH_MAX_KEYS = 256;

/** Longest key whose prefetched hash a lookup reuses (see `Engine.prefetch`). */
const PREFETCHED_KEY_MAX_BYTES = 256;

/**
 * The packed bytes of a small collection held inline (see
 * {@link Engine.packed}): `bytes[start, start + length)`. One object per
 * engine, refilled by each call: valid until the engine next changes.
 */
export type PackedView = Readonly<ByteRange>;

/** One partition: keys, values and expiry times (see `KeyTable.expiryAt`). */
export interface Partition {
  readonly values: KeyTable;
}

/**
 * A place in a walk over the keys that have an expiry time, partition by
 * partition in entry order (see {@link Engine.nextVolatile}); `expiresAtMs`
 * is the last key's.
 */
export interface VolatileCursor {
  partition: number;
  entry: number;
  expiresAtMs: number;
}

/** What a cut of packed bytes puts in their place. */
const NO_BYTES = new Uint8Array(0);

/**
 * A partitioned map of binary-string keys to binary-string values, with
 * optional absolute expiry times.
 *
 * @example
 * ```ts
 * const engine = new Engine(4);
 * engine.set("k", "v", Date.now() + 1000);
 * engine.expiresAt("k"); // a time 1 s from now
 * ```
 */
export class Engine {
  readonly #partitions: Partition[];
  #expiring = 0;
  #avgTtlMs = 0;
  /** What the partitions' tables cost, kept up to date by them (see `KeyTable.accountedBytes`). */
  readonly #meter = new MemoryMeter();
  /** Told before each change while a snapshot walks this engine (see `write_guard.ts`). */
  #guard: WriteGuard | undefined;
  /**
   * The last key hashed and its hash: one write touches its key up to four
   * times (room, undo, set, expiry), each a full FNV pass over the key.
   */
  #hashedKey = "";
  #hash = fnv1a("");
  /** Scratch for {@link prefetch}: each key's hash, partition, and last lookup step's result. */
  readonly #prefetchHash = new Int32Array(PREFETCH_MAX_KEYS);
  readonly #prefetchPartition = new Int32Array(PREFETCH_MAX_KEYS);
  readonly #prefetchAt = new Int32Array(PREFETCH_MAX_KEYS);
  readonly #prefetchEntry = new Int32Array(PREFETCH_MAX_KEYS);
  /**
   * The element step's indexes, collections and strings (see
   * {@link #prefetchElements}): the first `n` of a batch, emptied after
   * it. Fixed-length: setting an array's length to 0 drops its storage, and
   * three new backing stores a batch were ~28 bytes of garbage a request.
   */
  readonly #prefetchMaps: (PrefetchableIndex | undefined)[] = new Array<
    PrefetchableIndex | undefined
  >(PREFETCH_MAX_KEYS).fill(undefined);
  readonly #prefetchCollections: (Collection | undefined)[] = new Array<Collection | undefined>(
    PREFETCH_MAX_KEYS,
  ).fill(undefined);
  readonly #prefetchStrings: string[] = new Array<string>(PREFETCH_MAX_KEYS).fill("");
  #prefetchTouched = 0;
  /**
   * The keys the last {@link prefetch} hashed, in order, and the next one
   * a lookup is expected for: a lookup of that key takes its hash from
   * `#prefetchHash` instead of hashing it again (a hash depends only on a
   * key's bytes, so a stale match is still right). FNV-1a was ~12% of an
   * in-process pipelined GET's CPU profile, half of it the second pass.
   * Keys past {@link PREFETCHED_KEY_MAX_BYTES} are not kept (undefined):
   * what stays here until the next prefetch is at most 64 KiB.
   */
  readonly #prefetchedKeys: (string | undefined)[] = new Array<string | undefined>(
    PREFETCH_MAX_KEYS,
  ).fill(undefined);
  #prefetchedCount = 0;
  #prefetchedNext = 0;
  /** What {@link packed} and {@link splicePacked} answer in (one object, refilled). */
  readonly #packedView: ByteRange = { bytes: new Uint8Array(0), start: 0, length: 0 };

  constructor(partitions: number) {
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
    }
    this.#partitions = Array.from({ length: partitions }, () => ({
      values: new KeyTable(MAX_ARENA_BYTES, this.#meter),
    }));
  }

  /** How many partitions the keyspace has. */
  get partitionCount(): number {
    return this.#partitions.length;
  }

  /**
   * Touches the memory that looking up `keys` (at most
   * {@link PREFETCH_MAX_KEYS}) will read, one step of the lookup for every
   * key at a time (see `KeyTable.probeEntry`), so that their cache misses
   * overlap rather than follow each other; the lookups that follow then
   * find their data in cache, and take their hashes from here (see
   * `#prefetchedHash`). Changes no data. Worth it for a batch of requests,
   * not for one.
   *
   * `elements[i]`, if given, is the element the request of `keys[i]` looks
   * up in it (a field of HSET...; anything else is harmless): when the key
   * holds a collection that keeps an element map (`Collection.elementMap`),
   * the element's lookup is prefetched the same way. Only the first
   * `keyCount` of `keys` and `elements` are read (a caller's reused arrays).
   */
  prefetch(
    keys: readonly string[],
    elements?: readonly (string | undefined)[],
    keyCount = keys.length,
  ): void {
    const count = Math.min(keyCount, PREFETCH_MAX_KEYS);
    const partitionOf = this.#prefetchPartition;
    const at = this.#prefetchAt;
    const entries = this.#prefetchEntry;
    // Hashing first keeps the loops that load short: more of their
    // independent loads fit in the processor's window at once.
    const hashes = this.#prefetchHash;
    // A pipeline often repeats one key (redis-benchmark's LPUSH, HSET...):
    // a repeat copies the lookups of the key before it (-1 in `at` below:
    // its memory was touched already). In-process, pipelines of 16, min of
    // 3 alternating rounds: HSET 736 -> 672 ns, LPUSH 566 -> 552 ns.
    const prefetched = this.#prefetchedKeys;
    for (let i = 0; i < count; i++) {
      const hash = i > 0 && keys[i] === keys[i - 1] ? hashes[i - 1] : fnv1a(keys[i]);
      hashes[i] = hash;
      prefetched[i] = keys[i].length <= PREFETCHED_KEY_MAX_BYTES ? keys[i] : undefined;
      partitionOf[i] = partitionIndex(hash, this.#partitions.length);
    }
    this.#prefetchedCount = count;
    this.#prefetchedNext = 0;
    for (let i = 0; i < count; i++) {
      entries[i] = i > 0 && keys[i] === keys[i - 1]
        ? entries[i - 1]
        : this.#partitions[partitionOf[i]].values.probeEntry(hashes[i]);
    }
    for (let i = 0; i < count; i++) {
      at[i] = i > 0 && keys[i] === keys[i - 1]
        ? -1
        : this.#partitions[partitionOf[i]].values.entryOffset(entries[i]);
    }
    let touched = 0;
    for (let i = 0; i < count; i++) {
      if (at[i] < 0) continue;
      const { values } = this.#partitions[partitionOf[i]];
      touched += values.arenaByte(at[i]) + values.entryWords(entries[i]);
    }
    if (elements !== undefined) touched += this.#prefetchElements(elements, count);
    // Kept, so that the compiler cannot drop the reads as unused.
    this.#prefetchTouched = touched;
  }

  /**
   * The element step of {@link prefetch}: the entries probed there are
   * the keys' own unless an earlier key in the run shares the slot tag
   * (then this prefetches in the wrong collection: wasted, never wrong).
   */
  #prefetchElements(elements: readonly (string | undefined)[], count: number): number {
    const maps = this.#prefetchMaps;
    const collections = this.#prefetchCollections;
    const strings = this.#prefetchStrings;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const element = elements[i];
      if (element === undefined) continue;
      const object = this.#partitions[this.#prefetchPartition[i]].values.objectAt(
        this.#prefetchEntry[i],
      );
      if (!(object instanceof Collection)) continue;
      const map = object.elementMap();
      if (map === undefined) continue;
      maps[n] = map;
      collections[n] = object;
      strings[n++] = element;
    }
    // The first `n` are set: what prefetchStrings reads.
    const touched = n === 0
      ? 0
      : prefetchStrings(maps as readonly PrefetchableIndex[], strings, n, this.#touchElement);
    // Holds no collection past the batch.
    for (let i = 0; i < n; i++) {
      maps[i] = undefined;
      collections[i] = undefined;
      strings[i] = "";
    }
    return touched;
  }

  /** The last element step: what a write there touches besides the map (a hash's value). */
  readonly #touchElement = (i: number, at: number): number =>
    this.#prefetchCollections[i]!.touchElement(at);

  /**
   * Where `key`'s string value lies, expired or not (see
   * `KeyTable.stringBytes`): 1 with `out` filled, 0 without the key, -1
   * for a value to read with {@link get}.
   */
  stringBytes(key: string, out: ByteRange, maxLength: number): number {
    const hash = this.#hashOf(key);
    return this.#partitionOf(hash).values.stringBytes(key, hash, out, maxLength);
  }

  /**
   * The value of `key`, or `undefined` (expired or not); marks it used
   * unless `touch` is false.
   */
  get(key: string, touch = true): KeyValue | undefined {
    const hash = this.#hashOf(key);
    return this.#partitionOf(hash).values.get(key, hash, touch) as KeyValue | undefined;
  }

  /**
   * The snapshot type of `key`'s value (0: a string; `SNAPSHOT_TYPE_HASH`
   * ...), or -1 without the key (expired or not); marks it used unless
   * `touch` is false. Unpacks nothing: EXISTS, TYPE and TTL of a small
   * collection held inline made a copy of it to drop.
   */
  typeOf(key: string, touch = true): number {
    const hash = this.#hashOf(key);
    const kind = this.#partitionOf(hash).values.kindOf(key, hash, touch);
    if (typeof kind === "number") return kind;
    return kind instanceof Collection ? kind.snapshotType : 0;
  }

  /**
   * Loads one snapshot entry of entry type `type` (0: a string; else a
   * chunk of a collection, added to what earlier chunks of `key` loaded).
   */
  load(key: string, value: string, expiresAtMs: number, type: number): void {
    if (type === 0) return this.set(key, value, expiresAtMs);
    let current = this.get(key, false);
    if (!(current instanceof Collection) || current.snapshotType !== type) {
      current = newCollection(type);
    }
    current.loadChunk(value);
    if (current.length === 0 && !current.keptEmpty) return; // an empty chunk makes no key
    this.setCollection(key, current);
    this.setExpiry(key, expiresAtMs);
  }

  /**
   * Installs (or, with undefined, removes) the {@link WriteGuard} told
   * before each change; one at a time.
   */
  setWriteGuard(guard: WriteGuard | undefined): void {
    if (guard !== undefined && this.#guard !== undefined) {
      throw new Error("a write guard is already installed");
    }
    this.#guard = guard;
  }

  /**
   * Says that the collection at `key` is about to change in place (a
   * collection's own apply functions mutate the object that {@link get}
   * returned): callers that change a collection call this first.
   */
  willChange(key: string): void {
    if (this.#guard !== undefined) this.#guarded(key);
  }

  #guarded(key: string): void {
    const hash = this.#hashOf(key);
    this.#guard!.beforeWrite(key, hash, partitionIndex(hash, this.#partitions.length));
  }

  /**
   * Moves what `from` holds — any type, with its expiry and encoding hint —
   * to `to` in `target` (this engine or another database's), replacing
   * what `to` held: the value itself moves, in O(1) whatever its size.
   * Returns false (nothing changed) without `from`.
   */
  moveKey(from: string, target: Engine, to: string): boolean {
    const value = this.get(from, false);
    if (value === undefined) return false;
    const expiresAtMs = this.expiresAt(from);
    const hint = this.objectFacts(from)?.hint ?? 0;
    this.delete(from);
    target.delete(to);
    if (value instanceof Collection) {
      target.setCollection(to, value);
    } else if (typeof value === "string") {
      target.set(to, value, 0, hint);
    } else {
      const hash = target.#hashOf(to);
      target.#partitionOf(hash).values.setObject(to, hash, value, objectCostBytes(value));
    }
    if (expiresAtMs !== 0) target.setExpiry(to, expiresAtMs);
    return true;
  }

  /**
   * Puts the collection `value` at `key`, replacing what it held; an
   * existing key keeps its expiry, a new one has none. A small collection
   * is stored as its packed bytes: a change made to one read from here is
   * kept only by storing it again.
   */
  setCollection(key: string, value: Collection): void {
    // Small: its bytes inline, no object per key (see Collection.packed).
    const packed = value.packed();
    if (packed !== undefined && packed.length <= INLINE_MAX_BYTES) {
      return this.setPacked(key, packed, value.snapshotType);
    }
    if (this.#guard !== undefined) this.#guarded(key);
    const hash = this.#hashOf(key);
    this.#partitionOf(hash).values.setObject(key, hash, value, objectCostBytes(value));
  }

  /**
   * Puts a small collection of snapshot type `type` at `key` as its packed
   * bytes `packed` (what its `Collection.packed` gives, at most
   * {@link INLINE_MAX_BYTES}), as {@link setCollection} stores one: for a
   * collection made in its packed form, with no object built first.
   */
  setPacked(key: string, packed: string, type: number): void {
    assert(packed.length <= INLINE_MAX_BYTES, "packed bytes stay inline");
    if (this.#guard !== undefined) this.#guarded(key);
    const hash = this.#hashOf(key);
    this.#partitionOf(hash).values.setPacked(key, hash, packed, type);
  }

  /**
   * The packed bytes of `key` when it holds a small collection of snapshot
   * type `type` inline (see {@link setCollection}), stamped as used;
   * undefined otherwise (no key, or not that type inline). For a write
   * that edits the bytes where they are ({@link splicePacked}) rather than
   * unpacking a copy and storing it back; `touch` false for a write's
   * later looks at a key its command stamped once (Redis looks a key up
   * once a command). The view is this engine's one {@link PackedView},
   * valid until the engine next changes.
   */
  packed(key: string, type: number, touch = true): PackedView | undefined {
    const hash = this.#hashOf(key);
    const { values } = this.#partitionOf(hash);
    const entry = values.packedEntry(key, hash, type, touch);
    if (entry < 0) return undefined;
    values.inlineRange(entry, this.#packedView);
    return this.#packedView;
  }

  /**
   * What {@link get} gives for `key`, except for a small collection of
   * snapshot type `type` held inline: its packed bytes, as {@link packed}
   * views them ({@link packedView}, valid until the engine next changes),
   * where `get` would unpack a copy. One lookup for a reader of either form.
   */
  getOrPacked(key: string, type: number, touch = true): KeyValue | PackedView | undefined {
    const hash = this.#hashOf(key);
    return this.#partitionOf(hash).values.getOrPacked(key, hash, type, this.#packedView, touch) as
      | KeyValue
      | PackedView
      | undefined;
  }

  /** The one view {@link packed} and {@link getOrPacked} answer in: tells it from a value. */
  get packedView(): PackedView {
    return this.#packedView;
  }

  /**
   * Replaces the packed bytes [`from`, `to`) of `key` (offsets into what
   * {@link packed} just viewed; the view is stale after) with
   * `bytes[0, count)`. The caller keeps the collection's invariants, and
   * its result at most {@link INLINE_MAX_BYTES}.
   */
  splicePacked(key: string, from: number, to: number, bytes: Uint8Array, count: number): void {
    const hash = this.#hashOf(key);
    const { values } = this.#partitionOf(hash);
    const entry = values.entryOf(key, hash);
    assert(entry >= 0, "a splice of packed bytes names a key");
    this.#splice(key, values, entry, from, to, bytes, count);
  }

  /**
   * Removes the packed bytes [`from`, `to`) of `key` (offsets into what
   * {@link packed} just viewed), or the key itself when they are all it
   * holds: a collection held inline losing elements, its last with it.
   */
  cutPacked(key: string, from: number, to: number): void {
    const hash = this.#hashOf(key);
    const { values } = this.#partitionOf(hash);
    const entry = values.entryOf(key, hash);
    assert(entry >= 0, "a cut of packed bytes names a key");
    if (to - from === values.packedLength(entry)) this.delete(key);
    else this.#splice(key, values, entry, from, to, NO_BYTES, 0);
  }

  /** {@link splicePacked} of the entry `entry` of `values`, where `key` was found. */
  #splice(
    key: string,
    values: KeyTable,
    entry: number,
    from: number,
    to: number,
    bytes: Uint8Array,
    count: number,
  ): void {
    // The guard saves the old value first; it finds the key itself (its own lookup).
    if (this.#guard !== undefined) this.#guarded(key);
    values.splicePacked(entry, from, to, bytes, count);
    assert(values.packedLength(entry) <= INLINE_MAX_BYTES, "packed bytes stay inline");
  }

  /**
   * Says that the value at `key` changed in place (a collection's apply
   * function, a BigString's setRange): its memory charge is taken again.
   */
  changed(key: string): void {
    const hash = this.#hashOf(key);
    const { values } = this.#partitionOf(hash);
    const entry = values.entryOf(key, hash);
    const object = values.objectAt(entry);
    if (object !== undefined) values.recharge(entry, objectCostBytes(object));
  }

  /**
   * What this keyspace costs, estimated in O(1) (see
   * `KeyTable.accountedBytes`), with its expiry times.
   */
  get accountedBytes(): number {
    return this.#meter.bytes + this.#expiring * EXPIRY_OVERHEAD_BYTES;
  }

  /**
   * What OBJECT reports of `key` without marking it used: its
   * `EncodingHint` bits and its access clock; undefined without the key.
   */
  objectFacts(key: string): { hint: number; accessedAt: number } | undefined {
    const hash = this.#hashOf(key);
    const { values } = this.#partitionOf(hash);
    const entry = values.entryOf(key, hash);
    return entry < 0
      ? undefined
      : { hint: values.hintAt(entry), accessedAt: values.accessedAt(entry) };
  }

  /** The expiry time of `key` in Unix ms, or 0 if it has none (or no key). */
  expiresAt(key: string): number {
    const hash = this.#hashOf(key);
    return this.#partitionOf(hash).values.expiryOf(key, hash);
  }

  /**
   * Sets `key` to `value`, expiring at `expiresAtMs` (0: never), with its
   * `EncodingHint` (how Redis would have made it: OBJECT ENCODING).
   */
  set(key: string, value: string, expiresAtMs = 0, hint = 0): void {
    if (this.#guard !== undefined) this.#guarded(key);
    const hash = this.#hashOf(key);
    const { values } = this.#partitionOf(hash);
    if (value.length <= INLINE_MAX_BYTES) values.set(key, hash, value, hint);
    else {
      const big = BigString.fromBinary(value);
      values.setObject(key, hash, big, objectCostBytes(big));
    }
    this.#setExpiry(values, key, hash, expiresAtMs);
  }

  /**
   * Sets `key`'s inline string to the decimal digits of safe integer
   * `value` where it lies, its expiry kept (see `KeyTable.setDecimal`);
   * false, changing nothing, when it holds no inline string with room for
   * them.
   */
  setDecimal(key: string, value: number): boolean {
    if (this.#guard !== undefined) this.#guarded(key);
    const hash = this.#hashOf(key);
    return this.#partitionOf(hash).values.setDecimal(key, hash, value);
  }

  /**
   * Writes binary string `bytes` into `key`'s string at `offset`, growing
   * it zero-filled as needed (a missing key is created, with no expiry; an
   * existing one keeps its expiry); returns the new length. Costs about
   * `bytes.length` for a value held as a {@link BigString}; an inline value
   * (at most {@link INLINE_MAX_BYTES}) is rewritten. The caller checks that
   * the key holds a string (a replayed log record may meet anything:
   * another value is overwritten).
   */
  setRange(key: string, offset: number, bytes: string): number {
    if (this.#guard !== undefined) this.#guarded(key);
    const hash = this.#hashOf(key);
    const { values } = this.#partitionOf(hash);
    const current = values.get(key, hash);
    if (current instanceof BigString) {
      const length = current.setRange(offset, bytes);
      values.recharge(values.entryOf(key, hash), objectCostBytes(current));
      return length;
    }
    const base = typeof current === "string" ? current : "";
    const end = offset + bytes.length;
    if (Math.max(end, base.length) <= INLINE_MAX_BYTES) {
      const padded = base.length < offset ? base + "\0".repeat(offset - base.length) : base;
      values.set(key, hash, padded.slice(0, offset) + bytes + padded.slice(end), EncodingHint.Raw);
      return Math.max(end, base.length);
    }
    const big = BigString.fromBinary(base);
    const length = big.setRange(offset, bytes);
    values.setObject(key, hash, big, objectCostBytes(big));
    return length;
  }

  /**
   * Whether `key` with a value of `valueBytes` fits in its partition (see
   * `KeyTable.hasRoomFor`; a value held as a BigString takes no arena room).
   */
  hasRoomFor(key: string, valueBytes: number): boolean {
    const inline = valueBytes <= INLINE_MAX_BYTES ? valueBytes : 0;
    return this.#partitionOf(this.#hashOf(key)).values.hasRoomFor(key.length + inline);
  }

  /** Changes the expiry of an existing key (0: never); false if no key. */
  setExpiry(key: string, expiresAtMs: number): boolean {
    if (this.#guard !== undefined) this.#guarded(key);
    const hash = this.#hashOf(key);
    const { values } = this.#partitionOf(hash);
    if (!values.has(key, hash)) return false;
    this.#setExpiry(values, key, hash, expiresAtMs);
    return true;
  }

  /** Removes `key`; whether it existed. */
  delete(key: string): boolean {
    if (this.#guard !== undefined) this.#guarded(key);
    const hash = this.#hashOf(key);
    const { values } = this.#partitionOf(hash);
    const volatile = values.volatileCount;
    if (!values.delete(key, hash)) return false;
    this.#expiring -= volatile - values.volatileCount;
    return true;
  }

  /**
   * A key chosen at random (expired or not), or undefined when empty: a
   * partition by its share of the keys, then a key in it (`random` gives
   * numbers in [0, 1)).
   */
  randomKey(random: () => number = Math.random): string | undefined {
    const total = this.size;
    if (total === 0) return undefined;
    let pick = Math.floor(random() * total);
    for (const partition of this.#partitions) {
      const size = partition.values.size;
      if (pick < size) {
        const entry = partition.values.randomEntry(random());
        return entry < 0 ? undefined : partition.values.keyAt(entry);
      }
      pick -= size;
    }
    return undefined;
  }

  /** Keys held (expired ones not yet removed included), over all partitions. */
  get size(): number {
    let total = 0;
    for (const partition of this.#partitions) total += partition.values.size;
    return total;
  }

  /**
   * The next key with an expiry time in `cursor`'s partition, after the
   * last one it gave; at the partition's end, undefined, and the cursor
   * moves to the start of the next partition (the caller wraps it).
   */
  nextVolatile(cursor: VolatileCursor): string | undefined {
    const { values } = this.#partitions[cursor.partition];
    const entry = values.nextVolatileEntry(cursor.entry);
    if (entry < 0) {
      cursor.partition++;
      cursor.entry = 0;
      return undefined;
    }
    cursor.entry = entry + 1;
    cursor.expiresAtMs = values.expiryAt(entry);
    return values.keyAt(entry);
  }

  /** Keys that have an expiry time. */
  get expiringCount(): number {
    return this.#expiring;
  }

  /**
   * An estimate of the keys' time to live (INFO keyspace's `avg_ttl`, ms):
   * Redis's running average of what active expiry samples, each sample's
   * mean weighing 1/50 (0 until a sample; back to 0 when emptied).
   */
  get avgTtlMs(): number {
    return this.#avgTtlMs;
  }

  /** Adds a sample of `count` live keys' times to live, `sumMs` in all, to {@link avgTtlMs}. */
  sampleTtls(sumMs: number, count: number): void {
    if (count === 0) return;
    const mean = Math.floor(sumMs / count);
    if (this.#avgTtlMs === 0) this.#avgTtlMs = mean;
    this.#avgTtlMs = Math.floor(this.#avgTtlMs / 50) * 49 + Math.floor(mean / 50);
  }

  /**
   * Removes every key. While a snapshot walks this engine, its partitions
   * are left to the walk as they are and fresh ones take their place (the
   * guard is told, and removed): the walk still reads the state at its LSN.
   */
  clear(): void {
    this.#expiring = 0;
    this.#avgTtlMs = 0;
    const guard = this.#guard;
    if (guard !== undefined) {
      this.#guard = undefined;
      for (let p = 0; p < this.#partitions.length; p++) {
        // The old table stays with the walk: its cost leaves the meter.
        this.#meter.bytes -= this.#partitions[p].values.accountedBytes;
        this.#partitions[p] = { values: new KeyTable(MAX_ARENA_BYTES, this.#meter) };
      }
      guard.detached();
      return;
    }
    for (const partition of this.#partitions) partition.values.clear();
  }

  /**
   * One partition, for work done a partition at a time. The table is
   * live: callers must change it only through the engine.
   */
  partition(index: number): Readonly<Partition> {
    return this.#partitions[index];
  }

  /** Sets the expiry of `key`, which `values` holds (0: none). */
  #setExpiry(values: KeyTable, key: string, hash: number, expiresAtMs: number): void {
    const volatile = values.volatileCount;
    if (expiresAtMs === 0 && volatile === 0) return; // the common SET: nothing to clear
    values.setExpiryAt(values.entryOf(key, hash), expiresAtMs);
    this.#expiring += values.volatileCount - volatile;
  }

  #hashOf(key: string): number {
    if (key !== this.#hashedKey) {
      this.#hashedKey = key;
      this.#hash = this.#prefetchedHash(key);
    }
    return this.#hash;
  }

  /**
   * `fnv1a(key)`, from {@link prefetch}'s hashes when `key` is the next
   * key it hashed (or the one after: a request that never looked its key
   * up, e.g. refused, skips one).
   */
  #prefetchedHash(key: string): number {
    const next = this.#prefetchedNext;
    const count = this.#prefetchedCount;
    const keys = this.#prefetchedKeys;
    if (next < count && key === keys[next]) {
      this.#prefetchedNext = next + 1;
      return this.#prefetchHash[next];
    }
    if (next + 1 < count && key === keys[next + 1]) {
      this.#prefetchedNext = next + 2;
      return this.#prefetchHash[next + 1];
    }
    return fnv1a(key);
  }

  #partitionOf(hash: number): Partition {
    return this.#partitions[partitionIndex(hash, this.#partitions.length)];
  }
}
