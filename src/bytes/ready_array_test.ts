import assert from "node:assert/strict";
import { ReadyArray } from "./ready_array.ts";

Deno.test("ReadyArray: grows into the successor it made ready, copying the old array and freeing it", () => {
  const old = new Int32Array(4096).map((_, i) => i * 3);
  const next = new ReadyArray<Int32Array>();
  assert.equal(next.pending, false);
  // Made ready a page at a time, as a table fills.
  for (let from = 0; from < old.length; from += 100) next.touch(old, 8192, from, from + 100);
  assert.equal(next.pending, true);
  const grown = next.grown(old, 8192);
  assert.equal(grown.length, 8192);
  for (let i = 0; i < 4096; i++) assert.equal(grown[i], i * 3);
  for (let i = 4096; i < 8192; i++) assert.equal(grown[i], 0);
  assert.equal(old.length, 0, "the old array is detached: its memory is freed");
  assert.equal(next.pending, false);
});

Deno.test("ReadyArray: without a successor of the asked length, a fresh one is made", () => {
  const old = new Float64Array([1.5, 2.5]);
  const next = new ReadyArray<Float64Array>();
  next.touch(old, 4, 0, 2);
  const grown = next.grown(old, 8); // not the length made ready
  assert.deepEqual([...grown], [1.5, 2.5, 0, 0, 0, 0, 0, 0]);
  const again = new Uint32Array([7]);
  const other = new ReadyArray<Uint32Array>();
  other.touch(again, 2, 0, 1);
  other.drop();
  assert.equal(other.pending, false);
  assert.deepEqual([...other.grown(again, 2)], [7, 0]);
});
