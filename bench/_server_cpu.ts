/**
 * A server's CPU over a load, split into user and kernel time: the one
 * mechanism every bench row measures its server with. {@link measuredRun}
 * runs a load generator (redis-benchmark, bench/multi_load.ts) and samples
 * the server's /proc/<pid>/stat (utime, stime) before it, at each line the
 * generator prints (redis-benchmark prints one CSV line per finished test),
 * and after it; {@link perRequest} turns a span into µs per request.
 *
 * Resolution: /proc counts in clock ticks of 10 ms (USER_HZ). The kernel
 * keeps a process's total exact and splits it between user and kernel in
 * proportion to where its own timer ticks found the process, so a row's
 * total is good to one tick over its requests (0.05 µs per request at
 * 200,000 requests) and its split needs ~100 ticks (1 s of server CPU) to
 * be within a few percent. Each result keeps its tick count.
 *
 * Deno reads /proc only under --allow-all, and the bench runs with named
 * permissions: a long-lived `sh` reads the file with its built-in `read`
 * (no process per sample, so a sample taken between two tests lands within
 * a fraction of a millisecond of the line that asked for it).
 *
 * @example
 * ```ts
 * const run = await measuredRun(server.pid, "redis-benchmark", ["-p", "6379", "-t", "get", "--csv"]);
 * const cpu = perRequest(run.total, 100_000); // { totalUs, userUs, kernelUs, ticks }
 * await stopCpuReader();
 * ```
 * @module
 */

import { onClientCore } from "./_client_core.ts";

/** /proc/<pid>/stat's clock tick (USER_HZ = 100 on Linux). */
export const CLOCK_TICK_MS = 10;

/** CPU a process used, in clock ticks: user space and kernel. */
export interface CpuTicks {
  user: number;
  kernel: number;
}

/** Server CPU per request over a load, and how many ticks it rests on. */
export interface CpuPerRequest {
  /** µs of server CPU per request: user + kernel. */
  totalUs: number;
  userUs: number;
  kernelUs: number;
  /** Ticks (10 ms) the load used: the total's resolution is one tick over the requests. */
  ticks: number;
}

/** A measured run: the generator's output, and the server's CPU over it. */
export interface MeasuredRun {
  success: boolean;
  code: number;
  stdout: string;
  stderr: string;
  /** Each stdout line, with the server's CPU since the previous line (or the start). */
  lines: { text: string; cpu: CpuTicks }[];
  /** The server's CPU from before the generator started to after it ended. */
  total: CpuTicks;
}

/** The longest a sample may take (the reader is a shell answering at once). */
const SAMPLE_TIMEOUT_MS = 10_000;
/** Lines a generator may print (redis-benchmark prints a few per test). */
const MAX_LINES = 100_000;

// One line in (a pid), one line out (its stat line, or "-" if the process is gone).
const READER_SCRIPT = 'while read -r pid; do if read -r line < "/proc/$pid/stat"; then ' +
  'echo "$line"; else echo "-"; fi; done 2>/dev/null';

/** The shell that reads /proc for the bench, and the lines it answers with. */
class StatReader {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: LineReader;
  #queue: Promise<unknown> = Promise.resolve();

  constructor() {
    this.#child = new Deno.Command("sh", {
      args: ["-c", READER_SCRIPT],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = new LineReader(this.#child.stdout);
  }

  /** `pid`'s CPU so far; samples are taken one at a time, in call order. */
  sample(pid: number): Promise<CpuTicks> {
    const next = this.#queue.then(async () => {
      await this.#writer.write(new TextEncoder().encode(`${pid}\n`));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const line = await Promise.race([
        this.#lines.next(),
        new Promise<null>((r) => timer = setTimeout(() => r(null), SAMPLE_TIMEOUT_MS)),
      ]).finally(() => clearTimeout(timer));
      if (line === null || line === "-") throw new Error(`cannot read /proc/${pid}/stat`);
      return parseStat(line);
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  async stop(): Promise<void> {
    await this.#queue;
    await this.#writer.close();
    await this.#lines.drain();
    await this.#child.status;
  }
}

/**
 * utime and stime: fields 14 and 15, counted after the `(comm)` field, which may hold spaces.
 *
 * @example
 * ```ts
 * parseStat("42 (deno) S 1 2 3 4 5 6 7 8 9 10 1234 56"); // { user: 1234, kernel: 56 }
 * ```
 */
export function parseStat(line: string): CpuTicks {
  const fields = line.slice(line.lastIndexOf(")") + 2).split(" ");
  const user = Number(fields[11]);
  const kernel = Number(fields[12]);
  if (!Number.isInteger(user) || !Number.isInteger(kernel)) {
    throw new Error(`not a /proc/<pid>/stat line: ${line.slice(0, 80)}`);
  }
  return { user, kernel };
}

/** Lines of a byte stream, one at a time. */
class LineReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line without its newline, or null at the end. */
  async next(): Promise<string | null> {
    while (true) {
      const end = this.#buffer.indexOf("\n");
      if (end >= 0) {
        const line = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 1);
        return line;
      }
      if (this.#done) {
        const rest = this.#buffer;
        this.#buffer = "";
        return rest === "" ? null : rest;
      }
      const { value, done } = await this.#reader.read();
      if (done) this.#done = true;
      else this.#buffer += value;
    }
  }

  async drain(): Promise<void> {
    while (await this.next() !== null) {
      // Discarded.
    }
  }
}

let reader: StatReader | undefined;

/**
 * `pid`'s CPU so far, in ticks (user, kernel).
 *
 * @example
 * ```ts
 * const before = await cpuTicks(server.pid);
 * ```
 */
export function cpuTicks(pid: number): Promise<CpuTicks> {
  reader ??= new StatReader();
  return reader.sample(pid);
}

/**
 * Ends the /proc reader (a new one starts at the next sample): the bench
 * calls it before exiting, tests before they end.
 *
 * @example
 * ```ts
 * await stopCpuReader();
 * ```
 */
export async function stopCpuReader(): Promise<void> {
  const current = reader;
  reader = undefined;
  await current?.stop();
}

/**
 * The CPU between two samples.
 *
 * @example
 * ```ts
 * cpuBetween({ user: 10, kernel: 5 }, { user: 30, kernel: 9 }); // { user: 20, kernel: 4 }
 * ```
 */
export function cpuBetween(before: CpuTicks, after: CpuTicks): CpuTicks {
  return { user: after.user - before.user, kernel: after.kernel - before.kernel };
}

/**
 * CPU per request over `requests` requests.
 *
 * @example
 * ```ts
 * perRequest({ user: 40, kernel: 60 }, 100_000); // { totalUs: 10, userUs: 4, kernelUs: 6, ticks: 100 }
 * ```
 */
export function perRequest(used: CpuTicks, requests: number): CpuPerRequest {
  const us = (ticks: number) => (ticks * CLOCK_TICK_MS * 1000) / requests;
  return {
    totalUs: us(used.user + used.kernel),
    userUs: us(used.user),
    kernelUs: us(used.kernel),
    ticks: used.user + used.kernel,
  };
}

/**
 * The median of CPU figures by their total, with that run's split (the
 * mean of the middle two for an even count), so user + kernel still adds
 * up to the total shown.
 *
 * @example
 * ```ts
 * const typical = medianCpu([a, b, c]);
 * ```
 */
export function medianCpu(values: CpuPerRequest[]): CpuPerRequest {
  if (values.length === 0) throw new Error("medianCpu of nothing");
  const sorted = [...values].sort((a, b) => a.totalUs - b.totalUs);
  const mid = Math.floor(sorted.length / 2);
  const middle = sorted.length % 2 ? [sorted[mid]] : [sorted[mid - 1], sorted[mid]];
  const mean = (f: (c: CpuPerRequest) => number) =>
    middle.reduce((sum, c) => sum + f(c), 0) / middle.length;
  return {
    totalUs: mean((c) => c.totalUs),
    userUs: mean((c) => c.userUs),
    kernelUs: mean((c) => c.kernelUs),
    ticks: mean((c) => c.ticks),
  };
}

/**
 * `12.3 µs CPU/req = 4.5 user + 7.8 kernel`: how every bench table shows a server's CPU.
 *
 * @example
 * ```ts
 * cpuText({ totalUs: 12.3, userUs: 4.5, kernelUs: 7.8, ticks: 250 });
 * ```
 */
export function cpuText(cpu: CpuPerRequest): string {
  return `${cpu.totalUs.toFixed(1)} µs CPU/req = ${cpu.userUs.toFixed(1)} user + ${
    cpu.kernelUs.toFixed(1)
  } kernel`;
}

/**
 * The note under a table of CPU figures: where they come from, and the
 * fewest ticks any of them rests on.
 *
 * @example
 * ```ts
 * console.log(cpuNote([row.kvdb, row.redis]));
 * ```
 */
export function cpuNote(figures: CpuPerRequest[]): string {
  const fewest = Math.min(...figures.map((c) => c.ticks));
  return "CPU per request: the server process's, all threads, from /proc/<pid>/stat (utime = " +
    `user, stime = kernel) in ${CLOCK_TICK_MS} ms ticks; a figure's resolution is one tick over ` +
    "its requests (0.05 µs at 200,000), and the user/kernel split is the kernel's sampling, " +
    `close only over ~100 ticks or more; the fewest ticks under a figure here: ${
      Math.round(fewest)
    }.`;
}

/**
 * Runs `command` with `args` (stdout line-buffered through `stdbuf -oL`,
 * so that redis-benchmark's CSV lines arrive as each test ends), sampling
 * `pid`'s CPU before, at each stdout line, and after.
 *
 * @example
 * ```ts
 * const run = await measuredRun(kvdb.pid, "redis-benchmark", ["-p", String(kvdb.port), "-t", "set", "--csv"]);
 * ```
 */
export async function measuredRun(
  pid: number,
  command: string,
  args: string[],
): Promise<MeasuredRun> {
  const start = await cpuTicks(pid);
  const [program, programArgs] = onClientCore("stdbuf", ["-oL", command, ...args]);
  const child = new Deno.Command(program, {
    args: programArgs,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const out = new LineReader(child.stdout);
  const lines: MeasuredRun["lines"] = [];
  let last = start;
  for (let line = await out.next(); line !== null; line = await out.next()) {
    if (lines.length >= MAX_LINES) throw new Error(`${command} printed over ${MAX_LINES} lines`);
    const now = await cpuTicks(pid);
    lines.push({ text: line, cpu: cpuBetween(last, now) });
    last = now;
  }
  const status = await child.status;
  const end = await cpuTicks(pid);
  return {
    success: status.success,
    code: status.code,
    stdout: lines.map((l) => l.text).join("\n"),
    stderr: await stderr,
    lines,
    total: cpuBetween(start, end),
  };
}
