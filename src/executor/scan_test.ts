import assert from "node:assert/strict";
import { Engine } from "../storage/engine.ts";
import { scan } from "./scan.ts";

Deno.test("scan: keys present for the whole walk come back exactly once, whatever changes between calls", () => {
  const engine = new Engine(16);
  for (let i = 0; i < 5000; i++) engine.set(`stable:${i}`, "x");
  const seen = new Map<string, number>();
  let cursor = 0;
  let calls = 0;
  let churn = 0;
  do {
    cursor = scan(engine, cursor, 7, (key) => seen.set(key, (seen.get(key) ?? 0) + 1));
    // Between calls: new keys, deletes, overwrites that move values.
    for (let j = 0; j < 5; j++) {
      engine.set(`churn:${churn}`, "y".repeat(churn % 200));
      engine.delete(`churn:${churn - 40}`);
      churn++;
    }
    engine.set(`stable:${calls % 5000}`, "z".repeat(100 + (calls % 300)));
    assert.ok(++calls < 10_000, "the walk ends");
  } while (cursor !== 0);
  for (let i = 0; i < 5000; i++) assert.equal(seen.get(`stable:${i}`), 1, `stable:${i}`);
});

Deno.test("scan: a cursor past the keyspace ends the walk; an empty keyspace is one call", () => {
  const engine = new Engine(4);
  assert.equal(scan(engine, 0, 10, () => assert.fail("no keys")), 0);
  engine.set("a", "1");
  assert.equal(scan(engine, 2 ** 50, 10, () => assert.fail("past the end")), 0);
  const keys: string[] = [];
  assert.equal(scan(engine, 0, 10, (k) => keys.push(k)), 0);
  assert.deepEqual(keys, ["a"]);
});
