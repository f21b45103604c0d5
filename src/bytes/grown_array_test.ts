import assert from "node:assert/strict";
import { grownArray } from "./grown_array.ts";

Deno.test("grownArray: keeps what it is told to, zeros after, and detaches the old array", () => {
  const old = Int32Array.from({ length: 100 }, (_, i) => i + 1);
  const grown = grownArray(old, 300, 60);
  assert(grown instanceof Int32Array);
  assert.deepEqual(grown.length, 300);
  assert.deepEqual(Array.from(grown.subarray(0, 60)), Array.from({ length: 60 }, (_, i) => i + 1));
  assert(grown.subarray(60).every((v) => v === 0));
  assert.deepEqual(old.length, 0); // detached: its memory is freed

  const times = grownArray(new Float64Array([1.5, 2.5]), 4);
  assert.deepEqual(Array.from(times), [1.5, 2.5, 0, 0]);
  assert.throws(() => grownArray(new Uint8Array(4), 2));
});

Deno.test("grownArray: the spare capacity is not resident until written", () => {
  // A transfer to the same length makes all of it resident (the reason
  // for grownArray): 256 MiB here, against the few MiB kept below.
  const mib = 2 ** 20;
  const small = new Uint8Array(mib).fill(7);
  const before = Deno.memoryUsage().rss;
  const grown = grownArray(small, 256 * mib);
  const added = Deno.memoryUsage().rss - before;
  assert.deepEqual(grown[mib - 1], 7);
  assert(added < 32 * mib, `resident memory grew by ${(added / mib).toFixed(1)} MiB`);
});
