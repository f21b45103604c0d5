import assert from "node:assert/strict";
import { freePort } from "../_servers.ts";

const encoder = new TextEncoder();

function command(...args: string[]): string {
  return `*${args.length}\r\n` +
    args.map((a) => `$${encoder.encode(a).length}\r\n${a}\r\n`).join("");
}

/** How long a test waits for replies that do not come (then compares what it has). */
const REPLY_TIMEOUT_MS = 5_000;

/** Sends `request` and reads until `expected` bytes arrived, or the connection stops answering. */
async function exchange(conn: Deno.Conn, request: string, expected: number): Promise<string> {
  await conn.write(encoder.encode(request));
  const buffer = new Uint8Array(1 << 20);
  let have = 0;
  // Short replies (a nil for a key on the wrong worker) must fail the test, not hang it.
  const timer = setTimeout(() => conn.close(), REPLY_TIMEOUT_MS);
  try {
    while (have < expected) {
      const read = await conn.read(buffer.subarray(have));
      if (read === null) break;
      have += read;
    }
  } catch {
    // Closed by the timer: compare what arrived.
  } finally {
    clearTimeout(timer);
  }
  return new TextDecoder().decode(buffer.subarray(0, have));
}

async function withPrototype(args: string[], body: (port: number) => Promise<void>): Promise<void> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-net",
      "--allow-net=127.0.0.1",
      `--allow-read=${new URL(".", import.meta.url).pathname}`,
      new URL("./server.ts", import.meta.url).pathname,
      "--port",
      String(port),
      "--stripes",
      "16",
      "--slots",
      "1024",
      "--arena-kib",
      "64",
      ...args,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const { value } = await reader.read();
    assert.equal(value?.trim(), "ready");
    await reader.cancel();
    await body(port);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

for (
  const [name, args] of [
    ["shared", ["--variant", "shared"]],
    ["shards, postMessage hop", ["--variant", "shards", "--hop", "message"]],
    ["shards, SAB mailbox hop", ["--variant", "shards", "--hop", "ring"]],
  ]
) {
  Deno.test(`prototype (${name}, 2 workers): every connection sees every key, in order`, async () => {
    await withPrototype(["--workers", "2", ...args], async (port) => {
      // Enough connections that the kernel hands some to each worker's listener.
      const conns = await Promise.all(
        Array.from({ length: 8 }, () => Deno.connect({ hostname: "127.0.0.1", port })),
      );
      try {
        const keys = Array.from({ length: 200 }, (_, i) => `key:${i}`);
        // One pipelined batch per connection: keys owned by both workers, mixed.
        for (let c = 0; c < conns.length; c++) {
          const mine = keys.filter((_, i) => i % conns.length === c);
          const request = mine.map((k) => command("SET", k, `${k}@${c}`)).join("");
          assert.equal(
            await exchange(conns[c], request, mine.length * 5),
            "+OK\r\n".repeat(mine.length),
          );
        }
        // Each connection reads all keys, pipelined, and gets the replies in request order.
        for (const conn of conns) {
          const request = keys.map((k) => command("GET", k)).join("") + command("GET", "missing");
          const expected = keys.map((k, i) => {
            const value = `${k}@${i % conns.length}`;
            return `$${value.length}\r\n${value}\r\n`;
          }).join("") + "$-1\r\n";
          assert.equal(await exchange(conn, request, expected.length), expected);
        }
      } finally {
        for (const conn of conns) {
          try {
            conn.close();
          } catch {
            // Already closed by a timeout.
          }
        }
      }
    });
  });
}
