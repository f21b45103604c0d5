/**
 * A byte arena in fixed-size pages, for a big collection's element bytes
 * (a hash's values, a sorted set's members): an allocation is a run of
 * bytes inside one page, named by a global offset (`page * PAGE + at`),
 * and the arena grows a page at a time, never copying what it holds (see
 * `paged_numbers.ts` for what a copying growth cost here: 58–89 ms as a
 * hash's or sorted set's arena passed 16 MiB).
 *
 * The first page grows by doubling up to {@link BYTE_PAGE_BYTES}, so a small
 * collection's arena stays small. An allocation that does not fit in the
 * rest of its page starts the next one; the bytes skipped count as dead,
 * like freed ones, for the owner's compaction policy. An allocation is at
 * most a page.
 *
 * @example
 * ```ts
 * const arena = new PagedBytes(1024);
 * const at = arena.alloc(3);
 * arena.page(at)[arena.offsetInPage(at)] = 0x61;
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import { grownArray } from "../bytes/grown_array.ts";

const PAGE_BITS = 20;
/** Bytes a page holds once the first has grown to full size (1 MiB). */
export const BYTE_PAGE_BYTES = 1 << PAGE_BITS;
const PAGE_MASK = BYTE_PAGE_BYTES - 1;

/**
 * A paged byte arena (see the module doc).
 *
 * @example
 * ```ts
 * const arena = new PagedBytes(64);
 * arena.alloc(8); // 0
 * arena.usedBytes; // 8
 * ```
 */
export class PagedBytes {
  readonly #pages: Uint8Array[] = [];
  #used = 0;
  #dead = 0;

  constructor(initialBytes: number) {
    assert(initialBytes > 0 && initialBytes <= BYTE_PAGE_BYTES, "a first page");
    this.#pages.push(new Uint8Array(initialBytes));
  }

  /** The end of the last allocation: bytes allocated, dead ones included. */
  get usedBytes(): number {
    return this.#used;
  }

  /** Bytes freed or skipped at page ends. */
  get deadBytes(): number {
    return this.#dead;
  }

  /** Bytes of the pages as allocated. */
  get allocatedBytes(): number {
    const pages = this.#pages;
    return pages.length === 1 ? pages[0].length : pages.length * BYTE_PAGE_BYTES;
  }

  /** The global offset at which `bytes` more would go (what {@link alloc} would return). */
  nextOffset(bytes: number): number {
    const at = this.#used;
    return (at & PAGE_MASK) + bytes > BYTE_PAGE_BYTES ? (at | PAGE_MASK) + 1 : at;
  }

  /** Room for `bytes` (at most a page) in one page; its global offset. */
  alloc(bytes: number): number {
    assert(bytes >= 0 && bytes <= BYTE_PAGE_BYTES, "an allocation fits in a page");
    const at = this.nextOffset(bytes);
    this.#dead += at - this.#used;
    const end = at + bytes;
    const pages = this.#pages;
    const index = at >>> PAGE_BITS;
    if (index === 0) {
      const first = pages[0];
      if (end > first.length) {
        // The first page doubles up to a full page: a copy of at most a page.
        let length = first.length;
        while (length < end) length *= 2;
        pages[0] = grownArray(first, Math.min(length, BYTE_PAGE_BYTES), this.#used);
      }
    } else if (index === pages.length) {
      if (pages[0].length < BYTE_PAGE_BYTES) pages[0] = grownArray(pages[0], BYTE_PAGE_BYTES);
      pages.push(new Uint8Array(BYTE_PAGE_BYTES));
    }
    this.#used = end;
    return at;
  }

  /**
   * Allocates `bytes` here and copies them from global offset `at` of
   * `source` (a migration's move into a fresh arena); the new offset.
   */
  copyFrom(source: PagedBytes, at: number, bytes: number): number {
    const to = this.alloc(bytes);
    const start = source.offsetInPage(at);
    this.page(to).set(source.page(at).subarray(start, start + bytes), this.offsetInPage(to));
    return to;
  }

  /** Counts `bytes` of an allocation as dead (the owner no longer uses them). */
  free(bytes: number): void {
    this.#dead += bytes;
  }

  /** The page holding global offset `at`. */
  page(at: number): Uint8Array {
    return this.#pages[at >>> PAGE_BITS];
  }

  /** Where global offset `at` is in its {@link page}. */
  offsetInPage(at: number): number {
    return at & PAGE_MASK;
  }
}
