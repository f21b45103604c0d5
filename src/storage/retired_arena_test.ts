import assert from "node:assert/strict";
import { Engine } from "./engine.ts";
import { Store } from "./store.ts";
import { SNAPSHOT_TYPE_SET } from "../types/set/set.ts";
import { executorRunner } from "../executor/_test_runner.ts";

// A migration of the key table's arena ends at some lookup, and a command
// that read a small set's packed bytes before that lookup (SINTER a b:
// `a`, then `b`) still reads them after it. Until 2026-12-08 the old arena
// was freed (detached) at once, and SINTER answered "Index out of range",
// or nothing; now it is freed when the next command begins.
Deno.test("readers of packed bytes outlive a migration that ends during their command", async () => {
  const engine = new Engine(1);
  const run = executorRunner(new Store(engine, undefined));
  for (let i = 0; i < 5000; i++) engine.set(`f${i}`, "x".repeat(40));
  const members = Array.from({ length: 20 }, (_, i) => `m${i}`);
  await run("SADD", "a", ...members);
  await run("SADD", "b", ...members);
  const intersection = await run("SINTER", "a", "b");
  let retiredMidCommand = 0;
  for (let i = 0; i < 20_000; i++) {
    // Longer values move the filler keys to fresh rooms: the arena grows and migrates.
    engine.set(`f${i % 5000}`, "y".repeat(48 + 8 * Math.floor(i / 5000)));
    for (let j = 0; j < i % 5; j++) engine.get("missing"); // each lookup moves the migration on
    const read = engine.packed("a", SNAPSHOT_TYPE_SET, false)!.bytes;
    const command = i % 2 === 0 ? ["SINTER", "a", "b"] : ["SUNIONSTORE", "d", "a", "b"];
    const reply = await run(...command);
    assert.equal(reply, command[0] === "SINTER" ? intersection : ":20\r\n", `${i}: ${command}`);
    assert.notEqual(read.byteLength, 0, "an arena read in a command is not freed during it");
    await run("PING"); // the next command frees what the last one retired
    if (read.byteLength === 0) retiredMidCommand++;
  }
  assert.ok(retiredMidCommand > 0, "a migration ended during some command");
});
