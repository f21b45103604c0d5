/**
 * Member → slot for a large sorted set: an open-addressing hash table of
 * slot numbers in an `Int32Array` (linear probing, backward-shift deletion,
 * no tombstones), keyed by a hash of the member's bytes kept per slot. A
 * JavaScript `Map` costs about 30 bytes an entry; this costs about 12
 * (a 4-byte bucket at most half full, and the 4-byte hash), what keeps a
 * million-member sorted set near Redis's memory. A candidate slot's member
 * is compared where it is held (see `MemberArena.equals`).
 *
 * @example
 * ```ts
 * const members = new MemberArena();
 * members.reserve(1);
 * members.add(0, "a");
 * const index = new MemberIndex(members);
 * index.add("a", 0);
 * index.get("a"); // 0
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";

/** Where the index compares a candidate slot's member (a `MemberArena`). */
export interface SlotMembers {
  equals(slot: number, member: string): boolean;
}

/** Buckets of an empty index (a power of two). */
const INITIAL_BUCKETS = 16;

/** FNV-1a over a binary string's bytes, made non-negative. */
function hashOf(member: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < member.length; i++) h = Math.imul(h ^ member.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 15)) & 0x7fffffff;
}

/**
 * The index of a `ZsetTable`'s members (see the module doc); compares
 * members through `members` by slot.
 *
 * @example
 * ```ts
 * index.delete("a"); // 0: its slot
 * ```
 */
export class MemberIndex {
  /** Slot + 1 per bucket; 0: empty. */
  #buckets = new Int32Array(INITIAL_BUCKETS);
  /** The hash of the member in each slot. */
  #hashes = new Int32Array(INITIAL_BUCKETS);
  #size = 0;

  constructor(readonly members: SlotMembers) {}

  /** Members held. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of the buckets and hashes as allocated. */
  get allocatedBytes(): number {
    return this.#buckets.byteLength + this.#hashes.byteLength;
  }

  /** The slot of `member`, or undefined. */
  get(member: string): number | undefined {
    const hash = hashOf(member);
    const buckets = this.#buckets;
    const mask = buckets.length - 1;
    for (let at = hash & mask;; at = (at + 1) & mask) {
      const entry = buckets[at];
      if (entry === 0) return undefined;
      const slot = entry - 1;
      if (this.#hashes[slot] === hash && this.members.equals(slot, member)) return slot;
    }
  }

  /** Adds `member` (not held) at `slot` (already set in `members`). */
  add(member: string, slot: number): void {
    if ((this.#size + 1) * 2 > this.#buckets.length) this.#resize(this.#buckets.length * 2);
    if (slot >= this.#hashes.length) {
      const grown = new Int32Array(Math.max(slot + 1, this.#hashes.length * 2));
      grown.set(this.#hashes);
      this.#hashes = grown;
    }
    const hash = hashOf(member);
    this.#hashes[slot] = hash;
    this.#place(hash, slot);
    this.#size++;
  }

  /** Removes `member` (held; still set in `members`); returns its slot. */
  delete(member: string): number {
    const slot = this.get(member);
    assert(slot !== undefined, "a deleted member is in the index");
    this.deleteSlot(slot);
    return slot;
  }

  /** Removes the member at `slot` (held): found by its kept hash, no hashing or string compare. */
  deleteSlot(slot: number): void {
    const buckets = this.#buckets;
    const mask = buckets.length - 1;
    let at = this.#hashes[slot] & mask;
    for (; buckets[at] !== slot + 1; at = (at + 1) & mask) {
      assert(buckets[at] !== 0, "a deleted slot is in the index");
    }
    // Backward shift: move later entries of the run into the hole when their home allows.
    let hole = at;
    for (let next = (hole + 1) & mask; buckets[next] !== 0; next = (next + 1) & mask) {
      const home = this.#hashes[buckets[next] - 1] & mask;
      // The entry at `next` may fill the hole unless its home lies in (hole, next].
      const stays = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (!stays) {
        buckets[hole] = buckets[next];
        hole = next;
      }
    }
    buckets[hole] = 0;
    this.#size--;
    if (this.#buckets.length > INITIAL_BUCKETS && this.#size * 8 < this.#buckets.length) {
      this.#resize(this.#buckets.length / 2);
    }
  }

  #place(hash: number, slot: number): void {
    const buckets = this.#buckets;
    const mask = buckets.length - 1;
    let at = hash & mask;
    while (buckets[at] !== 0) at = (at + 1) & mask;
    buckets[at] = slot + 1;
  }

  #resize(length: number): void {
    const old = this.#buckets;
    this.#buckets = new Int32Array(length);
    for (let i = 0; i < old.length; i++) {
      if (old[i] !== 0) this.#place(this.#hashes[old[i] - 1], old[i] - 1);
    }
  }
}
