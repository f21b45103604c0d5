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
  loadKeys,
  medianResult,
  redisBenchmark,
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

/** `redis-benchmark` running one command of its own (`__rand_int__` in it drawn from `-r`). */
function benchmarkCommand(
  server: BenchServer,
  command: string[],
  requests: number,
  pipeline: number,
): Promise<BenchResult> {
  return redisBenchmark(server, "get", {
    requests,
    clients: 50,
    pipeline,
    keyspace: KEYS,
    command,
  });
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
