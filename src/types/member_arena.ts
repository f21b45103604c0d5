/**
 * A large sorted set's or set's members by slot, off the JavaScript heap: each
 * member's bytes in a byte arena of pages (`paged_bytes.ts`), its offset
 * per slot in pages of numbers (`paged_numbers.ts`): both grow without
 * copying what they hold.
 *
 * Why: a million members kept as strings cost ~40 bytes each in heap
 * objects and pointers (a string's header, the array slot that holds it)
 * beside their bytes, all of which the garbage collector marks on every
 * full collection; here a member costs its bytes plus 6. A read makes a
 * string; a lookup compares the bytes in place.
 *
 * Layout: per slot, a global arena offset to the member's length (one
 * byte below 128, else two with the top bit set: at most
 * {@link MAX_ARENA_MEMBER_BYTES}) then its bytes, so that a lookup touches
 * one array and the bytes. A longer member, or one that would take the
 * arena past {@link MAX_MEMBER_ARENA_BYTES}, is kept as a string in a side
 * map (offset {@link STRING_MEMBER}), so that no add can fail for want of
 * room. A slot's member never changes while it is held; a removed member's
 * bytes are dead until the arena, once full and at least half dead, is
 * compacted rather than grown — a few slots' members at a time, by each
 * later add, delete or lookup (`migrating_arena.ts`).
 *
 * @example
 * ```ts
 * const arena = new MemberArena();
 * arena.add(0, "m");
 * arena.get(0); // "m"
 * arena.compare(0, "n"); // < 0
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import { bytesToBinary, writeBinary } from "../bytes/binary_string.ts";
import { MigratingArena, MIGRATION_STEP_SLOTS } from "./migrating_arena.ts";
import { NOT_FOUND, type SlotTable } from "./slot_table.ts";
import { PagedNumbers } from "./paged_numbers.ts";
import type { PrefetchableKeys } from "./string_map.ts";

/** Longest member held in the arena (its length takes at most 15 bits); longer ones stay strings. */
export const MAX_ARENA_MEMBER_BYTES = 0x7fff;
/** Most bytes one sorted set's arena holds (Int32 offsets); members past it stay strings. */
export const MAX_MEMBER_ARENA_BYTES = 0x4000_0000;
/** The offset of a member held as a string. */
const STRING_MEMBER = -1;
/** The offset of a free slot. */
const FREE = -2;
/** Lengths below this take one byte. */
const SHORT_LENGTH = 0x80;

/** Bytes the length of a member of `length` bytes takes before it. */
function prefixBytes(length: number): number {
  return length < SHORT_LENGTH ? 1 : 2;
}
const INITIAL_SLOTS = 16;
const INITIAL_ARENA_BYTES = 1024;

/**
 * Members by slot (see the module doc).
 *
 * @example
 * ```ts
 * const arena = new MemberArena();
 * arena.add(3, "x");
 * arena.equals(3, "x"); // true
 * arena.delete(3);
 * ```
 */
export class MemberArena implements PrefetchableKeys {
  readonly #offsets = new PagedNumbers(Int32Array, INITIAL_SLOTS, FREE);
  /** Members held as strings, by slot. */
  readonly #strings = new Map<number, string>();
  readonly #arena = new MigratingArena(INITIAL_ARENA_BYTES, MAX_ARENA_MEMBER_BYTES + 2);

  /** Arena bytes in use, dead ones included (MEMORY USAGE). */
  get arenaBytes(): number {
    return this.#arena.usedBytes;
  }

  /** A migration into a fresh arena is under way (see `migrating_arena.ts`). */
  get migrating(): boolean {
    return this.#arena.migrating;
  }

  /** Bytes of the per-slot offsets and the arena as allocated. */
  get allocatedBytes(): number {
    return this.#offsets.allocatedBytes + this.#arena.allocatedBytes;
  }

  /** Makes room for slots [0, `slots`). */
  reserve(slots: number): void {
    this.#offsets.reserve(slots);
  }

  /** Sets the member of free slot `slot` (within {@link reserve}d room). */
  add(slot: number, member: string): void {
    assert(this.#offsets.get(slot) === FREE, "a member is added to a free slot");
    if (this.#arena.migrating) this.#migrateSome();
    const length = member.length;
    const prefix = prefixBytes(length);
    if (
      length > MAX_ARENA_MEMBER_BYTES ||
      !this.#arena.makeRoom(prefix + length, MAX_MEMBER_ARENA_BYTES)
    ) {
      this.#offsets.set(slot, STRING_MEMBER);
      this.#strings.set(slot, member);
      return;
    }
    const offset = this.#arena.alloc(prefix + length);
    this.#offsets.set(slot, offset);
    const page = this.#arena.page(offset);
    let at = this.#arena.offsetInPage(offset);
    if (prefix === 1) {
      page[at++] = length;
    } else {
      page[at++] = SHORT_LENGTH | (length >>> 8);
      page[at++] = length & 0xff;
    }
    writeBinary(member, page, at);
  }

  /** Frees held slot `slot`. */
  delete(slot: number): void {
    const offset = this.#offsets.get(slot);
    if (offset === STRING_MEMBER) this.#strings.delete(slot);
    else this.#arena.free(offset, this.#entryBytes(offset));
    this.#offsets.set(slot, FREE);
    if (this.#arena.migrating) this.#migrateSome();
  }

  /**
   * Moves held slot `from`'s member to free slot `to` (its bytes stay where
   * they are: only the offset moves); `from` is free after.
   */
  move(from: number, to: number): void {
    const offsets = this.#offsets;
    const offset = offsets.get(from);
    assert(offset !== FREE && offsets.get(to) === FREE, "a member moves to a free slot");
    const arena = this.#arena;
    // Into a slot the migration has walked: the member leaves the old arena now.
    const moved = offset >= 0 && arena.migrating && to < arena.cursor && arena.isOld(offset)
      ? arena.move(offset, this.#entryBytes(offset))
      : offset;
    offsets.set(to, moved);
    offsets.set(from, FREE);
    if (offset === STRING_MEMBER) {
      this.#strings.set(to, this.#strings.get(from)!);
      this.#strings.delete(from);
    }
  }

  /** Whether slot `slot` (within {@link reserve}d room) holds a member. */
  held(slot: number): boolean {
    return slot < this.#offsets.capacity && this.#offsets.get(slot) !== FREE;
  }

  /**
   * Prefetching (`PrefetchableKeys.keyAddress`): where slot `slot`'s member
   * lies in the arena, or -1 for none there (a free slot, one past the
   * offsets, a member held as a string).
   */
  keyAddress(slot: number): number {
    if (slot >= this.#offsets.capacity) return -1;
    const offset = this.#offsets.get(slot);
    return offset < 0 ? -1 : offset;
  }

  /** Prefetching (`PrefetchableKeys.touchKey`): reads what comparing the member at arena `offset` touches (a number of it). */
  touchKey(offset: number): number {
    return this.#arena.page(offset)[this.#arena.offsetInPage(offset)];
  }

  /** The member of held slot `slot`. */
  get(slot: number): string {
    const offset = this.#offsets.get(slot);
    if (offset === STRING_MEMBER) return this.#strings.get(slot)!;
    const page = this.#arena.page(offset);
    const at = this.#arena.offsetInPage(offset);
    const length = lengthAt(page, at);
    const start = at + prefixBytes(length);
    return bytesToBinary(page, start, start + length);
  }

  /** The byte length of held slot `slot`'s member. */
  lengthOf(slot: number): number {
    const offset = this.#offsets.get(slot);
    if (offset === STRING_MEMBER) return this.#strings.get(slot)!.length;
    return lengthAt(this.#arena.page(offset), this.#arena.offsetInPage(offset));
  }

  /** Whether held slot `slot`'s member is `member`. */
  equals(slot: number, member: string): boolean {
    const offset = this.#offsets.get(slot);
    if (offset === STRING_MEMBER) return this.#strings.get(slot) === member;
    const page = this.#arena.page(offset);
    const at = this.#arena.offsetInPage(offset);
    const length = lengthAt(page, at);
    const start = at + prefixBytes(length);
    if (length !== member.length) return false;
    for (let i = 0; i < length; i++) {
      if (page[start + i] !== member.charCodeAt(i)) return false;
    }
    return true;
  }

  /**
   * The location in `index` (a {@link SlotTable} of [hash, slot + 1]
   * pairs over this arena's slots) of `member`, whose hash is `hash`, or
   * {@link NOT_FOUND}: the lookup the member tables of big sets and hashes
   * share.
   */
  locate(index: SlotTable, member: string, hash: number): number {
    // Lookups step a migration too (as Redis's dict lookups rehash a step):
    // a collection only read after a churn still ends it and frees the old arena.
    if (this.#arena.migrating) this.#migrateSome();
    for (let at = index.find(hash); at !== NOT_FOUND; at = index.findNext(hash, at)) {
      if (this.equals(index.entryAt(at) - 1, member)) return at;
    }
    return NOT_FOUND;
  }

  /** Held slot `slot`'s member against `member` by bytes: negative, 0 or positive. */
  compare(slot: number, member: string): number {
    const offset = this.#offsets.get(slot);
    if (offset === STRING_MEMBER) {
      const held = this.#strings.get(slot)!;
      return held < member ? -1 : held > member ? 1 : 0;
    }
    const page = this.#arena.page(offset);
    const at = this.#arena.offsetInPage(offset);
    const length = lengthAt(page, at);
    const start = at + prefixBytes(length);
    const n = Math.min(length, member.length);
    for (let i = 0; i < n; i++) {
      const d = page[start + i] - member.charCodeAt(i);
      if (d !== 0) return d;
    }
    return length - member.length;
  }

  /** Bytes of the arena entry (length and member) at global offset `offset`. */
  #entryBytes(offset: number): number {
    const length = lengthAt(this.#arena.page(offset), this.#arena.offsetInPage(offset));
    return prefixBytes(length) + length;
  }

  /**
   * Moves the members of the next {@link MIGRATION_STEP_SLOTS} slots out of
   * the old arena (see `migrating_arena.ts`), ending the migration after
   * the last slot.
   */
  #migrateSome(): void {
    const arena = this.#arena;
    const offsets = this.#offsets;
    const end = Math.min(arena.cursor + MIGRATION_STEP_SLOTS, offsets.capacity);
    for (let slot = arena.cursor; slot < end; slot++) {
      const from = offsets.get(slot);
      // Free slots and string members have negative offsets: only arena members move.
      if (from >= 0 && arena.isOld(from)) {
        offsets.set(slot, arena.move(from, this.#entryBytes(from)));
      }
    }
    arena.cursor = end;
    if (end === offsets.capacity) arena.endMigration();
  }
}

/** The member length written at `at` of `page` (one byte below {@link SHORT_LENGTH}, else two). */
function lengthAt(page: Uint8Array, at: number): number {
  const first = page[at];
  return first < SHORT_LENGTH ? first : ((first & 0x7f) << 8) | page[at + 1];
}
