/**
 * The durable keyspace: every change is appended to the write-ahead log
 * first and applied to memory right after, so memory changes in exactly WAL
 * order. Commands log what they did (the resulting value with its absolute
 * expiry time, the deleted key, the bytes an APPEND wrote at its offset),
 * never the command text, so replay and replicas converge exactly.
 *
 * Expiry: a key whose expiry time has passed is invisible at once. On a
 * server that owns its data (a master, or no replication) the store also
 * deletes it — when it is touched, and in bounded slices in the background
 * ({@link Store.expireSome}) — and logs the delete like any other. A replica
 * never expires keys on its own clock: it hides them until its master's
 * delete arrives.
 *
 * A change is visible in memory before its record is fsynced; callers
 * acknowledge it only after {@link Store.commit} resolves (group commit), and
 * no reply — reads included — leaves before the changes logged ahead of it
 * are durable. If the log fails, it cuts itself back to its last durable
 * record (see `wal.ts`), and the store reloads memory from what is on disk
 * ({@link StoreOptions.reload}): memory then equals what a restart would
 * recover, with no undo bookkeeping on the write path. Until the reload is
 * done {@link Store.loading} is true and commands are refused (Redis's
 * `-LOADING`); writes stay refused by the failed log until restart.
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
import { Engine, type StoredValue } from "./engine.ts";
import { MAX_ARENA_BYTES } from "./key_table.ts";

/** The part of the WAL the store writes through. */
export interface LogWriter {
  /** Buffers a record; returns its LSN. Throws if the log has failed. */
  append(op: number, db: number, key: string, value: string, expiresAtMs: number): number;
  /** Buffers a record at a given LSN (a replica copying its master's log), with its flags. */
  appendAt(
    lsn: number,
    op: number,
    db: number,
    key: string,
    value: string,
    expiresAtMs: number,
    flags?: number,
  ): number;
  /**
   * Brackets the records of one command or transaction: all-or-nothing
   * in the log (see `WalFlag`). Nests.
   */
  beginGroup(): void;
  endGroup(): void;
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
  db: number;
  flags?: number;
  key: string;
  value: string;
  expiresAtMs: number;
}

/** A live key's value and expiry time (0: none). */
export interface Entry {
  value: StoredValue;
  expiresAtMs: number;
}

/**
 * Told of every key the store changes, before or as it changes it: WATCH
 * (`transactions/watch.ts`). Optional; `size` 0 skips it cheaply.
 */
export interface KeyChangeListener {
  /** Keys listened for; 0 when none. */
  readonly size: number;
  /** `key` of `db` changes; `exists` says whether it is in the keyspace afterwards. */
  touch(db: number, key: string, exists: () => boolean): void;
  /** Database `db` is emptied; `exists` says which keys it held. */
  flushed(db: number, exists: (key: string) => boolean): void;
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
  /**
   * Fills a fresh engine with the durable state on disk (the newest
   * snapshot and the log after it): how memory is put right after the log
   * fails. Without it, a failed log leaves the server refusing every
   * command (memory may hold changes the disk does not).
   */
  reload?: (engine: Engine) => Promise<void>;
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
  readonly #expireKeys: boolean;
  readonly #nowMs: () => number;
  readonly #reload: ((engine: Engine) => Promise<void>) | undefined;
  #engine: Engine;
  /** Background expiry's place: a live iterator per partition. */
  #expireCursor: { partition: number; keys: Iterator<[string, number]> | undefined } = {
    partition: 0,
    keys: undefined,
  };
  /** Keys deleted because their time passed (INFO stats). */
  expiredKeys = 0;
  /** Told of every change (WATCH). */
  keyChanges: KeyChangeListener | undefined = undefined;
  /**
   * The log failed: nothing more will become durable, so nothing is
   * pending any more; once reloaded, reads go on from the durable state
   * (writes are refused by the log itself).
   */
  #failed = false;
  #loading = false;
  /** Settles when a reload ends (at once when none runs). */
  #loaded: Promise<void> = RESOLVED;
  #generation = 0;
  /** The log's commit promise last seen, and the store's that follows it. */
  #logCommit: Promise<void> | undefined = undefined;
  #commit: Promise<void> = RESOLVED;

  constructor(
    engine: Engine,
    readonly log: LogWriter | undefined,
    options: StoreOptions = { expireKeys: true },
  ) {
    this.#engine = engine;
    this.#expireKeys = options.expireKeys;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#reload = options.reload;
  }

  /** The keyspace (replaced as a whole when memory is reloaded from disk). */
  get engine(): Engine {
    return this.#engine;
  }

  /**
   * True while memory is being rebuilt from disk after the log failed (and
   * for good if it cannot be): nothing may be read or written meanwhile.
   */
  get loading(): boolean {
    return this.#loading;
  }

  /**
   * Resolves when memory is no longer being reloaded: at once normally;
   * after a reload, when it is done (whether or not it succeeded — then
   * {@link loading} stays true).
   */
  loaded(): Promise<void> {
    return this.#loaded;
  }

  /** The current time in Unix ms, as the store sees it. */
  nowMs(): number {
    return this.#nowMs();
  }

  /** The live value of `key`, or `undefined`. */
  get(key: string): StoredValue | undefined {
    const value = this.#engine.get(key);
    if (value === undefined || this.#engine.expiringCount === 0) return value;
    return this.#expired(key) ? undefined : value;
  }

  /** The live value and expiry of `key`, or `undefined`. */
  entry(key: string): Entry | undefined {
    const value = this.get(key);
    return value === undefined ? undefined : { value, expiresAtMs: this.#engine.expiresAt(key) };
  }

  /** Logs and applies `key = value`, expiring at `expiresAtMs` (0: never). */
  set(key: string, value: string, expiresAtMs = 0): void {
    checkEntry(key, value);
    this.#checkRoom(key, value.length);
    this.log?.append(WalOp.Set, 0, key, value, expiresAtMs);
    this.#engine.set(key, value, expiresAtMs);
    if (this.keyChanges?.size) this.#touched(key);
  }

  /**
   * Logs and applies writing `bytes` into the string at `key` from byte
   * `offset` (zero-filled growth; a missing key is created; the expiry
   * stays): APPEND and SETRANGE. Costs about `bytes.length`, in memory and
   * in the log. The caller checks the type and the size limit. Returns the
   * new length.
   */
  setRange(key: string, offset: number, bytes: string): number {
    if (key.length > MAX_KEY_BYTES) checkEntry(key, "");
    const current = this.get(key);
    const length = typeof current === "string" || current === undefined
      ? current?.length ?? 0
      : current.length;
    if (Math.max(length, offset + bytes.length) > MAX_VALUE_BYTES) {
      throw new EntryTooLargeError(
        `value of ${offset + bytes.length} bytes exceeds the limit of ${MAX_VALUE_BYTES}`,
      );
    }
    this.#checkRoom(key, Math.max(length, offset + bytes.length));
    this.log?.append(WalOp.SetRange, 0, key, bytes, offset);
    const newLength = this.#engine.setRange(key, offset, bytes);
    if (this.keyChanges?.size) this.#touched(key);
    return newLength;
  }

  /**
   * Logs and applies a new expiry time for a live key (0: persist). A time
   * already past deletes the key instead, as Redis does. False if no key.
   */
  setExpiry(key: string, expiresAtMs: number): boolean {
    if (this.get(key) === undefined) return false;
    if (expiresAtMs > 0 && expiresAtMs <= this.#nowMs()) return this.delete(key);
    this.log?.append(WalOp.PExpireAt, 0, key, "", expiresAtMs);
    const changed = this.#engine.setExpiry(key, expiresAtMs);
    if (this.keyChanges?.size) this.#touched(key);
    return changed;
  }

  /** Logs and applies the removal of a live key; a missing key logs nothing. */
  delete(key: string): boolean {
    if (this.get(key) === undefined) return false;
    this.#remove(key);
    return true;
  }

  /** Logs and applies the removal of every key. */
  flushAll(): void {
    this.log?.append(WalOp.FlushAll, 0, "", "", 0);
    if (this.keyChanges?.size) {
      const engine = this.#engine;
      this.keyChanges.flushed(0, (key) => engine.get(key) !== undefined);
    }
    this.#engine.clear();
  }

  /** Live keys (expired ones not yet removed are counted out lazily). */
  get size(): number {
    return this.#engine.size;
  }

  /**
   * Applies a logged change to memory without logging it again: replay on
   * start, and (through the replica's own log) replication.
   */
  applyRecord(record: LoggedChange): void {
    applyChange(this.#engine, record);
  }

  /**
   * Logs a master's record under the master's LSN, then applies it: a
   * replica's log is a copy of its master's, so it can resume where it
   * stopped.
   */
  applyReplicated(record: LoggedChange): void {
    if (!this.log) throw new Error("replication needs the WAL");
    this.log.appendAt(
      record.lsn,
      record.op,
      record.db,
      record.key,
      record.value,
      record.expiresAtMs,
      record.flags ?? 0,
    );
    this.applyRecord(record);
  }

  /**
   * Opens a group: the changes until {@link endGroup} reach the log as one
   * all-or-nothing group (a command's records; a transaction's). Nests;
   * the executor brackets every command, and EXEC its whole transaction.
   */
  beginGroup(): void {
    this.log?.beginGroup();
  }

  /** Closes the group {@link beginGroup} opened. */
  endGroup(): void {
    this.log?.endGroup();
  }

  /** Empties the keyspace and the log (before a full resynchronisation). */
  async discardAll(): Promise<void> {
    this.#generation++;
    await this.log?.discardAll();
    this.#engine.clear();
  }

  /**
   * Changes each time the keyspace is discarded or reloaded: work that
   * walks it across awaits (a snapshot) checks that it still walks the same
   * history.
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
    const engine = this.#engine;
    if (!this.#expireKeys || this.#failed || engine.expiringCount === 0) return 0;
    const now = this.#nowMs();
    const cursor = this.#expireCursor;
    const partitions = engine.partitionCount;
    let deleted = 0;
    let emptyPartitions = 0;
    for (let checks = 0; checks < maxChecks && emptyPartitions <= partitions;) {
      cursor.keys ??= engine.partition(cursor.partition).expires.entries();
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
   * failed (memory is then being reloaded from disk: see the module doc).
   */
  commit(): Promise<void> {
    if (!this.log) return RESOLVED;
    if (!this.#failed && this.log.durableLsn >= this.log.lastLsn) return RESOLVED;
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
      this.#commit = logged.catch((e) => {
        this.#onLogFailed();
        throw e;
      });
    }
    return this.#commit;
  }

  /**
   * The log failed: stop serving the memory it can no longer vouch for, and
   * rebuild it from disk. Runs once; synchronous up to the reload, so no
   * command runs on the old memory after it (they wait for {@link loaded}).
   */
  #onLogFailed(): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#loading = true;
    this.#generation++;
    const reload = this.#reload;
    if (reload === undefined) return; // refused for good: see StoreOptions.reload
    const fresh = new Engine(this.#engine.partitionCount);
    this.#loaded = reload(fresh).then(
      () => {
        this.#engine = fresh;
        this.#expireCursor = { partition: 0, keys: undefined };
        this.#loading = false;
      },
      () => {
        // Memory cannot be put right: commands that touch keys stay
        // refused (the reload logged why); a restart recovers from disk.
      },
    );
  }

  /** Whether a present key's time has passed; deletes it where allowed. */
  #expired(key: string): boolean {
    const expiresAtMs = this.#engine.expiresAt(key);
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
    this.log?.append(WalOp.Del, 0, key, "", 0);
    this.#engine.delete(key);
    if (this.keyChanges?.size) this.#touched(key);
  }

  #touched(key: string): void {
    this.keyChanges!.touch(0, key, () => this.#engine.get(key) !== undefined);
  }

  /**
   * Whether `key` is in the keyspace with its time passed (not yet
   * deleted). Deletes nothing: WATCH and EXEC ask without changing.
   */
  isExpired(key: string): boolean {
    const expiresAtMs = this.#engine.expiresAt(key);
    return expiresAtMs !== 0 && expiresAtMs <= this.#nowMs() &&
      this.#engine.get(key) !== undefined;
  }

  /** Throws unless `key` with a value of `valueBytes` fits its partition (checked before logging). */
  #checkRoom(key: string, valueBytes: number): void {
    if (!this.#engine.hasRoomFor(key, valueBytes)) {
      throw new EntryTooLargeError(
        `the key's partition is full (${MAX_ARENA_BYTES} bytes of keys and values)`,
      );
    }
  }
}

/**
 * Applies one logged change to `engine`. Total: a record replayed over a
 * state that is newer than it (a snapshot taken while writes went on) may
 * meet anything, and later records put it right.
 *
 * @example
 * ```ts
 * applyChange(engine, { lsn: 1, op: WalOp.Set, db: 0, key: "k", value: "v", expiresAtMs: 0 });
 * ```
 */
export function applyChange(engine: Engine, record: LoggedChange): void {
  if (record.db !== 0) {
    throw new Error(`log record ${record.lsn} is for database ${record.db}; this kvdb has one`);
  }
  switch (record.op) {
    case WalOp.Set:
      engine.set(record.key, record.value, record.expiresAtMs);
      break;
    case WalOp.Del:
      engine.delete(record.key);
      break;
    case WalOp.FlushAll:
      engine.clear();
      break;
    case WalOp.PExpireAt:
      engine.setExpiry(record.key, record.expiresAtMs);
      break;
    case WalOp.SetRange:
      engine.setRange(record.key, record.expiresAtMs, record.value);
      break;
    default:
      throw new Error(`log record ${record.lsn} has op ${record.op}, unknown to this kvdb`);
  }
}
