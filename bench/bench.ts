/**
 * `deno task bench`: kvdb against redis-server on this machine, side by
 * side, with the same redis-benchmark load, alternating A/B for several
 * rounds; medians and kvdb/redis ratios; the same SET load against a bare
 * Deno server, to show the runtime's share. Also kvdb's WAL on its own: the
 * disk's raw fdatasync rate, group commit, and replay of 1M records.
 *
 *     deno task bench [--rounds 3] [--quick] [--only "MULTI"]
 *
 * Writes bench/results/latest.json and bench/results/latest.svg, prints a
 * Markdown table (the one in README.md). `--only <text>` runs just the
 * load rows whose name contains the text, prints them, and writes nothing.
 *
 * redis-benchmark's whole default test list (bench/_default_tests.ts) runs at
 * 50 clients and at pipeline 16, one redis-benchmark call per test, each
 * test on both servers before the next (the LRANGE tests with a tenth of
 * the requests; a test kvdb cannot run shows the server's error instead of
 * a number), with the median kvdb/redis ratio per mode; `--only default`
 * runs just that. The memory rows add 1M small hashes (5 fields) and one
 * sorted set of 1M members. `--only tls` runs SET and GET at 50 clients
 * over TLS against redis-server's --tls-port (bench/_tls.ts). `--only
 * maxmemory` runs SET of 1 KB values over 1M keys under a 64 MiB limit
 * (bench/_maxmemory.ts). `--only auth`
 * runs SET and GET at 50 clients against servers without a password and
 * then with `requirepass` (redis-benchmark `-a`; bench/_auth.ts). `--only
 * scripting` runs EVALSHA of a one-GET script at 50 clients, unpipelined
 * and 16 deep (bench/_scripting.ts). `--only floor` runs the Deno floor
 * table (bench/_runtime_floor.ts). `--only stall` runs issue 20's stall
 * rows: a 50-client GET load's p99.9 alone, while snapshots of 1M keys are
 * taken and while an UNLINK frees a set of 1M members (bench/_stall.ts).
 * `--only growth` runs the worst latency while one set, hash and sorted set
 * each grow by 3M new members, then while each turns over members of a
 * space of 1M (bench/_growth_stall.ts).
 *
 * Every load row shows the server's CPU per request and its user/kernel
 * split, from /proc/<pid>/stat around the load (bench/_server_cpu.ts, the
 * one helper all rows go through; for the default list, between the CSV
 * lines redis-benchmark prints as each test ends), with a note of the
 * fewest 10 ms ticks any figure of the table rests on.
 *
 * The MULTI/SET/INCR/EXEC row's load comes from bench/multi_load.ts, not
 * redis-benchmark (which repeats one command per run): 50 connections, one
 * transaction in flight each, sent in one write. Measured on the 2-core
 * machine of README's table, it costs its client ~20-26 µs of CPU per
 * transaction (one round trip of four commands), about what
 * redis-benchmark costs per SET request (~20 µs, under `time`): no more of
 * a bottleneck than the load of the other rows. Each run prints its client
 * CPU per transaction under the table.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type BenchResult,
  type BenchServer,
  KVDB_V8_FLAGS,
  loadKeys,
  medianResult,
  multiBenchmark,
  readProc,
  redisBenchmark,
  residentBytes,
  startDurableKvdb,
  startDurableRedis,
  startKvdb,
  startRedis,
  warmUp,
} from "./_servers.ts";
import { replicationLag } from "./_replication_lag.ts";
import type { CpuPerRequest } from "./_server_cpu.ts";
import {
  DEFAULT_TESTS,
  defaultTestRows,
  loadCommands,
  medianRatio,
  smallHash,
  sortedSetBatch,
  type TestRow,
} from "./_default_tests.ts";
import { runtimeFloor } from "./_runtime_floor.ts";
import { tlsRows } from "./_tls.ts";
import { authRows } from "./_auth.ts";
import { scriptingRows } from "./_scripting.ts";
import { clientCoreNote } from "./_client_core.ts";
import { maxmemoryRows } from "./_maxmemory.ts";
import { mixedBenchmark } from "./_mixed_load.ts";
import { stallRows } from "./_stall.ts";
import { growthStallRows } from "./_growth_stall.ts";
import { cpuNote, cpuText, stopCpuReader } from "./_server_cpu.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    quick: { type: "boolean" },
    only: { type: "string" },
  },
});
const ROUNDS = Number(flags.rounds);
const SCALE = flags.quick ? 0.1 : 1;
const n = (requests: number) => Math.max(1000, Math.round(requests * SCALE));
const MEMORY_KEYS = flags.quick ? 100_000 : 1_000_000;

async function ensureRedis(): Promise<void> {
  const has = async (cmd: string) => {
    try {
      return (await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`] }).output())
        .success;
    } catch {
      return false;
    }
  };
  if (await has("redis-server") && await has("redis-benchmark")) return;
  console.error("installing redis-server and redis-tools with apt-get ...");
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "redis-server", "redis-tools"]]) {
    const out = await new Deno.Command("apt-get", { args, stdout: "null" }).output();
    if (!out.success) throw new Error(`apt-get ${args.join(" ")} failed`);
  }
}

interface Scenario {
  name: string;
  /** Which metric is compared: throughput (higher is better) or p50 latency. */
  metric: "rps" | "p50";
  /** redis-benchmark's `-t set` / `-t get`, XADD, or bench/multi_load.ts's loads. */
  test:
    | "set"
    | "get"
    | "multi"
    | "wait"
    | "queue"
    | "board"
    | "xadd"
    | "mixed"
    | "set-ttl"
    | "get-ttl"
    | "sadd-10"
    | "zadd-10";
  requests: number;
  clients: number;
  pipeline: number;
  durable: boolean;
  /** Durable masters with one durable replica each (the WAIT row). */
  replicated?: boolean;
  /** Issue 6's target for the row, if it sets one. */
  target?: Target;
}

/** A target on the ratio a row shows, and how the issue words it. */
interface Target {
  text: string;
  met(ratio: number): boolean;
}

const THROUGHPUT_AT_PARITY: Target = { text: "≥ 1.0×", met: (r) => r >= 1 };
const PIPELINE_TARGET: Target = { text: "≥ 0.8×", met: (r) => r >= 0.8 };
/** kvdb's p50 at most 1.1× Redis's; the row shows Redis's p50 / kvdb's. */
const LATENCY_TARGET: Target = { text: "p50 ≤ 1.1× Redis's", met: (r) => r * 1.1 >= 1 };
/** Issue 20's durable rows: SET at 50 clients ≥ 1.2×, the mixed load ≥ 1.1×. */
const DURABLE_SET_TARGET: Target = { text: "≥ 1.2× (issue 20)", met: (r) => r >= 1.2 };
const MIXED_DURABLE_TARGET: Target = { text: "≥ 1.1× (issue 20)", met: (r) => r >= 1.1 };
/** The memory row shows kvdb's resident memory / Redis's. */
const MEMORY_TARGET: Target = { text: "≤ 1.5× Redis's", met: (r) => r <= 1.5 };

const SCENARIOS: Scenario[] = [
  {
    name: "SET, 50 clients",
    metric: "rps",
    test: "set",
    requests: n(200_000),
    clients: 50,
    pipeline: 1,
    durable: false,
    target: THROUGHPUT_AT_PARITY,
  },
  {
    name: "GET, 50 clients",
    metric: "rps",
    test: "get",
    requests: n(200_000),
    clients: 50,
    pipeline: 1,
    durable: false,
    target: THROUGHPUT_AT_PARITY,
  },
  {
    name: "SET, 50 clients, pipeline 16",
    metric: "rps",
    test: "set",
    requests: n(1_000_000),
    clients: 50,
    pipeline: 16,
    durable: false,
    target: PIPELINE_TARGET,
  },
  {
    name: "GET, 50 clients, pipeline 16",
    metric: "rps",
    test: "get",
    requests: n(1_000_000),
    clients: 50,
    pipeline: 16,
    durable: false,
    target: PIPELINE_TARGET,
  },
  // Keys with a TTL, as a cache holds them: SET with EX over the GET rows'
  // keys, then GET of those keys (each read looks up the key's expiry).
  {
    name: "SET with EX (every key gets a TTL), 50 clients, pipeline 16",
    metric: "rps",
    test: "set-ttl",
    requests: n(1_000_000),
    clients: 50,
    pipeline: 16,
    durable: false,
    target: PIPELINE_TARGET,
  },
  {
    name: "GET of keys with a TTL, 50 clients, pipeline 16",
    metric: "rps",
    test: "get-ttl",
    requests: n(1_000_000),
    clients: 50,
    pipeline: 16,
    durable: false,
    target: PIPELINE_TARGET,
  },
  // Commands of several members to small collections (tags, leaderboards
  // per user): each request changes one of 100k sets that grow by ten.
  {
    name: "SADD of 10 members to 100k small sets, 50 clients, pipeline 16",
    metric: "rps",
    test: "sadd-10",
    requests: n(300_000),
    clients: 50,
    pipeline: 16,
    durable: false,
  },
  {
    name: "ZADD of 10 members to 100k small sorted sets, 50 clients, pipeline 16",
    metric: "rps",
    test: "zadd-10",
    requests: n(300_000),
    clients: 50,
    pipeline: 16,
    durable: false,
  },
  {
    name: "SET, 1 client (latency)",
    metric: "p50",
    test: "set",
    requests: n(20_000),
    clients: 1,
    pipeline: 1,
    durable: false,
    target: LATENCY_TARGET,
  },
  {
    name: "GET, 1 client (latency)",
    metric: "p50",
    test: "get",
    requests: n(20_000),
    clients: 1,
    pipeline: 1,
    durable: false,
    target: LATENCY_TARGET,
  },
  {
    name: "durable SET, 50 clients",
    metric: "rps",
    test: "set",
    requests: n(100_000),
    clients: 50,
    pipeline: 1,
    durable: true,
    target: DURABLE_SET_TARGET,
  },
  {
    name: "durable SET/HSET/LPUSH/ZADD/INCR at once, 10 clients each",
    metric: "rps",
    test: "mixed",
    requests: n(100_000),
    clients: 50,
    pipeline: 1,
    durable: true,
    target: MIXED_DURABLE_TARGET,
  },
  {
    name: "durable SET, 1 client",
    metric: "p50",
    test: "set",
    requests: n(5_000),
    clients: 1,
    pipeline: 1,
    durable: true,
  },
  {
    name: "MULTI/SET/INCR/EXEC, 50 clients",
    metric: "rps",
    test: "multi",
    requests: n(50_000),
    clients: 50,
    pipeline: 1,
    durable: false,
  },
  {
    // A job queue's traffic: each unit queues a job and takes one, on
    // 1,000 queues 20 long (held in the compact encoding by both servers).
    name: "RPUSH + LPOP, 1,000 queues of 20, 50 clients",
    metric: "rps",
    test: "queue",
    requests: n(100_000),
    clients: 50,
    pipeline: 1,
    durable: false,
  },
  {
    // A leaderboard's traffic: a score counted, the top ten read, on 1,000
    // sorted sets of 100 members (the compact encoding in both servers).
    name: "ZINCRBY + ZREVRANGE 0 9 WITHSCORES, 1,000 sorted sets of 100, 50 clients",
    metric: "rps",
    test: "board",
    requests: n(100_000),
    clients: 50,
    pipeline: 1,
    durable: false,
  },
  {
    name: "XADD (streams), 50 clients",
    metric: "rps",
    test: "xadd",
    requests: n(200_000),
    clients: 50,
    pipeline: 1,
    durable: false,
    target: PIPELINE_TARGET,
  },
  {
    name: "XADD (streams), 50 clients, pipeline 16",
    metric: "rps",
    test: "xadd",
    requests: n(1_000_000),
    clients: 50,
    pipeline: 16,
    durable: false,
    target: PIPELINE_TARGET,
  },
  {
    name: "SET + WAIT 1 0, 50 clients, one replica",
    metric: "rps",
    test: "wait",
    requests: n(20_000),
    clients: 50,
    pipeline: 1,
    durable: true,
    replicated: true,
  },
];

interface Row {
  name: string;
  metric: string;
  kvdb: BenchResult;
  redis: BenchResult;
  /** kvdb relative to redis, > 1 is kvdb better. */
  ratio: number;
  target?: Target;
}

/** Whether a ratio meets its target, judged unrounded (0.997× is not 1.00×). */
function verdict(ratio: number, target: Target | undefined): string {
  if (target === undefined) return "—";
  return target.met(ratio)
    ? `${target.text}: met`
    : `${target.text}: missed (${ratio.toFixed(3)}×)`;
}

/** Client CPU per transaction of the MULTI row's generator, by server (the last round's). */
const multiClientCpuUs: Record<string, number> = {};

async function runOne(server: BenchServer, s: Scenario): Promise<BenchResult> {
  if (s.test === "set" || s.test === "get") return await redisBenchmark(server, s.test, s);
  if (s.test === "set-ttl") {
    const command = ["SET", "key:__rand_int__", "xxx", "EX", "100000"];
    return await redisBenchmark(server, "set", { ...s, command });
  }
  if (s.test === "get-ttl") return await redisBenchmark(server, "get", s);
  if (s.test === "sadd-10" || s.test === "zadd-10") {
    const command = [s.test === "sadd-10" ? "SADD" : "ZADD", `${s.test}:__rand_int__`];
    for (const [i, name] of [..."mnopqrstuv"].entries()) {
      if (s.test === "zadd-10") command.push(String(i + 1));
      command.push(`${name}__rand_int__`);
    }
    return await redisBenchmark(server, "set", { ...s, command });
  }
  // Issue 19's stream row: entries with automatic IDs, trimmed as a bounded log is.
  if (s.test === "xadd") {
    const command = ["XADD", "bench:stream", "MAXLEN", "~", "100000", "*", "field", "value"];
    return await redisBenchmark(server, "set", { ...s, command });
  }
  if (s.test === "mixed") return await mixedBenchmark(server, s);
  const keyspace = s.test === "queue" || s.test === "board" ? 1000 : undefined;
  const queueLength = s.test === "board" ? 100 : undefined;
  const result = await multiBenchmark(server, { ...s, load: s.test, keyspace, queueLength });
  if (s.test === "multi") multiClientCpuUs[server.name] = result.clientCpuUsPerRequest;
  return result;
}

async function runScenarios(dir: string, scenarios: Scenario[]): Promise<Row[]> {
  const plain = [await startKvdb(dir), await startRedis(dir)];
  const durable = scenarios.some((s) => s.durable && !s.replicated)
    ? [await startDurableKvdb(dir, "wal"), await startDurableRedis(dir, "bench")]
    : [];
  // Masters first, their replicas after (stopped in this order too).
  const replicated = scenarios.some((s) => s.replicated) ? await startReplicatedPairs(dir) : [];
  const rows: Row[] = [];
  try {
    for (const server of [...plain, ...durable]) await warmUp(server, n(50_000));
    for (const s of scenarios) {
      const servers = s.replicated ? replicated.slice(0, 2) : s.durable ? durable : plain;
      const results: Record<string, BenchResult[]> = { kvdb: [], redis: [] };
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate who goes first, so drift on a shared machine is shared.
        const order: BenchServer[] = round % 2 === 0 ? servers : [servers[1], servers[0]];
        for (const server of order) {
          results[server.name].push(await runOne(server, s));
        }
      }
      const kvdb = medianResult(results.kvdb);
      const redis = medianResult(results.redis);
      const ratio = s.metric === "rps" ? kvdb.rps / redis.rps : redis.p50Ms / kvdb.p50Ms;
      rows.push({ name: s.name, metric: s.metric, kvdb, redis, ratio, target: s.target });
      console.error(`  ${s.name}: kvdb ${fmt(kvdb, s.metric)}, redis ${fmt(redis, s.metric)}`);
    }
  } finally {
    for (const server of [...plain, ...durable, ...replicated]) await server.stop();
  }
  return rows;
}

/**
 * A durable kvdb master and a durable redis-server master (as the durable
 * rows), each with one durable replica: [kvdb, redis, their replicas].
 */
async function startReplicatedPairs(dir: string): Promise<BenchServer[]> {
  const kvdb = await startDurableKvdb(dir, "wal-master");
  const redis = await startDurableRedis(dir, "master");
  const kvdbReplica = await startKvdb(dir, {
    wal: { enabled: true, data_directory: `${dir}/wal-replica` },
    replication: {
      enabled: true,
      replica_type: "slave",
      master_address: `127.0.0.1:${kvdb.port}`,
      sync_interval: "100ms",
    },
  });
  const redisReplica = await startRedis(dir, [
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
    "--appendfilename",
    "replica.aof",
    "--replicaof",
    "127.0.0.1",
    String(redis.port),
  ]);
  // Both replicas in sync before the first round.
  for (const master of [kvdb, redis]) await waitForReplica(master);
  return [kvdb, redis, kvdbReplica, redisReplica];
}

/** Until `master` answers `WAIT 1 1000` with 1. */
async function waitForReplica(master: BenchServer): Promise<void> {
  for (let tries = 0; tries < 60; tries++) {
    const out = await new Deno.Command("redis-cli", {
      args: ["-p", String(master.port), "WAIT", "1", "1000"],
      stdout: "piped",
    }).output();
    if (new TextDecoder().decode(out.stdout).trim() === "1") return;
  }
  throw new Error(`${master.name}'s replica never acknowledged`);
}

/** The default test list's modes: requests per test, clients, pipeline. */
const DEFAULT_LIST_MODES = [
  { name: "50 clients", requests: n(100_000), clients: 50, pipeline: 1 },
  { name: "50 clients, pipeline 16", requests: n(1_000_000), clients: 50, pipeline: 16 },
];

interface DefaultList {
  mode: string;
  rows: TestRow[];
  medianRatio: { ratio: number; of: number };
  seconds: number;
}

/**
 * redis-benchmark's default tests in each mode, kvdb (`network.protocol:
 * resp`, so that PING_INLINE's inline command is answered in RESP as
 * Redis does; `auto` would take it for the text protocol) against
 * redis-server.
 */
async function defaultLists(dir: string): Promise<DefaultList[]> {
  const kvdb = await startKvdb(dir, { network: { protocol: "resp" } });
  const redis = await startRedis(dir);
  const lists: DefaultList[] = [];
  try {
    for (const server of [kvdb, redis]) await warmUp(server, n(50_000));
    for (const mode of DEFAULT_LIST_MODES) {
      const start = performance.now();
      const rows = await defaultTestRows(kvdb, redis, { ...mode, rounds: ROUNDS });
      const seconds = (performance.now() - start) / 1000;
      lists.push({ mode: mode.name, rows, medianRatio: medianRatio(rows), seconds });
      console.error(`  default tests, ${mode.name}: ${seconds.toFixed(0)} s`);
    }
  } finally {
    await kvdb.stop();
    await redis.stop();
  }
  return lists;
}

function defaultListLines(lists: DefaultList[]): string[] {
  const cell = (v: number | string, cpu: CpuPerRequest | undefined) =>
    typeof v === "number"
      ? `${Math.round(v).toLocaleString("en-US")}/s${cpu === undefined ? "" : ` (${cpuText(cpu)})`}`
      : v;
  const ratio = (r: TestRow) => (r.ratio === undefined ? "—" : `${r.ratio.toFixed(2)}×`);
  const header = lists.map((l) => `kvdb, ${l.mode} | redis-server | kvdb/redis`).join(" | ");
  const lines = [
    `| test | ${header} |`,
    `|---|${lists.map(() => "---:|---:|---:").join("|")}|`,
    ...DEFAULT_TESTS.map((_, i) =>
      `| ${lists[0].rows[i].test} | ${
        lists.map((l) =>
          `${cell(l.rows[i].kvdb, l.rows[i].kvdbCpu)} | ${
            cell(l.rows[i].redis, l.rows[i].redisCpu)
          } | ${ratio(l.rows[i])}`
        ).join(" | ")
      } |`
    ),
    "",
    ...lists.map((l) =>
      `Median kvdb/redis, ${l.mode}: ${
        l.medianRatio.ratio.toFixed(2)
      }× over the ${l.medianRatio.of} ` +
      `of ${DEFAULT_TESTS.length} tests both servers ran (issue 16: every test ≥ 0.8×, the median ≥ 0.95×); ` +
      `${ROUNDS} rounds of ${
        DEFAULT_LIST_MODES.find((m) => m.name === l.mode)!.requests.toLocaleString("en-US")
      } ` +
      `requests per test (a tenth for LRANGE_*) took ${l.seconds.toFixed(0)} s.`
    ),
    "",
    "Each test is a redis-benchmark call of its own, run on both servers before the next test: " +
    "its CPU runs from the call's start (an LRANGE test's: from the LPUSH that fills its list) " +
    "to its CSV line, its clients' connects included.",
    cpuNote(
      lists.flatMap((l) => l.rows.flatMap((r) => [r.kvdbCpu, r.redisCpu])).filter((c) =>
        c !== undefined
      ),
    ),
  ];
  return lines;
}

/** Resident memory after a load, or the error a server answered it with. */
type Resident = number | string;

interface CollectionMemory {
  hashes: { kvdb: Resident; redis: Resident };
  sortedSet: { kvdb: Resident; redis: Resident };
}

/** RSS after 1M small hashes (5 fields), and after one sorted set of 1M members (ZADD of 100). */
async function collectionMemory(dir: string): Promise<CollectionMemory> {
  const loads = {
    hashes: (port: number) => loadCommands(port, MEMORY_KEYS, (i) => smallHash(i)),
    sortedSet: (port: number) =>
      loadCommands(port, MEMORY_KEYS / 100, (i) => sortedSetBatch(i), 100),
  };
  const result: CollectionMemory = {
    hashes: { kvdb: 0, redis: 0 },
    sortedSet: { kvdb: 0, redis: 0 },
  };
  for (const what of ["hashes", "sortedSet"] as const) {
    for (const name of ["kvdb", "redis"] as const) {
      const server = name === "kvdb" ? await startKvdb(dir) : await startRedis(dir);
      try {
        const error = await loads[what](server.port);
        await new Promise((r) => setTimeout(r, 500));
        result[what][name] = error !== undefined ? `${name}: ${error}` : residentBytes(server.pid);
      } finally {
        await server.stop();
      }
    }
  }
  return result;
}

function memoryRow(label: string, m: { kvdb: Resident; redis: Resident }): string {
  const mib = (v: Resident) => (typeof v === "number" ? `${(v / 2 ** 20).toFixed(0)} MiB` : v);
  const both = typeof m.kvdb === "number" && typeof m.redis === "number";
  const ratio = both ? (m.kvdb as number) / (m.redis as number) : undefined;
  return `| ${label} | ${mib(m.kvdb)} | ${mib(m.redis)} | ${
    ratio === undefined ? "—" : `${ratio.toFixed(2)}× the memory`
  } | ${ratio === undefined ? "not run" : verdict(ratio, MEMORY_TARGET)} |`;
}

const STRING_KEYS_LABEL = `resident memory, ${
  MEMORY_KEYS.toLocaleString("en-US")
} keys (16 B keys, 64 B values)`;

async function memory(dir: string): Promise<{ kvdb: number; redis: number }> {
  const result = { kvdb: 0, redis: 0 };
  const starts = [["kvdb", () => startKvdb(dir)], ["redis", () => startRedis(dir)]] as const;
  for (const [name, start] of starts) {
    const server = await start();
    try {
      await loadKeys(server.port, MEMORY_KEYS);
      await new Promise((r) => setTimeout(r, 500));
      result[name] = residentBytes(server.pid);
    } finally {
      await server.stop();
    }
  }
  return result;
}

interface Restart {
  records: number;
  snapshotLsn: number;
  ms: number;
}

/**
 * Restart time after loading MEMORY_KEYS keys: from the WAL alone
 * (snapshots off), and with the snapshots the default threshold takes.
 */
async function restart(dir: string, snapshots: boolean): Promise<Restart> {
  const config = {
    wal: {
      enabled: true,
      data_directory: `${dir}/restart-wal-${snapshots}`,
      ...(snapshots ? {} : { snapshot_threshold: "1000GiB" }),
    },
  };
  const first = await startKvdb(dir, config);
  await loadKeys(first.port, MEMORY_KEYS);
  await first.stop();
  const second = await startKvdb(dir, config);
  const logs = await second.logs();
  await second.stop();
  const line = logs.split("\n").filter((l) => l.includes("wal recovered")).pop() ?? "";
  return {
    records: Number(/records=(\d+)/.exec(line)?.[1]),
    snapshotLsn: Number(/snapshotLsn=(\d+)/.exec(line)?.[1] ?? 0),
    ms: Number(/ms=(\d+)/.exec(line)?.[1]),
  };
}

/** Runs one of the standalone bench scripts and returns its table. */
async function benchScript(
  script: string,
  args: string[],
  v8Flags: string[] = [],
): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      ...v8Flags,
      new URL(script, import.meta.url).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

const snapshotBench = () =>
  // The server's V8 flags, so that the pause is the server's.
  benchScript("./snapshot_bench.ts", ["--keys", String(MEMORY_KEYS)], [...KVDB_V8_FLAGS]);

/** The Deno floor table: SET at 50 clients, in memory and durable. */
const floorRows = (dir: string) => runtimeFloor(dir, ROUNDS, n(200_000), n(50_000));

/** The stall section: 50,000 GETs a load (bench/_stall.ts says why), over MEMORY_KEYS keys. */
const stall = (dir: string) =>
  stallRows(dir, { rounds: ROUNDS, keys: MEMORY_KEYS, requests: n(50_000) });

/** The growth section: each collection grows by 3M members (1/10 with --quick). */
const growth = (dir: string) => growthStallRows(dir, { rounds: ROUNDS, members: n(3_000_000) });

const walBench = () => benchScript("./wal_bench.ts", ["--replay-records", String(MEMORY_KEYS)]);

function fmt(r: BenchResult, metric: string): string {
  return metric === "rps"
    ? `${Math.round(r.rps).toLocaleString("en-US")}/s (${cpuText(r.cpu)})`
    : `p50 ${r.p50Ms.toFixed(3)} ms, p99 ${r.p99Ms.toFixed(3)} ms, mean ${
      r.meanMs.toFixed(3)
    } ms (${cpuText(r.cpu)})`;
}

/** The CPU note under a table of load rows. */
function rowsCpuNote(rows: Row[]): string {
  return cpuNote(rows.flatMap((r) => [r.kvdb.cpu, r.redis.cpu]));
}

/** The load rows of the Markdown table, with its header. */
function rowLines(rows: Row[]): string[] {
  return [
    "| load | kvdb | redis-server | kvdb/redis | target (issue 6 unless named) |",
    "|---|---:|---:|---:|---|",
    ...rows.map((r) =>
      `| ${r.name} | ${fmt(r.kvdb, r.metric)} | ${fmt(r.redis, r.metric)} | ${
        r.ratio.toFixed(2)
      }× | ${verdict(r.ratio, r.target)} |`
    ),
  ];
}

/** How the mixed durable row was loaded ("" when it did not run). */
function mixedNote(rows: Row[]): string {
  if (!rows.some((r) => r.name.includes("at once"))) return "";
  return "Mixed durable load: one redis-benchmark per command (`-t set`, `hset`, `lpush`, `zadd`, " +
    "`incr`), 10 clients and a fifth of the requests each, started together " +
    "(bench/_mixed_load.ts); throughput is all requests over the time until the last one ends.";
}

/** How the MULTI row was loaded, and what its generator cost ("" when it did not run). */
function multiNote(): string {
  if (multiClientCpuUs.kvdb === undefined) return "";
  const cpu = (name: string) => multiClientCpuUs[name]?.toFixed(1) ?? "?";
  return "MULTI/SET/INCR/EXEC: transactions per second from bench/multi_load.ts (50 connections, " +
    "one transaction of four commands in flight each; redis-benchmark repeats one command), " +
    `its own CPU ${cpu("kvdb")} µs per transaction against kvdb, ${cpu("redis")} against redis.`;
}

function chart(rows: Row[], mem: { kvdb: number; redis: number }): string {
  const bars = [
    ...rows.map((r) => ({ label: r.name, ratio: r.ratio })),
    { label: "memory, 1M keys (redis/kvdb)", ratio: mem.redis / mem.kvdb },
  ];
  const width = 720;
  const barHeight = 22;
  const left = 260;
  const scale = (width - left - 60) / Math.max(2, ...bars.map((b) => b.ratio));
  const height = bars.length * (barHeight + 8) + 50;
  const esc = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;");
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `font-family="sans-serif" font-size="12">\n` +
    `<text x="10" y="18" font-size="14">kvdb relative to redis-server (higher is better for kvdb; 1.0 = parity)</text>\n`;
  bars.forEach((b, i) => {
    const y = 30 + i * (barHeight + 8);
    const w = Math.max(1, b.ratio * scale);
    const color = b.ratio >= 1 ? "#3a7" : "#d63";
    svg += `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>\n` +
      `<rect x="${left}" y="${y}" width="${
        w.toFixed(1)
      }" height="${barHeight}" fill="${color}"/>\n` +
      `<text x="${(left + w + 4).toFixed(1)}" y="${y + 15}">${b.ratio.toFixed(2)}×</text>\n`;
  });
  const one = left + scale;
  svg += `<line x1="${one}" y1="26" x2="${one}" y2="${
    height - 10
  }" stroke="#333" stroke-dasharray="4 3"/>\n</svg>\n`;
  return svg;
}

async function machine(): Promise<string> {
  const cpu = readProc("/proc/cpuinfo").match(/model name\s*:\s*(.*)/)?.[1] ?? "?";
  const redis = new TextDecoder().decode(
    (await new Deno.Command("redis-server", { args: ["--version"], stdout: "piped" }).output())
      .stdout,
  ).match(/v=(\S+)/)?.[1];
  return `${navigator.hardwareConcurrency} cores (${cpu}), Deno ${Deno.version.deno}, redis-server ${redis}; ${clientCoreNote()}`;
}

async function main(): Promise<void> {
  await ensureRedis();
  const dir = await Deno.makeTempDir({ prefix: "kvdb-bench-" });
  try {
    const host = await machine();
    console.error(`machine: ${host}; ${ROUNDS} rounds${flags.quick ? " (quick)" : ""}`);
    if (flags.only === "default") {
      console.log(defaultListLines(await defaultLists(dir)).join("\n"));
      return;
    }
    if (
      flags.only === "tls" || flags.only === "auth" || flags.only === "maxmemory" ||
      flags.only === "scripting"
    ) {
      const rows = flags.only === "tls"
        ? await tlsRows(dir, ROUNDS, n(200_000))
        : flags.only === "auth"
        ? await authRows(dir, ROUNDS, n(200_000))
        : flags.only === "scripting"
        ? await scriptingRows(dir, ROUNDS, n(200_000))
        : await maxmemoryRows(dir, ROUNDS, n(200_000));
      const table = rows.map((r) => ({
        name: r.name,
        metric: "rps",
        kvdb: r.kvdb,
        redis: r.redis,
        ratio: r.kvdb.rps / r.redis.rps,
      }));
      console.log([...rowLines(table), "", rowsCpuNote(table)].join("\n"));
      return;
    }
    if (flags.only === "stall") {
      console.log((await stall(dir)).table);
      return;
    }
    if (flags.only === "growth") {
      console.log((await growth(dir)).table);
      return;
    }
    if (flags.only === "floor") {
      console.log((await floorRows(dir)).table);
      return;
    }
    if (flags.only === "memory") {
      console.log(memoryRow(STRING_KEYS_LABEL, await memory(dir)));
      const m = await collectionMemory(dir);
      console.log(
        memoryRow(
          `resident memory, ${MEMORY_KEYS.toLocaleString("en-US")} hashes of 5 fields`,
          m.hashes,
        ),
      );
      console.log(
        memoryRow(
          `resident memory, one sorted set of ${MEMORY_KEYS.toLocaleString("en-US")} members`,
          m.sortedSet,
        ),
      );
      return;
    }
    if (flags.only !== undefined) {
      const only = SCENARIOS.filter((s) => s.name.includes(flags.only!));
      if (only.length === 0) throw new Error(`--only ${flags.only}: no such row`);
      const rows = await runScenarios(dir, only);
      console.log(
        [...rowLines(rows), "", rowsCpuNote(rows), multiNote(), mixedNote(rows)].join("\n"),
      );
      return;
    }
    const rows = await runScenarios(dir, SCENARIOS);
    console.error("  redis-benchmark's default tests ...");
    const lists = await defaultLists(dir);
    console.error("  runtime floor ...");
    const floor = await floorRows(dir);
    console.error("  memory ...");
    const mem = await memory(dir);
    const collections = await collectionMemory(dir);
    console.error("  replay ...");
    const replayed = await restart(dir, false);
    const fromSnapshot = await restart(dir, true);
    console.error("  replication lag ...");
    const lag = await replicationLag(dir, 10_000, flags.quick ? 2 : 5);
    console.error("  snapshot pause ...");
    const snapshot = await snapshotBench();
    console.error("  WAL alone ...");
    const wal = await walBench();
    console.error("  stalls ...");
    const stalls = await stall(dir);
    console.error("  growth stalls ...");
    const grown = await growth(dir);

    const lines = [
      `Machine: ${host}. ${new Date().toISOString().slice(0, 10)}. ` +
      `\`deno task bench\`: medians of ${ROUNDS} alternating rounds, redis-benchmark -r 100000.`,
      "",
      ...rowLines(rows),
      memoryRow(STRING_KEYS_LABEL, mem),
      memoryRow(
        `resident memory, ${MEMORY_KEYS.toLocaleString("en-US")} hashes of 5 fields`,
        collections.hashes,
      ),
      memoryRow(
        `resident memory, one sorted set of ${MEMORY_KEYS.toLocaleString("en-US")} members`,
        collections.sortedSet,
      ),
      "",
      rowsCpuNote(rows),
      "",
      "redis-benchmark's default test list (`-t` of one test per call, each test on both servers in turn, " +
      "the LRANGE tests with a tenth of the requests; " +
      "a test kvdb cannot run shows the server's error):",
      "",
      ...defaultListLines(lists),
      "",
      "Ratios: throughput kvdb/redis; latency rows redis p50 / kvdb p50 (so > 1 means kvdb is faster).",
      "redis-benchmark's latency histogram steps by 8 µs near 50 µs; the mean shows finer differences.",
      "Durable rows: kvdb with `wal.enabled: true` (batch 100, 10ms) against redis-server",
      "`--appendonly yes --appendfsync always`.",
      multiNote(),
      mixedNote(rows),
      "",
      "Deno's share: the same SET load against bench/floor_server.ts, a Deno server with no",
      "database (it finds the requests in each read and answers `+OK`; durable: one write +",
      "fdatasync per event-loop turn), kvdb and redis-server, rotating; the last column is",
      "kvdb's server CPU per request over the floor's (issue 20: ≤ 1.05× in memory):",
      "",
      floor.table,
      "",
      `Replication lag at ${lag.writesPerSecond.toLocaleString("en-US")} writes/s ` +
      `(${lag.samples} sampled writes, from the master's OK to readable on the replica): ` +
      `p50 ${lag.p50Ms.toFixed(2)} ms, p99 ${lag.p99Ms.toFixed(2)} ms, max ${
        lag.maxMs.toFixed(2)
      } ms.`,
      "",
      `Restart after ${MEMORY_KEYS.toLocaleString("en-US")} SETs: replaying ${
        replayed.records.toLocaleString("en-US")
      } WAL records (snapshots off) ${replayed.ms} ms; with the default snapshots (snapshot at LSN ${
        fromSnapshot.snapshotLsn.toLocaleString("en-US")
      } + ${fromSnapshot.records.toLocaleString("en-US")} WAL records) ${fromSnapshot.ms} ms.`,
      "",
      "A snapshot of a live store (bench/snapshot_bench.ts):",
      "",
      snapshot,
      "",
      "The WAL on its own (bench/wal_bench.ts):",
      "",
      wal,
      "",
      "Stalls (issue 20): a 50-client GET load's p99.9 alone, while snapshots are taken, and " +
      "while an UNLINK frees a large set (bench/_stall.ts):",
      "",
      stalls.table,
      "",
      "Growing one collection to millions of members, and turning one over (issue 16; bench/_growth_stall.ts):",
      "",
      grown.table,
    ];
    const table = lines.join("\n");
    console.log(table);
    const results = new URL("./results/", import.meta.url).pathname;
    await Deno.mkdir(results, { recursive: true });
    await Deno.writeTextFile(
      `${results}latest.json`,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: host,
          rounds: ROUNDS,
          quick: !!flags.quick,
          rows,
          memory: mem,
          collectionMemory: collections,
          defaultTests: lists,
          replay: replayed,
          restartFromSnapshot: fromSnapshot,
          replicationLag: lag,
          runtimeFloor: floor.rows,
          stalls: stalls.rows,
          growthStalls: grown.rows,
        },
        null,
        2,
      ) + "\n",
    );
    await Deno.writeTextFile(`${results}latest.svg`, chart(rows, mem));
    await Deno.writeTextFile(`${results}latest.md`, table + "\n");
  } finally {
    await stopCpuReader();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

await main();
