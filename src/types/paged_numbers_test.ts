import assert from "node:assert/strict";
import { NUMBER_PAGE_ELEMENTS, PagedNumbers } from "./paged_numbers.ts";

Deno.test("PagedNumbers: the first page doubles up to a page, then pages are added; values and fill kept", () => {
  const numbers = new PagedNumbers(Int32Array, 16, -2);
  assert.equal(numbers.capacity, 16);
  numbers.set(3, 7);
  numbers.reserve(100);
  assert.equal(numbers.capacity, 128);
  assert.equal(numbers.get(3), 7);
  assert.equal(numbers.get(99), -2);
  numbers.reserve(3 * NUMBER_PAGE_ELEMENTS + 1);
  assert.equal(numbers.capacity, 4 * NUMBER_PAGE_ELEMENTS);
  assert.equal(numbers.allocatedBytes, 4 * 4 * NUMBER_PAGE_ELEMENTS);
  assert.equal(numbers.get(3), 7);
  assert.equal(numbers.get(3 * NUMBER_PAGE_ELEMENTS), -2);
  for (let i = 0; i < numbers.capacity; i += 1001) numbers.set(i, i);
  for (let i = 0; i < numbers.capacity; i += 1001) assert.equal(numbers.get(i), i);
  // Reserving what is there allocates nothing.
  numbers.reserve(10);
  assert.equal(numbers.capacity, 4 * NUMBER_PAGE_ELEMENTS);
});

Deno.test("PagedNumbers: Float64 pages hold doubles", () => {
  const scores = new PagedNumbers(Float64Array, 4);
  scores.reserve(NUMBER_PAGE_ELEMENTS + 1);
  scores.set(NUMBER_PAGE_ELEMENTS, 0.5);
  scores.set(1, -Infinity);
  assert.equal(scores.get(NUMBER_PAGE_ELEMENTS), 0.5);
  assert.equal(scores.get(1), -Infinity);
});
