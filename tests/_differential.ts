/**
 * Differential testing against the reference implementation: the same
 * command sequence is sent to kvdb and to a real `redis-server` (Debian's
 * 7.0.15, started here on a free loopback port), and the replies are
 * compared byte for byte, step by step, in RESP2 or (after `HELLO 3` on
 * both) RESP3.
 *
 * - {@link DiffPair.kvdbVsRedis} starts one kvdb and one redis-server (one
 *   pair per test file; every run starts with FLUSHALL on fresh connections).
 * - {@link DiffPair.diff} runs steps and throws a {@link DiffError} listing
 *   every differing step (index, command, both replies escaped and decoded);
 *   {@link DiffPair.runDiff} returns the same {@link DiffResult} without
 *   throwing.
 * - A step is a command (`["SET", "k", "v"]`) or a {@link Step}: raw bytes,
 *   another connection, replies and pushes to wait for, a pause, whether the
 *   server should close the connection, its own comparator.
 * - Replies that legitimately differ are compared by a {@link Comparator}
 *   chosen per step or per command name ({@link unordered},
 *   {@link ttlWithin}, {@link shapeOnly}, {@link infoFields},
 *   {@link errorCode}, {@link normalized}); there is no global "ignore".
 * - {@link DiffPair.diffRandom} runs a seeded random sequence from weighted
 *   templates (tests/_generate.ts) and, on failure, shrinks it to a minimal
 *   reproduction and reports the seed.
 *
 * Every connection opens with `PING` (or `HELLO 3`) on both servers, not
 * compared: kvdb's protocol detection needs a first byte `*` to speak RESP.
 *
 * ```ts
 * import {
 *   DiffPair, differentialTest, STANDARD_RULES, template, ttlWithin,
 * } from "./_differential.ts";
 *
 * differentialTest("strings", () => DiffPair.kvdbVsRedis(), async (t, pair) => {
 *   await t.step("SET and TTL", async () => {
 *     await pair.diff([
 *       ["SET", "k", "v", "EX", "100"],
 *       ["GET", "k"],
 *       { args: ["TTL", "k"], compare: ttlWithin(1) },
 *       { raw: "*1\r\n$x\r\n", conn: 1, awaitCloseMs: 1000 },
 *     ]);
 *   });
 *   await t.step("random", async () => {
 *     await pair.diffRandom({
 *       templates: [
 *         template(3, (r) => ["SET", r.pick(["a", "b"]), r.pick(["1", "x"])]),
 *         template(1, (r) => ["INCR", r.pick(["a", "b"])]),
 *       ],
 *       seed: 1,
 *       length: 500,
 *       rules: STANDARD_RULES,
 *     });
 *   });
 * });
 * ```
 *
 * @module
 */

import { AssertionError } from "node:assert";
import { delay } from "./_helpers.ts";
import { generate, shrink, type Template } from "./_generate.ts";
import { binaryString, describeValue, escapeBytes } from "./_resp_frames.ts";
import {
  type Arg,
  ConnectionClosedError,
  DEFAULT_REPLY_TIMEOUT_MS,
  type Frame,
  ReplyTimeoutError,
  RespConnection,
} from "./_resp_connection.ts";
import { type Comparator, exact, type Rules } from "./_diff_compare.ts";
import {
  type KvdbConfig,
  KvdbServer,
  RedisServer,
  type Server,
  type Target,
} from "./_diff_servers.ts";

// One import for test files: everything the harness is made of.
export * from "./_generate.ts";
export * from "./_resp_frames.ts";
export * from "./_resp_connection.ts";
export * from "./_diff_compare.ts";
export * from "./_diff_servers.ts";

/** One step of a sequence. A bare `Arg[]` is `{ args }`. */
export interface Step {
  /** A command, sent as a RESP array of bulk strings. */
  args?: readonly Arg[];
  /** Or bytes sent as they are (inline commands, malformed RESP). Exclusive with `args`. */
  raw?: Arg;
  /** Which connection sends and reads (default 0); each is opened, and handshaken, on first use. */
  conn?: number;
  /**
   * Replies (non-push frames) to read: default 1 if something is sent, else
   * 0. RESP2 pub/sub messages are replies; RESP3 ones are pushes.
   */
  replies?: number;
  /** Push frames to wait for (default 0); pushes that come earlier are recorded too. */
  pushes?: number;
  /**
   * Then wait this long for the server to close the connection (after a
   * protocol error, QUIT...) and record whether it did.
   */
  awaitCloseMs?: number;
  /** Wait this long before sending (expiry tests). */
  sleepMs?: number;
  /** How long each side may take for this step's frames (default: the run's `timeoutMs`). */
  timeoutMs?: number;
  /** How to compare this step's frames; overrides `rules`. */
  compare?: Comparator;
}

/** A step, or just a command. */
export type StepLike = readonly Arg[] | Step;

/** What one side did for a step. */
export interface Outcome {
  frames: Frame[];
  /**
   * How reading ended, when not simply with the expected frames: the server
   * closed the connection, nothing came in time, or (awaitCloseMs) it kept
   * the connection open.
   */
  end?: "closed" | "timeout" | "open";
}

function toStep(s: StepLike): Step {
  return Array.isArray(s) ? { args: s as readonly Arg[] } : s as Step;
}

function argText(a: Arg): string {
  const s = typeof a === "string" ? a : binaryString(a);
  return /^[\x21-\x7e]+$/.test(s) && !s.includes('"') ? s : escapeBytes(s, 80);
}

/** A step as one readable line: `SET k "a b"`, `[conn 1] raw "*1\r\n"`. */
export function describeStep(s: StepLike): string {
  const step = toStep(s);
  const parts: string[] = [];
  if (step.conn) parts.push(`[conn ${step.conn}]`);
  if (step.sleepMs) parts.push(`(after ${step.sleepMs} ms)`);
  if (step.args) parts.push(step.args.map(argText).join(" ") || "(empty array)");
  if (step.raw !== undefined) parts.push(`raw ${escapeBytes(step.raw, 200)}`);
  if (!step.args && step.raw === undefined) parts.push("(read only)");
  const expects: string[] = [];
  if (step.replies !== undefined) expects.push(`${step.replies} replies`);
  if (step.pushes) expects.push(`${step.pushes} pushes`);
  if (step.awaitCloseMs) expects.push("then close?");
  if (expects.length) parts.push(`{${expects.join(", ")}}`);
  return parts.join(" ");
}

/** An outcome as lines: each frame escaped (aggregates also decoded), then how reading ended. */
function describeOutcome(o: Outcome): string[] {
  const lines: string[] = [];
  for (const f of o.frames) {
    lines.push(`${f.push ? "push " : ""}${escapeBytes(f.raw, 300)}`);
    if (/^[*%~>|]/.test(String.fromCharCode(f.raw[0]))) lines.push(`  = ${describeValue(f.value)}`);
  }
  if (o.frames.length === 0) lines.push("(no frames)");
  if (o.end === "closed") lines.push("(then the server closed the connection)");
  if (o.end === "timeout") lines.push("(then nothing more came in time)");
  if (o.end === "open") lines.push("(the connection stayed open)");
  return lines;
}

/** `name: line` then the other lines indented under it. */
function labelled(name: string, width: number, lines: string[]): string {
  return lines.map((l, i) => "  " + (i === 0 ? `${name}:`.padEnd(width) : " ".repeat(width)) + l)
    .join("\n");
}

// ---------------------------------------------------------------------------
// Running a sequence on both sides.

/** How {@link runDiff} runs and compares. */
export interface DiffOptions {
  /** Send `HELLO 3` first on every connection of both sides (default false: RESP2). */
  resp3?: boolean;
  /** FLUSHALL both sides first (default true). */
  flush?: boolean;
  /** Comparators by command name (a step's own `compare` wins). */
  rules?: Rules;
  /** How long each side may take to answer a step (default {@link DEFAULT_REPLY_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Mismatches shown in an error message (default 20; all are counted). */
  maxReported?: number;
  /** Prefix of the error message: which case this is. */
  label?: string;
}

/** One step whose outcomes differ. */
export interface Mismatch {
  index: number;
  step: Step;
  subject: Outcome;
  reference: Outcome;
  comparator: string;
}

/** Everything {@link runDiff} saw. */
export interface DiffResult {
  subject: string;
  reference: string;
  resp3: boolean;
  steps: Step[];
  outcomes: [subject: Outcome, reference: Outcome][];
  mismatches: Mismatch[];
}

/** The harness could not run a sequence (not a difference in replies). */
export class DiffSetupError extends Error {
  override name = "DiffSetupError";
}

/** Replies differ; `result` has every step. */
export class DiffError extends AssertionError {
  constructor(message: string, readonly result: DiffResult) {
    super({ message });
  }
}

/** The connections one side of a run uses, opened on first use. */
class Side {
  readonly #conns = new Map<number, RespConnection>();

  constructor(readonly target: Target, readonly resp3: boolean, readonly timeoutMs: number) {}

  async conn(index: number): Promise<RespConnection> {
    let c = this.#conns.get(index);
    if (c) return c;
    c = await RespConnection.connect(this.target.port).catch((e) => {
      throw new DiffSetupError(
        `${this.target.name}: cannot connect to port ${this.target.port}: ${e}`,
      );
    });
    // A handshake that starts with `*` also makes kvdb's protocol detection choose RESP.
    const hello = await c.call(this.resp3 ? ["HELLO", "3"] : ["PING"], this.timeoutMs).catch(
      (e) => {
        c!.close();
        throw new DiffSetupError(`${this.target.name}: handshake failed: ${e}`);
      },
    );
    const ok = this.resp3 ? hello.value.type === "map" : binaryString(hello.raw) === "+PONG\r\n";
    if (!ok) {
      c.close();
      throw new DiffSetupError(
        `${this.target.name} refused the connection's ${this.resp3 ? "HELLO 3" : "PING"}: ` +
          escapeBytes(hello.raw),
      );
    }
    this.#conns.set(index, c);
    return c;
  }

  /** Sends the step's bytes and reads what it expects. */
  async run(step: Step): Promise<Outcome> {
    const index = step.conn ?? 0;
    const c = await this.conn(index);
    const sends = step.args !== undefined || step.raw !== undefined;
    if (step.args !== undefined) await c.send(step.args);
    else if (step.raw !== undefined) await c.sendRaw(step.raw);
    const wantReplies = step.replies ?? (sends ? 1 : 0);
    const wantPushes = step.pushes ?? 0;
    const frames: Frame[] = [];
    let replies = 0;
    let pushes = 0;
    // Pushes read earlier by readReply (a handshake) belong to the first step that reads.
    while (c.pushes.length > 0) {
      frames.push(c.pushes.shift()!);
      pushes++;
    }
    const deadline = Date.now() + (step.timeoutMs ?? this.timeoutMs);
    try {
      while (replies < wantReplies || pushes < wantPushes) {
        const f = await c.readFrame(Math.max(1, deadline - Date.now()));
        if (f === null) return this.#dropped(index, frames, "closed");
        frames.push(f);
        if (f.push) pushes++;
        else replies++;
      }
    } catch (e) {
      if (e instanceof ReplyTimeoutError) return this.#dropped(index, frames, "timeout");
      if (e instanceof ConnectionClosedError) return this.#dropped(index, frames, "closed");
      throw e;
    }
    if (step.awaitCloseMs !== undefined) {
      const closed = await c.closedByServer(step.awaitCloseMs);
      if (closed) return this.#dropped(index, frames, "closed");
      return { frames, end: "open" };
    }
    return { frames };
  }

  #dropped(index: number, frames: Frame[], end: "closed" | "timeout"): Outcome {
    this.#conns.get(index)?.close();
    this.#conns.delete(index);
    return { frames, end };
  }

  /**
   * After the last step: frames nobody read (an extra reply, an unexpected
   * push), found by a final PING on each open connection and reading up to
   * its reply.
   */
  async leftovers(): Promise<Map<number, Outcome>> {
    const found = new Map<number, Outcome>();
    for (const [index, c] of this.#conns) {
      const frames: Frame[] = [];
      try {
        await c.send(["PING"]);
        while (true) {
          const f = await c.readFrame(this.timeoutMs);
          if (f === null) {
            found.set(index, { frames, end: "closed" });
            break;
          }
          if (!f.push && isPingReply(f)) {
            if (frames.length > 0) found.set(index, { frames });
            break;
          }
          frames.push(f);
        }
      } catch {
        found.set(index, { frames, end: "timeout" });
      }
    }
    return found;
  }

  close(): void {
    for (const c of this.#conns.values()) c.close();
    this.#conns.clear();
  }
}

/** PING's reply in any state a connection can be left in (normal, subscribed, queued, refused). */
function isPingReply(f: Frame): boolean {
  const raw = binaryString(f.raw);
  return raw === "+PONG\r\n" || raw === "*2\r\n$4\r\npong\r\n$0\r\n\r\n" ||
    raw === "+QUEUED\r\n" || f.value.type === "error";
}

function comparatorFor(step: Step, rules: Rules | undefined): Comparator {
  if (step.compare) return step.compare;
  const args = step.args;
  if (rules && args && args.length > 0) {
    const name = (typeof args[0] === "string" ? args[0] : binaryString(args[0])).toUpperCase();
    const sub = args.length > 1
      ? (typeof args[1] === "string" ? args[1] : binaryString(args[1])).toUpperCase()
      : "";
    return rules[`${name} ${sub}`] ?? rules[name] ?? exact;
  }
  return exact;
}

function outcomesEqual(a: Outcome, b: Outcome, c: Comparator): boolean {
  if (a.end !== b.end || a.frames.length !== b.frames.length) return false;
  return a.frames.every((f, i) => f.push === b.frames[i].push && c.equal(f, b.frames[i]));
}

/**
 * Runs `steps` on both targets, step by step (both sides in parallel, so
 * their clocks stay close), on fresh connections, and compares every step's
 * frames. Never throws for differing replies; see {@link diff}.
 */
export async function runDiff(
  subject: Target,
  reference: Target,
  steps: readonly StepLike[],
  options: DiffOptions = {},
): Promise<DiffResult> {
  const resp3 = options.resp3 ?? false;
  const timeoutMs = options.timeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
  const sides = [new Side(subject, resp3, timeoutMs), new Side(reference, resp3, timeoutMs)];
  const result: DiffResult = {
    subject: subject.name,
    reference: reference.name,
    resp3,
    steps: steps.map(toStep),
    outcomes: [],
    mismatches: [],
  };
  try {
    if (options.flush ?? true) {
      await Promise.all(sides.map(async (side) => {
        const reply = await (await side.conn(0)).call(["FLUSHALL"], timeoutMs);
        if (binaryString(reply.raw) !== "+OK\r\n") {
          throw new DiffSetupError(
            `${side.target.name}: FLUSHALL answered ${escapeBytes(reply.raw)}`,
          );
        }
      }));
    }
    for (const [index, step] of result.steps.entries()) {
      if (step.args !== undefined && step.raw !== undefined) {
        throw new DiffSetupError(`step #${index} has both args and raw`);
      }
      if (step.sleepMs) await delay(step.sleepMs);
      const [a, b] = await Promise.all(sides.map((s) => s.run(step)));
      result.outcomes.push([a, b]);
      if (b.end === "timeout" && step.timeoutMs === undefined) {
        // The reference never sent what the step waits for: the step is
        // wrong, and every later step on that connection would compare
        // nothing (both sides time out alike).
        throw new DiffSetupError(
          `step #${index} (${describeStep(step)}) waits for frames ${reference.name} did not ` +
            `send in ${timeoutMs} ms (it sent ${b.frames.length}); fix the step's count, or give ` +
            "it a timeoutMs if waiting in vain is the point",
        );
      }
      const comparator = comparatorFor(step, options.rules);
      if (!outcomesEqual(a, b, comparator)) {
        result.mismatches.push({
          index,
          step,
          subject: a,
          reference: b,
          comparator: comparator.name,
        });
      }
    }
    const [la, lb] = await Promise.all(sides.map((s) => s.leftovers()));
    for (const conn of new Set([...la.keys(), ...lb.keys()])) {
      const a = la.get(conn) ?? { frames: [] };
      const b = lb.get(conn) ?? { frames: [] };
      if (!outcomesEqual(a, b, exact)) {
        result.mismatches.push({
          index: result.steps.length,
          step: { conn, args: ["PING"] },
          subject: a,
          reference: b,
          comparator: "frames left unread after the last step, before a final PING's reply",
        });
      }
    }
  } finally {
    for (const s of sides) s.close();
  }
  return result;
}

/** A readable report of a result's mismatches (at most `maxReported`). */
export function formatMismatches(result: DiffResult, maxReported = 20, label?: string): string {
  const { subject, reference } = result;
  const width = Math.max(subject.length, reference.length) + 2;
  const head = `${label ? label + ": " : ""}${subject} differs from ${reference} ` +
    `(${result.resp3 ? "RESP3" : "RESP2"}) in ${result.mismatches.length} of ` +
    `${result.steps.length} steps:`;
  const blocks = result.mismatches.slice(0, maxReported).map((m) => {
    const how = m.comparator === "exact" ? "" : `  [compared: ${m.comparator}]`;
    return `#${m.index} ${describeStep(m.step)}${how}\n` +
      labelled(subject, width, describeOutcome(m.subject)) + "\n" +
      labelled(reference, width, describeOutcome(m.reference));
  });
  const more = result.mismatches.length > maxReported
    ? [`... and ${result.mismatches.length - maxReported} more differing steps`]
    : [];
  return [head, ...blocks, ...more].join("\n\n");
}

/** Like {@link runDiff}, but throws a {@link DiffError} listing every differing step. */
export async function diff(
  subject: Target,
  reference: Target,
  steps: readonly StepLike[],
  options: DiffOptions = {},
): Promise<DiffResult> {
  const result = await runDiff(subject, reference, steps, options);
  if (result.mismatches.length > 0) {
    throw new DiffError(formatMismatches(result, options.maxReported, options.label), result);
  }
  return result;
}

// ---------------------------------------------------------------------------
// Random sequences.

/** A {@link diffRandom} run. */
export interface RandomOptions extends DiffOptions {
  /** Weighted step templates. */
  templates: readonly Template<StepLike>[];
  /** The seed; the environment variable KVDB_DIFF_SEED overrides it (to explore others). */
  seed: number;
  /** Steps to generate. */
  length: number;
  /** Most sequences run while shrinking (default 400). */
  maxShrinkRuns?: number;
  /** Most time spent shrinking (default 20 s). */
  maxShrinkMs?: number;
}

function seedFromEnv(): number | undefined {
  try {
    const s = Deno.env.get("KVDB_DIFF_SEED");
    return s === undefined || s === "" ? undefined : Number(s);
  } catch {
    return undefined;
  }
}

/** A binary string or bytes as a TypeScript string literal, bytes above 0x7e as `\\xHH`. */
function jsString(a: Arg): string {
  const s = typeof a === "string" ? a : binaryString(a);
  return JSON.stringify(s).replace(
    /[\x7f-\xff]/g,
    (c) => "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"),
  );
}

/** A step as TypeScript that reproduces it. */
function stepSource(s: Step): string {
  const args = (a: readonly Arg[]) => `[${a.map(jsString).join(", ")}]`;
  const plain = s.args && Object.keys(s).every((k) => k === "args" || k === "compare");
  if (plain) return args(s.args!);
  const fields: string[] = [];
  if (s.args) fields.push(`args: ${args(s.args)}`);
  if (s.raw !== undefined) {
    fields.push(`raw: ${jsString(s.raw)}`);
  }
  for (const k of ["conn", "replies", "pushes", "awaitCloseMs", "sleepMs", "timeoutMs"] as const) {
    if (s[k] !== undefined) fields.push(`${k}: ${s[k]}`);
  }
  if (s.compare) fields.push(`compare: /* ${s.compare.name} */`);
  return `{ ${fields.join(", ")} }`;
}

/**
 * Generates `length` steps from `templates` with `seed`, runs them on both
 * targets, and on a difference shrinks the sequence (dropping steps while
 * it still differs, each try from a flushed keyspace) and throws a
 * {@link DiffError} with the seed, the minimal steps as code, and their
 * report.
 */
export async function diffRandom(
  subject: Target,
  reference: Target,
  options: RandomOptions,
): Promise<DiffResult> {
  const seed = seedFromEnv() ?? options.seed;
  const steps = generate(options.templates, seed, options.length).map(toStep);
  const first = await runDiff(subject, reference, steps, options);
  if (first.mismatches.length === 0) return first;
  // Nothing after the first difference can cause it.
  const prefix = steps.slice(0, Math.min(steps.length, first.mismatches[0].index + 1));
  let last = first;
  const shrunk = await shrink(prefix, async (candidate) => {
    const r = await runDiff(subject, reference, candidate, options);
    if (r.mismatches.length > 0) last = r;
    return r.mismatches.length > 0;
  }, {
    maxRuns: options.maxShrinkRuns ?? 400,
    deadlineMs: Date.now() + (options.maxShrinkMs ?? 20_000),
  });
  // The report is of the minimal sequence (re-run if the last failing run was another).
  const minimal = last.steps.length === shrunk.items.length
    ? last
    : await runDiff(subject, reference, shrunk.items, options);
  const code = `[\n${shrunk.items.map((s) => "  " + stepSource(s) + ",").join("\n")}\n]`;
  const message = [
    `${options.label ? options.label + ": " : ""}random sequence (seed ${seed}, ` +
    `${options.length} steps) differs at step #${first.mismatches[0].index} ` +
    `(${first.mismatches.length} differing steps in all); shrunk to ` +
    `${shrunk.items.length} steps in ${shrunk.runs} runs` +
    (shrunk.exhausted ? " (budget spent: may not be minimal)" : "") + ".",
    `Reproduce with KVDB_DIFF_SEED=${seed}, or with these steps:\n${code}`,
    minimal.mismatches.length > 0
      ? formatMismatches(minimal, options.maxReported)
      : "(the minimal sequence passed when re-run: the difference is not deterministic)\n" +
        formatMismatches(first, options.maxReported),
  ].join("\n\n");
  throw new DiffError(message, minimal.mismatches.length > 0 ? minimal : first);
}

// ---------------------------------------------------------------------------
// A pair of servers for one test file.

/** A subject (kvdb) and a reference (redis) server, started together, stopped together. */
export class DiffPair {
  constructor(readonly subject: Server, readonly reference: Server) {}

  /**
   * kvdb (with {@link KVDB_DIFF_DEFAULTS} overlaid by `kvdb`) and a
   * redis-server (with `redis` extra arguments), started in parallel.
   */
  static async kvdbVsRedis(
    options: { kvdb?: KvdbConfig; redis?: readonly string[] } = {},
  ): Promise<DiffPair> {
    const [k, r] = await Promise.allSettled([
      KvdbServer.start(options.kvdb),
      RedisServer.start({ args: options.redis }),
    ]);
    if (k.status === "rejected" || r.status === "rejected") {
      if (k.status === "fulfilled") await k.value.stop();
      if (r.status === "fulfilled") await r.value.stop();
      throw k.status === "rejected" ? k.reason : (r as PromiseRejectedResult).reason;
    }
    return new DiffPair(k.value, r.value);
  }

  /** See {@link runDiff}. */
  runDiff(steps: readonly StepLike[], options: DiffOptions = {}): Promise<DiffResult> {
    return this.#withLogs(runDiff(this.subject, this.reference, steps, options));
  }

  /** See {@link diff}. */
  diff(steps: readonly StepLike[], options: DiffOptions = {}): Promise<DiffResult> {
    return this.#withLogs(diff(this.subject, this.reference, steps, options));
  }

  /**
   * Each named case as a step of `t`, in RESP2 then RESP3, compared with
   * `rules` (the loop every differential test file runs over its cases).
   */
  async diffCases(
    t: Deno.TestContext,
    cases: Readonly<Record<string, readonly StepLike[]>>,
    rules: DiffOptions["rules"],
  ): Promise<void> {
    for (const resp3 of [false, true]) {
      for (const [name, steps] of Object.entries(cases)) {
        const label = `${name} (RESP${resp3 ? 3 : 2})`;
        await t.step(label, async () => {
          await this.diff(steps, { rules, label, resp3 });
        });
      }
    }
  }

  /**
   * A seeded random sequence per seed, each a step of `t`, alternately in
   * RESP2 and RESP3 (the first seed RESP2).
   */
  async diffSeeds(
    t: Deno.TestContext,
    seeds: readonly number[],
    options: Omit<RandomOptions, "seed" | "resp3">,
  ): Promise<void> {
    for (let i = 0; i < seeds.length; i++) {
      const resp3 = i % 2 === 1;
      await t.step(`random sequence, seed ${seeds[i]} (RESP${resp3 ? 3 : 2})`, async () => {
        await this.diffRandom({ ...options, seed: seeds[i], resp3 });
      });
    }
  }

  /** See {@link diffRandom}. */
  diffRandom(options: RandomOptions): Promise<DiffResult> {
    return this.#withLogs(diffRandom(this.subject, this.reference, options));
  }

  /** Errors other than differing replies (a crash, a refused connection) get both logs' tails. */
  async #withLogs(run: Promise<DiffResult>): Promise<DiffResult> {
    try {
      return await run;
    } catch (e) {
      if (e instanceof DiffError) throw e;
      const logs = [this.subject, this.reference]
        .map((s) => `--- ${s.name} log (last 20 lines):\n${s.logTail(20)}`)
        .join("\n");
      throw new Error(`${e instanceof Error ? e.message : e}\n${logs}`, { cause: e });
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.subject.stop(), this.reference.stop()]);
  }
}

/**
 * A `Deno.test` that starts a {@link DiffPair}, runs `fn` (usually one
 * `t.step` per case) and stops the pair, whatever happens.
 */
export function differentialTest(
  name: string,
  start: () => Promise<DiffPair>,
  fn: (t: Deno.TestContext, pair: DiffPair) => Promise<void>,
): void {
  Deno.test(name, async (t) => {
    const pair = await start();
    try {
      await fn(t, pair);
    } finally {
      await pair.stop();
    }
  });
}
