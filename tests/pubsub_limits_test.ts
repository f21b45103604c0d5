/**
 * Bounds of pub/sub and MONITOR (issue 14 "bad input", issue 18 point 4):
 * a subscriber or MONITOR client that never reads is closed at the pubsub
 * output limit (Redis's `client-output-buffer-limit pubsub 32mb 8mb 60`,
 * kvdb's `pubsub.output_buffer_*`) while the server's resident memory stays
 * bounded — measured; a slow reader gets every message, whole and in order;
 * messages reach a subscriber idle in a read at once; and subscribers and
 * MONITOR clients are exempt from `network.idle_timeout`, as Redis exempts
 * them from `timeout`.
 */

import assert from "node:assert/strict";
import {
  delay,
  encodeRespCommand,
  RespClient,
  RespStatus,
  rssBytes,
  ServerProcess,
} from "./_helpers.ts";

const MIB = 1024 * 1024;

/** A connection that sends `args` and then never reads. */
async function neverReads(port: number, args: readonly string[]): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encodeRespCommand([...args]));
  return conn;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/**
 * Sends `count` requests of `value` (1 MiB) through `client`, a few at a
 * time; returns the integer replies and the server's peak resident memory.
 */
async function flood(
  server: ServerProcess,
  client: RespClient,
  count: number,
  request: (i: number) => string[],
): Promise<{ replies: unknown[]; peakRss: number }> {
  const replies: unknown[] = [];
  let peakRss = rssBytes(server.child.pid);
  for (let i = 0; i < count; i += 8) {
    const batch = Array.from({ length: Math.min(8, count - i) }, (_, j) => request(i + j));
    replies.push(...await client.pipeline(batch));
    peakRss = Math.max(peakRss, rssBytes(server.child.pid));
  }
  return { replies, peakRss };
}

for (
  const kind of [
    { name: "subscriber", args: ["SUBSCRIBE", "news"], request: "PUBLISH" },
    { name: "MONITOR client", args: ["MONITOR"], request: "SET" },
  ] as const
) {
  Deno.test(`a ${kind.name} that never reads is closed at the pubsub output limit; server memory stays bounded`, async () => {
    const server = await ServerProcess.start({
      network: { max_message_size: "2MiB" },
      pubsub: { output_buffer_hard_limit: "32MiB" },
    });
    const lazy = await neverReads(server.port, kind.args);
    const client = await RespClient.connect(server.port);
    try {
      await waitFor("the lazy client to be registered", async () => {
        const list = await client.call("CLIENT", "LIST") as string;
        return list.includes(kind.name === "subscriber" ? "sub=1" : "flags=O");
      });
      const before = rssBytes(server.child.pid);
      const value = "v".repeat(MIB);
      // 400 MiB sent to a client that takes none of it.
      const { replies, peakRss } = await flood(
        server,
        client,
        400,
        (i) =>
          kind.request === "PUBLISH" ? ["PUBLISH", "news", value] : ["SET", `k${i % 4}`, value],
      );
      const grewMiB = (peakRss - before) / MIB;
      console.log(`${kind.name}: resident memory grew by ${grewMiB.toFixed(0)} MiB`);
      // Measured (400 MiB sent): ~60-160 MiB with the 32 MiB limit (V8 grows its heap
      // to a few times what stays live), ~490 MiB without it, growing with what is sent.
      assert.ok(
        grewMiB < 4 * 32 + 120,
        `resident memory grew by ${grewMiB.toFixed(0)} MiB for a client that never reads`,
      );
      const list = await client.call("CLIENT", "LIST") as string;
      assert.equal(list.trim().split("\n").length, 1, `the lazy client is gone:\n${list}`);
      if (kind.request === "PUBLISH") {
        assert.equal(replies[0], 1, "delivered while the client was there");
        assert.equal(replies.at(-1), 0, "nobody listens once it is closed");
      }
      assert.ok(
        server.logs.some((l) => /clients? closed for (a )?limits?.*pubsub\.output_buffer_/.test(l)),
        "the closing is logged",
      );
    } finally {
      lazy.close();
      client.close();
      await server.stop();
    }
  });
}

Deno.test("a slow subscriber gets every message whole and in order", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "1MiB" } });
  const subscriber = await RespClient.connect(server.port);
  const publisher = await RespClient.connect(server.port);
  try {
    assert.deepEqual(await subscriber.call("SUBSCRIBE", "c"), ["subscribe", "c", 1]);
    const count = 3000;
    const body = "m".repeat(20_000);
    const publishing = (async () => {
      for (let i = 0; i < count; i += 50) {
        const batch = Array.from({ length: 50 }, (_, j) => ["PUBLISH", "c", `${i + j}:${body}`]);
        await publisher.pipeline(batch);
      }
    })();
    for (let i = 0; i < count; i++) {
      if (i % 500 === 0) await delay(50); // reads in bursts: output waits, and keeps order
      const message = (await subscriber.read()).value as string[];
      assert.deepEqual(message.slice(0, 2), ["message", "c"]);
      assert.equal(message[2], `${i}:${body}`);
    }
    await publishing;
  } finally {
    subscriber.close();
    publisher.close();
    await server.stop();
  }
});

Deno.test("a message reaches a subscriber idle in a read at once", async () => {
  const server = await ServerProcess.start();
  const subscriber = await RespClient.connect(server.port);
  const publisher = await RespClient.connect(server.port);
  try {
    await subscriber.call("SUBSCRIBE", "c");
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      assert.equal(await publisher.call("PUBLISH", "c", `m${i}`), 1);
      assert.deepEqual((await subscriber.read(1000)).value, ["message", "c", `m${i}`]);
      assert.ok(performance.now() - start < 500, "delivered without waiting for a request");
    }
  } finally {
    subscriber.close();
    publisher.close();
    await server.stop();
  }
});

Deno.test("subscribers and MONITOR clients are exempt from network.idle_timeout", async () => {
  const server = await ServerProcess.start({ network: { idle_timeout: "300ms" } });
  const subscriber = await RespClient.connect(server.port);
  const monitor = await RespClient.connect(server.port);
  const idle = await RespClient.connect(server.port);
  try {
    await subscriber.call("SUBSCRIBE", "c");
    await monitor.call("MONITOR");
    await idle.call("PING");
    await delay(1000);
    await assert.rejects(() => idle.call("PING"), "an idle normal client is closed");
    const publisher = await RespClient.connect(server.port);
    assert.equal(await publisher.call("PUBLISH", "c", "still here"), 1);
    assert.deepEqual((await subscriber.read()).value, ["message", "c", "still here"]);
    // The lines so far: the idle client's PING, then the PUBLISH.
    assert.match(((await monitor.read()).value as RespStatus).text, /"PING"$/);
    assert.match(((await monitor.read()).value as RespStatus).text, /"PUBLISH" "c" "still here"$/);
    publisher.close();
    // Unsubscribed, it is an ordinary client again.
    assert.deepEqual(await subscriber.call("UNSUBSCRIBE"), ["unsubscribe", "c", 0]);
    await delay(1000);
    await assert.rejects(() => subscriber.call("PING"), "idle after unsubscribing: closed");
  } finally {
    subscriber.close();
    monitor.close();
    idle.close();
    await server.stop();
  }
});
