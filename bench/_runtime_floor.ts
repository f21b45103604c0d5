/**
 * How much of kvdb's cost per request is the Deno runtime's: the same
 * redis-benchmark SET load against bench/floor_server.ts (Deno, no
 * database), kvdb and redis-server, alternating, in memory and durable
 * (floor: one write + fdatasync per event-loop turn; kvdb: its WAL; Redis:
 * `appendfsync always`).
 *
 * @example
 * ```ts
 * console.log(await runtimeFloor(dir, 3, 200_000, 50_000)); // a Markdown table
 * ```
 * @module
 */

import {
  type BenchResult,
  type BenchServer,
  medianResult,
  redisBenchmark,
  startDurableKvdb,
  startDurableRedis,
  startFloor,
  startKvdb,
  startRedis,
  warmUp,
} from "./_servers.ts";

const CLIENTS = 50;

/**
 * Runs SET at 50 clients against the three servers (after a warm-up of
 * `warmUpRequests`), `rounds` times each in rotating order, and returns a
 * Markdown table of medians.
 *
 * @example
 * ```ts
 * const table = await runtimeFloor(await Deno.makeTempDir(), 3, 100_000, 20_000);
 * ```
 */
export async function runtimeFloor(
  dir: string,
  rounds: number,
  requests: number,
  warmUpRequests: number,
): Promise<string> {
  const lines = [
    "| SET, 50 clients | Deno floor | kvdb | redis-server | floor/redis | kvdb/redis |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const durable of [false, true]) {
    const servers = durable
      ? [
        await startFloor(`${dir}/floor.log`),
        await startDurableKvdb(dir, "floor-wal"),
        await startDurableRedis(dir, "floor"),
      ]
      : [await startFloor(), await startKvdb(dir), await startRedis(dir)];
    const results = new Map<BenchServer["name"], BenchResult[]>();
    try {
      for (const server of servers) await warmUp(server, warmUpRequests);
      for (let round = 0; round < rounds; round++) {
        // Rotate who goes first, so drift on a shared machine is shared.
        for (let i = 0; i < servers.length; i++) {
          const server = servers[(round + i) % servers.length];
          const result = await redisBenchmark(server, "set", {
            requests,
            clients: CLIENTS,
            pipeline: 1,
          });
          results.set(server.name, [...results.get(server.name) ?? [], result]);
        }
      }
    } finally {
      for (const server of servers) await server.stop();
    }
    const typical = (name: BenchServer["name"]) => medianResult(results.get(name)!);
    const rps = (name: BenchServer["name"]) => typical(name).rps;
    const cell = (name: BenchServer["name"]) => {
      const r = typical(name);
      return `${Math.round(r.rps).toLocaleString("en-US")}/s (${
        r.cpuUsPerRequest.toFixed(1)
      } µs CPU/req, ${r.userUsPerRequest.toFixed(1)} user)`;
    };
    lines.push(
      `| ${durable ? "durable" : "in memory"} | ${cell("floor")} | ${cell("kvdb")} | ${
        cell("redis")
      } | ${(rps("floor") / rps("redis")).toFixed(2)}× | ${
        (rps("kvdb") / rps("redis")).toFixed(2)
      }× |`,
    );
  }
  return lines.join("\n");
}
