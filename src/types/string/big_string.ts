/**
 * A string value too large to keep inline in a partition's arena: its own
 * off-heap byte buffer, with room to grow.
 *
 * Why a separate buffer: a value inline in the arena is copied out on every
 * read (a new V8 string per GET) and moved whole by every overwrite that
 * outgrows its room and by every compaction. For a 16 MiB value that made
 * one `MGET big ×100` build 1.6 GB of strings, and a 1-byte APPEND copy 16
 * MiB (issue 13). Here:
 *
 * - a read hands out a view of the bytes ({@link view}); replies reference
 *   it instead of copying, so a hundred GETs of one value cost one value;
 * - an append writes only the new bytes, into room reserved ahead as
 *   Redis's sds does (doubling below 1 MiB, then 1 MiB at a time), so
 *   appending costs the bytes appended, amortized;
 * - an overwrite inside the value ({@link setRange}) writes in place —
 *   unless a view was handed out since the last copy: that view may still be
 *   waiting in a client's output, so the bytes are copied first (copy on
 *   write). Appends never disturb a view (they write past its end).
 *
 * The buffer lives outside the JavaScript heap (an ArrayBuffer), so large
 * datasets are not bounded by V8's heap limit and the collector does not
 * scan them.
 *
 * @example
 * ```ts
 * const value = BigString.fromBinary("x".repeat(100_000));
 * value.setRange(value.length, "yz"); // an append: writes 2 bytes
 * value.length; // 100002
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";
import { bytesToBinary, writeBinary } from "../../bytes/binary_string.ts";

/**
 * Values longer than this are held as a {@link BigString}; shorter ones
 * inline in the arena, where small values are cheapest (no object per
 * value). At this size a copy costs well under a microsecond, so the inline
 * path's "rewrite the value" stays about the bytes appended too.
 *
 * @example
 * ```ts
 * if (value.length > INLINE_MAX_BYTES) table.setObject(key, hash, BigString.fromBinary(value));
 * ```
 */
export const INLINE_MAX_BYTES = 4096;

/** Below this, room doubles; above, it grows by this much (Redis's sds). */
const GROW_STEP_BYTES = 1024 * 1024;

/**
 * A mutable byte string with reserved room and copy-on-write views.
 *
 * @example
 * ```ts
 * const value = BigString.fromBinary("abc");
 * const bytes = value.view(); // Uint8Array [97, 98, 99], frozen for its readers
 * value.setRange(0, "X"); // copies first: `bytes` still reads "abc"
 * ```
 */
export class BigString {
  #bytes: Uint8Array;
  #length: number;
  /** A view was handed out since the buffer was last copied. */
  #shared = false;

  private constructor(bytes: Uint8Array, length: number) {
    this.#bytes = bytes;
    this.#length = length;
  }

  /** A value holding the bytes of binary string `s`, with no spare room. */
  static fromBinary(s: string): BigString {
    const bytes = new Uint8Array(s.length);
    writeBinary(s, bytes, 0);
    return new BigString(bytes, s.length);
  }

  /** Bytes in the value. */
  get length(): number {
    return this.#length;
  }

  /** Bytes held, spare room included (memory accounting). */
  get capacity(): number {
    return this.#bytes.length;
  }

  /**
   * The value's bytes, valid until the caller is done with them: writes
   * after this never change them (see the module doc).
   */
  view(): Uint8Array {
    this.#shared = true;
    return this.#bytes.subarray(0, this.#length);
  }

  /**
   * The value's bytes for reading right now (a command's own computation):
   * valid only until the next write, so never kept or handed to a reply
   * (use {@link view} for that).
   */
  peek(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  /** The byte at `index` (< length). */
  byteAt(index: number): number {
    return this.#bytes[index];
  }

  /** The value as a binary string (a copy). */
  toBinary(start = 0, end = this.#length): string {
    return bytesToBinary(this.#bytes, start, end);
  }

  /** Same as {@link toBinary}: lets generic code turn any value into a string. */
  toString(): string {
    return this.toBinary();
  }

  /**
   * Writes binary string `s` at `offset`, growing the value (zero-filled
   * between its old end and `offset`) as needed; returns the new length.
   */
  setRange(offset: number, s: string): number {
    assert(Number.isSafeInteger(offset) && offset >= 0, "setRange offset is a natural number");
    const end = offset + s.length;
    if (end > this.#bytes.length) {
      this.#reallocate(roomFor(end));
    } else if (this.#shared && offset < this.#length) {
      // A reader may hold [0, length): don't write under it.
      this.#reallocate(this.#bytes.length);
    }
    if (offset > this.#length) this.#bytes.fill(0, this.#length, offset);
    writeBinary(s, this.#bytes, offset);
    if (end > this.#length) this.#length = end;
    return this.#length;
  }

  /** Moves the bytes to a new buffer of `capacity` bytes; old views keep the old one. */
  #reallocate(capacity: number): void {
    const bytes = new Uint8Array(capacity);
    bytes.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = bytes;
    this.#shared = false;
  }
}

/** Capacity to reserve for a value about to reach `length` bytes. */
function roomFor(length: number): number {
  return length < GROW_STEP_BYTES ? length * 2 : length + GROW_STEP_BYTES;
}
