/**
 * redis-cli's introspection modes against kvdb show true numbers (issue 14
 * point 7): `--stat` (INFO's keyspace, memory, clients and counters),
 * `--bigkeys` (SCAN, TYPE, STRLEN) and `--memkeys` (MEMORY USAGE).
 */

import assert from "node:assert/strict";
import { RespClient, ServerProcess } from "./_helpers.ts";

const decoder = new TextDecoder();

async function redisCli(port: number, args: string[], timeoutMs = 20_000): Promise<string> {
  // stdbuf: --stat writes through stdio, fully buffered into a pipe.
  const child = new Deno.Command("stdbuf", {
    args: ["-oL", "redis-cli", "-p", String(port), ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  return decoder.decode(out.stdout) + decoder.decode(out.stderr);
}

Deno.test("redis-cli --bigkeys, --memkeys and --stat show kvdb's true numbers", async () => {
  const server = await ServerProcess.start();
  const c = await RespClient.connect(server.port);
  try {
    let bytes = 0;
    for (let i = 1; i <= 20; i++) {
      await c.call("SET", `key${i}`, "x".repeat(i));
      bytes += i;
    }
    await c.call("SET", "big", "y".repeat(500));
    bytes += 500;

    const big = await redisCli(server.port, ["--bigkeys"]);
    assert.match(big, /Biggest string found '"big"' has 500 bytes/, big);
    assert.match(big, new RegExp(`21 strings with ${bytes} bytes \\(100\\.00% of keys`), big);

    const mem = await redisCli(server.port, ["--memkeys"]);
    const biggest = /Biggest string found '"big"' has (\d+) bytes/.exec(mem);
    assert.ok(biggest, mem);
    // MEMORY USAGE: the value, the key and kvdb's per-entry overhead.
    assert.ok(Number(biggest[1]) >= 503 && Number(biggest[1]) < 1024, mem);
    assert.match(mem, /21 strings with \d+ bytes \(100\.00% of keys/, mem);

    const stat = await redisCli(server.port, ["--stat", "-i", "0.3"], 1500);
    const rows = stat.split("\n").filter((l) => /^\d+\s/.test(l));
    assert.ok(rows.length >= 2, stat);
    const [keys, mem0, clients, blocked] = rows[0].trim().split(/\s+/);
    assert.equal(keys, "21", stat);
    assert.match(mem0, /^\d+(\.\d+)?[KMG]$/, stat);
    assert.equal(clients, "2", stat); // this test's client and redis-cli
    assert.equal(blocked, "0", stat);
    // Requests grow by the INFO each refresh sends.
    const requests = rows.map((r) => Number(r.trim().split(/\s+/)[4]));
    assert.ok(requests[1] > requests[0], stat);
  } finally {
    c.close();
    await server.stop();
  }
});
