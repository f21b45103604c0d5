import assert from "node:assert/strict";
import { PAGE_ELEMENTS, PagedArray } from "./paged_array.ts";

/** The paged array's elements, read one by one. */
function elements<T>(paged: PagedArray<T>): T[] {
  const all: T[] = [];
  for (let i = 0; i < paged.length; i++) all.push(paged.at(i));
  return all;
}

Deno.test("PagedArray: push, set and read across page boundaries agree with an array", () => {
  const paged = new PagedArray<number>();
  const model: number[] = [];
  const n = 3 * PAGE_ELEMENTS + 5;
  for (let i = 0; i < n; i++) {
    paged.push(i * 3);
    model.push(i * 3);
  }
  paged.set(PAGE_ELEMENTS, -1);
  model[PAGE_ELEMENTS] = -1;
  paged.set(n - 1, -2);
  model[n - 1] = -2;
  assert.equal(paged.length, n);
  assert.deepEqual(elements(paged), model);
  for (let i = 0; i < model.length; i += 97) assert.equal(paged.at(i), model[i]);
});

Deno.test("PagedArray: setting past the end is refused", () => {
  const paged = new PagedArray<string>();
  paged.push("a");
  assert.throws(() => paged.set(1, "b"));
});
