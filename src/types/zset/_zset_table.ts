/**
 * The `skiplist` encoding of a sorted set: member → slot in a
 * {@link MemberIndex}, each slot's member in a {@link MemberArena} and its
 * score in a `Float64Array` (all off the JavaScript heap), and a
 * {@link RankTree} of slots for the order. A slot is reused once free but
 * never moves a live member, so a slot number is a stable cursor (ZSCAN,
 * snapshot chunks, random picks). A free slot's score is NaN (a held
 * score never is).
 *
 * @example
 * ```ts
 * const table = new ZsetTable();
 * table.set("a", 1);
 * table.rank("a"); // 0
 * ```
 * @module
 */

import { MemberArena } from "../member_arena.ts";
import { MemberIndex } from "./_member_index.ts";
import { PagedNumbers } from "../paged_numbers.ts";
import type { SlotTable } from "../slot_table.ts";
import type { PrefetchableIndex } from "../string_map.ts";
import { RankTree, type SlotKeys } from "./_zset_tree.ts";

const INITIAL_SLOTS = 16;

/**
 * A large sorted set's members, scores and order (see the module doc).
 *
 * @example
 * ```ts
 * new ZsetTable().set("m", 2); // true: new
 * ```
 */
export class ZsetTable implements SlotKeys, PrefetchableIndex {
  readonly #members = new MemberArena();
  readonly #scores = new PagedNumbers(Float64Array, INITIAL_SLOTS);
  /** Slots ever used, [0, #positions): held ones and free ones. */
  #positions = 0;
  readonly #free: number[] = [];
  readonly index: MemberIndex = new MemberIndex(this.#members);
  readonly tree: RankTree = new RankTree(this);
  /**
   * The last member looked up and its slot (-1: absent): a command reads a
   * member's score, then sets it, so the second index lookup is skipped.
   */
  #lastMember: string | undefined = undefined;
  #lastSlot = -1;

  /** Slots ever used (cursors run over [0, positions)). */
  get positions(): number {
    return this.#positions;
  }

  /** The score of held slot `slot`. */
  scoreOf(slot: number): number {
    return this.#scores.get(slot);
  }

  /** See {@link PrefetchableIndex}. */
  get prefetchSlots(): SlotTable {
    return this.index.slots;
  }

  /** See {@link PrefetchableIndex}. */
  get prefetchKeys(): MemberArena {
    return this.#members;
  }

  /** Prefetching: reads slot `slot`'s score (ZADD compares it); a small integer made of it. */
  touchScore(slot: number): number {
    // An integer: a double summed into the prefetch's count would be a heap number.
    return slot < this.#positions && this.#scores.get(slot) > 0 ? 1 : 0;
  }

  /** The member of held slot `slot` (a new string). */
  memberOf(slot: number): string {
    return this.#members.get(slot);
  }

  /** Held slot `slot`'s member against `member`, by bytes. */
  compareMember(slot: number, member: string): number {
    return this.#members.compare(slot, member);
  }

  /** The member at position `at` (< {@link positions}), or undefined for a free slot. */
  memberAt(at: number): string | undefined {
    return Number.isNaN(this.#scores.get(at)) ? undefined : this.#members.get(at);
  }

  /** The score at position `at` (< {@link positions}); NaN for a free slot. */
  scoreAt(at: number): number {
    return this.#scores.get(at);
  }

  /** The byte length of the member at held slot `slot`. */
  memberLength(slot: number): number {
    return this.#members.lengthOf(slot);
  }

  /** Bytes allocated for members, scores, index and order (MEMORY USAGE). */
  get allocatedBytes(): number {
    return this.#members.allocatedBytes + this.#scores.allocatedBytes + this.index.allocatedBytes +
      this.tree.allocatedBytes;
  }

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
    return slot === undefined ? undefined : this.#scores.get(slot);
  }

  /** The 0-based rank of `member`, or undefined. */
  rank(member: string): number | undefined {
    const slot = this.#slotOf(member);
    return slot === undefined ? undefined : this.tree.rankOf(slot);
  }

  /** Sets `member`'s score; true if the member is new. */
  set(member: string, score: number): boolean {
    const slot = this.#slotOf(member);
    if (slot !== undefined) {
      // Redis keeps the old score when equal (0 and -0 included).
      if (this.#scores.get(slot) === score) return false;
      this.tree.remove(slot, member);
      this.#scores.set(slot, score);
      this.tree.insert(slot, member);
      return false;
    }
    let place = this.#free.pop();
    if (place === undefined) {
      place = this.#positions++;
      if (place >= this.#scores.capacity) this.#growSlots(place + 1);
    }
    this.#members.add(place, member);
    this.#scores.set(place, score);
    this.index.add(member, place);
    this.#lastSlot = place;
    this.tree.insert(place, member);
    return true;
  }

  /** Removes `member`; whether it was held. */
  delete(member: string): boolean {
    // Pops take the first or last member: found without hashing or key comparisons.
    const first = this.tree.edgeSlot(true);
    const last = this.tree.edgeSlot(false);
    let slot: number | undefined;
    if (first >= 0 && this.#members.equals(first, member)) {
      slot = first;
      this.tree.removeEdge(true);
    } else if (last >= 0 && this.#members.equals(last, member)) {
      slot = last;
      this.tree.removeEdge(false);
    } else {
      slot = this.#slotOf(member);
      if (slot === undefined) return false;
      this.tree.remove(slot, member);
    }
    this.index.deleteSlot(slot, member);
    if (this.#lastMember === member) this.#lastSlot = -1;
    this.#members.delete(slot);
    this.#scores.set(slot, NaN);
    this.#free.push(slot);
    return true;
  }

  /**
   * Visits members with their scores from `rank` (< size) up (or down,
   * `reverse`) until `visit` returns false or the end.
   */
  walk(rank: number, reverse: boolean, visit: (member: string, score: number) => boolean): void {
    this.tree.walk(rank, reverse, (slot) => visit(this.#members.get(slot), this.#scores.get(slot)));
  }

  /** How many members satisfy `isBefore`, which holds for a prefix of the order. */
  countBefore(isBefore: (score: number, member: string) => boolean): number {
    return this.tree.countBefore((score, slot, bound) =>
      isBefore(score, slot < 0 ? bound : this.#members.get(slot))
    );
  }

  /** {@link countBefore} for a test of scores alone: no member is read. */
  countBeforeScore(isBefore: (score: number) => boolean): number {
    return this.tree.countBefore(isBefore);
  }

  #growSlots(slots: number): void {
    this.#scores.reserve(slots);
    this.#members.reserve(slots);
  }
}
