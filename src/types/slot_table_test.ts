import assert from "node:assert/strict";
import { NOT_FOUND, SlotTable, STEP_SLOTS } from "./slot_table.ts";

/** A seeded generator of integers in [0, n). */
function rng(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
}

/** Where entry `entry` of hash `hash` is, or NOT_FOUND: the way the tables' users look. */
function locate(table: SlotTable, hash: number, entry: number): number {
  let at = table.find(hash);
  while (at !== NOT_FOUND && table.entryAt(at) !== entry) at = table.findNext(hash, at);
  return at;
}

for (const [maxLoad, shrinks] of [[3 / 4, false], [1 / 2, true]] as const) {
  Deno.test(`SlotTable (load ${maxLoad}, shrinks ${shrinks}): 200k random adds and removes agree with a model, while draining too`, () => {
    const table = new SlotTable(8, maxLoad, shrinks);
    // Few distinct hashes, so that runs are long, wrap around, and share hashes.
    const hashOf = (key: number) => Math.imul(key % 5003, 0x9e3779b1);
    const model = new Set<number>();
    const next = rng(11);
    let drainingChecks = 0;
    for (let i = 0; i < 200_000; i++) {
      // Phases of growth and of shrinking, so that resizes both ways happen mid-drain.
      const phase = Math.floor(i / 25_000) % 2;
      const key = next(40_000);
      const held = model.has(key);
      if (!held && (phase === 0 ? next(4) !== 0 : next(4) === 0)) {
        table.add(hashOf(key), key + 1);
        model.add(key);
      } else if (held && (phase === 1 || next(3) === 0)) {
        table.removeAt(locate(table, hashOf(key), key + 1));
        model.delete(key);
      }
      assert.equal(table.size, model.size);
      if (table.draining) {
        drainingChecks++;
        for (let j = 0; j < 8; j++) {
          const k = next(40_000);
          assert.equal(locate(table, hashOf(k), k + 1) !== NOT_FOUND, model.has(k));
        }
      }
      if (i % 10_000 === 0) {
        for (const k of model) assert.notEqual(locate(table, hashOf(k), k + 1), NOT_FOUND);
        assert.equal(locate(table, hashOf(40_001), 40_002), NOT_FOUND);
      }
    }
    assert.ok(drainingChecks > 500, `lookups checked while draining: ${drainingChecks}`);
    for (const k of [...model]) {
      table.removeAt(locate(table, hashOf(k), k + 1));
      model.delete(k);
    }
    assert.equal(table.size, 0);
    assert.equal(table.find(hashOf(1)), NOT_FOUND);
  });
}

Deno.test("SlotTable: a growth is drained over many additions, a bounded step each", () => {
  const table = new SlotTable(8, 3 / 4, false);
  let key = 0;
  const hashOf = (k: number) => Math.imul(k, 0x9e3779b1);
  // Up to the growth from 2^16 to 2^17 slots.
  while (!(table.allocatedBytes > 8 * (1 << 17) && table.draining)) {
    table.add(hashOf(key), key + 1);
    key++;
  }
  const oldSlots = 1 << 16;
  let additions = 0;
  while (table.draining) {
    table.add(hashOf(key), key + 1);
    key++;
    additions++;
  }
  // A one-step resize drains at once (0 additions after it); this one
  // takes one addition per STEP_SLOTS old slots and the rest of a run.
  assert.ok(
    additions >= oldSlots / STEP_SLOTS / 4 && additions <= oldSlots / STEP_SLOTS,
    `drained over ${additions} additions`,
  );
  assert.equal(table.allocatedBytes, 8 * (1 << 17));
  for (let k = 0; k < key; k++) assert.equal(table.entryAt(locate(table, hashOf(k), k + 1)), k + 1);
});

Deno.test("SlotTable: setEntryAt renumbers a pair wherever it is, old slots included", () => {
  const table = new SlotTable(8, 3 / 4, false);
  for (let k = 0; k < 7; k++) table.add(k * 16, k + 1); // the 7th addition grows the table
  assert.ok(table.draining || table.size === 7);
  for (let k = 0; k < 7; k++) {
    const at = locate(table, k * 16, k + 1);
    table.setEntryAt(at, 100 + k);
  }
  for (let k = 0; k < 7; k++) assert.notEqual(locate(table, k * 16, 100 + k), NOT_FOUND);
  assert.equal(table.probeEntry(12345), 0);
  assert.equal(table.probeEntry(6 * 16), 106);
  // The home slot's word, whichever pair's: all seven share home slot 0.
  assert.ok(table.homeWord(6 * 16) > 0);
  assert.equal(new SlotTable(8, 3 / 4, false).homeWord(5), 0);
});
