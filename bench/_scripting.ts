/**
 * `deno task bench --only scripting`: EVALSHA of a small script
 * (`return redis.call('GET', KEYS[1])`, over 100 000 loaded keys) at 50
 * clients, unpipelined and 16 deep, against kvdb and redis-server started
 * side by side; alternating rounds, medians.
 *
 * @module
 */

import { createHash } from "node:crypto";
import {
  type BenchResult,
  type BenchServer,
  cpuSeconds,
  loadKeys,
  medianResult,
  startKvdb,
  startRedis,
} from "./_servers.ts";

/** The script, and its SHA-1 (what SCRIPT LOAD answers). */
const SCRIPT = "return redis.call('GET', KEYS[1])";
const SHA = createHash("sha1").update(SCRIPT).digest("hex");
const KEYS = 100_000;

/** One row: its name and the medians. */
export interface ScriptingRow {
  name: string;
  kvdb: BenchResult;
  redis: BenchResult;
}

/** `redis-benchmark` running one arbitrary command (`__rand_int__` in it drawn from `-r`). */
async function benchmarkCommand(
  server: BenchServer,
  command: string[],
  requests: number,
  pipeline: number,
): Promise<BenchResult> {
  const before = cpuSeconds(server.pid);
  const out = await new Deno.Command("redis-benchmark", {
    args: [
      ...["-h", "127.0.0.1", "-p", String(server.port), "-n", String(requests)],
      ...["-c", "50", "-P", String(pipeline), "-r", String(KEYS), "--csv"],
      ...command,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const after = cpuSeconds(server.pid);
  const text = new TextDecoder().decode(out.stdout);
  const line = text.trim().split("\n").find((l) => l.startsWith(`"${command[0]}`));
  if (!out.success || !line) {
    throw new Error(`redis-benchmark failed: ${text} ${new TextDecoder().decode(out.stderr)}`);
  }
  const cells = line.slice(line.indexOf('",') + 2).split(",").map((c) =>
    Number(c.replaceAll('"', ""))
  );
  return {
    rps: cells[0],
    p50Ms: cells[3],
    p99Ms: cells[5],
    meanMs: cells[1],
    cpuUsPerRequest: ((after.total - before.total) * 1e6) / requests,
    userUsPerRequest: ((after.user - before.user) * 1e6) / requests,
  };
}

async function scriptLoad(server: BenchServer): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const request = `*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n$${SCRIPT.length}\r\n${SCRIPT}\r\n`;
  await conn.write(new TextEncoder().encode(request));
  const reply = new Uint8Array(128);
  const n = await conn.read(reply);
  conn.close();
  const text = new TextDecoder().decode(reply.subarray(0, n ?? 0));
  if (!text.includes(SHA)) throw new Error(`SCRIPT LOAD on ${server.name} answered ${text}`);
}

/**
 * The EVALSHA rows: `rounds` alternating rounds of `requests` each, after
 * one unmeasured run per server (kvdb's JavaScript and the Lua VM warm).
 *
 * @example
 * ```ts
 * const rows = await scriptingRows(dir, 3, 200_000);
 * ```
 */
export async function scriptingRows(
  dir: string,
  rounds: number,
  requests: number,
): Promise<ScriptingRow[]> {
  const kvdb = await startKvdb(dir);
  const redis = await startRedis(dir);
  const servers: BenchServer[] = [kvdb, redis];
  const command = ["EVALSHA", SHA, "1", "key:__rand_int__"];
  try {
    for (const server of servers) {
      await loadKeys(server.port, KEYS);
      await scriptLoad(server);
      await benchmarkCommand(server, command, requests / 4, 1);
    }
    const rows: ScriptingRow[] = [];
    for (const pipeline of [1, 16]) {
      const results: Record<string, BenchResult[]> = { kvdb: [], redis: [] };
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? servers : [redis, kvdb];
        for (const server of order) {
          results[server.name].push(await benchmarkCommand(server, command, requests, pipeline));
        }
      }
      rows.push({
        name: `EVALSHA of \`return redis.call('GET', KEYS[1])\`, 50 clients` +
          (pipeline > 1 ? `, pipeline ${pipeline}` : ""),
        kvdb: medianResult(results.kvdb),
        redis: medianResult(results.redis),
      });
    }
    return rows;
  } finally {
    await kvdb.stop();
    await redis.stop();
  }
}
