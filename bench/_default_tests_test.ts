import assert from "node:assert/strict";
import { startRedis } from "./_servers.ts";
import { loadCommands, medianRatio, runTestList, smallHash } from "./_default_tests.ts";
import { stopCpuReader } from "./_server_cpu.ts";

Deno.test("runTestList: a test the server refuses shows its error, and the tests after it still run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-default-tests-" });
  // A redis-server without LPUSH (renamed away) stands for a server missing a command.
  const redis = await startRedis(dir, ["--rename-command", "LPUSH", ""]);
  try {
    const outcomes = await runTestList(redis, ["ping_inline", "set", "lpush", "hset", "get"], {
      requests: 2000,
      clients: 5,
      pipeline: 1,
    });
    assert.deepEqual([...outcomes.keys()].sort(), ["get", "hset", "lpush", "ping_inline", "set"]);
    for (const test of ["ping_inline", "set", "hset", "get"]) {
      const outcome = outcomes.get(test)!;
      assert.ok("rps" in outcome && outcome.rps > 0, `${test}: ${JSON.stringify(outcome)}`);
      // The server's CPU over the test, from its CSV line (2,000 requests: a few ticks at most).
      assert.ok(outcome.cpu.ticks >= 0 && outcome.cpu.totalUs >= 0, JSON.stringify(outcome));
    }
    const refused = outcomes.get("lpush")!;
    assert.ok("error" in refused);
    assert.equal(refused.error, "ERR unknown command 'LPUSH'");
  } finally {
    await stopCpuReader();
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadCommands: replies are all awaited, and the first error reply is returned", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-default-tests-" });
  const redis = await startRedis(dir);
  try {
    assert.equal(await loadCommands(redis.port, 2500, (i) => smallHash(i), 1000), undefined);
    const error = await loadCommands(redis.port, 10, (i) => i === 3 ? ["NOSUCH", "x"] : ["PING"]);
    assert.equal(error, "ERR unknown command 'NOSUCH'");
    const out = new TextDecoder().decode(
      (await new Deno.Command("redis-cli", {
        args: ["-p", String(redis.port), "HGET", "user:00002499", "field4"],
        stdout: "piped",
      }).output()).stdout,
    );
    assert.equal(out.trim(), "value-2499-4");
  } finally {
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("medianRatio: the median over the rows both servers ran", () => {
  assert.deepEqual(
    medianRatio([
      { test: "A", kvdb: 1, redis: 2, ratio: 0.5 },
      { test: "B", kvdb: "kvdb: ERR", redis: 2 },
      { test: "C", kvdb: 3, redis: 2, ratio: 1.5 },
      { test: "D", kvdb: 2, redis: 2, ratio: 1 },
    ]),
    { ratio: 1, of: 3 },
  );
});
