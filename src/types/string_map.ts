/**
 * A map from binary strings to values whose keys come from requests (the
 * keys watched, the channels subscribed, the keys clients block on), and
 * the seeded hash and prefetch step the big collections' tables share
 * (`hash/_field_table.ts`, `set/_member_table.ts`): open addressing over
 * an `Int32Array` with a hash computed here, in JavaScript.
 *
 * Why not a `Map<string, V>`: a request's strings are new, and V8 computes
 * a new string's hash on its first `Map` lookup through a call out of the
 * builtin that costs ~300 ns for a 20-byte string (measured, Deno 2.9:
 * `Map.has` of a just-made string 450–600 ns, of the same string once
 * hashed 50–70 ns; FNV-1a over it in JavaScript 15–30 ns). Every command on
 * a big collection looks its elements up: that call was 30% of the server's
 * time under redis-benchmark's HSET (when hashes kept their fields here).
 *
 * Layout: a {@link SlotTable} of [hash, position + 1] pairs, load at most
 * 3/4, resized a few probe runs at a time (no pause of the event loop as a
 * big hash grows). A key and its value sit at a position in two parallel
 * {@link PagedArray}s (no pause to copy them as they grow either); a deleted position is reused by a later key but no live key ever
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
import { NOT_FOUND, SlotTable } from "./slot_table.ts";
import { PagedArray } from "./paged_array.ts";

const INITIAL_SLOTS = 8;
/** A V8 array holds at most ~2^27 elements; a map stays well under (see the types' limits). */
const MAX_POSITIONS = 1 << 26;

/** The per-process seed of {@link stringHash} (see the module doc). */
const SEED = crypto.getRandomValues(new Uint32Array(1))[0] | 1;

/**
 * The hash a {@link StringMap} files `key` under: seeded FNV-1a over its
 * char codes, then murmur3's finaliser to spread it over the low bits the
 * table uses. Taken, when `key` is the next string (or the one after)
 * that the last {@link prefetchStrings} hashed, from its hashes: a
 * pipeline's lookups follow its prefetch in order, and hashing each
 * element twice was a tenth of an in-process HSET to a big hash.
 *
 * @example
 * ```ts
 * stringHash("a") === stringHash("a"); // true (within one process)
 * ```
 */
export function stringHash(key: string): number {
  const next = prefetchedNext;
  const count = prefetchedCount;
  if (next < count && key === prefetchedStrings[next]) {
    prefetchedNext = next + 1;
    return prefetchedHashes[next];
  }
  if (next + 1 < count && key === prefetchedStrings[next + 1]) {
    prefetchedNext = next + 2;
    return prefetchedHashes[next + 1];
  }
  return hashString(key);
}

/** {@link stringHash} computed. */
function hashString(key: string): number {
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
 * Where an index's keys lie, for {@link prefetchStrings}' last two steps:
 * a `MemberArena` (the keys of big hashes, sets and sorted sets), a
 * {@link StringMap}.
 *
 * @example
 * ```ts
 * const keys: PrefetchableKeys = new StringMap<undefined>();
 * keys.keyAddress(0); // -1: no key there
 * ```
 */
export interface PrefetchableKeys {
  /**
   * Step 2: where the key at position `at` (≥ 0) lies — a number step 3
   * takes — or -1 for nothing to touch. Reads the one array that says so.
   */
  keyAddress(at: number): number;
  /** Step 3: reads the key at `address` (≥ 0, from step 2) where a comparison will; a number made of it. */
  touchKey(address: number): number;
}

/**
 * What {@link prefetchStrings} reads of an index of strings filed by
 * {@link stringHash}: its slot table of [hash, position + 1] pairs (steps
 * 0 and 1: `SlotTable.homeWord`, `SlotTable.probeEntry`) and its keys by
 * position (steps 2 and 3).
 *
 * @example
 * ```ts
 * const index: PrefetchableIndex = new StringMap<undefined>();
 * index.prefetchSlots.probeEntry(stringHash("a")); // 0: empty
 * ```
 */
export interface PrefetchableIndex {
  readonly prefetchSlots: SlotTable;
  readonly prefetchKeys: PrefetchableKeys;
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
export class StringMap<V> implements PrefetchableIndex, PrefetchableKeys {
  readonly #table = new SlotTable(INITIAL_SLOTS, 3 / 4, false);
  readonly #keys = new PagedArray<string | undefined>();
  readonly #values = new PagedArray<V | undefined>();
  /** Positions of deleted keys, reused first. */
  readonly #free: number[] = [];

  /** Keys held. */
  get size(): number {
    return this.#table.size;
  }

  /** Positions ever used, [0, positions): live ones and holes. */
  get positions(): number {
    return this.#keys.length;
  }

  /** The position of `key`, or -1. */
  positionOf(key: string): number {
    const at = this.#find(key, stringHash(key));
    return at === NOT_FOUND ? -1 : this.#table.entryAt(at) - 1;
  }

  /** Whether `key` is held. */
  has(key: string): boolean {
    return this.#find(key, stringHash(key)) !== NOT_FOUND;
  }

  /** The value of `key`, or undefined. */
  get(key: string): V | undefined {
    const at = this.#find(key, stringHash(key));
    return at === NOT_FOUND ? undefined : this.#values.at(this.#table.entryAt(at) - 1);
  }

  /** Sets `key` to `value`; true if the key is new. One lookup either way. */
  set(key: string, value: V): boolean {
    const hash = stringHash(key);
    const at = this.#find(key, hash);
    if (at !== NOT_FOUND) {
      this.#values.set(this.#table.entryAt(at) - 1, value);
      return false;
    }
    this.#add(hash, key, value);
    return true;
  }

  /**
   * The position of `key`, adding it with `value` if absent: -(position +
   * 1) when added (one lookup for "add if absent, else read it").
   */
  place(key: string, value: V): number {
    const hash = stringHash(key);
    const at = this.#find(key, hash);
    if (at !== NOT_FOUND) return this.#table.entryAt(at) - 1;
    return -this.#add(hash, key, value) - 1;
  }

  /** Removes `key`; whether it was held. */
  delete(key: string): boolean {
    const found = this.#find(key, stringHash(key));
    if (found === NOT_FOUND) return false;
    const at = this.#table.entryAt(found) - 1;
    this.#keys.set(at, undefined);
    this.#values.set(at, undefined);
    this.#free.push(at);
    this.#table.removeAt(found);
    return true;
  }

  /** The key at position `at` (< {@link positions}), or undefined for a hole. */
  keyAt(at: number): string | undefined {
    return this.#keys.at(at);
  }

  /** The value at position `at`, or undefined for a hole. */
  valueAt(at: number): V | undefined {
    return this.#values.at(at);
  }

  /** See {@link PrefetchableIndex}. */
  get prefetchSlots(): SlotTable {
    return this.#table;
  }

  /** See {@link PrefetchableIndex}: the map itself (its keys are heap strings). */
  get prefetchKeys(): PrefetchableKeys {
    return this;
  }

  /** See {@link PrefetchableKeys.keyAddress}: the position itself. */
  keyAddress(at: number): number {
    return at < this.#keys.length ? at : -1;
  }

  /** See {@link PrefetchableKeys.touchKey}: the key's length (its string's header). */
  touchKey(at: number): number {
    return this.#keys.at(at)?.length ?? 0;
  }

  /** Replaces the value at the live position `at`. */
  setValueAt(at: number, value: V): void {
    assert(this.#keys.at(at) !== undefined, "a value is set at a live position");
    this.#values.set(at, value);
  }

  /** Files a new key; its position. */
  #add(hash: number, key: string, value: V): number {
    const at = this.#free.length > 0 ? this.#free.pop()! : this.#keys.length;
    assert(at < MAX_POSITIONS, "a string map holds at most 2^26 positions");
    if (at === this.#keys.length) {
      this.#keys.push(key);
      this.#values.push(value);
    } else {
      this.#keys.set(at, key);
      this.#values.set(at, value);
    }
    this.#table.add(hash, at + 1);
    return at;
  }

  /** The location of `key` in the slot table, or {@link NOT_FOUND}. */
  #find(key: string, hash: number): number {
    const table = this.#table;
    for (let at = table.find(hash); at !== NOT_FOUND; at = table.findNext(hash, at)) {
      if (this.#keys.at(table.entryAt(at) - 1) === key) return at;
    }
    return NOT_FOUND;
  }
}

/** Most keys one {@link prefetchStrings} call touches. */
export const PREFETCH_MAX_STRINGS = 64;
const prefetchAt = new Int32Array(PREFETCH_MAX_STRINGS);
const prefetchAddress = new Int32Array(PREFETCH_MAX_STRINGS);
/**
 * The strings the last {@link prefetchStrings} hashed, and their hashes,
 * for {@link stringHash} to give back (at most 64 strings kept until the
 * next batch); the next one it has not given.
 */
const prefetchedStrings: (string | undefined)[] = new Array(PREFETCH_MAX_STRINGS).fill(undefined);
const prefetchedHashes = new Int32Array(PREFETCH_MAX_STRINGS);
let prefetchedNext = 0;
let prefetchedCount = 0;

/**
 * Touches the memory that looking up `keys[i]` in `maps[i]` (i < `count`,
 * at most {@link PREFETCH_MAX_STRINGS}) will read — the slot, then the key
 * where it is compared — one step for every key at a time, so that their cache misses
 * overlap rather than follow each other (as `Engine.prefetch` does for the
 * keyspace): a pipeline of HSETs to a big hash then finds its fields in
 * cache. `then(i, position)`, if given, is one more step per key, taken
 * beside the key's own where a key of its hash is held (almost always the
 * key itself). Changes nothing; returns a number made of what it read (so
 * that the reads cannot be dropped as unused).
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
  // One dependent read per pass, so that each pass's misses overlap; the
  // hashing before them, in a pass of its own, so that the loop of slot
  // reads is short and more of its misses fit in the processor's window.
  // Measured with the passes below and `SlotTable.probeEntry`: perf samples
  // of the server under redis-benchmark -P 16 -r 100000 HSET (one hash of
  // 100k fields), this function and the lookup's compare (`equals`) 23% ->
  // 16% of the process's; SADD to one set of 100k members, A/B of 8
  // alternating rounds, median CPU per request 1.58 -> 1.40 us.
  for (let i = 0; i < n; i++) {
    prefetchedStrings[i] = keys[i];
    prefetchedHashes[i] = hashString(keys[i]);
  }
  // The home slots first, read with no branch on what they hold: a probe
  // branches on each slot it reads, and a mispredicted branch behind a
  // miss discards the loads issued after it, so the probe runs a pass
  // later, in cache. redis-benchmark -P 16 -r 100000, A/B of alternating
  // rounds, median CPU per request: HSET 1.74 -> 1.66 us (8 rounds); SADD
  // 1.50 -> 1.48 (8) and 1.85 -> 1.66 (6): small gains.
  let home = 0;
  for (let i = 0; i < n; i++) home ^= maps[i].prefetchSlots.homeWord(prefetchedHashes[i]);
  for (let i = 0; i < n; i++) {
    prefetchAt[i] = maps[i].prefetchSlots.probeEntry(prefetchedHashes[i]) - 1;
  }
  prefetchedCount = n;
  prefetchedNext = 0;
  let touched = home & 1;
  // The key's address and the `then` step are independent: read in one
  // pass, their misses overlap. redis-benchmark -P 16 -r 100000 HSET (one
  // hash of 100k fields), A/B of 8 alternating rounds: median 0.50 -> 0.52
  // M requests/s. The key's bytes, which depend on its address, are read
  // in a pass of their own, so that those misses overlap too rather than
  // each following its address's in one iteration (measured above).
  for (let i = 0; i < n; i++) {
    const at = prefetchAt[i];
    if (at < 0) {
      prefetchAddress[i] = -1;
      continue;
    }
    prefetchAddress[i] = maps[i].prefetchKeys.keyAddress(at);
    if (then !== undefined) touched += then(i, at);
  }
  for (let i = 0; i < n; i++) {
    const address = prefetchAddress[i];
    if (address >= 0) touched += maps[i].prefetchKeys.touchKey(address);
  }
  return touched;
}
