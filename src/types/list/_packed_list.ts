/**
 * A small list where the key table holds it inline, read in its packed
 * bytes ({@link PackedList}), and the bytes a push adds there
 * ({@link packElement}). A push or a pop on a short list then walks at most
 * {@link LIST_PACKED_MAX_ELEMENTS} length prefixes and splices a few bytes
 * in place (`list_apply.ts`), where it unpacked a `ListValue` (two typed
 * arrays a node, each element copied in), changed it and packed it back,
 * twice a command: once to read, once in the record's apply. Over TCP, a
 * list kept at 100 elements by RPUSH and LPOP pairs, 16 pairs a pipeline:
 * 106.5 µs a pair before, Redis 4.9 µs in the same run (see README).
 *
 * Layout, as `ListValue.packed` writes it and `ListValue.unpack` reads it:
 * each element in order, as its length — one byte below 0x80, else two,
 * `0x80 | (length & 0x7f)` then `length >>> 7` — followed by its bytes.
 *
 * @example
 * ```ts
 * const view = engine.packed("queue", SNAPSHOT_TYPE_LIST);
 * if (view !== undefined) new PackedList(view).at(0); // the head
 * ```
 * @module
 */

import { PackedReader } from "../_packed_reader.ts";
import { assert } from "../../_assert.ts";
import { binaryEquals, bytesToBinary, writeBinary } from "../../bytes/binary_string.ts";
import type { ReplyWriter } from "../../protocol/reply_writer.ts";
import { LIST_PACKED_MAX_BYTES, LIST_PACKED_MAX_ELEMENTS } from "./list.ts";

/**
 * The offsets of a list's elements, for a walk from the tail: filled and
 * read within one call (a list held inline has at most
 * {@link LIST_PACKED_MAX_ELEMENTS} elements).
 */
const tailOffsets = new Int32Array(LIST_PACKED_MAX_ELEMENTS + 1);

/** Where {@link packElement} writes: a prefix of at most 2 bytes, then the element. */
const elementScratch = new Uint8Array(2 + LIST_PACKED_MAX_BYTES);

/**
 * A list held inline, read where its bytes lie. Valid until the keyspace
 * next changes (a splice may move the bytes): read first, then write.
 *
 * @example
 * ```ts
 * const list = new PackedList(view);
 * list.writeEnd(w, true, 1); // LPOP's reply
 * ```
 */
export class PackedList extends PackedReader {
  /** Its elements, counted on first use (-1 until then): a pop from the head needs no count. */
  #length = -1;
  #elementBytes = 0;

  /** Its elements. */
  get length(): number {
    if (this.#length < 0) this.#count();
    return this.#length;
  }

  /** Its elements' bytes, length prefixes not counted (what `ListValue.small` limits). */
  get elementBytes(): number {
    if (this.#length < 0) this.#count();
    return this.#elementBytes;
  }

  /** Its elements up to `limit`: min(`limit`, length), walking at most `limit` of them. */
  countUpTo(limit: number): number {
    if (this.#length >= 0) return Math.min(limit, this.#length);
    let n = 0;
    for (let at = this.start; n < limit && at < this.end; n++) at = this.#next(at);
    return n;
  }

  /**
   * Where element `index` (0 ≤ index ≤ length) starts, its prefix
   * included, from the start of the packed bytes; `length` gives their end.
   */
  offsetOf(index: number): number {
    let at = this.start;
    for (let i = 0; i < index; i++) at = this.#next(at);
    assert(at <= this.end, "an element of a packed list");
    return at - this.start;
  }

  /** The byte length of the element at `index` (0 ≤ index < length). */
  elementLength(index: number): number {
    const at = this.start + this.offsetOf(index);
    return this.#next(at) - this.#elementStart(at);
  }

  /** The index of the first element equal to `element` from the head, or -1. */
  indexOf(element: string): number {
    const bytes = this.bytes;
    let at = this.start;
    for (let i = 0; at < this.end; i++) {
      const from = this.#elementStart(at);
      const next = this.#next(at);
      if (next - from === element.length && binaryEquals(bytes, from, element)) return i;
      at = next;
    }
    return -1;
  }

  /** The element at `index` (0 ≤ index < length). */
  at(index: number): string {
    const at = this.start + this.offsetOf(index);
    const from = this.#elementStart(at);
    return bytesToBinary(this.bytes, from, this.#next(at));
  }

  /** Writes the elements [start, stop] (0 ≤ start ≤ stop < length) as bulk replies, in order. */
  writeRange(w: ReplyWriter, start: number, stop: number): void {
    let at = this.start + this.offsetOf(start);
    for (let i = start; i <= stop; i++) {
      const next = this.#next(at);
      w.bulkRange(this.bytes, this.#elementStart(at), next);
      at = next;
    }
  }

  /**
   * Writes `n` (≤ length) elements from one end as bulk replies, in the
   * order a pop takes them (from the tail: the last first).
   */
  writeEnd(w: ReplyWriter, left: boolean, n: number): void {
    if (n <= 0) return;
    if (left) return this.writeRange(w, 0, n - 1);
    const offsets = this.#fillTailOffsets();
    for (let i = this.length - 1; i >= this.length - n; i--) {
      w.bulkRange(this.bytes, this.#elementStart(offsets[i]), offsets[i + 1]);
    }
  }

  /**
   * Calls `visit` with each element and its index, from the head (or from
   * the tail), until it returns false.
   */
  forEach(visit: (element: string, index: number) => boolean | void, fromTail = false): void {
    if (!fromTail) {
      let at = this.start;
      for (let i = 0; i < this.length; i++) {
        const next = this.#next(at);
        if (visit(bytesToBinary(this.bytes, this.#elementStart(at), next), i) === false) return;
        at = next;
      }
      return;
    }
    const offsets = this.#fillTailOffsets();
    for (let i = this.length - 1; i >= 0; i--) {
      const element = bytesToBinary(this.bytes, this.#elementStart(offsets[i]), offsets[i + 1]);
      if (visit(element, i) === false) return;
    }
  }

  /** Where the element whose prefix is at `at` ends (the next one's prefix). */
  #next(at: number): number {
    const first = this.bytes[at];
    return first < 0x80 ? at + 1 + first : at + 2 + ((first & 0x7f) | (this.bytes[at + 1] << 7));
  }

  /** Where the bytes of the element whose prefix is at `at` start. */
  #elementStart(at: number): number {
    return at + (this.bytes[at] < 0x80 ? 1 : 2);
  }

  #count(): void {
    const bytes = this.bytes;
    let count = 0;
    let prefixBytes = 0;
    let at = this.start;
    while (at < this.end) {
      const first = bytes[at];
      if (first < 0x80) {
        at += 1 + first;
        prefixBytes += 1;
      } else {
        at += 2 + ((first & 0x7f) | (bytes[at + 1] << 7));
        prefixBytes += 2;
      }
      count++;
    }
    assert(at === this.end, "a packed list's last element ends with it");
    assert(count <= LIST_PACKED_MAX_ELEMENTS, "a list held inline is small");
    this.#length = count;
    this.#elementBytes = this.end - this.start - prefixBytes;
  }

  /** {@link tailOffsets}: each element's prefix, and the end after the last. */
  #fillTailOffsets(): Int32Array {
    let at = this.start;
    for (let i = 0; i < this.length; i++) {
      tailOffsets[i] = at;
      at = this.#next(at);
    }
    tailOffsets[this.length] = at;
    return tailOffsets;
  }
}

/**
 * Writes `element` (at most {@link LIST_PACKED_MAX_BYTES} bytes) packed,
 * its length prefix first, into a scratch array: the array, whose first
 * `packedLength(element)` bytes are valid until the next call.
 */
export function packElement(element: string): Uint8Array {
  const length = element.length;
  assert(length <= LIST_PACKED_MAX_BYTES, "an element packed inline is small");
  let at = 0;
  if (length < 0x80) elementScratch[at++] = length;
  else {
    elementScratch[at++] = 0x80 | (length & 0x7f);
    elementScratch[at++] = length >>> 7;
  }
  writeBinary(element, elementScratch, at);
  return elementScratch;
}

/** The bytes `element` takes packed: its length prefix and itself. */
export function packedLength(element: string): number {
  return (element.length < 0x80 ? 1 : 2) + element.length;
}
