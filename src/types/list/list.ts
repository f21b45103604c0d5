/**
 * The list type: a sequence of binary strings with O(1) pushes and pops at
 * both ends, as Redis's quicklist.
 *
 * - In memory, a deque of nodes ({@link LIST_NODE_ELEMENTS} slots each,
 *   filled from either end, their elements' bytes in one array: see
 *   `_list_node.ts`), so a push or pop touches one node, LINDEX and LRANGE
 *   near an end walk a few nodes, and a middle insert or removal rewrites
 *   one node. Redis 7.0 answers OBJECT ENCODING `quicklist`
 *   for every list (the `listpack` list encoding came in 7.2), and so does
 *   kvdb.
 * - A small list ({@link LIST_PACKED_MAX_ELEMENTS} elements,
 *   {@link LIST_PACKED_MAX_BYTES} bytes) is held inline in the key table as
 *   one packed string (see {@link ListValue.packed}): no object per key.
 *
 * Durability: list records are not idempotent (an LPUSH replayed twice
 * pushes twice), and need not be: a snapshot is the state at its LSN
 * exactly and replay starts after it. A big list is written in chunks
 * across several slices of the snapshot walk; nothing changes it between
 * two of its chunks, since a write first has the snapshot save the chunks
 * not written yet (`snapshot/_point_in_time.ts`), so a chunk simply goes
 * on where the last one stopped.
 *
 * @example
 * ```ts
 * const list = new ListValue();
 * list.pushRight("a");
 * list.pushLeft("b");
 * list.at(0); // "b"
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";
import { bytesToBinary } from "../../bytes/binary_string.ts";
import { LIST_NODE_ELEMENTS, ListNode } from "./_list_node.ts";
import { Collection, type RecordSink } from "../collection.ts";
import { WalOp } from "../../wal/record.ts";
import type { ReplyWriter } from "../../protocol/reply_writer.ts";

/** The snapshot (and inline) entry type of a list. */
export const SNAPSHOT_TYPE_LIST = 2;
export { LIST_NODE_ELEMENTS };
/** Most elements of a list held inline as packed bytes. */
export const LIST_PACKED_MAX_ELEMENTS = 128;
/** Most element bytes of a list held inline as packed bytes (the packed form stays under 4 KiB). */
export const LIST_PACKED_MAX_BYTES = 2048;
/**
 * Most elements one list holds (Redis's limit is memory alone); a push
 * past it is refused.
 */
export const MAX_LIST_ELEMENTS = 100_000_000;

/**
 * Bytes after a snapshot chunk's flag byte where lists once kept an LSN
 * stamp: written as zeros, ignored when read (so the file format stays).
 */
const CHUNK_RESERVED_BYTES = 7;
/** Snapshot chunk flag: the first chunk of a list, which starts it afresh. */
const CHUNK_FIRST = 1;
/** The head of a list's first snapshot chunk and of the ones after it. */
const FIRST_CHUNK_HEAD = String.fromCharCode(CHUNK_FIRST) + "\0".repeat(CHUNK_RESERVED_BYTES);
const NEXT_CHUNK_HEAD = "\0".repeat(1 + CHUNK_RESERVED_BYTES);

/** Where packed strings are built (grown as needed, shared). */
let scratch = new Uint8Array(4096);

/** Where the last snapshot chunk of a big list stopped: its element position, node and slot. */
interface ChunkCursor {
  position: number;
  node: number;
  slot: number;
  /** The list's length then: unchanged when the next chunk goes on from here. */
  length: number;
}

/** What a free slot before the first node holds. */
const HOLE = new ListNode(false, 0);

/**
 * A list value (see the module doc).
 *
 * @example
 * ```ts
 * const list = ListValue.of(["a", "b", "c"]);
 * list.toArray(); // ["a", "b", "c"]
 * ```
 */
export class ListValue extends Collection {
  /** The nodes, from index {@link #first} on (slots before it are free, for pushes at the head). */
  #nodes: ListNode[] = [];
  #first = 0;
  #length = 0;
  /** Bytes of all elements. */
  #bytes = 0;
  /** Set while a snapshot writes it in chunks (see {@link snapshotChunk}). */
  #cursor: ChunkCursor | undefined = undefined;
  /** Read from inline bytes (see {@link unpack}): a copy, to be stored back once changed. */
  #unpacked = false;

  /** A list of `elements`, in order. */
  static of(elements: readonly string[]): ListValue {
    const list = new ListValue();
    for (const element of elements) list.pushRight(element);
    return list;
  }

  /** A list from its packed bytes (see {@link packed}). */
  static unpack(packed: string): ListValue {
    const list = new ListValue();
    list.#unpacked = true;
    for (let at = 0; at < packed.length;) {
      let length = packed.charCodeAt(at++);
      if (length >= 0x80) length = (length & 0x7f) | (packed.charCodeAt(at++) << 7);
      assert(at + length <= packed.length, "a packed list's element fits it");
      list.pushRight(packed.substr(at, length));
      at += length;
    }
    return list;
  }

  /** Whether it was read from inline bytes: a copy, kept only if stored again. */
  get unpacked(): boolean {
    return this.#unpacked;
  }

  /** Marks a list the key table holds as an object (no longer a copy of inline bytes). */
  markHeld(): void {
    this.#unpacked = false;
  }

  /** Whether it is small enough to be held inline. */
  get small(): boolean {
    return this.#length <= LIST_PACKED_MAX_ELEMENTS && this.#bytes <= LIST_PACKED_MAX_BYTES;
  }

  /**
   * Whether a list held as an object has shrunk enough to go back inline:
   * to half of what {@link small} allows, as Redis 7.2 converts a
   * quicklist back to a listpack. Without the gap, a queue at the limit
   * converted at every push and pop (in-process, RPUSH and LPOP pairs at
   * 128 elements: 30.5 µs a pair).
   */
  get packsBack(): boolean {
    return 2 * this.#length <= LIST_PACKED_MAX_ELEMENTS && 2 * this.#bytes <= LIST_PACKED_MAX_BYTES;
  }

  /**
   * The packed bytes of a small list: each element as a length (one byte
   * below 128, else two: 7 bits, then the rest) and its bytes. Undefined
   * for a big list.
   */
  override packed(): string | undefined {
    if (!this.small) return undefined;
    const need = 2 * this.#length + this.#bytes;
    if (scratch.length < need) scratch = new Uint8Array(need);
    const out = scratch;
    let n = 0;
    const nodes = this.#nodes;
    for (let k = this.#first; k < nodes.length; k++) {
      const node = nodes[k];
      for (let i = node.start; i < node.end; i++) {
        const length = node.lengthAt(i);
        if (length < 0x80) out[n++] = length;
        else {
          out[n++] = 0x80 | (length & 0x7f);
          out[n++] = length >>> 7;
        }
        n = node.copyTo(i, out, n);
      }
    }
    return bytesToBinary(out, 0, n);
  }

  get typeName(): string {
    return "list";
  }

  get snapshotType(): number {
    return SNAPSHOT_TYPE_LIST;
  }

  get length(): number {
    return this.#length;
  }

  /** min(`limit`, length): what a reader of packed bytes counts without a full walk. */
  countUpTo(limit: number): number {
    return Math.min(limit, this.#length);
  }

  /** Redis 7.0's answer for every list. */
  encoding(): string {
    return "quicklist";
  }

  /** Prepends `element`. */
  pushLeft(element: string): void {
    const nodes = this.#nodes;
    let node = nodes.length > this.#first ? nodes[this.#first] : undefined;
    if (node === undefined || node.start === 0) {
      node = ListNode.next(true, node);
      this.#prepend(node);
    }
    node.pushLeft(element);
    this.#length++;
    this.#bytes += element.length;
  }

  /** Appends `element`. */
  pushRight(element: string): void {
    const nodes = this.#nodes;
    let node = nodes.length > this.#first ? nodes[nodes.length - 1] : undefined;
    if (node === undefined || node.end === LIST_NODE_ELEMENTS) {
      node = ListNode.next(false, node);
      nodes.push(node);
    }
    node.pushRight(element);
    this.#length++;
    this.#bytes += element.length;
  }

  /** Removes and returns the first element (the list is not empty). */
  popLeft(): string {
    const node = this.#nodes[this.#first];
    const element = node.get(node.start);
    this.#removeFirst();
    return element;
  }

  /** Removes and returns the last element (the list is not empty). */
  popRight(): string {
    const nodes = this.#nodes;
    const node = nodes[nodes.length - 1];
    const element = node.get(node.end - 1);
    this.#removeLast();
    return element;
  }

  /** Removes `count` (≤ length) elements from one end. */
  drop(left: boolean, count: number): void {
    assert(count <= this.#length, "a list drops at most its elements");
    for (let i = 0; i < count; i++) {
      if (left) this.#removeFirst();
      else this.#removeLast();
    }
  }

  #removeFirst(): void {
    const node = this.#nodes[this.#first];
    this.#bytes -= node.lengthAt(node.start);
    this.#length--;
    if (++node.start === node.end) this.#dropFirst();
  }

  #removeLast(): void {
    const nodes = this.#nodes;
    const node = nodes[nodes.length - 1];
    this.#bytes -= node.lengthAt(--node.end);
    this.#length--;
    if (node.start === node.end) {
      nodes.pop();
      if (nodes.length === this.#first) this.#resetNodes();
    }
  }

  /** The element at `index` (0 ≤ index < length). */
  at(index: number): string {
    const [node, slot] = this.#locate(index);
    return this.#nodes[node].get(slot);
  }

  /** Replaces the element at `index` (0 ≤ index < length). */
  set(index: number, element: string): void {
    const [at, slot] = this.#locate(index);
    const node = this.#nodes[at];
    this.#bytes += element.length - node.lengthAt(slot);
    const elements = node.strings();
    elements[slot - node.start] = element;
    node.assign(elements, node.start);
  }

  /** Inserts `element` so that it is at `index` (0 ≤ index ≤ length). */
  insert(index: number, element: string): void {
    if (index === 0) return this.pushLeft(element);
    if (index === this.#length) return this.pushRight(element);
    const [at, slot] = this.#locate(index);
    const node = this.#nodes[at];
    this.#length++;
    this.#bytes += element.length;
    if (node.count === LIST_NODE_ELEMENTS) {
      if (slot === node.start) {
        // Before a full node's first element: a node of its own.
        this.#nodes.splice(at, 0, ListNode.of([element]));
        return;
      }
      // Full: the elements from `slot` on move to a new node after it, and
      // the element goes where they were.
      const head = node.strings(node.start, slot);
      head.push(element);
      this.#nodes.splice(at + 1, 0, ListNode.of(node.strings(slot, node.end)));
      node.assign(head, 0);
      return;
    }
    const elements = node.strings();
    elements.splice(slot - node.start, 0, element);
    node.assign(elements, Math.min(node.start, LIST_NODE_ELEMENTS - elements.length));
  }

  /**
   * Removes elements equal to `element`: the first `count` from the head
   * (count > 0), the last -count from the tail (count < 0), or all (0).
   * Returns how many.
   */
  remove(element: string, count: number): number {
    const limit = count === 0 ? Infinity : Math.abs(count);
    const fromTail = count < 0;
    let removed = 0;
    const nodes = this.#nodes;
    for (let k = 0; k < nodes.length - this.#first && removed < limit; k++) {
      const at = fromTail ? nodes.length - 1 - k : this.#first + k;
      const node = nodes[at];
      let matches = 0;
      for (let i = node.start; i < node.end; i++) if (node.equals(i, element)) matches++;
      if (matches === 0) continue;
      let take = Math.min(matches, limit - removed);
      // Keeps the others in order, dropping `take` matches from the chosen end.
      const kept: string[] = [];
      if (fromTail) {
        for (let i = node.end - 1; i >= node.start; i--) {
          if (take > 0 && node.equals(i, element)) take--;
          else kept.push(node.get(i));
        }
        kept.reverse();
      } else {
        for (let i = node.start; i < node.end; i++) {
          if (take > 0 && node.equals(i, element)) take--;
          else kept.push(node.get(i));
        }
      }
      const gone = node.count - kept.length;
      node.assign(kept, 0);
      removed += gone;
      this.#length -= gone;
      this.#bytes -= gone * element.length;
      if (kept.length === 0) {
        nodes.splice(at, 1);
        k--; // the next node to look at now has this one's count from the end
      }
    }
    return removed;
  }

  /**
   * Calls `visit` with each element and its index, from the head (or the
   * tail when `fromTail`); stops when it returns false.
   */
  forEach(visit: (element: string, index: number) => boolean | void, fromTail = false): void {
    const nodes = this.#nodes;
    if (!fromTail) {
      let index = 0;
      for (let k = this.#first; k < nodes.length; k++) {
        const node = nodes[k];
        for (let i = node.start; i < node.end; i++) {
          if (visit(node.get(i), index++) === false) return;
        }
      }
      return;
    }
    let index = this.#length - 1;
    for (let k = nodes.length - 1; k >= this.#first; k--) {
      const node = nodes[k];
      for (let i = node.end - 1; i >= node.start; i--) {
        if (visit(node.get(i), index--) === false) return;
      }
    }
  }

  /** The index of the first element equal to `element` from the head, or -1. */
  indexOf(element: string): number {
    const nodes = this.#nodes;
    let index = 0;
    for (let k = this.#first; k < nodes.length; k++) {
      const node = nodes[k];
      for (let i = node.start; i < node.end; i++, index++) {
        if (node.equals(i, element)) return index;
      }
    }
    return -1;
  }

  /** Writes the elements [start, stop] (0 ≤ start ≤ stop < length) as bulks into `w`. */
  writeRange(w: ReplyWriter, start: number, stop: number): void {
    let count = stop - start + 1;
    const nodes = this.#nodes;
    if (start >= this.#length - 1 - stop) {
      // Nearer the tail: find the start walking back from there.
      let [at, slot] = this.#locate(start);
      for (; count > 0; at++) {
        const node = nodes[at];
        const end = Math.min(node.end, slot + count);
        for (let i = slot; i < end; i++) node.writeBulk(i, w);
        count -= end - slot;
        if (at + 1 < nodes.length) slot = nodes[at + 1].start;
      }
      return;
    }
    let skip = start;
    for (let at = this.#first; count > 0; at++) {
      const node = nodes[at];
      const size = node.end - node.start;
      if (skip >= size) {
        skip -= size;
        continue;
      }
      const from = node.start + skip;
      const end = Math.min(node.end, from + count);
      for (let i = from; i < end; i++) node.writeBulk(i, w);
      count -= end - from;
      skip = 0;
    }
  }

  /**
   * Writes as bulks the `n` (≤ length) elements a pop of `n` from the head
   * (`left`) or the tail returns, in pop order.
   */
  writeEnd(w: ReplyWriter, left: boolean, n: number): void {
    if (n <= 0) return;
    if (left) return this.writeRange(w, 0, n - 1);
    const nodes = this.#nodes;
    for (let k = nodes.length - 1; n > 0; k--) {
      const node = nodes[k];
      for (let i = node.end - 1; i >= node.start && n > 0; i--, n--) node.writeBulk(i, w);
    }
  }

  /** The elements [start, stop] (0 ≤ start ≤ stop < length), in order. */
  slice(start: number, stop: number): string[] {
    const out: string[] = [];
    this.forEach((element, index) => {
      if (index > stop) return false;
      if (index >= start) out.push(element);
    });
    return out;
  }

  /** Every element, in order. */
  toArray(): string[] {
    const out: string[] = [];
    this.forEach((element) => {
      out.push(element);
    });
    return out;
  }

  override sortInput(): string[] {
    return this.toArray();
  }

  /** Removes every element. */
  clear(): void {
    this.#cursor = undefined;
    this.#nodes = [];
    this.#first = 0;
    this.#length = 0;
    this.#bytes = 0;
  }

  clone(): ListValue {
    return ListValue.of(this.toArray());
  }

  memoryBytes(): number {
    // A node: its offsets, two array objects, and its bytes with their
    // slack (estimated at half again).
    return 64 + Math.ceil(this.#bytes * 1.5) +
      (this.#nodes.length - this.#first) * (4 * (LIST_NODE_ELEMENTS + 1) + 160);
  }

  rebuildRecords(emit: RecordSink): void {
    this.forEach((element) => {
      emit(WalOp.ListPush, element, LIST_PUSH_RIGHT);
    });
  }

  /**
   * A chunk: a flag byte ({@link CHUNK_FIRST} on the first), seven zero
   * bytes, then elements (u32 length, bytes) from element `from`, up to
   * about `maxBytes`. A chunk after the first goes on from where the last
   * one stopped: the list is unchanged in between (see the module doc).
   */
  snapshotChunk(from: number, maxBytes: number): { body: string; next: number } {
    const nodes = this.#nodes;
    let node = this.#first;
    let slot = node < nodes.length ? nodes[node].start : 0;
    const cursor = this.#cursor;
    this.#cursor = undefined;
    if (from > 0) {
      if (cursor !== undefined && cursor.position === from) {
        assert(cursor.length === this.#length, "a list is unchanged between its snapshot chunks");
        node = cursor.node;
        slot = cursor.slot;
      } else [node, slot] = this.#locate(from);
    }
    const parts: string[] = [from === 0 ? FIRST_CHUNK_HEAD : NEXT_CHUNK_HEAD];
    let bytes = 0;
    let count = 0;
    for (; node < nodes.length; node++) {
      const current = nodes[node];
      for (; slot < current.end; slot++) {
        if (count > 0 && bytes >= maxBytes) {
          const next = from + count;
          this.#cursor = { position: next, node, slot, length: this.#length };
          return { body: parts.join(""), next };
        }
        const element = current.get(slot);
        parts.push(lengthString(element.length), element);
        bytes += 4 + element.length;
        count++;
      }
      if (node + 1 < nodes.length) slot = nodes[node + 1].start;
    }
    return { body: parts.join(""), next: -1 };
  }

  /** Adds the elements of one snapshot chunk (see {@link snapshotChunk}). */
  loadChunk(body: string): void {
    if (body.length < 1 + CHUNK_RESERVED_BYTES) throw new RangeError("a list chunk is cut short");
    if ((body.charCodeAt(0) & CHUNK_FIRST) !== 0) this.clear();
    for (let at = 1 + CHUNK_RESERVED_BYTES; at < body.length;) {
      if (at + 4 > body.length) throw new RangeError("a list chunk is cut short");
      const length = (body.charCodeAt(at) | (body.charCodeAt(at + 1) << 8) |
        (body.charCodeAt(at + 2) << 16) | (body.charCodeAt(at + 3) << 24)) >>> 0;
      at += 4;
      if (at + length > body.length) throw new RangeError("a list chunk is cut short");
      this.pushRight(body.substr(at, length));
      at += length;
    }
  }

  #resetNodes(): void {
    this.#nodes = [];
    this.#first = 0;
  }

  /** Puts `node` first, making room before the first node when there is none. */
  #prepend(node: ListNode): void {
    if (this.#first === 0) {
      const old = this.#nodes;
      const gap = Math.max(8, old.length);
      const grown = new Array<ListNode>(gap + old.length);
      for (let i = 0; i < old.length; i++) grown[gap + i] = old[i];
      this.#nodes = grown;
      this.#first = gap;
    }
    this.#nodes[--this.#first] = node;
  }

  /** Forgets the first node (emptied); compacts when most slots are free. */
  #dropFirst(): void {
    const nodes = this.#nodes;
    nodes[this.#first++] = HOLE;
    if (this.#first === nodes.length) this.#resetNodes();
    else if (this.#first > 64 && this.#first > nodes.length / 2) {
      this.#nodes = nodes.slice(this.#first);
      this.#first = 0;
    }
  }

  /** The node and slot of element `index` (0 ≤ index < length), walking from the nearer end. */
  #locate(index: number): [number, number] {
    assert(index >= 0 && index < this.#length, "a list index is within the list");
    const nodes = this.#nodes;
    if (index < this.#length / 2) {
      let at = this.#first;
      for (;; at++) {
        const size = nodes[at].end - nodes[at].start;
        if (index < size) return [at, nodes[at].start + index];
        index -= size;
      }
    }
    let back = this.#length - 1 - index;
    for (let at = nodes.length - 1;; at--) {
      const size = nodes[at].end - nodes[at].start;
      if (back < size) return [at, nodes[at].end - 1 - back];
      back -= size;
    }
  }
}

/** The numeric field of a `ListPush` to the head; {@link LIST_PUSH_RIGHT} to the tail. */
export const LIST_PUSH_LEFT = 0;
/** The numeric field of a `ListPush` to the tail. */
export const LIST_PUSH_RIGHT = 1;

/**
 * The numeric field of a `ListPop` of `count` elements from one end:
 * `count * 2 + (left ? 0 : 1)`.
 *
 * @example
 * ```ts
 * popNumber(true, 3); // 6
 * ```
 */
export function popNumber(left: boolean, count: number): number {
  return count * 2 + (left ? 0 : 1);
}

/**
 * The numeric field of a `ListRemove` of `count` (LREM's signed count):
 * zigzag, `2 * count` for count ≥ 0, `-2 * count - 1` below.
 *
 * @example
 * ```ts
 * removeNumber(-1); // 1
 * ```
 */
export function removeNumber(count: number): number {
  return count >= 0 ? 2 * count : -2 * count - 1;
}

function lengthString(n: number): string {
  return String.fromCharCode(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}
