/**
 * Client limits (issue 18 point 4), on a real server over TCP: Redis's
 * `client-output-buffer-limit` for the normal and pubsub classes (hard
 * limit, soft limit held for its seconds), `client-query-buffer-limit`,
 * and `maxmemory-clients` client eviction with CLIENT NO-EVICT — each
 * closing exactly the client past its limit, counted in INFO and logged,
 * while the server and the other clients go on; and the CONFIG GET/SET
 * replies of these parameters against redis-server 7.0, byte for byte.
 */

import assert from "node:assert/strict";
import {
  delay,
  encodeRespCommand,
  infoSection,
  RespClient,
  RespError,
  rssBytes,
  runKvdb,
  ServerProcess,
} from "./_helpers.ts";
import { differentialTest, DiffPair, type StepLike } from "./_differential.ts";

const MIB = 1024 * 1024;
const VALUE_BYTES = 100_000;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/** CLIENT LIST as one map of fields per client, by id. */
async function clientList(client: RespClient): Promise<Map<number, Map<string, string>>> {
  const text = await client.call("CLIENT", "LIST") as string;
  const out = new Map<number, Map<string, string>>();
  for (const line of text.trim().split("\n")) {
    const fields = new Map(line.split(" ").map((kv) => kv.split("=", 2) as [string, string]));
    out.set(Number(fields.get("id")), fields);
  }
  return out;
}

/** An INFO field as a number (0 when absent). */
async function infoNumber(client: RespClient, section: string, field: string): Promise<number> {
  return Number((await infoSection(client, section)).get(field) ?? 0);
}

/** A raw connection and its client id (asked before it is left alone). */
async function rawClient(port: number): Promise<{ conn: Deno.TcpConn; id: number }> {
  const c = await RespClient.connect(port);
  const id = await c.call("CLIENT", "ID") as number;
  // The RespClient's socket is used raw from here: nothing else reads it.
  return { conn: c.conn, id };
}

/** Whether the peer closed `conn` (a read ends or fails) within `timeoutMs`. */
async function closedByPeer(conn: Deno.Conn, timeoutMs: number): Promise<boolean> {
  const buffer = new Uint8Array(1024 * 1024);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buffer).catch(() => null),
      new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 200)),
    ]);
    clearTimeout(timer);
    if (n === null) return true;
  }
  return false;
}

Deno.test("a client pipelining 1M GETs of a 100 KB value that never reads is closed at its output limit; RSS stays bounded; others are served", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "1MiB" } });
  const admin = await RespClient.connect(server.port);
  const reader = await RespClient.connect(server.port);
  let lazy: Deno.TcpConn | undefined;
  try {
    const value = "v".repeat(VALUE_BYTES);
    assert.equal((await admin.call("SET", "big", value) as { text: string }).text, "OK");
    // Redis's syntax, live: hard 4 MiB, soft 256 KiB held for over 1 s.
    assert.equal(
      (await admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 4mb 256kb 1") as {
        text: string;
      }).text,
      "OK",
    );
    // A client that reads takes 20 MB of the same replies and is not closed:
    // the soft clock restarts whenever its output is all sent.
    for (let i = 0; i < 10; i++) {
      const replies = await reader.pipeline(Array.from({ length: 20 }, () => ["GET", "big"]));
      assert.ok(replies.every((r) => r === value));
      await delay(120); // longer runs than the soft seconds in total
    }

    const raw = await rawClient(server.port);
    lazy = raw.conn;
    const before = rssBytes(server.child.pid);
    let peakRss = before;
    // 1M pipelined GETs (22 MB of requests), written in the background: the
    // server stops reading them once its replies wait, so the writes block.
    const get = encodeRespCommand(["GET", "big"]);
    const chunk = new Uint8Array(get.length * 10_000);
    for (let i = 0; i < 10_000; i++) chunk.set(get, i * get.length);
    const conn = lazy;
    const writing = (async () => {
      for (let i = 0; i < 100; i++) await conn.write(chunk);
    })().catch(() => "closed");

    // While it is stuck, its unsent output shows in CLIENT LIST, and the
    // others are served at once.
    let sawOmem = 0;
    let stuckMs = 0;
    let slowestPingMs = 0;
    await waitFor("the lazy client to be closed", async () => {
      const started = performance.now();
      assert.equal((await admin.call("PING") as { text: string }).text, "PONG");
      assert.equal(await reader.call("GET", "big"), value);
      slowestPingMs = Math.max(slowestPingMs, performance.now() - started);
      peakRss = Math.max(peakRss, rssBytes(server.child.pid));
      const mine = (await clientList(admin)).get(raw.id);
      if (mine === undefined) return true;
      const omem = Number(mine.get("omem"));
      if (omem > 0 && stuckMs === 0) stuckMs = Date.now();
      sawOmem = Math.max(sawOmem, omem);
      await delay(50);
      return false;
    }, 20_000);
    const closedAfterMs = Date.now() - stuckMs;
    console.log(
      `stuck client: omem up to ${sawOmem} B, closed ${closedAfterMs} ms after it showed; ` +
        `RSS ${(before / MIB).toFixed(0)} → peak ${(peakRss / MIB).toFixed(0)} MiB; ` +
        `slowest PING+GET meanwhile ${slowestPingMs.toFixed(0)} ms`,
    );
    // The soft limit: 256 KiB of replies wait (OUT_FLUSH_BYTES's batch,
    // minus the 16 KiB CLIENT LIST shows as obl), for over a second.
    assert.ok(sawOmem >= 256 * 1024 - 16 * 1024, `omem showed ${sawOmem}`);
    assert.ok(closedAfterMs >= 900 && closedAfterMs < 4000, `closed after ${closedAfterMs} ms`);
    assert.equal(await writing, "closed", "the server closed the connection");
    // The server holds one batch of replies for it (≤ 4 MiB, the values by
    // reference) and leaves the rest of the 22 MB of requests in TCP; its
    // resident memory grows by what decoding a few thousand GETs leaves to
    // V8's collector. Buffering 1M replies of 100 KB would take 100 GB.
    assert.ok(
      peakRss - before < 64 * MIB,
      `resident memory grew by ${((peakRss - before) / MIB).toFixed(0)} MiB`,
    );
    assert.ok(slowestPingMs < 1000, `others waited ${slowestPingMs} ms`);
    assert.equal(
      await infoNumber(admin, "stats", "kvdb_clients_closed_network_output_buffer_soft_limit"),
      1,
    );
    assert.ok(
      server.logs.some((l) =>
        /clients closed for limits/.test(l) && /network\.output_buffer_soft_limit/.test(l)
      ),
      "the closing is logged",
    );
  } finally {
    try {
      lazy?.close();
    } catch {
      // Closed by the server.
    }
    admin.close();
    reader.close();
    await server.stop();
  }
});

Deno.test("a reply past the normal hard limit closes its client at once; smaller ones are served", async () => {
  const server = await ServerProcess.start({
    network: { max_message_size: "1MiB", output_buffer_hard_limit: "1MiB" },
  });
  const admin = await RespClient.connect(server.port);
  try {
    const value = "h".repeat(VALUE_BYTES);
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    await admin.pipeline(keys.map((k) => ["SET", k, value]));
    assert.deepEqual(
      await admin.call("CONFIG", "GET", "client-output-buffer-limit"),
      [
        "client-output-buffer-limit",
        "normal 1048576 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
      ],
    );
    const small = await admin.call("MGET", ...keys.slice(0, 5)) as string[];
    assert.equal(small.length, 5);
    const { conn } = await rawClient(server.port);
    await conn.write(encodeRespCommand(["MGET", ...keys])); // a 3 MB reply
    assert.ok(await closedByPeer(conn, 5000), "closed without its 3 MB reply");
    conn.close();
    assert.equal(await admin.call("PING") instanceof RespError, false);
    assert.equal(
      await infoNumber(admin, "stats", "kvdb_clients_closed_network_output_buffer_hard_limit"),
      1,
    );
  } finally {
    admin.close();
    await server.stop();
  }
});

Deno.test("a subscriber that never reads is closed at the pubsub hard limit while publishers go on", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "1MiB" } });
  const admin = await RespClient.connect(server.port);
  const publishers = [await RespClient.connect(server.port), await RespClient.connect(server.port)];
  const reading = await RespClient.connect(server.port);
  try {
    await admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 2mb 0 0");
    const { conn: lazy, id } = await rawClient(server.port);
    await lazy.write(encodeRespCommand(["SUBSCRIBE", "feed"]));
    assert.deepEqual(await reading.call("SUBSCRIBE", "feed"), ["subscribe", "feed", 1]);
    await waitFor(
      "both subscribed",
      async () =>
        await admin.call("PUBSUB", "NUMSUB", "feed").then((r) => (r as unknown[])[1] === 2),
    );
    const message = "m".repeat(64 * 1024);
    // 40 MB published; the reading subscriber takes every message as it comes.
    const received = (async () => {
      for (let i = 0; i < 640; i++) {
        const m = (await reading.read()).value as string[];
        assert.deepEqual([m[0], m[1], m[2].length], ["message", "feed", message.length]);
      }
    })();
    const counts: number[] = [];
    for (let i = 0; i < 320; i++) {
      const replies = await Promise.all(publishers.map((p) => p.call("PUBLISH", "feed", message)));
      counts.push(...replies as number[]);
    }
    await received;
    assert.equal(counts[0], 2, "both got the first");
    assert.equal(counts.at(-1), 1, "only the reader once the lazy one is closed");
    assert.equal((await clientList(admin)).has(id), false);
    lazy.close();
    assert.equal(
      await infoNumber(admin, "stats", "kvdb_clients_closed_pubsub_output_buffer_hard_limit"),
      1,
    );
  } finally {
    for (const c of [admin, ...publishers, reading]) c.close();
    await server.stop();
  }
});

Deno.test("soft limit: a subscriber above it for its seconds is closed though nothing more comes", async () => {
  const server = await ServerProcess.start({
    network: { max_message_size: "1MiB" },
    pubsub: {
      output_buffer_hard_limit: 0,
      output_buffer_soft_limit: "512KiB",
      output_buffer_soft_seconds: 2,
    },
  });
  const admin = await RespClient.connect(server.port);
  try {
    const { conn: lazy, id } = await rawClient(server.port);
    await lazy.write(encodeRespCommand(["SUBSCRIBE", "feed"]));
    await waitFor("subscribed", async () => (await clientList(admin)).get(id)?.get("sub") === "1");
    // 16 MB at once: more than TCP takes, so over 512 KiB stays unsent.
    const message = "s".repeat(256 * 1024);
    const overSince = Date.now();
    await admin.pipeline(Array.from({ length: 64 }, () => ["PUBLISH", "feed", message]));
    await delay(1200);
    const still = (await clientList(admin)).get(id);
    assert.ok(still !== undefined, "within its 2 seconds it stays");
    assert.ok(Number(still.get("omem")) >= 512 * 1024, `omem ${still.get("omem")}`);
    await waitFor("the soft limit to close it", async () => !(await clientList(admin)).has(id));
    const afterMs = Date.now() - overSince;
    assert.ok(afterMs >= 2000 && afterMs < 4500, `closed after ${afterMs} ms`);
    lazy.close();
    assert.equal(
      await infoNumber(admin, "stats", "kvdb_clients_closed_pubsub_output_buffer_soft_limit"),
      1,
    );
  } finally {
    admin.close();
    await server.stop();
  }
});

Deno.test("client-query-buffer-limit: a client with more unparsed input is closed without a reply", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "8MiB" } });
  const admin = await RespClient.connect(server.port);
  try {
    const twoMb = "q".repeat(2 * MIB);
    // The default (1gb): a 2 MB request is served.
    assert.equal((await admin.call("SET", "k", twoMb) as { text: string }).text, "OK");
    assert.equal(
      (await admin.call("CONFIG", "SET", "client-query-buffer-limit", "1mb") as { text: string })
        .text,
      "OK",
    );
    assert.equal(
      (await admin.call("SET", "k2", "q".repeat(900_000)) as { text: string }).text,
      "OK",
    );
    const { conn } = await rawClient(server.port);
    await conn.write(encodeRespCommand(["SET", "k3", twoMb])).catch(() => {});
    assert.ok(await closedByPeer(conn, 5000), "closed");
    conn.close();
    assert.equal(await admin.call("EXISTS", "k3"), 0, "the request was not executed");
    assert.equal(
      await infoNumber(admin, "stats", "kvdb_clients_closed_network_query_buffer_limit"),
      1,
    );
    assert.ok(server.logs.some((l) => /network\.query_buffer_limit/.test(l)), "logged");
  } finally {
    admin.close();
    await server.stop();
  }
});

/**
 * A client whose read buffer holds the first `bytes` of a SET it never
 * finishes: it grows to the next power of two (1 MiB for 700 KB).
 */
async function halfSent(port: number, bytes: number, noEvict = false) {
  const c = await RespClient.connect(port);
  const id = await c.call("CLIENT", "ID") as number;
  if (noEvict) await c.call("CLIENT", "NO-EVICT", "on");
  const full = encodeRespCommand(["SET", `half${id}`, "x".repeat(bytes + 1000)]);
  await c.send(full.subarray(0, bytes));
  return { c, id, rest: full.subarray(bytes) };
}

Deno.test("maxmemory-clients closes the biggest clients; CLIENT NO-EVICT exempts one", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "2MiB" } });
  const admin = await RespClient.connect(server.port);
  const opened: RespClient[] = [admin];
  try {
    assert.equal((await admin.call("CLIENT", "NO-EVICT", "on") as { text: string }).text, "OK");
    const small = [await RespClient.connect(server.port), await RespClient.connect(server.port)];
    opened.push(...small);
    const ids = await Promise.all(small.map((c) => c.call("CLIENT", "ID"))) as number[];
    // Three clients of ~66 KB each: well under 1 MB.
    await admin.call("CONFIG", "SET", "maxmemory-clients", "1mb");
    await delay(300);
    assert.equal((await clientList(admin)).size, 3);

    // One client with 700 KB of a request (a 1 MiB read buffer): the
    // total passes 1 MiB and that client, the biggest, is closed.
    const big = await halfSent(server.port, 700_000);
    opened.push(big.c);
    await waitFor(
      "the biggest client to be evicted",
      async () => !(await clientList(admin)).has(big.id),
    );
    const list = await clientList(admin);
    for (const id of ids) assert.ok(list.has(id), `small client ${id} stays`);
    for (const c of small) assert.equal((await c.call("PING") as { text: string }).text, "PONG");
    assert.equal(
      await infoNumber(admin, "stats", "kvdb_clients_closed_network_maxmemory_clients"),
      1,
    );

    // The same with NO-EVICT: the others are closed, biggest first, until
    // nothing evictable is left; it stays and finishes its request.
    const exempt = await halfSent(server.port, 700_000, true);
    opened.push(exempt.c);
    await waitFor("the small clients to be evicted", async () => {
      const now = await clientList(admin);
      return ids.every((id) => !now.has(id));
    });
    const after = await clientList(admin);
    assert.ok(after.has(exempt.id), "the NO-EVICT client stays");
    assert.match(after.get(exempt.id)!.get("flags")!, /e/);
    await exempt.c.send(exempt.rest);
    assert.equal(((await exempt.c.read()).value as { text: string }).text, "OK");
    assert.equal(
      await infoNumber(admin, "stats", "kvdb_clients_closed_network_maxmemory_clients"),
      3,
    );
    assert.ok(server.logs.some((l) => /network\.maxmemory_clients/.test(l)), "logged");
  } finally {
    for (const c of opened) c.close();
    await server.stop();
  }
});

Deno.test("the client limits are set at run time in the local CLI too (no clients there)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-test-" });
  try {
    const out = await runKvdb(["cli"], {
      cwd: dir,
      stdin: [
        "CONFIG SET client-query-buffer-limit 2mb",
        'CONFIG SET client-output-buffer-limit "normal 1mb 0 0 replica 1mb 0 0"',
        "CONFIG SET maxmemory-clients 5%",
        "CONFIG GET client-*",
        "CONFIG GET maxmemory-clients",
      ].join("\n") + "\n",
    });
    assert.doesNotMatch(out.stdout + out.stderr, /error/i);
    assert.match(out.stdout, /normal 1048576 0 0 slave 1048576 0 0 pubsub 33554432 8388608 60/);
    assert.match(out.stdout, /2097152/);
    assert.match(out.stdout, /5%/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The CONFIG GET/SET replies of the client limit parameters. */
const CONFIG_CASES: StepLike[] = [
  ["CONFIG", "GET", "client-output-buffer-limit"],
  ["CONFIG", "GET", "client-query-buffer-limit"],
  ["CONFIG", "GET", "maxmemory-clients"],
  ["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 2k 3"],
  ["CONFIG", "GET", "client-output-buffer-limit"],
  ["CONFIG", "SET", "client-output-buffer-limit", "slave 1 2"],
  ["CONFIG", "SET", "client-output-buffer-limit", "master 1 2 3"],
  ["CONFIG", "SET", "client-output-buffer-limit", "normal x 2 3"],
  ["CONFIG", "SET", "client-output-buffer-limit", "normal 1 2 -3"],
  ["CONFIG", "SET", "client-output-buffer-limit", ""],
  ["CONFIG", "SET", "client-output-buffer-limit", "replica 1 2 3"],
  ["CONFIG", "GET", "client-output-buffer-limit"],
  ["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1gb 2gb 0 NORMAL 0 0 0"],
  ["CONFIG", "GET", "client-output-buffer-limit"],
  // All or nothing: a bad group leaves the good one unapplied.
  ["CONFIG", "SET", "client-output-buffer-limit", "normal 5 5 5 pubsub 1 2 x"],
  ["CONFIG", "GET", "client-output-buffer-limit"],
  ["CONFIG", "SET", "client-output-buffer-limit", "SLAVE 256mb 64mb 60 pubsub 32mb 8mb 60"],
  ["CONFIG", "GET", "client-output-buffer-limit"],
  ["CONFIG", "SET", "client-query-buffer-limit", "1"],
  ["CONFIG", "SET", "client-query-buffer-limit", "1048575"],
  ["CONFIG", "SET", "client-query-buffer-limit", "-1"],
  ["CONFIG", "SET", "client-query-buffer-limit", "1mb"],
  ["CONFIG", "GET", "client-query-buffer-limit"],
  ["CONFIG", "SET", "client-query-buffer-limit", "2gb"],
  ["CONFIG", "GET", "client-query-buffer-limit"],
  ["CONFIG", "SET", "maxmemory-clients", "10%"],
  ["CONFIG", "GET", "maxmemory-clients"],
  ["CONFIG", "SET", "maxmemory-clients", "0%"],
  ["CONFIG", "GET", "maxmemory-clients"],
  ["CONFIG", "SET", "maxmemory-clients", "100%"],
  ["CONFIG", "SET", "maxmemory-clients", "101%"],
  ["CONFIG", "GET", "maxmemory-clients"],
  ["CONFIG", "SET", "maxmemory-clients", "1mb"],
  ["CONFIG", "GET", "maxmemory-clients"],
  ["CONFIG", "SET", "maxmemory-clients", "1k"],
  ["CONFIG", "GET", "maxmemory-clients"],
  ["CONFIG", "SET", "maxmemory-clients", "-5"],
  ["CONFIG", "SET", "maxmemory-clients", "5.5%"],
  ["CONFIG", "SET", "maxmemory-clients", "0"],
  ["CONFIG", "GET", "maxmemory-clients"],
  ["CLIENT", "NO-EVICT", "on"],
  ["CLIENT", "NO-EVICT", "maybe"],
  ["CLIENT", "NO-EVICT", "off"],
];

differentialTest(
  "differential: CONFIG GET/SET of the client limits and CLIENT NO-EVICT, kvdb vs redis-server 7.0",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    for (const resp3 of [false, true]) {
      await t.step(resp3 ? "RESP3" : "RESP2", async () => {
        await pair.diff(CONFIG_CASES, { resp3, label: resp3 ? "RESP3" : "RESP2" });
        // Back to the defaults for the next round.
        await pair.diff([
          [
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60",
          ],
          ["CONFIG", "SET", "client-query-buffer-limit", "1gb"],
        ]);
      });
    }
  },
);
