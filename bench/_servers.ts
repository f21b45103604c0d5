/**
 * Bench helpers: start kvdb, redis-server and the runtime-floor server side
 * by side on free loopback ports, run redis-benchmark against any of them,
 * read a process's CPU time and resident memory from /proc.
 *
 * @example
 * ```ts
 * const kvdb = await startKvdb(dir);
 * const result = await redisBenchmark(kvdb, "set", { requests: 1000, clients: 50, pipeline: 1 });
 * await kvdb.stop();
 * ```
 * @module
 */

import { stringify } from "yaml";
import { type CpuPerRequest, measuredRun, medianCpu, perRequest } from "./_server_cpu.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const denoJson = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
const KVDB_FLAGS = (denoJson.tasks.kvdb as string).split(/\s+/).filter((w) => w.startsWith("--"));

/** The V8 flags kvdb runs with (deno.json's tasks), for in-process benches of its parts. */
export const KVDB_V8_FLAGS: readonly string[] = KVDB_FLAGS.filter((f) =>
  f.startsWith("--v8-flags")
);

/** A server under test. */
export interface BenchServer {
  /** `floor`: bench/floor_server.ts, Deno with no database behind it. */
  name: "kvdb" | "redis" | "floor";
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** A free loopback port below the ephemeral range. */
export function freePort(): number {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // Taken.
    }
  }
  throw new Error("no free port");
}

async function waitReady(port: number, child: Deno.ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode("*1\r\n$4\r\nPING\r\n"));
      const buf = new Uint8Array(64);
      const n = await conn.read(buf);
      conn.close();
      const reply = n ? new TextDecoder().decode(buf.subarray(0, n)) : "";
      // A server with a password answers too: it is up.
      if (reply.startsWith("+PONG") || reply.startsWith("-NOAUTH")) return;
    } catch {
      // Not yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`server on ${port} did not start`);
}

async function stopChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // Gone.
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  await child.status;
  clearTimeout(timer);
}

/** Spawns a server on `port` (stdout dropped) and waits until it answers PING. */
async function spawnServer(
  name: BenchServer["name"],
  port: number,
  command: string,
  args: string[],
  cwd?: string,
): Promise<BenchServer> {
  const child = new Deno.Command(command, {
    args,
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitReady(port, child);
  return { name, port, pid: child.pid, stop: () => stopChild(child) };
}

/** Starts kvdb with `config` sections (address filled in). */
export async function startKvdb(
  dir: string,
  config: Record<string, Record<string, unknown>> = {},
): Promise<BenchServer & { logs: () => Promise<string> }> {
  const port = freePort();
  const path = `${dir}/kvdb-${port}.yaml`;
  const logPath = `${dir}/kvdb-${port}.log`;
  await Deno.writeTextFile(
    path,
    stringify({
      ...config,
      network: { address: `127.0.0.1:${port}`, max_connections: 1000, ...config.network },
      logging: { level: "info", output: logPath },
    }),
  );
  const server = await spawnServer(
    "kvdb",
    port,
    Deno.execPath(),
    ["run", ...KVDB_FLAGS, `${ROOT}main.ts`, "server", "--config", path],
    dir,
  );
  return { ...server, logs: () => Deno.readTextFile(logPath) };
}

/**
 * Starts kvdb with its WAL on (default batch settings), in `dir/<name>`:
 * the durable side of an A/B.
 *
 * @example
 * ```ts
 * const kvdb = await startDurableKvdb(dir, "wal");
 * ```
 */
export function startDurableKvdb(dir: string, name: string): ReturnType<typeof startKvdb> {
  return startKvdb(dir, { wal: { enabled: true, data_directory: `${dir}/${name}` } });
}

/**
 * Starts redis-server with `appendfsync always`, its AOF `<name>.aof` in
 * `dir`: what kvdb's durable writes are compared with.
 *
 * @example
 * ```ts
 * const redis = await startDurableRedis(dir, "bench");
 * ```
 */
export function startDurableRedis(dir: string, name: string): Promise<BenchServer> {
  return startRedis(dir, [
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
    "--appendfilename",
    `${name}.aof`,
  ]);
}

/**
 * Starts bench/floor_server.ts (with the kvdb task's flags), durable when
 * `logPath` is given.
 *
 * @example
 * ```ts
 * const floor = await startFloor(`${dir}/floor.log`);
 * ```
 */
export function startFloor(logPath?: string): Promise<BenchServer> {
  const port = freePort();
  return spawnServer("floor", port, Deno.execPath(), [
    "run",
    ...KVDB_FLAGS,
    `${ROOT}bench/floor_server.ts`,
    "--port",
    String(port),
    ...(logPath ? ["--durable", logPath] : []),
  ]);
}

/** Starts redis-server with extra arguments (no persistence unless asked). */
export function startRedis(dir: string, args: string[] = []): Promise<BenchServer> {
  const port = freePort();
  return spawnServer("redis", port, "redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--maxclients",
    "1000",
    ...args,
  ]);
}

/**
 * Reads a /proc file through `cat`: Deno grants /proc reads only with
 * --allow-all, and the bench runs with named permissions.
 */
export function readProc(path: string): string {
  const out = new Deno.Command("cat", { args: [path], stdout: "piped" }).outputSync();
  if (!out.success) throw new Error(`cannot read ${path}`);
  return new TextDecoder().decode(out.stdout);
}

/** Resident memory of a process in bytes. */
export function residentBytes(pid: number): number {
  const status = readProc(`/proc/${pid}/status`);
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}

/** One redis-benchmark test result. */
export interface BenchResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Mean latency: finer than the percentiles, which step by 8 µs at ~50 µs. */
  meanMs: number;
  /** The server's CPU per request, user and kernel (bench/_server_cpu.ts). */
  cpu: CpuPerRequest;
}

/**
 * Runs `redis-benchmark -t <test>` against `server` and parses its CSV.
 */
export async function redisBenchmark(
  server: BenchServer,
  test: "set" | "get",
  options: {
    requests: number;
    clients: number;
    pipeline: number;
    keyspace?: number;
    /** Another port than the server's (its TLS port), and options for it (`--tls ...`). */
    port?: number;
    extraArgs?: string[];
    /** A command of its own instead of `-t <test>` (e.g. XADD): redis-benchmark repeats it. */
    command?: string[];
  },
): Promise<BenchResult> {
  const run = await measuredRun(server.pid, "redis-benchmark", [
    ...(options.extraArgs ?? []),
    "-h",
    "127.0.0.1",
    "-p",
    String(options.port ?? server.port),
    ...(options.command === undefined ? ["-t", test] : []),
    "-n",
    String(options.requests),
    "-c",
    String(options.clients),
    "-P",
    String(options.pipeline),
    "-r",
    String(options.keyspace ?? 100_000),
    "--csv",
    // redis-benchmark reads its options first: a command of its own goes last.
    ...(options.command ?? []),
  ]);
  const name = options.command === undefined ? `"${test.toUpperCase()}"` : `"${options.command[0]}`;
  const line = run.lines.find((l) => l.text.startsWith(name))?.text;
  if (!run.success || !line) throw new Error(`redis-benchmark failed: ${run.stdout} ${run.stderr}`);
  return { ...parseCsvLine(line), cpu: perRequest(run.total, options.requests) };
}

/**
 * redis-benchmark's CSV line for one test: "test","rps","avg_latency_ms",
 * "min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",
 * "max_latency_ms". The test's name may hold commas (a command of its own).
 *
 * @example
 * ```ts
 * parseCsvLine('"GET","50000.00","0.9","0.1","0.8","1.5","2.0","9.0"').rps; // 50000
 * ```
 */
export function parseCsvLine(line: string): Omit<BenchResult, "cpu"> {
  const cells = line.slice(line.indexOf('",') + 2).split(",").map((c) =>
    Number(c.replaceAll('"', ""))
  );
  return { rps: cells[0], p50Ms: cells[3], p99Ms: cells[5], meanMs: cells[1] };
}

/**
 * Runs SET and GET once, unmeasured, so that every server is measured warm:
 * kvdb's JavaScript is compiled by then, as Redis's C always is.
 *
 * @example
 * ```ts
 * await warmUp(kvdb, 50_000);
 * ```
 */
export async function warmUp(server: BenchServer, requests: number): Promise<void> {
  for (const test of ["set", "get"] as const) {
    await redisBenchmark(server, test, { requests, clients: 50, pipeline: 1 });
  }
}

/**
 * Loads `count` distinct keys (`key:%012d`, 16 bytes) with 64-byte values
 * over one pipelined RESP connection.
 */
export async function loadKeys(port: number, count: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const value = "v".repeat(64);
  const encoder = new TextEncoder();
  const batch = 1000;
  const reply = new Uint8Array(64 * 1024);
  for (let i = 0; i < count; i += batch) {
    let request = "";
    const n = Math.min(batch, count - i);
    for (let j = 0; j < n; j++) {
      const key = `key:${String(i + j).padStart(12, "0")}`;
      request += `*3\r\n$3\r\nSET\r\n$16\r\n${key}\r\n$64\r\n${value}\r\n`;
    }
    const bytes = encoder.encode(request);
    let written = 0;
    while (written < bytes.length) written += await conn.write(bytes.subarray(written));
    let replies = 0;
    while (replies < n) {
      const got = await conn.read(reply);
      if (got === null) throw new Error("server closed during load");
      for (let k = 0; k < got; k++) if (reply[k] === 0x0a) replies++;
    }
  }
  conn.close();
}

/**
 * The median of each field over `results` (the runs of one load).
 *
 * @example
 * ```ts
 * const typical = medianResult([first, second, third]);
 * ```
 */
export function medianResult(results: BenchResult[]): BenchResult {
  return {
    rps: median(results.map((r) => r.rps)),
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: median(results.map((r) => r.p99Ms)),
    meanMs: median(results.map((r) => r.meanMs)),
    cpu: medianCpu(results.map((r) => r.cpu)),
  };
}

/** The median of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A {@link BenchResult} of bench/multi_load.ts, with the generator's own CPU per transaction. */
export interface MultiResult extends BenchResult {
  clientCpuUsPerRequest: number;
}

/**
 * Runs bench/multi_load.ts (MULTI, SET, INCR, EXEC per transaction; or
 * its `wait` or `queue` load) against `server`; `rps` is transactions per
 * second and the CPU figures are per transaction (the queue load's: its
 * filling of the queues included, ~1% of its requests). `check: false`
 * accepts any replies (the floor server's).
 *
 * @example
 * ```ts
 * const result = await multiBenchmark(kvdb, { requests: 10_000, clients: 50 });
 * ```
 */
export async function multiBenchmark(
  server: BenchServer,
  options: {
    requests: number;
    clients: number;
    keyspace?: number;
    check?: boolean;
    load?: "multi" | "wait" | "queue" | "board";
    /** Elements of each queue, members of each board (multi_load.ts's `--queue-length`). */
    queueLength?: number;
  },
): Promise<MultiResult> {
  const run = await measuredRun(server.pid, Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    `${ROOT}bench/multi_load.ts`,
    "--port",
    String(server.port),
    "--clients",
    String(options.clients),
    "--transactions",
    String(options.requests),
    "--keyspace",
    String(options.keyspace ?? 100_000),
    ...(options.check === false ? ["--no-check"] : []),
    "--load",
    options.load ?? "multi",
    ...(options.queueLength === undefined ? [] : ["--queue-length", String(options.queueLength)]),
  ]);
  if (!run.success) throw new Error(`multi_load failed: ${run.stdout} ${run.stderr}`);
  const r = JSON.parse(run.stdout.trim().split("\n").pop()!);
  return {
    rps: r.tps,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    meanMs: r.meanMs,
    cpu: perRequest(run.total, r.transactions),
    clientCpuUsPerRequest: r.clientCpuUs / r.transactions,
  };
}
