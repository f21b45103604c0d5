/**
 * A growable array of 32-bit integers or doubles in fixed-size pages, for
 * a big collection's per-element facts (a hash's value offsets, a sorted
 * set's scores): it grows a page at a time and never copies what it holds.
 *
 * Why: growing one typed array means a new one twice the size and a copy,
 * in one step, and on this workplace's VM writing fresh memory is slow
 * (each 4 KiB page first touched faults into the hypervisor): measured,
 * Deno 2.9, an `Int32Array` of 16 MiB grown to 32 MiB took 65 ms, and a
 * sorted set's or hash's arrays growing past 2M elements held the event
 * loop 90–116 ms. A page is {@link NUMBER_PAGE_ELEMENTS} elements (64 KiB
 * of Int32, 128 KiB of Float64); the first grows by doubling up to that
 * size, so a small collection stays small.
 *
 * @example
 * ```ts
 * const scores = new PagedNumbers(Float64Array, 16);
 * scores.reserve(100_000);
 * scores.set(99_999, 1.5);
 * scores.get(99_999); // 1.5
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import { grownArray } from "../bytes/grown_array.ts";

const PAGE_BITS = 14;
/** Elements a page holds once the first has grown to full size. */
export const NUMBER_PAGE_ELEMENTS = 1 << PAGE_BITS;
const PAGE_MASK = NUMBER_PAGE_ELEMENTS - 1;

type NumberArray = Int32Array | Float64Array;

/**
 * A paged array of numbers (see the module doc): indices `[0, capacity)`,
 * each holding `fill` until set.
 *
 * @example
 * ```ts
 * const offsets = new PagedNumbers(Int32Array, 64, -1);
 * offsets.get(3); // -1
 * ```
 */
export class PagedNumbers<A extends NumberArray> {
  readonly #pages: A[] = [];
  readonly #make: new (length: number) => A;
  readonly #fill: number;

  /** `initialElements` (at most a page) in a first page of `make`, each `fill`. */
  constructor(make: new (length: number) => A, initialElements: number, fill = 0) {
    assert(initialElements > 0 && initialElements <= NUMBER_PAGE_ELEMENTS, "a first page");
    this.#make = make;
    this.#fill = fill;
    this.#pages.push(this.#newPage(initialElements));
  }

  /** Indices held: `[0, capacity)`. */
  get capacity(): number {
    const pages = this.#pages;
    return pages.length === 1 ? pages[0].length : pages.length * NUMBER_PAGE_ELEMENTS;
  }

  /** Bytes of the pages as allocated. */
  get allocatedBytes(): number {
    let bytes = 0;
    for (const page of this.#pages) bytes += page.byteLength;
    return bytes;
  }

  /** The number at `index` (< {@link capacity}). */
  get(index: number): number {
    return this.#pages[index >>> PAGE_BITS][index & PAGE_MASK];
  }

  /** Sets the number at `index` (< {@link capacity}). */
  set(index: number, value: number): void {
    this.#pages[index >>> PAGE_BITS][index & PAGE_MASK] = value;
  }

  /**
   * The page holding `index` (< {@link capacity}), for several reads and
   * writes near it: indices `[index, index + k)` share it when `index` is a
   * multiple of a power of two k ≤ a page (per-element records of k numbers).
   */
  page(index: number): A {
    return this.#pages[index >>> PAGE_BITS];
  }

  /** Where `index` is in its {@link page}. */
  indexInPage(index: number): number {
    return index & PAGE_MASK;
  }

  /** Makes {@link capacity} at least `elements`. */
  reserve(elements: number): void {
    const pages = this.#pages;
    const first = pages[0];
    if (pages.length === 1 && first.length < NUMBER_PAGE_ELEMENTS && elements > first.length) {
      // The first page doubles up to a full page: a copy of at most a page.
      let length = first.length;
      while (length < elements && length < NUMBER_PAGE_ELEMENTS) length *= 2;
      const held = first.length;
      pages[0] = grownArray(first, Math.min(length, NUMBER_PAGE_ELEMENTS));
      if (this.#fill !== 0) pages[0].fill(this.#fill, held);
    }
    while (this.capacity < elements) pages.push(this.#newPage(NUMBER_PAGE_ELEMENTS));
  }

  #newPage(length: number): A {
    const page = new this.#make(length);
    if (this.#fill !== 0) page.fill(this.#fill);
    return page;
  }
}
