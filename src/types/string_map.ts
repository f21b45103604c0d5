/**
 * A map from binary strings to values for a large collection (a hash's
 * fields; a set's members, a sorted set's): open addressing over an
 * `Int32Array` with a hash computed here, in JavaScript.
 *
 * Why not a `Map<string, V>`: a request's strings are new, and V8 computes
 * a new string's hash on its first `Map` lookup through a call out of the
 * builtin that costs ~300 ns for a 20-byte string (measured, Deno 2.9:
 * `Map.has` of a just-made string 450–600 ns, of the same string once
 * hashed 50–70 ns; FNV-1a over it in JavaScript 15–30 ns). Every command on
 * a big collection looks its elements up: that call was 30% of the server's
 * time under redis-benchmark's HSET.
 *
 * Layout: `slots` holds [hash, position + 1] per slot (0: empty), load at
 * most 3/4, linear probing, deletion shifts later entries back (no
 * tombstones). A key and its value sit at a position in two parallel
 * arrays; a deleted position is reused by a later key but no live key ever
 * moves, so positions are stable cursors (HSCAN, snapshot chunks: a key
 * present throughout a walk is visited exactly once). The hash is seeded
 * per process, so that no one can choose keys that all collide.
 *
 * Keys should be flat strings, as a request's arguments are: V8 compares a
 * slice (`slice`/`substr` of 13 chars or more keeps a pointer into its
 * parent) or a concatenation with another string out of line, several
 * times slower (measured: a lookup ~100 ns with flat keys, ~600 ns with
 * sliced ones). {@link flatString} copies one.
 *
 * @example
 * ```ts
 * const map = new StringMap<string>();
 * map.set("f", "v"); // true: a new key
 * map.get("f"); // "v"
 * map.positionOf("f"); // 0
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import { grownSlots, removeSlot } from "../storage/hash_slots.ts";

const INITIAL_SLOTS = 8;
/** A V8 array holds at most ~2^27 elements; a map stays well under (see the types' limits). */
const MAX_POSITIONS = 1 << 26;

/** The per-process seed of {@link stringHash} (see the module doc). */
const SEED = crypto.getRandomValues(new Uint32Array(1))[0] | 1;

/**
 * The hash a {@link StringMap} files `key` under: seeded FNV-1a over its
 * char codes, then murmur3's finaliser to spread it over the low bits the
 * table uses.
 *
 * @example
 * ```ts
 * stringHash("a") === stringHash("a"); // true (within one process)
 * ```
 */
export function stringHash(key: string): number {
  let h = 0x811c9dc5 ^ SEED;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** V8 copies slices and concatenations shorter than this: they are flat already. */
const MIN_SLICED_CHARS = 13;
/** Reused argument arrays for String.fromCharCode.apply, by length (see `bytes/binary_string.ts`). */
const FLAT_MAX_CHARS = 256;
const charArrays: number[][] = [];

/**
 * `s` as a flat string (see the module doc): a copy of a possible slice or
 * concatenation, `s` itself when it is short enough to be flat already, or
 * too long for the copy to pay (past 256 chars comparing the bytes costs
 * more than reaching them).
 *
 * @example
 * ```ts
 * map.set(flatString(record.slice(0, 20)), value);
 * ```
 */
export function flatString(s: string): string {
  const length = s.length;
  if (length < MIN_SLICED_CHARS || length > FLAT_MAX_CHARS) return s;
  const codes = charArrays[length] ??= new Array<number>(length).fill(0);
  for (let i = 0; i < length; i++) codes[i] = s.charCodeAt(i);
  return String.fromCharCode.apply(null, codes);
}

/**
 * What {@link prefetchStrings} reads of an index of strings filed by
 * {@link stringHash}: a {@link StringMap}, a set's member table.
 *
 * @example
 * ```ts
 * const index: PrefetchableIndex = new StringMap<undefined>();
 * index.homePosition(stringHash("a")); // -1: empty
 * ```
 */
export interface PrefetchableIndex {
  /** Step 1: the position in the home slot of a key of hash `hash`, or -1. */
  homePosition(hash: number): number;
  /** Step 2: the key at position `at` (≥ 0), or undefined; step 3 reads it. */
  keyAt(at: number): string | undefined;
}

/**
 * A string-keyed map with stable positions (see the module doc).
 *
 * @example
 * ```ts
 * const map = new StringMap<number>();
 * map.set("a", 1);
 * for (let at = 0; at < map.positions; at++) map.keyAt(at); // "a"
 * ```
 */
export class StringMap<V> implements PrefetchableIndex {
  #slots = new Int32Array(2 * INITIAL_SLOTS);
  #mask = INITIAL_SLOTS - 1;
  #size = 0;
  readonly #keys: (string | undefined)[] = [];
  readonly #values: (V | undefined)[] = [];
  /** Positions of deleted keys, reused first. */
  readonly #free: number[] = [];

  /** Keys held. */
  get size(): number {
    return this.#size;
  }

  /** Positions ever used, [0, positions): live ones and holes. */
  get positions(): number {
    return this.#keys.length;
  }

  /** The position of `key`, or -1. */
  positionOf(key: string): number {
    const slot = this.#find(key, stringHash(key));
    return slot < 0 ? -1 : this.#slots[2 * slot + 1] - 1;
  }

  /** Whether `key` is held. */
  has(key: string): boolean {
    return this.#find(key, stringHash(key)) >= 0;
  }

  /** The value of `key`, or undefined. */
  get(key: string): V | undefined {
    const slot = this.#find(key, stringHash(key));
    return slot < 0 ? undefined : this.#values[this.#slots[2 * slot + 1] - 1];
  }

  /** Sets `key` to `value`; true if the key is new. One lookup either way. */
  set(key: string, value: V): boolean {
    const hash = stringHash(key);
    const slot = this.#find(key, hash);
    if (slot >= 0) {
      this.#values[this.#slots[2 * slot + 1] - 1] = value;
      return false;
    }
    this.#add(~slot, hash, key, value);
    return true;
  }

  /**
   * The position of `key`, adding it with `value` if absent: -(position +
   * 1) when added (one lookup for "add if absent, else read it").
   */
  place(key: string, value: V): number {
    const hash = stringHash(key);
    const slot = this.#find(key, hash);
    if (slot >= 0) return this.#slots[2 * slot + 1] - 1;
    return -this.#add(~slot, hash, key, value) - 1;
  }

  /** Removes `key`; whether it was held. */
  delete(key: string): boolean {
    const slot = this.#find(key, stringHash(key));
    if (slot < 0) return false;
    const at = this.#slots[2 * slot + 1] - 1;
    this.#keys[at] = undefined;
    this.#values[at] = undefined;
    this.#free.push(at);
    this.#removeSlot(slot);
    this.#size--;
    return true;
  }

  /** The key at position `at` (< {@link positions}), or undefined for a hole. */
  keyAt(at: number): string | undefined {
    return this.#keys[at];
  }

  /** The value at position `at`, or undefined for a hole. */
  valueAt(at: number): V | undefined {
    return this.#values[at];
  }

  /** Replaces the value at the live position `at`. */
  setValueAt(at: number, value: V): void {
    assert(this.#keys[at] !== undefined, "a value is set at a live position");
    this.#values[at] = value;
  }

  /**
   * Prefetching, step 1 of 2 (see {@link prefetchStrings}): the position in
   * the home slot of a key of hash `hash` (a {@link stringHash}), or -1.
   */
  homePosition(hash: number): number {
    return this.#slots[2 * (hash & this.#mask) + 1] - 1;
  }

  /** Places a new key in the empty slot `empty`; its position. */
  #add(empty: number, hash: number, key: string, value: V): number {
    const at = this.#free.length > 0 ? this.#free.pop()! : this.#keys.length;
    assert(at < MAX_POSITIONS, "a string map holds at most 2^26 positions");
    this.#keys[at] = key;
    this.#values[at] = value;
    this.#slots[2 * empty] = hash;
    this.#slots[2 * empty + 1] = at + 1;
    this.#size++;
    if (this.#size * 4 > (this.#mask + 1) * 3) this.#grow();
    return at;
  }

  /** The slot holding `key`, or the complement (`~slot`) of the empty slot where it would go. */
  #find(key: string, hash: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    let slot = hash & mask;
    for (;;) {
      const entry = slots[2 * slot + 1];
      if (entry === 0) return ~slot;
      if (slots[2 * slot] === hash && this.#keys[entry - 1] === key) return slot;
      slot = (slot + 1) & mask;
    }
  }

  #grow(): void {
    this.#slots = grownSlots(this.#slots);
    this.#mask = this.#slots.length / 2 - 1;
  }

  /** Empties `slot`, shifting back later entries of its probe run. */
  #removeSlot(slot: number): void {
    removeSlot(this.#slots, this.#mask, slot);
  }
}

/** Most keys one {@link prefetchStrings} call touches. */
export const PREFETCH_MAX_STRINGS = 64;
const prefetchAt = new Int32Array(PREFETCH_MAX_STRINGS);
const prefetchFound: (string | undefined)[] = new Array(PREFETCH_MAX_STRINGS).fill(undefined);

/**
 * Touches the memory that looking up `keys[i]` in `maps[i]` (i < `count`,
 * at most {@link PREFETCH_MAX_STRINGS}) will read — the slot, the key's
 * place, then the key string — one step for every key at a time, so that their cache misses
 * overlap rather than follow each other (as `Engine.prefetch` does for the
 * keyspace): a pipeline of HSETs to a big hash then finds its fields in
 * cache. `then(i, position)`, if given, is a last step per key (the
 * position found in its home slot: the key's, or another's). Changes
 * nothing; returns a number made of what it read (so that the reads cannot
 * be dropped as unused).
 *
 * @example
 * ```ts
 * prefetchStrings([fields, fields], ["a", "b"], 2);
 * ```
 */
export function prefetchStrings(
  maps: readonly PrefetchableIndex[],
  keys: readonly string[],
  count: number,
  then?: (i: number, at: number) => number,
): number {
  const n = Math.min(count, PREFETCH_MAX_STRINGS);
  // One dependent read per pass, so that each pass's misses overlap.
  for (let i = 0; i < n; i++) prefetchAt[i] = maps[i].homePosition(stringHash(keys[i]));
  for (let i = 0; i < n; i++) {
    const at = prefetchAt[i];
    prefetchFound[i] = at < 0 ? undefined : maps[i].keyAt(at);
  }
  let touched = 0;
  for (let i = 0; i < n; i++) touched += prefetchFound[i]?.length ?? 0;
  prefetchFound.fill(undefined, 0, n); // holds no key past the batch
  if (then !== undefined) { for (let i = 0; i < n; i++) touched += then(i, prefetchAt[i]); }
  return touched;
}
