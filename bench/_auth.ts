/**
 * `deno task bench --only auth`: SET and GET at 50 clients against a
 * server with a password (kvdb's `security.requirepass`, redis-server's
 * `--requirepass`, the same password; redis-benchmark `-a` logs each
 * connection in), beside the same rows against the same servers started
 * without one, alternating rounds; medians. The plain rows show what the
 * password costs per request: it is checked once per connection.
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

/** The password both servers require. */
const PASSWORD = "bench-password-123";

/** One row: its name and the medians. */
export interface AuthRow {
  name: string;
  kvdb: BenchResult;
  redis: BenchResult;
}

async function rowsFor(
  servers: BenchServer[],
  suffix: string,
  extraArgs: string[],
  rounds: number,
  requests: number,
): Promise<AuthRow[]> {
  for (const server of servers) {
    for (const test of ["set", "get"] as const) {
      await redisBenchmark(server, test, {
        requests: requests / 4,
        clients: 50,
        pipeline: 1,
        extraArgs,
      });
    }
  }
  const rows: AuthRow[] = [];
  for (const test of ["set", "get"] as const) {
    const results: Record<string, BenchResult[]> = { kvdb: [], redis: [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? servers : [servers[1], servers[0]];
      for (const server of order) {
        results[server.name].push(
          await redisBenchmark(server, test, { requests, clients: 50, pipeline: 1, extraArgs }),
        );
      }
    }
    rows.push({
      name: `${test.toUpperCase()}, 50 clients${suffix}`,
      kvdb: medianResult(results.kvdb),
      redis: medianResult(results.redis),
    });
  }
  return rows;
}

/**
 * The plain rows, then the requirepass rows: `rounds` alternating rounds
 * of `requests` each.
 *
 * @example
 * ```ts
 * const rows = await authRows(dir, 3, 200_000);
 * ```
 */
export async function authRows(dir: string, rounds: number, requests: number): Promise<AuthRow[]> {
  const rows: AuthRow[] = [];
  for (const withPassword of [false, true]) {
    const kvdb = await startKvdb(dir, withPassword ? { security: { requirepass: PASSWORD } } : {});
    const redis = await startRedis(dir, withPassword ? ["--requirepass", PASSWORD] : []);
    try {
      rows.push(
        ...await rowsFor(
          [kvdb, redis],
          withPassword ? ", requirepass" : "",
          withPassword ? ["-a", PASSWORD] : [],
          rounds,
          requests,
        ),
      );
    } finally {
      await kvdb.stop();
      await redis.stop();
    }
  }
  return rows;
}
