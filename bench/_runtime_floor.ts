/**
 * How much of kvdb's cost per request is the Deno runtime's: the same
 * redis-benchmark SET load against bench/floor_server.ts (Deno, no
 * database), kvdb and redis-server, alternating, in memory and durable
 * (floor: one write + fdatasync per event-loop turn; kvdb: its WAL; Redis:
 * `appendfsync always`).
 *
 * @example
 * ```ts
 * console.log((await runtimeFloor(dir, 3, 200_000, 50_000)).table); // a Markdown table
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
import { cpuNote, cpuText } from "./_server_cpu.ts";

const CLIENTS = 50;

/** One line of the floor table: the medians per server, in memory or durable. */
export interface FloorRow {
  durable: boolean;
  floor: BenchResult;
  kvdb: BenchResult;
  redis: BenchResult;
}

/** Issue 20: kvdb's server CPU per request at most 1.05× the floor's (in memory, unpipelined). */
const CPU_TARGET = 1.05;

/**
 * Runs SET at 50 clients against the three servers (after a warm-up of
 * `warmUpRequests`), `rounds` times each in rotating order, and returns
 * the medians and a Markdown table of them (with its CPU note).
 *
 * @example
 * ```ts
 * const { table } = await runtimeFloor(await Deno.makeTempDir(), 3, 100_000, 20_000);
 * ```
 */
export async function runtimeFloor(
  dir: string,
  rounds: number,
  requests: number,
  warmUpRequests: number,
): Promise<{ table: string; rows: FloorRow[] }> {
  const rows: FloorRow[] = [];
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
    rows.push({ durable, floor: typical("floor"), kvdb: typical("kvdb"), redis: typical("redis") });
  }
  return { table: floorTable(rows), rows };
}

/**
 * The floor table: throughput and CPU per request, and kvdb's CPU over the floor's.
 *
 * @example
 * ```ts
 * console.log(floorTable((await runtimeFloor(dir, 1, 20_000, 5_000)).rows));
 * ```
 */
export function floorTable(rows: FloorRow[]): string {
  const cell = (r: BenchResult) =>
    `${Math.round(r.rps).toLocaleString("en-US")}/s (${cpuText(r.cpu)})`;
  const lines = [
    "| SET, 50 clients | Deno floor | kvdb | redis-server | floor/redis | kvdb/redis | kvdb/floor server CPU per request |",
    "|---|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of rows) {
    const cpuRatio = r.kvdb.cpu.totalUs / r.floor.cpu.totalUs;
    const userRatio = r.kvdb.cpu.userUs / r.floor.cpu.userUs;
    const target = r.durable
      ? ""
      : `; issue 20: ≤ ${CPU_TARGET}×: ${
        cpuRatio <= CPU_TARGET ? "met" : `missed (${cpuRatio.toFixed(3)}×)`
      }`;
    lines.push(
      `| ${r.durable ? "durable" : "in memory"} | ${cell(r.floor)} | ${cell(r.kvdb)} | ${
        cell(r.redis)
      } | ${(r.floor.rps / r.redis.rps).toFixed(2)}× | ${
        (r.kvdb.rps / r.redis.rps).toFixed(2)
      }× | ${cpuRatio.toFixed(2)}× (user ${userRatio.toFixed(2)}×, kernel ${
        (r.kvdb.cpu.kernelUs / r.floor.cpu.kernelUs).toFixed(2)
      }×)${target} |`,
    );
  }
  lines.push("", cpuNote(rows.flatMap((r) => [r.floor.cpu, r.kvdb.cpu, r.redis.cpu])));
  return lines.join("\n");
}
