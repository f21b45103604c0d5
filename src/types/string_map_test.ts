import assert from "node:assert/strict";
import { flatString, prefetchStrings, stringHash, StringMap } from "./string_map.ts";

import { seededRandom as random } from "../_seeded_random.ts";

Deno.test("StringMap: set, get, has, delete; set says whether the key is new", () => {
  const map = new StringMap<string>();
  assert.equal(map.set("a", "1"), true);
  assert.equal(map.set("a", "2"), false);
  assert.equal(map.set("", "empty"), true);
  assert.equal(map.set("\x00\xff", "bin"), true);
  assert.equal(map.get("a"), "2");
  assert.equal(map.get(""), "empty");
  assert.equal(map.get("\x00\xff"), "bin");
  assert.equal(map.get("b"), undefined);
  assert.equal(map.has("a"), true);
  assert.equal(map.size, 3);
  assert.equal(map.delete("a"), true);
  assert.equal(map.delete("a"), false);
  assert.equal(map.has("a"), false);
  assert.equal(map.size, 2);
});

Deno.test("StringMap: 20,000 random sets and deletes agree with a Map at every step", () => {
  const next = random(16);
  const map = new StringMap<number>();
  const reference = new Map<string, number>();
  for (let step = 0; step < 20_000; step++) {
    // Few distinct keys (2,000) so that deletes hit, and probe runs wrap and shift.
    const key = `element:${Math.floor(next() * 2_000)}`;
    if (next() < 0.4) {
      assert.equal(map.delete(key), reference.delete(key), `delete ${key} at step ${step}`);
    } else {
      assert.equal(map.set(key, step), !reference.has(key), `set ${key} at step ${step}`);
      reference.set(key, step);
    }
    assert.equal(map.size, reference.size);
  }
  for (const [key, value] of reference) assert.equal(map.get(key), value);
  let live = 0;
  for (let at = 0; at < map.positions; at++) {
    const key = map.keyAt(at);
    if (key === undefined) continue;
    live++;
    assert.equal(map.valueAt(at), reference.get(key));
    assert.equal(map.positionOf(key), at);
  }
  assert.equal(live, reference.size);
});

Deno.test("StringMap: a live key keeps its position while others come and go", () => {
  const map = new StringMap<string>();
  for (let i = 0; i < 1000; i++) map.set(`f${i}`, "x");
  const place = map.positionOf("f500");
  for (let i = 0; i < 500; i++) map.delete(`f${i}`);
  for (let i = 0; i < 3000; i++) map.set(`g${i}`, "y"); // reuses holes, then grows the table
  assert.equal(map.positionOf("f500"), place);
  assert.equal(map.keyAt(place), "f500");
  // Deleted positions are reused before new ones.
  assert.equal(map.positions, 3500);
});

Deno.test("StringMap: place adds or finds with one lookup; setValueAt replaces a value", () => {
  const map = new StringMap<number>();
  const added = map.place("k", 1);
  assert.ok(added < 0);
  const at = -added - 1;
  assert.equal(map.place("k", 2), at);
  assert.equal(map.get("k"), 1);
  map.setValueAt(at, 3);
  assert.equal(map.get("k"), 3);
});

Deno.test("flatString: the same characters, whatever the string was made of", () => {
  const record = "element:000000012345" + "value";
  const sliced = record.slice(0, 20);
  assert.equal(flatString(sliced), "element:000000012345");
  assert.equal(flatString("short"), "short");
  const binary = Array.from({ length: 300 }, (_, i) => String.fromCharCode(i & 0xff)).join("");
  assert.equal(flatString(binary.slice(10, 266)), binary.slice(10, 266));
  assert.equal(flatString(binary), binary);
  assert.equal(stringHash(flatString(sliced)), stringHash("element:000000012345"));
});

Deno.test("stringHash: the hashes a prefetch made are given back to the lookups after it, in any order", () => {
  const keys = Array.from({ length: 40 }, (_, i) => `element:${String(i).padStart(12, "0")}`);
  const expected = keys.map((k) => stringHash(k));
  const map = new StringMap<number>();
  keys.forEach((k, i) => map.set(k, i));
  prefetchStrings(keys.map(() => map), keys, keys.length);
  // In order, with one skipped, a string of equal text made anew, then out of order.
  for (let i = 0; i < 10; i++) assert.equal(stringHash(keys[i]), expected[i]);
  assert.equal(stringHash(keys[11]), expected[11]);
  assert.equal(stringHash(keys[12].split("").join("")), expected[12]);
  assert.equal(stringHash("another"), stringHash("another"));
  for (let i = keys.length - 1; i >= 0; i--) assert.equal(stringHash(keys[i]), expected[i]);
  for (let i = 0; i < keys.length; i++) assert.equal(map.get(keys[i]), i);
  // Strings prefetched into another table are found by its lookups too.
  prefetchStrings([map, map], ["absent", keys[3]], 2);
  assert.equal(map.get("absent"), undefined);
  assert.equal(map.get(keys[3]), 3);
});
