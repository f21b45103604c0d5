/**
 * The slots of a big collection's hash index (a hash's fields, a set's
 * members, a sorted set's members): open addressing over an `Int32Array`
 * of `[hash, entry]` pairs (entry 0: empty; the caller's entry numbers
 * start at 1), linear probing, a deletion shifting the later pairs of its
 * probe run back (no tombstones), and a power-of-two number of slots that
 * doubles past a load limit and halves below an eighth, if asked to.
 *
 * A resize is incremental, as Redis rehashes its dicts: the new slots take
 * every addition at once, while the old ones are drained a few probe runs
 * per addition or removal ({@link STEP_SLOTS}), and a lookup that misses in
 * the new slots looks in the old ones until they are empty. Resizing in
 * one step held the event loop for as long as re-placing every pair takes:
 * measured in-process (Deno 2.9, this workplace's VM), a `StringMap`
 * growing to 6.3M keys paused 3 ms at 49k keys, 50 ms at 786k, 98 ms at
 * 1.6M, 197 ms at 3.1M and 467 ms at 6.3M; through the server, SADD of
 * new members to one set up to 3M members had a worst latency of 206 ms
 * (Redis: 4 ms).
 *
 * Draining keeps whole probe runs together: a sweep of the old slots
 * starts at an empty slot and stops only at empty slots, so a run is never
 * half moved, and a pair still in the old slots is found by the usual
 * probe there (a swept slot is empty, and so is the home slot of every
 * moved pair's run). A removal in the old slots shifts pairs back within
 * their run, which lies wholly in the unswept part.
 *
 * The size of a drain step bounds the work: {@link STEP_SLOTS} slots and
 * the rest of the run the last one is in. A table that doubles at a load
 * of 3/4 or less takes at least a quarter of its old slot count in
 * additions before it must grow again, and a sweep of the old slots takes
 * one addition per {@link STEP_SLOTS} of them, so a drain always ends
 * before the next resize; only a table of a few slots, or a removal that
 * shrinks the table while it still drains, finishes a drain at once (then
 * few pairs are left).
 *
 * @example
 * ```ts
 * const table = new SlotTable(8, 3 / 4, false);
 * table.add(0x1234, 1);
 * const at = table.find(0x1234);
 * table.entryAt(at); // 1
 * table.removeAt(at);
 * table.size; // 0
 * ```
 * @module
 */

import { assert } from "../_assert.ts";

/** What {@link SlotTable.find} and {@link SlotTable.findNext} return when nothing is left. */
export const NOT_FOUND = -1;

/** Old slots drained per addition or removal (and the rest of the last probe run). */
export const STEP_SLOTS = 64;

/** Most slots a table has (2^28 pairs: 2 GiB of `Int32Array`, past any collection's limit). */
const MAX_SLOTS = 1 << 28;

/**
 * An incrementally resized open-addressing slot table (see the module doc).
 * A location (what {@link find} returns) is a slot of the new slots (≥ 0)
 * or `-2 - slot` for one of the old slots; it stays valid until the next
 * {@link add} or {@link removeAt}.
 *
 * @example
 * ```ts
 * const table = new SlotTable(16, 1 / 2, true);
 * for (let at = table.find(7); at !== NOT_FOUND; at = table.findNext(7, at)) {
 *   table.entryAt(at); // each entry filed under hash 7
 * }
 * ```
 */
export class SlotTable {
  #slots: Int32Array;
  #mask: number;
  /** The slots being drained, or undefined. */
  #old: Int32Array | undefined = undefined;
  #oldMask = 0;
  /** The old slot the sweep began at (an empty one), and how many it has swept. */
  #sweepStart = 0;
  #swept = 0;
  #size = 0;
  /**
   * The empty slot where the last {@link find} of `#missHash` ended in the
   * new slots (-1: none), for the {@link add} that usually follows a miss
   * — one probe run walked, not two. It stays the first empty slot of that
   * hash's run only while no slot fills or empties: every method that
   * changes which slots are taken (add, removeAt, clear; a drain runs only
   * inside the first two) must forget it.
   */
  #missSlot = -1;
  #missHash = 0;
  readonly #minSlots: number;
  readonly #maxLoad: number;
  readonly #shrinks: boolean;

  /**
   * `minSlots` (a power of two): the slots it starts with and never goes
   * below; it doubles once more than `maxLoad` (at most 3/4) of its slots
   * hold pairs, and halves below an eighth if `shrinks`.
   */
  constructor(minSlots: number, maxLoad: number, shrinks: boolean) {
    // From 8 slots on, a table at its load limit has an empty slot for a sweep to start at.
    assert(minSlots >= 8 && (minSlots & (minSlots - 1)) === 0, "slots are a power of two ≥ 8");
    assert(maxLoad > 1 / 4 && maxLoad <= 3 / 4, "a load limit the drain outpaces");
    this.#minSlots = minSlots;
    this.#maxLoad = maxLoad;
    this.#shrinks = shrinks;
    this.#slots = new Int32Array(2 * minSlots);
    this.#mask = minSlots - 1;
  }

  /** Pairs held. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of the slots as allocated (old ones included while they drain). */
  get allocatedBytes(): number {
    return this.#slots.byteLength + (this.#old?.byteLength ?? 0);
  }

  /** Whether old slots are still being drained. */
  get draining(): boolean {
    return this.#old !== undefined;
  }

  /** The first location of a pair of hash `hash`, or {@link NOT_FOUND}. */
  find(hash: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    let s = hash & mask;
    for (;; s = (s + 1) & mask) {
      if (slots[2 * s + 1] === 0) break;
      if (slots[2 * s] === hash) return s;
    }
    this.#missSlot = s;
    this.#missHash = hash;
    return this.#old === undefined ? NOT_FOUND : this.#findOld(hash, hash & this.#oldMask);
  }

  /** The location after `at` of a pair of hash `hash`, or {@link NOT_FOUND}. */
  findNext(hash: number, at: number): number {
    if (at < 0) return this.#findOld(hash, (-2 - at + 1) & this.#oldMask);
    const slots = this.#slots;
    const mask = this.#mask;
    for (let s = (at + 1) & mask;; s = (s + 1) & mask) {
      if (slots[2 * s + 1] === 0) break;
      if (slots[2 * s] === hash) return s;
    }
    return this.#old === undefined ? NOT_FOUND : this.#findOld(hash, hash & this.#oldMask);
  }

  /** The entry at location `at`. */
  entryAt(at: number): number {
    return at >= 0 ? this.#slots[2 * at + 1] : this.#old![2 * (-2 - at) + 1];
  }

  /** Replaces the entry at location `at` (the same hash, another entry number). */
  setEntryAt(at: number, entry: number): void {
    assert(entry > 0, "an entry number is positive");
    if (at >= 0) this.#slots[2 * at + 1] = entry;
    else this.#old![2 * (-2 - at) + 1] = entry;
  }

  /**
   * For prefetching: the entry word of `hash`'s home slot in the new slots,
   * whichever pair's (0: empty), read with no branch on it, so that many
   * of these reads can be in flight at once (see `prefetchStrings`).
   */
  homeWord(hash: number): number {
    return this.#slots[2 * (hash & this.#mask) + 1];
  }

  /**
   * For prefetching: the entry of the first pair of hash `hash` in the new
   * slots, or 0. Probed, not just the home slot's: at a load of 3/4 a
   * linear probe reads ~2.5 slots to find a held pair, so the home
   * slot's entry was often another pair's, and the prefetch touched the
   * wrong member (measured: `prefetchStrings`). The run is read where the lookup will read it,
   * mostly one cache line. Changes nothing (no miss remembered for
   * {@link add}).
   */
  probeEntry(hash: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let s = hash & mask;; s = (s + 1) & mask) {
      const entry = slots[2 * s + 1];
      if (entry === 0 || slots[2 * s] === hash) return entry;
    }
  }

  /** Adds the pair `hash`, `entry` (the caller knows it is not held). */
  add(hash: number, entry: number): void {
    assert(entry > 0, "an entry number is positive");
    const slots = this.#slots;
    const missed = this.#missSlot;
    if (missed >= 0 && this.#missHash === hash) {
      assert(slots[2 * missed + 1] === 0, "the remembered slot is still empty");
      slots[2 * missed] = hash;
      slots[2 * missed + 1] = entry;
    } else {
      place(slots, this.#mask, hash, entry);
    }
    this.#missSlot = -1;
    this.#size++;
    if (this.#size > (this.#mask + 1) * this.#maxLoad) {
      this.#resize(2 * (this.#mask + 1));
    } else if (this.#old !== undefined) {
      this.#drain(STEP_SLOTS);
    }
  }

  /** Removes the pair at location `at`. */
  removeAt(at: number): void {
    this.#missSlot = -1;
    if (at >= 0) removeSlot(this.#slots, this.#mask, at);
    else removeSlot(this.#old!, this.#oldMask, -2 - at);
    this.#size--;
    const slotCount = this.#mask + 1;
    if (this.#shrinks && slotCount > this.#minSlots && this.#size * 8 < slotCount) {
      this.#resize(slotCount / 2);
    } else if (this.#old !== undefined) {
      this.#drain(STEP_SLOTS);
    }
  }

  /** Empties the table back to its first size. */
  clear(): void {
    this.#missSlot = -1;
    this.#slots = new Int32Array(2 * this.#minSlots);
    this.#mask = this.#minSlots - 1;
    this.#old = undefined;
    this.#size = 0;
  }

  #findOld(hash: number, from: number): number {
    const old = this.#old!;
    const mask = this.#oldMask;
    for (let s = from;; s = (s + 1) & mask) {
      if (old[2 * s + 1] === 0) return NOT_FOUND;
      if (old[2 * s] === hash) return -2 - s;
    }
  }

  /** Starts moving every pair to `slotCount` new slots. */
  #resize(slotCount: number): void {
    assert(slotCount <= MAX_SLOTS, "a slot table holds at most 2^28 slots");
    // A drain still running is finished first (see the module doc: only
    // small tables, or a shrink right after a growth, get here).
    if (this.#old !== undefined) this.#drain(Infinity);
    const old = this.#slots;
    const oldMask = this.#mask;
    this.#slots = new Int32Array(2 * slotCount);
    this.#mask = slotCount - 1;
    let start = 0;
    while (old[2 * start + 1] !== 0) start++;
    this.#old = old;
    this.#oldMask = oldMask;
    this.#sweepStart = start;
    this.#swept = 0;
    this.#drain(STEP_SLOTS);
  }

  /** Moves the pairs of at least `budget` old slots, stopping at an empty one. */
  #drain(budget: number): void {
    const old = this.#old!;
    const oldMask = this.#oldMask;
    const total = oldMask + 1;
    const slots = this.#slots;
    const mask = this.#mask;
    let swept = this.#swept;
    let s = (this.#sweepStart + swept) & oldMask;
    for (let done = 0; swept < total; done++) {
      const entry = old[2 * s + 1];
      if (entry === 0) {
        if (done >= budget) break;
      } else {
        place(slots, mask, old[2 * s], entry);
        old[2 * s] = 0;
        old[2 * s + 1] = 0;
      }
      swept++;
      s = (s + 1) & oldMask;
    }
    this.#swept = swept;
    if (swept === total) this.#old = undefined;
  }
}

/** Puts a pair in the first empty slot of its probe run. */
function place(slots: Int32Array, mask: number, hash: number, entry: number): void {
  let s = hash & mask;
  while (slots[2 * s + 1] !== 0) s = (s + 1) & mask;
  slots[2 * s] = hash;
  slots[2 * s + 1] = entry;
}

/** Empties `slot`, shifting back later pairs of its probe run. */
function removeSlot(slots: Int32Array, mask: number, slot: number): void {
  let hole = slot;
  let next = (hole + 1) & mask;
  while (slots[2 * next + 1] !== 0) {
    const home = slots[2 * next] & mask;
    // The pair at `next` may fill the hole unless its home lies
    // cyclically in (hole, next]: then it would become unreachable.
    const staysPut = hole <= next ? hole < home && home <= next : hole < home || home <= next;
    if (!staysPut) {
      slots[2 * hole] = slots[2 * next];
      slots[2 * hole + 1] = slots[2 * next + 1];
      hole = next;
    }
    next = (next + 1) & mask;
  }
  slots[2 * hole] = 0;
  slots[2 * hole + 1] = 0;
}
