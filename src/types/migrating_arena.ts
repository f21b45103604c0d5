/**
 * A byte arena (`paged_bytes.ts`) compacted a step at a time, as Redis
 * rehashes a dict: when the arena is full and at least half dead, its
 * owner begins a migration — a fresh arena takes every new entry, and each
 * later add, delete or lookup moves the live entries of a few more slots
 * out of the old one — instead of copying every live entry at once. A one-step copy of
 * a 1M-member set's arena held the event loop 171 ms, a 1M-field hash's
 * field and value arenas 80 and 90 ms (in-process, delete-and-add churn).
 *
 * Offsets are tagged with the arena that holds them: bit 30 (arenas hold
 * at most 2^30 bytes) is 0 for one arena and 1 for the other, and the tag
 * of the current arena flips at each migration, so no offset is rewritten
 * when one begins or ends — the migration retags those it moves. Negative
 * numbers (an owner's "no bytes here" marks) are never offsets.
 *
 * @example
 * ```ts
 * const arenas = new MigratingArena(1024, 64);
 * const at = arenas.alloc(3);
 * arenas.page(at)[arenas.offsetInPage(at)] = 7;
 * arenas.beginMigration();
 * arenas.isOld(at); // true
 * const moved = arenas.move(at, 3); // the owner stores `moved` in place of `at`
 * arenas.endMigration();
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import { arenaGrowth } from "../storage/arena_growth.ts";
import { BYTE_PAGE_BYTES, PagedBytes } from "./paged_bytes.ts";

/** The tag bit of an offset; arenas hold at most this many bytes. */
const TAG = 0x4000_0000;
const UNTAG = TAG - 1;
/** An offset's place in its page (pages are {@link BYTE_PAGE_BYTES}, a power of two). */
const PAGE_MASK = BYTE_PAGE_BYTES - 1;

/** Entries up to this long are moved byte by byte, longer ones with `set`. */
const SHORT_COPY_BYTES = 64;

/**
 * Slots an owner walks per add or delete while migrating: a migration of
 * a table of n slots ends after n / 64 changes.
 */
export const MIGRATION_STEP_SLOTS = 64;

/**
 * Two arenas while migrating, one otherwise (see the module doc).
 *
 * @example
 * ```ts
 * const arenas = new MigratingArena(1024, 64);
 * arenas.migrating; // false
 * ```
 */
export class MigratingArena {
  #current: PagedBytes;
  #old: PagedBytes | undefined = undefined;
  /** The tag bit of the current arena's offsets (0 or TAG). */
  #tag = 0;
  /** The next slot the owner's migration walks. */
  cursor = 0;

  /**
   * A first page of `initialBytes`; `maxEntryBytes`: the longest entry an
   * owner allocates (what a page end may waste, see {@link makeRoom}).
   */
  constructor(readonly initialBytes: number, readonly maxEntryBytes: number) {
    this.#current = new PagedBytes(initialBytes);
  }

  /** A migration is under way: an old arena still holds live entries. */
  get migrating(): boolean {
    return this.#old !== undefined;
  }

  /** The arena new entries go to (its counts decide the owner's growth). */
  get current(): PagedBytes {
    return this.#current;
  }

  /** Bytes in use in both arenas, dead ones included (MEMORY USAGE). */
  get usedBytes(): number {
    return this.#current.usedBytes + (this.#old?.usedBytes ?? 0);
  }

  /** Bytes allocated in both arenas. */
  get allocatedBytes(): number {
    return this.#current.allocatedBytes + (this.#old?.allocatedBytes ?? 0);
  }

  /** Room for `bytes` in the current arena; the tagged offset. */
  alloc(bytes: number): number {
    const at = this.#current.alloc(bytes);
    assert(at + bytes <= TAG, "an arena offset stays below the tag bit");
    return at | this.#tag;
  }

  /** Whether tagged offset `at` is in the old arena (it is to be moved). */
  isOld(at: number): boolean {
    return (at & TAG) !== this.#tag;
  }

  /** The page holding tagged offset `at`. */
  page(at: number): Uint8Array {
    return ((at & TAG) === this.#tag ? this.#current : this.#old!).page(at & UNTAG);
  }

  /** Where tagged offset `at` is in its {@link page}. */
  offsetInPage(at: number): number {
    return at & PAGE_MASK;
  }

  /** Marks `bytes` at tagged offset `at` dead in the arena holding them. */
  free(at: number, bytes: number): void {
    ((at & TAG) === this.#tag ? this.#current : this.#old!).free(bytes);
  }

  /**
   * Whether `bytes` more fit in the current arena, which may grow to
   * `maxBytes` (at most 2^30: the tag bit is above) less what the old
   * arena's live entries will take when they move in. When the allocation
   * would start a page while the arena is at least half dead, a migration
   * begins (the owner's next change takes its first step); an arena full
   * but not half dead takes no more (the owner keeps the entry elsewhere).
   */
  makeRoom(bytes: number, maxBytes: number): boolean {
    assert(maxBytes <= TAG, "an arena holds at most 2^30 bytes");
    let arena = this.#current;
    if (this.#old === undefined) {
      if (arena.nextOffset(bytes) + bytes <= arena.allocatedBytes) return true;
      const growth = arenaGrowth(
        arena.usedBytes,
        arena.deadBytes,
        bytes,
        maxBytes,
        this.initialBytes,
      );
      if (growth === undefined) return false;
      if (!growth.compact || arena.deadBytes * 2 < arena.usedBytes) {
        return arena.nextOffset(bytes) + bytes <= maxBytes;
      }
      this.beginMigration();
      arena = this.#current;
    }
    return arena.nextOffset(bytes) + bytes + this.#reservedForOld() <= maxBytes;
  }

  /**
   * Room the old arena's live entries need in the current one: their bytes
   * and, per page they fill, the end of a page an entry did not fit in.
   */
  #reservedForOld(): number {
    const old = this.#old!;
    const live = old.usedBytes - old.deadBytes;
    return live + (Math.ceil(live / BYTE_PAGE_BYTES) + 1) * this.maxEntryBytes;
  }

  /** Begins a migration: the current arena becomes the old one. */
  beginMigration(): void {
    assert(this.#old === undefined, "one migration at a time");
    this.#old = this.#current;
    this.#current = new PagedBytes(this.initialBytes);
    this.#tag ^= TAG;
    this.cursor = 0;
  }

  /** Copies the `bytes` at old tagged offset `at` into the current arena; their new tagged offset. */
  move(at: number, bytes: number): number {
    const old = this.#old!;
    const current = this.#current;
    const from = at & UNTAG;
    old.free(bytes);
    if (bytes > SHORT_COPY_BYTES) {
      const copied = current.copyFrom(old, from, bytes);
      assert(copied + bytes <= TAG, "an arena offset stays below the tag bit");
      return copied | this.#tag;
    }
    // A short entry byte by byte: a view per entry for `set` cost more than the copy.
    const to = current.alloc(bytes);
    assert(to + bytes <= TAG, "an arena offset stays below the tag bit");
    const source = old.page(from);
    const start = old.offsetInPage(from);
    const target = current.page(to);
    const into = current.offsetInPage(to);
    for (let i = 0; i < bytes; i++) target[into + i] = source[start + i];
    return to | this.#tag;
  }

  /** Ends a migration whose owner moved every live entry out of the old arena. */
  endMigration(): void {
    const old = this.#old!;
    assert(old.deadBytes === old.usedBytes, "a migration ends with nothing live in the old arena");
    this.#old = undefined;
  }
}
