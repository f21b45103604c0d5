/**
 * A growable array of values held in fixed-size pages, for a big
 * collection's elements (a hash's fields, a set's members): it grows a page
 * at a time and never copies what it holds.
 *
 * Why not one JavaScript array: V8 grows one by allocating a backing store
 * half as large again and copying every element into it, in one step on
 * the event loop, with the old store left to a major collection. Measured
 * in-process (Deno 2.9, this workplace's VM), a `StringMap` of two such
 * arrays paused 59 ms growing past 869k keys, 153 ms past 1.3M and 222 ms
 * past 2.0M. A page is {@link PAGE_ELEMENTS} elements; reaching element
 * `i` is one more indexed load (its page) than a flat array.
 *
 * @example
 * ```ts
 * const array = new PagedArray<string>();
 * array.push("a");
 * array.at(0); // "a"
 * array.length; // 1
 * ```
 * @module
 */

import { assert } from "../_assert.ts";

const PAGE_BITS = 12;
/** Elements a page holds (4,096: 16 KiB of compressed pointers). */
export const PAGE_ELEMENTS = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_ELEMENTS - 1;

/**
 * A paged array (see the module doc). Indices are dense, `[0, length)`.
 *
 * @example
 * ```ts
 * const array = new PagedArray<number>();
 * array.push(1);
 * array.push(2);
 * array.at(1); // 2
 * ```
 */
export class PagedArray<T> {
  readonly #pages: T[][] = [];
  #length = 0;

  /** Elements held: indices `[0, length)`. */
  get length(): number {
    return this.#length;
  }

  /** The element at `index` (< {@link length}). */
  at(index: number): T {
    return this.#pages[index >>> PAGE_BITS][index & PAGE_MASK];
  }

  /** Replaces the element at `index` (< {@link length}). */
  set(index: number, value: T): void {
    assert(index >= 0 && index < this.#length, "a paged array is set within its length");
    this.#pages[index >>> PAGE_BITS][index & PAGE_MASK] = value;
  }

  /** Appends `value`. */
  push(value: T): void {
    const index = this.#length;
    if ((index & PAGE_MASK) === 0 && index >>> PAGE_BITS === this.#pages.length) {
      // Filled, so that V8 keeps the page a packed array (holes are slower to read).
      this.#pages.push(new Array<T>(PAGE_ELEMENTS).fill(undefined as T));
    }
    this.#pages[index >>> PAGE_BITS][index & PAGE_MASK] = value;
    this.#length = index + 1;
  }
}
