/**
 * One numbered database (SELECT's): its keyspace and every change a command
 * makes to it, logged first and applied right after (see `store.ts` for
 * the log, group commit, failure and reload, which all databases share).
 *
 * A `Database` object stands for its index for the life of the store;
 * SWAPDB and a reload from disk replace the {@link Engine} behind it, so
 * what a client selected keeps meaning "database 3", whatever it holds.
 *
 * @example
 * ```ts
 * const db = store.database(0);
 * db.set("k", "v", Date.now() + 10_000);
 * db.get("k"); // "v"
 * ```
 * @module
 */

import { WalOp } from "../wal/record.ts";
import type { Engine, PackedView, StoredValue } from "./engine.ts";
import { Collection, type KeyValue, WrongTypeError } from "../types/collection.ts";
import { type ByteRange, MAX_ARENA_BYTES, MAX_TABLE_ENTRIES } from "./key_table.ts";
import { INLINE_MAX_BYTES } from "../types/string/big_string.ts";

import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from "./limits.ts";

/** A live string key's value and expiry time (0: none). */
export interface Entry {
  value: StoredValue;
  expiresAtMs: number;
}

/** A live key's value, of any type, and expiry time (0: none). */
export interface KeyEntry {
  value: KeyValue;
  expiresAtMs: number;
}

/** A key or value over its limit: the client's mistake, nothing written. */
export class EntryTooLargeError extends RangeError {}

/**
 * Throws {@link EntryTooLargeError} unless `key` and `value` are within the
 * limits; commands that write several keys check them all first, so that
 * they write all or nothing.
 *
 * @example
 * ```ts
 * checkEntry("k", "v"); // fine
 * ```
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

/** What a database needs from the store around it. */
export interface DatabaseHost {
  /** Logs a change (no-op without a WAL); throws if the log refuses it. */
  logChange(op: number, db: number, key: string, value: string, expiresAtMs: number): void;
  /** There is a log: a record's value is worth building (concatenating) for {@link logChange}. */
  readonly logging: boolean;
  /** Someone listens for changed keys (WATCH): {@link touched} is worth calling. */
  readonly watching: boolean;
  /** A key changed (WATCH); `exists`: whether it is in the keyspace now. */
  touched(db: number, key: string, exists: () => boolean): void;
  /** May keys whose time passed be deleted here (false on a replica, or after a log failure)? */
  mayExpire(): boolean;
  /** The clock, Unix ms. */
  nowMs(): number;
  /** `key` of database `db` was deleted because its time passed. */
  countExpired(db: number, key: string): void;
}

/**
 * A database's key operations.
 *
 * @example
 * ```ts
 * const db = store.database(1);
 * db.delete("k"); // logs only if "k" existed
 * ```
 */
export class Database {
  /** The keyspace (replaced by SWAPDB and by a reload from disk). */
  engine: Engine;

  constructor(
    readonly index: number,
    engine: Engine,
    readonly host: DatabaseHost,
  ) {
    this.engine = engine;
  }

  /**
   * The live value of `key` of any type, or `undefined` (an expired key is
   * deleted where allowed): for commands that work on every type (DEL,
   * TYPE, RENAME...).
   */
  value(key: string): KeyValue | undefined {
    const value = this.engine.get(key);
    if (value === undefined || this.engine.expiringCount === 0) return value;
    return this.#expired(key) ? undefined : value;
  }

  /** Whether `key` is live, whatever its type. */
  exists(key: string): boolean {
    return this.typeOf(key) >= 0;
  }

  /**
   * The snapshot type of live `key`'s value (0: a string), or -1 (an
   * expired key is deleted where allowed), made from nothing: for commands
   * that need no more (EXISTS, TYPE, TTL). Marks it used unless `touch` is
   * false.
   */
  typeOf(key: string, touch = true): number {
    const type = this.engine.typeOf(key, touch);
    if (type < 0 || this.engine.expiringCount === 0) return type;
    return this.#expired(key) ? -1 : type;
  }

  /**
   * When live `key` expires (ms since the epoch; 0: never), or -1 without
   * it: as {@link typeOf}, nothing made (EXPIRE, TTL, PERSIST).
   */
  expiryOf(key: string, touch = true): number {
    return this.typeOf(key, touch) < 0 ? -1 : this.engine.expiresAt(key);
  }

  /**
   * The live string at `key`, or `undefined`; throws {@link WrongTypeError}
   * for a key of another type. Every string command reads through here (or
   * {@link entry}), so WRONGTYPE is decided in one place; a string is
   * answered by the first test, so the string path pays nothing for it.
   */
  get(key: string): StoredValue | undefined {
    const value = this.value(key);
    if (typeof value === "string" || value === undefined) return value;
    if (value instanceof Collection) throw new WrongTypeError();
    return value;
  }

  /**
   * Where the live string at `key` lies, for a reply copied from the
   * arena: 1 with `out` filled (valid until the next write), 0 without a
   * live key, -1 for a value to read with {@link get} (another type, or a
   * string longer than `maxLength` or held as an object).
   */
  stringBytes(key: string, out: ByteRange, maxLength: number): number {
    if (this.engine.expiringCount !== 0 && this.#expired(key)) return 0;
    return this.engine.stringBytes(key, out, maxLength);
  }

  /**
   * The live collection at `key` if it is a `type` (e.g. `HashValue`), or
   * `undefined` without the key; throws {@link WrongTypeError} for a key
   * of another type.
   */
  collection<T extends Collection>(
    key: string,
    type: abstract new (...args: never[]) => T,
  ): T | undefined {
    const value = this.value(key);
    if (value === undefined || value instanceof type) return value;
    throw new WrongTypeError();
  }

  /**
   * The live collection at `key`, as {@link collection}, except that a
   * small one held inline as snapshot type `inlineType` comes as its
   * packed bytes (see {@link packed}), not unpacked: one lookup for a
   * reader of either form. Undefined without the key; throws
   * {@link WrongTypeError} for a key of another type.
   */
  collectionOrPacked<T extends Collection>(
    key: string,
    type: abstract new (...args: never[]) => T,
    inlineType: number,
  ): T | PackedView | undefined {
    const value = this.valueOrPacked(key, inlineType);
    if (value === undefined || value instanceof type || value === this.engine.packedView) {
      return value as T | PackedView | undefined;
    }
    throw new WrongTypeError();
  }

  /**
   * The live value of `key` of any type, as {@link value}, except that a
   * small collection held inline as snapshot type `inlineType` comes as its
   * packed bytes (`Engine.getOrPacked`: the engine's `packedView`).
   */
  valueOrPacked(key: string, inlineType: number): KeyValue | PackedView | undefined {
    const value = this.engine.getOrPacked(key, inlineType);
    if (value === undefined || this.engine.expiringCount === 0) return value;
    return this.#expired(key) ? undefined : value;
  }

  /**
   * Like {@link value}, without marking the key used (Redis's
   * LOOKUP_NOTOUCH: TYPE, OBJECT).
   */
  peek(key: string): KeyValue | undefined {
    const value = this.engine.get(key, false);
    if (value === undefined || this.engine.expiringCount === 0) return value;
    return this.#expired(key) ? undefined : value;
  }

  /** The live string and expiry of `key`, or `undefined`; WRONGTYPE as {@link get}. */
  entry(key: string): Entry | undefined {
    const value = this.get(key);
    return value === undefined ? undefined : { value, expiresAtMs: this.engine.expiresAt(key) };
  }

  /** The live value of any type and expiry of `key`, or `undefined`. */
  keyEntry(key: string): KeyEntry | undefined {
    const value = this.value(key);
    return value === undefined ? undefined : { value, expiresAtMs: this.engine.expiresAt(key) };
  }

  /**
   * Logs and applies `key` = `value` of any type with its expiry (RENAME,
   * COPY, MOVE): a string as {@link set}; a collection as its rebuild
   * records after a delete of the key (one group with the caller's other
   * records; no record grows with the collection), holding `value` itself
   * (the caller passes a copy where the source stays).
   */
  put(key: string, value: KeyValue, expiresAtMs: number, hint = 0): void {
    if (!(value instanceof Collection)) {
      this.set(key, typeof value === "string" ? value : value.toBinary(), expiresAtMs, hint);
      return;
    }
    if (key.length > MAX_KEY_BYTES) checkEntry(key, "");
    this.#checkRoom(key, INLINE_MAX_BYTES);
    const host = this.host;
    const index = this.index;
    host.logChange(WalOp.Del, index, key, "", 0);
    if (host.logging) {
      value.rebuildRecords((op, data, numeric) => host.logChange(op, index, key, data, numeric));
    }
    if (expiresAtMs !== 0) host.logChange(WalOp.PExpireAt, index, key, "", expiresAtMs);
    this.engine.delete(key);
    this.engine.setCollection(key, value);
    if (expiresAtMs !== 0) this.engine.setExpiry(key, expiresAtMs);
    this.#touched(key);
  }

  /**
   * Logs and applies moving the live key `from` — any type, with its
   * expiry — to `to` in `target` (this database for RENAME, another for
   * MOVE), replacing what `to` held: one `Rename` record and an O(1) move
   * whatever the value's size (a collection is not rewritten element by
   * element). The caller checked that `from` is live.
   */
  relocate(from: string, target: Database, to: string): void {
    if (to.length > MAX_KEY_BYTES) checkEntry(to, "");
    target.#checkRoom(to, INLINE_MAX_BYTES);
    this.host.logChange(WalOp.Rename, this.index, from, to, target.index);
    this.engine.moveKey(from, target.engine, to);
    this.#touched(from);
    target.#touched(to);
  }

  /**
   * Logs and applies changes to the collection at `key`: one record of op
   * `op` per element of `data` (with `numbers[i]` in its numeric field, e.g.
   * `HashSet`s), then `apply` changes memory exactly as replaying those
   * records one by one does (`store.ts`'s applyChange), so a restart and a
   * replica reach the same state — in one pass, so a small collection held
   * inline is rewritten once per command, not once per element. The caller
   * checked the type; a key emptied by the change is deleted by `apply`.
   * Returns what `apply` returns (e.g. how many fields were new: learnt
   * while applying, not by looking each element up once more before).
   */
  changeCollection<R = void>(
    key: string,
    op: number,
    data: readonly string[],
    numbers: readonly number[],
    apply: (
      engine: Engine,
      key: string,
      data: readonly string[],
      numbers: readonly number[],
    ) => R,
  ): R {
    if (key.length > MAX_KEY_BYTES) checkEntry(key, "");
    for (const item of data) if (item.length > MAX_VALUE_BYTES) checkEntry(key, item);
    // A small collection lives inline: room for the most it can take there.
    this.#checkRoom(key, INLINE_MAX_BYTES);
    for (let i = 0; i < data.length; i++) {
      this.host.logChange(op, this.index, key, data[i], numbers[i]);
    }
    this.engine.willChange(key);
    const result = apply(this.engine, key, data, numbers);
    this.engine.changed(key);
    this.#touched(key);
    return result;
  }

  /**
   * {@link changeCollection} for records of two parts — a hash's field and
   * its value: one record of op `op` per pair `parts[i]`, `parts[i + 1]`
   * for i = `from`, `from` + 2, ... (its value the two concatenated, its
   * numeric field the first's length), then `apply(engine, key, parts,
   * from)`, which replay reaches with each record split back in two. The
   * parts reach memory as the request's own strings: a slice of the
   * concatenation would keep it alive and compare slowly as a key (see
   * `types/string_map.ts`). `read`, if given, is the collection the caller
   * has just read at `key` (nothing changes the keyspace between: eviction
   * runs before a command), handed to `apply` so that it does not look the
   * key up and unpack it once more. Returns what `apply` returns.
   */
  changeCollectionPairs<R, C extends Collection>(
    key: string,
    op: number,
    parts: readonly string[],
    from: number,
    apply: (
      engine: Engine,
      key: string,
      parts: readonly string[],
      from: number,
      read?: C,
    ) => R,
    read?: C,
  ): R {
    if (key.length > MAX_KEY_BYTES) checkEntry(key, "");
    for (let i = from; i < parts.length; i += 2) {
      if (parts[i].length + parts[i + 1].length > MAX_VALUE_BYTES) {
        checkEntry(key, parts[i] + parts[i + 1]);
      }
    }
    this.#checkRoom(key, INLINE_MAX_BYTES);
    if (this.host.logging) {
      for (let i = from; i < parts.length; i += 2) {
        this.host.logChange(op, this.index, key, parts[i] + parts[i + 1], parts[i].length);
      }
    }
    this.engine.willChange(key);
    const result = apply(this.engine, key, parts, from, read);
    this.engine.changed(key);
    this.#touched(key);
    return result;
  }

  /**
   * Logs and applies `key = value`, expiring at `expiresAtMs` (0: never);
   * `hint` tells OBJECT ENCODING how Redis would have made the value (see
   * `EncodingHint`; not logged — after a restart values read as Redis
   * re-encodes loaded strings).
   */
  set(key: string, value: string, expiresAtMs = 0, hint = 0): void {
    checkEntry(key, value);
    this.#checkRoom(key, value.length);
    this.host.logChange(WalOp.Set, this.index, key, value, expiresAtMs);
    this.engine.set(key, value, expiresAtMs, hint);
    this.#touched(key);
  }

  /**
   * Logs and applies `key` = the decimal form of safe integer `value`, its
   * expiry kept, for a key that holds a live string (INCR's write): in
   * place, with no string made of the number, unless a log needs the
   * record or the digits outgrow the string's room (then as {@link set}).
   */
  setInteger(key: string, value: number): void {
    if (!this.host.logging && this.engine.setDecimal(key, value)) {
      this.#touched(key);
      return;
    }
    this.set(key, String(value), this.engine.expiresAt(key));
  }

  /**
   * Logs and applies writing `bytes` into the string at `key` from byte
   * `offset` (zero-filled growth; a missing key is created; the expiry
   * stays): APPEND, SETRANGE, SETBIT, BITFIELD. Costs about
   * `bytes.length`, in memory and in the log. The caller checks the type.
   * Returns the new length.
   */
  setRange(key: string, offset: number, bytes: string): number {
    if (key.length > MAX_KEY_BYTES) checkEntry(key, "");
    const current = this.get(key);
    const length = current?.length ?? 0;
    if (Math.max(length, offset + bytes.length) > MAX_VALUE_BYTES) {
      throw new EntryTooLargeError(
        `value of ${offset + bytes.length} bytes exceeds the limit of ${MAX_VALUE_BYTES}`,
      );
    }
    this.#checkRoom(key, Math.max(length, offset + bytes.length));
    this.host.logChange(WalOp.SetRange, this.index, key, bytes, offset);
    const newLength = this.engine.setRange(key, offset, bytes);
    this.#touched(key);
    return newLength;
  }

  /**
   * Logs and applies a new expiry time for a live key (0: persist). A time
   * already past deletes the key instead, as Redis does. False if no key.
   */
  setExpiry(key: string, expiresAtMs: number): boolean {
    if (this.value(key) === undefined) return false;
    if (expiresAtMs > 0 && expiresAtMs <= this.host.nowMs()) return this.delete(key);
    this.host.logChange(WalOp.PExpireAt, this.index, key, "", expiresAtMs);
    const changed = this.engine.setExpiry(key, expiresAtMs);
    this.#touched(key);
    return changed;
  }

  /** Logs and applies the removal of a live key; a missing key logs nothing. */
  delete(key: string): boolean {
    if (this.value(key) === undefined) return false;
    this.remove(key);
    return true;
  }

  /** Logs and applies the removal of a present key, expired or not. */
  remove(key: string): void {
    this.host.logChange(WalOp.Del, this.index, key, "", 0);
    this.engine.delete(key);
    this.#touched(key);
  }

  /** Keys held (expired ones not yet removed included). */
  get size(): number {
    return this.engine.size;
  }

  /**
   * Whether `key` is in the keyspace with its time passed (not yet
   * deleted). Deletes nothing: WATCH and EXEC ask without changing.
   */
  isExpired(key: string): boolean {
    const expiresAtMs = this.engine.expiresAt(key);
    return expiresAtMs !== 0 && expiresAtMs <= this.host.nowMs() &&
      this.engine.get(key) !== undefined;
  }

  /** Whether a present key's time has passed; deletes it where allowed. */
  #expired(key: string): boolean {
    const expiresAtMs = this.engine.expiresAt(key);
    if (expiresAtMs === 0 || expiresAtMs > this.host.nowMs()) return false;
    if (this.host.mayExpire()) {
      try {
        this.remove(key);
        this.host.countExpired(this.index, key);
      } catch {
        // The log refuses the delete (it failed): hide the key all the same.
      }
    }
    return true;
  }

  #touched(key: string): void {
    if (!this.host.watching) return;
    const engine = this.engine;
    this.host.touched(this.index, key, () => engine.get(key) !== undefined);
  }

  /** Throws unless `key` with a value of `valueBytes` fits its partition (checked before logging). */
  #checkRoom(key: string, valueBytes: number): void {
    if (!this.engine.hasRoomFor(key, valueBytes)) {
      throw new EntryTooLargeError(
        `the key's partition is full (${MAX_ARENA_BYTES} bytes of keys and values, ` +
          `${MAX_TABLE_ENTRIES} keys)`,
      );
    }
  }
}
