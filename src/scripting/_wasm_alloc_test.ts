import assert from "node:assert/strict";
import { loadLua, LuaVm } from "./lua_vm.ts";
import { wasmAllocator } from "./_wasm_alloc.ts";

Deno.test("the wasm allocator counts what it hands out and refuses growth past its limit", async () => {
  await loadLua();
  const { C } = LuaVm.create(1024 * 1024);
  const alloc = wasmAllocator(C._realloc, C._free, 1000);
  const { fn } = alloc;
  // A NULL block's old size is a type tag (5: a table), not a size.
  const block = fn(0, 0, 5, 600);
  assert.notEqual(block, 0);
  assert.equal(alloc.usedBytes(), 600);
  // Growth past the limit fails and changes nothing.
  assert.equal(fn(0, block, 600, 1200), 0);
  assert.equal(fn(0, 0, 4, 500), 0);
  assert.equal(alloc.usedBytes(), 600);
  // Growth within it, then a shrink, then a free.
  const grown = fn(0, block, 600, 1000);
  assert.notEqual(grown, 0);
  assert.equal(alloc.usedBytes(), 1000);
  const shrunk = fn(0, grown, 1000, 100);
  assert.notEqual(shrunk, 0);
  assert.equal(alloc.usedBytes(), 100);
  assert.equal(fn(0, shrunk, 100, 0), 0);
  assert.equal(alloc.usedBytes(), 0);
  // Freeing NULL frees nothing.
  assert.equal(fn(0, 0, 7, 0), 0);
  assert.equal(alloc.usedBytes(), 0);
  // Sizes are unsigned: a request near 4 GiB is refused, not counted negative.
  assert.equal(fn(0, 0, 4, 0xffff_fff0 | 0), 0);
  assert.equal(alloc.usedBytes(), 0);
});
