import assert from "node:assert/strict";
import { ExpiryColumn } from "./_expiry_column.ts";

Deno.test("expiry column: set, clear, count, growth past its first length, and the next entry with a time", () => {
  const column = new ExpiryColumn();
  assert.equal(column.at(5), 0);
  assert.equal(column.next(0, 100), -1);
  column.set(5, 1000);
  column.set(5, 2000); // an overwrite is not a second key
  column.set(7, 0); // clearing what has none changes nothing
  assert.equal(column.count, 1);
  column.set(10_000, 3000); // far past the first 64 entries
  assert.equal(column.at(10_000), 3000);
  assert.equal(column.at(9_999), 0, "grown entries start with no time");
  assert.equal(column.count, 2);
  assert.ok(column.bytes >= 10_001 * 8);
  assert.equal(column.next(0, 20_000), 5);
  assert.equal(column.next(6, 20_000), 10_000);
  assert.equal(column.next(6, 10_000), -1, "the end bound is exclusive");
  assert.equal(column.next(1_000_000, 2_000_000), -1);
  column.set(5, 0);
  assert.equal(column.count, 1);
  assert.equal(column.next(0, 20_000), 10_000);
  column.set(100_000, 0); // clearing past the end: no growth
  assert.equal(column.at(100_000), 0);
});
