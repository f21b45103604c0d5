/**
 * Large values (issue 13 points 4 and 5): an APPEND costs the bytes it
 * appends, in the log and in memory, and survives restart exactly; a small
 * request for a large reply neither stalls other clients nor makes the
 * server hold a copy per reply.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  delay,
  dirBytes,
  RespClient,
  RespError,
  RespStatus,
  rssBytes,
  ServerProcess,
  walConfig,
} from "./_helpers.ts";

const MIB = 1024 * 1024;
const OK = new RespStatus("OK");

/** A value of `bytes` bytes of a repeating pattern (any byte value). */
function pattern(bytes: number, seed = 0): string {
  const unit = Array.from({ length: 251 }, (_, i) => String.fromCharCode((i * 7 + seed) & 0xff))
    .join("");
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

const BIG_CONFIG = (dir: string) => ({
  network: { max_message_size: "64MiB" },
  // Snapshots off: the log alone must hold the appends.
  ...walConfig(dir, { max_segment_size: "64MiB", snapshot_threshold: "1024GiB" }),
});

Deno.test("APPEND to a 16 MiB value logs and costs the bytes appended, and replays exactly", async () => {
  const dir = await Deno.makeTempDir();
  const config = BIG_CONFIG(dir);
  let server = await ServerProcess.start(config, { dir });
  let client = await RespClient.connect(server.port);
  try {
    const base = pattern(16 * MIB);
    assert.deepEqual(await client.call("SET", "big", base), OK);
    assert.equal(await client.call("EXPIRE", "big", "100000"), 1);
    const walBefore = await dirBytes(join(dir, "wal"));
    let expected = base;
    const appends = 40;
    for (let i = 0; i < appends; i++) {
      const piece = `<${i}\x00\xff>`;
      expected += piece;
      assert.equal(await client.call("APPEND", "big", piece), expected.length);
    }
    const walGrowth = (await dirBytes(join(dir, "wal"))) - walBefore;
    // Each append is one record: a 32-byte header, the key and the bytes,
    // padded to 8. The old code logged the whole value each time (640 MiB).
    assert.ok(walGrowth <= appends * 64, `WAL grew ${walGrowth} bytes for ${appends} appends`);
    assert.equal(await client.call("STRLEN", "big"), expected.length);
    assert.equal(await client.call("GET", "big"), expected);
    // APPEND creates a missing key, even with nothing to append.
    assert.equal(await client.call("APPEND", "fresh", ""), 0);
    assert.equal(await client.call("EXISTS", "fresh"), 1);
    client.close();
    await server.stop("SIGKILL");

    server = await ServerProcess.start(config, { dir, port: server.port });
    client = await RespClient.connect(server.port);
    assert.equal(await client.call("GET", "big"), expected);
    const ttl = await client.call("TTL", "big");
    assert.ok(typeof ttl === "number" && ttl > 99_000, `APPEND kept the expiry: TTL ${ttl}`);
    assert.equal(await client.call("GET", "fresh"), "");
    // An append to a small value that makes it large, then more.
    assert.deepEqual(await client.call("SET", "grow", "abc"), OK);
    const chunk = pattern(3000, 5);
    assert.equal(await client.call("APPEND", "grow", chunk), 3003);
    assert.equal(await client.call("APPEND", "grow", chunk), 6003);
    assert.equal(await client.call("GET", "grow"), "abc" + chunk + chunk);
    client.close();
    await server.stop("SIGKILL");

    server = await ServerProcess.start(config, { dir, port: server.port });
    client = await RespClient.connect(server.port);
    assert.equal(await client.call("GET", "grow"), "abc" + chunk + chunk);
    assert.equal(await client.call("GET", "big"), expected);
  } finally {
    client.close();
    await server.stop("SIGKILL");
  }
});

Deno.test("APPENDs to a 32 MiB value leave other clients answered at once", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "64MiB" } });
  const writer = await RespClient.connect(server.port);
  const pinger = await RespClient.connect(server.port);
  try {
    assert.deepEqual(await writer.call("SET", "big", pattern(32 * MIB)), OK);
    const rssBefore = rssBytes(server.child.pid);
    let appends = 0;
    let stop = false;
    const appending = (async () => {
      // Pipelined in rounds of 50: the server is kept busy appending.
      while (!stop) {
        const replies = await writer.pipeline(
          Array.from({ length: 50 }, () => ["APPEND", "big", "x"]),
        );
        appends += replies.length;
      }
    })();
    let worstMs = 0;
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      assert.deepEqual(await pinger.call("PING"), new RespStatus("PONG"));
      worstMs = Math.max(worstMs, performance.now() - started);
      await delay(20);
    }
    stop = true;
    await appending;
    assert.equal(await pinger.call("STRLEN", "big"), 32 * MIB + appends);
    // Each append copied 32 MiB before: ~200 ms of event loop per append.
    assert.ok(worstMs < 1000, `a PING waited ${worstMs.toFixed(1)} ms behind APPENDs`);
    const rssGrowth = (rssBytes(server.child.pid)) - rssBefore;
    assert.ok(rssGrowth < 200 * MIB, `resident memory grew ${rssGrowth} bytes`);
  } finally {
    writer.close();
    pinger.close();
    await server.stop("SIGKILL");
  }
});

Deno.test("MGET of one 16 MiB value ×100 from a client that never reads stalls no one", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "64MiB" } });
  const loader = await RespClient.connect(server.port);
  const greedy = await RespClient.connect(server.port);
  const pinger = await RespClient.connect(server.port);
  try {
    assert.deepEqual(await loader.call("SET", "big", pattern(16 * MIB)), OK);
    const rssBefore = rssBytes(server.child.pid);
    // 100 keys, one request of under 1 KB; its sender never reads the reply.
    await greedy.send(
      new TextEncoder().encode(
        `*101\r\n$4\r\nMGET\r\n${"$3\r\nbig\r\n".repeat(100)}`,
      ),
    );
    let worstMs = 0;
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const reply = await pinger.call("PING");
      assert.ok(!(reply instanceof RespError), String(reply));
      worstMs = Math.max(worstMs, performance.now() - started);
      await delay(25);
    }
    const rssGrowth = (rssBytes(server.child.pid)) - rssBefore;
    assert.ok(worstMs < 1000, `a PING waited ${worstMs.toFixed(1)} ms behind the MGET`);
    assert.ok(rssGrowth < 256 * MIB, `resident memory grew ${(rssGrowth / MIB).toFixed(0)} MiB`);
  } finally {
    loader.close();
    greedy.close();
    pinger.close();
    await server.stop("SIGKILL");
  }
});
