/**
 * What INFO commandstats, errorstats and latencystats report: per command
 * calls, time, rejections and failures; error replies by code; latency
 * histograms. The counters are exact; times come from the commands the
 * executor's {@link CommandTimer} timed (every one it had to time, plus a
 * sample of the rest: see command_timer.ts), scaled to all calls.
 *
 * @example
 * ```ts
 * const stats = newCommandStats(false);
 * stats.calls++;
 * recordTime(stats, 12.5, true);
 * reportedUsec(stats); // 13
 * ```
 * @module
 */

/** Buckets per power of two in a latency histogram (about 9% apart). */
const BUCKETS_PER_OCTAVE = 8;
/** Histogram range: 1 µs to 2^34 µs (about 4.8 hours). */
const HISTOGRAM_BUCKETS = 34 * BUCKETS_PER_OCTAVE + 1;

/** One command's counters (a field of its table row). */
export interface CommandStats {
  /** Times it ran (rejected ones not counted, as Redis's `calls`). */
  calls: number;
  /** Refused before running: arity, READONLY, LOADING, a refusal while queuing. */
  rejected: number;
  /** Ran and replied with an error. */
  failed: number;
  /** Of `calls`, how many were timed, and their total µs. */
  timed: number;
  timedUsec: number;
  /** Latency histogram of the timed calls (µs), made on the first one. */
  histogram: Uint32Array | undefined;
  /**
   * Its work can grow with the data stored rather than with its
   * arguments (KEYS, FLUSHALL, LCS, EXEC, ...): always timed alone.
   */
  readonly heavy: boolean;
}

/**
 * Commands whose time grows with what is stored (or that run other
 * commands), by Redis's full name: the executor times each call of these
 * on its own, so a slow one is always caught and measured exactly.
 * Containers list their subcommands as `name|`.
 */
const HEAVY_COMMANDS = new Set([
  "keys",
  "scan",
  "flushall",
  "flushdb",
  "sort",
  "sort_ro",
  "lcs",
  "bitcount",
  "bitpos",
  "bitop",
  "bitfield",
  "bitfield_ro",
  "getrange",
  "substr",
  "setrange",
  "append",
  "dump",
  "restore",
  "copy",
  "rename",
  "renamenx",
  "move",
  "swapdb",
  "randomkey",
  "dbsize",
  "exec",
  "info",
  "save",
  "bgsave",
  "shutdown",
  "debug",
  "config|",
  "memory|",
  "latency|",
  "slowlog|",
  "command",
  "command|",
]);

/**
 * Fresh counters for the command of Redis full name `fullName`.
 *
 * @example
 * ```ts
 * newCommandStatsFor("keys").heavy; // true
 * ```
 */
export function newCommandStatsFor(fullName: string): CommandStats {
  const bar = fullName.indexOf("|");
  return newCommandStats(
    HEAVY_COMMANDS.has(fullName) || (bar > 0 && HEAVY_COMMANDS.has(fullName.slice(0, bar + 1))),
  );
}

/**
 * Fresh counters.
 *
 * @example
 * ```ts
 * newCommandStats(false).calls; // 0
 * ```
 */
export function newCommandStats(heavy: boolean): CommandStats {
  return { calls: 0, rejected: 0, failed: 0, timed: 0, timedUsec: 0, histogram: undefined, heavy };
}

/**
 * Zeroes the counters (CONFIG RESETSTAT).
 *
 * @example
 * ```ts
 * resetCommandStats(stats);
 * ```
 */
export function resetCommandStats(stats: CommandStats): void {
  stats.calls =
    stats.rejected =
    stats.failed =
    stats.timed =
    stats.timedUsec =
      0;
  stats.histogram = undefined;
}

function bucketOf(usec: number): number {
  if (usec <= 1) return 0;
  const b = Math.ceil(Math.log2(usec) * BUCKETS_PER_OCTAVE);
  return b < HISTOGRAM_BUCKETS ? b : HISTOGRAM_BUCKETS - 1;
}

/** The largest value (µs) a bucket holds. */
function bucketTop(bucket: number): number {
  return 2 ** (bucket / BUCKETS_PER_OCTAVE);
}

/**
 * Adds one timed call of `usec` microseconds; `histogram`: also to its
 * latency histogram (`latency-tracking`).
 *
 * @example
 * ```ts
 * recordTime(stats, 3.2, true);
 * ```
 */
export function recordTime(stats: CommandStats, usec: number, histogram: boolean): void {
  stats.timed++;
  stats.timedUsec += usec;
  if (histogram) (stats.histogram ??= new Uint32Array(HISTOGRAM_BUCKETS))[bucketOf(usec)]++;
}

/**
 * INFO commandstats' `usec`: the measured total when every call was timed,
 * otherwise the timed calls' mean times the calls.
 *
 * @example
 * ```ts
 * reportedUsec({ ...newCommandStats(false), calls: 10, timed: 2, timedUsec: 4 }); // 20
 * ```
 */
export function reportedUsec(stats: CommandStats): number {
  if (stats.timed === 0) return 0;
  return Math.round(stats.timedUsec / stats.timed * stats.calls);
}

/**
 * The latency (µs) under which `percentile` % of the timed calls fell, as
 * the top of its histogram bucket (within 9%); undefined without samples.
 *
 * @example
 * ```ts
 * latencyPercentile(stats, 99); // 120.5
 * ```
 */
export function latencyPercentile(stats: CommandStats, percentile: number): number | undefined {
  const h = stats.histogram;
  if (h === undefined) return undefined;
  let total = 0;
  for (let i = 0; i < h.length; i++) total += h[i];
  if (total === 0) return undefined;
  const wanted = Math.max(1, Math.ceil(total * percentile / 100));
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i];
    if (seen >= wanted) return bucketTop(i);
  }
  return bucketTop(h.length - 1);
}

/**
 * A latency histogram's cumulative buckets as LATENCY HISTOGRAM reports
 * them: `[upper bound µs, calls at or below it]`, one per power of two.
 *
 * @example
 * ```ts
 * cumulativeHistogram(stats); // [[1, 0], [2, 5], [4, 9], ...]
 * ```
 */
export function cumulativeHistogram(stats: CommandStats): [number, number][] {
  const h = stats.histogram;
  if (h === undefined) return [];
  const out: [number, number][] = [];
  let seen = 0;
  let total = 0;
  for (let i = 0; i < h.length; i++) total += h[i];
  for (let i = 0; i < h.length && seen < total; i++) {
    seen += h[i];
    if (i % BUCKETS_PER_OCTAVE === 0) out.push([bucketTop(i), seen]);
  }
  if (out.length === 0 || out[out.length - 1][1] < total) {
    out.push([2 ** Math.ceil((h.length - 1) / BUCKETS_PER_OCTAVE), total]);
  }
  return out;
}

/** Error codes tracked one by one; later new codes only add to the total. */
export const MAX_ERROR_CODES = 128;

/**
 * Error replies by code (Redis's errorstats): every error a client gets,
 * from a command, the dispatcher or the connection.
 *
 * @example
 * ```ts
 * const errors = new ErrorStats();
 * errors.count("ERR");
 * errors.total; // 1
 * ```
 */
export class ErrorStats {
  readonly #byCode = new Map<string, number>();
  #total = 0;

  /** Counts one error reply of `code`. */
  count(code: string): void {
    this.#total++;
    const n = this.#byCode.get(code);
    if (n !== undefined) this.#byCode.set(code, n + 1);
    else if (this.#byCode.size < MAX_ERROR_CODES) this.#byCode.set(code, 1);
  }

  /** Every error reply counted (`total_error_replies`). */
  get total(): number {
    return this.#total;
  }

  /** Counts by code, in the order first seen. */
  entries(): IterableIterator<[string, number]> {
    return this.#byCode.entries();
  }

  reset(): void {
    this.#byCode.clear();
    this.#total = 0;
  }
}
