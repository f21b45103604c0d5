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

import { WalOp } from "../wal/record.ts";
import {
  applyFunctionRecord,
  FunctionLibraries,
  isFunctionOp,
} from "../scripting/function_libraries.ts";
import { Database, type DatabaseHost } from "./database.ts";
import { Engine, type VolatileCursor } from "./engine.ts";
import { applyHashDels, applyHashSets } from "../types/hash/hash.ts";
import { applyListRecord } from "../types/list/list_apply.ts";
import { applySetAdds, applySetRems } from "../types/set/set.ts";
import { applyZsetAdds, applyZsetRems } from "../types/zset/zset.ts";
import { MemoryManager } from "../memory/memory_manager.ts";
import { applyStreamRecord } from "../types/stream/stream_apply.ts";

export { checkEntry, Database, type Entry, EntryTooLargeError, type KeyEntry } from "./database.ts";
export { MAX_KEY_BYTES, MAX_VALUE_BYTES } from "./limits.ts";

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
   * Ends the open outermost group without completing it (the server stops
   * mid-script): the group stays torn in the log, and nothing more is
   * appended.
   */
  abandonGroup?(): void;
  /**
   * Resolves when everything appended so far is durable. While records
   * are pending, callers between two flushes get the same promise, and a
   * record appended after a flush started gets a new one (the store keys
   * its bookkeeping on that identity).
   */
  commit(): Promise<void>;
  /** Removes every record (a replica about to copy its master's log anew). */
  discardAll(): Promise<void>;
  /** Cuts every record after `lsn`, durably (a replica's divergent tail); the backup dir. */
  truncateAfter(lsn: number, why: string): Promise<string>;
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
   * Fills fresh engines (one per database, all empty) with the durable
   * state on disk (the newest snapshot and the log after it): how memory is
   * put right after the log fails. Without it, a failed log leaves the
   * server refusing every command (memory may hold changes the disk does
   * not).
   */
  reload?: (engines: Engine[], functions: FunctionLibraries) => Promise<void>;
  /** The function libraries recovered with the engines (default: none). */
  functions?: FunctionLibraries;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Bounds one slice of background expiry. */
const EXPIRE_SLICE_MAX_CHECKS = 2000;

/**
 * The databases and, when enabled, the WAL, written in one order.
 *
 * @example
 * ```ts
 * const store = new Store([new Engine(16), new Engine(16)], wal, { expireKeys: true });
 * store.database(1).set("k", "v");
 * await store.commit();
 * ```
 */
export class Store implements DatabaseHost, Keyspaces {
  /** Groups open (see {@link beginGroup}). */
  #groupDepth = 0;
  #expireKeys: boolean;
  readonly #nowMs: () => number;
  readonly #reload:
    | ((engines: Engine[], functions: FunctionLibraries) => Promise<void>)
    | undefined;
  /** The Redis 7 function libraries (FUNCTION LOAD), logged and snapshotted with the keys. */
  readonly functions: FunctionLibraries;
  readonly #databases: Database[];
  /** Background expiry's place: a database, and a place in its keys with an expiry time. */
  #expireCursor: VolatileCursor & { db: number } = {
    db: 0,
    partition: 0,
    entry: 0,
    expiresAtMs: 0,
  };
  /** Keys deleted because their time passed (INFO stats). */
  expiredKeys = 0;
  /** Memory accounting, maxmemory and eviction (src/memory). */
  readonly memory: MemoryManager = new MemoryManager(this);
  /** Told of every change (WATCH). */
  keyChanges: KeyChangeListener | undefined = undefined;
  /** Told of each key deleted because its time passed (keyspace notifications). */
  onExpired: ((db: number, key: string) => void) | undefined = undefined;
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

  /**
   * @param engines one per database (an Engine alone: one database).
   */
  constructor(
    engines: Engine | Engine[],
    readonly log: LogWriter | undefined,
    options: StoreOptions = { expireKeys: true },
  ) {
    const list = Array.isArray(engines) ? engines : [engines];
    if (list.length === 0) throw new RangeError("a store needs at least one database");
    this.#databases = list.map((engine, index) => new Database(index, engine, this));
    this.#expireKeys = options.expireKeys;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#reload = options.reload;
    this.functions = options.functions ?? new FunctionLibraries();
  }

  /**
   * Whether keys past their time are removed here (a master) or only
   * hidden until the master's DEL arrives (a replica): REPLICAOF changes it.
   */
  set expireKeys(on: boolean) {
    this.#expireKeys = on;
  }

  /** Database `index` (0 ≤ index < {@link databaseCount}). */
  database(index: number): Database {
    return this.#databases[index];
  }

  /** How many databases there are (`engine.databases`). */
  get databaseCount(): number {
    return this.#databases.length;
  }

  /** Database 0's keyspace (tools and tests with one database). */
  get engine(): Engine {
    return this.#databases[0].engine;
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

  // Database 0's key operations, for tools and tests with one database.

  /** See {@link Database.get} (database 0). */
  get(key: string) {
    return this.#databases[0].get(key);
  }

  /** See {@link Database.entry} (database 0). */
  entry(key: string) {
    return this.#databases[0].entry(key);
  }

  /** See {@link Database.set} (database 0). */
  set(key: string, value: string, expiresAtMs = 0): void {
    this.#databases[0].set(key, value, expiresAtMs);
  }

  /** See {@link Database.delete} (database 0). */
  delete(key: string): boolean {
    return this.#databases[0].delete(key);
  }

  /** Logs and applies the removal of every key of every database. */
  flushAll(): void {
    this.log?.append(WalOp.FlushAll, 0, "", "", 0);
    for (const db of this.#databases) this.#flushed(db);
    for (const db of this.#databases) db.engine.clear();
  }

  /** Logs and applies the removal of every key of database `index` (FLUSHDB). */
  flushDb(index: number): void {
    const db = this.#databases[index];
    this.log?.append(WalOp.FlushDb, index, "", "", 0);
    this.#flushed(db);
    db.engine.clear();
  }

  /**
   * Logs and applies swapping the contents of databases `a` and `b`
   * (SWAPDB): clients that selected `a` see what was `b`'s.
   */
  swapDb(a: number, b: number): void {
    this.log?.append(WalOp.SwapDb, a, "", "", b);
    const first = this.#databases[a];
    const second = this.#databases[b];
    if (this.keyChanges?.size) {
      // A watched key changes if it is in either (Redis's touchAllWatchedKeysInDb).
      const either = (key: string) =>
        first.engine.get(key) !== undefined || second.engine.get(key) !== undefined;
      this.keyChanges.flushed(a, either);
      this.keyChanges.flushed(b, either);
    }
    this.swapEngines(a, b);
  }

  /** Live keys of all databases (expired ones not yet removed included). */
  get size(): number {
    let total = 0;
    for (const db of this.#databases) total += db.engine.size;
    return total;
  }

  /**
   * Applies a logged change to memory without logging it again: replay on
   * start, and (through the replica's own log) replication.
   */
  applyRecord(record: LoggedChange): void {
    applyChange(this, record);
  }

  /** See {@link Keyspaces.engineOf}. */
  engineOf(db: number): Engine {
    return this.#databases[db].engine;
  }

  /** See {@link Keyspaces.swapEngines}. */
  swapEngines(a: number, b: number): void {
    const first = this.#databases[a];
    const second = this.#databases[b];
    [first.engine, second.engine] = [second.engine, first.engine];
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
    this.#groupDepth++;
    this.log?.beginGroup();
  }

  /** Closes the group {@link beginGroup} opened. */
  endGroup(): void {
    this.#groupDepth--;
    this.log?.endGroup();
  }

  /**
   * Ends the outermost group without completing it in the log: a script
   * stopped by SHUTDOWN mid-run, whose writes were never acknowledged. The
   * log keeps none of them (see `LogWriter.abandonGroup`); the server stops.
   */
  abandonGroup(): void {
    this.#groupDepth--;
    if (this.log?.abandonGroup !== undefined) this.log.abandonGroup();
    else this.log?.endGroup();
  }

  /**
   * Whether a group is open across turns of the event loop (a script past
   * busy-reply-threshold yields with its group open): background work that
   * changes or captures the keyspace (active expiry, a snapshot's start)
   * waits, or its records and state would land inside the script's.
   */
  get inGroup(): boolean {
    return this.#groupDepth > 0;
  }

  /** Empties the keyspace and the log (before a full resynchronisation). */
  async discardAll(): Promise<void> {
    this.#generation++;
    await this.log?.discardAll();
    for (const db of this.#databases) db.engine.clear();
    this.functions.clear();
  }

  /**
   * Cuts the log after `lsn` and rebuilds the keyspace from what is then
   * on disk (the newest snapshot at or before `lsn`, and the log after it;
   * the caller removed any newer snapshot). Commands wait meanwhile, and
   * work walking the old keyspace (a snapshot) is abandoned.
   */
  async truncateAfter(lsn: number, why: string): Promise<void> {
    const log = this.log;
    const reload = this.#reload;
    if (log === undefined || reload === undefined) {
      throw new Error("cutting the log needs the WAL and a reload from disk");
    }
    this.#generation++;
    this.#loading = true;
    let done = () => {};
    this.#loaded = new Promise((resolve) => done = resolve);
    try {
      await log.truncateAfter(lsn, why);
      await this.#rebuild(reload);
    } finally {
      this.#loading = false;
      done();
    }
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
   * One bounded slice of background expiry: checks at most `maxChecks`
   * keys that have an expiry time, none twice, walking the
   * databases and their partitions round-robin where the last slice
   * stopped, and deletes (and logs) those whose time has passed. Returns
   * how many it deleted. Does nothing on a replica.
   */
  expireSome(maxChecks = EXPIRE_SLICE_MAX_CHECKS): number {
    if (!this.#expireKeys || this.#failed) return 0;
    let expiring = 0;
    for (const db of this.#databases) expiring += db.engine.expiringCount;
    if (expiring === 0) return 0;
    const now = this.#nowMs();
    const cursor = this.#expireCursor;
    // Each key with a TTL at most once: a few such keys must not cost a
    // walk of every partition per check.
    const limit = Math.min(maxChecks, expiring);
    let deleted = 0;
    // Every (database, partition) once without a key to check ends the slice.
    let empty = 0;
    let places = 0;
    for (const db of this.#databases) places += db.engine.partitionCount;
    // Live keys' times to live seen in the partition walked now (INFO's avg_ttl).
    let ttlSumMs = 0;
    let ttlCount = 0;
    for (let checks = 0; checks < limit && empty <= places;) {
      const db = this.#databases[cursor.db];
      const engine = db.engine;
      if (cursor.partition >= engine.partitionCount) {
        cursor.partition = 0;
        cursor.entry = 0;
        cursor.db = (cursor.db + 1) % this.#databases.length;
        continue;
      }
      const key = engine.nextVolatile(cursor);
      if (key === undefined) {
        empty++;
        if (ttlCount > 0) engine.sampleTtls(ttlSumMs, ttlCount);
        ttlSumMs = ttlCount = 0;
        continue;
      }
      empty = 0;
      checks++;
      if (cursor.expiresAtMs <= now) {
        db.remove(key);
        this.countExpired(db.index, key);
        deleted++;
      } else {
        ttlSumMs += cursor.expiresAtMs - now;
        ttlCount++;
      }
    }
    if (ttlCount > 0) this.#databases[cursor.db].engine.sampleTtls(ttlSumMs, ttlCount);
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

  // DatabaseHost: what every database shares.

  /** See {@link DatabaseHost.logChange}. */
  logChange(op: number, db: number, key: string, value: string, expiresAtMs: number): void {
    this.log?.append(op, db, key, value, expiresAtMs);
  }

  /** See {@link DatabaseHost.logging}. */
  get logging(): boolean {
    return this.log !== undefined;
  }

  /** See {@link DatabaseHost.watching}. */
  get watching(): boolean {
    return this.keyChanges !== undefined && this.keyChanges.size > 0;
  }

  /** See {@link DatabaseHost.touched}. */
  touched(db: number, key: string, exists: () => boolean): void {
    this.keyChanges?.touch(db, key, exists);
  }

  /** See {@link DatabaseHost.mayExpire}. */
  mayExpire(): boolean {
    return this.#expireKeys && !this.#failed;
  }

  /** See {@link DatabaseHost.countExpired}. */
  countExpired(db: number, key: string): void {
    this.expiredKeys++;
    this.onExpired?.(db, key);
  }

  /** Tells WATCH that database `db` is about to be emptied. */
  #flushed(db: Database): void {
    if (!this.keyChanges?.size) return;
    const engine = db.engine;
    this.keyChanges.flushed(db.index, (key) => engine.get(key) !== undefined);
  }

  /**
   * Fills fresh engines from disk with `reload`, then puts them in place
   * (the old ones are dropped only once the new ones are whole).
   * Synchronous up to the reload's first await.
   */
  async #rebuild(
    reload: (engines: Engine[], functions: FunctionLibraries) => Promise<void>,
  ): Promise<void> {
    const fresh = this.#databases.map((db) => new Engine(db.engine.partitionCount));
    const functions = new FunctionLibraries();
    await reload(fresh, functions);
    this.functions.replaceWith(functions);
    this.#databases.forEach((db, i) => db.engine = fresh[i]);
    this.#expireCursor = { db: 0, partition: 0, entry: 0, expiresAtMs: 0 };
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
    this.#loaded = this.#rebuild(reload).then(
      () => {
        this.#loading = false;
      },
      () => {
        // Memory cannot be put right: commands that touch keys stay
        // refused (the reload logged why); a restart recovers from disk.
      },
    );
  }
}

/**
 * The engines of a set of databases, as a log record addresses them: the
 * live store, or the fresh engines a replay fills.
 *
 * @example
 * ```ts
 * applyChange(new EngineList([new Engine(16)]), record);
 * ```
 */
export interface Keyspaces {
  readonly databaseCount: number;
  engineOf(db: number): Engine;
  /** SWAPDB: database `a` gets `b`'s engine and `b` gets `a`'s. */
  swapEngines(a: number, b: number): void;
  /** The function libraries (WalOp 60–69, snapshot entries of their type). */
  readonly functions: FunctionLibraries;
}

/**
 * {@link Keyspaces} over a plain array of engines (replay into fresh ones).
 *
 * @example
 * ```ts
 * const list = new EngineList([new Engine(16), new Engine(16)]);
 * applyChange(list, record);
 * list.engines[1]; // database 1, after any SWAPDB replayed
 * ```
 */
export class EngineList implements Keyspaces {
  constructor(
    readonly engines: Engine[],
    readonly functions: FunctionLibraries = new FunctionLibraries(),
  ) {}

  get databaseCount(): number {
    return this.engines.length;
  }

  engineOf(db: number): Engine {
    return this.engines[db];
  }

  swapEngines(a: number, b: number): void {
    [this.engines[a], this.engines[b]] = [this.engines[b], this.engines[a]];
  }
}

/**
 * Applies one logged change. Total: a record replayed over a state that is
 * newer than it (a snapshot taken while writes went on) may meet anything,
 * and later records put it right.
 *
 * @example
 * ```ts
 * applyChange(store, { lsn: 1, op: WalOp.Set, db: 0, key: "k", value: "v", expiresAtMs: 0 });
 * ```
 */
export function applyChange(keyspaces: Keyspaces, record: LoggedChange): void {
  const count = keyspaces.databaseCount;
  if (record.op === WalOp.FlushAll) {
    for (let db = 0; db < count; db++) keyspaces.engineOf(db).clear();
    return;
  }
  if (isFunctionOp(record.op)) return applyFunctionRecord(keyspaces.functions, record);
  if (record.db >= count) {
    throw new Error(
      `log record ${record.lsn} is for database ${record.db}; this kvdb has ${count} ` +
        "(engine.databases)",
    );
  }
  const engine = keyspaces.engineOf(record.db);
  // A collection's records change it in place: a snapshot's walk is told first.
  if (record.key !== "") engine.willChange(record.key);
  switch (record.op) {
    case WalOp.Set:
      engine.set(record.key, record.value, record.expiresAtMs);
      break;
    case WalOp.Del:
      engine.delete(record.key);
      break;
    case WalOp.PExpireAt:
      engine.setExpiry(record.key, record.expiresAtMs);
      break;
    case WalOp.SetRange:
      engine.setRange(record.key, record.expiresAtMs, record.value);
      break;
    case WalOp.FlushDb:
      engine.clear();
      break;
    case WalOp.HashSet:
      applyHashSets(engine, record.key, [record.value], [record.expiresAtMs]);
      break;
    case WalOp.HashDel:
      applyHashDels(engine, record.key, [record.value]);
      break;
    case WalOp.Rename:
      if (record.expiresAtMs >= count) {
        throw new Error(`log record ${record.lsn} moves a key to database ${record.expiresAtMs}`);
      }
      engine.moveKey(record.key, keyspaces.engineOf(record.expiresAtMs), record.value);
      break;
    case WalOp.ListPush:
    case WalOp.ListPop:
    case WalOp.ListSet:
    case WalOp.ListInsert:
    case WalOp.ListRemove:
      applyListRecord(engine, record.key, record.op, record.value, record.expiresAtMs);
      break;
    case WalOp.SetAdd:
      applySetAdds(engine, record.key, [record.value], [record.expiresAtMs]);
      break;
    case WalOp.SetRem:
      applySetRems(engine, record.key, [record.value], [record.expiresAtMs]);
      break;
    case WalOp.ZsetAdd:
      applyZsetAdds(engine, record.key, [record.value]);
      break;
    case WalOp.ZsetRem:
      applyZsetRems(engine, record.key, [record.value]);
      break;
    case WalOp.StreamAdd:
    case WalOp.StreamDel:
    case WalOp.StreamTrim:
    case WalOp.StreamMeta:
    case WalOp.StreamGroupSet:
    case WalOp.StreamGroupDel:
    case WalOp.StreamConsumerSet:
    case WalOp.StreamConsumerDel:
    case WalOp.StreamPendingSet:
    case WalOp.StreamPendingDel:
      applyStreamRecord(engine, record.key, record.op, record.value);
      break;
    case WalOp.SwapDb:
      if (record.expiresAtMs >= count) {
        throw new Error(`log record ${record.lsn} swaps database ${record.expiresAtMs}: none`);
      }
      keyspaces.swapEngines(record.db, record.expiresAtMs);
      break;
    default:
      throw new Error(`log record ${record.lsn} has op ${record.op}, unknown to this kvdb`);
  }
  // A collection changed in place: its memory charge is taken again.
  if (CHANGES_IN_PLACE.has(record.op)) engine.changed(record.key);
}

/** The ops whose records change a collection in place (see {@link applyChange}). */
const CHANGES_IN_PLACE: ReadonlySet<number> = new Set([
  WalOp.HashSet,
  WalOp.HashDel,
  WalOp.ListPush,
  WalOp.ListPop,
  WalOp.ListSet,
  WalOp.ListInsert,
  WalOp.ListRemove,
  WalOp.SetAdd,
  WalOp.SetRem,
  WalOp.ZsetAdd,
  WalOp.ZsetRem,
]);
