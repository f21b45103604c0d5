import assert from "node:assert/strict";
import { BYTE_PAGE_BYTES, PagedBytes } from "./paged_bytes.ts";

Deno.test("PagedBytes: allocations never straddle a page; skipped bytes count as dead; contents kept as it grows", () => {
  const arena = new PagedBytes(64);
  const first = arena.alloc(10);
  assert.equal(first, 0);
  arena.page(first).set([1, 2, 3], arena.offsetInPage(first));
  // The first page doubles up to a full page, keeping what it holds.
  const at = arena.alloc(BYTE_PAGE_BYTES - 20);
  assert.equal(at, 10);
  assert.equal(arena.allocatedBytes, BYTE_PAGE_BYTES);
  assert.deepEqual([...arena.page(first).subarray(0, 3)], [1, 2, 3]);
  // 10 bytes are left in the page: 16 start the next one, the 10 are dead.
  const next = arena.alloc(16);
  assert.equal(next, BYTE_PAGE_BYTES);
  assert.equal(arena.offsetInPage(next), 0);
  assert.equal(arena.deadBytes, 10);
  assert.equal(arena.allocatedBytes, 2 * BYTE_PAGE_BYTES);
  arena.page(next)[arena.offsetInPage(next)] = 9;
  assert.equal(arena.page(BYTE_PAGE_BYTES)[0], 9);
  arena.free(16);
  assert.equal(arena.deadBytes, 26);
  assert.equal(arena.usedBytes, BYTE_PAGE_BYTES + 16);
  assert.throws(() => arena.alloc(BYTE_PAGE_BYTES + 1));
});

Deno.test("PagedBytes: nextOffset says where an allocation would go", () => {
  const arena = new PagedBytes(1024);
  arena.alloc(BYTE_PAGE_BYTES - 4);
  assert.equal(arena.nextOffset(4), BYTE_PAGE_BYTES - 4);
  assert.equal(arena.nextOffset(5), BYTE_PAGE_BYTES);
});
