import assert from "node:assert/strict";
import { distinctArgs, ScratchIndex } from "./_scratch_index.ts";

Deno.test("scratch index: a reset empties it, growth and shrinking keep answers exact (a Map as the model)", () => {
  const index = new ScratchIndex();
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  // Command sizes from 1 to 20,000 keys, back and forth: grows, shrinks, reuses generations.
  for (const keys of [1, 5, 40, 20_000, 3, 33, 5000, 2, 64, 1]) {
    const model = new Map<string, number>();
    index.reset(keys);
    for (let i = 0; i < keys; i++) {
      // Repeats among the keys (a member named twice), and names shared with earlier commands.
      const key = `m${Math.floor(random() * keys * 1.5)}`;
      assert.equal(index.get(key), model.get(key));
      assert.equal(index.has(key), model.has(key));
      index.set(key, i);
      model.set(key, i);
    }
    for (const [key, value] of model) assert.equal(index.get(key), value);
    assert.equal(index.get("absent"), undefined);
  }
  // Past 2^32 - 1 generations the stamps restart: simulated by many resets.
  for (let i = 0; i < 1000; i++) index.reset(1);
  index.set("x", 7);
  assert.equal(index.get("x"), 7);
  index.reset(1);
  assert.equal(index.has("x"), false);
});

Deno.test("distinctArgs: each argument once from `from` on, first-seen order, filtered; again after a bigger call", () => {
  assert.deepEqual(distinctArgs(["SREM", "s", "a", "b", "a", "c", "b"], 2, () => true), [
    "a",
    "b",
    "c",
  ]);
  assert.deepEqual(distinctArgs(["HDEL", "h", "x", "y", "x"], 2, (f) => f !== "x"), ["y"]);
  const many = Array.from({ length: 5000 }, (_, i) => `m${i % 1234}`);
  assert.equal(distinctArgs(["ZREM", "z", ...many], 2, () => true).length, 1234);
  // Nothing of an earlier call is seen by a later one.
  assert.deepEqual(distinctArgs(["SADD", "s", "m1", "m1"], 2, () => true), ["m1"]);
});
