/**
 * Network faults against the real server: clients that trickle requests
 * (slowloris), oversized inline quoting, signals.
 */

import assert from "node:assert/strict";
import { delay, ServerProcess, TcpClient, walConfig } from "./_helpers.ts";

const encoder = new TextEncoder();

/**
 * Sends `bytes` one byte every `everyMs` until the server closes the
 * connection or they run out; resolves to the ms from the first byte to the
 * close (or -1 if never closed) and what the server sent.
 */
async function trickle(
  port: number,
  bytes: Uint8Array,
  everyMs: number,
): Promise<{ closedAfterMs: number; received: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const chunks: Uint8Array[] = [];
  let closed = false;
  const reading = (async () => {
    const buffer = new Uint8Array(4096);
    while (true) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    closed = true;
  })();
  const started = Date.now();
  let closedAfterMs = -1;
  for (let i = 0; i < bytes.length; i++) {
    if (closed) break;
    try {
      await conn.write(bytes.subarray(i, i + 1));
    } catch {
      break;
    }
    await delay(everyMs);
  }
  await Promise.race([reading, delay(everyMs * 2)]);
  if (closed) closedAfterMs = Date.now() - started;
  try {
    conn.close();
  } catch {
    // Closed by the server.
  }
  await reading;
  return {
    closedAfterMs,
    received: new TextDecoder().decode(
      chunks.reduce((all, c) => new Uint8Array([...all, ...c]), new Uint8Array(0)),
    ),
  };
}

Deno.test("slowloris: connections trickling incomplete requests are closed after request_timeout", async () => {
  const maxConnections = 20;
  const server = await ServerProcess.start({
    network: { max_connections: maxConnections, request_timeout: "1s" },
  });
  try {
    // Every slot taken by a client sending one byte every 100 ms, each
    // byte "activity", none ever completing a request.
    const endless = (prefix: string) => encoder.encode(prefix + "x".repeat(200));
    const attackers = Array.from({ length: maxConnections }, (_, i) =>
      trickle(
        server.port,
        i % 2 === 0 ? endless("SET k ") : endless("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n"),
        100,
      ));
    await delay(300);
    const refused = await TcpClient.connect(server.port);
    assert.match(await refused.command("PING"), /max number of clients reached/);
    refused.close();

    const results = await Promise.all(attackers);
    for (const [i, { closedAfterMs, received }] of results.entries()) {
      assert.ok(
        closedAfterMs > 900 && closedAfterMs < 3000,
        `attacker ${i} closed after ${closedAfterMs} ms (request_timeout 1s)`,
      );
      if (i % 2 === 0) {
        assert.match(received, /^ERROR: request timeout: .*network\.request_timeout/);
      } else assert.equal(received, "", "RESP clients get no unasked line");
    }
    const client = await TcpClient.connect(server.port);
    assert.equal(await client.command("PING"), "PONG");
    client.close();
    assert.ok(server.logs.some((l) => l.includes("a request took too long to arrive")));
  } finally {
    await server.stop();
  }
});

Deno.test("request_timeout counts one request: slow but complete requests keep the connection", async () => {
  const server = await ServerProcess.start({ network: { request_timeout: "500ms" } });
  try {
    // Each request takes ~300 ms to arrive, the connection lives ~2.4 s.
    const client = await TcpClient.connect(server.port);
    for (let i = 0; i < 8; i++) {
      for (const byte of encoder.encode("PING\n")) {
        await client.send(new Uint8Array([byte]));
        await delay(60);
      }
      assert.equal(await client.readLine(), "PONG");
    }
    client.close();
    // The same for RESP, and for a pipeline whose reads end mid-request.
    const resp = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const ping = encoder.encode("*1\r\n$4\r\nPING\r\n");
    const stream = new Uint8Array(ping.length * 12);
    for (let i = 0; i < 12; i++) stream.set(ping, i * ping.length);
    for (let at = 0; at < stream.length; at += 5) {
      await resp.write(stream.subarray(at, Math.min(stream.length, at + 5)));
      await delay(60);
    }
    const replies = new Uint8Array(7 * 12);
    let got = 0;
    while (got < replies.length) {
      const n = await resp.read(replies.subarray(got));
      assert.notEqual(n, null, `closed after ${got} bytes of replies`);
      got += n!;
    }
    assert.equal(new TextDecoder().decode(replies), "+PONG\r\n".repeat(12));
    resp.close();
  } finally {
    await server.stop();
  }
});

Deno.test("request_timeout also ends an oversized line being skipped, and works with idle_timeout 0", async () => {
  const server = await ServerProcess.start({
    network: { max_message_size: "64B", request_timeout: "500ms", idle_timeout: 0 },
  });
  try {
    const { closedAfterMs, received } = await trickle(
      server.port,
      encoder.encode("SET k " + "x".repeat(600)),
      2,
    );
    assert.ok(closedAfterMs > 400 && closedAfterMs < 2500, `closed after ${closedAfterMs} ms`);
    const lines = received.split("\n");
    assert.match(lines[0], /^ERROR: request too large/);
    assert.match(lines[1], /^ERROR: request timeout/);
  } finally {
    await server.stop();
  }
});

Deno.test("request_timeout 0 disables it", async () => {
  const server = await ServerProcess.start({
    network: { request_timeout: 0, idle_timeout: 0 },
  });
  try {
    const { closedAfterMs } = await trickle(server.port, encoder.encode("SET k xxxxxxxxxx"), 100);
    assert.equal(closedAfterMs, -1);
  } finally {
    await server.stop();
  }
});

Deno.test("signals: SIGHUP and stray signals are ignored; SIGPWR and SIGXCPU shut down gracefully", async () => {
  for (const stopSignal of ["SIGPWR", "SIGXCPU"] as const) {
    const dir = await Deno.makeTempDir({ prefix: "kvdb-signals-" });
    let server = await ServerProcess.start(walConfig(dir), { dir });
    try {
      const client = await server.connect();
      for (
        const signal of [
          "SIGHUP",
          "SIGUSR2",
          "SIGALRM",
          "SIGVTALRM",
          "SIGIO",
          "SIGSTKFLT",
          "SIGXFSZ",
        ] as const
      ) {
        server.child.kill(signal);
        assert.equal(await client.command(`SET after-${signal} 1`), "OK", `alive after ${signal}`);
      }
      assert.equal(await client.command("PING"), "PONG");
      await delay(100);
      assert.ok(
        server.logs.some((l) => l.includes("signal ignored") && l.includes("SIGHUP")),
        server.logs.join("\n"),
      );
      // A pipeline in flight when the stop signal comes is answered.
      let pipeline = "";
      for (let i = 0; i < 200; i++) pipeline += `SET k${i} v${i}\n`;
      await client.send(pipeline);
      server.child.kill(stopSignal);
      const replies = await client.readLines(200);
      assert.ok(replies.every((r) => r === "OK"));
      const status = await server.status;
      assert.equal(status.code, 0, `exit code after ${stopSignal}`);
      assert.ok(server.logs.some((l) => l.includes("shutting down") && l.includes(stopSignal)));
      client.close();
      server = await ServerProcess.start(walConfig(dir), { dir, port: server.port });
      const again = await server.connect();
      assert.equal(await again.command("GET k199"), "v199");
      assert.equal(await again.command("GET after-SIGXFSZ"), "1");
      again.close();
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  }
});
