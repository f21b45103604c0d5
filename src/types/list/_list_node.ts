/**
 * One node of a big list: up to {@link LIST_NODE_ELEMENTS} elements whose
 * bytes sit together in one byte array, as in a quicklist node's listpack.
 *
 * Elements are not kept as JavaScript strings: a list of millions would be
 * millions of heap objects for the garbage collector to trace and move on
 * every major collection (a quarter of LPUSH's time went there). A string
 * is made only when an element is read.
 *
 * Layout: slots `[start, end)` of {@link ListNode.offsets} are in use;
 * element `i` is `bytes[offsets[i], offsets[i + 1])`, so `offsets[end]`
 * is where the last element's bytes end. Elements are contiguous; free
 * bytes lie before `offsets[start]` (for pushes at the head) and after
 * `offsets[end]` (for pushes at the tail).
 *
 * @example
 * ```ts
 * const node = new ListNode(false);
 * node.pushRight("b");
 * node.pushLeft("a");
 * node.get(node.start); // "a"
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";
import { binaryEquals, bytesToBinary, writeBinary } from "../../bytes/binary_string.ts";
import type { ReplyWriter } from "../../protocol/reply_writer.ts";

/** Slots per node of a big list. */
export const LIST_NODE_ELEMENTS = 128;
/** Bytes of a node's offsets (a multiple of 8, so its bytes that follow stay aligned). */
const OFFSETS_BYTES = Math.ceil((LIST_NODE_ELEMENTS + 1) * 4 / 8) * 8;
/** Bytes a new node starts with. */
const NODE_INITIAL_BYTES = 256;
/** Most bytes {@link ListNode.next} gives a new node: bigger elements grow it as they come. */
const NODE_MAX_FIRST_BYTES = 16 * 1024;
/** Most free bytes a node keeps beyond what it needs when it grows. */
const NODE_MAX_SLACK_BYTES = 16 * 1024;

/**
 * A node (see the module doc).
 *
 * @example
 * ```ts
 * const node = ListNode.of(["x", "y"]);
 * node.count; // 2
 * ```
 */
export class ListNode {
  bytes: Uint8Array;
  offsets: Int32Array;
  start: number;
  end: number;

  /**
   * An empty node filled from its last slot (`fromLeft`) or its first.
   * Its offsets and first bytes share one buffer: each off-heap backing
   * store costs ~0.4-1.3 µs to make here, and a list pushed to makes one
   * node per {@link LIST_NODE_ELEMENTS} pushes. A node that grows moves
   * both to a new buffer ({@link #reallocate}), so no outgrown bytes stay.
   */
  constructor(fromLeft: boolean, capacityBytes = NODE_INITIAL_BYTES) {
    const slot = fromLeft ? LIST_NODE_ELEMENTS : 0;
    this.start = this.end = slot;
    const buffer = new ArrayBuffer(OFFSETS_BYTES + capacityBytes);
    this.offsets = new Int32Array(buffer, 0, LIST_NODE_ELEMENTS + 1);
    this.bytes = new Uint8Array(buffer, OFFSETS_BYTES, capacityBytes);
    this.offsets[slot] = fromLeft ? capacityBytes : 0;
  }

  /** A node holding `elements` (at most {@link LIST_NODE_ELEMENTS}) from its first slot. */
  static of(elements: readonly string[]): ListNode {
    let bytes = 0;
    for (const e of elements) bytes += e.length;
    const node = new ListNode(false, Math.max(NODE_INITIAL_BYTES, bytes));
    for (const e of elements) node.pushRight(e);
    return node;
  }

  /**
   * An empty node for the pushes past `neighbor` (the end node that has no
   * free slot left; undefined for a list's first node), with room for as
   * many elements as its average, within {@link NODE_MAX_FIRST_BYTES}: a
   * list's elements tend to one size, so the node fills without growing
   * (in-process LPUSH of 3-byte elements: a node grew once at 85
   * elements, ~6% of the time).
   */
  static next(fromLeft: boolean, neighbor: ListNode | undefined): ListNode {
    if (neighbor === undefined || neighbor.count === 0) return new ListNode(fromLeft);
    const perElement = Math.ceil(neighbor.usedBytes / neighbor.count);
    const bytes = Math.min(NODE_MAX_FIRST_BYTES, perElement * LIST_NODE_ELEMENTS);
    return new ListNode(fromLeft, Math.max(NODE_INITIAL_BYTES, bytes));
  }

  /** Elements held. */
  get count(): number {
    return this.end - this.start;
  }

  /** Bytes of the elements held. */
  get usedBytes(): number {
    return this.offsets[this.end] - this.offsets[this.start];
  }

  /** Bytes of the element in `slot`. */
  lengthAt(slot: number): number {
    return this.offsets[slot + 1] - this.offsets[slot];
  }

  /** The element in `slot`, as a binary string. */
  get(slot: number): string {
    return bytesToBinary(this.bytes, this.offsets[slot], this.offsets[slot + 1]);
  }

  /** Whether the element in `slot` is `s` (no string is made). */
  equals(slot: number, s: string): boolean {
    const from = this.offsets[slot];
    return this.offsets[slot + 1] - from === s.length && binaryEquals(this.bytes, from, s);
  }

  /** Writes the element in `slot` as a bulk reply (its bytes copied: no string is made). */
  writeBulk(slot: number, w: ReplyWriter): void {
    w.bulkRange(this.bytes, this.offsets[slot], this.offsets[slot + 1]);
  }

  /** Copies the element in `slot` into `out` at `at`; the offset after it. */
  copyTo(slot: number, out: Uint8Array, at: number): number {
    const from = this.offsets[slot];
    const to = this.offsets[slot + 1];
    out.set(this.bytes.subarray(from, to), at);
    return at + to - from;
  }

  /** Puts `s` before the first element (slot `start - 1` is free). */
  pushLeft(s: string): void {
    assert(this.start > 0, "a node pushed at its head has a free slot there");
    let at = this.offsets[this.start];
    if (at < s.length) at = this.#regrow(s.length, true);
    at -= s.length;
    writeBinary(s, this.bytes, at);
    this.offsets[--this.start] = at;
  }

  /** Puts `s` after the last element (slot `end` is free). */
  pushRight(s: string): void {
    assert(this.end < LIST_NODE_ELEMENTS, "a node pushed at its tail has a free slot there");
    let at = this.offsets[this.end];
    if (at + s.length > this.bytes.length) at = this.#regrow(s.length, false);
    this.offsets[++this.end] = writeBinary(s, this.bytes, at);
  }

  /** The elements of slots `[from, to)`, as strings (for the rare edits in the middle). */
  strings(from = this.start, to = this.end): string[] {
    const out: string[] = [];
    for (let i = from; i < to; i++) out.push(this.get(i));
    return out;
  }

  /**
   * Replaces every element with `elements` (at most
   * {@link LIST_NODE_ELEMENTS}), from slot `startSlot` (with room for all).
   */
  assign(elements: readonly string[], startSlot: number): void {
    assert(startSlot + elements.length <= LIST_NODE_ELEMENTS, "a node holds its elements");
    let bytes = 0;
    for (const e of elements) bytes += e.length;
    if (this.bytes.length < bytes) this.bytes = this.#reallocate(bytes + slackFor(bytes));
    this.start = this.end = startSlot;
    const offsets = this.offsets;
    let at = 0;
    offsets[startSlot] = 0;
    for (const e of elements) {
      at = writeBinary(e, this.bytes, at);
      offsets[++this.end] = at;
    }
  }

  /**
   * Moves the elements' bytes into a larger array with room for `length`
   * more at the head (`left`) or the tail, and some slack on both sides;
   * returns the offset where the new element goes next to them.
   */
  #regrow(length: number, left: boolean): number {
    const used = this.usedBytes;
    const slack = slackFor(used + length);
    const grown = this.#reallocate(used + length + slack);
    const offsets = this.offsets;
    const from = offsets[this.start];
    const to = left ? length + (slack >> 1) : slack >> 1;
    grown.set(this.bytes.subarray(from, from + used), to);
    const delta = to - from;
    for (let i = this.start; i <= this.end; i++) offsets[i] += delta;
    this.bytes = grown;
    return left ? offsets[this.start] : offsets[this.end];
  }

  /**
   * A new buffer with room for `capacityBytes`: the offsets are copied to
   * its head (and used from now on); returns its bytes view, not yet
   * {@link bytes}, for the caller to copy the elements into.
   */
  #reallocate(capacityBytes: number): Uint8Array {
    const buffer = new ArrayBuffer(OFFSETS_BYTES + capacityBytes);
    const offsets = new Int32Array(buffer, 0, LIST_NODE_ELEMENTS + 1);
    offsets.set(this.offsets);
    this.offsets = offsets;
    return new Uint8Array(buffer, OFFSETS_BYTES, capacityBytes);
  }
}

/** Free bytes a node holding `bytes` gets when it grows: as many again, within bounds. */
function slackFor(bytes: number): number {
  return Math.min(Math.max(bytes, NODE_INITIAL_BYTES), NODE_MAX_SLACK_BYTES);
}
