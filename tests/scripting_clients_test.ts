/**
 * Client libraries' scripting helpers, unchanged, against redis-server
 * first and then kvdb (tests/_real_clients.ts; issue 19 point 5): ioredis's
 * `defineCommand` (EVALSHA, falling back to EVAL on NOSCRIPT) for a rate
 * limiter and a compare-and-delete, and redis-py's `Lock` (acquire,
 * contention, extend, release, release by a non-owner), whose release
 * and extend are Lua scripts run with EVALSHA.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { ensureDebianPackage } from "./_debian.ts";
import { realClientTest, type Scenario, within } from "./_real_clients.ts";

const PYTHON = "/usr/bin/python3";

/** redis-py's Lock, as an application holds it (argv: port). */
const LOCK_SCENARIO = `
import sys, redis
from redis.exceptions import LockError, LockNotOwnedError
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]))
lock = r.lock("resource", timeout=10)
assert lock.acquire(blocking=False)
other = r.lock("resource", timeout=10)
assert not other.acquire(blocking=False)
assert lock.owned()
assert lock.extend(20)
assert 20000 < r.pttl("resource") <= 30000, r.pttl("resource")
assert lock.reacquire()
try:
    other.release()
    raise AssertionError("a lock not held was released")
except LockError:
    pass
lock.release()
assert r.get("resource") is None
assert other.acquire(blocking=True, blocking_timeout=2)
r.set("resource", "stolen")
try:
    other.release()
    raise AssertionError("a lock taken over was released")
except LockNotOwnedError:
    pass
assert r.get("resource") == b"stolen"
print("ok")
`;

async function hasRedisPy(): Promise<boolean> {
  try {
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", "import redis"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function ioredis(port: number): Promise<Redis> {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  await within(client.connect(), 10_000, "ioredis connect");
  return client;
}

type Scripted = Redis & {
  limit(key: string, max: number, windowS: number): Promise<number>;
  compareAndDelete(key: string, expected: string): Promise<number>;
};

const SCENARIOS: Record<string, Scenario> = {
  "ioredis defineCommand: a rate limiter and compare-and-delete": async (server) => {
    const client = await ioredis(server.port) as Scripted;
    try {
      client.defineCommand("limit", {
        numberOfKeys: 1,
        lua: `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then return 0 end
return n`,
      });
      client.defineCommand("compareAndDelete", {
        numberOfKeys: 1,
        lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
      });
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) seen.push(await client.limit("rate:user", 3, 60));
      assert.deepEqual(seen, [1, 2, 3, 0, 0]);
      const ttl = await client.ttl("rate:user");
      assert.ok(ttl > 0 && ttl <= 60, String(ttl));
      // In a pipeline too (ioredis sends EVALSHA, then EVAL for the unknown ones).
      const pipeline = client.pipeline() as unknown as {
        limit(key: string, max: number, windowS: number): typeof pipeline;
        exec(): Promise<[Error | null, unknown][]>;
      };
      const replies = await pipeline.limit("rate:other", 1, 60).limit("rate:other", 1, 60).exec();
      assert.deepEqual(replies, [[null, 1], [null, 0]]);
      await client.set("owner", "me");
      assert.equal(await client.compareAndDelete("owner", "you"), 0);
      assert.equal(await client.compareAndDelete("owner", "me"), 1);
      assert.equal(await client.exists("owner"), 0);
    } finally {
      client.disconnect();
    }
  },
  "redis-py Lock: acquire, contention, extend, release": async (server) => {
    await ensureDebianPackage("python3-redis", hasRedisPy);
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", LOCK_SCENARIO, String(server.port)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success && text.trim() === "ok", text);
  },
};

realClientTest("scripting clients: ioredis defineCommand, redis-py Lock", {
  scenarios: SCENARIOS,
  knownGaps: {},
});
