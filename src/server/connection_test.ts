/**
 * Connections over real sockets, served in this process (so its memory can
 * be measured): large replies go out in bounded slices from references, and
 * other clients are served meanwhile.
 */

import assert from "node:assert/strict";
import type { Config } from "../config/config.ts";
import { Executor } from "../executor/executor.ts";
import { createLogger } from "../log/logger.ts";
import { Engine } from "../storage/engine.ts";
import { Store } from "../storage/store.ts";
import { Server } from "./server.ts";

const encoder = new TextEncoder();

function network(overrides: Partial<Config["network"]> = {}): Config["network"] {
  return {
    address: { hostname: "127.0.0.1", port: 0 },
    maxConnections: 20,
    maxMessageBytes: 8 * 1024 * 1024,
    idleTimeoutMs: 0,
    requestTimeoutMs: 0,
    protocol: "auto",
    outputHardLimitBytes: 0,
    outputSoftLimitBytes: 0,
    outputSoftLimitSeconds: 0,
    queryBufferLimitBytes: 1024 ** 3,
    maxmemoryClients: 0,
    ...overrides,
  };
}

/** A server in this process on a free port; `stop` shuts it down. */
function startServer(overrides: Partial<Config["network"]> = {}) {
  const executor = new Executor(new Store(new Engine(4), undefined), { readOnly: false });
  const log = createLogger({ level: "error", output: "stderr" });
  const server = new Server({ network: network(overrides) }, executor, log);
  const port = Number(server.listen().split(":").pop());
  return { port, executor, stop: () => server.shutdown() };
}

function resp(...args: (string | Uint8Array)[]): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" ? encoder.encode(arg) : arg;
    parts.push(encoder.encode(`$${bytes.length}\r\n`), bytes, encoder.encode("\r\n"));
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

/** Reads exactly `n` bytes. */
async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const all = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const got = await conn.read(all.subarray(at));
    if (got === null) throw new Error(`closed after ${at} of ${n} bytes`);
    at += got;
  }
  return all;
}

/** Milliseconds a PING takes on `conn`. */
async function pingMs(conn: Deno.Conn): Promise<number> {
  const started = performance.now();
  await writeAll(conn, resp("PING"));
  assert.equal(new TextDecoder().decode(await readExactly(conn, 7)), "+PONG\r\n");
  return performance.now() - started;
}

/** Index of the first byte where `a` and `b` differ, -1 if none. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** A value of `n` bytes with a recognisable pattern. */
function patterned(n: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => 0x61 + (i % 26));
}

Deno.test("a large reply is sent from references in slices; other clients are served meanwhile", async () => {
  const { port, stop } = startServer();
  const setter = await Deno.connect({ port });
  const reader = await Deno.connect({ port });
  const other = await Deno.connect({ port });
  try {
    const valueBytes = 3 * 1024 * 1024;
    const value = patterned(valueBytes);
    await writeAll(setter, resp("SET", "big", value));
    assert.equal(new TextDecoder().decode(await readExactly(setter, 5)), "+OK\r\n");
    await pingMs(other);

    const before = Deno.memoryUsage().external;
    const count = 20;
    await writeAll(reader, resp("MGET", ...Array(count).fill("big")));
    // The first bytes prove the whole reply was produced; the reader then
    // stops reading, so the rest waits in the server.
    const header = `*${count}\r\n$${valueBytes}\r\n`;
    const head = await readExactly(reader, header.length);
    assert.equal(new TextDecoder().decode(head), header);
    const grownBytes = Deno.memoryUsage().external - before;
    // A copy of the reply would be 60 MiB (and a buffer grown to 64 MiB).
    assert.ok(
      grownBytes < 16 * 1024 * 1024,
      `the pending ${count * valueBytes}-byte reply grew external memory by ${grownBytes} bytes`,
    );

    const pings: number[] = [];
    for (let i = 0; i < 20; i++) pings.push(await pingMs(other));
    assert.ok(Math.max(...pings) < 500, `PINGs while a reply is pending: ${pings.join(", ")} ms`);

    // The rest arrives whole and in order when the reader reads again.
    const element = `$${valueBytes}\r\n`.length + valueBytes + 2;
    const rest = await readExactly(
      reader,
      `*${count}\r\n`.length + count * element - header.length,
    );
    const text = new TextDecoder().decode(rest);
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (i > 0) {
        assert.equal(text.slice(at, at + `$${valueBytes}\r\n`.length), `$${valueBytes}\r\n`);
        at += `$${valueBytes}\r\n`.length;
      }
      assert.equal(firstDifference(rest.subarray(at, at + valueBytes), value), -1, `element ${i}`);
      at += valueBytes;
      assert.equal(text.slice(at, at + 2), "\r\n");
      at += 2;
    }
    assert.equal(await pingMs(reader) < 1000, true);
  } finally {
    setter.close();
    reader.close();
    other.close();
    await stop();
  }
});

Deno.test("a pipeline of large GETs is flushed after each: a client that stops reading stalls it", async () => {
  const { port, stop, executor } = startServer();
  const setter = await Deno.connect({ port });
  const reader = await Deno.connect({ port });
  const other = await Deno.connect({ port });
  try {
    const valueBytes = 4 * 1024 * 1024;
    await writeAll(setter, resp("SET", "big", patterned(valueBytes)));
    await readExactly(setter, 5);
    // 64 GETs fit one decode-ahead batch; counted without their values,
    // they would all be answered (64 values held) before the first flush.
    const requests = 64;
    const get = resp("GET", "big");
    const pipeline = new Uint8Array(get.length * requests);
    for (let i = 0; i < requests; i++) pipeline.set(get, i * get.length);
    const hitsBefore = executor.stats.keyspaceHits;
    await writeAll(reader, pipeline);
    await readExactly(reader, 16);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(await pingMs(other) < 500);
    // Only what the socket buffers hold was answered: a few values.
    const answered = executor.stats.keyspaceHits - hitsBefore;
    assert.ok(answered < 16, `${answered} of ${requests} GETs answered to a client not reading`);
  } finally {
    setter.close();
    reader.close();
    other.close();
    await stop();
  }
});
