/**
 * `deno task bench --only maxmemory`: SET of 1 KB values at 50 clients
 * over a keyspace of 1,000,000 keys (~1 GB) against servers limited to
 * 64 MiB (kvdb's `memory.maxmemory: 64MiB`, redis-server's `--maxmemory
 * 64mb`), `allkeys-lru` and `allkeys-lfu`: every SET past the warm-up
 * evicts. Both servers are filled past the limit first; then alternating
 * rounds, medians. Beside them, the same SET rows without a limit (the
 * keyspace then grows), so the rows show what eviction costs per request.
 *
 * @module
 */

import {
  type BenchResult,
  type BenchServer,
  medianResult,
  redisBenchmark,
  startKvdb,
  startRedis,
} from "./_servers.ts";

/** One row: its name and the medians. */
export interface MaxmemoryRow {
  name: string;
  kvdb: BenchResult;
  redis: BenchResult;
}

const KEYSPACE = 1_000_000;
const VALUE_ARGS = ["-d", "1024"];

async function row(
  servers: BenchServer[],
  name: string,
  rounds: number,
  requests: number,
): Promise<MaxmemoryRow> {
  // Past the limit before measuring: 100k values of 1 KB.
  for (const server of servers) {
    await redisBenchmark(server, "set", {
      requests: 100_000,
      clients: 50,
      pipeline: 16,
      keyspace: KEYSPACE,
      extraArgs: VALUE_ARGS,
    });
  }
  const results: Record<string, BenchResult[]> = { kvdb: [], redis: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? servers : [servers[1], servers[0]];
    for (const server of order) {
      results[server.name].push(
        await redisBenchmark(server, "set", {
          requests,
          clients: 50,
          pipeline: 1,
          keyspace: KEYSPACE,
          extraArgs: VALUE_ARGS,
        }),
      );
    }
  }
  return { name, kvdb: medianResult(results.kvdb), redis: medianResult(results.redis) };
}

/**
 * The rows: no limit, then 64 MiB with allkeys-lru and allkeys-lfu.
 *
 * @example
 * ```ts
 * const rows = await maxmemoryRows(dir, 3, 200_000);
 * ```
 */
export async function maxmemoryRows(
  dir: string,
  rounds: number,
  requests: number,
): Promise<MaxmemoryRow[]> {
  const rows: MaxmemoryRow[] = [];
  for (const policy of [undefined, "allkeys-lru", "allkeys-lfu"]) {
    const kvdb = await startKvdb(
      dir,
      policy === undefined ? {} : { memory: { maxmemory: "64MiB", maxmemory_policy: policy } },
    );
    const redis = await startRedis(
      dir,
      policy === undefined ? [] : ["--maxmemory", "64mb", "--maxmemory-policy", policy],
    );
    try {
      const name = `SET 1 KB, 50 clients, 1M keys, ${
        policy === undefined ? "no maxmemory" : `maxmemory 64mb ${policy}`
      }`;
      rows.push(await row([kvdb, redis], name, rounds, requests));
    } finally {
      await kvdb.stop();
      await redis.stop();
    }
  }
  return rows;
}
