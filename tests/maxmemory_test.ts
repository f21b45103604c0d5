/**
 * maxmemory (issue 18, points 1–3 and 5): a cache that must not outgrow its
 * limit, -OOM under noeviction, evictions logged as deletes (a restart and
 * a replica follow them), the settings through YAML and CONFIG, and a
 * dataset over the limit at start-up. Real servers over TCP.
 */

import assert from "node:assert/strict";
import {
  delay,
  infoSection,
  replicatedConfigs,
  RespClient,
  RespError,
  RespStatus,
  rssBytes,
  ServerProcess,
  walConfig,
  withServer,
} from "./_helpers.ts";

const MIB = 1024 * 1024;
const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** Sends `count` SETs of `valueBytes`-byte values in pipelined batches; every reply must be OK. */
async function fill(
  client: RespClient,
  count: number,
  valueBytes: number,
  options: { prefix?: string; batch?: number; each?: (done: number) => Promise<void> } = {},
): Promise<void> {
  const value = "v".repeat(valueBytes);
  const batch = options.batch ?? 1000;
  for (let at = 0; at < count; at += batch) {
    const commands: string[][] = [];
    for (let i = at; i < Math.min(count, at + batch); i++) {
      commands.push(["SET", `${options.prefix ?? "key:"}${i}`, value]);
    }
    const replies = await client.pipeline(commands);
    for (const [i, reply] of replies.entries()) {
      assert.ok(
        reply instanceof RespStatus && reply.text === "OK",
        `SET ${at + i}: ${JSON.stringify(reply)}`,
      );
    }
    await options.each?.(at + commands.length);
  }
}

async function usedMemory(client: RespClient): Promise<number> {
  return Number((await infoSection(client, "memory")).get("used_memory"));
}

/** used_memory minus what Redis and kvdb leave out of the maxmemory check (the backlog, the WAL's batch). */
async function countedMemory(client: RespClient): Promise<number> {
  const memory = await infoSection(client, "memory");
  return Number(memory.get("used_memory")) - Number(memory.get("mem_not_counted_for_evict"));
}

Deno.test("maxmemory 64mb allkeys-lru: 400k writes of 1 KB all succeed, used_memory within 1.1x and RSS within 2.5x + 100 MB", async () => {
  const limit = 64 * MIB;
  await withServer(
    { memory: { maxmemory: "64MiB", maxmemory_policy: "allkeys-lru" } },
    async (server) => {
      const client = await RespClient.connect(server.port);
      try {
        let maxUsed = 0;
        let maxRss = 0;
        await fill(client, 400_000, 1024, {
          // Sampled along the way, not only at the end.
          each: async (done) => {
            if (done % 20_000 !== 0) return;
            maxRss = Math.max(maxRss, rssBytes(server.child.pid));
            maxUsed = Math.max(maxUsed, await usedMemory(client));
          },
        });
        maxUsed = Math.max(maxUsed, await usedMemory(client));
        maxRss = Math.max(maxRss, rssBytes(server.child.pid));
        const memory = await infoSection(client, "memory");
        assert.equal(memory.get("maxmemory"), String(limit));
        assert.equal(memory.get("maxmemory_human"), "64.00M");
        assert.equal(memory.get("maxmemory_policy"), "allkeys-lru");
        assert.ok(maxUsed <= 1.1 * limit, `used_memory ${maxUsed} > 1.1 x ${limit}`);
        assert.ok(maxRss <= 2.5 * limit + 100 * 1e6, `RSS ${maxRss} > 2.5 x ${limit} + 100 MB`);
        const evicted = Number((await infoSection(client, "stats")).get("evicted_keys"));
        const keys = Number(await client.call("DBSIZE"));
        assert.equal(keys + evicted, 400_000, `${keys} keys + ${evicted} evicted`);
        assert.ok(keys > 20_000, `only ${keys} keys kept under 64 MiB`);
        // The newest keys survive LRU; the oldest went.
        assert.equal(await client.call("EXISTS", "key:399999"), 1);
        assert.equal(await client.call("EXISTS", "key:0"), 0);
        console.log(
          `allkeys-lru: ${keys} keys, used_memory ${maxUsed}, max RSS ${maxRss}, V8 heap ` +
            `${memory.get("used_memory_heap_total")}, external ${
              memory.get("used_memory_external")
            }`,
        );
      } finally {
        client.close();
      }
    },
  );
});

Deno.test("maxmemory noeviction: a write past the limit gets -OOM, reads and deletes go on, a restart loses nothing acknowledged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-oom-" });
  const config = {
    ...walConfig(dir),
    memory: { maxmemory: "16MiB", maxmemory_policy: "noeviction" },
  };
  let server = await ServerProcess.start(config, { dir });
  try {
    let client = await RespClient.connect(server.port);
    const acked = new Map<string, string>();
    let refused: unknown;
    for (let i = 0; i < 100_000 && refused === undefined; i++) {
      const value = `${i}:`.padEnd(1024, "x");
      const reply = await client.call("SET", `k${i}`, value);
      if (reply instanceof RespError) refused = reply;
      else acked.set(`k${i}`, value);
    }
    assert.ok(refused instanceof RespError, "no write was refused under 16 MiB");
    assert.equal(refused.text, OOM);
    assert.ok(acked.size > 5000, `only ${acked.size} writes before -OOM`);
    // denyoom commands are refused; reads, deletes and DBSIZE are served.
    assert.deepEqual(await client.call("APPEND", "k0", "more"), new RespError(OOM));
    assert.deepEqual(await client.call("MULTI"), new RespStatus("OK"));
    assert.deepEqual(await client.call("SET", "t", "1"), new RespError(OOM));
    assert.ok(String((await client.call("EXEC") as RespError).text).startsWith("EXECABORT"));
    assert.equal(await client.call("GET", "k1"), acked.get("k1"));
    assert.equal(await client.call("DEL", "k1"), 1);
    acked.delete("k1");
    assert.equal(await client.call("EXPIRE", "k2", "1000"), 1);
    assert.equal(Number((await infoSection(client, "stats")).get("evicted_keys")), 0);
    client.close();
    assert.equal(await server.stop("SIGKILL"), 137);
    server = await ServerProcess.start(config, { dir });
    client = await RespClient.connect(server.port);
    assert.equal(await client.call("DBSIZE"), acked.size);
    for (const key of ["k0", "k2", `k${acked.size}`]) {
      assert.equal(await client.call("GET", key), acked.get(key) ?? null, key);
    }
    const all = [...acked.keys()];
    for (let i = 0; i < all.length; i += 200) {
      const keys = all.slice(i, i + 200);
      const values = await client.call("MGET", ...keys);
      assert.ok(Array.isArray(values), `MGET: ${JSON.stringify(values).slice(0, 200)}`);
      keys.forEach((k, j) => assert.equal(values[j], acked.get(k), k));
    }
    client.close();
  } finally {
    await server.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("maxmemory: CONFIG GET/SET take Redis's units and values, INFO and OBJECT follow the policy", async () => {
  await withServer({}, async (server) => {
    const c = await RespClient.connect(server.port);
    try {
      assert.deepEqual(await c.call("CONFIG", "GET", "maxmemory"), ["maxmemory", "0"]);
      assert.deepEqual(await c.call("CONFIG", "GET", "maxmemory-policy"), [
        "maxmemory-policy",
        "noeviction",
      ]);
      await c.call("CONFIG", "SET", "maxmemory", "64mb");
      assert.deepEqual(await c.call("CONFIG", "GET", "maxmemory"), ["maxmemory", String(64 * MIB)]);
      await c.call("CONFIG", "SET", "maxmemory", "64m");
      await c.call("SET", "some", "data");
      assert.deepEqual(await c.call("CONFIG", "GET", "maxmemory"), ["maxmemory", "64000000"]);
      const memory = await infoSection(c, "memory");
      assert.equal(memory.get("maxmemory"), "64000000");
      assert.equal(memory.get("maxmemory_human"), "61.04M");
      for (const field of ["used_memory_rss", "used_memory_peak", "used_memory_dataset"]) {
        assert.ok(Number(memory.get(field)) >= 0, field);
      }
      assert.ok(Number(memory.get("mem_fragmentation_ratio")) > 0);
      const bad = await c.call("CONFIG", "SET", "maxmemory-policy", "foo") as RespError;
      assert.equal(
        bad.text,
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) " +
          "must be one of the following: volatile-lru, volatile-lfu, volatile-random, " +
          "volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction",
      );
      assert.ok(await c.call("CONFIG", "SET", "maxmemory-samples", "0") instanceof RespError);
      assert.ok(await c.call("CONFIG", "SET", "lfu-log-factor", "-1") instanceof RespError);
      const lfu = await c.call("CONFIG", "GET", "lfu-*") as string[];
      assert.deepEqual(
        new Map([[lfu[0], lfu[1]], [lfu[2], lfu[3]]]),
        new Map([["lfu-decay-time", "1"], ["lfu-log-factor", "10"]]),
      );
      // OBJECT FREQ needs an LFU policy; IDLETIME is refused under one.
      await c.call("SET", "k", "v");
      const freq = await c.call("OBJECT", "FREQ", "k") as RespError;
      assert.ok(freq.text.startsWith("ERR An LFU maxmemory policy is not selected"));
      assert.equal(await c.call("OBJECT", "IDLETIME", "k"), 0);
      await c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
      await c.call("SET", "f", "v");
      assert.equal(await c.call("OBJECT", "FREQ", "f"), 5); // Redis's LFU_INIT_VAL
      const idle = await c.call("OBJECT", "IDLETIME", "f") as RespError;
      assert.equal(
        idle.text,
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when " +
          "switching between policies at runtime LRU and LFU data will take some time to adjust.",
      );
      for (let i = 0; i < 200; i++) await c.call("GET", "f");
      assert.ok(Number(await c.call("OBJECT", "FREQ", "f")) > 5, "GETs raise the LFU counter");
      // Lowering the limit below the data evicts at once (as Redis's CONFIG SET does).
      await fillValues(c, 2000);
      await c.call("CONFIG", "SET", "maxmemory", "1");
      assert.equal(await c.call("DBSIZE"), 0);
      assert.ok(Number((await infoSection(c, "stats")).get("evicted_keys")) >= 2000);
      // Nothing is left to evict, and this client's own buffers count (as
      // in Redis: redis-server 7.0.15 answers these two SETs with -OOM too).
      // INFO reads them now (else within 100 ms).
      assert.ok(Number((await infoSection(c, "memory")).get("mem_clients_normal")) > 0);
      assert.deepEqual(await c.call("SET", "x", "y"), new RespError(OOM));
      await c.call("CONFIG", "SET", "maxmemory-policy", "noeviction");
      assert.deepEqual(await c.call("SET", "x3", "y"), new RespError(OOM));
      assert.equal(await c.call("DBSIZE"), 0);
      await c.call("CONFIG", "SET", "maxmemory", "0");
      assert.deepEqual(await c.call("SET", "x", "y"), new RespStatus("OK"));
    } finally {
      c.close();
    }
  });
});

async function fillValues(c: RespClient, count: number): Promise<void> {
  await c.pipeline(Array.from({ length: count }, (_, i) => ["SET", `fill:${i}`, "x".repeat(100)]));
}

Deno.test("maxmemory: CONFIG REWRITE writes the memory keys to the YAML file", async () => {
  await withServer({ memory: { maxmemory: "1MiB" } }, async (server) => {
    const c = await RespClient.connect(server.port);
    try {
      await c.call("CONFIG", "SET", "maxmemory", "32mb");
      await c.call("CONFIG", "SET", "maxmemory-policy", "volatile-ttl");
      await c.call("CONFIG", "SET", "maxmemory-samples", "10");
      assert.deepEqual(await c.call("CONFIG", "REWRITE"), new RespStatus("OK"));
      const yaml = await Deno.readTextFile(server.configPath);
      assert.match(yaml, /maxmemory: 32MiB/); // kvdb's units in YAML
      assert.match(yaml, /maxmemory_policy: volatile-ttl/);
      assert.match(yaml, /maxmemory_samples: 10/);
    } finally {
      c.close();
    }
  });
});

Deno.test("maxmemory: evictions are logged as deletes, so a restart holds exactly the keys the master kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-evict-wal-" });
  const config = {
    ...walConfig(dir),
    memory: { maxmemory: "8MiB", maxmemory_policy: "allkeys-random" },
  };
  let server = await ServerProcess.start(config, { dir });
  try {
    let client = await RespClient.connect(server.port);
    await fill(client, 20_000, 1024);
    // Settled: KEYS's own reply is client memory the server may evict for
    // (as Redis counts client buffers), so the set can move for a while.
    const keys = async () => (await client.call("KEYS", "*") as string[]).sort().join(",");
    let before = await keys();
    for (let i = 0; i < 50; i++) {
      await delay(200);
      const now = await keys();
      if (now === before) break;
      before = now;
    }
    assert.ok(before.split(",").length < 20_000, "nothing was evicted");
    await delay(200); // the last evictions' records reach the disk (nobody waits on them)
    client.close();
    await server.stop("SIGKILL");
    server = await ServerProcess.start(config, { dir });
    client = await RespClient.connect(server.port);
    assert.equal((await client.call("KEYS", "*") as string[]).sort().join(","), before);
    client.close();
  } finally {
    await server.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("maxmemory: a replica of an evicting master holds the same keys, and never evicts on its own", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-evict-repl-" });
  // The replica's own limit is far below the data: it must not act on it.
  const { master, replica } = replicatedConfigs(dir);
  const m = await ServerProcess.start(
    { ...master, memory: { maxmemory: "8MiB", maxmemory_policy: "allkeys-lru" } },
    { dir: `${dir}` },
  );
  const r = await ServerProcess.start(
    {
      ...replica("replica", m.port),
      memory: { maxmemory: "1MiB", maxmemory_policy: "allkeys-lru" },
    },
    { dir: await Deno.makeTempDir({ dir }) },
  );
  const mc = await RespClient.connect(m.port);
  const rc = await RespClient.connect(r.port);
  try {
    await fill(mc, 20_000, 1024);
    const keys = async (c: RespClient) => (await c.call("KEYS", "*") as string[]).sort().join(",");
    assert.ok((await keys(mc)).split(",").length < 20_000, "the master evicted nothing");
    // Compared together: KEYS's own reply is client memory the master may
    // evict for (as Redis counts client buffers), so its set can still move.
    let master = "";
    let same = false;
    for (let i = 0; i < 100 && !same; i++) {
      master = await keys(mc);
      same = (await keys(rc)) === master && (await keys(mc)) === master;
      if (!same) await delay(100);
    }
    assert.ok(same, "the replica's keys never matched the master's");
    assert.equal((await infoSection(rc, "stats")).get("evicted_keys"), "0");
    // A replica over its own limit still serves reads.
    assert.equal(await rc.call("GET", "key:19999"), "v".repeat(1024));
  } catch (e) {
    console.log(m.logs.slice(-10).join("\n"), r.logs.slice(-10).join("\n"));
    throw e;
  } finally {
    mc.close();
    rc.close();
    await r.stop("SIGKILL");
    await m.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("maxmemory at start-up: a WAL over a lowered limit starts (logged); it is then evicted to fit in the background, or writes get -OOM under noeviction", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-evict-start-" });
  let server = await ServerProcess.start(walConfig(dir), { dir });
  try {
    let client = await RespClient.connect(server.port);
    await fill(client, 20_000, 1024);
    client.close();
    await server.stop("SIGKILL");
    // noeviction: starts, serves reads and deletes, refuses writes.
    server = await ServerProcess.start({
      ...walConfig(dir),
      memory: { maxmemory: "4MiB", maxmemory_policy: "noeviction" },
    }, { dir });
    assert.ok(server.logs.some((l) => l.includes("over maxmemory")), "no warning logged");
    client = await RespClient.connect(server.port);
    assert.equal(await client.call("DBSIZE"), 20_000);
    assert.equal(await client.call("GET", "key:7"), "v".repeat(1024));
    assert.deepEqual(await client.call("SET", "new", "1"), new RespError(OOM));
    client.close();
    await server.stop("SIGTERM");
    // allkeys-lru: the first write evicts to fit, and the evictions are durable.
    const lru = {
      ...walConfig(dir),
      memory: { maxmemory: "4MiB", maxmemory_policy: "allkeys-lru" },
    };
    server = await ServerProcess.start(lru, { dir });
    assert.ok(server.logs.some((l) => l.includes("in the background")), "no warning logged");
    client = await RespClient.connect(server.port);
    // Without any write: evicted in the background, between requests. The
    // figure is read once per step: the overheads it counts (this client's
    // buffers) move between two reads, and the background goes on evicting
    // for them, so a second read may be above the limit for a moment.
    let counted = await countedMemory(client);
    for (let i = 0; i < 200 && counted > 4 * MIB; i++) {
      await delay(50);
      counted = await countedMemory(client);
    }
    assert.ok(counted <= 4 * MIB, `${counted} bytes counted`);
    assert.ok(Number(await client.call("DBSIZE")) < 20_000);
    assert.deepEqual(await client.call("SET", "new", "1"), new RespStatus("OK"));
    const kept = Number(await client.call("DBSIZE"));
    client.close();
    await server.stop("SIGKILL");
    server = await ServerProcess.start({ ...walConfig(dir) }, { dir });
    client = await RespClient.connect(server.port);
    assert.equal(await client.call("DBSIZE"), kept);
    client.close();
  } finally {
    await server.stop("SIGKILL");
    await delay(0);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("maxmemory in transactions, as redis-server 7.0.15: EXEC of a queued write is refused once out of memory, and so is queuing", async () => {
  await withServer({ memory: { maxmemory_policy: "noeviction" } }, async (server) => {
    const a = await RespClient.connect(server.port);
    const b = await RespClient.connect(server.port);
    try {
      assert.deepEqual(await a.call("SET", "a", "1"), new RespStatus("OK"));
      assert.deepEqual(await a.call("MULTI"), new RespStatus("OK"));
      assert.deepEqual(await a.call("SET", "b", "2"), new RespStatus("QUEUED"));
      assert.deepEqual(await a.call("GET", "a"), new RespStatus("QUEUED"));
      await b.call("CONFIG", "SET", "maxmemory", "1");
      assert.deepEqual(
        await a.call("EXEC"),
        new RespError(`EXECABORT Transaction discarded because of: ${OOM}`),
      );
      assert.equal(await a.call("GET", "a"), "1");
      assert.deepEqual(await a.call("MULTI"), new RespStatus("OK"));
      // Queuing takes memory: even a read is refused in MULTI.
      assert.deepEqual(await a.call("GET", "a"), new RespError(OOM));
      assert.deepEqual(
        await a.call("EXEC"),
        new RespError("EXECABORT Transaction discarded because of previous errors."),
      );
      assert.deepEqual(await a.call("SET", "c", "3"), new RespError(OOM));
    } finally {
      a.close();
      b.close();
    }
  });
});
