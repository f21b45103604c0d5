/**
 * The `skiplist` encoding of a sorted set: member → slot in a `MemberIndex`, each
 * slot's member and score in parallel arrays (a score is an unboxed double
 * there, not a heap number per member), and a {@link RankTree} of slots for
 * the order. A slot is reused once free but never moves a live member, so
 * a slot number is a stable cursor (ZSCAN, snapshot chunks, random picks).
 *
 * @example
 * ```ts
 * const table = new ZsetTable();
 * table.set("a", 1);
 * table.tree.rankOf(table.index.get("a")!); // 0
 * ```
 * @module
 */

import { MemberIndex } from "./_member_index.ts";
import { RankTree } from "./_zset_tree.ts";

/**
 * A large sorted set's members, scores and order (see the module doc).
 *
 * @example
 * ```ts
 * new ZsetTable().set("m", 2); // true: new
 * ```
 */
export class ZsetTable {
  readonly members: (string | undefined)[] = [];
  readonly index: MemberIndex = new MemberIndex(this.members);
  readonly scores: number[] = [];
  readonly free: number[] = [];
  readonly tree: RankTree = new RankTree(this);
  /**
   * The last member looked up and its slot (-1: absent): a command reads a
   * member's score, then sets it, so the second index lookup is skipped.
   */
  #lastMember: string | undefined = undefined;
  #lastSlot = -1;

  #slotOf(member: string): number | undefined {
    if (member === this.#lastMember) return this.#lastSlot < 0 ? undefined : this.#lastSlot;
    const slot = this.index.get(member);
    this.#lastMember = member;
    this.#lastSlot = slot ?? -1;
    return slot;
  }

  /** The score of `member`, or undefined. */
  score(member: string): number | undefined {
    const slot = this.#slotOf(member);
    return slot === undefined ? undefined : this.scores[slot];
  }

  /** Sets `member`'s score; true if the member is new. */
  set(member: string, score: number): boolean {
    const slot = this.#slotOf(member);
    if (slot !== undefined) {
      // Redis keeps the old score when equal (0 and -0 included).
      if (this.scores[slot] === score) return false;
      this.tree.remove(slot);
      this.scores[slot] = score;
      this.tree.insert(slot);
      return false;
    }
    const place = this.free.length > 0 ? this.free.pop()! : this.members.length;
    this.members[place] = member;
    this.scores[place] = score;
    this.index.add(member, place);
    this.#lastSlot = place;
    this.tree.insert(place);
    return true;
  }

  /** Removes `member`; whether it was held. */
  delete(member: string): boolean {
    // Pops take the first or last member: found without hashing or key comparisons.
    const first = this.tree.edgeSlot(true);
    const last = this.tree.edgeSlot(false);
    let slot: number | undefined;
    if (first >= 0 && this.members[first] === member) {
      slot = first;
      this.tree.removeEdge(true);
    } else if (last >= 0 && this.members[last] === member) {
      slot = last;
      this.tree.removeEdge(false);
    } else {
      slot = this.#slotOf(member);
      if (slot === undefined) return false;
      this.tree.remove(slot);
    }
    this.index.deleteSlot(slot);
    if (this.#lastMember === member) this.#lastSlot = -1;
    this.members[slot] = undefined;
    this.scores[slot] = 0;
    this.free.push(slot);
    return true;
  }
}
