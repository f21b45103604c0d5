import assert from "node:assert/strict";
import { createLogger } from "../log/logger.ts";
import { startActiveExpiry } from "./active_expiry.ts";
import { Engine } from "./engine.ts";
import { Store } from "./store.ts";

const log = createLogger({ level: "warn", output: "stderr" });
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("active expiry waits while a group is open across event-loop turns (a yielded script's), then reclaims", async () => {
  const store = new Store(new Engine(4), undefined);
  const db = store.database(0);
  for (let i = 0; i < 100; i++) db.set(`k${i}`, "v", Date.now() + 20);
  store.beginGroup();
  const stop = startActiveExpiry(store, log, 10);
  try {
    await delay(150);
    assert.equal(store.size, 100, "nothing was deleted inside the open group");
    store.endGroup();
    await delay(150);
    assert.equal(store.size, 0, "the expired keys are reclaimed once it closes");
  } finally {
    stop();
  }
});
