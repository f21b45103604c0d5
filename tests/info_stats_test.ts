/**
 * INFO stats against redis-server 7.0.15: the fields kvdb gives come in
 * Redis's order, CONFIG RESETSTAT zeroes what Redis's resetServerStats
 * zeroes (expired and evicted keys, connections received, traffic; the
 * instantaneous rates restart rather than go negative), and the clients'
 * input bytes are counted exactly as Redis counts them.
 */

import assert from "node:assert/strict";
import { RespClient, startRedisServer, withServer } from "./_helpers.ts";

function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const at = line.indexOf(":");
    if (at > 0 && !line.startsWith("#")) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

async function stats(port: number): Promise<Map<string, string>> {
  const c = await RespClient.connect(port);
  try {
    return parseInfo(String(await c.call("INFO", "stats")));
  } finally {
    c.close();
  }
}

/**
 * The same session on a server: a key expired, traffic, RESETSTAT, then
 * a fresh connection sending known bytes; INFO stats before and after.
 */
async function session(port: number) {
  const c = await RespClient.connect(port);
  try {
    await c.call("SET", "gone", "v", "PX", "1");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await c.call("GET", "gone"), null);
    for (let i = 0; i < 200; i++) await c.call("SET", `k${i}`, "v");
    // Past at least two 100 ms samples, so the ops rate has counted the SETs.
    await new Promise((r) => setTimeout(r, 300));
    const before = await stats(port);
    await c.call("CONFIG", "RESETSTAT");
    const after = await stats(port);
    // A fresh connection: one 14-byte PING and the INFO request itself.
    const d = await RespClient.connect(port);
    await d.call("PING");
    const traffic = parseInfo(String(await d.call("INFO", "stats")));
    d.close();
    return { before, after, traffic };
  } finally {
    c.close();
  }
}

Deno.test("INFO stats: Redis's fields in Redis's order; RESETSTAT zeroes what Redis zeroes; input bytes counted as Redis counts them", async () => {
  const redis = await startRedisServer();
  let reference: Awaited<ReturnType<typeof session>>;
  try {
    reference = await session(redis.port);
  } finally {
    await redis.stop();
  }
  await withServer({}, async (server) => {
    const kvdb = await session(server.port);
    // Order: kvdb's Redis-named fields are a subsequence of Redis's list.
    const redisOrder = [...reference.after.keys()];
    let at = 0;
    for (const name of kvdb.after.keys()) {
      if (name.startsWith("kvdb_")) continue;
      const found = redisOrder.indexOf(name, at);
      assert.ok(found >= 0, `${name}: not in Redis's INFO stats, or out of Redis's order`);
      at = found + 1;
    }
    for (
      const name of [
        "total_net_input_bytes",
        "total_net_output_bytes",
        "instantaneous_input_kbps",
        "pubsub_channels",
        "total_reads_processed",
        "total_writes_processed",
      ]
    ) {
      assert.ok(kvdb.after.has(name), `kvdb's INFO stats lacks ${name}`);
    }
    for (const [name, value] of [["expired_keys", "1"]]) {
      assert.equal(kvdb.before.get(name), value, `${name} before RESETSTAT`);
      assert.equal(reference.before.get(name), value, `redis's ${name} before RESETSTAT`);
    }
    assert.ok(Number(kvdb.before.get("instantaneous_ops_per_sec")) > 0);
    // After RESETSTAT both answer alike: the INFO connection is the one
    // connection received since, one command (INFO itself) processed.
    for (
      const name of [
        "expired_keys",
        "evicted_keys",
        "total_connections_received",
        "total_commands_processed",
        "keyspace_hits",
        "keyspace_misses",
        "total_error_replies",
        "rejected_connections",
      ]
    ) {
      assert.equal(kvdb.after.get(name), reference.after.get(name), `${name} after RESETSTAT`);
    }
    assert.ok(
      Number(kvdb.after.get("instantaneous_ops_per_sec")) >= 0,
      `instantaneous_ops_per_sec ${kvdb.after.get("instantaneous_ops_per_sec")}`,
    );
    // The fresh connection's bytes: the INFO after RESETSTAT, a PING and
    // this INFO, the same requests to both servers.
    assert.equal(
      kvdb.traffic.get("total_net_input_bytes"),
      reference.traffic.get("total_net_input_bytes"),
      "client input bytes",
    );
    assert.equal(kvdb.traffic.get("total_connections_received"), "2");
  });
});

/**
 * INFO keyspace's avg_ttl on a server: 200 keys with a TTL of 1,000 s and
 * 200 without, then the estimate once the expiry cycle has sampled them;
 * then after FLUSHALL and new keys with a TTL of 100 s.
 */
async function avgTtls(port: number): Promise<number[]> {
  const c = await RespClient.connect(port);
  const avgTtl = async () => {
    const line = parseInfo(String(await c.call("INFO", "keyspace"))).get("db0") ?? "";
    return Number(/avg_ttl=(\d+)/.exec(line)?.[1] ?? -1);
  };
  try {
    for (let i = 0; i < 200; i++) {
      await c.call("SET", `t${i}`, "v", "EX", "1000");
      await c.call("SET", `p${i}`, "v");
    }
    // The expiry cycle runs 10 times a second.
    await new Promise((r) => setTimeout(r, 500));
    const first = await avgTtl();
    await c.call("FLUSHALL");
    for (let i = 0; i < 200; i++) await c.call("SET", `t${i}`, "v", "EX", "100");
    await new Promise((r) => setTimeout(r, 500));
    return [first, await avgTtl()];
  } finally {
    c.close();
  }
}

Deno.test("INFO keyspace avg_ttl: estimated from the expiry cycle's samples as Redis does, and started over by FLUSHALL", async () => {
  const redis = await startRedisServer();
  let reference: number[];
  try {
    reference = await avgTtls(redis.port);
  } finally {
    await redis.stop();
  }
  await withServer({}, async (server) => {
    const kvdb = await avgTtls(server.port);
    for (const [name, [first, second]] of [["redis", reference], ["kvdb", kvdb]] as const) {
      // A running average of ~1,000,000 ms samples starts at the first and stays near it.
      assert.ok(first > 990_000 && first <= 1_000_000, `${name}: avg_ttl ${first}`);
      assert.ok(second > 99_000 && second <= 100_000, `${name}: avg_ttl after FLUSHALL ${second}`);
    }
  });
});
