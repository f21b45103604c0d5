/**
 * Redis's instantaneous metrics (`instantaneous_ops_per_sec`,
 * `instantaneous_input_kbps`, ...): a counter read every sample, its rate
 * per second averaged over the last {@link RATE_SAMPLES} samples. A counter
 * that went down (CONFIG RESETSTAT zeroed it) starts the window again
 * rather than giving a negative rate.
 *
 * @example
 * ```ts
 * let commands = 0;
 * const ops = new RateSampler(() => commands);
 * commands += 50;
 * ops.sample(100); // 100 ms later
 * ops.perSecond; // 500
 * ```
 * @module
 */

/** Samples averaged (Redis's STATS_METRIC_SAMPLES). */
export const RATE_SAMPLES = 16;

/** One counter's rate per second over its last samples. */
export class RateSampler {
  readonly #read: () => number;
  readonly #samples = new Float64Array(RATE_SAMPLES);
  #taken = 0;
  #last: number;

  /** `read` gives the counter's current value. */
  constructor(read: () => number) {
    this.#read = read;
    this.#last = read();
  }

  /** Takes a sample `elapsedMs` after the previous one. */
  sample(elapsedMs: number): void {
    const now = this.#read();
    if (now < this.#last) {
      this.reset();
      return;
    }
    this.#samples[this.#taken++ % RATE_SAMPLES] = elapsedMs > 0
      ? (now - this.#last) * 1000 / elapsedMs
      : 0;
    this.#last = now;
  }

  /** Forgets the samples (CONFIG RESETSTAT), counting from the counter's value now. */
  reset(): void {
    this.#samples.fill(0);
    this.#taken = 0;
    this.#last = this.#read();
  }

  /** The mean rate per second of the samples taken (0 before any). */
  get perSecond(): number {
    const n = Math.min(this.#taken, RATE_SAMPLES);
    if (n === 0) return 0;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.#samples[i];
    return sum / n;
  }
}
