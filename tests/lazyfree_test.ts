/**
 * Lazy free (issue 16): deleting a huge collection — UNLINK, DEL,
 * FLUSHALL ASYNC, FLUSHDB ASYNC of a 1M-field hash — answers at once and
 * does not stall the clients being served meanwhile. kvdb drops the
 * value's references in O(1) (the key table's slot) and V8's concurrent
 * sweeper reclaims the memory, so no walk of the collection runs on the
 * event loop; Redis's DEL of the same hash blocks for about a second.
 *
 * Also MEMORY USAGE of a collection with Redis's SAMPLES: a 1M-field hash
 * is estimated from 5 fields in O(1), in Redis's ballpark.
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

async function fillHash(c: RespClient, key: string): Promise<void> {
  for (let base = 0; base < FIELDS; base += 20 * FIELDS_PER_HSET) {
    const batch: string[][] = [];
    for (let at = base; at < Math.min(FIELDS, base + 20 * FIELDS_PER_HSET); at += FIELDS_PER_HSET) {
      const args = ["HSET", key];
      for (let i = at; i < at + FIELDS_PER_HSET; i++) args.push(`field:${i}`, `value:${i}`);
      batch.push(args);
    }
    await c.pipeline(batch);
  }
  assert.equal(await c.call("HLEN", key), FIELDS);
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

for (const op of [["UNLINK", "big"], ["DEL", "big"], ["FLUSHALL", "ASYNC"], ["FLUSHDB", "ASYNC"]]) {
  Deno.test(`lazy free: ${op.join(" ")} of a 1M-field hash answers at once and stalls no client`, async () => {
    const server = await ServerProcess.start({
      network: { max_message_size: "1MiB", max_connections: 100 },
    });
    const c = await RespClient.connect(server.port);
    try {
      await fillHash(c, "big");
      await c.call("SET", "small", "v");
      const load = getLoad(server.port, GET_CLIENTS);
      await new Promise((r) => setTimeout(r, 300));
      const before = load.latencies.length;
      const t = performance.now();
      await c.call(...op);
      const replyMs = performance.now() - t;
      await new Promise((r) => setTimeout(r, 1000));
      await load.stop();
      const after = load.latencies.slice(before).sort((a, b) => a - b);
      console.log(
        `${op.join(" ")}: reply ${replyMs.toFixed(1)} ms; ${after.length} GETs after it: ` +
          `p50 ${percentile(after, 0.5).toFixed(1)} ms, p99.9 ${
            percentile(after, 0.999).toFixed(1)
          } ms, ` +
          `max ${after[after.length - 1].toFixed(1)} ms`,
      );
      assert.equal(await c.call("EXISTS", "big"), 0);
      assert.ok(replyMs < DELETE_REPLY_BOUND_MS, `${op.join(" ")} took ${replyMs.toFixed(1)} ms`);
      assert.ok(after.length > 0, "GETs were served after the delete");
      assert.ok(
        after[after.length - 1] < GET_STALL_BOUND_MS,
        `a GET waited ${after[after.length - 1].toFixed(1)} ms`,
      );
    } finally {
      c.close();
      await server.stop();
    }
  });
}

Deno.test("MEMORY USAGE of a 1M-field hash: sampled (SAMPLES 5 by default, 0 for all), Redis's ballpark, fast", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "1MiB" } });
  const c = await RespClient.connect(server.port);
  try {
    await fillHash(c, "big");
    // The fastest of 5 calls each: the sampled estimate reads 5 fields, SAMPLES 0 all.
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
    console.log(
      `MEMORY USAGE big: ${sampled} in ${sampledMs.toFixed(1)} ms; SAMPLES 0: ${full} in ${
        fullMs.toFixed(1)
      } ms (redis-server 7.0.15: 64388712)`,
    );
    // Redis 7.0.15 answers 64388712 for this hash.
    for (const bytes of [sampled, full]) {
      assert.ok(bytes > 64388712 / 2 && bytes < 64388712 * 2, `${bytes} bytes`);
    }
    assert.ok(Math.abs(sampled - full) / full < 0.05, `sampled ${sampled} vs ${full}`);
    assert.ok(
      sampledMs < fullMs / 3,
      `sampling (${sampledMs} ms) does not walk the hash as SAMPLES 0 does (${fullMs} ms)`,
    );
    assert.equal(
      JSON.stringify(await c.call("MEMORY", "USAGE", "big", "SAMPLES", "-1")),
      JSON.stringify(await c.call("MEMORY", "USAGE", "nokey", "SAMPLES", "-1")),
    );
  } finally {
    c.close();
    await server.stop();
  }
});
