/**
 * `deno task bench --only stall` (issue 20, point 5): the p99.9 latency of
 * a 50-client GET load over 1M loaded keys (a) alone, (b) while snapshots
 * of those keys are taken, (c) while an UNLINK frees a set of 1M members,
 * against kvdb and redis-server started side by side; alternating rounds,
 * medians, and (b)/(a), (c)/(a) against the "within 2×".
 *
 * - The snapshot is BGSAVE on both: kvdb's snapshot of its keyspace (in
 *   slices on its event loop, which needs the WAL on), Redis's forked RDB
 *   dump. A new one starts as each ends, so the whole load runs under one.
 *   Each follows a write (INCR), as a real one follows changes: kvdb does
 *   not write again a snapshot of the state its newest one holds.
 * - The set is built before the load (SADD of 100 members a command, under
 *   kvdb's 4 KB request limit), then a GET load of a quarter of the
 *   requests, unmeasured, lets what the building left behind (kvdb's young
 *   garbage) settle; the UNLINK is sent once the measured load's 50 clients
 *   are connected.
 * - The load is redis-benchmark's GET test (`-t get -r <keys>`: each GET
 *   hits a loaded key), `--precision 3`; the p99.9 is the first step of its
 *   "latency by percentile distribution" at or above 99.9% (its HdrHistogram
 *   steps by halves: 99.902%). A stall holds up at least one request per
 *   client, 50, which is 0.1% of 50,000: so the load is 50,000 requests
 *   (~1 s here), and a single UNLINK's stall reaches its p99.9, where a
 *   longer load would hide it.
 *
 * @example
 * ```ts
 * const stall = await stallRows(dir, { rounds: 3, keys: 1_000_000, requests: 50_000 });
 * console.log(stall.table);
 * ```
 * @module
 */

import { RespClient, RespStatus } from "../tests/_helpers.ts";
import { loadCommands } from "./_default_tests.ts";
import {
  cpuNote,
  type CpuPerRequest,
  cpuText,
  measuredRun,
  medianCpu,
  perRequest,
} from "./_server_cpu.ts";
import { type BenchServer, loadKeys, median, startKvdb, startRedis } from "./_servers.ts";

/** Issue 20: the p99.9 with a snapshot or an UNLINK at most this many times the p99.9 alone. */
const STALL_TARGET = 2;
/** How often the control connection looks at the server while a load runs. */
const POLL_MS = 10;
/** The longest a load may take to connect, or a snapshot to end, before the bench gives up. */
const WAIT_LIMIT_MS = 120_000;
const SET_KEY = "stall:set";
const MEMBERS_PER_SADD = 100;
/** Written before each BGSAVE, so that each is a new state to snapshot. */
const TICK_KEY = "stall:tick";

/** The three loads. */
export type StallCase = "alone" | "snapshot" | "unlink";
const CASES: readonly StallCase[] = ["alone", "snapshot", "unlink"];

/** One measured GET load. */
export interface StallLoad {
  p999Ms: number;
  /** The percentile step read as p99.9 (99.902% usually). */
  p999Step: number;
  p50Ms: number;
  maxMs: number;
  rps: number;
  cpu: CpuPerRequest;
  /** Snapshots started during the load (b), or the UNLINK's own reply time in ms (c). */
  event: number;
}

/** One case's medians per server. */
export interface StallRow {
  case: StallCase;
  kvdb: StallLoad;
  redis: StallLoad;
}

/** What the stall section is run with. */
export interface StallOptions {
  rounds: number;
  /** Keys loaded (and snapshotted), and members of the unlinked set. */
  keys: number;
  /** GET requests per load. */
  requests: number;
}

/**
 * Runs the three loads against kvdb and redis-server, `rounds` rounds
 * alternating who goes first, and returns the medians and their table.
 *
 * @example
 * ```ts
 * const { rows } = await stallRows(dir, { rounds: 1, keys: 100_000, requests: 5_000 });
 * ```
 */
export async function stallRows(
  dir: string,
  options: StallOptions,
): Promise<{ rows: StallRow[]; table: string }> {
  const kvdb = await startKvdb(dir, {
    // Snapshots need the WAL; none but the bench's (the threshold is out of reach).
    wal: { enabled: true, data_directory: `${dir}/stall-wal`, snapshot_threshold: "1000GiB" },
  });
  const redis = await startRedis(dir, ["--dbfilename", "stall.rdb"]);
  const servers: BenchServer[] = [kvdb, redis];
  const controls = new Map<BenchServer, RespClient>();
  const results: Record<string, Record<StallCase, StallLoad[]>> = {
    kvdb: { alone: [], snapshot: [], unlink: [] },
    redis: { alone: [], snapshot: [], unlink: [] },
  };
  try {
    for (const server of servers) {
      await loadKeys(server.port, options.keys);
      controls.set(server, await RespClient.connect(server.port));
      await getLoad(server, options, options.requests).done; // warm
    }
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? servers : [redis, kvdb];
      for (const what of CASES) {
        for (const server of order) {
          const load = await measure(server, controls.get(server)!, what, options);
          results[server.name][what].push(load);
          console.error(
            `  stall, ${what}, ${server.name}: p99.9 ${load.p999Ms.toFixed(3)} ms, ` +
              `max ${load.maxMs.toFixed(3)} ms, ${Math.round(load.rps)}/s, event ${load.event}`,
          );
        }
      }
    }
  } finally {
    for (const control of controls.values()) control.close();
    await kvdb.stop();
    await redis.stop();
  }
  const rows = CASES.map((what) => ({
    case: what,
    kvdb: medianLoad(results.kvdb[what]),
    redis: medianLoad(results.redis[what]),
  }));
  return { rows, table: stallTable(rows, options) };
}

/** One load of `what` against `server`, its event driven through `control`. */
async function measure(
  server: BenchServer,
  control: RespClient,
  what: StallCase,
  options: StallOptions,
): Promise<StallLoad> {
  if (what === "unlink") {
    const error = await loadCommands(
      server.port,
      Math.ceil(options.keys / MEMBERS_PER_SADD),
      (i) => setBatch(i),
      100,
    );
    if (error !== undefined) throw new Error(`${server.name} refused SADD: ${error}`);
    await getLoad(server, options, Math.round(options.requests / 4)).done;
  }
  const load = getLoad(server, options, options.requests);
  let event = 0;
  if (what !== "alone") {
    // The load's 50 clients and this one; a load over before they are seen measured nothing.
    const connected = await until(
      control,
      "clients",
      (info) => Number(field(info, "connected_clients")) >= 51,
      load.finished,
    );
    if (what === "unlink") {
      const start = performance.now();
      const reply = await control.call("UNLINK", SET_KEY);
      event = connected ? performance.now() - start : NaN;
      if (reply !== 1) throw new Error(`${server.name}: UNLINK answered ${JSON.stringify(reply)}`);
    } else {
      while (!load.finished()) {
        await control.call("INCR", TICK_KEY);
        const reply = await control.call("BGSAVE");
        if (!(reply instanceof RespStatus)) {
          throw new Error(`${server.name}: BGSAVE answered ${JSON.stringify(reply)}`);
        }
        event++;
        await until(
          control,
          "persistence",
          (info) => field(info, "rdb_bgsave_in_progress") === "0",
        );
      }
    }
  }
  return { ...await load.done, event };
}

/** `SADD stall:set` of the `i`th hundred members. */
function setBatch(i: number): string[] {
  const args = ["SADD", SET_KEY];
  for (let m = i * MEMBERS_PER_SADD; m < (i + 1) * MEMBERS_PER_SADD; m++) {
    args.push(`member:${String(m).padStart(12, "0")}`);
  }
  return args;
}

/** A GET load under way: its result when done, and whether it is. */
function getLoad(
  server: BenchServer,
  options: StallOptions,
  requests: number,
): { done: Promise<Omit<StallLoad, "event">>; finished: () => boolean } {
  let finished = false;
  const done = measuredRun(server.pid, "redis-benchmark", [
    ...["-h", "127.0.0.1", "-p", String(server.port), "-t", "get"],
    ...["-n", String(requests), "-c", "50", "-r", String(options.keys), "--precision", "3"],
  ]).then((run) => {
    if (!run.success) throw new Error(`redis-benchmark failed: ${run.stdout} ${run.stderr}`);
    return { ...parseLatencyReport(run.stdout), cpu: perRequest(run.total, requests) };
  }).finally(() => finished = true);
  return { done, finished: () => finished };
}

/**
 * redis-benchmark's report (not --csv): the p99.9 from "Latency by
 * percentile distribution", the rest from its summary.
 *
 * @example
 * ```ts
 * parseLatencyReport(stdout).p999Ms;
 * ```
 */
export function parseLatencyReport(
  text: string,
): Omit<StallLoad, "event" | "cpu"> {
  const lines = text.split(/[\r\n]+/);
  // The percentile steps, not the "cumulative distribution" after them (coarser, the same form).
  const from = lines.findIndex((l) => l.startsWith("Latency by percentile distribution"));
  const to = lines.findIndex((l) => l.startsWith("Cumulative distribution of latencies"));
  const steps = lines.slice(from + 1, to < 0 ? undefined : to).flatMap((l) => {
    const m = /^\s*([\d.]+)% <= ([\d.]+) milliseconds/.exec(l);
    return m ? [{ percent: Number(m[1]), ms: Number(m[2]) }] : [];
  });
  const p999 = steps.find((s) => s.percent >= 99.9);
  const rps = /throughput summary: ([\d.]+) requests per second/.exec(text);
  const summaryAt = lines.findIndex((l) => /avg\s+min\s+p50\s+p95\s+p99\s+max/.test(l));
  const summary = summaryAt >= 0 ? lines[summaryAt + 1]?.trim().split(/\s+/).map(Number) : [];
  if (from < 0 || p999 === undefined || rps === null || summary?.length !== 6) {
    throw new Error(`not a redis-benchmark latency report: ${text.slice(-500)}`);
  }
  return {
    p999Ms: p999.ms,
    p999Step: p999.percent,
    p50Ms: summary[2],
    maxMs: summary[5],
    rps: Number(rps[1]),
  };
}

/** Polls `INFO <section>` until `ready` holds (true) or `stop` does (false). */
async function until(
  control: RespClient,
  section: string,
  ready: (info: string) => boolean,
  stop: () => boolean = () => false,
): Promise<boolean> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (Date.now() < deadline) {
    const info = await control.call("INFO", section);
    if (typeof info !== "string") throw new Error(`INFO ${section} answered ${info}`);
    if (ready(info)) return true;
    if (stop()) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`INFO ${section}: still waiting after ${WAIT_LIMIT_MS} ms`);
}

/** A field of an INFO reply. */
function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
}

/** The median of each figure over a case's rounds (CPU: the round with the median total). */
function medianLoad(loads: StallLoad[]): StallLoad {
  const of = (f: (l: StallLoad) => number) => median(loads.map(f));
  return {
    p999Ms: of((l) => l.p999Ms),
    p999Step: of((l) => l.p999Step),
    p50Ms: of((l) => l.p50Ms),
    maxMs: of((l) => l.maxMs),
    rps: of((l) => l.rps),
    cpu: medianCpu(loads.map((l) => l.cpu)),
    event: of((l) => l.event),
  };
}

/**
 * The stall table and its notes.
 *
 * @example
 * ```ts
 * console.log(stallTable(rows, { rounds: 3, keys: 1_000_000, requests: 50_000 }));
 * ```
 */
export function stallTable(rows: StallRow[], options: StallOptions): string {
  const keys = options.keys.toLocaleString("en-US");
  const alone = rows.find((r) => r.case === "alone")!;
  const label = (r: StallRow) =>
    r.case === "alone"
      ? "alone"
      : r.case === "snapshot"
      ? `while snapshots of the ${keys} keys are taken (BGSAVE; snapshots a load: kvdb ${r.kvdb.event}, Redis ${r.redis.event})`
      : `while UNLINK frees a set of ${keys} members (its reply: kvdb ${
        r.kvdb.event.toFixed(1)
      } ms, Redis ${r.redis.event.toFixed(1)} ms)`;
  const cell = (l: StallLoad) =>
    `${l.p999Ms.toFixed(3)} ms (p50 ${l.p50Ms.toFixed(3)}, max ${l.maxMs.toFixed(1)} ms; ${
      Math.round(l.rps).toLocaleString("en-US")
    }/s; ${cpuText(l.cpu)})`;
  const times = (l: StallLoad, base: StallLoad) => l.p999Ms / base.p999Ms;
  const lines = [
    `| 50-client GET, ${
      options.requests.toLocaleString("en-US")
    } requests over ${keys} keys | kvdb p99.9 | redis-server p99.9 | kvdb: × alone | Redis: × alone | target (issue 20) |`,
    "|---|---:|---:|---:|---:|---|",
    ...rows.map((r) => {
      if (r.case === "alone") {
        return `| ${label(r)} | ${cell(r.kvdb)} | ${cell(r.redis)} | — | — | — |`;
      }
      const kvdbTimes = times(r.kvdb, alone.kvdb);
      const verdict = kvdbTimes <= STALL_TARGET ? "met" : `missed (${kvdbTimes.toFixed(3)}×)`;
      return `| ${label(r)} | ${cell(r.kvdb)} | ${cell(r.redis)} | ${kvdbTimes.toFixed(2)}× | ${
        times(r.redis, alone.redis).toFixed(2)
      }× | kvdb ≤ ${STALL_TARGET}× alone: ${verdict} |`;
    }),
    "",
    `Medians of ${options.rounds} rounds, kvdb and redis-server alternating; kvdb with its WAL on ` +
    "(snapshots need it). p99.9: redis-benchmark's percentile step at or above 99.9% " +
    `(${rows[0].kvdb.p999Step}%), --precision 3.`,
    cpuNote(rows.flatMap((r) => [r.kvdb.cpu, r.redis.cpu])),
  ];
  return lines.join("\n");
}
