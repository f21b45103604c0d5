/**
 * The slow log (Redis's SLOWLOG): commands that took longer than
 * `slowlog-log-slower-than` µs, newest first, at most `slowlog-max-len`.
 * Arguments are kept as Redis keeps them: at most 32 (the last saying how
 * many more there were), each cut to 128 bytes.
 *
 * @example
 * ```ts
 * const slowlog = new SlowLog(128);
 * slowlog.add(["KEYS", "*"], 15_000, "127.0.0.1:5000", "");
 * slowlog.length; // 1
 * ```
 * @module
 */

import { REDACTED, redactedPositions } from "../security/redaction.ts";

/** Arguments kept per entry (Redis's SLOWLOG_ENTRY_MAX_ARGC). */
export const SLOWLOG_MAX_ARGS = 32;
/** Bytes kept per argument (Redis's SLOWLOG_ENTRY_MAX_STRING). */
export const SLOWLOG_MAX_ARG_BYTES = 128;

/** One entry, as SLOWLOG GET replies it. */
export interface SlowLogEntry {
  id: number;
  /** Unix seconds when it was logged. */
  timeSec: number;
  durationUsec: number;
  args: string[];
  client: string;
  clientName: string;
}

/**
 * A bounded log of slow commands.
 *
 * @example
 * ```ts
 * slowlog.latest(10); // newest first
 * ```
 */
export class SlowLog {
  /** Oldest first (newest pushed at the end). */
  #entries: SlowLogEntry[] = [];
  #nextId = 0;

  constructor(public maxLength: number) {}

  /** Logs a command that took `durationUsec`. */
  add(args: readonly string[], durationUsec: number, client: string, clientName: string): void {
    if (this.maxLength <= 0) return;
    const kept: string[] = [];
    const redacted = redactedPositions(args);
    const argc = Math.min(args.length, SLOWLOG_MAX_ARGS);
    for (let i = 0; i < argc; i++) {
      if (argc === SLOWLOG_MAX_ARGS && args.length > argc && i === argc - 1) {
        kept.push(`... (${args.length - argc + 1} more arguments)`);
        break;
      }
      const a = redacted.includes(i) ? REDACTED : args[i];
      kept.push(
        a.length > SLOWLOG_MAX_ARG_BYTES
          ? `${a.slice(0, SLOWLOG_MAX_ARG_BYTES)}... (${
            a.length - SLOWLOG_MAX_ARG_BYTES
          } more bytes)`
          : a,
      );
    }
    this.#entries.push({
      id: this.#nextId++,
      timeSec: Math.floor(Date.now() / 1000),
      durationUsec: Math.round(durationUsec),
      args: kept,
      client,
      clientName,
    });
    this.trim();
  }

  /** Drops the oldest entries beyond `maxLength` (after CONFIG SET slowlog-max-len). */
  trim(): void {
    const over = this.#entries.length - Math.max(0, this.maxLength);
    if (over > 0) this.#entries.splice(0, over);
  }

  get length(): number {
    return this.#entries.length;
  }

  /** The newest `count` entries (all for a negative count), newest first. */
  latest(count: number): SlowLogEntry[] {
    const n = count < 0 ? this.#entries.length : Math.min(count, this.#entries.length);
    const out: SlowLogEntry[] = [];
    for (let i = this.#entries.length - 1; out.length < n; i--) out.push(this.#entries[i]);
    return out;
  }

  reset(): void {
    this.#entries = [];
  }
}
