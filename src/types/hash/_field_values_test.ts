import assert from "node:assert/strict";
import { BYTE_PAGE_BYTES } from "../paged_bytes.ts";
import { FieldValues, INLINE_VALUE_BYTES, MAX_ARENA_VALUE_BYTES } from "./_field_values.ts";

import { seededRandom as random } from "../../_seeded_random.ts";

Deno.test("FieldValues: 30,000 random sets and deletes read back exactly, through growth and migrations", () => {
  const next = random(7);
  const values = new FieldValues();
  const reference = new Map<number, string>();
  const lengths = [0, 1, 3, 7, 8, 9, 64, 300, MAX_ARENA_VALUE_BYTES, MAX_ARENA_VALUE_BYTES + 1];
  for (let step = 0; step < 30_000; step++) {
    const at = Math.floor(next() * 500);
    if (next() < 0.2) {
      values.delete(at);
      reference.delete(at);
      continue;
    }
    const length = lengths[Math.floor(next() * lengths.length)];
    const byte = Math.floor(next() * 256);
    const value = String.fromCharCode(byte, 255 - byte).repeat(length).slice(0, length);
    values.set(at, value);
    reference.set(at, value);
    if (step % 997 === 0) {
      for (const [p, v] of reference) {
        assert.equal(values.get(p), v, `position ${p} at step ${step}`);
      }
    }
  }
  for (const [p, v] of reference) assert.equal(values.get(p), v);
  // Dead bytes are reclaimed: with every value deleted, rewriting small ones again and again
  // (~5 MiB in all) migrates the arena when it would take a new page, instead of growing it.
  for (const p of reference.keys()) values.delete(p);
  for (let round = 0; round < 3000; round++) {
    for (let p = 0; p < 100; p++) values.set(p, `${round}`.repeat(1 + (round % 5) * 2));
  }
  assert.ok(
    values.arenaBytes < 2 * BYTE_PAGE_BYTES,
    `${values.arenaBytes} arena bytes for 100 small values`,
  );
  for (let p = 0; p < 100; p++) assert.equal(values.get(p), "2999".repeat(9));
});

Deno.test("FieldValues: a value outgrowing its room moves; a shrunk one stays in place", () => {
  const values = new FieldValues();
  values.set(0, "a");
  values.set(1, "b");
  values.set(0, "a much longer value than before");
  assert.equal(values.get(0), "a much longer value than before");
  assert.equal(values.get(1), "b");
  const arenaBytes = values.arenaBytes;
  values.set(0, "twelve bytes");
  assert.equal(values.get(0), "twelve bytes");
  assert.equal(values.arenaBytes, arenaBytes, "a shrunk value keeps its room");
  values.set(0, "");
  assert.equal(values.get(0), "");
  values.set(0, "x".repeat(MAX_ARENA_VALUE_BYTES + 10)); // held as a string
  assert.equal(values.get(0), "x".repeat(MAX_ARENA_VALUE_BYTES + 10));
  values.set(0, "back in the arena");
  assert.equal(values.get(0), "back in the arena");
});

Deno.test("FieldValues: an empty value at a reused position reads back after the arena migrated", () => {
  const values = new FieldValues();
  values.set(0, "abc in the arena");
  values.delete(0);
  // Churn enough to migrate (and drop the pages the old offset pointed into);
  // values past INLINE_VALUE_BYTES, which take arena room.
  for (let round = 0; round < 3000; round++) {
    for (let p = 1; p < 101; p++) values.set(p, `value ${round}`.repeat(1 + (round % 5) * 2));
  }
  values.set(0, "");
  assert.equal(values.get(0), "");
  values.set(0, "xyz");
  assert.equal(values.get(0), "xyz");
});

Deno.test("FieldValues: values of at most INLINE_VALUE_BYTES set where there is no room take none, and move in and out of the arena", () => {
  const values = new FieldValues();
  const short = "\x00\xff\x80\x7f\x01\xfe\x10\x02".slice(0, INLINE_VALUE_BYTES);
  for (let length = 0; length <= INLINE_VALUE_BYTES; length++) {
    values.set(length, short.slice(0, length));
  }
  assert.equal(values.arenaBytes, 0, "no arena bytes for short values");
  for (let length = 0; length <= INLINE_VALUE_BYTES; length++) {
    assert.equal(values.get(length), short.slice(0, length));
  }
  // Short -> arena -> short -> held as a string -> short, at one position.
  values.set(3, "a value longer than eight bytes");
  assert.equal(values.get(3), "a value longer than eight bytes");
  const arenaBytes = values.arenaBytes;
  assert.ok(arenaBytes > 0);
  // A short value where there is room stays in it (no new room at every other write).
  values.set(3, "9");
  assert.equal(values.get(3), "9");
  values.set(3, "123456789");
  assert.equal(values.get(3), "123456789");
  assert.equal(values.arenaBytes, arenaBytes);
  values.set(3, "y".repeat(MAX_ARENA_VALUE_BYTES + 1));
  assert.equal(values.get(3), "y".repeat(MAX_ARENA_VALUE_BYTES + 1));
  values.set(3, "\xff\xff\xff\xff\xff\xff\xff\xff");
  assert.equal(values.get(3), "\xff\xff\xff\xff\xff\xff\xff\xff");
  values.delete(3);
  values.set(3, "");
  assert.equal(values.get(3), "");
  // The prefetch touch of a short value reads no arena byte.
  assert.equal(values.touch(1), 0);
});
