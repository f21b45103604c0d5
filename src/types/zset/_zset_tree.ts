/**
 * The order of a large sorted set: a B+tree of slot numbers ordered by
 * (score, member) — read through {@link SlotKeys} — whose inner nodes count
 * the elements under each child, so that a rank, the element at a rank, and
 * the rank where a range starts all take O(log n), as Redis's skiplist
 * spans give. Leaves are linked both ways for range walks. A leaf emptied
 * by removals is unlinked (no rebalancing otherwise: a removal never moves
 * other elements).
 *
 * Leaves, which hold every slot, are rows of typed arrays (a leaf is a
 * number: its row), not objects: 4 bytes a slot, nothing for the garbage
 * collector to trace. A leaf that overflows at the end of the order (an
 * append: ascending scores, a leaderboard's usual load) or at its start
 * splits off just the new element, so such loads fill leaves; elsewhere it
 * splits in half.
 *
 * Inner node invariant: child i (i ≥ 1) holds only keys ≥ `lowScores[i]`/
 * `lowMembers[i]` and child i − 1 only keys below it; child 0's low is
 * unused. Insertion routes by these bounds, so they stay true. The bounds
 * are copies (one string per leaf), so they outlive their member.
 *
 * @example
 * ```ts
 * const scores = [2, 1];
 * const members = ["a", "b"];
 * const tree = new RankTree({
 *   scoreOf: (slot) => scores[slot],
 *   memberOf: (slot) => members[slot],
 *   compareMember: (slot, m) => members[slot] < m ? -1 : members[slot] > m ? 1 : 0,
 * });
 * tree.insert(0);
 * tree.insert(1);
 * tree.slotAt(0); // 1: "b" (score 1) first
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";

/** Where the tree reads the key of each held slot. */
export interface SlotKeys {
  scoreOf(slot: number): number;
  /** The slot's member (a string of its own: kept as an inner node's bound). */
  memberOf(slot: number): string;
  /** The slot's member against `member`, by bytes: negative, 0 or positive. */
  compareMember(slot: number, member: string): number;
}

/** Most slots in a leaf; one more overflows it into a split. */
const LEAF_MAX = 128;
/** A leaf's row: room for the overflowing slot before the split. */
const LEAF_ROW = LEAF_MAX + 1;
/**
 * Leaf rows per page of slots (2^7: 66 KiB): the rows grow a page at a
 * time, never copying a big array (growing one array of rows copied 8 MiB
 * in 12 ms at 16,384 leaves, measured in-process; see `paged_numbers.ts`).
 */
const ROWS_PER_PAGE_BITS = 7;
const ROWS_PER_PAGE = 1 << ROWS_PER_PAGE_BITS;
const ROW_PAGE_MASK = ROWS_PER_PAGE - 1;

/** Where leaf `leaf`'s row starts in its page. */
function rowBase(leaf: number): number {
  return (leaf & ROW_PAGE_MASK) * LEAF_ROW;
}
/** Most children of an inner node before it splits. */
const INNER_MAX = 64;
const INITIAL_LEAVES = 4;
/** No leaf (links). */
const NONE = -1;

class Inner {
  children: Node[] = [];
  counts: number[] = [];
  lowScores: number[] = [];
  lowMembers: string[] = [];
}

/** A leaf's row number, or an inner node. */
type Node = Inner | number;

/** Whether (s1, m1) sorts before (s2, m2): by score, then member bytes. */
function before(s1: number, m1: string, s2: number, m2: string): boolean {
  return s1 < s2 || (s1 === s2 && m1 < m2);
}

/**
 * An order-statistic tree of slots (see the module doc).
 *
 * @example
 * ```ts
 * tree.rankOf(slot); // its 0-based rank
 * ```
 */
export class RankTree {
  /** Leaf rows, in pages: `LEAF_ROW` slots each, the first `#counts[leaf]` in use. */
  readonly #slotPages: Int32Array[] = [new Int32Array(INITIAL_LEAVES * LEAF_ROW)];
  #counts = new Int32Array(INITIAL_LEAVES);
  #next = new Int32Array(INITIAL_LEAVES);
  #prev = new Int32Array(INITIAL_LEAVES);
  /** Rows in use or freed: [0, #rows). */
  #rows = 0;
  /** Freed rows, reused first. */
  readonly #freeRows: number[] = [];
  #root: Node;
  #first: number;
  #last: number;
  #size = 0;
  /** The member of the slot being inserted or removed, when its caller gave it. */
  #member: string | undefined = undefined;

  constructor(readonly keys: SlotKeys) {
    this.#root = this.#first = this.#last = this.#newLeaf();
  }

  /** Slots held. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of the leaf rows as allocated (the inner nodes are ~1/64 of it). */
  get allocatedBytes(): number {
    let bytes = 3 * this.#counts.byteLength;
    for (const page of this.#slotPages) bytes += page.byteLength;
    return bytes;
  }

  /**
   * Adds `slot` (not held; its key readable through `keys`); `member`, if
   * given, is its member (what the caller has at hand: else a leaf search
   * that meets its score makes a copy through `keys.memberOf`, the most
   * garbage a ZADD of random scores made).
   */
  insert(slot: number, member?: string): void {
    const score = this.keys.scoreOf(slot);
    this.#member = member;
    const split = this.#insert(this.#root, slot, score);
    this.#member = undefined;
    if (split !== undefined) {
      const root = new Inner();
      const old = this.#root;
      root.children = [old, split];
      root.counts = [this.#count(old), this.#count(split)];
      const low = this.#firstSlot(split);
      root.lowScores = [0, this.keys.scoreOf(low)];
      root.lowMembers = ["", this.keys.memberOf(low)];
      this.#root = root;
    }
    this.#size++;
  }

  /** Removes `slot` (held; its key still readable); `member` as for {@link insert}. */
  remove(slot: number, member?: string): void {
    this.#member = member;
    this.#remove(this.#root, slot, this.keys.scoreOf(slot));
    this.#member = undefined;
    this.#size--;
    this.#collapse();
  }

  /** Drops inner roots left with one child (or none). */
  #collapse(): void {
    while (this.#root instanceof Inner && this.#root.children.length === 1) {
      this.#root = this.#root.children[0];
    }
    if (this.#root instanceof Inner && this.#root.children.length === 0) {
      this.#root = this.#first = this.#last = this.#newLeaf();
    }
  }

  /** The first (`first`) or last slot, or -1 when empty. */
  edgeSlot(first: boolean): number {
    const leaf = first ? this.#first : this.#last;
    const count = this.#counts[leaf];
    return count === 0 ? -1 : this.#row(leaf)[rowBase(leaf) + (first ? 0 : count - 1)];
  }

  /** Removes the first (`first`) or last slot (the tree is not empty). */
  removeEdge(first: boolean): void {
    assert(this.#size > 0, "an edge is removed from a tree that holds one");
    this.#removeEdge(this.#root, first);
    this.#size--;
    this.#collapse();
  }

  /** The rank of held `slot`. */
  rankOf(slot: number): number {
    const score = this.keys.scoreOf(slot);
    let node = this.#root;
    let rank = 0;
    while (node instanceof Inner) {
      const i = this.#childFor(node, score, slot);
      for (let j = 0; j < i; j++) rank += node.counts[j];
      node = node.children[i];
    }
    const at = this.#leafPosition(node, score, slot);
    assert(this.#row(node)[rowBase(node) + at] === slot, "a held slot is where its key sorts");
    return rank + at;
  }

  /**
   * How many elements satisfy `isBefore`, which holds for a prefix of the
   * order (e.g. "score below min"): the rank where the rest starts. Asked
   * of a slot in a leaf (`slot` ≥ 0: read its key through `keys`, the
   * member only if needed) or of an inner node's bound (`slot` -1).
   */
  countBefore(isBefore: (score: number, slot: number, bound: string) => boolean): number {
    let node = this.#root;
    let rank = 0;
    while (node instanceof Inner) {
      let lo = 0;
      let hi = node.children.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (isBefore(node.lowScores[mid], -1, node.lowMembers[mid])) lo = mid;
        else hi = mid - 1;
      }
      for (let j = 0; j < lo; j++) rank += node.counts[j];
      node = node.children[lo];
    }
    const row = this.#row(node);
    const base = rowBase(node);
    let lo = 0;
    let hi = this.#counts[node];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const slot = row[base + mid];
      if (isBefore(this.keys.scoreOf(slot), slot, "")) lo = mid + 1;
      else hi = mid;
    }
    return rank + lo;
  }

  /** The slot at `rank` (< size). */
  slotAt(rank: number): number {
    let found = -1;
    this.walk(rank, false, (slot) => {
      found = slot;
      return false;
    });
    return found;
  }

  /**
   * Visits slots from `rank` (< size) up (or down, `reverse`) until `visit`
   * returns false or the end.
   */
  walk(rank: number, reverse: boolean, visit: (slot: number) => boolean): void {
    assert(rank >= 0 && rank < this.#size, "a walk starts at a held rank");
    let node = this.#root;
    let at = rank;
    while (node instanceof Inner) {
      let i = 0;
      while (at >= node.counts[i]) at -= node.counts[i++];
      node = node.children[i];
    }
    let leaf = node;
    while (leaf !== NONE) {
      // Read per slot: `visit` may not change the tree, but the rows are replaced on growth.
      if (reverse) {
        for (; at >= 0; at--) if (!visit(this.#row(leaf)[rowBase(leaf) + at])) return;
        leaf = this.#prev[leaf];
        at = leaf === NONE ? 0 : this.#counts[leaf] - 1;
      } else {
        for (; at < this.#counts[leaf]; at++) {
          if (!visit(this.#row(leaf)[rowBase(leaf) + at])) return;
        }
        leaf = this.#next[leaf];
        at = 0;
      }
    }
  }

  #newLeaf(): number {
    let leaf = this.#freeRows.pop();
    if (leaf === undefined) {
      leaf = this.#rows++;
      if (leaf >= this.#counts.length) this.#growRows(this.#counts.length * 2);
      this.#reserveRow(leaf);
    }
    this.#counts[leaf] = 0;
    this.#next[leaf] = NONE;
    this.#prev[leaf] = NONE;
    return leaf;
  }

  /** The page of slots holding leaf `leaf`'s row (at {@link rowBase}). */
  #row(leaf: number): Int32Array {
    return this.#slotPages[leaf >>> ROWS_PER_PAGE_BITS];
  }

  /**
   * Makes room for leaf `leaf`'s row: rows come in pages of ROWS_PER_PAGE,
   * the first grown by doubling up to one, the others made one at a time
   * as leaves reach them (allocating all the pages a doubling would need
   * at once took 18 ms at 32,768 leaves: fresh memory is slow here).
   */
  #reserveRow(leaf: number): void {
    const pages = this.#slotPages;
    const page = leaf >>> ROWS_PER_PAGE_BITS;
    if (page === 0 && pages[0].length < (leaf + 1) * LEAF_ROW) {
      pages[0] = grown(pages[0], Math.min(2 * (leaf + 1), ROWS_PER_PAGE) * LEAF_ROW);
    }
    while (pages.length <= page) {
      if (pages[0].length < ROWS_PER_PAGE * LEAF_ROW) {
        pages[0] = grown(pages[0], ROWS_PER_PAGE * LEAF_ROW);
      }
      pages.push(new Int32Array(ROWS_PER_PAGE * LEAF_ROW));
    }
  }

  /** Grows the per-leaf counts and links (4 bytes a leaf each) to `rows` leaves. */
  #growRows(rows: number): void {
    this.#counts = grown(this.#counts, rows);
    this.#next = grown(this.#next, rows);
    this.#prev = grown(this.#prev, rows);
  }

  #count(node: Node): number {
    if (typeof node === "number") return this.#counts[node];
    let n = 0;
    for (const c of node.counts) n += c;
    return n;
  }

  #firstSlot(node: Node): number {
    while (node instanceof Inner) node = node.children[0];
    return this.#row(node)[rowBase(node)];
  }

  /** The child of `node` whose range holds the key of `slot` (score `score`). */
  #childFor(node: Inner, score: number, slot: number): number {
    let lo = 0;
    let hi = node.children.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const low = node.lowScores[mid];
      const isBefore = score < low ||
        (score === low && this.keys.compareMember(slot, node.lowMembers[mid]) < 0);
      if (isBefore) hi = mid - 1;
      else lo = mid;
    }
    return lo;
  }

  /** The first position in `leaf` whose key is not before that of `slot` (score `score`). */
  #leafPosition(leaf: number, score: number, slot: number): number {
    const keys = this.keys;
    const slots = this.#row(leaf);
    const base = rowBase(leaf);
    let lo = 0;
    let hi = this.#counts[leaf];
    let member = this.#member;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const other = slots[base + mid];
      const s = keys.scoreOf(other);
      let isBefore = s < score;
      if (s === score && other !== slot) {
        member ??= keys.memberOf(slot);
        isBefore = keys.compareMember(other, member) < 0;
      }
      if (isBefore) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Inserts under `node`; returns a new right sibling if `node` split. */
  #insert(node: Node, slot: number, score: number): Node | undefined {
    if (typeof node === "number") return this.#insertInLeaf(node, slot, score);
    const i = this.#childFor(node, score, slot);
    node.counts[i]++;
    const split = this.#insert(node.children[i], slot, score);
    if (split === undefined) return undefined;
    const moved = this.#count(split);
    node.counts[i] -= moved;
    const low = this.#firstSlot(split);
    node.children.splice(i + 1, 0, split);
    node.counts.splice(i + 1, 0, moved);
    node.lowScores.splice(i + 1, 0, this.keys.scoreOf(low));
    node.lowMembers.splice(i + 1, 0, this.keys.memberOf(low));
    if (node.children.length <= INNER_MAX) return undefined;
    const right = new Inner();
    const half = INNER_MAX >> 1;
    right.children = node.children.splice(half);
    right.counts = node.counts.splice(half);
    right.lowScores = node.lowScores.splice(half);
    right.lowMembers = node.lowMembers.splice(half);
    return right;
  }

  #insertInLeaf(leaf: number, slot: number, score: number): number | undefined {
    const at = this.#leafPosition(leaf, score, slot);
    const count = this.#counts[leaf];
    const row = this.#row(leaf);
    const base = rowBase(leaf);
    row.copyWithin(base + at + 1, base + at, base + count);
    row[base + at] = slot;
    this.#counts[leaf] = count + 1;
    if (count + 1 <= LEAF_MAX) return undefined;
    // An append (or prepend) splits off the new element alone: such loads fill leaves.
    const keep = at === LEAF_MAX && this.#next[leaf] === NONE
      ? LEAF_MAX
      : at === 0 && this.#prev[leaf] === NONE
      ? 1
      : LEAF_ROW >> 1;
    const right = this.#newLeaf();
    // #newLeaf may have replaced the first page of rows: read the row again.
    const rightBase = rowBase(right);
    this.#row(right).set(this.#row(leaf).subarray(base + keep, base + LEAF_ROW), rightBase);
    this.#counts[right] = LEAF_ROW - keep;
    this.#counts[leaf] = keep;
    this.#prev[right] = leaf;
    this.#next[right] = this.#next[leaf];
    if (this.#next[leaf] !== NONE) this.#prev[this.#next[leaf]] = right;
    else this.#last = right;
    this.#next[leaf] = right;
    return right;
  }

  /** Removes the first or last slot under `node`; whether `node` is left empty. */
  #removeEdge(node: Node, first: boolean): boolean {
    if (typeof node === "number") {
      const count = this.#counts[node] - 1;
      if (first) {
        const base = rowBase(node);
        this.#row(node).copyWithin(base, base + 1, base + count + 1);
      }
      this.#counts[node] = count;
      return count === 0 && this.#unlink(node);
    }
    const i = first ? 0 : node.children.length - 1;
    node.counts[i]--;
    if (!this.#removeEdge(node.children[i], first)) return false;
    this.#dropChild(node, i);
    return node.children.length === 0;
  }

  /** Unlinks an emptied leaf from the list and frees its row; false for the root (it stays). */
  #unlink(leaf: number): boolean {
    if (leaf === this.#root) return false;
    const prev = this.#prev[leaf];
    const next = this.#next[leaf];
    if (prev !== NONE) this.#next[prev] = next;
    else this.#first = next;
    if (next !== NONE) this.#prev[next] = prev;
    else this.#last = prev;
    this.#freeRows.push(leaf);
    return true;
  }

  #dropChild(node: Inner, i: number): void {
    node.children.splice(i, 1);
    node.counts.splice(i, 1);
    node.lowScores.splice(i, 1);
    node.lowMembers.splice(i, 1);
  }

  /** Removes under `node`; whether `node` is left empty. */
  #remove(node: Node, slot: number, score: number): boolean {
    if (typeof node === "number") {
      const at = this.#leafPosition(node, score, slot);
      const row = this.#row(node);
      const base = rowBase(node);
      const count = this.#counts[node] - 1;
      assert(row[base + at] === slot, "a removed slot is where its key sorts");
      row.copyWithin(base + at, base + at + 1, base + count + 1);
      this.#counts[node] = count;
      return count === 0 && this.#unlink(node);
    }
    const i = this.#childFor(node, score, slot);
    node.counts[i]--;
    if (!this.#remove(node.children[i], slot, score)) return false;
    this.#dropChild(node, i);
    return node.children.length === 0;
  }

  /** Checks every invariant (tests). */
  check(): void {
    const keys = this.keys;
    const visit = (node: Node): number => {
      if (typeof node === "number") {
        assert(this.#counts[node] <= LEAF_MAX, "a leaf holds at most LEAF_MAX slots");
        return this.#counts[node];
      }
      let total = 0;
      node.children.forEach((child, i) => {
        const n = visit(child);
        assert(n === node.counts[i], "an inner node counts its child's elements");
        if (i > 0 && n > 0) {
          const low = this.#firstSlot(child);
          assert(
            !before(keys.scoreOf(low), keys.memberOf(low), node.lowScores[i], node.lowMembers[i]),
            "a child's keys are not below its bound",
          );
        }
        total += n;
      });
      return total;
    };
    assert(visit(this.#root) === this.#size, "the tree counts its elements");
    let previous = -1;
    let n = 0;
    let prevLeaf = NONE;
    for (let leaf = this.#first; leaf !== NONE; leaf = this.#next[leaf]) {
      assert(this.#prev[leaf] === prevLeaf, "leaves are linked both ways");
      prevLeaf = leaf;
      for (let at = 0; at < this.#counts[leaf]; at++) {
        const slot = this.#row(leaf)[rowBase(leaf) + at];
        if (previous >= 0) {
          const s1 = keys.scoreOf(previous);
          const s2 = keys.scoreOf(slot);
          assert(
            s1 < s2 || (s1 === s2 && keys.compareMember(previous, keys.memberOf(slot)) < 0),
            "leaves are in order",
          );
        }
        previous = slot;
        n++;
      }
    }
    assert(n === this.#size, "the leaves hold every element");
    assert(prevLeaf === this.#last, "the last leaf ends the list");
  }
}

function grown(old: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const array = new Int32Array(length);
  array.set(old);
  return array;
}
