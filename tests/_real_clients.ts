/**
 * Real client libraries and tools against kvdb, each scenario run first
 * against a real `redis-server` (Debian's 7.0.15) and then against kvdb.
 *
 * Running the scenario on Redis first proves that its assertions are
 * Redis's behaviour, not a guess: a scenario that fails on Redis fails the
 * test as "the scenario is wrong". On kvdb it must then pass — unless it is
 * listed in the test file's known gaps, where it must still fail, with the
 * error the gap names. A known gap that starts passing fails the test
 * ("remove it from the known gaps"), so the list only shrinks, on purpose.
 *
 * ```ts
 * import { realClientTest } from "./_real_clients.ts";
 *
 * realClientTest("some client", {
 *   scenarios: {
 *     "strings": async (server) => {
 *       // ... connect a client library to server.port and assert ...
 *     },
 *   },
 *   knownGaps: { "strings": /unknown command 'SETEX'/ },
 * });
 * ```
 *
 * @module
 */

import { AssertionError } from "node:assert";
import { delay } from "./_helpers.ts";
import { type KvdbConfig, KvdbServer, RedisServer, type Server } from "./_diff_servers.ts";
import { RespConnection } from "./_resp_connection.ts";
import { binaryString } from "./_resp_frames.ts";

const decoder = new TextDecoder();

/** A server a scenario runs against. */
export interface ClientServer {
  readonly name: "redis" | "kvdb";
  readonly port: number;
}

/** One client scenario: throws (an assertion, a client error) when it fails. */
export type Scenario = (server: ClientServer) => Promise<void>;

/**
 * Known gaps: scenario name -> what kvdb's failure says today (matched
 * against the error's message). Each is a place where kvdb differs from
 * Redis; the scenario asserts Redis's behaviour.
 */
export type KnownGaps = Readonly<Record<string, RegExp>>;

/** How one scenario went on one server: undefined if it passed, else the failure. */
export type ScenarioOutcome = string | undefined;

/**
 * Judges a scenario from its outcomes on Redis and on kvdb, and throws
 * when: it failed on Redis (the scenario is wrong); it failed on kvdb and
 * is not a known gap; it is a known gap and passed on kvdb (remove the
 * gap); or it is a known gap and failed differently than the gap says.
 */
export function judgeScenario(
  name: string,
  redis: ScenarioOutcome,
  kvdb: ScenarioOutcome,
  gap: RegExp | undefined,
): void {
  if (redis !== undefined) {
    throw new AssertionError({
      message: `scenario "${name}" fails against redis-server itself, so it does not ` +
        `describe Redis's behaviour (fix the scenario):\n${redis}`,
    });
  }
  if (gap === undefined) {
    if (kvdb !== undefined) {
      throw new AssertionError({
        message: `scenario "${name}" passes against redis-server but fails against kvdb:\n${kvdb}`,
      });
    }
    return;
  }
  if (kvdb === undefined) {
    throw new AssertionError({
      message: `known gap "${name}" now passes against kvdb: remove it from the known gaps`,
    });
  }
  if (!gap.test(kvdb)) {
    throw new AssertionError({
      message: `known gap "${name}" fails against kvdb, but not as recorded (${gap}):\n${kvdb}`,
    });
  }
}

/** Every known gap names a scenario that exists (a renamed scenario would hide its gap). */
export function checkKnownGaps(scenarios: Iterable<string>, gaps: KnownGaps): void {
  const names = new Set(scenarios);
  const stray = Object.keys(gaps).filter((g) => !names.has(g));
  if (stray.length > 0) throw new Error(`known gaps without a scenario: ${stray.join(", ")}`);
}

/** Longest failure text kept (an assertion on a client object can print pages). */
const MAX_FAILURE_CHARS = 4000;

/** An error (or anything thrown) as the text gaps are matched against. */
export function describeFailure(e: unknown): string {
  let text = String(e);
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? `\ncaused by: ${e.cause.message}` : "";
    const where = e.stack?.split("\n").find((l) => /_test\.ts:\d+/.test(l))?.trim();
    text = `${where ? `(${where})\n` : ""}${e.name}: ${e.message}${cause}`;
  }
  return text.length > MAX_FAILURE_CHARS
    ? `${text.slice(0, MAX_FAILURE_CHARS)}... (${text.length} characters)`
    : text;
}

/** Sends FLUSHALL (and nothing else) on a fresh RESP connection. */
export async function flushAll(port: number): Promise<void> {
  const c = await RespConnection.connect(port);
  try {
    const reply = await c.call(["FLUSHALL"]);
    const text = binaryString(reply.raw);
    if (text !== "+OK\r\n") throw new Error(`FLUSHALL on ${port} answered ${text}`);
  } finally {
    c.close();
  }
}

/** A redis-server and a kvdb, started together, stopped together. */
export class ServerPair {
  private constructor(readonly redis: Server, readonly kvdb: Server) {}

  /**
   * Starts redis-server (`redisArgs` added) and kvdb with `kvdb` config
   * sections (on top of the differential defaults: 64 MiB requests).
   */
  static async start(
    options: { kvdb?: KvdbConfig; redisArgs?: readonly string[] } = {},
  ): Promise<ServerPair> {
    const [r, k] = await Promise.allSettled([
      RedisServer.start({ args: options.redisArgs }),
      KvdbServer.start(options.kvdb),
    ]);
    if (r.status === "rejected" || k.status === "rejected") {
      if (r.status === "fulfilled") await r.value.stop();
      if (k.status === "fulfilled") await k.value.stop();
      throw r.status === "rejected" ? r.reason : (k as PromiseRejectedResult).reason;
    }
    return new ServerPair(r.value, k.value);
  }

  /** Both servers, Redis first. */
  get both(): ClientServer[] {
    return [
      { name: "redis", port: this.redis.port },
      { name: "kvdb", port: this.kvdb.port },
    ];
  }

  /** The last `lines` log lines of both, for a failure message. */
  logs(lines = 20): string {
    return [this.redis, this.kvdb].map((s) => `--- ${s.name} log:\n${s.logTail(lines)}`)
      .join("\n");
  }

  async stop(): Promise<void> {
    await Promise.all([this.redis.stop(), this.kvdb.stop()]);
  }
}

/** What {@link realClientTest} runs. */
export interface RealClientOptions {
  scenarios: Readonly<Record<string, Scenario>>;
  knownGaps?: KnownGaps;
  /** kvdb config sections (default: kvdb's defaults plus 64 MiB requests). */
  kvdb?: KvdbConfig;
  /** How long one scenario may take on one server (default 30 s). */
  scenarioTimeoutMs?: number;
}

/** Rejects if `promise` does not settle within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A `Deno.test` with one step per scenario: FLUSHALL, the scenario against
 * redis-server, FLUSHALL, the scenario against kvdb, then
 * {@link judgeScenario}.
 */
export function realClientTest(name: string, options: RealClientOptions): void {
  const gaps = options.knownGaps ?? {};
  checkKnownGaps(Object.keys(options.scenarios), gaps);
  const timeoutMs = options.scenarioTimeoutMs ?? 30_000;
  Deno.test(name, async (t) => {
    const pair = await ServerPair.start({ kvdb: options.kvdb });
    try {
      for (const [scenario, run] of Object.entries(options.scenarios)) {
        await t.step(scenario, async () => {
          const outcomes: ScenarioOutcome[] = [];
          for (const server of pair.both) {
            await flushAll(server.port);
            try {
              await within(run(server), timeoutMs, `${scenario} on ${server.name}`);
              outcomes.push(undefined);
            } catch (e) {
              outcomes.push(describeFailure(e));
            }
          }
          try {
            judgeScenario(scenario, outcomes[0], outcomes[1], gaps[scenario]);
          } catch (e) {
            if (e instanceof AssertionError && outcomes[1] !== undefined && !gaps[scenario]) {
              e.message += `\n${pair.logs()}`;
            }
            throw e;
          }
        });
      }
    } finally {
      await pair.stop();
    }
  });
}

/** A finished program. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
  bytes: Uint8Array;
}

/** Runs a program to completion (SIGKILL after `timeoutMs`), optionally feeding stdin. */
export async function runTool(
  program: string,
  args: readonly string[],
  options: { stdin?: Uint8Array | string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<ToolResult> {
  const child = new Deno.Command(program, {
    args: [...args],
    stdin: options.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: options.env,
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, options.timeoutMs ?? 30_000);
  try {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(
        typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin,
      );
      await writer.close();
    }
    const out = await child.output();
    if (timedOut) throw new Error(`${program} ${args.join(" ")} timed out`);
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      bytes: out.stdout,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every 20 ms until it is true or `timeoutMs` passes. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await delay(20);
  }
}
