/**
 * Issue 20's mixed durable load: SET, HSET, LPUSH, ZADD and INCR at once,
 * one redis-benchmark process per command (`-t <command>`, redis-benchmark's
 * own request shapes), each with a fifth of the clients and of the
 * requests, all started together against one server. Its throughput is the
 * requests over the wall time until the last process ends; its CPU per
 * request the server's over the whole run (bench/_server_cpu.ts).
 *
 * @example
 * ```ts
 * const result = await mixedBenchmark(kvdb, { requests: 100_000, clients: 50 });
 * result.rps;
 * ```
 * @module
 */

import { onClientCore } from "./_client_core.ts";
import { cpuBetween, cpuTicks, perRequest } from "./_server_cpu.ts";
import { type BenchResult, type BenchServer, median, parseCsvLine } from "./_servers.ts";

/** The commands mixed, as redis-benchmark's `-t` names them. */
export const MIXED_TESTS = ["set", "hset", "lpush", "zadd", "incr"] as const;

/**
 * Runs the mixed load once against `server`; `requests` and `clients` are
 * the totals (each a multiple of {@link MIXED_TESTS}' length).
 *
 * @example
 * ```ts
 * await mixedBenchmark(redis, { requests: 50_000, clients: 50 });
 * ```
 */
export async function mixedBenchmark(
  server: BenchServer,
  options: { requests: number; clients: number; keyspace?: number },
): Promise<BenchResult> {
  const parts = MIXED_TESTS.length;
  if (options.requests % parts !== 0 || options.clients % parts !== 0) {
    throw new Error(`the mixed load splits requests and clients in ${parts}`);
  }
  const before = await cpuTicks(server.pid);
  const startMs = performance.now();
  const runs = MIXED_TESTS.map((test) => {
    const [command, args] = onClientCore("redis-benchmark", [
      "-h",
      "127.0.0.1",
      "-p",
      String(server.port),
      "-t",
      test,
      "-n",
      String(options.requests / parts),
      "-c",
      String(options.clients / parts),
      "-r",
      String(options.keyspace ?? 100_000),
      "--csv",
    ]);
    return new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .output();
  });
  const outputs = await Promise.all(runs);
  const elapsedMs = performance.now() - startMs;
  const after = await cpuTicks(server.pid);
  const lines = outputs.map((out, i) => {
    const text = new TextDecoder().decode(out.stdout);
    const name = `"${MIXED_TESTS[i].toUpperCase()}`;
    const line = text.split("\n").find((l) => l.startsWith(name));
    if (!out.success || line === undefined) {
      throw new Error(`redis-benchmark -t ${MIXED_TESTS[i]} failed: ${text}`);
    }
    return parseCsvLine(line);
  });
  return {
    rps: options.requests / (elapsedMs / 1000),
    p50Ms: median(lines.map((l) => l.p50Ms)),
    p99Ms: Math.max(...lines.map((l) => l.p99Ms)),
    meanMs: median(lines.map((l) => l.meanMs)),
    cpu: perRequest(cpuBetween(before, after), options.requests),
  };
}
