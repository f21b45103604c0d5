/**
 * The prototype under redis-benchmark (docs/multicore.md): one worker
 * against two, for each variant, beside kvdb itself, in alternating
 * rounds. The figure that survives a shared, noisy 2-core machine is the
 * server's CPU per request (utime + stime of every thread, from
 * /proc/<pid>/stat, over the requests); requests per second are printed
 * too but say little here, where redis-benchmark needs one of the two
 * cores. Run from the repository's root:
 *
 *     deno run --allow-run --allow-net=127.0.0.1 --allow-read --allow-write \
 *       --allow-env bench/multicore/throughput.ts [--rounds 3] [--only text,...] [--json out.json]
 *
 * (`--allow-read`/`--allow-write`/`--allow-env`: kvdb is started as
 * `deno task bench` starts it, with a config in a temporary directory.)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { freePort, median, startKvdb } from "../_servers.ts";
import { cpuBetween, cpuTicks, perRequest, stopCpuReader } from "../_server_cpu.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    /** Only the servers whose name holds one of these texts (comma-separated). */
    only: { type: "string" },
    json: { type: "string" },
  },
});
const ROUNDS = Number(flags.rounds);
/** redis-benchmark's keyspace (-r) and the loads measured. */
const KEYSPACE = 100_000;
const LOADS = [
  { test: "set", pipeline: 1, requests: 100_000 },
  { test: "get", pipeline: 1, requests: 100_000 },
  { test: "set", pipeline: 16, requests: 500_000 },
  { test: "get", pipeline: 16, requests: 500_000 },
] as const;

/** A server to measure: how to start it, and its process id while it runs. */
interface Config {
  name: string;
  args?: string[];
}
const CONFIGS: Config[] = [
  { name: "kvdb (shipped, single-threaded)" },
  { name: "prototype, 1 worker, own table", args: ["--workers", "1", "--variant", "shards"] },
  {
    name: "prototype, 1 worker, SAB table without locks",
    args: ["--workers", "1", "--variant", "shared", "--no-locks"],
  },
  {
    name: "prototype, 1 worker, SAB table with locks",
    args: ["--workers", "1", "--variant", "shared"],
  },
  { name: "prototype B, 2 workers, shared table", args: ["--workers", "2", "--variant", "shared"] },
  { name: "prototype A, 2 workers, shards + hop", args: ["--workers", "2", "--variant", "shards"] },
  {
    name: "prototype A, 2 workers, shards + SAB mailbox hop",
    args: ["--workers", "2", "--variant", "shards", "--hop", "ring"],
  },
].filter((config) =>
  flags.only === undefined || flags.only.split(",").some((text) => config.name.includes(text))
);

interface Running {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function startPrototype(args: string[]): Promise<Running> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-net",
      "--allow-net=127.0.0.1",
      `--allow-read=${new URL(".", import.meta.url).pathname}`,
      new URL("./server.ts", import.meta.url).pathname,
      "--port",
      String(port),
      ...args,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  if (!value?.includes("ready")) throw new Error(`prototype did not start: ${value}`);
  // Nothing more is read: let the child's output go.
  await reader.cancel();
  return {
    port,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

/** One load's result: requests per second and server CPU µs per request (all, user). */
interface Sample {
  rps: number;
  cpuUs: number;
  userUs: number;
}

async function load(
  server: Running,
  test: string,
  pipeline: number,
  requests: number,
): Promise<Sample> {
  const before = await cpuTicks(server.pid);
  const out = await new Deno.Command("redis-benchmark", {
    args: [
      ...["-h", "127.0.0.1", "-p", String(server.port), "-t", test, "-n", String(requests)],
      ...["-c", "50", "-P", String(pipeline), "-r", String(KEYSPACE), "--csv"],
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const after = await cpuTicks(server.pid);
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith(`"${test.toUpperCase()}"`));
  if (!out.success || !line) throw new Error(`redis-benchmark failed: ${text}`);
  const cpu = perRequest(cpuBetween(before, after), requests);
  return {
    rps: Number(line.split(",")[1].replaceAll('"', "")),
    cpuUs: cpu.totalUs,
    userUs: cpu.userUs,
  };
}

const samples = new Map<string, Sample[]>();
const dir = await Deno.makeTempDir({ prefix: "kvdb-multicore-" });
try {
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so that no configuration always runs first.
    const order = round % 2 === 0 ? CONFIGS : [...CONFIGS].reverse();
    for (const config of order) {
      const server = config.args === undefined
        ? await startKvdb(dir)
        : await startPrototype(config.args);
      try {
        // Warm up and fill the keyspace, so that GETs hit.
        await load(server, "set", 16, 300_000);
        for (const { test, pipeline, requests } of LOADS) {
          const key = `${config.name}|${test.toUpperCase()} P${pipeline}`;
          const sample = await load(server, test, pipeline, requests);
          samples.set(key, [...(samples.get(key) ?? []), sample]);
          console.log(
            `round ${round + 1} ${key}: ${Math.round(sample.rps)}/s, ` +
              `${sample.cpuUs.toFixed(2)} µs CPU/req (${sample.userUs.toFixed(2)} user)`,
          );
        }
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
  await stopCpuReader();
}

console.log("\n| server | load | req/s (median) | CPU µs/req min / median | user µs/req median |");
console.log("|---|---|---:|---:|---:|");
const summary = [];
for (const [key, list] of samples) {
  const [name, loadName] = key.split("|");
  const cpus = list.map((s) => s.cpuUs);
  const row = {
    server: name,
    load: loadName,
    rps: median(list.map((s) => s.rps)),
    cpuMinUs: Math.min(...cpus),
    cpuMedianUs: median(cpus),
    userMedianUs: median(list.map((s) => s.userUs)),
  };
  summary.push(row);
  console.log(
    `| ${name} | ${loadName} | ${Math.round(row.rps).toLocaleString("en")} | ` +
      `${row.cpuMinUs.toFixed(2)} / ${row.cpuMedianUs.toFixed(2)} | ${
        row.userMedianUs.toFixed(2)
      } |`,
  );
}
if (flags.json) Deno.writeTextFileSync(flags.json, JSON.stringify({ samples: summary }, null, 2));
