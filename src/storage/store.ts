/**
 * The durable keyspace: every change is appended to the write-ahead log
 * first and applied to memory right after, so memory changes in exactly WAL
 * order. Commands log what they did (the resulting value, the deleted key),
 * never the command text, so replay is deterministic and idempotent.
 *
 * A change is visible in memory before its record is fsynced; callers
 * acknowledge it only after {@link Store.commit} resolves (group commit).
 *
 * @example
 * ```ts
 * const store = new Store(new Engine(16), undefined);
 * store.set("k", "v");
 * await store.commit(); // durable (no-op without a WAL)
 * ```
 * @module
 */

import type { Engine } from "./engine.ts";

/** Record kinds in the log; the numbers are the WAL's op codes. */
export const LogOp = { Set: 1, Del: 2, FlushAll: 3, PExpireAt: 4 } as const;

/** The part of the WAL the store writes through. */
export interface LogWriter {
  /** Buffers a record; returns its LSN. Throws if the log has failed. */
  append(op: number, key: string, value: string, expiresAtMs: number): number;
  /** Resolves when everything appended so far is durable. */
  commit(): Promise<void>;
  readonly lastLsn: number;
  readonly durableLsn: number;
}

/**
 * The engine and, when enabled, the WAL, written in one order.
 *
 * @example
 * ```ts
 * const store = new Store(engine, wal);
 * store.delete("k"); // logs only if "k" existed
 * ```
 */
export class Store {
  constructor(readonly engine: Engine, readonly log: LogWriter | undefined) {}

  /** The value of `key`, or `undefined`. */
  get(key: string): string | undefined {
    return this.engine.get(key);
  }

  /** Logs and applies `key = value`. */
  set(key: string, value: string): void {
    this.log?.append(LogOp.Set, key, value, 0);
    this.engine.set(key, value);
  }

  /** Logs and applies the removal of `key`; a missing key logs nothing. */
  delete(key: string): boolean {
    if (this.engine.get(key) === undefined) return false;
    this.log?.append(LogOp.Del, key, "", 0);
    return this.engine.delete(key);
  }

  /** Whether some change is applied in memory but not yet durable. */
  get commitPending(): boolean {
    return this.log !== undefined && this.log.lastLsn > this.log.durableLsn;
  }

  /** Resolves when every change made so far is durable. */
  commit(): Promise<void> {
    return this.log ? this.log.commit() : Promise.resolve();
  }
}
