/**
 * The member table of a big hashtable set (see `set.ts`): the members by
 * place, dense (`[0, size)`), so that a random member is one index away,
 * and an open-addressing index of their places.
 *
 * The members' bytes live off the JavaScript heap, in a
 * {@link MemberArena} (as a sorted set's do): a set of millions of members
 * kept as strings was millions of heap objects for the garbage collector
 * to mark, and its marking held the event loop for tens of ms at a time
 * while such a set grew (measured: SADD of 3M new members, then HSET and
 * ZADD of 3M, pipeline 16: worst latencies 19–85 ms). A read makes a
 * string; a lookup compares the bytes in place.
 *
 * @example
 * ```ts
 * const table = new MemberTable();
 * table.add("a"); // true
 * table.has("a"); // true
 * table.memberAt(0); // "a"
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";
import { MemberArena } from "../member_arena.ts";
import { NOT_FOUND, SlotTable } from "../slot_table.ts";
import { type PrefetchableIndex, stringHash } from "../string_map.ts";

/** Slots a member table starts with (a power of two). */
const TABLE_MIN_SLOTS = 16;

/**
 * The member table of a big hashtable set (see the module doc): the
 * members by place in a {@link MemberArena}, and an open-addressing index
 * over them — a {@link SlotTable} of each member's hash and place + 1, side
 * by side so that a probe reads one cache line and compares bytes only
 * when the hashes agree (a V8 `Map` costs a few more cache misses per
 * lookup on a big set: measured about 1 µs per SADD on a 100 000-member
 * set; the hash is the seeded {@link stringHash}, so pipelined SADDs can
 * prefetch here: `Engine.prefetch`). At most half the slots are used; both
 * grow without a pause (see their modules).
 */
export class MemberTable implements PrefetchableIndex {
  readonly #members = new MemberArena();
  readonly #table = new SlotTable(TABLE_MIN_SLOTS, 1 / 2, true);
  #size = 0;
  /** The members' bytes, summed (MEMORY USAGE). */
  #memberBytes = 0;

  /** Members held: places `[0, size)`. */
  get size(): number {
    return this.#size;
  }

  /** The members' bytes, summed. */
  get memberBytes(): number {
    return this.#memberBytes;
  }

  has(member: string): boolean {
    return this.#find(member, stringHash(member)) !== NOT_FOUND;
  }

  add(member: string): boolean {
    const hash = stringHash(member);
    if (this.#find(member, hash) !== NOT_FOUND) return false;
    const at = this.#size++;
    this.#members.reserve(at + 1);
    this.#members.add(at, member);
    this.#memberBytes += member.length;
    this.#table.add(hash, at + 1);
    return true;
  }

  delete(member: string): boolean {
    const table = this.#table;
    const found = this.#find(member, stringHash(member));
    if (found === NOT_FOUND) return false;
    const at = table.entryAt(found) - 1;
    table.removeAt(found);
    const members = this.#members;
    members.delete(at);
    this.#memberBytes -= member.length;
    const last = --this.#size;
    if (at !== last) {
      // The last member fills the hole: its pair now points there.
      const hash = stringHash(members.get(last));
      members.move(last, at);
      let i = table.find(hash);
      while (i !== NOT_FOUND && table.entryAt(i) !== last + 1) i = table.findNext(hash, i);
      assert(i !== NOT_FOUND, "a moved member is in the index");
      table.setEntryAt(i, at + 1);
    }
    return true;
  }

  /** The member at place `at` (< {@link size}), as a new string. */
  memberAt(at: number): string {
    return this.#members.get(at);
  }

  /** Every member, in place order. */
  toArray(): string[] {
    const all = new Array<string>(this.#size);
    for (let at = 0; at < this.#size; at++) all[at] = this.#members.get(at);
    return all;
  }

  /** See {@link PrefetchableIndex}. */
  get prefetchSlots(): SlotTable {
    return this.#table;
  }

  /** See {@link PrefetchableIndex}. */
  get prefetchKeys(): MemberArena {
    return this.#members;
  }

  /** The location of `member` (whose hash is `hash`) in the slot table, or {@link NOT_FOUND}. */
  #find(member: string, hash: number): number {
    return this.#members.locate(this.#table, member, hash);
  }
}
