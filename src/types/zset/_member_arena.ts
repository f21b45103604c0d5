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
 * Layout, per slot: offset (`Int32Array`) and length (`Uint16Array`); a
 * member of {@link MAX_ARENA_MEMBER_BYTES} bytes or more, or one that would
 * take the arena past {@link MAX_MEMBER_ARENA_BYTES}, is kept as a string in
 * a side map (length {@link STRING_MEMBER}), so that no add can fail for
 * want of room. A slot's member never changes while it is held; a removed
 * member's bytes are dead until the arena, once full and at least half
 * dead, is compacted rather than grown.
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

import { assert } from "../../_assert.ts";
import { bytesToBinary, writeBinary } from "../../bytes/binary_string.ts";

/** Members this long or longer stay strings (their length takes 16 bits here). */
export const MAX_ARENA_MEMBER_BYTES = 0xfffe;
/** Most bytes one sorted set's arena holds (Int32 offsets); members past it stay strings. */
export const MAX_MEMBER_ARENA_BYTES = 0x4000_0000;
/** The length of a member held as a string. */
const STRING_MEMBER = 0xffff;
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
  #offsets = new Int32Array(INITIAL_SLOTS);
  #lengths = new Uint16Array(INITIAL_SLOTS);
  /** Members held as strings, by slot. */
  readonly #strings = new Map<number, string>();
  #arena = new Uint8Array(INITIAL_ARENA_BYTES);
  #used = 0;
  #dead = 0;

  /** Arena bytes in use, dead ones included (MEMORY USAGE). */
  get arenaBytes(): number {
    return this.#used;
  }

  /** Bytes of the per-slot arrays and the arena as allocated. */
  get allocatedBytes(): number {
    return this.#offsets.byteLength + this.#lengths.byteLength + this.#arena.byteLength;
  }

  /** Slots the per-slot arrays have room for. */
  get capacity(): number {
    return this.#offsets.length;
  }

  /** Makes room for slots [0, `slots`). */
  reserve(slots: number): void {
    if (slots <= this.#offsets.length) return;
    let count = this.#offsets.length;
    while (count < slots) count *= 2;
    const offsets = new Int32Array(count);
    offsets.set(this.#offsets);
    this.#offsets = offsets;
    const lengths = new Uint16Array(count);
    lengths.set(this.#lengths);
    this.#lengths = lengths;
  }

  /** Sets the member of free slot `slot` (within {@link reserve}d room). */
  add(slot: number, member: string): void {
    const length = member.length;
    if (length >= MAX_ARENA_MEMBER_BYTES || !this.#makeRoom(length)) {
      this.#lengths[slot] = STRING_MEMBER;
      this.#strings.set(slot, member);
      return;
    }
    const offset = this.#used;
    this.#used += length;
    writeBinary(member, this.#arena, offset);
    this.#offsets[slot] = offset;
    this.#lengths[slot] = length;
  }

  /** Forgets the member of held slot `slot`. */
  delete(slot: number): void {
    const length = this.#lengths[slot];
    if (length === STRING_MEMBER) this.#strings.delete(slot);
    else this.#dead += length;
    this.#lengths[slot] = 0;
  }

  /** The member of held slot `slot`. */
  get(slot: number): string {
    const length = this.#lengths[slot];
    if (length === STRING_MEMBER) return this.#strings.get(slot)!;
    const start = this.#offsets[slot];
    return bytesToBinary(this.#arena, start, start + length);
  }

  /** The byte length of held slot `slot`'s member. */
  lengthOf(slot: number): number {
    const length = this.#lengths[slot];
    return length === STRING_MEMBER ? this.#strings.get(slot)!.length : length;
  }

  /** Whether held slot `slot`'s member is `member`. */
  equals(slot: number, member: string): boolean {
    const length = this.#lengths[slot];
    if (length === STRING_MEMBER) return this.#strings.get(slot) === member;
    if (length !== member.length) return false;
    const arena = this.#arena;
    const start = this.#offsets[slot];
    for (let i = 0; i < length; i++) {
      if (arena[start + i] !== member.charCodeAt(i)) return false;
    }
    return true;
  }

  /** Held slot `slot`'s member against `member` by bytes: negative, 0 or positive. */
  compare(slot: number, member: string): number {
    const length = this.#lengths[slot];
    if (length === STRING_MEMBER) {
      const held = this.#strings.get(slot)!;
      return held < member ? -1 : held > member ? 1 : 0;
    }
    const arena = this.#arena;
    const start = this.#offsets[slot];
    const n = Math.min(length, member.length);
    for (let i = 0; i < n; i++) {
      const d = arena[start + i] - member.charCodeAt(i);
      if (d !== 0) return d;
    }
    return length - member.length;
  }

  /** Whether `length` more bytes fit, compacting or growing the arena as needed. */
  #makeRoom(length: number): boolean {
    if (this.#used + length <= this.#arena.length) return true;
    const live = this.#used - this.#dead;
    if (live + length > MAX_MEMBER_ARENA_BYTES) return false;
    const compact = this.#dead * 2 >= this.#used || this.#used + length > MAX_MEMBER_ARENA_BYTES;
    const capacity = Math.min(
      MAX_MEMBER_ARENA_BYTES,
      Math.max(INITIAL_ARENA_BYTES, (compact ? live + length : this.#used + length) * 2),
    );
    const arena = new Uint8Array(capacity);
    if (compact) {
      // Holes and string members have length 0 or STRING_MEMBER: only arena members move.
      let used = 0;
      for (let slot = 0; slot < this.#lengths.length; slot++) {
        const n = this.#lengths[slot];
        if (n === 0 || n === STRING_MEMBER) continue;
        const start = this.#offsets[slot];
        const old = this.#arena;
        for (let i = 0; i < n; i++) arena[used + i] = old[start + i];
        this.#offsets[slot] = used;
        used += n;
      }
      assert(used === live, "compaction keeps exactly the live members' bytes");
      this.#used = used;
      this.#dead = 0;
    } else {
      arena.set(this.#arena.subarray(0, this.#used));
    }
    assert(this.#used + length <= arena.length, "the member arena has room for the add");
    this.#arena = arena;
    return true;
  }
}
