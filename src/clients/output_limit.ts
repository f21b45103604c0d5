/**
 * Redis's output buffer limit of one client class
 * (`client-output-buffer-limit <class> <hard> <soft> <seconds>`) and the
 * rule that applies it (Redis's `checkClientOutputBufferLimits`): a client
 * whose unsent output reaches the hard limit, or stays at or above the soft
 * limit for more than the soft seconds, is over its limit. 0 turns a limit
 * off.
 *
 * @example
 * ```ts
 * const state = new OutputLimitState();
 * state.check({ hardBytes: 1024, softBytes: 0, softSeconds: 0 }, 2048, Date.now()); // "hard"
 * ```
 * @module
 */

/**
 * One class's limits.
 *
 * @example
 * ```ts
 * const none: OutputLimit = { hardBytes: 0, softBytes: 0, softSeconds: 0 };
 * ```
 */
export interface OutputLimit {
  hardBytes: number;
  softBytes: number;
  softSeconds: number;
}

/**
 * Redis's defaults for the pubsub class: 32mb 8mb 60.
 *
 * @example
 * ```ts
 * DEFAULT_PUBSUB_OUTPUT_LIMIT.hardBytes; // 33554432
 * ```
 */
export const DEFAULT_PUBSUB_OUTPUT_LIMIT: Readonly<OutputLimit> = Object.freeze({
  hardBytes: 32 * 1024 * 1024,
  softBytes: 8 * 1024 * 1024,
  softSeconds: 60,
});

/**
 * No limit (Redis's default for the normal class).
 *
 * @example
 * ```ts
 * NO_OUTPUT_LIMIT.hardBytes; // 0
 * ```
 */
export const NO_OUTPUT_LIMIT: Readonly<OutputLimit> = Object.freeze({
  hardBytes: 0,
  softBytes: 0,
  softSeconds: 0,
});

/**
 * One client's standing against its limit: since when its output has been
 * at or above the soft limit.
 *
 * @example
 * ```ts
 * const state = new OutputLimitState();
 * state.check(limit, connection.outputBytes, Date.now()); // undefined: within it
 * ```
 */
export class OutputLimitState {
  /** `Date.now()` when the output reached the soft limit; 0 while below it. */
  softSinceMs = 0;

  /**
   * Which limit `pendingBytes` passes now: `hard`, `soft` (above it for
   * longer than its seconds), or undefined. Starts or resets the soft
   * limit's clock, as Redis does each time it checks. `nowMs` is read
   * from the clock when not given, and only past the soft limit.
   */
  check(limit: OutputLimit, pendingBytes: number, nowMs?: number): "hard" | "soft" | undefined {
    if (limit.hardBytes > 0 && pendingBytes >= limit.hardBytes) return "hard";
    if (limit.softBytes > 0 && pendingBytes >= limit.softBytes) {
      const now = nowMs ?? Date.now();
      if (this.softSinceMs === 0) {
        this.softSinceMs = now;
      } else if (now - this.softSinceMs > limit.softSeconds * 1000) {
        return "soft";
      }
    } else {
      this.softSinceMs = 0;
    }
    return undefined;
  }
}
