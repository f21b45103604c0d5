/**
 * The server's logger: leveled, one line per event, `key=value` fields.
 *
 * Lines are written synchronously: logging is rare (never per request at
 * `info`), and a line must not be lost when the process exits right after it.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "info", output: "stderr" });
 * log.info("listening", { address: "127.0.0.1:3223" });
 * ```
 * @module
 */

/** Log levels, least to most severe. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Structured fields appended to a log line as `key=value`. */
export type LogFields = Record<string, string | number | bigint | boolean>;

/**
 * A leveled logger.
 *
 * @example
 * ```ts
 * log.warn("wal tail truncated", { file: "x.wal", bytes: 12 });
 * ```
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Whether `level` would be written; guards costly debug formatting. */
  enabled(level: LogLevel): boolean;
  /** Releases the output file, if any. */
  close(): void;
}

/** Where and what to log. `output` is `stdout`, `stderr` or a file path. */
export interface LoggerOptions {
  level: LogLevel;
  output: string;
}

const encoder = new TextEncoder();

function formatValue(value: string | number | bigint | boolean): string {
  const s = String(value);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

/**
 * Creates a logger writing to stdout, stderr or (appending) a file.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "debug", output: "/tmp/kvdb.log" });
 * ```
 */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  let file: Deno.FsFile | undefined;
  let sink: { writeSync(p: Uint8Array): number };
  if (options.output === "stdout") sink = Deno.stdout;
  else if (options.output === "stderr") sink = Deno.stderr;
  else {
    file = Deno.openSync(options.output, {
      append: true,
      create: true,
      write: true,
    });
    sink = file;
  }

  function write(level: LogLevel, message: string, fields?: LogFields) {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    let line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        line += ` ${k}=${formatValue(v)}`;
      }
    }
    const bytes = encoder.encode(line + "\n");
    try {
      let written = 0;
      while (written < bytes.length) {
        written += sink.writeSync(bytes.subarray(written));
      }
    } catch {
      // A closed stdout or a full log disk must not take the server down.
    }
  }

  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    enabled: (level) => LOG_LEVELS.indexOf(level) >= threshold,
    close() {
      file?.close();
      file = undefined;
    },
  };
}
