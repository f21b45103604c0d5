/**
 * Times commands for the slow log, the latency monitor and INFO's
 * commandstats/latencystats without reading the clock around every
 * command: `performance.now()` costs ~140 ns in Deno 2.9 here, against
 * ~800 ns of server CPU per request at pipeline 16, so two reads per
 * command would cost a third of the throughput.
 *
 * The scheme: the commands the executor runs in one synchronous stretch of
 * the event loop are cut into *chunks* by reads of the cheap millisecond
 * clock (`Date.now()`, ~60 ns):
 *
 * - when a stretch starts (the first command after the event loop turned)
 *   and when it ends (a microtask queued at its start),
 * - after every {@link CHUNK_MAX_COMMANDS} commands,
 * - around every command timed *alone*, with `performance.now()` (µs): one
 *   whose work grows with the data stored rather than with its arguments
 *   (`CommandStats.heavy`: KEYS, FLUSHALL, LCS, EXEC, ...) or that has more
 *   than {@link HEAVY_ARGS} arguments, and a random sample of the others
 *   (1 in ~{@link SAMPLE_MEAN}).
 *
 * A chunk that reads under the thresholds (less 1 ms, the clock's grain)
 * holds no slow command: the common case, which costs a few counters per
 * command. A chunk that reads over cannot say which of its commands took
 * the time (a GC pause, the OS descheduling the process, a huge request
 * being decoded): each is logged with the chunk's time, an upper bound
 * within 1 ms, so nothing slower than the threshold escapes the log (its
 * arguments are not kept: see `#specs`; the entry says so). With
 * a slow-log or latency threshold under {@link PRECISE_BELOW_USEC} every
 * command is timed alone (exact, at a cost of ~two clock reads per
 * command: the user asked for it).
 *
 * Times per call (INFO commandstats `usec`, latencystats percentiles,
 * LATENCY HISTOGRAM) come from the commands timed alone: exact for heavy
 * commands, a sample for the others, scaled to all calls.
 *
 * Measured with `bench/stats_overhead.ts` (this executor against the
 * `core` branch's, in-process, 31 alternating rounds, medians; A/A noise
 * ±17 ns on the shared machine): +15 to +25 ns per request in stretches
 * of 16 to 400 requests, ~+170 ns per stretch of one request. Storing each
 * request's arguments in the chunk cost ~30 ns more (a write barrier): they
 * are not kept. End to end (redis-benchmark -c 50 with and without -P 16,
 * 5 alternating rounds) the difference is inside the machine's ±10% noise.
 *
 * @example
 * ```ts
 * const timer = new CommandTimer(sinks);
 * if (timer.before(spec, args, session)) { run(); timer.afterAlone(spec, args, session); }
 * else run();
 * ```
 * @module
 */

import type { CommandSpec, Session } from "../executor/command_spec.ts";
import { COMMAND_FLAG_BITS } from "../executor/command_spec.ts";
import { recordTime } from "./command_stats.ts";
import type { LatencyMonitor } from "./latency_monitor.ts";
import type { SlowLog } from "./slowlog.ts";

/** Most commands in one chunk: bounds the references it holds and the blame of a stall. */
export const CHUNK_MAX_COMMANDS = 64;
/** A command with more arguments than this is timed alone (MSET of thousands of keys). */
export const HEAVY_ARGS = 32;
/** Mean distance between sampled light commands. */
export const SAMPLE_MEAN = 128;
/** Slow-log thresholds below this many µs time every command alone. */
export const PRECISE_BELOW_USEC = 1000;

const SKIP_SLOWLOG = COMMAND_FLAG_BITS.skip_slowlog;
const FAST = COMMAND_FLAG_BITS.fast;

/** Where timings go, and the settings that decide what is kept. */
export interface TimerSinks {
  slowlog: SlowLog;
  latency: LatencyMonitor;
  /** The client's `ip:port` for slow-log entries. */
  clientAddress(session: Session): string;
}

/**
 * The executor's clock discipline (see the module comment).
 *
 * @example
 * ```ts
 * timer.configure({ slowlogUsec: 10_000, latencyMs: 0, tracking: true });
 * ```
 */
export class CommandTimer {
  readonly #sinks: TimerSinks;
  /** A synchronous stretch is being timed. */
  #open = false;
  /** `Date.now()` at the start of the current chunk. */
  #markMs = 0;
  /** `performance.now()` when the command timed alone started. */
  #aloneStartMs = 0;
  /** The current chunk's commands (references cleared when it closes). */
  #count = 0;
  /**
   * The chunk's commands and clients. Not their arguments: storing a
   * request (a young object) into a long-lived array costs a write
   * barrier, measured at ~30 ns a command; rows and sessions are old.
   */
  readonly #specs: (CommandSpec | undefined)[] = new Array(CHUNK_MAX_COMMANDS).fill(undefined);
  readonly #sessions: (Session | undefined)[] = new Array(CHUNK_MAX_COMMANDS).fill(undefined);
  #untilSample = SAMPLE_MEAN;
  #seed = 0x9e3779b9;
  /** Slow-log threshold in µs; Infinity when off. */
  #slowUsec = 10_000;
  /** Latency-monitor threshold in µs; Infinity when off. */
  #latencyUsec = Infinity;
  /** The lower of the two: a chunk under it needs no look. */
  #checkUsec = 10_000;
  #everyCommand = false;
  #tracking = true;
  readonly #closeRun = () => this.#endStretch();

  constructor(sinks: TimerSinks) {
    this.#sinks = sinks;
  }

  /**
   * Applies the settings: `slowlogUsec` (negative: off), `latencyMs`
   * (0: off), `tracking` (latency histograms).
   */
  configure(settings: { slowlogUsec: number; latencyMs: number; tracking: boolean }): void {
    this.#slowUsec = settings.slowlogUsec < 0 ? Infinity : settings.slowlogUsec;
    this.#latencyUsec = settings.latencyMs > 0 ? settings.latencyMs * 1000 : Infinity;
    this.#checkUsec = Math.min(this.#slowUsec, this.#latencyUsec);
    this.#everyCommand = this.#slowUsec < PRECISE_BELOW_USEC ||
      this.#latencyUsec < PRECISE_BELOW_USEC;
    this.#tracking = settings.tracking;
  }

  /**
   * Called before a command runs; true if it is to be timed alone (then
   * call {@link afterAlone} when it is done).
   */
  before(spec: CommandSpec, args: string[], session: Session): boolean {
    if (!this.#open) {
      this.#open = true;
      this.#markMs = Date.now();
      queueMicrotask(this.#closeRun);
    } else if (this.#count === CHUNK_MAX_COMMANDS) {
      this.#closeChunk(Date.now());
    }
    if (
      spec.stats.heavy || args.length > HEAVY_ARGS || this.#everyCommand ||
      --this.#untilSample === 0
    ) {
      if (this.#untilSample <= 0) this.#untilSample = this.#nextGap();
      if (this.#count > 0) this.#closeChunk(Date.now());
      this.#aloneStartMs = performance.now();
      return true;
    }
    const i = this.#count++;
    this.#specs[i] = spec;
    this.#sessions[i] = session;
    return false;
  }

  /** Called after a command {@link before} chose to time alone. */
  afterAlone(spec: CommandSpec, args: string[], session: Session): void {
    this.#timed(spec, args, session, (performance.now() - this.#aloneStartMs) * 1000);
    this.#markMs = Date.now();
  }

  /**
   * A command that replied after an await (SAVE): timed from `startMs`
   * (a `performance.now()`) to now, wall time, on its own.
   */
  afterAsync(spec: CommandSpec, args: string[], session: Session, startMs: number): void {
    this.#timed(spec, args, session, (performance.now() - startMs) * 1000);
  }

  /** The end of a synchronous stretch (a microtask). */
  #endStretch(): void {
    if (this.#count > 0) this.#closeChunk(Date.now());
    this.#open = false;
  }

  /**
   * Closes the current chunk at `nowMs` (`Date.now()`: whole ms, so a
   * chunk's time is known within 1 ms).
   */
  #closeChunk(nowMs: number): void {
    const n = this.#count;
    const elapsedMs = nowMs - this.#markMs;
    // A chunk of true duration d reads as more than d - 1 ms: one that
    // reads as at most `#checkUsec` - 1 ms holds no command as slow as a
    // threshold. The others: which command took the time is unknown, so
    // each is checked with the chunk's time (an upper bound within 1 ms).
    if (elapsedMs * 1000 > this.#checkUsec - 1000) {
      const usec = elapsedMs * 1000;
      for (let i = 0; i < n; i++) {
        const spec = this.#specs[i]!;
        const args = [
          spec.fullName,
          `... (arguments not kept: one of ${n} commands run in ${elapsedMs} ms)`,
        ];
        this.#check(spec, args, this.#sessions[i]!, usec);
      }
    }
    this.#count = 0;
    this.#markMs = nowMs;
  }

  #timed(spec: CommandSpec, args: string[], session: Session, usec: number): void {
    recordTime(spec.stats, usec, this.#tracking);
    if (usec >= this.#checkUsec) this.#check(spec, args, session, usec);
  }

  #check(spec: CommandSpec, args: string[], session: Session, usec: number): void {
    if (usec >= this.#slowUsec && (spec.flags & SKIP_SLOWLOG) === 0) {
      this.#sinks.slowlog.add(args, usec, this.#sinks.clientAddress(session), session.name);
    }
    if (usec >= this.#latencyUsec) {
      const ms = Math.floor(usec / 1000);
      this.#sinks.latency.add((spec.flags & FAST) !== 0 ? "fast-command" : "command", ms);
    }
  }

  /** The next sampling gap: uniform in [1, 2 × SAMPLE_MEAN), so no pipeline pattern aliases it. */
  #nextGap(): number {
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x >>> 0;
    return 1 + (this.#seed % (2 * SAMPLE_MEAN - 1));
  }
}
