/**
 * A large sorted set's members by slot, off the JavaScript heap: each
 * member's bytes in one growable byte arena, its offset and length per slot
 * in typed arrays.
 *
 * Why: a million members kept as strings cost ~40 bytes each in heap
 * objects and pointers (a string's header, the array slot that holds it)
 * beside their bytes, all of which the garbage collector marks on every
 * full collection; here a member costs its bytes plus 6. A read makes a
 * string; a lookup compares the bytes in place.
 *
 * Layout: per slot, an offset (`Int32Array`) to the member's length (one
 * byte below 128, else two with the top bit set: at most
 * {@link MAX_ARENA_MEMBER_BYTES}) then its bytes, so that a lookup touches
 * one array and the bytes. A longer member, or one that would take the
 * arena past {@link MAX_MEMBER_ARENA_BYTES}, is kept as a string in a side
 * map (offset {@link STRING_MEMBER}), so that no add can fail for want of
 * room. A slot's member never changes while it is held; a removed member's
 * bytes are dead until the arena, once full and at least half dead, is
 * compacted rather than grown.
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

import { arenaGrowth } from "../../storage/arena_growth.ts";
import { assert } from "../../_assert.ts";
import { bytesToBinary, writeBinary } from "../../bytes/binary_string.ts";

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
export class MemberArena {
  #offsets = new Int32Array(INITIAL_SLOTS).fill(FREE);
  /** Members held as strings, by slot. */
  readonly #strings = new Map<number, string>();
  #arena = new Uint8Array(INITIAL_ARENA_BYTES);
  #used = 0;
  #dead = 0;

  /** Arena bytes in use, dead ones included (MEMORY USAGE). */
  get arenaBytes(): number {
    return this.#used;
  }

  /** Bytes of the per-slot offsets and the arena as allocated. */
  get allocatedBytes(): number {
    return this.#offsets.byteLength + this.#arena.byteLength;
  }

  /** Makes room for slots [0, `slots`). */
  reserve(slots: number): void {
    const old = this.#offsets;
    if (slots <= old.length) return;
    let count = old.length;
    while (count < slots) count *= 2;
    const offsets = new Int32Array(count).fill(FREE, old.length);
    offsets.set(old);
    this.#offsets = offsets;
  }

  /** Sets the member of free slot `slot` (within {@link reserve}d room). */
  add(slot: number, member: string): void {
    assert(this.#offsets[slot] === FREE, "a member is added to a free slot");
    const length = member.length;
    const prefix = prefixBytes(length);
    if (length > MAX_ARENA_MEMBER_BYTES || !this.#makeRoom(prefix + length)) {
      this.#offsets[slot] = STRING_MEMBER;
      this.#strings.set(slot, member);
      return;
    }
    const arena = this.#arena;
    let at = this.#used;
    this.#offsets[slot] = at;
    if (prefix === 1) {
      arena[at++] = length;
    } else {
      arena[at++] = SHORT_LENGTH | (length >>> 8);
      arena[at++] = length & 0xff;
    }
    this.#used = writeBinary(member, arena, at);
  }

  /** Frees held slot `slot`. */
  delete(slot: number): void {
    const offset = this.#offsets[slot];
    if (offset === STRING_MEMBER) this.#strings.delete(slot);
    else this.#dead += this.#entryBytes(offset);
    this.#offsets[slot] = FREE;
  }

  /** The member of held slot `slot`. */
  get(slot: number): string {
    const offset = this.#offsets[slot];
    if (offset === STRING_MEMBER) return this.#strings.get(slot)!;
    const length = this.#lengthAt(offset);
    const start = offset + prefixBytes(length);
    return bytesToBinary(this.#arena, start, start + length);
  }

  /** The byte length of held slot `slot`'s member. */
  lengthOf(slot: number): number {
    const offset = this.#offsets[slot];
    if (offset === STRING_MEMBER) return this.#strings.get(slot)!.length;
    return this.#lengthAt(offset);
  }

  /** Whether held slot `slot`'s member is `member`. */
  equals(slot: number, member: string): boolean {
    const offset = this.#offsets[slot];
    if (offset === STRING_MEMBER) return this.#strings.get(slot) === member;
    const arena = this.#arena;
    const length = this.#lengthAt(offset);
    const start = offset + prefixBytes(length);
    if (length !== member.length) return false;
    for (let i = 0; i < length; i++) {
      if (arena[start + i] !== member.charCodeAt(i)) return false;
    }
    return true;
  }

  /** Held slot `slot`'s member against `member` by bytes: negative, 0 or positive. */
  compare(slot: number, member: string): number {
    const offset = this.#offsets[slot];
    if (offset === STRING_MEMBER) {
      const held = this.#strings.get(slot)!;
      return held < member ? -1 : held > member ? 1 : 0;
    }
    const arena = this.#arena;
    const length = this.#lengthAt(offset);
    const start = offset + prefixBytes(length);
    const n = Math.min(length, member.length);
    for (let i = 0; i < n; i++) {
      const d = arena[start + i] - member.charCodeAt(i);
      if (d !== 0) return d;
    }
    return length - member.length;
  }

  /** Bytes of the arena entry (length and member) at `offset`. */
  #entryBytes(offset: number): number {
    const length = this.#lengthAt(offset);
    return prefixBytes(length) + length;
  }

  /** The member length written at `offset` (one byte below {@link SHORT_LENGTH}, else two). */
  #lengthAt(offset: number): number {
    const first = this.#arena[offset];
    return first < SHORT_LENGTH ? first : ((first & 0x7f) << 8) | this.#arena[offset + 1];
  }

  /** Whether `bytes` more fit, compacting or growing the arena as needed. */
  #makeRoom(bytes: number): boolean {
    if (this.#used + bytes <= this.#arena.length) return true;
    const live = this.#used - this.#dead;
    const growth = arenaGrowth(
      this.#used,
      this.#dead,
      bytes,
      MAX_MEMBER_ARENA_BYTES,
      INITIAL_ARENA_BYTES,
    );
    if (growth === undefined) return false;
    const { capacity, compact } = growth;
    const arena = new Uint8Array(capacity);
    if (compact) {
      // Free slots and string members have negative offsets: only arena members move.
      const old = this.#arena;
      const offsets = this.#offsets;
      let used = 0;
      for (let slot = 0; slot < offsets.length; slot++) {
        const start = offsets[slot];
        if (start < 0) continue;
        const n = this.#entryBytes(start);
        for (let i = 0; i < n; i++) arena[used + i] = old[start + i];
        offsets[slot] = used;
        used += n;
      }
      assert(used === live, "compaction keeps exactly the live members' bytes");
      this.#used = used;
      this.#dead = 0;
    } else {
      arena.set(this.#arena.subarray(0, this.#used));
    }
    assert(this.#used + bytes <= arena.length, "the member arena has room for the add");
    this.#arena = arena;
    return true;
  }
}
