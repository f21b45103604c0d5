import assert from "node:assert/strict";
import { PAGE_ELEMENTS, PagedArray } from "./paged_array.ts";

Deno.test("PagedArray: push, set, pop and read across page boundaries agree with an array", () => {
  const paged = new PagedArray<number>();
  const model: number[] = [];
  const n = 3 * PAGE_ELEMENTS + 5;
  for (let i = 0; i < n; i++) {
    paged.push(i * 3);
    model.push(i * 3);
  }
  paged.set(PAGE_ELEMENTS, -1);
  model[PAGE_ELEMENTS] = -1;
  assert.equal(paged.length, n);
  assert.deepEqual(paged.toArray(), model);
  assert.deepEqual([...paged], model);
  // Down through two page boundaries and up again.
  for (let i = 0; i < 2 * PAGE_ELEMENTS + 10; i++) assert.equal(paged.pop(), model.pop());
  for (let i = 0; i < PAGE_ELEMENTS + 3; i++) {
    paged.push(-i);
    model.push(-i);
  }
  assert.deepEqual(paged.toArray(), model);
  for (let i = 0; i < model.length; i += 97) assert.equal(paged.at(i), model[i]);
  while (model.length > 0) assert.equal(paged.pop(), model.pop());
  assert.equal(paged.length, 0);
  assert.equal(paged.pop(), undefined);
  paged.push(7);
  assert.deepEqual(paged.toArray(), [7]);
});

Deno.test("PagedArray: setting past the end is refused", () => {
  const paged = new PagedArray<string>();
  paged.push("a");
  assert.throws(() => paged.set(1, "b"));
});
