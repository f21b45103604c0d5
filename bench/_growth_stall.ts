/**
 * `deno task bench --only growth` (issue 16, point 2: a collection of
 * millions of elements never stalls the event loop for more than a few
 * ms): the worst latency a client sees while one set, hash or sorted set
 * grows by `members` new elements — SADD, HSET and ZADD of random members
 * (`-r 1000000000`: nearly all new), pipeline 16, 4 clients — against kvdb
 * and redis-server side by side, alternating rounds, medians.
 *
 * A collection that grows by re-placing or copying all it holds in one
 * step shows here as the load's max: before the incremental slot tables
 * and paged arrays (`src/types/slot_table.ts`, `paged_*.ts`), kvdb's worst
 * SADD/HSET/ZADD growing to 3M members took 206–393 ms, Redis's 4–11 ms.
 * Each round starts fresh servers, so every load grows from empty. Then
 * the churn loads: members of a bounded space added and removed at once
 * (see `CHURNS`).
 *
 * @example
 * ```ts
 * const { table } = await growthStallRows(dir, { rounds: 1, members: 100_000 });
 * console.log(table);
 * ```
 * @module
 */

import { parseLatencyReport } from "./_stall.ts";
import { measuredRun } from "./_server_cpu.ts";
import { type BenchServer, median, startKvdb, startRedis } from "./_servers.ts";

/**
 * The loads: a command that adds one random member to one key — or, for
 * SET, one random key to the keyspace, whose partitions' key tables grow
 * the same way (before their step-at-a-time rebuilds and migrations,
 * `src/storage/key_table.ts`: 12–16 ms in-process growing to 3M keys).
 */
const LOADS: readonly { name: string; args: string[] }[] = [
  { name: "SADD", args: ["SADD", "growth:set", "element:__rand_int__"] },
  { name: "HSET", args: ["HSET", "growth:hash", "element:__rand_int__", "v"] },
  { name: "ZADD", args: ["ZADD", "growth:zset", "__rand_int__", "element:__rand_int__"] },
  { name: "SET", args: ["SET", "growth:key:__rand_int__", "v"] },
];

/**
 * The churn loads: one client adds random members of a bounded space while
 * another removes them, so that a collection of about half the space keeps
 * turning over — removed members' bytes die and new ones take room, which
 * made kvdb's arenas compact (one copy of every live member: 171 ms for a
 * 1M-member set, in-process) before they migrated a step at a time
 * (`src/types/migrating_arena.ts`).
 */
const CHURNS: readonly { name: string; add: string[]; remove: string[] }[] = [
  {
    name: "SADD + SREM",
    add: ["SADD", "churn:set", "element:__rand_int__"],
    remove: ["SREM", "churn:set", "element:__rand_int__"],
  },
  {
    name: "HSET + HDEL",
    add: ["HSET", "churn:hash", "element:__rand_int__", "v"],
    remove: ["HDEL", "churn:hash", "element:__rand_int__"],
  },
  {
    name: "ZADD + ZREM",
    add: ["ZADD", "churn:zset", "__rand_int__", "element:__rand_int__"],
    remove: ["ZREM", "churn:zset", "element:__rand_int__"],
  },
  // The keyspace: keys of the space set and deleted (before the key
  // tables' step-at-a-time migrations, a full arena was compacted in one
  // step: 33 ms with 3M keys in 16 partitions, in-process).
  {
    name: "SET + DEL",
    add: ["SET", "churn:key:__rand_int__", "v"],
    remove: ["DEL", "churn:key:__rand_int__"],
  },
];

/** What the growth section is run with. */
export interface GrowthOptions {
  rounds: number;
  /** Requests per load: the members each collection grows by (a few collide). */
  members: number;
}

/** One load's latency figures (ms) and throughput. */
export interface GrowthLoad {
  maxMs: number;
  p999Ms: number;
  p50Ms: number;
  rps: number;
}

/** One command's medians per server. */
export interface GrowthRow {
  name: string;
  kvdb: GrowthLoad;
  redis: GrowthLoad;
}

/**
 * Runs each load against fresh kvdb and redis-server, `rounds` rounds
 * alternating who goes first; the medians and their table.
 *
 * @example
 * ```ts
 * const { rows } = await growthStallRows(dir, { rounds: 3, members: 3_000_000 });
 * ```
 */
export async function growthStallRows(
  dir: string,
  options: GrowthOptions,
): Promise<{ rows: GrowthRow[]; table: string }> {
  const results: Record<string, { kvdb: GrowthLoad[]; redis: GrowthLoad[] }> = {};
  for (const load of [...LOADS, ...CHURNS]) results[load.name] = { kvdb: [], redis: [] };
  for (let round = 0; round < options.rounds; round++) {
    const kvdb = await startKvdb(dir);
    const redis = await startRedis(dir);
    try {
      const order: BenchServer[] = round % 2 === 0 ? [kvdb, redis] : [redis, kvdb];
      for (const load of LOADS) {
        for (const server of order) {
          const figures = await grow(server, load.args, options.members);
          results[load.name][server.name as "kvdb" | "redis"].push(figures);
          console.error(
            `  growth, ${load.name}, ${server.name}: max ${figures.maxMs.toFixed(1)} ms, ` +
              `p99.9 ${figures.p999Ms.toFixed(3)} ms, ${Math.round(figures.rps)}/s`,
          );
        }
      }
      for (const load of CHURNS) {
        for (const server of order) {
          const figures = await churn(server, load.add, load.remove, churnSpace(options));
          results[load.name][server.name as "kvdb" | "redis"].push(figures);
          console.error(
            `  churn, ${load.name}, ${server.name}: max ${figures.maxMs.toFixed(1)} ms, ` +
              `p99.9 ${figures.p999Ms.toFixed(3)} ms, ${Math.round(figures.rps)}/s`,
          );
        }
      }
    } finally {
      await kvdb.stop();
      await redis.stop();
    }
  }
  const rows = [...LOADS, ...CHURNS].map((load) => ({
    name: load.name,
    kvdb: medianLoad(results[load.name].kvdb),
    redis: medianLoad(results[load.name].redis),
  }));
  return { rows, table: growthTable(rows, options) };
}

async function grow(server: BenchServer, args: string[], members: number): Promise<GrowthLoad> {
  const run = await measuredRun(server.pid, "redis-benchmark", [
    ...["-h", "127.0.0.1", "-p", String(server.port)],
    ...["-n", String(members), "-r", "1000000000", "-P", "16", "-c", "4", "--precision", "3"],
    ...args,
  ]);
  if (!run.success) throw new Error(`redis-benchmark failed: ${run.stdout} ${run.stderr}`);
  const report = parseLatencyReport(run.stdout);
  return { maxMs: report.maxMs, p999Ms: report.p999Ms, p50Ms: report.p50Ms, rps: report.rps };
}

/** The churn's member space: a third of the growth's members (1M in the full run). */
function churnSpace(options: GrowthOptions): number {
  return Math.max(1000, Math.round(options.members / 3));
}

/**
 * Fills a collection from a space of `space` random members (~63% of it
 * taken), then adds and removes members of that space at once, `2 ×
 * space` requests each (two redis-benchmark processes): the worst latency
 * either saw, their p99.9 and p50 (the worse), their summed throughput.
 */
async function churn(
  server: BenchServer,
  add: string[],
  remove: string[],
  space: number,
): Promise<GrowthLoad> {
  const run = (args: string[], requests: number) =>
    measuredRun(server.pid, "redis-benchmark", [
      ...["-h", "127.0.0.1", "-p", String(server.port)],
      ...["-n", String(requests), "-r", String(space), "-P", "16", "-c", "4", "--precision", "3"],
      ...args,
    ]);
  const fill = await run(add, space);
  if (!fill.success) throw new Error(`redis-benchmark failed: ${fill.stdout} ${fill.stderr}`);
  const [adds, removes] = await Promise.all([run(add, 2 * space), run(remove, 2 * space)]);
  for (const r of [adds, removes]) {
    if (!r.success) throw new Error(`redis-benchmark failed: ${r.stdout} ${r.stderr}`);
  }
  const a = parseLatencyReport(adds.stdout);
  const b = parseLatencyReport(removes.stdout);
  return {
    maxMs: Math.max(a.maxMs, b.maxMs),
    p999Ms: Math.max(a.p999Ms, b.p999Ms),
    p50Ms: Math.max(a.p50Ms, b.p50Ms),
    rps: a.rps + b.rps,
  };
}

function medianLoad(loads: GrowthLoad[]): GrowthLoad {
  const of = (f: (l: GrowthLoad) => number) => median(loads.map(f));
  return {
    maxMs: of((l) => l.maxMs),
    p999Ms: of((l) => l.p999Ms),
    p50Ms: of((l) => l.p50Ms),
    rps: of((l) => l.rps),
  };
}

/**
 * The growth table.
 *
 * @example
 * ```ts
 * console.log(growthTable(rows, { rounds: 3, members: 3_000_000 }));
 * ```
 */
export function growthTable(rows: GrowthRow[], options: GrowthOptions): string {
  const members = options.members.toLocaleString("en-US");
  const cell = (l: GrowthLoad) =>
    `${l.maxMs.toFixed(1)} ms (p99.9 ${l.p999Ms.toFixed(3)}, p50 ${l.p50Ms.toFixed(3)} ms; ${
      Math.round(l.rps).toLocaleString("en-US")
    }/s)`;
  const space = churnSpace(options).toLocaleString("en-US");
  const line = (r: GrowthRow) =>
    `| ${r.name} | ${cell(r.kvdb)} | ${cell(r.redis)} | ${
      (r.kvdb.maxMs / r.redis.maxMs).toFixed(2)
    }× |`;
  const growing = new Set(LOADS.map((l) => l.name));
  return [
    `| one collection (SET: the keyspace) growing by ${members} new members, pipeline 16, 4 clients | kvdb worst latency | redis-server worst latency | kvdb / Redis |`,
    "|---|---:|---:|---:|",
    ...rows.filter((r) => growing.has(r.name)).map(line),
    `| **one collection (SET + DEL: the keyspace) under churn** (members of a space of ${space}: filled, then added and removed at once, 2 × ${space} requests each, 2 × 4 clients) | | | |`,
    ...rows.filter((r) => !growing.has(r.name)).map(line),
    "",
    `Medians of ${options.rounds} rounds, fresh servers each round, kvdb and redis-server ` +
    "alternating; worst latency: redis-benchmark's max, --precision 3 (under churn: the " +
    "worse of the two clients, throughput summed).",
  ].join("\n");
}
