/**
 * A logger whose level can change while the server runs (CONFIG SET
 * loglevel): the lines go to a logger made at `debug`, filtered here.
 *
 * @example
 * ```ts
 * const log = adjustableLogger(createLogger({ level: "debug", output: "stdout" }), "info");
 * log.setLevel("debug");
 * ```
 * @module
 */

import { LOG_LEVELS, type Logger, type LogLevel } from "../log/logger.ts";

/** A {@link Logger} with a settable level. */
export interface AdjustableLogger extends Logger {
  readonly level: LogLevel;
  setLevel(level: LogLevel): void;
}

/**
 * Wraps `base` (which must pass every level) with a threshold.
 *
 * @example
 * ```ts
 * adjustableLogger(base, "warn").enabled("info"); // false
 * ```
 */
export function adjustableLogger(base: Logger, level: LogLevel): AdjustableLogger {
  let threshold = LOG_LEVELS.indexOf(level);
  let current = level;
  const at = (l: LogLevel) => LOG_LEVELS.indexOf(l) >= threshold;
  return {
    get level() {
      return current;
    },
    setLevel(next) {
      current = next;
      threshold = LOG_LEVELS.indexOf(next);
    },
    debug: (m, f) => at("debug") && base.debug(m, f),
    info: (m, f) => at("info") && base.info(m, f),
    warn: (m, f) => at("warn") && base.warn(m, f),
    error: (m, f) => at("error") && base.error(m, f),
    enabled: at,
    close: () => base.close(),
  } as AdjustableLogger;
}
