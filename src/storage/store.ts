/**
 * The durable keyspace: every change is appended to the write-ahead log
 * first and applied to memory right after, so memory changes in exactly WAL
 * order. Commands log what they did (the resulting value, the deleted key),
 * never the command text, so replay is deterministic and idempotent.
 *
 * A change is visible in memory before its record is fsynced; callers
 * acknowledge it only after {@link Store.commit} resolves (group commit). If
 * the log fails, the changes it did not make durable are undone in memory,
 * newest first, so that memory again equals what a restart would recover.
 *
 * @example
 * ```ts
 * const store = new Store(new Engine(16), undefined);
 * store.set("k", "v");
 * await store.commit(); // durable (at once without a WAL)
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
  /** Buffers a record at a given LSN (a replica copying its master's log). */
  appendAt(lsn: number, op: number, key: string, value: string, expiresAtMs: number): number;
  /** Resolves when everything appended so far is durable. */
  commit(): Promise<void>;
  /** Removes every record (a replica about to copy its master's log anew). */
  discardAll(): Promise<void>;
  readonly lastLsn: number;
  readonly durableLsn: number;
}

/** A record as the log holds it. */
export interface LoggedChange {
  lsn: number;
  op: number;
  key: string;
  value: string;
  expiresAtMs: number;
}

/** How to undo one change that is not yet durable. */
interface Undo {
  lsn: number;
  key: string;
  /** The value before the change; undefined when the key did not exist. */
  previous: string | undefined;
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
  /** Changes applied in memory but not yet durable, oldest first. */
  #undo: Undo[] = [];

  constructor(readonly engine: Engine, readonly log: LogWriter | undefined) {}

  /** The value of `key`, or `undefined`. */
  get(key: string): string | undefined {
    return this.engine.get(key);
  }

  /** Logs and applies `key = value`. */
  set(key: string, value: string): void {
    if (this.log) {
      const previous = this.engine.get(key);
      const lsn = this.log.append(LogOp.Set, key, value, 0);
      this.#undo.push({ lsn, key, previous });
    }
    this.engine.set(key, value);
  }

  /** Logs and applies the removal of `key`; a missing key logs nothing. */
  delete(key: string): boolean {
    const previous = this.engine.get(key);
    if (previous === undefined) return false;
    if (this.log) {
      const lsn = this.log.append(LogOp.Del, key, "", 0);
      this.#undo.push({ lsn, key, previous });
    }
    return this.engine.delete(key);
  }

  /**
   * Applies a logged change to memory without logging it again: replay on
   * start, and (through the replica's own log) replication.
   */
  applyRecord(record: LoggedChange): void {
    switch (record.op) {
      case LogOp.Set:
        this.engine.set(record.key, record.value);
        break;
      case LogOp.Del:
        this.engine.delete(record.key);
        break;
      case LogOp.FlushAll:
        this.engine.clear();
        break;
      default:
        throw new Error(`log record ${record.lsn} has op ${record.op}, unknown to this kvdb`);
    }
  }

  /**
   * Logs a master's record under the master's LSN, then applies it: a
   * replica's log is a copy of its master's, so it can resume where it
   * stopped.
   */
  applyReplicated(record: LoggedChange): void {
    if (!this.log) throw new Error("replication needs the WAL");
    this.log.appendAt(record.lsn, record.op, record.key, record.value, record.expiresAtMs);
    this.applyRecord(record);
  }

  /** Empties the keyspace and the log (before a full resynchronisation). */
  async discardAll(): Promise<void> {
    await this.log?.discardAll();
    this.#undo = [];
    this.engine.clear();
  }

  /** Whether some change is applied in memory but not yet durable. */
  get commitPending(): boolean {
    return this.log !== undefined && this.log.lastLsn > this.log.durableLsn;
  }

  /**
   * Resolves when every change made so far is durable; rejects if the log
   * failed, after undoing in memory every change that is not durable.
   */
  async commit(): Promise<void> {
    if (!this.log) return;
    try {
      await this.log.commit();
    } catch (e) {
      this.#rollBack();
      throw e;
    }
    this.#forgetDurable();
  }

  #forgetDurable(): void {
    const durable = this.log!.durableLsn;
    let kept = 0;
    while (kept < this.#undo.length && this.#undo[kept].lsn <= durable) kept++;
    if (kept > 0) this.#undo = this.#undo.slice(kept);
  }

  #rollBack(): void {
    const durable = this.log!.durableLsn;
    for (let i = this.#undo.length - 1; i >= 0; i--) {
      const { lsn, key, previous } = this.#undo[i];
      if (lsn <= durable) break;
      if (previous === undefined) this.engine.delete(key);
      else this.engine.set(key, previous);
    }
    this.#undo = [];
  }
}
