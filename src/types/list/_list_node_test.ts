import assert from "node:assert/strict";
import { LIST_NODE_ELEMENTS, ListNode } from "./_list_node.ts";

/** Fills a new node from `fromLeft`'s side with `count` copies of `element`. */
function filled(fromLeft: boolean, element: string, count = LIST_NODE_ELEMENTS): ListNode {
  const node = new ListNode(fromLeft);
  for (let i = 0; i < count; i++) {
    if (fromLeft) node.pushLeft(element);
    else node.pushRight(element);
  }
  return node;
}

Deno.test("ListNode.next: a node after a full one holds as many elements of their size without growing", () => {
  for (const fromLeft of [true, false]) {
    for (const size of [1, 3, 40, 100]) {
      const element = "x".repeat(size);
      const next = ListNode.next(fromLeft, filled(fromLeft, element));
      const bytes = next.bytes;
      for (let i = 0; i < LIST_NODE_ELEMENTS; i++) {
        if (fromLeft) next.pushLeft(element);
        else next.pushRight(element);
      }
      assert.equal(
        next.bytes,
        bytes,
        `${size}-byte elements from the ${fromLeft ? "left" : "right"}`,
      );
      assert.equal(next.count, LIST_NODE_ELEMENTS);
      assert.equal(next.get(next.start), element);
    }
  }
});

Deno.test("ListNode.next: a first node starts small; huge elements do not size a huge node ahead", () => {
  const first = ListNode.next(true, undefined);
  assert.ok(first.bytes.length <= 512);
  const big = ListNode.next(false, filled(false, "y".repeat(10_000), 4));
  assert.ok(big.bytes.length <= 16 * 1024);
  big.pushRight("y".repeat(10_000));
  big.pushRight("z".repeat(20_000));
  assert.equal(big.get(big.end - 1), "z".repeat(20_000));
});

Deno.test("ListNode: a node that grows keeps its elements, its offsets and bytes in one buffer of the new size", () => {
  for (const fromLeft of [true, false]) {
    const node = new ListNode(fromLeft);
    const elements: string[] = [];
    for (let i = 0; i < LIST_NODE_ELEMENTS; i++) {
      const element = String.fromCharCode(i % 256).repeat(1 + (i * 37) % 90);
      elements.push(element);
      if (fromLeft) node.pushLeft(element);
      else node.pushRight(element);
      assert.equal(node.offsets.buffer, node.bytes.buffer, `after push ${i}`);
      assert.equal(
        node.bytes.buffer.byteLength,
        node.bytes.byteOffset + node.bytes.length,
        "no outgrown bytes kept",
      );
    }
    if (fromLeft) elements.reverse();
    assert.deepEqual(node.strings(), elements);
    node.assign(["a".repeat(20_000), "b"], 3);
    assert.equal(node.offsets.buffer, node.bytes.buffer);
    assert.deepEqual(node.strings(), ["a".repeat(20_000), "b"]);
  }
});
