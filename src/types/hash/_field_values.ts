/**
 * A big hash's values, off the JavaScript heap: the bytes of the value at
 * each position of the hash's `StringMap` in a byte arena of pages
 * (`paged_bytes.ts`), their offsets in pages of numbers
 * (`paged_numbers.ts`): both grow without copying what they hold.
 *
 * Why: a value kept as a string is a heap object written into an old array
 * on every HSET, so it survives the next scavenge, is copied twice and
 * promoted, and the garbage collector then marks and sweeps it; under
 * redis-benchmark's HSET (one hash of 100k fields) that cost ~15% of the
 * server's CPU per request (measured, A/B of 3 rounds: 2.41 → 2.04 µs with
 * the values not stored). Here a write copies the bytes into the value's
 * room and the request's string dies young. A read makes a string.
 *
 * Layout, per position: offset, length and room (bytes reserved, a multiple
 * of 8) side by side in one Int32Array (four ints a position: a write's
 * facts are one cache line, not three). A value of at most
 * {@link INLINE_VALUE_BYTES} bytes (a counter, a flag, a small number) set
 * at a position with no room takes none: its bytes sit in the position's
 * offset and fourth int, so that writing or reading it touches no arena
 * byte — one cache miss fewer in a big hash. A value longer than {@link MAX_ARENA_VALUE_BYTES},
 * or one that would take the arena past {@link MAX_FIELD_ARENA_BYTES}, is kept
 * as a string in a side array instead (length -1), so that no write can fail
 * for want of room. A value that outgrows its room moves to the end, its old
 * bytes dead; when the arena is full and at least half dead it is compacted
 * rather than grown — a few positions' values at a time, by each later
 * write, delete or read (`migrating_arena.ts`).
 *
 * Measured: redis-benchmark -P 16 -r 100000 HSET (one hash of 100k fields,
 * values of 3 bytes), A/B of 8 alternating rounds: median 0.51–0.55 →
 * 0.56–0.57 M requests/s with short values held in their positions.
 *
 * @example
 * ```ts
 * const values = new FieldValues();
 * values.set(0, "v");
 * values.get(0); // "v"
 * ```
 * @module
 */

import { bytesToBinary, writeBinary } from "../../bytes/binary_string.ts";
import { MigratingArena, MIGRATION_STEP_SLOTS } from "../migrating_arena.ts";
import { PagedNumbers } from "../paged_numbers.ts";

/** Longest value held in the arena; longer ones stay strings (a copy would cost more than it saves). */
export const MAX_ARENA_VALUE_BYTES = 4096;
/** Most bytes one hash's arena holds (Int32 offsets); values past it stay strings. */
export const MAX_FIELD_ARENA_BYTES = 0x4000_0000;
const INITIAL_POSITIONS = 64;
const INITIAL_ARENA_BYTES = 1024;
/** The length of a value held as a string. */
const STRING_VALUE = -1;
/** Ints per position in `#meta`, and where each fact sits. */
const STRIDE = 4;
const OFFSET = 0;
const LENGTH = 1;
const ROOM = 2;
/** With OFFSET, the bytes of a value held in its position (see the module doc). */
const INLINE_HIGH = 3;
/** Longest value held in its position's ints rather than the arena. */
export const INLINE_VALUE_BYTES = 8;
/** Where {@link FieldValues.get} gathers an inline value's bytes. */
const inlineBytes = new Uint8Array(INLINE_VALUE_BYTES);

function roundUp8(bytes: number): number {
  return (bytes + 7) & ~7;
}

/**
 * Values by position (see the module doc).
 *
 * @example
 * ```ts
 * const values = new FieldValues();
 * values.set(3, "x");
 * values.delete(3);
 * ```
 */
export class FieldValues {
  /** Offset, length and room per position, and a short value's last bytes (see {@link STRIDE}). */
  readonly #meta = new PagedNumbers(Int32Array, INITIAL_POSITIONS * STRIDE);
  /** Values held as strings, by position (holes elsewhere). */
  #strings: (string | undefined)[] = [];
  readonly #arena = new MigratingArena(INITIAL_ARENA_BYTES, MAX_ARENA_VALUE_BYTES);

  /** Arena bytes in use, dead ones included (MEMORY USAGE). */
  get arenaBytes(): number {
    return this.#arena.usedBytes;
  }

  /** The value at position `at` (set before). */
  get(at: number): string {
    // Reads step a migration too (see `MemberArena.locate`).
    if (this.#arena.migrating) this.#migrateSome();
    const meta = this.#meta.page(at * STRIDE);
    const i = this.#meta.indexInPage(at * STRIDE);
    const length = meta[i + LENGTH];
    if (length === STRING_VALUE) return this.#strings[at]!;
    // An empty value may have no room: its offset is stale (the arena may have migrated since).
    if (length === 0) return "";
    if (meta[i + ROOM] === 0) {
      // Held in the position (see the module doc): at most INLINE_VALUE_BYTES.
      const low = meta[i + OFFSET];
      const high = meta[i + INLINE_HIGH];
      for (let k = 0; k < length; k++) {
        inlineBytes[k] = (k < 4 ? low >>> (8 * k) : high >>> (8 * (k - 4))) & 0xff;
      }
      return bytesToBinary(inlineBytes, 0, length);
    }
    const arena = this.#arena;
    const offset = meta[i + OFFSET];
    const start = arena.offsetInPage(offset);
    return bytesToBinary(arena.page(offset), start, start + length);
  }

  /** Prefetching (see `Engine.prefetch`): reads what a write at `at` (-1: none) will touch. */
  touch(at: number): number {
    if (at < 0 || at * STRIDE >= this.#meta.capacity) return 0;
    const meta = this.#meta.page(at * STRIDE);
    const i = this.#meta.indexInPage(at * STRIDE);
    const offset = meta[i + OFFSET];
    if (meta[i + ROOM] === 0) return 0;
    return this.#arena.page(offset)[this.#arena.offsetInPage(offset)];
  }

  /** Sets the value at position `at` (a new position, or one set before). */
  set(at: number, value: string): void {
    if (this.#arena.migrating) this.#migrateSome();
    // A position's four numbers share a page (STRIDE divides the page size).
    if (at * STRIDE >= this.#meta.capacity) this.#meta.reserve(at * STRIDE + STRIDE);
    const meta = this.#meta.page(at * STRIDE);
    const i = this.#meta.indexInPage(at * STRIDE);
    const length = value.length;
    if (meta[i + LENGTH] === STRING_VALUE) this.#strings[at] = undefined;
    // Short, where there is no room: in the position. Where there is room,
    // it stays there (a value that moves between 8 and 9 bytes is not
    // given new room at every other write).
    if (length <= INLINE_VALUE_BYTES && meta[i + ROOM] === 0) {
      let low = 0;
      let high = 0;
      for (let k = 0; k < length; k++) {
        if (k < 4) low |= value.charCodeAt(k) << (8 * k);
        else high |= value.charCodeAt(k) << (8 * (k - 4));
      }
      meta[i + OFFSET] = low;
      meta[i + INLINE_HIGH] = high;
      meta[i + LENGTH] = length;
      return;
    }
    if (length <= meta[i + ROOM]) {
      if (length > 0) {
        const offset = meta[i + OFFSET];
        writeBinary(value, this.#arena.page(offset), this.#arena.offsetInPage(offset));
      }
      meta[i + LENGTH] = length;
      return;
    }
    const room = roundUp8(length);
    if (
      length > MAX_ARENA_VALUE_BYTES ||
      !this.#arena.makeRoom(room, MAX_FIELD_ARENA_BYTES)
    ) {
      this.#free(at);
      meta[i + LENGTH] = STRING_VALUE;
      this.#strings[at] = value;
      return;
    }
    this.#free(at);
    const arena = this.#arena;
    const offset = arena.alloc(room);
    writeBinary(value, arena.page(offset), arena.offsetInPage(offset));
    meta[i + OFFSET] = offset;
    meta[i + LENGTH] = length;
    meta[i + ROOM] = room;
  }

  /** Forgets the value at position `at` (its field is gone; the position may be reused). */
  delete(at: number): void {
    if (this.#arena.migrating) this.#migrateSome();
    if (at * STRIDE >= this.#meta.capacity) return;
    if (this.#meta.get(at * STRIDE + LENGTH) === STRING_VALUE) this.#strings[at] = undefined;
    this.#free(at);
    this.#meta.set(at * STRIDE + LENGTH, 0);
  }

  /** Marks `at`'s room dead. */
  #free(at: number): void {
    const room = this.#meta.get(at * STRIDE + ROOM);
    // No room: its offset may be stale (an arena since dropped).
    if (room === 0) return;
    this.#arena.free(this.#meta.get(at * STRIDE + OFFSET), room);
    this.#meta.set(at * STRIDE + ROOM, 0);
  }

  /**
   * Moves the values of the next {@link MIGRATION_STEP_SLOTS} positions out
   * of the old arena (see `migrating_arena.ts`), ending the migration after
   * the last position.
   */
  #migrateSome(): void {
    const arena = this.#arena;
    const meta = this.#meta;
    const positions = Math.floor(meta.capacity / STRIDE);
    const end = Math.min(arena.cursor + MIGRATION_STEP_SLOTS, positions);
    for (let at = arena.cursor; at < end; at++) {
      const room = meta.get(at * STRIDE + ROOM);
      const offset = meta.get(at * STRIDE + OFFSET);
      if (room > 0 && arena.isOld(offset)) meta.set(at * STRIDE + OFFSET, arena.move(offset, room));
    }
    arena.cursor = end;
    if (end === positions) arena.endMigration();
  }
}
