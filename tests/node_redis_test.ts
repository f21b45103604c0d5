/**
 * node-redis (npm `redis`, major 6), unchanged and with its defaults,
 * against kvdb: it opens every connection with `HELLO 3` and gave up on the
 * `-NOPROTO` kvdb used to answer (issue 14). Then scenarios as applications
 * use it — strings, bitmaps, BITFIELD, MULTI/EXEC, WATCH retry loops (10
 * clients at once), the `database` option, DUMP/RESTORE with Buffers, and
 * `RESP: 2` — each against redis-server first (its assertions are Redis's
 * behaviour), then kvdb (tests/_real_clients.ts).
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createClient, RESP_TYPES, WatchError } from "redis";
import { ServerProcess, withServerLog } from "./_helpers.ts";
import {
  type ClientServer,
  type KnownGaps,
  realClientTest,
  type Scenario,
  within,
} from "./_real_clients.ts";

Deno.test("node-redis 6 with its defaults connects (HELLO 3) and does GET/SET", async () => {
  const server = await ServerProcess.start();
  const client = createClient({ url: `redis://127.0.0.1:${server.port}` });
  const errors: unknown[] = [];
  client.on("error", (e: unknown) => errors.push(e));
  try {
    // Before, the client retried HELLO 3 forever: give up after 10 s.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not connected in 10 s: ${errors}`)), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    assert.equal(await client.set("greeting", "hello world"), "OK");
    assert.equal(await client.get("greeting"), "hello world");
    assert.equal(await client.get("missing"), null);
    assert.deepEqual(await client.mGet(["greeting", "missing"]), ["hello world", null]);
    assert.equal(await client.set("n", "41"), "OK");
    assert.equal(await client.incr("n"), 42);
    assert.equal(await client.exists(["n", "missing"]), 1);
    assert.equal(await client.del(["n", "greeting"]), 2);
    // Binary values round-trip when the client asks for buffers.
    const bytes = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80]);
    assert.equal(await client.set("bin", bytes), "OK");
    const back = await client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).get("bin");
    assert.deepEqual(back, bytes);
    // The connection speaks RESP3: HELLO without a version reports it.
    const hello = await client.sendCommand(["HELLO"]) as unknown;
    const proto = hello instanceof Map
      ? hello.get("proto")
      : (hello as Record<string, unknown>)["proto"];
    assert.equal(proto, 3, `HELLO: ${JSON.stringify(hello)}`);
    assert.deepEqual(errors, []);
  } catch (e) {
    throw withServerLog(e, server);
  } finally {
    if (client.isOpen) await client.close().catch(() => client.destroy());
    await server.stop();
  }
});

// ---------------------------------------------------------------------------
// Scenarios, each against redis-server first, then kvdb (tests/_real_clients.ts).

type NodeRedis = ReturnType<typeof createClient>;

/** Clients a scenario opened, closed whatever happens. */
class Clients {
  readonly #open: NodeRedis[] = [];
  readonly errors: unknown[] = [];

  constructor(readonly server: ClientServer) {}

  /** A node-redis client with its defaults (RESP3) plus `options`, connected. */
  async open(options: Parameters<typeof createClient>[0] = {}): Promise<NodeRedis> {
    const client = createClient({
      url: `redis://127.0.0.1:${this.server.port}`,
      socket: { reconnectStrategy: false, connectTimeout: 5000 },
      ...options,
    });
    client.on("error", (e: unknown) => this.errors.push(e));
    this.#open.push(client);
    await within(client.connect(), 10_000, "node-redis connect");
    return client as NodeRedis;
  }

  async closeAll(): Promise<void> {
    for (const c of this.#open) if (c.isOpen) await c.close().catch(() => c.destroy());
  }
}

/** Runs `fn` with a {@link Clients}, closing them after; client errors fail the scenario. */
function nodeRedis(fn: (clients: Clients) => Promise<void>): Scenario {
  return async (server) => {
    const clients = new Clients(server);
    try {
      await fn(clients);
      assert.deepEqual(clients.errors, [], "client 'error' events");
    } finally {
      await clients.closeAll();
    }
  };
}

/** A RESP3 map as node-redis returns it by default (an object), or a Map. */
function field(reply: unknown, name: string): unknown {
  return reply instanceof Map ? reply.get(name) : (reply as Record<string, unknown>)[name];
}

const SCENARIOS: Record<string, Scenario> = {
  "connect with defaults: HELLO 3, CLIENT SETINFO, RESP3 replies": nodeRedis(async (clients) => {
    const client = await clients.open();
    const hello = await client.hello();
    assert.equal(field(hello, "proto"), 3);
    assert.equal(field(hello, "server"), "redis");
    assert.equal(await client.ping(), "PONG");
    // A RESP3 verbatim string, as node-redis types it.
    assert.match(String(await client.info("server")), /redis_version:/);
    assert.equal(await client.dbSize(), 0);
    const named = await clients.open({ name: "app-1" });
    assert.equal(await named.clientGetName(), "app-1");
  }),

  "CONFIG GET answers a RESP3 map": nodeRedis(async (clients) => {
    const client = await clients.open();
    const config = await client.configGet(["appendonly", "maxmemory"]);
    assert.equal(field(config, "appendonly"), "no");
    assert.equal(field(config, "maxmemory"), "0");
  }),

  "strings: cache entries, counters, editing": nodeRedis(async (clients) => {
    const client = await clients.open();
    assert.equal(await client.setEx("page", 60, "<html>"), "OK");
    assert.equal(await client.pSetEx("fragment", 60_000, "<p>"), "OK");
    assert.ok([59, 60].includes(await client.ttl("page")));
    assert.equal(await client.set("s", "a", { NX: true, EX: 100 }), "OK");
    assert.equal(await client.set("s", "b", { NX: true }), null);
    assert.equal(await client.set("s", "c", { XX: true, KEEPTTL: true, GET: true }), "a");
    assert.ok([99, 100].includes(await client.ttl("s")));
    assert.equal(await client.getEx("s", { type: "PERSIST" }), "c");
    assert.equal(await client.ttl("s"), -1);
    assert.equal(await client.getSet("s", "d"), "c");
    assert.equal(await client.getDel("s"), "d");
    assert.equal(await client.incr("n"), 1);
    assert.equal(await client.incrBy("n", 9), 10);
    assert.equal(await client.decrBy("n", 20), -10);
    assert.equal(await client.incrByFloat("f", 10.5), "10.5");
    assert.equal(await client.incrByFloat("f", 0.1), "10.6");
    for (let i = 0; i < 3; i++) await client.incrByFloat("tenths", 0.1);
    assert.equal(await client.get("tenths"), "0.3");
    assert.equal(await client.append("log", "hello "), 6);
    assert.equal(await client.append("log", "world"), 11);
    assert.equal(await client.getRange("log", 0, 4), "hello");
    assert.equal(await client.getRange("log", -5, -1), "world");
    assert.equal(await client.setRange("log", 6, "WORLD"), 11);
    assert.equal(await client.get("log"), "hello WORLD");
    assert.equal(await client.setRange("pad", 3, "x"), 4);
    assert.equal(await client.get("pad"), "\0\0\0x");
    assert.equal(await client.mSet({ k1: "ohmytext", k2: "mynewtext" }), "OK");
    assert.equal(await client.lcs("k1", "k2"), "mytext");
    assert.equal(await client.lcsLen("k1", "k2"), 6);
    const idx = await client.lcsIdxWithMatchLen("k1", "k2", { MINMATCHLEN: 4 });
    assert.equal(field(idx, "len"), 6);
    assert.deepEqual(field(idx, "matches"), [[[4, 7], [5, 8], 4]]);
    assert.deepEqual(await client.mGet(["k1", "missing"]), ["ohmytext", null]);
    await assert.rejects(() => client.incr("log"), /value is not an integer or out of range/);
    await assert.rejects(() => client.incrByFloat("log", 1), /value is not a valid float/);
    await assert.rejects(() => client.setEx("e", 0, "v"), /invalid expire time in 'setex'/);
  }),

  "bitmaps and BITFIELD": nodeRedis(async (clients) => {
    const client = await clients.open();
    for (const user of [1, 5, 9, 200]) assert.equal(await client.setBit("mon", user, 1), 0);
    for (const user of [1, 9, 33]) await client.setBit("tue", user, 1);
    assert.equal(await client.getBit("mon", 5), 1);
    assert.equal(await client.bitCount("mon"), 4);
    assert.equal(await client.bitCount("mon", { start: 0, end: 0 }), 2);
    assert.equal(await client.bitCount("mon", { start: 0, end: 15, mode: "BIT" }), 3);
    assert.equal(await client.bitOp("AND", "both", ["mon", "tue"]), 26);
    assert.equal(await client.bitCount("both"), 2);
    assert.equal(await client.bitOp("NOT", "not-mon", "mon"), 26);
    assert.equal(await client.bitPos("tue", 1, 2), 33);
    assert.equal(await client.bitPos("missing", 1), -1);
    assert.deepEqual(
      await client.bitField("counters", [
        { operation: "INCRBY", encoding: "u8", offset: "#0", increment: 250 },
        { operation: "OVERFLOW", behavior: "FAIL" },
        { operation: "INCRBY", encoding: "u8", offset: "#0", increment: 10 },
        { operation: "SET", encoding: "i16", offset: 16, value: -1234 },
        { operation: "GET", encoding: "i16", offset: 16 },
      ]),
      [250, null, 0, -1234],
    );
    assert.deepEqual(
      await client.bitFieldRo("counters", [{ encoding: "u8", offset: 0 }]),
      [250],
    );
    await assert.rejects(
      () => client.bitOp("NOT", "d", ["mon", "tue"]),
      /BITOP NOT must be called with a single source key/,
    );
  }),

  "MULTI/EXEC: exec, execAsPipeline, runtime and queued errors": nodeRedis(async (clients) => {
    const client = await clients.open();
    assert.deepEqual(
      await client.multi().set("a", "1").incr("a").get("a").setEx("lock", 30, "me").exec(),
      ["OK", 2, "2", "OK"],
    );
    assert.deepEqual(await client.multi().incr("a").incr("a").execAsPipeline(), [3, 4]);
    // A runtime error fails only its command: node-redis rejects the whole
    // exec with a MultiErrorReply, and the other commands were applied.
    await client.set("word", "abc");
    await assert.rejects(
      () => client.multi().set("b", "1").incr("word").incr("b").exec(),
      (e: Error) =>
        /value is not an integer/.test(String(
          (e as { replies?: unknown[] })
            .replies?.[1] ?? e.message,
        )),
    );
    assert.equal(await client.get("b"), "2");
    // A command refused while queuing: EXECABORT, nothing runs.
    await assert.rejects(
      () => client.multi().set("c", "1").addCommand(["SET", "c"]).exec(),
      /EXECABORT|wrong number of arguments/,
    );
    assert.equal(await client.exists("c"), 0);
    assert.equal(await client.ping(), "PONG");
  }),

  "WATCH: WatchError on a concurrent change, then a retry commits": nodeRedis(async (clients) => {
    const client = await clients.open();
    const other = await clients.open();
    await client.set("stock", "3");
    let attempts = 0;
    while (true) {
      attempts++;
      await client.watch("stock");
      const stock = Number(await client.get("stock"));
      if (attempts === 1) await other.decr("stock");
      try {
        await client.multi().set("stock", String(stock - 1)).exec();
        break;
      } catch (e) {
        if (!(e instanceof WatchError)) throw e;
      }
    }
    assert.equal(attempts, 2);
    assert.equal(await client.get("stock"), "1");
    // FLUSHDB from another client counts as a change; UNWATCH forgets.
    await client.watch("stock");
    await other.flushDb();
    await assert.rejects(() => client.multi().set("stock", "9").exec(), WatchError);
    await client.watch("stock");
    await other.set("stock", "5");
    assert.equal(await client.unwatch(), "OK");
    assert.deepEqual(await client.multi().incr("stock").exec(), [6]);
  }),

  "WATCH retry loops from 10 clients at once": nodeRedis(async (clients) => {
    const workers = await Promise.all(Array.from({ length: 10 }, () => clients.open()));
    const increments = 20;
    let attempts = 0;
    await Promise.all(workers.map(async (c) => {
      for (let i = 0; i < increments; i++) {
        while (true) {
          attempts++;
          await c.watch("counter");
          const n = Number(await c.get("counter") ?? "0");
          try {
            await c.multi().set("counter", String(n + 1)).exec();
            break;
          } catch (e) {
            if (!(e instanceof WatchError)) throw e;
          }
        }
      }
    }));
    assert.equal(await workers[0].get("counter"), String(workers.length * increments));
    assert.ok(attempts >= workers.length * increments);
  }),

  "databases: the database option, SELECT, MOVE, SWAPDB, FLUSHDB": nodeRedis(async (clients) => {
    const db0 = await clients.open();
    const db1 = await clients.open({ database: 1 });
    assert.equal(await db1.set("tenant", "one"), "OK");
    assert.equal(await db0.get("tenant"), null);
    assert.deepEqual(await db1.multi().set("a", "1").incr("a").exec(), ["OK", 2]);
    assert.equal(await db0.exists("a"), 0);
    assert.equal(await db1.dbSize(), 2);
    assert.match(String(await db0.info("keyspace")), /db1:keys=2,expires=0/);
    assert.equal(await db1.move("a", 0), 1);
    assert.equal(await db0.get("a"), "2");
    assert.equal(await db0.swapDb(0, 1), "OK");
    assert.equal(await db0.get("tenant"), "one");
    assert.equal(await db1.get("a"), "2");
    const other = await clients.open();
    await other.select(7);
    assert.equal(await other.set("seven", "7"), "OK");
    assert.equal(await (await clients.open({ database: 7 })).get("seven"), "7");
    assert.equal(await other.flushDb(), "OK");
    assert.equal(await other.dbSize(), 0);
    assert.equal(await db0.dbSize(), 1);
    await assert.rejects(() => other.select(16), /DB index is out of range/);
  }),

  "DUMP/RESTORE with Buffers, across databases": nodeRedis(async (clients) => {
    const client = await clients.open();
    const buffers = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    const value = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7) % 256));
    await client.set("blob", value);
    const payload = await buffers.dump("blob");
    assert.ok(payload instanceof Buffer);
    assert.equal(await client.restore("copy", 0, payload), "OK");
    assert.deepEqual(await buffers.get("copy"), value);
    await assert.rejects(() => client.restore("copy", 0, payload), /BUSYKEY/);
    assert.equal(await client.restore("copy", 5000, payload, { REPLACE: true }), "OK");
    const pttl = await client.pTTL("copy");
    assert.ok(pttl > 4000 && pttl <= 5000, `pttl ${pttl}`);
    const broken = Buffer.from(payload);
    broken[broken.length - 1] ^= 0xff;
    await assert.rejects(
      () => client.restore("x", 0, broken),
      /DUMP payload version or checksum are wrong/,
    );
    const db3 = await clients.open({ database: 3 });
    assert.equal(await db3.restore("blob", 0, payload), "OK");
    assert.deepEqual(
      await db3.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).get("blob"),
      value,
    );
    assert.equal(await buffers.dump("missing"), null);
  }),

  "RESP: 2 option": nodeRedis(async (clients) => {
    const client = await clients.open({ RESP: 2 });
    assert.equal(await client.set("k", "v"), "OK");
    assert.deepEqual(await client.multi().get("k").incr("n").exec(), ["v", 1]);
    const config = await client.configGet("appendonly");
    assert.equal(field(config, "appendonly"), "no");
    const idx = await client.lcsIdx("k", "k");
    assert.equal(field(idx, "len"), 1);
  }),

  "a session hash: fields, counters, expiry, logout": nodeRedis(async (clients) => {
    const client = await clients.open();
    const sid = "session:9f2c";
    assert.equal(await client.hSet(sid, { user_id: "42", name: "Ada", cart_items: 0 }), 3);
    assert.equal(await client.expire(sid, 1800), 1);
    assert.equal(await client.hGet(sid, "name"), "Ada");
    assert.equal(await client.hIncrBy(sid, "cart_items", 2), 2);
    assert.equal(Number(await client.hIncrByFloat(sid, "cart_total", 19.99)), 19.99);
    assert.deepEqual(
      { ...await client.hGetAll(sid) },
      { user_id: "42", name: "Ada", cart_items: "2", cart_total: "19.99" },
    );
    assert.deepEqual(await client.hmGet(sid, ["user_id", "missing"]), ["42", null]);
    assert.equal(await client.hSetNX(sid, "name", "Eve"), 0);
    assert.equal(await client.hLen(sid), 4);
    assert.equal(await client.type(sid), "hash");
    assert.equal(await client.hDel(sid, ["cart_items", "cart_total"]), 2);
    await assert.rejects(() => client.get(sid), /WRONGTYPE/);
    assert.equal(await client.del(sid), 1);
    assert.deepEqual({ ...await client.hGetAll(sid) }, {});
  }),

  "a job queue: LPUSH producers, BRPOP workers on their own connections": nodeRedis(
    async (clients) => {
      const producer = await clients.open();
      const jobs = 120;
      const done: string[] = [];
      const worker = async () => {
        const w = await clients.open();
        for (;;) {
          const item = await w.brPop(["jobs:high", "jobs"], 2);
          if (item === null || item.element === "stop") return;
          await w.lPush("results", item.element);
          done.push(item.element);
        }
      };
      // A worker's failure (e.g. BRPOP refused) fails the scenario, never dangles.
      const failures: unknown[] = [];
      const workers = [worker(), worker(), worker()].map((p) => p.catch((e) => failures.push(e)));
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (let i = 0; i < jobs; i++) {
        await producer.lPush(i % 10 === 0 ? "jobs:high" : "jobs", `job${i}`);
      }
      const deadline = Date.now() + 20_000;
      while (await producer.lLen("results") < jobs) {
        if (failures.length > 0) throw failures[0];
        if (Date.now() > deadline) throw new Error("the workers did not finish the jobs in 20 s");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (let i = 0; i < workers.length; i++) await producer.lPush("jobs", "stop");
      await within(Promise.all(workers), 10_000, "workers stop");
      if (failures.length > 0) throw failures[0];
      assert.deepEqual(done.sort(), Array.from({ length: jobs }, (_, i) => `job${i}`).sort());
      assert.equal(await producer.exists(["jobs", "jobs:high"]), 0);
      const started = Date.now();
      assert.equal(await producer.brPop("empty", 0.3), null);
      assert.ok(Date.now() - started >= 250, "BRPOP waited for its timeout");
    },
  ),

  "a leaderboard: ZADD, ZINCRBY, ranks, pages with scores, unions": nodeRedis(async (clients) => {
    const client = await clients.open();
    const board = "leaderboard:2026";
    assert.equal(
      await client.zAdd(board, [
        { score: 3100, value: "ada" },
        { score: 2800, value: "bob" },
        { score: 2800, value: "cy" },
        { score: 4050.5, value: "dee" },
      ]),
      4,
    );
    assert.equal(Number(await client.zIncrBy(board, 150, "bob")), 2950);
    assert.deepEqual(
      (await client.zRangeWithScores(board, 0, 2, { REV: true })).map((e) => [e.value, e.score]),
      [["dee", 4050.5], ["ada", 3100], ["bob", 2950]],
    );
    assert.equal(await client.zRevRank(board, "bob"), 2);
    assert.equal(await client.zCard(board), 4);
    assert.equal(await client.zCount(board, 2900, "+inf"), 3);
    assert.deepEqual(
      await client.zRange(board, "(2800", 3100, { BY: "SCORE" }),
      ["bob", "ada"],
    );
    assert.equal(Number(await client.zScore(board, "ada")), 3100);
    assert.equal(await client.zScore(board, "nobody"), null);
    assert.deepEqual(
      (await client.zPopMin(board)) as unknown,
      { value: "cy", score: 2800 },
    );
    await client.zAdd("week", [{ score: 10, value: "ada" }, { score: 5, value: "zed" }]);
    assert.equal(await client.zUnionStore("total", [board, "week"]), 4);
    assert.equal(Number(await client.zScore("total", "ada")), 3110);
    assert.equal(await client.sAdd("tags:ada", ["pro", "eu"]), 2);
    assert.equal(await client.sAdd("tags:bob", ["eu"]), 1);
    assert.deepEqual(await client.sInter(["tags:ada", "tags:bob"]), ["eu"]);
    await assert.rejects(() => client.lPush(board, "x"), /WRONGTYPE/);
  }),
};

/** Scenarios kvdb is known to fail (the scenario asserts Redis's behaviour), and how. */
const KNOWN_GAPS: KnownGaps = {};

realClientTest("node-redis 6: scenarios against redis-server, then kvdb", {
  scenarios: SCENARIOS,
  knownGaps: KNOWN_GAPS,
});
