/**
 * The durable keyspace: every change is appended to the write-ahead log
 * first and applied to memory right after, so memory changes in exactly WAL
 * order. Commands log what they did (the resulting value with its absolute
 * expiry time, the deleted key), never the command text, so replay and
 * replicas converge exactly.
 *
 * Expiry: a key whose expiry time has passed is invisible at once. On a
 * server that owns its data (a master, or no replication) the store also
 * deletes it — when it is touched, and in bounded slices in the background
 * ({@link Store.expireSome}) — and logs the delete like any other. A replica
 * never expires keys on its own clock: it hides them until its master's
 * delete arrives.
 *
 * A change is visible in memory before its record is fsynced; callers
 * acknowledge it only after {@link Store.commit} resolves (group commit). If
 * the log fails, the changes it did not make durable are undone in memory,
 * newest first, so that memory again equals what a restart would recover.
 *
 * @example
 * ```ts
 * const store = new Store(new Engine(16), undefined);
 * store.set("k", "v", Date.now() + 10_000);
 * await store.commit(); // durable (at once without a WAL)
 * ```
 * @module
 */

import { WAL_MAX_KEY_BYTES, WAL_MAX_VALUE_BYTES, WalOp } from "../wal/record.ts";
import type { Engine } from "./engine.ts";
import { MAX_ARENA_BYTES } from "./key_table.ts";

/** The part of the WAL the store writes through. */
export interface LogWriter {
  /** Buffers a record; returns its LSN. Throws if the log has failed. */
  append(op: number, key: string, value: string, expiresAtMs: number): number;
  /** Buffers a record at a given LSN (a replica copying its master's log). */
  appendAt(lsn: number, op: number, key: string, value: string, expiresAtMs: number): number;
  /**
   * Resolves when everything appended so far is durable. While records
   * are pending, callers between two flushes get the same promise, and a
   * record appended after a flush started gets a new one (the store keys
   * its bookkeeping on that identity).
   */
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

/** A live key's value and expiry time (0: none). */
export interface Entry {
  value: string;
  expiresAtMs: number;
}

/** How the store treats time. */
export interface StoreOptions {
  /**
   * Delete (and log) keys whose time has passed. False on a replica, which
   * hides them until its master's delete arrives.
   */
  expireKeys: boolean;
  /** The clock, in Unix ms. */
  nowMs?: () => number;
}

/** How to undo one change that is not yet durable. */
interface Undo {
  lsn: number;
  key: string;
  /** The value before the change; undefined when the key did not exist. */
  value: string | undefined;
  /** The expiry time before the change (0: none). */
  expiresAtMs: number;
}

/** Largest key stored (the WAL's record limit, whether or not it is on). */
export const MAX_KEY_BYTES = WAL_MAX_KEY_BYTES;
/** Largest value stored. */
export const MAX_VALUE_BYTES = WAL_MAX_VALUE_BYTES;

/** A key or value over its limit: the client's mistake, nothing written. */
export class EntryTooLargeError extends RangeError {}

/**
 * Throws {@link EntryTooLargeError} unless `key` and `value` are within the
 * limits; commands that write several keys check them all first, so that
 * they write all or nothing.
 */
export function checkEntry(key: string, value: string): void {
  if (key.length > MAX_KEY_BYTES) {
    throw new EntryTooLargeError(
      `key of ${key.length} bytes exceeds the limit of ${MAX_KEY_BYTES}`,
    );
  }
  if (value.length > MAX_VALUE_BYTES) {
    throw new EntryTooLargeError(
      `value of ${value.length} bytes exceeds the limit of ${MAX_VALUE_BYTES}`,
    );
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Bounds one slice of background expiry. */
const EXPIRE_SLICE_MAX_CHECKS = 2000;

/**
 * The engine and, when enabled, the WAL, written in one order.
 *
 * @example
 * ```ts
 * const store = new Store(engine, wal, { expireKeys: true });
 * store.delete("k"); // logs only if "k" existed
 * ```
 */
export class Store {
  /** Changes applied in memory but not yet durable, oldest first. */
  #undo: Undo[] = [];
  readonly #expireKeys: boolean;
  readonly #nowMs: () => number;
  /** Background expiry's place: a live iterator per partition. */
  #expireCursor: { partition: number; keys: Iterator<[string, number]> | undefined } = {
    partition: 0,
    keys: undefined,
  };
  /** Keys deleted because their time passed (INFO stats). */
  expiredKeys = 0;
  /**
   * The log failed and memory was rolled back to what it made durable:
   * nothing more will become durable, so nothing is pending any more, and
   * reads go on from that state (writes are refused by the log itself).
   */
  #failed = false;
  #generation = 0;
  /** The log's commit promise last seen, and the store's that follows it. */
  #logCommit: Promise<void> | undefined = undefined;
  #commit: Promise<void> = RESOLVED;

  constructor(
    readonly engine: Engine,
    readonly log: LogWriter | undefined,
    options: StoreOptions = { expireKeys: true },
  ) {
    this.#expireKeys = options.expireKeys;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  /** The current time in Unix ms, as the store sees it. */
  nowMs(): number {
    return this.#nowMs();
  }

  /** The live value of `key`, or `undefined`. */
  get(key: string): string | undefined {
    const value = this.engine.get(key);
    if (value === undefined || this.engine.expiringCount === 0) return value;
    return this.#expired(key) ? undefined : value;
  }

  /** The live value and expiry of `key`, or `undefined`. */
  entry(key: string): Entry | undefined {
    const value = this.get(key);
    return value === undefined ? undefined : { value, expiresAtMs: this.engine.expiresAt(key) };
  }

  /** Logs and applies `key = value`, expiring at `expiresAtMs` (0: never). */
  set(key: string, value: string, expiresAtMs = 0): void {
    checkEntry(key, value);
    if (!this.engine.hasRoomFor(key, value)) {
      throw new EntryTooLargeError(
        `the key's partition is full (${MAX_ARENA_BYTES} bytes of keys and values)`,
      );
    }
    if (this.log) this.#logChange(WalOp.Set, key, value, expiresAtMs);
    this.engine.set(key, value, expiresAtMs);
  }

  /**
   * Logs and applies a new expiry time for a live key (0: persist). A time
   * already past deletes the key instead, as Redis does. False if no key.
   */
  setExpiry(key: string, expiresAtMs: number): boolean {
    if (this.get(key) === undefined) return false;
    if (expiresAtMs > 0 && expiresAtMs <= this.#nowMs()) return this.delete(key);
    if (this.log) this.#logChange(WalOp.PExpireAt, key, "", expiresAtMs);
    return this.engine.setExpiry(key, expiresAtMs);
  }

  /** Logs and applies the removal of a live key; a missing key logs nothing. */
  delete(key: string): boolean {
    if (this.get(key) === undefined) return false;
    this.#remove(key);
    return true;
  }

  /** Logs and applies the removal of every key. */
  flushAll(): void {
    if (this.log) {
      // Not undoable: a failed FLUSHALL leaves memory flushed (see README).
      this.log.append(WalOp.FlushAll, "", "", 0);
    }
    this.engine.clear();
  }

  /** Live keys (expired ones not yet removed are counted out lazily). */
  get size(): number {
    return this.engine.size;
  }

  /**
   * Applies a logged change to memory without logging it again: replay on
   * start, and (through the replica's own log) replication.
   */
  applyRecord(record: LoggedChange): void {
    switch (record.op) {
      case WalOp.Set:
        this.engine.set(record.key, record.value, record.expiresAtMs);
        break;
      case WalOp.Del:
        this.engine.delete(record.key);
        break;
      case WalOp.FlushAll:
        this.engine.clear();
        break;
      case WalOp.PExpireAt:
        this.engine.setExpiry(record.key, record.expiresAtMs);
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
    this.#generation++;
    await this.log?.discardAll();
    this.#undo = [];
    this.engine.clear();
  }

  /**
   * Changes each time the keyspace is discarded: work that walks it across
   * awaits (a snapshot) checks that it still walks the same history.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * One bounded slice of background expiry: checks at most
   * `EXPIRE_SLICE_MAX_CHECKS` keys that have an expiry time, walking the
   * partitions round-robin where the last slice stopped, and deletes (and
   * logs) those whose time has passed. Returns how many it deleted. Does
   * nothing on a replica.
   */
  expireSome(maxChecks = EXPIRE_SLICE_MAX_CHECKS): number {
    if (!this.#expireKeys || this.#failed || this.engine.expiringCount === 0) return 0;
    const now = this.#nowMs();
    const cursor = this.#expireCursor;
    const partitions = this.engine.partitionCount;
    let deleted = 0;
    let emptyPartitions = 0;
    for (let checks = 0; checks < maxChecks && emptyPartitions <= partitions;) {
      cursor.keys ??= this.engine.partition(cursor.partition).expires.entries();
      const next = cursor.keys.next();
      if (next.done) {
        cursor.keys = undefined;
        cursor.partition = (cursor.partition + 1) % partitions;
        emptyPartitions++;
        continue;
      }
      emptyPartitions = 0;
      checks++;
      const [key, expiresAtMs] = next.value;
      if (expiresAtMs <= now) {
        this.#remove(key);
        this.expiredKeys++;
        deleted++;
      }
    }
    return deleted;
  }

  /** Whether some change is applied in memory but not yet durable. */
  get commitPending(): boolean {
    return !this.#failed && this.log !== undefined && this.log.lastLsn > this.log.durableLsn;
  }

  /**
   * Resolves when every change made so far is durable; rejects if the log
   * failed, after undoing in memory every change that is not durable.
   */
  commit(): Promise<void> {
    if (!this.log) return RESOLVED;
    if (!this.#failed && this.log.durableLsn >= this.log.lastLsn) {
      this.#forgetDurable();
      return RESOLVED;
    }
    let logged: Promise<void>;
    try {
      logged = this.log.commit();
    } catch (e) {
      // A broken invariant in the log fails this commit like a failed
      // fsync, rather than escaping into a caller's timer.
      logged = Promise.reject(e);
    }
    // The log hands every waiter of one batch the same promise; so does
    // the store: one bookkeeping step per batch, not one per connection.
    if (logged !== this.#logCommit) {
      this.#logCommit = logged;
      this.#commit = logged.then(() => this.#forgetDurable(), (e) => {
        this.#rollBack();
        this.#failed = true;
        throw e;
      });
    }
    return this.#commit;
  }

  /** Whether a present key's time has passed; deletes it where allowed. */
  #expired(key: string): boolean {
    const expiresAtMs = this.engine.expiresAt(key);
    if (expiresAtMs === 0 || expiresAtMs > this.#nowMs()) return false;
    if (this.#expireKeys && !this.#failed) {
      try {
        this.#remove(key);
        this.expiredKeys++;
      } catch {
        // The log refuses the delete (it failed): hide the key all the same.
      }
    }
    return true;
  }

  #remove(key: string): void {
    if (this.log) this.#logChange(WalOp.Del, key, "", 0);
    this.engine.delete(key);
  }

  /**
   * Logs a change to `key` (before it is applied) and remembers the raw
   * entry it replaces, expired or not, until the change is durable.
   */
  #logChange(op: number, key: string, value: string, expiresAtMs: number): void {
    const previous = this.engine.get(key);
    const previousExpiresAtMs = previous === undefined ? 0 : this.engine.expiresAt(key);
    const lsn = this.log!.append(op, key, value, expiresAtMs);
    this.#undo.push({ lsn, key, value: previous, expiresAtMs: previousExpiresAtMs });
  }

  #forgetDurable(): void {
    const durable = this.log!.durableLsn;
    let kept = 0;
    while (kept < this.#undo.length && this.#undo[kept].lsn <= durable) kept++;
    // All durable, the usual case: empty the array in place, keeping it.
    if (kept === this.#undo.length) this.#undo.length = 0;
    else if (kept > 0) this.#undo = this.#undo.slice(kept);
  }

  #rollBack(): void {
    const durable = this.log!.durableLsn;
    for (let i = this.#undo.length - 1; i >= 0; i--) {
      const { lsn, key, value, expiresAtMs } = this.#undo[i];
      if (lsn <= durable) break;
      if (value === undefined) this.engine.delete(key);
      else this.engine.set(key, value, expiresAtMs);
    }
    this.#undo = [];
  }
}
