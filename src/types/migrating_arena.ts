/**
 * A byte arena (`paged_bytes.ts`) compacted a step at a time, as Redis
 * rehashes a dict: when the arena is full and at least half dead, its
 * owner begins a migration — a fresh arena takes every new entry, and each
 * later add or delete moves the live entries of a few more slots out of the
 * old one — instead of copying every live entry at once. A one-step copy of
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
 * const arenas = new MigratingArena(1024);
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
import { PagedBytes } from "./paged_bytes.ts";

/** The tag bit of an offset; arenas hold at most this many bytes. */
const TAG = 0x4000_0000;
const UNTAG = TAG - 1;

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
 * const arenas = new MigratingArena(1024);
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

  constructor(readonly initialBytes: number) {
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
    return this.#current.alloc(bytes) | this.#tag;
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
    return this.#current.offsetInPage(at & UNTAG);
  }

  /** Marks `bytes` at tagged offset `at` dead in the arena holding them. */
  free(at: number, bytes: number): void {
    ((at & TAG) === this.#tag ? this.#current : this.#old!).free(bytes);
  }

  /**
   * Whether `bytes` more fit in the current arena, which may grow to
   * `maxBytes`: when the allocation would start a page while the arena is
   * at least half dead (`arenaGrowth`), a migration begins and `step`
   * (the owner's walk of its next slots) runs once; one under way goes on
   * while the new arena grows.
   */
  makeRoom(bytes: number, maxBytes: number, step: () => void): boolean {
    const arena = this.#current;
    if (arena.nextOffset(bytes) + bytes <= arena.allocatedBytes) return true;
    const growth = arenaGrowth(
      arena.usedBytes,
      arena.deadBytes,
      bytes,
      maxBytes,
      this.initialBytes,
    );
    if (growth === undefined) return false;
    if (growth.compact && this.#old === undefined) {
      this.beginMigration();
      step();
    }
    return this.#current.nextOffset(bytes) + bytes <= maxBytes;
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
    if (bytes > SHORT_COPY_BYTES) return current.copyFrom(old, from, bytes) | this.#tag;
    // A short entry byte by byte: a view per entry for `set` cost more than the copy.
    const to = current.alloc(bytes);
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
