import assert from "node:assert/strict";
import { bytesToBinary } from "../../bytes/binary_string.ts";
import { newSession } from "../../executor/command_spec.ts";
import { OutBuffer } from "../../protocol/out_buffer.ts";
import { RespReplyWriter } from "../../protocol/resp_writer.ts";
import { Engine } from "../../storage/engine.ts";
import { Rng } from "../../../tests/_generate.ts";
import { SetValue, SNAPSHOT_TYPE_SET } from "./set.ts";
import { addPackedMember, PackedSet, removePackedMember } from "./_packed_set.ts";

/** Integers of several signs and widths, and now and then a word (which makes a hashtable). */
function member(r: Rng, words: boolean): string {
  if (words && r.int(0, 9) === 0) return r.pick(["a", "b", "", "\xff", "w".repeat(r.int(1, 70))]);
  return String(r.pick([1, -1, 10, -10, 1000]) * r.int(0, 40));
}

/** Runs random adds and removes on a set held inline and on a model; how many were done in place. */
function run(r: Rng, words: boolean, steps: number): number {
  const engine = new Engine(1);
  const model = SetValue.of(["5"]);
  engine.setCollection("s", SetValue.of(["5"]));
  let inPlace = 0;
  for (let step = 0; step < steps; step++) {
    const m = member(r, words);
    const held = model.has(m);
    if (r.int(0, 2) === 0 && model.length > 1) {
      assert.equal(removePackedMember(engine, "s", m), held ? 1 : 0);
      model.delete(m);
    } else {
      const result = addPackedMember(engine, "s", m);
      if (result < 0) {
        // Refused: a new member that would convert the set. Go on with a fresh one.
        assert.equal(held, false);
        continue;
      }
      assert.equal(result, held ? 0 : 1);
      model.add(m);
    }
    inPlace++;
    const stored = engine.get("s") as SetValue;
    assert.deepEqual(stored.members(), model.members(), `step ${step}`);
    assert.equal(stored.encoding(), model.encoding());
    const reader = new PackedSet(engine.packed("s", SNAPSHOT_TYPE_SET)!);
    assert.equal(reader.length, model.length);
    assert.equal(reader.has(m), model.has(m));
    const out = new OutBuffer();
    reader.writeMembers(new RespReplyWriter(out, newSession()));
    assert.equal(
      bytesToBinary(out.view()),
      model.members().map((x) => `$${x.length}\r\n${x}\r\n`).join(""),
    );
  }
  return inPlace;
}

Deno.test("addPackedMember and removePackedMember keep an intset held inline in numeric order", () => {
  assert.ok(run(new Rng(3), false, 3000) > 2000);
});

Deno.test("a hashtable held inline keeps its members in the order they came, as SetValue does", () => {
  const engine = new Engine(1);
  const model = SetValue.of(["x", "y"]);
  engine.setCollection("s", SetValue.of(["x", "y"]));
  const r = new Rng(9);
  for (let step = 0; step < 2000; step++) {
    const m = `m${r.int(0, 60)}`;
    if (r.int(0, 1) === 0) {
      assert.equal(addPackedMember(engine, "s", m), model.add(m) ? 1 : 0);
    } else if (model.length > 1) {
      assert.equal(removePackedMember(engine, "s", m), model.delete(m) ? 1 : 0);
    }
    assert.deepEqual((engine.get("s") as SetValue).members(), model.members(), `step ${step}`);
  }
});

Deno.test("a member that would convert the set is refused, and the last one takes the key", () => {
  const r = new Rng(4);
  // Words turn an intset into a hashtable: refused here, left to SetValue.
  run(r, true, 500);
  const engine = new Engine(1);
  engine.setCollection("s", SetValue.of(["1", "2"]));
  assert.equal(addPackedMember(engine, "s", "a"), -1);
  assert.equal(addPackedMember(engine, "none", "1"), -1);
  const many = SetValue.of(Array.from({ length: 128 }, (_, i) => `m${i}`));
  engine.setCollection("h", many);
  assert.equal(addPackedMember(engine, "h", "one more"), -1);
  assert.equal(addPackedMember(engine, "h", "m7"), 0);
  engine.setCollection("w", SetValue.of(["a"]));
  assert.equal(addPackedMember(engine, "w", "x".repeat(65)), -1);
  assert.equal(removePackedMember(engine, "w", "b"), 0);
  assert.equal(removePackedMember(engine, "w", "a"), 1);
  assert.equal(engine.get("w"), undefined);
  assert.equal(removePackedMember(engine, "w", "a"), -1);
});

Deno.test("PackedSet reads members by position, in order and at random as SetValue does", () => {
  const r = new Rng(21);
  let read = 0;
  for (let round = 0; round < 100; round++) {
    const words = round % 2 === 0;
    const model = new SetValue();
    const size = r.int(1, words ? 120 : 500);
    for (let i = 0; i < size; i++) model.add(member(r, words));
    const engine = new Engine(1);
    engine.setCollection("s", model.clone());
    const view = engine.packed("s", SNAPSHOT_TYPE_SET);
    if (view === undefined) continue; // past the inline limits
    const reader = new PackedSet(view);
    assert.equal(reader.indexed, false);
    assert.deepEqual(reader.members(), model.members());
    for (let at = 0; at < model.length; at++) assert.equal(reader.memberAt(at), model.memberAt(at));
    const seen: string[] = [];
    reader.forEach((m) => seen.push(m) < 3);
    assert.deepEqual(seen, model.members().slice(0, 3));
    assert.ok(model.has(reader.randomMember()));
    read++;
  }
  assert.ok(read > 50, `${read} of 100 sets held inline`);
});
