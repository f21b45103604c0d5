/**
 * The order of a large sorted set: a B+tree of slot numbers ordered by
 * (score, member) — read from the table's `scores` and `members` arrays —
 * whose inner nodes count the elements under each child, so that a rank,
 * the element at a rank, and the rank where a range starts all take
 * O(log n), as Redis's skiplist spans give. Leaves are linked both ways for
 * range walks. A leaf emptied by removals is unlinked (no rebalancing
 * otherwise: a removal never moves other elements).
 *
 * Inner node invariant: child i (i ≥ 1) holds only keys ≥ `lowScores[i]`/
 * `lowMembers[i]` and child i − 1 only keys below it; child 0's low is
 * unused. Insertion routes by these bounds, so they stay true.
 *
 * @example
 * ```ts
 * const keys = { scores: [2, 1], members: ["a", "b"] };
 * const tree = new RankTree(keys);
 * tree.insert(0);
 * tree.insert(1);
 * tree.slotAt(0); // 1: "b" (score 1) first
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";

/** Where the tree reads the key of each slot. */
export interface SlotKeys {
  readonly scores: number[];
  readonly members: (string | undefined)[];
}

/** Most slots in a leaf before it splits. */
const LEAF_MAX = 128;
/** Most children of an inner node before it splits. */
const INNER_MAX = 64;

class Leaf {
  slots: number[] = [];
  next: Leaf | undefined = undefined;
  prev: Leaf | undefined = undefined;
}

class Inner {
  children: Node[] = [];
  counts: number[] = [];
  lowScores: number[] = [];
  lowMembers: string[] = [];
}

type Node = Leaf | Inner;

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
  #root: Node = new Leaf();
  #first: Leaf;
  #last: Leaf;
  #size = 0;

  constructor(readonly keys: SlotKeys) {
    this.#first = this.#last = this.#root as Leaf;
  }

  /** Slots held. */
  get size(): number {
    return this.#size;
  }

  /** Adds `slot` (not held; its key is in `keys`). */
  insert(slot: number): void {
    const score = this.keys.scores[slot];
    const member = this.keys.members[slot]!;
    const split = this.#insert(this.#root, slot, score, member);
    if (split !== undefined) {
      const root = new Inner();
      const old = this.#root;
      root.children = [old, split];
      root.counts = [this.#count(old), this.#count(split)];
      const low = this.#firstSlot(split);
      root.lowScores = [0, this.keys.scores[low]];
      root.lowMembers = ["", this.keys.members[low]!];
      this.#root = root;
    }
    this.#size++;
  }

  /** Removes `slot` (held; its key still in `keys`). */
  remove(slot: number): void {
    const score = this.keys.scores[slot];
    const member = this.keys.members[slot]!;
    this.#remove(this.#root, slot, score, member);
    this.#size--;
    this.#collapse();
  }

  /** Drops inner roots left with one child (or none). */
  #collapse(): void {
    while (this.#root instanceof Inner && this.#root.children.length === 1) {
      this.#root = this.#root.children[0];
    }
    if (this.#root instanceof Inner && this.#root.children.length === 0) {
      this.#root = this.#first = this.#last = new Leaf();
    }
  }

  /** The first (`first`) or last slot, or -1 when empty. */
  edgeSlot(first: boolean): number {
    const leaf = first ? this.#first : this.#last;
    const slots = leaf.slots;
    return slots.length === 0 ? -1 : first ? slots[0] : slots[slots.length - 1];
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
    const score = this.keys.scores[slot];
    const member = this.keys.members[slot]!;
    let node = this.#root;
    let rank = 0;
    while (node instanceof Inner) {
      const i = this.#childFor(node, score, member);
      for (let j = 0; j < i; j++) rank += node.counts[j];
      node = node.children[i];
    }
    const at = this.#leafPosition(node, score, member);
    assert(node.slots[at] === slot, "a held slot is where its key sorts");
    return rank + at;
  }

  /**
   * How many elements satisfy `isBefore`, which holds for a prefix of the
   * order (e.g. "score below min"): the rank where the rest starts.
   */
  countBefore(isBefore: (score: number, member: string) => boolean): number {
    let node = this.#root;
    let rank = 0;
    while (node instanceof Inner) {
      let lo = 0;
      let hi = node.children.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (isBefore(node.lowScores[mid], node.lowMembers[mid])) lo = mid;
        else hi = mid - 1;
      }
      for (let j = 0; j < lo; j++) rank += node.counts[j];
      node = node.children[lo];
    }
    const { scores, members } = this.keys;
    let lo = 0;
    let hi = node.slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const slot = node.slots[mid];
      if (isBefore(scores[slot], members[slot]!)) lo = mid + 1;
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
    let leaf: Leaf | undefined = node;
    while (leaf !== undefined) {
      const slots = leaf.slots;
      if (reverse) {
        for (; at >= 0; at--) if (!visit(slots[at])) return;
        leaf = leaf.prev;
        at = leaf === undefined ? 0 : leaf.slots.length - 1;
      } else {
        for (; at < slots.length; at++) if (!visit(slots[at])) return;
        leaf = leaf.next;
        at = 0;
      }
    }
  }

  #count(node: Node): number {
    if (node instanceof Leaf) return node.slots.length;
    let n = 0;
    for (const c of node.counts) n += c;
    return n;
  }

  #firstSlot(node: Node): number {
    while (node instanceof Inner) node = node.children[0];
    return node.slots[0];
  }

  /** The child of `node` whose range holds (score, member). */
  #childFor(node: Inner, score: number, member: string): number {
    let lo = 0;
    let hi = node.children.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (before(score, member, node.lowScores[mid], node.lowMembers[mid])) hi = mid - 1;
      else lo = mid;
    }
    return lo;
  }

  /** The first position in `leaf` whose key is not before (score, member). */
  #leafPosition(leaf: Leaf, score: number, member: string): number {
    const { scores, members } = this.keys;
    const slots = leaf.slots;
    let lo = 0;
    let hi = slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const slot = slots[mid];
      if (before(scores[slot], members[slot]!, score, member)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Inserts under `node`; returns a new right sibling if `node` split. */
  #insert(node: Node, slot: number, score: number, member: string): Node | undefined {
    if (node instanceof Leaf) {
      node.slots.splice(this.#leafPosition(node, score, member), 0, slot);
      if (node.slots.length <= LEAF_MAX) return undefined;
      const right = new Leaf();
      right.slots = node.slots.splice(LEAF_MAX >> 1);
      right.prev = node;
      right.next = node.next;
      if (node.next !== undefined) node.next.prev = right;
      else this.#last = right;
      node.next = right;
      return right;
    }
    const i = this.#childFor(node, score, member);
    node.counts[i]++;
    const split = this.#insert(node.children[i], slot, score, member);
    if (split === undefined) return undefined;
    const moved = this.#count(split);
    node.counts[i] -= moved;
    const low = this.#firstSlot(split);
    node.children.splice(i + 1, 0, split);
    node.counts.splice(i + 1, 0, moved);
    node.lowScores.splice(i + 1, 0, this.keys.scores[low]);
    node.lowMembers.splice(i + 1, 0, this.keys.members[low]!);
    if (node.children.length <= INNER_MAX) return undefined;
    const right = new Inner();
    const half = INNER_MAX >> 1;
    right.children = node.children.splice(half);
    right.counts = node.counts.splice(half);
    right.lowScores = node.lowScores.splice(half);
    right.lowMembers = node.lowMembers.splice(half);
    return right;
  }

  /** Removes the first or last slot under `node`; whether `node` is left empty. */
  #removeEdge(node: Node, first: boolean): boolean {
    if (node instanceof Leaf) {
      if (first) node.slots.shift();
      else node.slots.pop();
      return node.slots.length === 0 && this.#unlink(node);
    }
    const i = first ? 0 : node.children.length - 1;
    node.counts[i]--;
    if (!this.#removeEdge(node.children[i], first)) return false;
    this.#dropChild(node, i);
    return node.children.length === 0;
  }

  /** Unlinks an emptied leaf from the list; false for the root (it stays). */
  #unlink(leaf: Leaf): boolean {
    if (leaf === this.#root) return false;
    if (leaf.prev !== undefined) leaf.prev.next = leaf.next;
    else this.#first = leaf.next!;
    if (leaf.next !== undefined) leaf.next.prev = leaf.prev;
    else this.#last = leaf.prev!;
    return true;
  }

  #dropChild(node: Inner, i: number): void {
    node.children.splice(i, 1);
    node.counts.splice(i, 1);
    node.lowScores.splice(i, 1);
    node.lowMembers.splice(i, 1);
  }

  /** Removes under `node`; whether `node` is left empty. */
  #remove(node: Node, slot: number, score: number, member: string): boolean {
    if (node instanceof Leaf) {
      const at = this.#leafPosition(node, score, member);
      assert(node.slots[at] === slot, "a removed slot is where its key sorts");
      node.slots.splice(at, 1);
      return node.slots.length === 0 && this.#unlink(node);
    }
    const i = this.#childFor(node, score, member);
    node.counts[i]--;
    if (!this.#remove(node.children[i], slot, score, member)) return false;
    this.#dropChild(node, i);
    return node.children.length === 0;
  }

  /** Checks every invariant (tests). */
  check(): void {
    const visit = (node: Node): number => {
      if (node instanceof Leaf) return node.slots.length;
      let total = 0;
      node.children.forEach((child, i) => {
        const n = visit(child);
        assert(n === node.counts[i], "an inner node counts its child's elements");
        total += n;
      });
      return total;
    };
    assert(visit(this.#root) === this.#size, "the tree counts its elements");
    const { scores, members } = this.keys;
    let previous = -1;
    let n = 0;
    for (let leaf: Leaf | undefined = this.#first; leaf !== undefined; leaf = leaf.next) {
      for (const slot of leaf.slots) {
        if (previous >= 0) {
          assert(
            before(scores[previous], members[previous]!, scores[slot], members[slot]!),
            "leaves are in order",
          );
        }
        previous = slot;
        n++;
      }
    }
    assert(n === this.#size, "the leaves hold every element");
    assert(this.#last.next === undefined, "the last leaf ends the list");
  }
}
