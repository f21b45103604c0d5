import assert from "node:assert/strict";
import { Engine } from "./engine.ts";
import { Store } from "./store.ts";

// BullMQ keeps a key or two with a TTL at all times (its stalled-check key,
// job locks): a slice walked every (database, partition) once per check,
// 2000 times a tick, and an idle server holding one such key spent ~8% of a
// core on it.
Deno.test("a background expiry slice checks each key with a TTL at most once: one such key costs one walk", () => {
  const engines = Array.from({ length: 16 }, () => new Engine(16));
  const store = new Store(engines, undefined);
  store.database(3).set("lock", "v", Date.now() + 60_000);
  let visits = 0;
  for (const engine of engines) {
    const partition = engine.partition.bind(engine);
    engine.partition = (index: number) => {
      visits++;
      return partition(index);
    };
  }
  assert.equal(store.expireSome(2000), 0);
  assert.ok(visits <= 2 * 16 * 16, `${visits} partition walks to check one key`);
  store.database(5).set("due", "v", Date.now() - 1);
  assert.equal(store.expireSome(2000), 1, "a key past its time is still found");
});
