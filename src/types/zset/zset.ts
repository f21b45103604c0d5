/**
 * The sorted-set type: members (binary strings) ordered by score (a double,
 * never NaN), then by member bytes, in Redis's two encodings.
 *
 * - `listpack` while small (at most `zset-max-listpack-entries` members,
 *   each at most `zset-max-listpack-value` bytes; see `ENCODING_LIMITS`):
 *   one binary string of `[member length: 2 bytes][member][score: 8 bytes]`
 *   per member in order, scanned linearly as Redis scans its listpack. Held
 *   inline in the key table (inline type {@link SNAPSHOT_TYPE_ZSET}).
 * - `skiplist` past either limit (never back, as in Redis): a
 *   {@link ZsetTable} (members in a byte arena, scores in a `Float64Array`,
 *   a hash index and an order-statistic tree of slots, all off the heap).
 *
 * @example
 * ```ts
 * const zset = new ZsetValue();
 * zset.set("a", 1); // true: new
 * zset.score("a"); // 1
 * zset.encoding(); // "listpack"
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";
import { bytesToBinary, writeBinary } from "../../bytes/binary_string.ts";
import { ScratchBytes } from "../../bytes/scratch_bytes.ts";
import { Collection, type RecordSink } from "../collection.ts";
import { ENCODING_LIMITS } from "../encoding_limits.ts";
import { WalOp } from "../../wal/record.ts";
import type { Engine, PackedView } from "../../storage/engine.ts";
import { ZsetTable } from "./_zset_table.ts";
import { decodeScore, encodeScore, writeScoreBytes } from "./score.ts";
import { removePackedMember, setPackedScore } from "./_packed_zset.ts";
import { editPacked } from "../_packed_edits.ts";

/** The snapshot entry type (and inline type) of a sorted set. */
export const SNAPSHOT_TYPE_ZSET = 4;
/**
 * Most members one sorted set holds: kvdb refuses a new member past this
 * (Redis's limit is 2^64); a table's typed arrays are sized well within
 * their limits for it (the index's buckets: 2^25 Int32s).
 */
export const MAX_ZSET_MEMBERS = 16_000_000;
/** Longest member of the packed form (its length takes 2 bytes). */
const PACKED_MAX_MEMBER_BYTES = 0xffff;

/** Where packed strings are built. */
const scratch = new ScratchBytes();

/** Whether (s1, m1) sorts before (s2, m2). */
function before(s1: number, m1: string, s2: number, m2: string): boolean {
  return s1 < s2 || (s1 === s2 && m1 < m2);
}

/**
 * What reading commands need of a sorted set: {@link ZsetValue}, or a
 * `PackedZset` reading one held inline where its bytes lie (no copy).
 *
 * @example
 * ```ts
 * const zset: ZsetReader = new ZsetValue();
 * zset.walk(0, false, (member, score) => true);
 * ```
 */
export interface ZsetReader {
  /** Its members. */
  readonly length: number;
  /** Positions for cursors and random picks (see {@link ZsetValue.positions}). */
  readonly positions: number;
  /** What OBJECT ENCODING answers: "listpack" or "skiplist". */
  encoding(): string;
  /** The score of `member`, or undefined. */
  score(member: string): number | undefined;
  /** The 0-based rank of `member` (ascending), or undefined. */
  rank(member: string): number | undefined;
  /**
   * Members with their scores from `rank` up (or down) while `visit`
   * returns true; `visit` must not walk a sorted set itself (a packed
   * one's reverse walk keeps its entries' starts in a shared array).
   */
  walk(rank: number, reverse: boolean, visit: (member: string, score: number) => boolean): void;
  /** How many members from the lowest satisfy `isBefore` (a prefix of the order). */
  countBefore(isBefore: (score: number, member: string) => boolean): number;
  /** {@link countBefore} for a test of scores alone. */
  countBeforeScore(isBefore: (score: number) => boolean): number;
  /** The member at position `at`, or undefined for a hole. */
  memberAt(at: number): string | undefined;
  /** Every member in order with its score. */
  entries(): [string, number][];
}

/**
 * A sorted-set value (see the module doc).
 *
 * @example
 * ```ts
 * const zset = new ZsetValue();
 * zset.set("b", 2);
 * zset.set("a", 2);
 * zset.rank("b"); // 1
 * ```
 */
export class ZsetValue extends Collection implements ZsetReader {
  /** The listpack encoding's bytes; "" once a table (or empty). */
  #packed = "";
  #count = 0;
  #table: ZsetTable | undefined = undefined;
  #unpacked = false;

  /** A listpack-encoded sorted set from its packed bytes (see {@link packed}). */
  static unpack(packed: string): ZsetValue {
    const zset = new ZsetValue();
    zset.#unpacked = true;
    zset.#packed = packed;
    let count = 0;
    for (let at = 0; at < packed.length; count++) {
      at += 10 + (packed.charCodeAt(at) | (packed.charCodeAt(at + 1) << 8));
    }
    zset.#count = count;
    return zset;
  }

  /** Whether it was read from inline bytes: a copy, kept only if stored again. */
  get unpacked(): boolean {
    return this.#unpacked;
  }

  override packed(): string | undefined {
    return this.#table === undefined ? this.#packed : undefined;
  }

  get typeName(): string {
    return "zset";
  }

  get snapshotType(): number {
    return SNAPSHOT_TYPE_ZSET;
  }

  get length(): number {
    return this.#count;
  }

  encoding(): string {
    return this.#table === undefined ? "listpack" : "skiplist";
  }

  /**
   * A skiplist's member index: pipelined ZADDs prefetch their member there
   * (perf samples of the server under redis-benchmark -P 16 -r 100000
   * ZADD, one sorted set of 100k members: the member's lookup, index and
   * compare, 14% -> 7% of the process's; in-process, where the index stays
   * in cache, ZADD 968 -> 1016 ns: the prefetch is paid for only by misses).
   */
  override elementMap(): ZsetTable | undefined {
    return this.#table;
  }

  /** Prefetching: the score a write to slot `at` compares (see `Collection.touchElement`). */
  override touchElement(at: number): number {
    return this.#table === undefined ? 0 : this.#table.touchScore(at);
  }

  /**
   * Makes a listpack sorted set a skiplist (contents unchanged): what SORT
   * does to the sorted set it reads, in Redis 7.0, before anything else.
   */
  toSkiplist(): void {
    if (this.#table === undefined) this.#convert();
  }

  /** Where `member`'s packed entry starts, or -1. */
  #find(member: string): number {
    const packed = this.#packed;
    const length = member.length;
    // Members of one length often differ only at the end (ids): the last byte first.
    const last = length === 0 ? 0 : member.charCodeAt(length - 1);
    for (let at = 0; at < packed.length;) {
      const memberLength = packed.charCodeAt(at) | (packed.charCodeAt(at + 1) << 8);
      if (
        memberLength === length && (length === 0 || packed.charCodeAt(at + 1 + length) === last) &&
        packed.startsWith(member, at + 2)
      ) {
        return at;
      }
      at += 10 + memberLength;
    }
    return -1;
  }

  /** The score of `member`, or undefined. */
  score(member: string): number | undefined {
    if (this.#table !== undefined) return this.#table.score(member);
    const at = this.#find(member);
    return at < 0 ? undefined : decodeScore(this.#packed, at + 2 + member.length);
  }

  /**
   * Sets `member`'s score (not NaN); true if the member is new. An equal
   * score (0 and -0 alike) changes nothing, as in Redis.
   */
  set(member: string, score: number): boolean {
    if (this.#table !== undefined) {
      const added = this.#table.set(member, score);
      if (added) this.#count++;
      return added;
    }
    const at = this.#find(member);
    if (at >= 0) {
      if (decodeScore(this.#packed, at + 2 + member.length) === score) return false;
      this.#splice(at, at + 10 + member.length);
      this.#insertPacked(member, score);
      return false;
    }
    if (!this.#fitsPacked(this.#count + 1, member)) {
      this.#convert();
      this.#table!.set(member, score);
    } else {
      this.#insertPacked(member, score);
    }
    this.#count++;
    return true;
  }

  /**
   * Sets `members[i]`'s score to `scores[i]`, in order: what {@link set}
   * does member by member, but a listpack is decoded and packed once, not
   * rewritten once per member: redis-benchmark -P 16 ZADD of 10 members to
   * 100k sorted sets growing to ~50, 20–33k → 33–41k requests/s (with the
   * key table's growth slack, 46–50k; Redis 110k).
   */
  setAll(members: readonly string[], scores: readonly number[]): void {
    let i = 0;
    if (members.length > 1 && this.#table === undefined) {
      const held: string[] = [];
      const heldScores: number[] = [];
      this.walk(0, false, (member, score) => {
        held.push(member);
        heldScores.push(score);
        return true;
      });
      // Stops at the first member that makes it a skiplist; set() goes on from there.
      for (; i < members.length; i++) {
        const member = members[i];
        // Redis's listpack keeps -0 as 0 (its skiplist keeps -0).
        const score = scores[i] === 0 ? 0 : scores[i];
        const at = indexOfMember(held, member);
        if (at >= 0) {
          if (heldScores[at] === score) continue;
          held.splice(at, 1);
          heldScores.splice(at, 1);
        } else if (!this.#fitsPacked(held.length + 1, member)) {
          break;
        }
        let to = 0;
        while (to < held.length && !before(score, member, heldScores[to], held[to])) to++;
        held.splice(to, 0, member);
        heldScores.splice(to, 0, score);
      }
      this.#packed = packEntries(held, heldScores);
      this.#count = held.length;
    }
    for (; i < members.length; i++) this.set(members[i], scores[i]);
  }

  /** Removes `member`; whether it was held. */
  delete(member: string): boolean {
    if (this.#table !== undefined) {
      const deleted = this.#table.delete(member);
      if (deleted) this.#count--;
      return deleted;
    }
    const at = this.#find(member);
    if (at < 0) return false;
    this.#splice(at, at + 10 + member.length);
    this.#count--;
    return true;
  }

  /** The 0-based rank of `member` (ascending), or undefined. */
  rank(member: string): number | undefined {
    if (this.#table !== undefined) return this.#table.rank(member);
    let rank = 0;
    let found: number | undefined;
    this.walk(0, false, (m) => {
      if (m === member) {
        found = rank;
        return false;
      }
      rank++;
      return true;
    });
    return found;
  }

  /**
   * How many members satisfy `isBefore`, which must hold for a prefix of
   * the order (e.g. "score below the range"): the rank where the rest starts.
   */
  countBefore(isBefore: (score: number, member: string) => boolean): number {
    if (this.#table !== undefined) return this.#table.countBefore(isBefore);
    return this.#countPacked(isBefore);
  }

  /** {@link countBefore} for a test of scores alone (no member is made for it). */
  countBeforeScore(isBefore: (score: number) => boolean): number {
    if (this.#table !== undefined) return this.#table.countBeforeScore(isBefore);
    return this.#countPacked(isBefore);
  }

  #countPacked(isBefore: (score: number, member: string) => boolean): number {
    let n = 0;
    this.walk(0, false, (member, score) => {
      if (!isBefore(score, member)) return false;
      n++;
      return true;
    });
    return n;
  }

  /**
   * Visits members with their scores from `rank` up (or down, `reverse`)
   * until `visit` returns false or the end. Nothing for a rank out of range.
   */
  walk(rank: number, reverse: boolean, visit: (member: string, score: number) => boolean): void {
    if (rank < 0 || rank >= this.#count) return;
    if (this.#table !== undefined) {
      this.#table.walk(rank, reverse, visit);
      return;
    }
    const packed = this.#packed;
    if (reverse) {
      // Entries are variable-length: find the starts first (at most a listpack's worth).
      const starts: number[] = [];
      for (let at = 0, i = 0; i <= rank; i++) {
        starts.push(at);
        at += 10 + (packed.charCodeAt(at) | (packed.charCodeAt(at + 1) << 8));
      }
      for (let i = rank; i >= 0; i--) {
        const at = starts[i];
        const length = packed.charCodeAt(at) | (packed.charCodeAt(at + 1) << 8);
        if (!visit(packed.substr(at + 2, length), decodeScore(packed, at + 2 + length))) return;
      }
      return;
    }
    let i = 0;
    for (let at = 0; at < packed.length; i++) {
      const length = packed.charCodeAt(at) | (packed.charCodeAt(at + 1) << 8);
      if (i >= rank) {
        if (!visit(packed.substr(at + 2, length), decodeScore(packed, at + 2 + length))) return;
      }
      at += 10 + length;
    }
  }

  /** Every member in order with its score. */
  entries(): [string, number][] {
    const out: [string, number][] = [];
    this.walk(0, false, (member, score) => {
      out.push([member, score]);
      return true;
    });
    return out;
  }

  /**
   * Positions, for cursors (ZSCAN, snapshot chunks, random picks): the
   * table's slots (holes included), or the listpack's ranks.
   */
  get positions(): number {
    return this.#table !== undefined ? this.#table.positions : this.#count;
  }

  /** The member at position `at` (< {@link positions}), or undefined for a hole. */
  memberAt(at: number): string | undefined {
    if (this.#table !== undefined) return this.#table.memberAt(at);
    let found: string | undefined;
    this.walk(at, false, (member) => {
      found = member;
      return false;
    });
    return found;
  }

  clone(): ZsetValue {
    const copy = new ZsetValue();
    if (this.#table === undefined) {
      copy.#packed = this.#packed;
      copy.#count = this.#count;
    } else {
      copy.#convert();
      this.walk(0, false, (member, score) => {
        copy.set(member, score);
        return true;
      });
    }
    return copy;
  }

  memoryBytes(): number {
    if (this.#table === undefined) return 48 + this.#packed.length;
    // Per member as `admin/_collection_memory.ts` samples it (a walk: SAMPLES 0 counts every member).
    const table = this.#table;
    let bytes = 96;
    for (let at = 0; at < table.positions; at++) {
      if (!Number.isNaN(table.scoreAt(at))) bytes += 48 + table.memberLength(at);
    }
    return bytes;
  }

  override sortInput(): string[] {
    const out: string[] = [];
    this.walk(0, false, (member) => {
      out.push(member);
      return true;
    });
    return out;
  }

  rebuildRecords(emit: RecordSink): void {
    this.walk(0, false, (member, score) => {
      emit(WalOp.ZsetAdd, encodeScore(score) + member, 0);
      return true;
    });
  }

  snapshotChunk(from: number, maxBytes: number): { body: string; next: number } {
    const parts: string[] = [];
    const table = this.#table;
    if (table === undefined) {
      // A listpack's positions move when a member goes: written whole (~10 KB).
      this.walk(0, false, (member, score) => {
        parts.push(encodeLength(member.length), member, encodeScore(score));
        return true;
      });
      return { body: parts.join(""), next: -1 };
    }
    let bytes = 0;
    let at = from;
    const end = table.positions;
    for (; at < end && (parts.length === 0 || bytes < maxBytes); at++) {
      const member = table.memberAt(at);
      if (member === undefined) continue;
      parts.push(encodeLength(member.length), member, encodeScore(table.scoreAt(at)));
      bytes += 12 + member.length;
    }
    return { body: parts.join(""), next: at < end ? at : -1 };
  }

  loadChunk(body: string): void {
    for (let at = 0; at < body.length;) {
      if (at + 4 > body.length) throw new RangeError("a sorted-set chunk is cut short");
      const length = (body.charCodeAt(at) | (body.charCodeAt(at + 1) << 8) |
        (body.charCodeAt(at + 2) << 16) | (body.charCodeAt(at + 3) << 24)) >>> 0;
      if (at + 12 + length > body.length) throw new RangeError("a sorted-set chunk is cut short");
      const member = body.substr(at + 4, length);
      this.set(member, decodeScore(body, at + 4 + length));
      at += 12 + length;
    }
  }

  /** Whether a listpack of `count` members, `member` among them, stays one. */
  #fitsPacked(count: number, member: string): boolean {
    return count <= ENCODING_LIMITS.zsetMaxListpackEntries &&
      member.length <= ENCODING_LIMITS.zsetMaxListpackValue &&
      member.length <= PACKED_MAX_MEMBER_BYTES;
  }

  /** Inserts a new packed entry where (score, member) sorts. */
  #insertPacked(member: string, score: number): void {
    // Redis's listpack keeps -0 as 0 (its skiplist keeps -0).
    if (score === 0) score = 0;
    const packed = this.#packed;
    let at = 0;
    while (at < packed.length) {
      const length = packed.charCodeAt(at) | (packed.charCodeAt(at + 1) << 8);
      const s = decodeScore(packed, at + 2 + length);
      if (before(score, member, s, s === score ? packed.substr(at + 2, length) : "")) break;
      at += 10 + length;
    }
    this.#splice(at, at, member, score);
  }

  /**
   * Replaces the packed bytes [at, end) with the entry `member`/`score` (or
   * nothing), building one flat string (see `HashValue`'s splice: no cons
   * strings, no slices of requests kept alive).
   */
  #splice(at: number, end: number, member?: string, score = 0): void {
    const old = this.#packed;
    const added = member === undefined ? 0 : 10 + member.length;
    const out = scratch.atLeast(old.length - (end - at) + added);
    for (let i = 0; i < at; i++) out[i] = old.charCodeAt(i);
    let n = member === undefined ? at : writeEntry(out, at, member, score);
    for (let i = end; i < old.length; i++) out[n++] = old.charCodeAt(i);
    this.#packed = bytesToBinary(out, 0, n);
  }

  #convert(): void {
    const table = new ZsetTable();
    this.walk(0, false, (member, score) => {
      table.set(member, score);
      return true;
    });
    this.#table = table;
    this.#packed = "";
    // Kept as an object from now on, not re-read from bytes: the writer
    // converting a copy stores it once (applyZsetScores decides that before
    // changing it), and later writes change it in place. Left set, every
    // later ZADD, ZREM and ZPOPMIN of a sorted set once read inline stored
    // it again — a key lookup and a memory estimate (five sampled members,
    // each made a string) more per write. Measured in process (process CPU
    // per command over redis-benchmark's shapes with -r 100000, pipelines
    // of 16 prefetched, 3 alternating rounds, min/median): ZADD 1897/2342
    // → 1619/1693 ns, ZPOPMIN 432/519 → 389/488 ns.
    this.#unpacked = false;
  }
}

/**
 * `list.indexOf(member)`, comparing lengths and last bytes before whole
 * strings (members of one length often differ only at the end).
 */
function indexOfMember(list: readonly string[], member: string): number {
  const length = member.length;
  const last = length === 0 ? 0 : member.charCodeAt(length - 1);
  for (let i = 0; i < list.length; i++) {
    const held = list[i];
    if (held.length === length && (length === 0 || held.charCodeAt(length - 1) === last)) {
      if (held === member) return i;
    }
  }
  return -1;
}

/**
 * Writes one packed entry (u16 length, member, score's 8 bytes) at `at`
 * of `out`; the offset after it. (`_packed_zset.ts` writes entries in the
 * key table's bytes with it too.)
 */
export function writeEntry(out: Uint8Array, at: number, member: string, score: number): number {
  out[at] = member.length & 0xff;
  out[at + 1] = member.length >>> 8;
  return writeScoreBytes(score, out, writeBinary(member, out, at + 2));
}

/** The packed bytes of `members` with their `scores`, in that order. */
function packEntries(members: readonly string[], scores: readonly number[]): string {
  let length = 0;
  for (let i = 0; i < members.length; i++) length += 10 + members[i].length;
  const out = scratch.atLeast(length);
  let n = 0;
  for (let i = 0; i < members.length; i++) n = writeEntry(out, n, members[i], scores[i]);
  return bytesToBinary(out, 0, n);
}

/** A u32 length as four binary chars, little-endian (snapshot chunks). */
function encodeLength(n: number): string {
  return String.fromCharCode(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

/**
 * Applies `ZsetAdd` records (see `wal/record.ts`) to the sorted set at
 * `key`: each `data[i]` is a score's 8 bytes then the member. Live writes
 * and replay both come here, so they cannot differ.
 *
 * @example
 * ```ts
 * applyZsetAdds(engine, "z", [encodeScore(1) + "m"]);
 * ```
 */
export function applyZsetAdds(engine: Engine, key: string, data: readonly string[]): void {
  const members: string[] = [];
  const scores: number[] = [];
  for (const item of data) {
    assert(item.length >= 8, "a ZsetAdd record holds a score");
    members.push(flatCopy(item, 8));
    scores.push(decodeScore(item, 0));
  }
  applyZsetScores(engine, key, members, scores);
}

/**
 * `s` from `start` as a string of its own: a slice of a record would keep
 * the whole record alive (and cost a slice header) for as long as the member.
 */
function flatCopy(s: string, start: number): string {
  const length = s.length - start;
  const out = scratch.atLeast(length);
  for (let i = 0; i < length; i++) out[i] = s.charCodeAt(start + i);
  return bytesToBinary(out, 0, length);
}

/**
 * Sets `members[i]`'s score to `scores[i]` in the sorted set at `key`, in
 * order: what `ZsetAdd` records do (see {@link applyZsetAdds}), for a
 * command that has its members and scores at hand.
 *
 * @example
 * ```ts
 * applyZsetScores(engine, "z", ["m"], [1]);
 * ```
 */
export function applyZsetScores(
  engine: Engine,
  key: string,
  members: readonly string[],
  scores: readonly number[],
): void {
  let current = engine.getOrPacked(key, SNAPSHOT_TYPE_ZSET);
  if (current === engine.packedView) {
    // One member of a sorted set held inline: its entry moved in the bytes.
    const view = current as PackedView;
    if (members.length === 1 && setPackedScore(engine, key, members[0], scores[0], view) >= 0) {
      return;
    }
    current = engine.get(key);
  }
  let zset: ZsetValue;
  // An object in the key table changes in place; one read from its inline
  // bytes is a copy, stored back below (as is a new one).
  let store = true;
  if (current instanceof ZsetValue) {
    zset = current;
    store = current.unpacked;
  } else {
    // Missing, or (replaying over a newer state) another type: later records put it right.
    if (current !== undefined) engine.delete(key);
    zset = new ZsetValue();
  }
  zset.setAll(members, scores);
  if (store) engine.setCollection(key, zset);
}

/**
 * Applies `ZsetRem` records: removes members, and the key with its last.
 *
 * @example
 * ```ts
 * applyZsetRems(engine, "z", ["m"]);
 * ```
 */
export function applyZsetRems(engine: Engine, key: string, members: readonly string[]): void {
  let zset = engine.getOrPacked(key, SNAPSHOT_TYPE_ZSET, false);
  if (zset === engine.packedView) {
    // Held inline: each member's entry cut out of the bytes where they are.
    const i = editPacked(engine, key, members, members.length, zset, removePackedMember);
    if (i === members.length) return;
    members = members.slice(i);
    zset = engine.get(key, false);
  }
  if (!(zset instanceof ZsetValue)) return;
  let deleted = false;
  for (const member of members) if (zset.delete(member)) deleted = true;
  if (!deleted) return;
  if (zset.length === 0) engine.delete(key);
  else if (zset.unpacked) engine.setCollection(key, zset);
}
