/**
 * Member → slot for a large sorted set: a {@link SlotTable} of [hash of
 * the member's bytes, slot + 1] pairs, at most 3/4 full, resized without
 * a pause. The hash is the seeded `stringHash` the hash and set tables
 * use, so members cannot be chosen offline to collide (the unseeded
 * FNV-1a this index had allowed it). A JavaScript `Map` costs about 30
 * bytes an entry; this costs 11–21 (8 bytes a pair at a load of
 * 3/8–3/4), what keeps a million-member sorted set near Redis's memory.
 * A candidate slot's member is compared where it is held (see
 * `MemberArena.equals`).
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
import { NOT_FOUND, SlotTable } from "../slot_table.ts";
import { stringHash } from "../string_map.ts";

/** Where the index compares a candidate slot's member (a `MemberArena`). */
export interface SlotMembers {
  equals(slot: number, member: string): boolean;
}

/** Slots of an empty index (a power of two). */
const INITIAL_SLOTS = 16;

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
  /** [hash, slot + 1] pairs. */
  readonly #table = new SlotTable(INITIAL_SLOTS, 3 / 4, true);

  constructor(readonly members: SlotMembers) {}

  /** Members held. */
  get size(): number {
    return this.#table.size;
  }

  /** Bytes of the slot table as allocated. */
  get allocatedBytes(): number {
    return this.#table.allocatedBytes;
  }

  /** The slot of `member`, or undefined. */
  get(member: string): number | undefined {
    const hash = stringHash(member);
    const table = this.#table;
    for (let at = table.find(hash); at !== NOT_FOUND; at = table.findNext(hash, at)) {
      const slot = table.entryAt(at) - 1;
      if (this.members.equals(slot, member)) return slot;
    }
    return undefined;
  }

  /** Its [hash, slot + 1] pairs, for prefetching (see `PrefetchableIndex`). */
  get slots(): SlotTable {
    return this.#table;
  }

  /** Adds `member` (not held) at `slot` (already set in `members`). */
  add(member: string, slot: number): void {
    this.#table.add(stringHash(member), slot + 1);
  }

  /** Removes `member` (held; still set in `members`); returns its slot. */
  delete(member: string): number {
    const slot = this.get(member);
    assert(slot !== undefined, "a deleted member is in the index");
    this.deleteSlot(slot, member);
    return slot;
  }

  /** Removes `member`, held at `slot`: found by hash and slot number, no string compare. */
  deleteSlot(slot: number, member: string): void {
    const hash = stringHash(member);
    const table = this.#table;
    let at = table.find(hash);
    while (at !== NOT_FOUND && table.entryAt(at) !== slot + 1) at = table.findNext(hash, at);
    assert(at !== NOT_FOUND, "a deleted slot is in the index");
    table.removeAt(at);
  }
}
