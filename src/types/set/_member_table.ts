/**
 * The member table of a big hashtable set (see `set.ts`): a dense array of
 * members, so that a random member is one index away, and an
 * open-addressing index of their places.
 *
 * @example
 * ```ts
 * const table = new MemberTable();
 * table.add("a"); // true
 * table.has("a"); // true
 * table.members; // ["a"]
 * ```
 * @module
 */

import { type PrefetchableIndex, stringHash } from "../string_map.ts";
import { removeSlot, resizedSlots } from "../../storage/hash_slots.ts";

/** Slots a member table starts with (a power of two). */
const TABLE_MIN_SLOTS = 16;

/**
 * The member table of a big hashtable set (see the module doc): the
 * members in a dense array, and an open-addressing index over them —
 * `slots` holds, per slot, a member's hash and its place + 1 (0: empty),
 * side by side so that a probe reads one cache line and compares a string
 * only when the hashes agree (a V8 `Map` costs a few more cache misses per
 * lookup on a big set: measured about 1 µs per SADD on a 100 000-member
 * set; the hash is the seeded {@link stringHash}, so pipelined SADDs can
 * prefetch here: `Engine.prefetch`). Linear probing; a removal shifts the probe
 * run back (no tombstones); at most half the slots are used.
 */
export class MemberTable implements PrefetchableIndex {
  readonly members: string[] = [];
  #slots = new Int32Array(TABLE_MIN_SLOTS * 2);
  #mask = TABLE_MIN_SLOTS - 1;

  has(member: string): boolean {
    return this.#slotOf(member, stringHash(member)) >= 0;
  }

  add(member: string): boolean {
    const hash = stringHash(member);
    if (this.#slotOf(member, hash) >= 0) return false;
    if ((this.members.length + 1) * 2 > this.#mask + 1) this.#resize((this.#mask + 1) * 2);
    this.members.push(member);
    this.#place(hash, this.members.length);
    return true;
  }

  delete(member: string): boolean {
    const slot = this.#slotOf(member, stringHash(member));
    if (slot < 0) return false;
    const at = this.#slots[slot * 2 + 1] - 1;
    this.#vacate(slot);
    const members = this.members;
    const last = members.length - 1;
    if (at !== last) {
      // The last member fills the hole: its slot now points there.
      const moved = members[last];
      members[at] = moved;
      const slots = this.#slots;
      const mask = this.#mask;
      for (let i = stringHash(moved) & mask;; i = (i + 1) & mask) {
        if (slots[i * 2 + 1] === last + 1) {
          slots[i * 2 + 1] = at + 1;
          break;
        }
      }
    }
    members.pop();
    const size = this.#mask + 1;
    if (size > TABLE_MIN_SLOTS && members.length * 8 < size) this.#resize(size / 2);
    return true;
  }

  /** See {@link PrefetchableIndex.homePosition}. */
  homePosition(hash: number): number {
    return this.#slots[2 * (hash & this.#mask) + 1] - 1;
  }

  /** The member at place `at` (see {@link PrefetchableIndex.keyAt}). */
  keyAt(at: number): string | undefined {
    return this.members[at];
  }

  /** The slot holding `member` (whose hash is `hash`), or -1. */
  #slotOf(member: string, hash: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = hash & mask;; i = (i + 1) & mask) {
      const place = slots[i * 2 + 1];
      if (place === 0) return -1;
      if (slots[i * 2] === hash && this.members[place - 1] === member) return i;
    }
  }

  /** Puts `place` (a member's index + 1) in the first free slot of its probe run. */
  #place(hash: number, place: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let i = hash & mask;
    while (slots[i * 2 + 1] !== 0) i = (i + 1) & mask;
    slots[i * 2] = hash;
    slots[i * 2 + 1] = place;
  }

  #vacate(slot: number): void {
    removeSlot(this.#slots, this.#mask, slot);
  }

  #resize(size: number): void {
    this.#slots = resizedSlots(this.#slots, size);
    this.#mask = size - 1;
  }
}
