/**
 * Lazy free (issue 16): deleting a huge collection — UNLINK, DEL,
 * FLUSHALL ASYNC, FLUSHDB ASYNC of a 1M-field hash, UNLINK of a 1M-element
 * list, set and sorted set — answers at once and
 * does not stall the clients being served meanwhile. kvdb drops the
 * value's references in O(1) (the key table's slot) and V8's concurrent
 * sweeper reclaims the memory, so no walk of the collection runs on the
 * event loop; Redis's DEL of the same hash blocks for about a second.
 *
 * Also MEMORY USAGE of a collection with Redis's SAMPLES: a 1M-member
 * sorted set is estimated from 5 members in O(1), a 1M-field hash and a
 * 1M-member set are measured exactly in O(1) (their tables keep their byte
 * counts), all in Redis's ballpark.
 */

import assert from "node:assert/strict";
import { RespClient, ServerProcess } from "./_helpers.ts";

const FIELDS = 1_000_000;
const FIELDS_PER_HSET = 1000;
/** The delete must answer within this (Redis's DEL of the same hash: ~1 s; UNLINK: ~5 ms). */
const DELETE_REPLY_BOUND_MS = 250;
/**
 * No GET may wait longer than this while the free runs (a loaded shared
 * machine sees GC pauses of a few hundred ms; a synchronous free of 1M
 * fields stalls for seconds).
 */
const GET_STALL_BOUND_MS = 1500;
const GET_CLIENTS = 20;

/** Fills `key` with a 1M-element collection of `type`, 1000 elements a command, 20 in flight. */
async function fill(c: RespClient, type: "hash" | "list" | "set" | "zset", key: string) {
  for (let base = 0; base < FIELDS; base += 20 * FIELDS_PER_HSET) {
    const batch: string[][] = [];
    for (let at = base; at < Math.min(FIELDS, base + 20 * FIELDS_PER_HSET); at += FIELDS_PER_HSET) {
      const args = [{ hash: "HSET", list: "RPUSH", set: "SADD", zset: "ZADD" }[type], key];
      for (let i = at; i < at + FIELDS_PER_HSET; i++) {
        if (type === "hash") args.push(`field:${i}`, `value:${i}`);
        else if (type === "zset") args.push(`${i}`, `member:${i}`);
        else args.push(`element:${i}`);
      }
      batch.push(args);
    }
    await c.pipeline(batch);
  }
  const length = { hash: "HLEN", list: "LLEN", set: "SCARD", zset: "ZCARD" }[type];
  assert.equal(await c.call(length, key), FIELDS);
}

/** GET loops on `clients` connections until stopped: every reply's latency, ms. */
function getLoad(port: number, clients: number) {
  const latencies: number[] = [];
  let stopping = false;
  const loops = Array.from({ length: clients }, async () => {
    const c = await RespClient.connect(port);
    while (!stopping) {
      const t = performance.now();
      // FLUSHALL/FLUSHDB take "small" too: a nil is as good an answer.
      await c.call("GET", "small");
      latencies.push(performance.now() - t);
    }
    c.close();
  });
  return {
    latencies,
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * Runs `op` on a connection while GET_CLIENTS clients GET, and checks
 * that it answered at once and stalled none of them.
 */
async function deleteUnderLoad(port: number, c: RespClient, op: string[], what: string) {
  const load = getLoad(port, GET_CLIENTS);
  await new Promise((r) => setTimeout(r, 300));
  const before = load.latencies.length;
  const t = performance.now();
  await c.call(...op);
  const replyMs = performance.now() - t;
  await new Promise((r) => setTimeout(r, 1000));
  await load.stop();
  const after = load.latencies.slice(before).sort((a, b) => a - b);
  console.log(
    `${op.join(" ")} of ${what}: reply ${replyMs.toFixed(1)} ms; ${after.length} GETs after it: ` +
      `p50 ${percentile(after, 0.5).toFixed(1)} ms, p99.9 ${
        percentile(after, 0.999).toFixed(1)
      } ms, ` +
      `max ${after[after.length - 1].toFixed(1)} ms`,
  );
  assert.ok(replyMs < DELETE_REPLY_BOUND_MS, `${op.join(" ")} took ${replyMs.toFixed(1)} ms`);
  assert.ok(after.length > 0, "GETs were served after the delete");
  assert.ok(
    after[after.length - 1] < GET_STALL_BOUND_MS,
    `a GET waited ${after[after.length - 1].toFixed(1)} ms`,
  );
}

/** Redis 7.0.15's MEMORY USAGE (SAMPLES 0) of the collections `fill` makes. */
const REDIS_MEMORY_USAGE = { hash: 64388712, set: 48388712, zset: 101728496 };

/**
 * MEMORY USAGE of the 1M-element `big` with Redis's SAMPLES: the sampled
 * estimate (5 elements, O(1)) near the full walk (SAMPLES 0), both in
 * Redis's ballpark, and much faster.
 */
async function checkMemoryUsage(c: RespClient, type: "hash" | "set" | "zset") {
  // The fastest of 5 calls each: the sampled estimate reads 5 elements, SAMPLES 0 all.
  let sampled = 0;
  let full = 0;
  let sampledMs = Infinity;
  let fullMs = Infinity;
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    sampled = await c.call("MEMORY", "USAGE", "big") as number;
    sampledMs = Math.min(sampledMs, performance.now() - t);
    t = performance.now();
    full = await c.call("MEMORY", "USAGE", "big", "SAMPLES", "0") as number;
    fullMs = Math.min(fullMs, performance.now() - t);
  }
  const redis = REDIS_MEMORY_USAGE[type];
  console.log(
    `MEMORY USAGE of a 1M-element ${type}: ${sampled} in ${sampledMs.toFixed(1)} ms; ` +
      `SAMPLES 0: ${full} in ${fullMs.toFixed(1)} ms (redis-server 7.0.15: ${redis})`,
  );
  for (const bytes of [sampled, full]) {
    assert.ok(bytes > redis / 2 && bytes < redis * 2, `${bytes} bytes`);
  }
  assert.ok(Math.abs(sampled - full) / full < 0.05, `sampled ${sampled} vs ${full}`);
  if (type !== "zset") {
    // A big hash or set keeps its byte counts: measured whole, exactly, without a walk
    // (a walk of 1M elements makes 1M strings: tens of ms).
    assert.equal(sampled, full);
    assert.ok(fullMs < 5, `MEMORY USAGE of the ${type} took ${fullMs} ms: it walked it`);
  } else {
    assert.ok(
      sampledMs < fullMs / 3,
      `sampling (${sampledMs} ms) does not walk the ${type} as SAMPLES 0 does (${fullMs} ms)`,
    );
  }
  assert.equal(
    JSON.stringify(await c.call("MEMORY", "USAGE", "big", "SAMPLES", "-1")),
    JSON.stringify(await c.call("MEMORY", "USAGE", "nokey", "SAMPLES", "-1")),
  );
}

/** One server filled once per type: filling 1M elements is most of this file's time. */
async function withBig(
  type: "hash" | "list" | "set" | "zset",
  body: (port: number, c: RespClient) => Promise<void>,
) {
  const server = await ServerProcess.start({
    network: { max_message_size: "1MiB", max_connections: 100 },
  });
  const c = await RespClient.connect(server.port);
  try {
    await fill(c, type, "big");
    await c.call("SET", "small", "v");
    await body(server.port, c);
  } finally {
    c.close();
    await server.stop();
  }
}

Deno.test("lazy free: UNLINK, DEL, FLUSHDB ASYNC, MEMORY USAGE, FLUSHALL ASYNC of a 1M-field hash answer at once and stall no client", async (t) => {
  await withBig("hash", async (port, c) => {
    for (const op of [["UNLINK", "victim"], ["DEL", "victim"]]) {
      await t.step(op[0], async () => {
        await c.call("COPY", "big", "victim", "REPLACE");
        await deleteUnderLoad(port, c, op, "a 1M-field hash");
        assert.equal(await c.call("EXISTS", "victim"), 0);
      });
    }
    await t.step("FLUSHDB ASYNC", async () => {
      await c.call("COPY", "big", "victim", "DB", "1");
      await c.call("SELECT", "1");
      await deleteUnderLoad(port, c, ["FLUSHDB", "ASYNC"], "a 1M-field hash");
      assert.equal(await c.call("DBSIZE"), 0);
      await c.call("SELECT", "0");
      assert.equal(await c.call("HLEN", "big"), FIELDS);
    });
    await t.step("MEMORY USAGE", () => checkMemoryUsage(c, "hash"));
    await t.step("FLUSHALL ASYNC", async () => {
      await deleteUnderLoad(port, c, ["FLUSHALL", "ASYNC"], "a 1M-field hash");
      assert.equal(await c.call("DBSIZE"), 0);
    });
  });
});

for (const type of ["list", "set", "zset"] as const) {
  Deno.test(`lazy free: ${type === "list" ? "" : "MEMORY USAGE, then "}UNLINK of a 1M-element ${type} answers at once and stalls no client`, async (t) => {
    await withBig(type, async (port, c) => {
      if (type !== "list") await t.step("MEMORY USAGE", () => checkMemoryUsage(c, type));
      await t.step("UNLINK", async () => {
        await deleteUnderLoad(port, c, ["UNLINK", "big"], `a 1M-element ${type}`);
        assert.equal(await c.call("EXISTS", "big"), 0);
      });
    });
  });
}
