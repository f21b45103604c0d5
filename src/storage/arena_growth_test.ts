import assert from "node:assert/strict";
import { arenaGrowth } from "./arena_growth.ts";

Deno.test("arenaGrowth: compacts when half is dead or growing cannot fit, grows otherwise, refuses past the limit", () => {
  assert.deepEqual(arenaGrowth(1000, 600, 100, 1 << 30, 1024), { capacity: 1024, compact: true });
  assert.deepEqual(arenaGrowth(1000, 0, 100, 1 << 30, 1024), { capacity: 2200, compact: false });
  assert.deepEqual(arenaGrowth(10, 0, 1, 1 << 30, 1024), { capacity: 1024, compact: false });
  // Growing would pass the limit, compacting fits.
  assert.deepEqual(arenaGrowth(900, 100, 150, 1000, 64), { capacity: 1000, compact: true });
  assert.equal(arenaGrowth(900, 0, 150, 1000, 64), undefined);
});

Deno.test("arenaGrowth: a spare of 1/2 compacts once a third is dead, to 1.5 times the live bytes, and grows by 1.5", () => {
  assert.deepEqual(arenaGrowth(1200, 400, 8, 1 << 30, 64, 0.5), { capacity: 1216, compact: true });
  assert.deepEqual(arenaGrowth(1200, 392, 8, 1 << 30, 64, 0.5), { capacity: 1816, compact: false });
});
