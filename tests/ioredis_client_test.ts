/**
 * ioredis (npm, 5.x), unchanged, against kvdb: commands, pipelines,
 * Buffers, expiry, scanStream, errors and a slave's -READONLY (issue 5);
 * then scenarios as applications use it (issue 14) — strings, bitmaps,
 * BITFIELD, `multi()` (also `{ pipeline: false }` and inside a pipeline),
 * WATCH retry loops from 10 clients, `db: 1` (which must really write to
 * database 1), `select()`, DUMP/RESTORE with Buffers, auto-pipelining —
 * each against redis-server first (its assertions are Redis's behaviour),
 * then kvdb (tests/_real_clients.ts).
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { Redis, type RedisOptions, ReplyError } from "ioredis";
import { delay, freePort, ServerProcess, TcpClient, withServer } from "./_helpers.ts";
import {
  type ClientServer,
  type KnownGaps,
  realClientTest,
  type Scenario,
  within,
} from "./_real_clients.ts";
import { RespConnection } from "./_resp_connection.ts";
import { binaryString } from "./_resp_frames.ts";

/** An ioredis client that never reconnects (no timers left behind). */
async function ioredis(port: number, options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 5000,
    ...options,
  });
  client.on("error", () => {}); // Surfaced through the commands' promises.
  await within(client.connect(), 10_000, "ioredis connect");
  return client;
}

async function closeIoredis(client: Redis): Promise<void> {
  try {
    await within(client.quit(), 5000, "ioredis quit");
  } catch {
    client.disconnect();
  }
}

Deno.test("ioredis: commands, pipelines, Buffers, expiry, scanStream, errors", async (t) => {
  await withServer({}, async (server) => {
    const client = await ioredis(server.port);
    try {
      await t.step("plain commands", async () => {
        assert.equal(await client.ping(), "PONG");
        assert.equal(await client.set("k", "v"), "OK");
        assert.equal(await client.get("k"), "v");
        assert.equal(await client.get("missing"), null);
        assert.equal(await client.set("k", "w", "NX"), null);
        assert.equal(await client.set("k", "w", "XX", "GET"), "v");
        assert.equal(await client.incr("n"), 1);
        assert.equal(await client.incrby("n", 9), 10);
        assert.equal(await client.decr("n"), 9);
        assert.equal(await client.decrby("n", 10), -1);
        assert.equal(await client.mset({ a: "1", b: "2" }), "OK");
        assert.deepEqual(await client.mget("a", "missing", "b"), ["1", null, "2"]);
        assert.equal(await client.msetnx("a", "x", "c", "y"), 0);
        assert.equal(await client.setnx("c", "3"), 1);
        assert.equal(await client.exists("a", "b", "c", "missing"), 3);
        assert.equal(await client.append("c", "45"), 3);
        assert.equal(await client.strlen("c"), 3);
        assert.equal(await client.getdel("c"), "345");
        assert.equal(await client.del("a", "b", "missing"), 2);
        assert.equal(await client.expire("k", 100), 1);
        assert.ok([99, 100].includes(await client.ttl("k")));
        assert.equal(await client.persist("k"), 1);
        assert.equal(await client.ttl("k"), -1);
        assert.equal(await client.getex("k", "EX", 50), "w");
        assert.ok([49, 50].includes(await client.ttl("k")));
        assert.equal(await client.type("k"), "string");
        assert.deepEqual((await client.keys("*")).sort(), ["k", "n"]);
        assert.equal(await client.dbsize(), 2);
        assert.match(await client.info("server"), /redis_version:/);
        assert.equal(await client.echo("hi"), "hi");
        assert.equal(await client.select(0), "OK");
        assert.equal(await client.client("SETNAME", "ioredis-test"), "OK");
        assert.equal(await client.client("GETNAME"), "ioredis-test");
        assert.deepEqual(await client.config("GET", "appendonly"), ["appendonly", "no"]);
        assert.equal(await client.flushall(), "OK");
        assert.equal(await client.dbsize(), 0);
      });

      await t.step("a pipeline of 1000 commands, results in order", async () => {
        const pipeline = client.pipeline();
        for (let i = 0; i < 1000; i++) {
          if (i % 4 === 0) pipeline.set(`p:${i}`, `v${i}`);
          else if (i % 4 === 1) pipeline.get(`p:${i - 1}`);
          else if (i % 4 === 2) pipeline.incr("p:counter");
          else pipeline.exists(`p:${i - 3}`, `p:missing`);
        }
        const results = await within(pipeline.exec(), 15_000, "pipeline exec");
        assert.ok(results !== null && results.length === 1000);
        results.forEach(([error, value], i) => {
          assert.equal(error, null, `command ${i}`);
          const want = [
            "OK",
            `v${i - 1}`,
            Math.floor(i / 4) + 1,
            1,
          ][i % 4];
          assert.equal(value, want, `result ${i}`);
        });
      });

      await t.step("Buffers with every byte value as keys and values", async () => {
        assert.equal(await client.flushall(), "OK");
        const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const pipeline = client.pipeline();
        const pairs: [Buffer, Buffer][] = [];
        for (let b = 0; b < 256; b++) {
          const key = Buffer.from([0x62, b, 0x00, 0xff]);
          const value = Buffer.concat([all.subarray(b), all.subarray(0, b)]);
          pairs.push([key, value]);
          pipeline.set(key, value);
        }
        pairs.push([all, Buffer.from("the key holds every byte")]);
        pipeline.set(all, pairs[256][1]);
        const results = await within(pipeline.exec(), 15_000, "binary pipeline");
        assert.ok(results?.every(([e, v]) => e === null && v === "OK"));
        for (const [key, value] of pairs) {
          const got = await client.getBuffer(key);
          assert.ok(got !== null && value.equals(got), `getBuffer(${key.toString("hex")})`);
        }
        const keys = pairs.slice(0, 10).map(([k]) => k);
        const many = await client.mgetBuffer(...keys);
        many.forEach((got, i) => assert.ok(got !== null && pairs[i][1].equals(got)));
        assert.equal(await client.strlen(all), pairs[256][1].length);
        assert.equal(await client.dbsize(), 257);
        const listed = await client.keysBuffer("b*");
        assert.equal(listed.length, 256);
        assert.equal(await client.del(all), 1);
      });

      await t.step("expiry: set PX 100, then gone", async () => {
        assert.equal(await client.set("x", "v", "PX", 100), "OK");
        assert.equal(await client.get("x"), "v");
        const pttl = await client.pttl("x");
        assert.ok(pttl > 0 && pttl <= 100, `pttl ${pttl}`);
        await delay(150);
        assert.equal(await client.get("x"), null);
        assert.equal(await client.pttl("x"), -2);
        assert.equal(await client.exists("x"), 0);
      });

      await t.step("scanStream collects every key", async () => {
        await client.flushall();
        const want = new Set<string>();
        const args: string[] = [];
        for (let i = 0; i < 1000; i++) {
          want.add(`s:${i}`);
          args.push(`s:${i}`, "v");
          if (i % 100 === 0) args.push(`other:${i}`, "v");
        }
        const pipeline = client.pipeline();
        for (let i = 0; i < args.length; i += 100) pipeline.mset(...args.slice(i, i + 100));
        await pipeline.exec();
        const found = new Set<string>();
        await within(
          new Promise<void>((resolve, reject) => {
            const stream = client.scanStream({ match: "s:*", count: 37 });
            stream.on("data", (keys: string[]) => keys.forEach((k) => found.add(k)));
            stream.on("end", resolve);
            stream.on("error", reject);
          }),
          15_000,
          "scanStream",
        );
        assert.equal(found.size, want.size, `scanStream found ${found.size} of ${want.size}`);
        for (const key of found) assert.ok(want.has(key), `unexpected key ${key}`);
      });

      await t.step("error replies surface as ReplyError", async () => {
        await client.set("word", "abc");
        await assert.rejects(
          () => client.incr("word"),
          (e: Error) =>
            e instanceof ReplyError &&
            /^ERR value is not an integer or out of range/.test(e.message),
        );
        await assert.rejects(
          () => client.call("NOSUCHCOMMAND", "x"),
          (e: Error) => e instanceof ReplyError && /^ERR unknown command/.test(e.message),
        );
        await assert.rejects(
          () => client.call("GET"),
          (e: Error) =>
            e instanceof ReplyError &&
            e.message.startsWith("ERR wrong number of arguments for 'get' command"),
        );
        // The connection is still usable after errors.
        assert.equal(await client.get("word"), "abc");
      });
    } finally {
      await closeIoredis(client);
    }
  });
});

Deno.test("ioredis: a slave's -READONLY surfaces as an error", async () => {
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const clients: Redis[] = [];
  const dir = async () => {
    const d = await Deno.makeTempDir({ prefix: "kvdb-ioredis-" });
    dirs.push(d);
    return d;
  };
  try {
    const masterDir = await dir();
    const master = await ServerProcess.start({
      wal: { enabled: true, data_directory: join(masterDir, "wal") },
      replication: {
        enabled: true,
        replica_type: "master",
        master_address: `127.0.0.1:${freePort()}`,
        sync_interval: "200ms",
      },
    }, { dir: masterDir });
    servers.push(master);
    const slaveDir = await dir();
    const slave = await ServerProcess.start({
      wal: { enabled: true, data_directory: join(slaveDir, "wal") },
      replication: {
        enabled: true,
        replica_type: "slave",
        master_address: `127.0.0.1:${master.port}`,
        sync_interval: "200ms",
      },
    }, { dir: slaveDir });
    servers.push(slave);

    const onMaster = await ioredis(master.port);
    clients.push(onMaster);
    const onSlave = await ioredis(slave.port);
    clients.push(onSlave);
    assert.equal(await onMaster.set("shared", "from master"), "OK");
    const deadline = Date.now() + 10_000;
    while (await onSlave.get("shared") !== "from master") {
      assert.ok(Date.now() < deadline, "the write never reached the slave");
      await delay(20);
    }
    await assert.rejects(
      () => onSlave.set("k", "v"),
      (e: Error) =>
        e instanceof ReplyError &&
        e.message === "READONLY You can't write against a read only replica.",
    );
    await assert.rejects(() => onSlave.del("shared"), (e: Error) => /^READONLY/.test(e.message));
    await assert.rejects(() => onSlave.incr("n"), (e: Error) => /^READONLY/.test(e.message));
    assert.equal(await onSlave.get("shared"), "from master");
    const role = await onSlave.call("ROLE") as unknown[];
    assert.equal(role[0], "slave");
    // The text protocol on the slave says it the original's way.
    const text = await TcpClient.connect(slave.port);
    try {
      assert.equal(
        await text.command("SET k v"),
        "ERROR: write operations not allowed on slave replica",
      );
    } finally {
      text.close();
    }
  } finally {
    for (const client of clients) await closeIoredis(client);
    for (const server of servers.reverse()) await server.stop("SIGKILL").catch(() => {});
    for (const d of dirs) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
});

// ---------------------------------------------------------------------------
// Scenarios, each against redis-server first, then kvdb (tests/_real_clients.ts).

/** Runs `fn` with an `open` that connects ioredis clients, all closed after. */
function withIoredis(
  fn: (open: (options?: RedisOptions) => Promise<Redis>, server: ClientServer) => Promise<void>,
): Scenario {
  return async (server) => {
    const clients: Redis[] = [];
    try {
      await fn(async (options = {}) => {
        const client = await ioredis(server.port, options);
        clients.push(client);
        return client;
      }, server);
    } finally {
      for (const client of clients) await closeIoredis(client);
    }
  };
}

/** GET `key` in database `db` over a plain RESP connection (no client library in between). */
async function rawGet(port: number, db: number, key: string): Promise<string | null> {
  const c = await RespConnection.connect(port);
  try {
    const selected = binaryString((await c.call(["SELECT", String(db)])).raw);
    if (selected !== "+OK\r\n") throw new Error(`SELECT ${db}: ${selected}`);
    const reply = await c.call(["GET", key]);
    return reply.value.type === "null" ? null : binaryString(reply.raw).split("\r\n")[1];
  } finally {
    c.close();
  }
}

const SCENARIOS: Record<string, Scenario> = {
  "db: 1 writes to database 1, select() moves the connection": withIoredis(async (open, server) => {
    const db1 = await open({ db: 1 });
    assert.equal(await db1.set("tenant", "one"), "OK");
    assert.equal(await db1.get("tenant"), "one");
    assert.equal(await rawGet(server.port, 1, "tenant"), "one");
    assert.equal(await rawGet(server.port, 0, "tenant"), null);
    const db0 = await open();
    assert.equal(await db0.get("tenant"), null);
    assert.equal(await db1.dbsize(), 1);
    assert.equal(await db0.dbsize(), 0);
    assert.deepEqual(await db1.multi().set("a", "1").incr("a").exec(), [[null, "OK"], [null, 2]]);
    assert.equal(await rawGet(server.port, 1, "a"), "2");
    assert.equal(await db1.select(4), "OK");
    assert.equal(await db1.set("four", "4"), "OK");
    assert.equal(await rawGet(server.port, 4, "four"), "4");
    assert.equal(await db0.move("four", 4), 0);
    assert.equal(await db1.move("four", 0), 1);
    assert.equal(await db0.get("four"), "4");
    assert.equal(await db0.swapdb(0, 1), "OK");
    assert.equal(await db0.get("tenant"), "one");
    assert.equal(await db0.flushdb(), "OK");
    assert.equal(await rawGet(server.port, 0, "tenant"), null);
    assert.equal(await rawGet(server.port, 1, "four"), "4");
    await assert.rejects(() => db0.select(16), /DB index is out of range/);
  }),

  "strings: cache entries, counters, editing": withIoredis(async (open) => {
    const client = await open();
    assert.equal(await client.setex("page", 60, "<html>"), "OK");
    assert.equal(await client.psetex("fragment", 60_000, "<p>"), "OK");
    assert.ok([59, 60].includes(await client.ttl("page")));
    assert.equal(await client.getset("page", "new"), "<html>");
    assert.equal(await client.ttl("page"), -1);
    assert.equal(await client.incrbyfloat("f", "10.5"), "10.5");
    assert.equal(await client.incrbyfloat("f", "-0.25"), "10.25");
    assert.equal(await client.incrbyfloat("f", "1.5e2"), "160.25");
    await assert.rejects(() => client.incrbyfloat("page", "1"), /value is not a valid float/);
    assert.equal(await client.setrange("s", 2, "llo"), 5);
    assert.equal(await client.getrange("s", 0, -1), "\0\0llo");
    assert.equal(await client.setrange("s", 0, "he"), 5);
    assert.equal(await client.getrange("s", 1, 3), "ell");
    assert.equal(await client.call("SUBSTR", "s", "0", "1"), "he");
    await client.mset("k1", "ohmytext", "k2", "mynewtext");
    assert.equal(await client.call("LCS", "k1", "k2"), "mytext");
    assert.deepEqual(
      await client.call("LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
      ["matches", [[[4, 7], [5, 8], 4]], "len", 6],
    );
    await assert.rejects(
      () => client.setrange("s", 512 * 1024 * 1024, "x"),
      /string exceeds maximum allowed size \(proto-max-bulk-len\)/,
    );
  }),

  "bitmaps and BITFIELD": withIoredis(async (open) => {
    const client = await open();
    for (const user of [1, 5, 9, 200]) await client.setbit("mon", user, 1);
    for (const user of [1, 9, 33]) await client.setbit("tue", user, 1);
    assert.equal(await client.getbit("mon", 200), 1);
    assert.equal(await client.bitcount("mon"), 4);
    assert.equal(await client.bitcount("mon", 0, 15, "BIT"), 3);
    assert.equal(await client.bitop("OR", "any", "mon", "tue"), 26);
    assert.equal(await client.bitcount("any"), 5);
    assert.equal(await client.bitpos("tue", 1, 2), 33);
    assert.equal(await client.bitpos("mon", 0), 0);
    assert.deepEqual(
      await client.call(
        "BITFIELD",
        ...["counters", "INCRBY", "u8", "#0", "250", "OVERFLOW", "SAT"],
        ...["INCRBY", "u8", "#0", "10", "GET", "u4", "0"],
      ),
      [250, 255, 15],
    );
    assert.deepEqual(await client.call("BITFIELD_RO", "counters", "GET", "u8", "0"), [255]);
    const bitmap = await client.getBuffer("mon");
    assert.ok(bitmap !== null && bitmap.length === 26 && bitmap[0] === 0b0100_0100);
  }),

  "multi(): results, runtime errors, EXECABORT, pipeline: false": withIoredis(async (open) => {
    const client = await open();
    assert.deepEqual(
      await client.multi().set("a", "1").incr("a").get("a").exec(),
      [[null, "OK"], [null, 2], [null, "2"]],
    );
    // A runtime error fails only its command.
    await client.set("word", "abc");
    const results = await client.multi().set("b", "1").incr("word").incr("b").exec();
    assert.ok(results !== null);
    assert.deepEqual(results[0], [null, "OK"]);
    assert.ok(results[1][0] instanceof ReplyError);
    assert.match(String(results[1][0]), /value is not an integer/);
    assert.deepEqual(results[2], [null, 2]);
    // Refused while queuing: EXECABORT, and nothing ran.
    await assert.rejects(
      () => client.multi().set("c", "1").call("SET", "c").exec(),
      /EXECABORT Transaction discarded because of previous errors/,
    );
    assert.equal(await client.exists("c"), 0);
    // Command by command: each answers QUEUED.
    assert.equal(await client.multi({ pipeline: false }), "OK");
    assert.equal(await client.set("d", "1"), "QUEUED");
    assert.equal(await client.incr("d"), "QUEUED");
    assert.deepEqual(await client.exec(), [[null, "OK"], [null, 2]]);
    // MULTI ... EXEC sent as commands of a plain pipeline.
    assert.deepEqual(
      await client.pipeline([["multi"], ["incr", "d"], ["get", "d"], ["exec"]]).exec(),
      [[null, "OK"], [null, "QUEUED"], [null, "QUEUED"], [null, [3, "3"]]],
    );
    // DISCARD drops the queue.
    assert.equal(await client.multi({ pipeline: false }), "OK");
    assert.equal(await client.set("e", "1"), "QUEUED");
    assert.equal(await client.discard(), "OK");
    assert.equal(await client.exists("e"), 0);
  }),

  "watch(): exec() is null after a concurrent change, a retry commits": withIoredis(
    async (open) => {
      const client = await open();
      const other = await open();
      await client.set("stock", "3");
      let attempts = 0;
      while (true) {
        attempts++;
        await client.watch("stock");
        const stock = Number(await client.get("stock"));
        if (attempts === 1) await other.decr("stock");
        const result = await client.multi().set("stock", String(stock - 1)).exec();
        if (result !== null) break;
      }
      assert.equal(attempts, 2);
      assert.equal(await client.get("stock"), "1");
      // Expiry and FLUSHDB count as changes; unwatch() forgets.
      await client.set("temp", "v", "PX", 50);
      await client.watch("temp");
      await delay(150);
      assert.equal(await client.multi().set("temp", "x").exec(), null);
      await client.watch("stock");
      await other.flushdb();
      assert.equal(await client.multi().set("stock", "9").exec(), null);
      await client.watch("stock");
      await other.set("stock", "5");
      assert.equal(await client.unwatch(), "OK");
      assert.deepEqual(await client.multi().incr("stock").exec(), [[null, 6]]);
    },
  ),

  "WATCH retry loops from 10 clients at once": withIoredis(async (open) => {
    const workers = await Promise.all(Array.from({ length: 10 }, () => open()));
    const increments = 20;
    let attempts = 0;
    await Promise.all(workers.map(async (c) => {
      for (let i = 0; i < increments; i++) {
        while (true) {
          attempts++;
          await c.watch("counter");
          const n = Number(await c.get("counter") ?? "0");
          if (await c.multi().set("counter", String(n + 1)).exec() !== null) break;
        }
      }
    }));
    assert.equal(await workers[0].get("counter"), String(workers.length * increments));
    assert.ok(attempts >= workers.length * increments);
  }),

  "DUMP/RESTORE with Buffers": withIoredis(async (open) => {
    const client = await open();
    const value = Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 13) % 256));
    await client.set("blob", value);
    const payload = await client.dumpBuffer("blob");
    assert.ok(payload !== null);
    assert.equal(await client.restore("copy", 0, payload), "OK");
    assert.ok(value.equals((await client.getBuffer("copy"))!));
    await assert.rejects(
      () => client.restore("copy", 0, payload),
      /BUSYKEY Target key name already exists/,
    );
    assert.equal(await client.restore("copy", 3000, payload, "REPLACE"), "OK");
    const pttl = await client.pttl("copy");
    assert.ok(pttl > 2000 && pttl <= 3000, `pttl ${pttl}`);
    const broken = Buffer.from(payload);
    broken[broken.length - 3] ^= 0x01;
    await assert.rejects(
      () => client.restore("x", 0, broken),
      /DUMP payload version or checksum are wrong/,
    );
    assert.equal(await client.dumpBuffer("missing"), null);
    // In a transaction, into database 2.
    const db2 = await open({ db: 2 });
    assert.deepEqual(
      await db2.multi().restore("blob", 0, payload).strlen("blob").exec(),
      [[null, "OK"], [null, 700]],
    );
  }),

  "enableAutoPipelining: 500 concurrent commands": withIoredis(async (open) => {
    const client = await open({ enableAutoPipelining: true });
    const replies = await Promise.all(
      Array.from(
        { length: 500 },
        (_, i) => i % 2 === 0 ? client.incr("auto") : client.setbit("bits", i, 1),
      ),
    );
    replies.forEach((r, i) => assert.equal(r, i % 2 === 0 ? i / 2 + 1 : 0, `reply ${i}`));
    assert.equal(await client.bitcount("bits"), 250);
  }),

  "a session hash: fields, counters, expiry, logout": withIoredis(async (open) => {
    const client = await open();
    const sid = "session:9f2c";
    assert.equal(await client.hset(sid, { user_id: "42", name: "Ada", cart_items: 0 }), 3);
    assert.equal(await client.expire(sid, 1800), 1);
    assert.equal(await client.hincrby(sid, "cart_items", 2), 2);
    assert.equal(await client.hincrbyfloat(sid, "cart_total", 19.99), "19.99");
    assert.deepEqual(await client.hgetall(sid), {
      user_id: "42",
      name: "Ada",
      cart_items: "2",
      cart_total: "19.99",
    });
    assert.deepEqual(await client.hmget(sid, "user_id", "missing"), ["42", null]);
    assert.equal(await client.type(sid), "hash");
    assert.deepEqual(
      await client.multi().hdel(sid, "cart_items", "cart_total").hlen(sid).exec(),
      [[null, 2], [null, 2]],
    );
    await assert.rejects(() => client.get(sid), /WRONGTYPE/);
    assert.equal(await client.del(sid), 1);
  }),

  "a job queue: LPUSH producers, BRPOP workers on their own connections": withIoredis(
    async (open) => {
      const producer = await open();
      const jobs = 120;
      const done: string[] = [];
      const worker = async () => {
        const w = await open();
        for (;;) {
          const item = await w.brpop("jobs:high", "jobs", 2);
          if (item === null || item[1] === "stop") return;
          await w.lpush("results", item[1]);
          done.push(item[1]);
        }
      };
      // A worker's failure (e.g. BRPOP refused) fails the scenario, never dangles.
      const failures: unknown[] = [];
      const workers = [worker(), worker(), worker()].map((p) => p.catch((e) => failures.push(e)));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const pipeline = producer.pipeline();
      for (let i = 0; i < jobs; i++) pipeline.lpush(i % 10 === 0 ? "jobs:high" : "jobs", `job${i}`);
      await pipeline.exec();
      const deadline = Date.now() + 20_000;
      while (await producer.llen("results") < jobs) {
        if (failures.length > 0) throw failures[0];
        if (Date.now() > deadline) throw new Error("the workers did not finish the jobs in 20 s");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (let i = 0; i < workers.length; i++) await producer.lpush("jobs", "stop");
      await within(Promise.all(workers), 10_000, "workers stop");
      if (failures.length > 0) throw failures[0];
      assert.deepEqual(done.sort(), Array.from({ length: jobs }, (_, i) => `job${i}`).sort());
      assert.equal(await producer.exists("jobs", "jobs:high"), 0);
      // Reliable queue: BLMOVE to a processing list, LREM when done.
      await producer.rpush("tasks", "t1", "t2");
      assert.equal(await producer.blmove("tasks", "processing", "LEFT", "RIGHT", 1), "t1");
      assert.equal(await producer.lrem("processing", 1, "t1"), 1);
      assert.deepEqual(await producer.lrange("tasks", 0, -1), ["t2"]);
    },
  ),

  "a leaderboard: ZADD, ZINCRBY, ranks, pages with scores, unions": withIoredis(async (open) => {
    const client = await open();
    const board = "leaderboard:2026";
    assert.equal(await client.zadd(board, 3100, "ada", 2800, "bob", 2800, "cy", 4050.5, "dee"), 4);
    assert.equal(await client.zincrby(board, 150, "bob"), "2950");
    assert.deepEqual(
      await client.zrevrange(board, 0, 2, "WITHSCORES"),
      ["dee", "4050.5", "ada", "3100", "bob", "2950"],
    );
    assert.equal(await client.zrevrank(board, "bob"), 2);
    assert.deepEqual(await client.zrangebyscore(board, "(2800", 3100), ["bob", "ada"]);
    assert.deepEqual(await client.zpopmin(board), ["cy", "2800"]);
    await client.zadd("week", 10, "ada", 5, "zed");
    assert.equal(await client.zunionstore("total", 2, board, "week", "WEIGHTS", 1, 2), 4);
    assert.equal(await client.zscore("total", "ada"), "3120");
    assert.equal(await client.sadd("tags:ada", "pro", "eu"), 2);
    assert.equal(await client.sadd("tags:bob", "eu"), 1);
    assert.deepEqual(await client.sinter("tags:ada", "tags:bob"), ["eu"]);
    await assert.rejects(() => client.lpush(board, "x"), /WRONGTYPE/);
  }),
};

/** Scenarios kvdb is known to fail (the scenario asserts Redis's behaviour), and how. */
const KNOWN_GAPS: KnownGaps = {};

realClientTest("ioredis: scenarios against redis-server, then kvdb", {
  scenarios: SCENARIOS,
  knownGaps: KNOWN_GAPS,
});

Deno.test("ioredis: password (requirepass) and an ACL user, as ioredis sends AUTH", async () => {
  await withServer({ security: { requirepass: "s3cret" } }, async (server) => {
    const clients: Redis[] = [];
    try {
      // Without a password: every command is refused, NOAUTH.
      const stranger = await ioredis(server.port, { enableReadyCheck: false });
      clients.push(stranger);
      await assert.rejects(
        () => stranger.get("k"),
        (e: Error) => e instanceof ReplyError && e.message === "NOAUTH Authentication required.",
      );
      // A wrong password: the connection fails with Redis's WRONGPASS.
      const wrong = new Redis({
        host: "127.0.0.1",
        port: server.port,
        password: "wrong",
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      // ioredis reports the AUTH refusal as an error event, then closes.
      const errors: Error[] = [];
      wrong.on("error", (e: Error) => errors.push(e));
      await within(wrong.connect().catch(() => {}), 10_000, "wrong password connect");
      await wrong.ping().catch(() => {});
      assert.ok(
        errors.some((e) => /^WRONGPASS invalid username-password pair/.test(e.message)),
        errors.map(String).join("; "),
      );
      wrong.disconnect();
      const admin = await ioredis(server.port, { password: "s3cret" });
      clients.push(admin);
      assert.equal(await admin.set("k", "v"), "OK");
      assert.equal(
        await admin.call("ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "+@all"),
        "OK",
      );
      const app = await ioredis(server.port, { username: "app", password: "apppw" });
      clients.push(app);
      assert.equal(await app.call("ACL", "WHOAMI"), "app");
      assert.equal(await app.set("app:1", "x"), "OK");
      await assert.rejects(
        () => app.get("k"),
        (e: Error) =>
          e instanceof ReplyError &&
          e.message ===
            "NOPERM this user has no permissions to access one of the keys used as arguments",
      );
    } finally {
      for (const c of clients) await closeIoredis(c);
    }
  });
});
