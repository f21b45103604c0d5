/**
 * A big hash's values, off the JavaScript heap: the bytes of the value at
 * each position of the hash's `StringMap` in one growable byte arena.
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
 * facts are one cache line, not three); a value longer than {@link MAX_ARENA_VALUE_BYTES},
 * or one that would take the arena past {@link MAX_FIELD_ARENA_BYTES}, is kept
 * as a string in a side array instead (length -1), so that no write can fail
 * for want of room. A value that outgrows its room moves to the end, its old
 * bytes dead; when the arena is full and at least half dead it is compacted
 * rather than grown.
 *
 * @example
 * ```ts
 * const values = new FieldValues();
 * values.set(0, "v");
 * values.get(0); // "v"
 * ```
 * @module
 */

import { arenaGrowth } from "../../storage/arena_growth.ts";
import { assert } from "../../_assert.ts";
import { bytesToBinary, writeBinary } from "../../bytes/binary_string.ts";

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
  /** Offset, length and room per position (see {@link STRIDE}). */
  #meta = new Int32Array(INITIAL_POSITIONS * STRIDE);
  /** Values held as strings, by position (holes elsewhere). */
  #strings: (string | undefined)[] = [];
  #arena = new Uint8Array(INITIAL_ARENA_BYTES);
  #used = 0;
  #dead = 0;

  /** Arena bytes in use, dead ones included (MEMORY USAGE). */
  get arenaBytes(): number {
    return this.#used;
  }

  /** The value at position `at` (set before). */
  get(at: number): string {
    const meta = this.#meta;
    const length = meta[at * STRIDE + LENGTH];
    if (length === STRING_VALUE) return this.#strings[at]!;
    const start = meta[at * STRIDE + OFFSET];
    return bytesToBinary(this.#arena, start, start + length);
  }

  /** Prefetching (see `Engine.prefetch`): reads what a write at `at` (-1: none) will touch. */
  touch(at: number): number {
    const meta = this.#meta;
    if (at < 0 || at * STRIDE >= meta.length) return 0;
    const offset = meta[at * STRIDE + OFFSET];
    return meta[at * STRIDE + ROOM] === 0 || offset >= this.#used ? 0 : this.#arena[offset];
  }

  /** Sets the value at position `at` (a new position, or one set before). */
  set(at: number, value: string): void {
    if (at * STRIDE >= this.#meta.length) this.#growPositions(at + 1);
    const meta = this.#meta;
    const i = at * STRIDE;
    const length = value.length;
    if (meta[i + LENGTH] === STRING_VALUE) this.#strings[at] = undefined;
    if (length <= meta[i + ROOM]) {
      writeBinary(value, this.#arena, meta[i + OFFSET]);
      meta[i + LENGTH] = length;
      return;
    }
    const room = roundUp8(length);
    if (length > MAX_ARENA_VALUE_BYTES || !this.#makeRoom(room)) {
      this.#free(at);
      meta[i + LENGTH] = STRING_VALUE;
      this.#strings[at] = value;
      return;
    }
    this.#free(at);
    const offset = this.#used;
    this.#used += room;
    writeBinary(value, this.#arena, offset);
    meta[i + OFFSET] = offset;
    meta[i + LENGTH] = length;
    meta[i + ROOM] = room;
  }

  /** Forgets the value at position `at` (its field is gone; the position may be reused). */
  delete(at: number): void {
    if (at * STRIDE >= this.#meta.length) return;
    if (this.#meta[at * STRIDE + LENGTH] === STRING_VALUE) this.#strings[at] = undefined;
    this.#free(at);
    this.#meta[at * STRIDE + LENGTH] = 0;
  }

  /** Marks `at`'s room dead. */
  #free(at: number): void {
    this.#dead += this.#meta[at * STRIDE + ROOM];
    this.#meta[at * STRIDE + ROOM] = 0;
  }

  /** Whether `bytes` more fit, compacting or growing the arena as needed. */
  #makeRoom(bytes: number): boolean {
    if (this.#used + bytes <= this.#arena.length) return true;
    const growth = arenaGrowth(
      this.#used,
      this.#dead,
      bytes,
      MAX_FIELD_ARENA_BYTES,
      INITIAL_ARENA_BYTES,
    );
    if (growth === undefined) return false;
    const { capacity, compact } = growth;
    const arena = new Uint8Array(capacity);
    if (compact) {
      let used = 0;
      const meta = this.#meta;
      for (let i = 0; i < meta.length; i += STRIDE) {
        const room = meta[i + ROOM];
        if (room === 0) continue;
        const start = meta[i + OFFSET];
        arena.set(this.#arena.subarray(start, start + room), used);
        meta[i + OFFSET] = used;
        used += room;
      }
      this.#used = used;
      this.#dead = 0;
    } else {
      arena.set(this.#arena.subarray(0, this.#used));
    }
    assert(this.#used + bytes <= arena.length, "the value arena has room for the request");
    this.#arena = arena;
    return true;
  }

  #growPositions(needed: number): void {
    let count = this.#meta.length / STRIDE;
    while (count < needed) count *= 2;
    const meta = new Int32Array(count * STRIDE);
    meta.set(this.#meta);
    this.#meta = meta;
  }
}
