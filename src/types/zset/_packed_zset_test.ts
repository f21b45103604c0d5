import assert from "node:assert/strict";
import { Engine } from "../../storage/engine.ts";
import { Rng } from "../../../tests/_generate.ts";
import { SNAPSHOT_TYPE_ZSET, ZsetValue } from "./zset.ts";
import { PackedZset, removePackedMember, setPackedScore } from "./_packed_zset.ts";
import { readScoreBytes, writeScoreBytes } from "./score.ts";

/** Members that tie on score and share prefixes, binary ones among them. */
function member(r: Rng): string {
  return r.pick(["a", "ab", "b", "", "\x00", "\xff", "m1", "m10", "m2", "zz"]) +
    (r.int(0, 3) === 0 ? String(r.int(0, 40)) : "");
}

/** A score among few values (ties), signed zeros and infinities included. */
function score(r: Rng): number {
  return r.pick([0, -0, 1, 1.5, -2, 3, Infinity, -Infinity, r.int(-5, 5)]);
}

/** The sorted set's (member, score) pairs in order. */
function pairs(zset: ZsetValue): [string, number][] {
  const out: [string, number][] = [];
  zset.walk(0, false, (m, s) => {
    out.push([m, s]);
    return true;
  });
  return out;
}

Deno.test("setPackedScore keeps a sorted set held inline in Redis's order, as ZsetValue.set does", () => {
  const r = new Rng(5);
  const engine = new Engine(1);
  const model = new ZsetValue();
  model.set("seed", 0);
  engine.setCollection("z", model.clone());
  let inPlace = 0;
  for (let step = 0; step < 5000; step++) {
    const m = member(r);
    const s = score(r);
    const held = model.score(m) !== undefined;
    if (r.int(0, 3) === 0 && model.length > 1) {
      assert.equal(removePackedMember(engine, "z", m), held ? 1 : 0);
      model.delete(m);
      assert.deepEqual(pairs(engine.get("z") as ZsetValue), pairs(model), `step ${step}`);
      continue;
    }
    const result = setPackedScore(engine, "z", m, s);
    if (result < 0) {
      // Only a new member past the listpack's limits is refused.
      assert.equal(held, false);
      continue;
    }
    inPlace++;
    assert.equal(result, held ? 0 : 1);
    model.set(m, s);
    const view = engine.packed("z", SNAPSHOT_TYPE_ZSET);
    assert.notEqual(view, undefined);
    const stored = engine.get("z") as ZsetValue;
    assert.deepEqual(pairs(stored), pairs(model), `step ${step}`);
    const reader = new PackedZset(engine.packed("z", SNAPSHOT_TYPE_ZSET)!);
    assert.equal(reader.length, model.length);
    assert.equal(reader.score(m), model.score(m));
    assert.equal(reader.score("never"), undefined);
  }
  assert.ok(inPlace > 1500, `${inPlace} applied in place`);
});

Deno.test("setPackedScore refuses what must convert and what is not held inline", () => {
  const engine = new Engine(1);
  assert.equal(setPackedScore(engine, "none", "m", 1), -1);
  const zset = new ZsetValue();
  for (let i = 0; i < 128; i++) zset.set(`m${i}`, i);
  engine.setCollection("z", zset);
  // A 129th member makes it a skiplist; an update does not.
  assert.equal(setPackedScore(engine, "z", "new", 1), -1);
  assert.equal(setPackedScore(engine, "z", "m5", 1000), 0);
  assert.equal((engine.get("z") as ZsetValue).rank("m5"), 127);
  // A member longer than zset-max-listpack-value (64) converts too.
  engine.delete("z");
  const small = new ZsetValue();
  small.set("a", 1);
  engine.setCollection("s", small);
  assert.equal(setPackedScore(engine, "s", "x".repeat(65), 1), -1);
  assert.equal(setPackedScore(engine, "s", "x".repeat(64), 1), 1);
  // -0 is kept as 0, as Redis's listpack keeps it.
  assert.equal(setPackedScore(engine, "s", "z", -0), 1);
  assert.ok(Object.is((engine.get("s") as ZsetValue).score("z"), 0));
  // The last member takes the key with it.
  for (const m of ["a", "x".repeat(64), "z"]) assert.equal(removePackedMember(engine, "s", m), 1);
  assert.equal(engine.get("s"), undefined);
  assert.equal(removePackedMember(engine, "s", "a"), -1);
});

Deno.test("PackedZset reads ranks, walks and counts as the sorted set's object does", () => {
  const r = new Rng(9);
  for (let round = 0; round < 200; round++) {
    const engine = new Engine(1);
    const model = new ZsetValue();
    const size = r.int(1, 128);
    for (let i = 0; i < size; i++) model.set(member(r) + i, score(r));
    engine.setCollection("z", model.clone());
    const view = engine.packed("z", SNAPSHOT_TYPE_ZSET);
    assert.notEqual(view, undefined, "a small sorted set is held inline");
    const reader = new PackedZset(view!);
    assert.equal(reader.length, model.length);
    assert.equal(reader.positions, model.positions);
    assert.equal(reader.encoding(), model.encoding());
    assert.deepEqual(reader.entries(), model.entries());
    for (let rank = -1; rank <= model.length; rank++) {
      for (const reverse of [false, true]) {
        const read: [string, number][] = [];
        const want: [string, number][] = [];
        const stopAfter = r.int(1, 200);
        reader.walk(rank, reverse, (m, s) => read.push([m, s]) < stopAfter);
        model.walk(rank, reverse, (m, s) => want.push([m, s]) < stopAfter);
        assert.deepEqual(read, want, `walk from ${rank}, reverse ${reverse}`);
      }
      assert.equal(reader.memberAt(rank), model.memberAt(rank));
    }
    for (const [m] of model.entries()) assert.equal(reader.rank(m), model.rank(m));
    assert.equal(reader.rank("never"), undefined);
    for (const bound of [-Infinity, -2, 0, 1, 1.5, 3, Infinity]) {
      const below = (s: number) => s < bound;
      const upTo = (s: number) => s <= bound;
      assert.equal(reader.countBeforeScore(below), model.countBeforeScore(below));
      assert.equal(reader.countBeforeScore(upTo), model.countBeforeScore(upTo));
      const lex = (s: number, m: string) => s < bound || (s === bound && m < "m1");
      assert.equal(reader.countBefore(lex), model.countBefore(lex));
    }
  }
});

Deno.test("readScoreBytes reads each array's current bytes, whichever it read last", () => {
  const a = new Uint8Array(24);
  const b = new Uint8Array(new ArrayBuffer(40), 8, 24);
  writeScoreBytes(1.5, a, 3);
  writeScoreBytes(-Infinity, b, 7);
  assert.equal(readScoreBytes(a, 3), 1.5);
  assert.equal(readScoreBytes(b, 7), -Infinity);
  writeScoreBytes(2 ** 60, a, 3); // the same array, changed since its last read
  assert.equal(readScoreBytes(a, 3), 2 ** 60);
  assert.equal(readScoreBytes(b, 7), -Infinity);
});
