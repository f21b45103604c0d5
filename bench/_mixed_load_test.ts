import assert from "node:assert/strict";
import { startRedis } from "./_servers.ts";
import { mixedBenchmark } from "./_mixed_load.ts";
import { stopCpuReader } from "./_server_cpu.ts";

async function typeOf(port: number, key: string): Promise<string> {
  const out = await new Deno.Command("redis-cli", { args: ["-p", String(port), "TYPE", key] })
    .output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("mixedBenchmark: the five commands run against one server, all requests counted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-mixed-load-" });
  const redis = await startRedis(dir);
  try {
    const result = await mixedBenchmark(redis, { requests: 2500, clients: 5 });
    assert.ok(result.rps > 0 && Number.isFinite(result.rps), JSON.stringify(result));
    assert.ok(result.p50Ms > 0 && result.p99Ms >= result.p50Ms, JSON.stringify(result));
    assert.ok(result.cpu.ticks >= 0, JSON.stringify(result.cpu));
    // redis-benchmark's own keys for LPUSH, HSET and ZADD: each command reached the server.
    assert.equal(await typeOf(redis.port, "mylist"), "list");
    assert.equal(await typeOf(redis.port, "myhash"), "hash");
    assert.equal(await typeOf(redis.port, "myzset"), "zset");
    await assert.rejects(mixedBenchmark(redis, { requests: 2501, clients: 5 }), /splits/);
  } finally {
    await stopCpuReader();
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
