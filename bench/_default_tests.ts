/**
 * redis-benchmark's whole default test list against kvdb and redis-server,
 * one redis-benchmark call per test, each test on both servers before the
 * next (the LRANGE tests with a tenth of the requests: bounded bench
 * time), and the collection memory rows (1M small hashes, one sorted set
 * of 1M members). redis-benchmark stops at the first error reply: a
 * test kvdb cannot run is recorded with the server's error (e.g. "ERR
 * unknown command 'LPUSH'...") and the call resumes with the tests after it,
 * so one missing command neither hides the others nor the failure.
 *
 * @example
 * ```ts
 * const rows = await defaultTestRows(kvdb, redis, { requests: 100_000, clients: 50, pipeline: 1, rounds: 3 });
 * ```
 * @module
 */

import { type BenchServer, median } from "./_servers.ts";
import { type CpuPerRequest, measuredRun, medianCpu, perRequest } from "./_server_cpu.ts";

/**
 * redis-benchmark 7.0's default tests (its `-t` names), in the order it
 * runs them (its LRANGE tests first run an LPUSH of their own).
 */
export const DEFAULT_TESTS = [
  "ping_inline",
  "ping_mbulk",
  "set",
  "get",
  "incr",
  "lpush",
  "rpush",
  "lpop",
  "rpop",
  "sadd",
  "hset",
  "spop",
  "zadd",
  "zpopmin",
  "lrange_100",
  "lrange_300",
  "lrange_500",
  "lrange_600",
  "mset",
] as const;

/** How redis-benchmark names a test in its CSV output (`lrange_100` → `LRANGE_100 (first 100 elements)`). */
function csvPrefix(test: string): string {
  return `"${test.toUpperCase()}`;
}

/**
 * One test's outcome in one call: requests per second and the server's
 * CPU per request over the test (from the CSV line before it, or the
 * call's start, to its own: its clients' connects and the previous test's
 * disconnects are in it, as in a call of its own), or the error that
 * stopped it.
 */
export type TestOutcome = { rps: number; cpu: CpuPerRequest } | { error: string };

/** What the rows are run with. */
export interface ListOptions {
  requests: number;
  clients: number;
  pipeline: number;
}

/**
 * Runs `tests` against `server` with as few redis-benchmark calls as the
 * errors allow (one when all pass): each failure is recorded against the
 * first test with no result, and the rest run in a new call.
 */
export async function runTestList(
  server: BenchServer,
  tests: readonly string[],
  options: ListOptions,
): Promise<Map<string, TestOutcome>> {
  const outcomes = new Map<string, TestOutcome>();
  let remaining = [...tests];
  while (remaining.length > 0) {
    const run = await measuredRun(server.pid, "redis-benchmark", [
      "-h",
      "127.0.0.1",
      "-p",
      String(server.port),
      "-t",
      remaining.join(","),
      "-n",
      String(options.requests),
      "-c",
      String(options.clients),
      "-P",
      String(options.pipeline),
      "-r",
      "100000",
      "--csv",
    ]);
    for (const test of remaining) {
      const line = run.lines.find((l) => l.text.startsWith(csvPrefix(test)));
      if (line !== undefined) {
        outcomes.set(test, {
          rps: Number(line.text.split(",")[1].replaceAll('"', "")),
          cpu: perRequest(line.cpu, options.requests),
        });
      }
    }
    const left = remaining.filter((t) => !outcomes.has(t));
    if (left.length === 0) break;
    // The call stopped at `left[0]`: redis-benchmark prints the server's error and exits.
    const error = /Error from server: ([^\n]*)/.exec(run.stderr)?.[1] ??
      (run.stderr.trim().split("\n").pop() || `redis-benchmark exited with ${run.code}`);
    outcomes.set(left[0], { error: withoutArgs(error) });
    remaining = left.slice(1);
  }
  return outcomes;
}

/** An error reply without the arguments Redis quotes after an unknown command's name (they vary). */
function withoutArgs(error: string): string {
  return error.trim().replace(/, with args beginning with:.*$/s, "");
}

/** A test's row: medians of the rounds that ran, or the first error seen. */
export interface TestRow {
  test: string;
  kvdb: number | string;
  redis: number | string;
  /** kvdb/redis requests per second; undefined when either failed. */
  ratio?: number;
  /** Each server's CPU per request (the round with the median CPU), where it ran. */
  kvdbCpu?: CpuPerRequest;
  redisCpu?: CpuPerRequest;
}

/**
 * Each test of {@link DEFAULT_TESTS} against `kvdb` and `redis`,
 * alternating who goes first, `rounds` times.
 */
export async function defaultTestRows(
  kvdb: BenchServer,
  redis: BenchServer,
  options: ListOptions & { rounds: number },
): Promise<TestRow[]> {
  const rps: Record<string, Record<string, number[]>> = { kvdb: {}, redis: {} };
  const cpu: Record<string, Record<string, CpuPerRequest[]>> = { kvdb: {}, redis: {} };
  const errors: Record<string, Record<string, string>> = { kvdb: {}, redis: {} };
  // The LRANGE tests answer 100-600 elements a request: a tenth of the requests keeps
  // them to about as long as the others.
  const lrange = { ...options, requests: Math.max(1000, Math.round(options.requests / 10)) };
  for (let round = 0; round < options.rounds; round++) {
    const pair = round % 2 === 0 ? [kvdb, redis] : [redis, kvdb];
    // A fresh keyspace each round: the list and set tests grow their keys.
    for (const server of pair) await flushAll(server);
    // Each test on both servers back to back, the one going first
    // alternating (ABBA), each server's tests in redis-benchmark's order:
    // a test's two figures are seconds apart. Run as one call per server
    // (the whole list, then the other server's), they were ~40 s apart at
    // pipeline 16, and this shared host's slow phases, minutes long, fell
    // on one server's half: the same build's pipelined median moved from
    // 1.02x to 0.76x between two runs, PING's from 1.21x to 0.75x.
    for (const [i, test] of DEFAULT_TESTS.entries()) {
      const testOptions = test.startsWith("lrange_") ? lrange : options;
      for (const server of i % 2 === 0 ? pair : [pair[1], pair[0]]) {
        const outcome = (await runTestList(server, [test], testOptions)).get(test)!;
        if ("rps" in outcome) {
          (rps[server.name][test] ??= []).push(outcome.rps);
          (cpu[server.name][test] ??= []).push(outcome.cpu);
        } else {
          errors[server.name][test] ??= outcome.error;
        }
      }
    }
  }
  return DEFAULT_TESTS.map((test) => {
    const side = (name: string): number | string =>
      errors[name][test] !== undefined
        ? `${name}: ${errors[name][test]}`
        : median(rps[name][test] ?? [0]);
    const k = side("kvdb");
    const r = side("redis");
    const cpuOf = (name: string) => {
      const runs = cpu[name][test];
      return errors[name][test] === undefined && runs !== undefined ? medianCpu(runs) : undefined;
    };
    return {
      test: test.toUpperCase(),
      kvdb: k,
      redis: r,
      ratio: typeof k === "number" && typeof r === "number" ? k / r : undefined,
      kvdbCpu: cpuOf("kvdb"),
      redisCpu: cpuOf("redis"),
    };
  });
}

/** The median kvdb/redis ratio of the rows where both ran, and how many did. */
export function medianRatio(rows: readonly TestRow[]): { ratio: number; of: number } {
  const ratios = rows.flatMap((r) => (r.ratio === undefined ? [] : [r.ratio]));
  return { ratio: ratios.length === 0 ? 0 : median(ratios), of: ratios.length };
}

async function flushAll(server: BenchServer): Promise<void> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-p", String(server.port), "FLUSHALL"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`FLUSHALL on ${server.name} failed`);
}

/**
 * Sends `count` commands made by `command(i)` over one pipelined RESP
 * connection, `batch` at a time, and waits for every reply (each one
 * line: an integer or an error). Returns the first error reply, if any
 * (the load goes on: nothing is skipped silently, and the caller reports
 * it).
 */
export async function loadCommands(
  port: number,
  count: number,
  command: (i: number) => string[],
  batch = 1000,
): Promise<string | undefined> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const encoder = new TextEncoder();
  const reply = new Uint8Array(64 * 1024);
  let firstError: string | undefined;
  try {
    for (let i = 0; i < count; i += batch) {
      const n = Math.min(batch, count - i);
      const parts: string[] = [];
      for (let j = 0; j < n; j++) {
        const args = command(i + j);
        parts.push(`*${args.length}\r\n`);
        for (const arg of args) parts.push(`$${arg.length}\r\n${arg}\r\n`);
      }
      const bytes = encoder.encode(parts.join(""));
      let written = 0;
      while (written < bytes.length) written += await conn.write(bytes.subarray(written));
      let replies = 0;
      let lineStart = true;
      let errorLine: string | undefined;
      while (replies < n) {
        const got = await conn.read(reply);
        if (got === null) throw new Error("server closed during load");
        for (let k = 0; k < got; k++) {
          if (lineStart) {
            lineStart = false;
            if (reply[k] === 0x2d /* - */) {
              errorLine = "";
              continue;
            }
          }
          if (reply[k] === 0x0a) {
            replies++;
            lineStart = true;
            if (errorLine !== undefined) {
              firstError ??= withoutArgs(errorLine);
            }
            errorLine = undefined;
          } else if (errorLine !== undefined) {
            errorLine += String.fromCharCode(reply[k]);
          }
        }
      }
    }
  } finally {
    conn.close();
  }
  return firstError;
}

/** HSET user:N with `fields` fields `field<k>` = `value-<N>-<k>` (the memory row's small hashes). */
export function smallHash(i: number, fields = 5): string[] {
  const args = ["HSET", `user:${String(i).padStart(8, "0")}`];
  for (let k = 0; k < fields; k++) args.push(`field${k}`, `value-${i}-${k}`);
  return args;
}

/** ZADD leaderboard with members `i * per` .. `(i + 1) * per - 1` (`member:<n>`, score n). */
export function sortedSetBatch(i: number, per = 100): string[] {
  const args = ["ZADD", "leaderboard"];
  for (let m = i * per; m < (i + 1) * per; m++) {
    args.push(String(m), `member:${String(m).padStart(8, "0")}`);
  }
  return args;
}
