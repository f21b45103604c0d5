/**
 * A typed array's successor, made before it is needed and written into a
 * page at a time, so that growing the array later copies into memory
 * that is already resident.
 *
 * Why: copying into a fresh array is almost all page faults on this VM
 * (measured in-process, Deno 2.9: `new Int32Array(1M ints).set(old)` of 2 MiB
 * took 5.7–10.6 ms, the allocation 0.1 ms; `ArrayBuffer.prototype.transfer`
 * to a bigger length 12–33 ms). A key table's entries doubling at 131k
 * entries held the event loop 9–12 ms. Typed arrays over a resizable
 * `ArrayBuffer` grow without a copy (0.03 ms), but every read of them cost
 * ~0.7 ns more (2.7 against 1.3 ns a random read), on every lookup.
 *
 * Only the part the copy will fill is written ahead; the rest stays
 * unwritten, so not resident until used (see `grown_array.ts`).
 *
 * @example
 * ```ts
 * let meta = new Uint32Array(1024);
 * const next = new ReadyArray<Uint32Array>();
 * next.touch(meta, 2048, 0, 1024); // while meta fills up, a little at a time
 * meta = next.grown(meta, 2048); // the old array copied in, and freed
 * ```
 * @module
 */

import { type GrowableArray, grownArray } from "./grown_array.ts";

/** Bytes of a memory page (the unit the system makes resident). */
const PAGE_BYTES = 4096;

/**
 * The next, longer array for a growing typed array (see the module doc).
 *
 * @example
 * ```ts
 * const next = new ReadyArray<Int32Array>();
 * next.pending; // false
 * ```
 */
export class ReadyArray<T extends GrowableArray> {
  #next: T | undefined = undefined;

  /** Whether a successor is made. */
  get pending(): boolean {
    return this.#next !== undefined;
  }

  /**
   * Makes `array`'s successor of `length` elements (if not made yet) and
   * writes one element in each page of its elements `[from, to)`, which
   * the copy of `array` will fill.
   */
  touch(array: T, length: number, from: number, to: number): void {
    if (this.#next === undefined || this.#next.length !== length) {
      this.#next = new (array.constructor as new (length: number) => T)(length);
    }
    const perPage = PAGE_BYTES / array.BYTES_PER_ELEMENT;
    const next = this.#next;
    const end = Math.min(to, array.length);
    for (let at = Math.ceil(from / perPage) * perPage; at < end; at += perPage) next[at] = 0;
  }

  /**
   * `array` grown to `length` elements: into the successor made by
   * {@link touch} when it has that length, else a fresh one; `array` is
   * freed now (see `grown_array.ts`).
   */
  grown(array: T, length: number): T {
    const next = this.#next;
    this.#next = undefined;
    if (next === undefined || next.length !== length) return grownArray(array, length);
    next.set(array);
    (array.buffer as ArrayBuffer).transfer(0);
    return next;
  }

  /** Forgets the successor (the array was replaced some other way). */
  drop(): void {
    this.#next = undefined;
  }
}
