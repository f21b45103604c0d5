/**
 * The hash type: field → value, both binary strings, in Redis's two
 * encodings.
 *
 * - `listpack` while small (at most {@link HASH_MAX_LISTPACK_ENTRIES}
 *   fields, each field and value at most {@link HASH_MAX_LISTPACK_VALUE}
 *   bytes): one binary string of `[field length][field][value length][value]`
 *   per field in insertion order (lengths fit one byte), scanned linearly as
 *   Redis scans its listpack. One heap string per hash instead of a Map and
 *   two strings per field: what keeps a million small hashes compact.
 * - `hashtable` past either limit (never back, as in Redis): a
 *   {@link FieldTable} of fields by position and `FieldValues` of values
 *   by the same position, both off the JavaScript heap; deleted positions
 *   are reused but never move a live field, so a position is a stable
 *   cursor (HSCAN, and snapshot chunks: a field present throughout is
 *   visited once).
 *
 * @example
 * ```ts
 * const hash = new HashValue();
 * hash.set("f", "v"); // true: a new field
 * hash.get("f"); // "v"
 * hash.encoding(); // "listpack"
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";
import { binaryEquals, bytesToBinary, writeBinary } from "../../bytes/binary_string.ts";
import { INLINE_MAX_BYTES } from "../string/big_string.ts";
import { ScratchBytes } from "../../bytes/scratch_bytes.ts";
import { Collection, type RecordSink } from "../collection.ts";
import { ENCODING_LIMITS } from "../encoding_limits.ts";
import { WalOp } from "../../wal/record.ts";
import type { Engine } from "../../storage/engine.ts";
import { flatString } from "../string_map.ts";
import { FieldTable } from "./_field_table.ts";
import { FieldValues } from "./_field_values.ts";
import { removePackedField } from "./_packed_hash.ts";
import { editPacked } from "../_packed_edits.ts";

/**
 * Redis's hash-max-listpack-entries as redis-server runs without a config
 * file (its built-in default, 512; the sample redis.conf sets 128).
 */
export const HASH_MAX_LISTPACK_ENTRIES = 512;
/** Redis's hash-max-listpack-value default (bytes of a field or a value). */
export const HASH_MAX_LISTPACK_VALUE = 64;
/**
 * Most fields one hash holds: a V8 `Map` holds at most 2^24 entries; kvdb
 * refuses a new field past this (Redis's limit is 2^32).
 */
export const MAX_HASH_FIELDS = 16_000_000;
/** The snapshot entry type of a chunk of hash fields. */
export const SNAPSHOT_TYPE_HASH = 1;

/**
 * Bytes a hashtable-encoded hash spends per field besides the field's and
 * its value's bytes (its arena entry, its slot and position entries):
 * what MEMORY USAGE counts, in full or by samples.
 */
export const HASH_FIELD_OVERHEAD_BYTES = 48;

/**
 * The longest field or value a listpack takes: hash-max-listpack-value,
 * within the packed form's one-byte lengths.
 */
function listpackMaxBytes(): number {
  return Math.min(ENCODING_LIMITS.hashMaxListpackValue, 255);
}

/** Where {@link HashValue} builds its packed strings (grown as needed, shared). */
const scratch = new ScratchBytes();

/**
 * A hash value (see the module doc).
 *
 * @example
 * ```ts
 * const hash = new HashValue();
 * hash.set("a", "1");
 * hash.entries(); // [["a", "1"]]
 * ```
 */
export class HashValue extends Collection {
  /** The listpack encoding's bytes; "" once a hash table (or empty). */
  #packed = "";
  #count = 0;
  /** The hashtable encoding: fields, and their values by position (off the heap). */
  #table: FieldTable | undefined = undefined;
  #values: FieldValues | undefined = undefined;
  /** Read from inline bytes (see {@link unpack}): a copy, to be stored back once changed. */
  #unpacked = false;

  /** A listpack-encoded hash from its packed bytes (see {@link packed}). */
  static unpack(packed: string): HashValue {
    const hash = new HashValue();
    hash.#unpacked = true;
    hash.#packed = packed;
    let count = 0;
    for (let at = 0; at < packed.length; count++) {
      at += 1 + packed.charCodeAt(at);
      at += 1 + packed.charCodeAt(at);
    }
    assert(count <= MAX_HASH_FIELDS, "a packed hash holds a listpack's fields");
    hash.#count = count;
    return hash;
  }

  /** Whether it was read from inline bytes: a copy, kept only if stored again. */
  get unpacked(): boolean {
    return this.#unpacked;
  }

  /** The listpack's bytes; undefined for a hash table. */
  override packed(): string | undefined {
    return this.#table === undefined ? this.#packed : undefined;
  }

  override elementMap(): FieldTable | undefined {
    return this.#table;
  }

  override touchElement(at: number): number {
    return this.#values === undefined ? 0 : this.#values.touch(at);
  }

  get typeName(): string {
    return "hash";
  }

  get snapshotType(): number {
    return SNAPSHOT_TYPE_HASH;
  }

  get length(): number {
    return this.#count;
  }

  encoding(): string {
    return this.#table === undefined ? "listpack" : "hashtable";
  }

  /** Where `field`'s entry starts in the packed form, or -1. */
  #find(field: string): number {
    const packed = this.#packed;
    const length = field.length;
    for (let at = 0; at < packed.length;) {
      const fieldLength = packed.charCodeAt(at);
      if (fieldLength === length && packed.startsWith(field, at + 1)) return at;
      at += 1 + fieldLength;
      at += 1 + packed.charCodeAt(at);
    }
    return -1;
  }

  /** The value of `field`, or undefined. */
  get(field: string): string | undefined {
    if (this.#table !== undefined) {
      const at = this.#table.positionOf(field);
      return at < 0 ? undefined : this.#values!.get(at);
    }
    const at = this.#find(field);
    if (at < 0) return undefined;
    const valueAt = at + 1 + field.length;
    return this.#packed.substr(valueAt + 1, this.#packed.charCodeAt(valueAt));
  }

  /** Whether `field` is held. */
  has(field: string): boolean {
    return this.#table !== undefined ? this.#table.has(field) : this.#find(field) >= 0;
  }

  /** Converts to a hash table if a field or value this long would not fit the listpack. */
  #fit(bytes: number): void {
    if (this.#table === undefined && bytes > listpackMaxBytes()) this.#convert();
  }

  /** Sets `field` to `value`; true if the field is new. */
  set(field: string, value: string): boolean {
    this.#fit(field.length);
    this.#fit(value.length);
    if (this.#table !== undefined) {
      // One lookup: the field's position, added if new; the value goes there.
      const place = this.#table.place(field);
      this.#values!.set(place < 0 ? -place - 1 : place, value);
      if (place >= 0) return false;
      this.#count++;
      return true;
    }
    const at = this.#find(field);
    if (at >= 0) {
      this.#splice(at, this.#entryEnd(at), field, value);
      if (this.#count > ENCODING_LIMITS.hashMaxListpackEntries) this.#convert();
      return false;
    }
    this.#splice(this.#packed.length, this.#packed.length, field, value);
    this.#count++;
    if (this.#count > ENCODING_LIMITS.hashMaxListpackEntries) this.#convert();
    return true;
  }

  /** Removes `field`; whether it was held. */
  delete(field: string): boolean {
    if (this.#table !== undefined) {
      const at = this.#table.positionOf(field);
      if (at < 0) return false;
      this.#table.delete(field);
      this.#values!.delete(at);
      this.#count--;
      return true;
    }
    const at = this.#find(field);
    if (at < 0) return false;
    this.#splice(at, this.#entryEnd(at));
    this.#count--;
    return true;
  }

  /** Every [field, value], in Redis's order for the listpack (insertion order). */
  entries(): [string, string][] {
    const out: [string, string][] = [];
    this.forEach((field, value) => {
      out.push([field, value]);
    });
    return out;
  }

  /** Calls `visit` for each field and value; stops when it returns false. */
  forEach(visit: (field: string, value: string) => boolean | void): void {
    const table = this.#table;
    if (table !== undefined) {
      for (let i = 0; i < table.positions; i++) {
        const field = table.keyAt(i);
        if (field !== undefined && visit(field, this.#values!.get(i)) === false) return;
      }
      return;
    }
    const packed = this.#packed;
    for (let at = 0; at < packed.length;) {
      const fieldLength = packed.charCodeAt(at);
      const field = packed.substr(at + 1, fieldLength);
      at += 1 + fieldLength;
      const valueLength = packed.charCodeAt(at);
      const value = packed.substr(at + 1, valueLength);
      at += 1 + valueLength;
      if (visit(field, value) === false) return;
    }
  }

  /**
   * Positions, for cursors (HSCAN, snapshot chunks, random picks): the
   * hash table's slots (holes included), or the listpack's fields.
   */
  get positions(): number {
    return this.#table !== undefined ? this.#table.positions : this.#count;
  }

  /** The field at position `at` (< {@link positions}), or undefined for a hole. */
  fieldAt(at: number): string | undefined {
    if (this.#table !== undefined) return this.#table.keyAt(at);
    let found: string | undefined;
    let i = 0;
    this.forEach((field) => {
      if (i++ === at) {
        found = field;
        return false;
      }
    });
    return found;
  }

  clone(): HashValue {
    const copy = new HashValue();
    if (this.#table === undefined) {
      copy.#packed = this.#packed;
      copy.#count = this.#count;
    } else {
      copy.#convert();
      this.forEach((field, value) => {
        copy.set(field, value);
      });
    }
    return copy;
  }

  /** Bytes the values of a hashtable-encoded hash take together (0 for a listpack). */
  get valueBytes(): number {
    return this.#values?.arenaBytes ?? 0;
  }

  memoryBytes(): number {
    if (this.#table === undefined) return 48 + this.#packed.length;
    // Per field: its bytes, its slot and position entries; the values' arena.
    const table = this.#table;
    return 64 + this.#values!.arenaBytes + HASH_FIELD_OVERHEAD_BYTES * table.size +
      table.fieldBytes;
  }

  rebuildRecords(emit: RecordSink): void {
    this.forEach((field, value) => {
      emit(WalOp.HashSet, field + value, field.length);
    });
  }

  snapshotChunk(from: number, maxBytes: number): { body: string; next: number } {
    // A listpack's positions move when a field goes: it is written whole,
    // in one chunk (at most 512 fields of 64 + 64 bytes: ~70 KB).
    if (this.#table === undefined) maxBytes = Infinity;
    const parts: string[] = [];
    let bytes = 0;
    let at = from;
    const end = this.positions;
    const table = this.#table;
    const all = table === undefined ? this.entries() : undefined;
    for (; at < end && (parts.length === 0 || bytes < maxBytes); at++) {
      const field = table !== undefined ? table.keyAt(at) : all![at][0];
      if (field === undefined) continue;
      const value = table !== undefined ? this.#values!.get(at) : all![at][1];
      parts.push(encodeLength(field.length), field, encodeLength(value.length), value);
      bytes += 8 + field.length + value.length;
    }
    return { body: parts.join(""), next: at < end ? at : -1 };
  }

  /** Adds the fields of a snapshot chunk (see {@link snapshotChunk}). */
  loadChunk(body: string): void {
    for (let at = 0; at < body.length;) {
      const fieldLength = decodeLength(body, at);
      // Copies (see applyHashSets): the body is a whole chunk.
      const field = flatString(body.substr(at + 4, fieldLength));
      at += 4 + fieldLength;
      const valueLength = decodeLength(body, at);
      assert(at + 4 + valueLength <= body.length, "a hash chunk's value fits its body");
      this.set(field, flatString(body.substr(at + 4, valueLength)));
      at += 4 + valueLength;
    }
  }

  /**
   * Replaces the packed bytes [at, end) with the entry `field`/`value` (or
   * nothing), building one flat string: concatenation would leave a tree of
   * cons strings (32 bytes a node) and slices holding on to the request's
   * strings, several times the bytes themselves.
   */
  #splice(at: number, end: number, field?: string, value = ""): void {
    const old = this.#packed;
    const added = field === undefined ? 0 : 2 + field.length + value.length;
    const length = old.length - (end - at) + added;
    const out = scratch.atLeast(length);
    for (let i = 0; i < at; i++) out[i] = old.charCodeAt(i);
    let n = at;
    if (field !== undefined) {
      out[n++] = field.length;
      for (let i = 0; i < field.length; i++) out[n++] = field.charCodeAt(i);
      out[n++] = value.length;
      for (let i = 0; i < value.length; i++) out[n++] = value.charCodeAt(i);
    }
    for (let i = end; i < old.length; i++) out[n++] = old.charCodeAt(i);
    this.#packed = bytesToBinary(out, 0, n);
  }

  #entryEnd(at: number): number {
    const valueAt = at + 1 + this.#packed.charCodeAt(at);
    return valueAt + 1 + this.#packed.charCodeAt(valueAt);
  }

  #convert(): void {
    const table = new FieldTable();
    const values = new FieldValues();
    this.forEach((field, value) => {
      const place = table.place(field);
      values.set(place < 0 ? -place - 1 : place, value);
    });
    this.#table = table;
    this.#values = values;
    this.#packed = "";
    // From now on it is kept as an object, not re-read from bytes: the
    // writer converting it stores it once (applyHashPairs decides that
    // before changing it), and later writes change it in place.
    this.#unpacked = false;
  }
}

/** A u32 length as four binary chars, little-endian (snapshot chunks). */
function encodeLength(n: number): string {
  return String.fromCharCode(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

function decodeLength(s: string, at: number): number {
  if (at + 4 > s.length) throw new RangeError("a hash chunk is cut short");
  return (s.charCodeAt(at) | (s.charCodeAt(at + 1) << 8) | (s.charCodeAt(at + 2) << 16) |
    (s.charCodeAt(at + 3) << 24)) >>> 0;
}

/**
 * Applies `HashSet` records (see `wal/record.ts`) to the hash at `key`:
 * record i sets the field of `data[i]`'s first `fieldBytes[i]` bytes to
 * the rest (replay; live writes log such records and apply the same pairs
 * through {@link applyHashPairs}, so they cannot differ). Returns how many
 * fields were new.
 *
 * @example
 * ```ts
 * applyHashSets(engine, "h", ["fv"], [1]); // 1: h.f = "v"
 * ```
 */
export function applyHashSets(
  engine: Engine,
  key: string,
  data: readonly string[],
  fieldBytes: readonly number[],
): number {
  const pairs: string[] = [];
  for (let i = 0; i < data.length; i++) {
    // Copies: a slice would keep the whole record alive, and compare slowly as a key.
    pairs.push(
      flatString(data[i].slice(0, fieldBytes[i])),
      flatString(data[i].slice(fieldBytes[i])),
    );
  }
  return applyHashPairs(engine, key, pairs, 0);
}

/**
 * Sets the hash at `key`'s field `parts[i]` to `parts[i + 1]` for i =
 * `from`, `from` + 2, ... (HSET's arguments; what `HashSet` records hold,
 * see {@link applyHashSets}), creating the hash if absent. Returns how many
 * fields were new (HSET's reply: `HSET h f 1 f 2` adds one). `read`, if
 * given, is the hash the caller has just read at `key` (see
 * `Database.changeCollectionPairs`); without it a hash held inline is
 * edited in its packed bytes.
 *
 * @example
 * ```ts
 * applyHashPairs(engine, "h", ["HSET", "h", "f", "v"], 2); // 1
 * ```
 */
export function applyHashPairs(
  engine: Engine,
  key: string,
  parts: readonly string[],
  from: number,
  read?: HashValue,
): number {
  let added = 0;
  let i = from;
  if (read === undefined) {
    // Held inline: its bytes edited where they are, pair by pair, as long
    // as each pair keeps it a listpack that fits inline — no copy unpacked,
    // spliced and stored back. redis-benchmark's HSET (one field of one
    // hash): in-process, pipelines of 16, min of 5 rounds, 720 -> 425 ns a
    // request; over TCP at -P 16, 0.58 -> 0.88 M requests/s (Redis 0.81 to
    // 1.00 M in the same runs).
    for (; i < parts.length; i += 2) {
      const set = setPackedField(engine, key, parts[i], parts[i + 1]);
      if (set < 0) break;
      added += set;
    }
    if (i === parts.length) return added;
  }
  // The command stamped the key once already (Redis looks a key up once).
  const current = read ?? engine.get(key, false);
  let hash: HashValue;
  // An object in the key table changes in place; a small hash read from its
  // inline bytes is a copy, stored back below (as is a new one).
  let store = true;
  if (current instanceof HashValue) {
    hash = current;
    store = current.unpacked;
  } else {
    // Missing, or (replaying over a newer state) another type: later records put it right.
    if (current !== undefined) engine.delete(key);
    hash = new HashValue();
  }
  for (; i < parts.length; i += 2) {
    if (hash.set(parts[i], parts[i + 1])) added++;
  }
  if (store) engine.setCollection(key, hash);
  return added;
}

/** One packed entry, built for {@link setPackedField}: `[length][field][length][value]`. */
const entryScratch = new Uint8Array(2 * (1 + 255));

/** Writes `s`'s length (one byte) and bytes into {@link entryScratch} at `at`; the index after. */
function writeEntryPart(at: number, s: string): number {
  entryScratch[at] = s.length;
  return writeBinary(s, entryScratch, at + 1);
}

/**
 * Sets `field` to `value` in the hash at `key` where it is held inline,
 * editing its packed bytes in place (see `Engine.packed`): 1 if the field
 * is new, 0 if it was there. -1, changing nothing, where the hash is not
 * held inline (or there is none) or where the change would convert it to a
 * hash table or take it past inline size: the caller then goes through a
 * {@link HashValue}, whose `set` converts by the same rules.
 */
function setPackedField(engine: Engine, key: string, field: string, value: string): number {
  const max = listpackMaxBytes();
  if (field.length > max || value.length > max) return -1;
  const view = engine.packed(key, SNAPSHOT_TYPE_HASH, false);
  if (view === undefined) return -1;
  const { bytes, start, length } = view;
  const limit = ENCODING_LIMITS.hashMaxListpackEntries;
  // Every entry takes at least 2 bytes: below this the count cannot pass
  // the limit, which HashValue.set checks after an update too.
  const mustCount = length >>> 1 > limit;
  let count = 0;
  let found = -1;
  // Fields of one length often differ only at the end: the last byte first.
  const last = field.length === 0 ? 0 : field.charCodeAt(field.length - 1);
  for (let at = start; at < start + length; count++) {
    const fieldLength = bytes[at];
    if (
      found < 0 && fieldLength === field.length &&
      (fieldLength === 0 || bytes[at + fieldLength] === last) && binaryEquals(bytes, at + 1, field)
    ) {
      found = at;
      if (!mustCount) break;
    }
    at += 1 + fieldLength;
    at += 1 + bytes[at];
  }
  if (found >= 0) {
    if (mustCount && count > limit) return -1;
    const valueAt = found + 1 + field.length;
    const oldLength = bytes[valueAt];
    if (length - oldLength + value.length > INLINE_MAX_BYTES) return -1;
    const n = writeEntryPart(0, value);
    engine.splicePacked(key, valueAt - start, valueAt + 1 + oldLength - start, entryScratch, n);
    return 0;
  }
  if (count + 1 > limit || length + 2 + field.length + value.length > INLINE_MAX_BYTES) return -1;
  const n = writeEntryPart(writeEntryPart(0, field), value);
  engine.splicePacked(key, length, length, entryScratch, n);
  return 1;
}

/**
 * Applies `HashDel` records: removes fields, and the key with its last.
 *
 * @example
 * ```ts
 * applyHashDels(engine, "h", ["f"]);
 * ```
 */
export function applyHashDels(engine: Engine, key: string, fields: readonly string[]): void {
  let hash = engine.getOrPacked(key, SNAPSHOT_TYPE_HASH, false);
  if (hash === engine.packedView) {
    // Held inline: each field's entry cut out of the bytes where they are.
    const i = editPacked(engine, key, fields, fields.length, hash, removePackedField);
    if (i === fields.length) return;
    fields = fields.slice(i);
    hash = engine.get(key, false);
  }
  if (!(hash instanceof HashValue)) return;
  let deleted = false;
  for (const field of fields) if (hash.delete(field)) deleted = true;
  if (!deleted) return;
  if (hash.length === 0) engine.delete(key);
  else if (hash.unpacked) engine.setCollection(key, hash);
}
