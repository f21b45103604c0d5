/**
 * The set type: distinct binary-string members, in Redis 7.0's two
 * encodings (OBJECT ENCODING's answer) — `intset` while every member is an
 * integer (the string round-trips a signed 64-bit integer exactly, see
 * {@link isIntegerMember}) and there are at most `set-max-intset-entries`
 * of them, else `hashtable` (never back, as in Redis; 7.0 has no listpack
 * sets). An intset is kept in ascending numeric order, the order Redis
 * answers it in.
 *
 * How a set is held is a separate choice from what it answers, so that
 * small sets are compact and big ones cost Redis's complexity:
 *
 * - packed, up to {@link SET_PACKED_MAX_MEMBERS} members of at most
 *   {@link SET_PACKED_MAX_MEMBER_BYTES} bytes: one binary string of
 *   `[length][member]` per member (numeric order for an intset, insertion
 *   order for a hashtable), held inline in the key table — no object per
 *   key, what keeps a million small sets cheap;
 * - a sorted array for a bigger intset (binary search; an insertion moves
 *   the tail, as Redis's intset does);
 * - a member table for a bigger hashtable: a dense array of members and an
 *   open-addressing index of their places. A removal moves the last member
 *   into the hole, so a random member (SPOP, SRANDMEMBER) is one index away.
 *   Cursors (SSCAN, snapshot chunks) walk that array from the top down:
 *   a removal only moves a member downwards from the top, into the part not
 *   yet walked or within the part walked, so a member present throughout a
 *   walk is visited at least once.
 *
 * @example
 * ```ts
 * const set = new SetValue();
 * set.add("2"); // true
 * set.add("1");
 * set.members(); // ["1", "2"]
 * set.encoding(); // "intset"
 * set.add("a");
 * set.encoding(); // "hashtable"
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";
import { bytesToBinary, writeBinary } from "../../bytes/binary_string.ts";
import { ScratchBytes } from "../../bytes/scratch_bytes.ts";
import { Collection, type RecordSink } from "../collection.ts";
import { ENCODING_LIMITS } from "../encoding_limits.ts";
import { WalOp } from "../../wal/record.ts";
import type { Engine } from "../../storage/engine.ts";
import { MemberTable } from "./_member_table.ts";
import { addPackedMember, removePackedMember } from "./_packed_set.ts";
import { editPacked } from "../_packed_edits.ts";

/** The snapshot entry type (and inline type) of a set. */
export const SNAPSHOT_TYPE_SET = 3;
/** Most members of a set held packed (one string); a header byte holds the count. */
export const SET_PACKED_MAX_MEMBERS = 128;
/** Longest member (bytes) of a set held packed; its length fits one byte. */
export const SET_PACKED_MAX_MEMBER_BYTES = 64;
/**
 * Most members one set holds: a V8 `Map` holds at most 2^24 entries; kvdb
 * refuses a new member past this (Redis's limit is 2^32).
 */
export const MAX_SET_MEMBERS = 16_000_000;
/** Redis caps set-max-intset-entries at 2^30 ("intset internals"). */
const INTSET_HARD_MAX_ENTRIES = 1 << 30;

/** Numeric field of a `SetAdd` record: the set is a hashtable from this record on. */
export const SET_ADD_AS_HASHTABLE = 1;
/** Numeric field of a `SetRem` record: after it the set is rebuilt, encoded by its contents. */
export const SET_REM_REBUILD = 1;

/** Where packed strings are built. */
const scratch = new ScratchBytes();

/**
 * Whether `s` is what Redis stores in an intset: the decimal text of a
 * signed 64-bit integer exactly as Redis writes it (no sign but a leading
 * minus, no leading zero, no "-0", no spaces).
 *
 * @example
 * ```ts
 * isIntegerMember("-12"); // true
 * isIntegerMember("012"); // false
 * ```
 */
export function isIntegerMember(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20) return false;
  let i = 0;
  const first = s.charCodeAt(0);
  if (first === 48) return n === 1; // "0"
  if (first === 45) {
    if (n === 1) return false;
    i = 1;
  }
  const lead = s.charCodeAt(i);
  if (lead < 49 || lead > 57) return false;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return false;
  }
  const digits = n - i;
  if (digits !== 19) return digits < 19;
  const limit = i === 1 ? "9223372036854775808" : "9223372036854775807";
  for (let j = 0; j < 19; j++) {
    const d = s.charCodeAt(i + j) - limit.charCodeAt(j);
    if (d !== 0) return d < 0;
  }
  return true;
}

/**
 * Numeric order of two {@link isIntegerMember} strings, without parsing
 * them: sign, then digit count, then digits.
 *
 * @example
 * ```ts
 * compareIntegers("-5", "3") < 0; // true
 * ```
 */
export function compareIntegers(a: string, b: string): number {
  const negative = a.charCodeAt(0) === 45;
  if (negative !== (b.charCodeAt(0) === 45)) return negative ? -1 : 1;
  const order = a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
  return negative ? 0 - order : order;
}

/** {@link SetValue.addAll}'s flags when none is set. */
const NO_FLAGS: readonly number[] = [];

/** The current most members of an intset (set-max-intset-entries, capped as Redis does). */
export function intsetMaxEntries(): number {
  return Math.min(ENCODING_LIMITS.setMaxIntsetEntries, INTSET_HARD_MAX_ENTRIES);
}

/**
 * A set value (see the module doc).
 *
 * @example
 * ```ts
 * const set = new SetValue();
 * set.add("a");
 * set.has("a"); // true
 * ```
 */
export class SetValue extends Collection {
  /** OBJECT ENCODING answers "hashtable" (else "intset"). */
  #hashtable = false;
  /** The packed members (see the module doc) while neither array form is used. */
  #packed = "";
  #count = 0;
  /** A big intset's members in numeric order. */
  #sorted: string[] | undefined = undefined;
  /** A big hashtable's members. */
  #table: MemberTable | undefined = undefined;
  /** Read from inline bytes (see {@link unpack}): a copy, to be stored back once changed. */
  #unpacked = false;
  /**
   * Where the last snapshot chunk stopped and the set's size then: a walk
   * goes on from there, the set unchanged in between (point-in-time
   * snapshots write the rest of a value before it changes).
   */
  #chunkEnd: { next: number; length: number } | undefined = undefined;

  /**
   * A set from its packed bytes (see {@link packed}): a header byte (1: a
   * hashtable), a count byte, then the members.
   */
  static unpack(packed: string): SetValue {
    const set = new SetValue();
    set.#unpacked = true;
    set.#hashtable = packed.charCodeAt(0) === 1;
    set.#count = packed.charCodeAt(1);
    set.#packed = packed.slice(2);
    assert(set.#count <= SET_PACKED_MAX_MEMBERS, "a packed set holds few members");
    return set;
  }

  /**
   * A new set of `members` (distinct), encoded as Redis encodes a set it
   * builds by adding them one by one (SUNIONSTORE...): a hashtable if
   * `hashtable` or if the members ask for one.
   */
  static of(members: readonly string[], hashtable = false): SetValue {
    const set = new SetValue();
    if (hashtable) set.convertToHashtable();
    set.addAll(members, NO_FLAGS, true);
    return set;
  }

  /** Whether it was read from inline bytes: a copy, kept only if stored again. */
  get unpacked(): boolean {
    return this.#unpacked;
  }

  /** The packed form with its header; undefined when held as an array form. */
  override packed(): string | undefined {
    if (this.#table !== undefined || this.#sorted !== undefined) return undefined;
    return String.fromCharCode(this.#hashtable ? 1 : 0, this.#count) + this.#packed;
  }

  override sortInput(): string[] {
    return this.members();
  }

  override elementMap(): MemberTable | undefined {
    return this.#table;
  }

  get typeName(): string {
    return "set";
  }

  get snapshotType(): number {
    return SNAPSHOT_TYPE_SET;
  }

  get length(): number {
    return this.#count;
  }

  encoding(): string {
    return this.#hashtable ? "hashtable" : "intset";
  }

  /** Whether OBJECT ENCODING says "hashtable". */
  get isHashtable(): boolean {
    return this.#hashtable;
  }

  /** Whether `member` is held. */
  has(member: string): boolean {
    if (this.#table !== undefined) return this.#table.has(member);
    if (!this.#hashtable && !isIntegerMember(member)) return false;
    if (this.#sorted !== undefined) return this.#search(member) >= 0;
    return this.#find(member) >= 0;
  }

  /** Adds `member`; true if it is new. */
  add(member: string): boolean {
    const table = this.#table;
    if (table !== undefined) {
      if (!table.add(member)) return false;
      this.#count++;
      return true;
    }
    if (!this.#hashtable) {
      if (!isIntegerMember(member)) {
        this.convertToHashtable();
        return this.add(member);
      }
      if (!this.#addInteger(member)) return false;
      this.#count++;
      if (this.#count > intsetMaxEntries()) this.convertToHashtable();
      else if (this.#sorted === undefined && this.#count > SET_PACKED_MAX_MEMBERS) this.#toSorted();
      return true;
    }
    if (this.#find(member) >= 0) return false;
    if (this.#count >= SET_PACKED_MAX_MEMBERS || member.length > SET_PACKED_MAX_MEMBER_BYTES) {
      this.#toTable();
      this.#table!.add(member);
    } else {
      this.#splice(this.#packed.length, this.#packed.length, member);
    }
    this.#count++;
    return true;
  }

  /**
   * Adds `members` in order, first making the set a hashtable where
   * `flags[i]` is {@link SET_ADD_AS_HASHTABLE} (a `SetAdd` record's flag; a
   * flag past the end of `flags` is none):
   * what {@link add} does member by member, but a packed set is decoded
   * and packed once, not rewritten once per member: redis-benchmark -P 16
   * SADD of 10 members to 100k sets growing to ~50 members, 52k → 60–69k
   * requests/s (with the key table's growth slack, 79–83k; Redis 131k).
   * `distinct`: the caller knows `members` are distinct and none is held,
   * so none is searched for (a set built at once: {@link SetValue.of}).
   */
  addAll(members: readonly string[], flags: readonly number[], distinct = false): void {
    let i = 0;
    if (members.length > 1 && this.#table === undefined && this.#sorted === undefined) {
      // An intset's members while inserting in order (decoded at its first insert).
      let list: string[] | undefined;
      // A hashtable's new members, to go after its packed ones.
      const appended: string[] = [];
      // Stops at the first member that takes the set out of the packed
      // form; add() goes on from there.
      for (; i < members.length; i++) {
        const member = members[i];
        if (
          !this.#hashtable && (flags[i] === SET_ADD_AS_HASHTABLE || !isIntegerMember(member))
        ) {
          // A packed set becomes a hashtable by its flag alone (its order is kept).
          if (list !== undefined) this.#setPacked(list);
          list = undefined;
          this.#hashtable = true;
        }
        if (this.#hashtable) {
          if (
            !distinct && (findPacked(this.#packed, member) >= 0 || appended.includes(member))
          ) {
            continue;
          }
          if (
            this.#count + appended.length >= SET_PACKED_MAX_MEMBERS ||
            member.length > SET_PACKED_MAX_MEMBER_BYTES
          ) {
            break;
          }
          appended.push(member);
          continue;
        }
        list ??= this.members();
        let at = 0;
        while (at < list.length && compareIntegers(list[at], member) < 0) at++;
        if (at < list.length && list[at] === member) continue;
        if (list.length >= SET_PACKED_MAX_MEMBERS) break;
        list.splice(at, 0, member);
        if (list.length > intsetMaxEntries()) {
          this.#setPacked(list);
          list = undefined;
          this.#hashtable = true;
        }
      }
      if (list !== undefined) this.#setPacked(list);
      if (appended.length > 0) {
        this.#packed = packMembers(appended, this.#packed);
        this.#count += appended.length;
      }
    }
    for (; i < members.length; i++) {
      if (flags[i] === SET_ADD_AS_HASHTABLE) this.convertToHashtable();
      this.add(members[i]);
    }
  }

  /** Holds `members` (distinct, in packed order) packed. */
  #setPacked(members: readonly string[]): void {
    this.#packed = packMembers(members);
    this.#count = members.length;
  }

  /** Removes `member`; whether it was held. */
  delete(member: string): boolean {
    if (this.#table !== undefined) {
      if (!this.#table.delete(member)) return false;
    } else if (!this.#hashtable && !isIntegerMember(member)) {
      return false;
    } else if (this.#sorted !== undefined) {
      const at = this.#search(member);
      if (at < 0) return false;
      this.#sorted.splice(at, 1);
    } else {
      const at = this.#find(member);
      if (at < 0) return false;
      this.#splice(at, at + 1 + member.length);
    }
    this.#count--;
    return true;
  }

  /** Makes OBJECT ENCODING answer "hashtable" from now on (Redis's conversion). */
  convertToHashtable(): void {
    if (this.#hashtable) return;
    this.#hashtable = true;
    if (this.#sorted !== undefined) this.#toTable();
  }

  /** The member at position `at` (0 ≤ at < {@link length}), in {@link forEach}'s order. */
  memberAt(at: number): string {
    assert(at >= 0 && at < this.#count, "a member position is within the set");
    if (this.#table !== undefined) return this.#table.memberAt(at);
    if (this.#sorted !== undefined) return this.#sorted[at];
    const packed = this.#packed;
    let offset = 0;
    for (let i = 0; i < at; i++) offset += 1 + packed.charCodeAt(offset);
    return packed.substr(offset + 1, packed.charCodeAt(offset));
  }

  /** A member picked uniformly at random (the set is not empty). */
  randomMember(): string {
    return this.memberAt(Math.floor(Math.random() * this.#count));
  }

  /** Calls `visit` for each member, in Redis's order for an intset (ascending); stops on false. */
  forEach(visit: (member: string) => boolean | void): void {
    const table = this.#table;
    if (table !== undefined) {
      for (let i = 0; i < table.size; i++) if (visit(table.memberAt(i)) === false) return;
      return;
    }
    const list = this.#sorted;
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) if (visit(list[i]) === false) return;
      return;
    }
    const packed = this.#packed;
    for (let at = 0; at < packed.length;) {
      const length = packed.charCodeAt(at);
      if (visit(packed.substr(at + 1, length)) === false) return;
      at += 1 + length;
    }
  }

  /** Every member, in {@link forEach}'s order (a fresh array). */
  members(): string[] {
    if (this.#table !== undefined) return this.#table.toArray();
    if (this.#sorted !== undefined) return this.#sorted.slice();
    const out: string[] = [];
    this.forEach((member) => {
      out.push(member);
    });
    return out;
  }

  /** Whether {@link memberAt} is O(1) (an array form), rather than a walk of the packed bytes. */
  get indexed(): boolean {
    return this.#table !== undefined || this.#sorted !== undefined;
  }

  /**
   * Whether a cursor walks it (SSCAN in steps): a big hashtable. Others
   * answer all at once, as Redis does for an intset.
   */
  get cursored(): boolean {
    return this.#table !== undefined;
  }

  /**
   * One step of a cursor walk (see the module doc) from `cursor` (0: the
   * start) visiting at least `count` positions; the cursor to go on from
   * (0: done). Only for a {@link cursored} set.
   */
  scan(cursor: number, count: number, visit: (member: string) => void): number {
    const table = this.#table!;
    let at = cursor === 0 || cursor > table.size ? table.size : cursor;
    for (let seen = 0; at > 0 && seen < count; seen++) visit(table.memberAt(--at));
    return at;
  }

  clone(): SetValue {
    const copy = new SetValue();
    copy.#hashtable = this.#hashtable;
    copy.#count = this.#count;
    copy.#packed = this.#packed;
    if (this.#sorted !== undefined) copy.#sorted = this.#sorted.slice();
    if (this.#table !== undefined) {
      const table = new MemberTable();
      for (let at = 0; at < this.#table.size; at++) table.add(this.#table.memberAt(at));
      copy.#table = table;
    }
    return copy;
  }

  /** Sums its members (an intset of up to 512 on every SADD). */
  override get memoryBytesWalks(): boolean {
    return true;
  }

  memoryBytes(): number {
    if (this.#table !== undefined) {
      return 64 + 48 * this.#table.size + this.#table.memberBytes;
    }
    if (this.#sorted !== undefined) {
      let bytes = 64;
      for (const member of this.#sorted) bytes += 24 + member.length;
      return bytes;
    }
    return 48 + this.#packed.length;
  }

  rebuildRecords(emit: RecordSink): void {
    // The first record carries the encoding: a hashtable of integers stays one.
    let first = true;
    this.forEach((member) => {
      emit(WalOp.SetAdd, member, first && this.#hashtable ? SET_ADD_AS_HASHTABLE : 0);
      first = false;
    });
  }

  /**
   * Members from `from` (0: the start) in one body of about `maxBytes`:
   * `[u32 length][member]` each. A packed set goes whole; a sorted intset in
   * order; a member table from the top (see the module doc). A chunk after
   * the first goes on from where the last one stopped: the set is unchanged
   * in between (see {@link #chunkEnd}).
   */
  snapshotChunk(from: number, maxBytes: number): { body: string; next: number } {
    const parts: string[] = [];
    let bytes = 0;
    const add = (member: string) => {
      parts.push(encodeLength(member.length), member);
      bytes += 4 + member.length;
    };
    const last = this.#chunkEnd;
    this.#chunkEnd = undefined;
    if (from > 0) {
      assert(
        last !== undefined && last.next === from && last.length === this.length,
        "a set is unchanged between its snapshot chunks",
      );
    }
    let next = -1;
    if (this.#table !== undefined) {
      const table = this.#table;
      let at = from > 0 ? from : table.size;
      while (at > 0 && (parts.length === 0 || bytes < maxBytes)) add(table.memberAt(--at));
      if (at > 0) next = at;
    } else if (this.#sorted !== undefined) {
      const sorted = this.#sorted;
      let at = from;
      while (at < sorted.length && (parts.length === 0 || bytes < maxBytes)) add(sorted[at++]);
      if (at < sorted.length) next = at;
    } else {
      this.forEach(add);
    }
    if (next > 0) this.#chunkEnd = { next, length: this.length };
    return { body: parts.join(""), next };
  }

  /** Adds the members of a snapshot chunk (see {@link snapshotChunk}). */
  loadChunk(body: string): void {
    for (let at = 0; at < body.length;) {
      const length = decodeLength(body, at);
      assert(at + 4 + length <= body.length, "a set chunk's member fits its body");
      this.add(body.substr(at + 4, length));
      at += 4 + length;
    }
  }

  /** Inserts an integer member in numeric order; false if held. */
  #addInteger(member: string): boolean {
    const sorted = this.#sorted;
    if (sorted !== undefined) {
      const at = this.#upperBound(member);
      if (at > 0 && sorted[at - 1] === member) return false;
      sorted.splice(at, 0, member);
      return true;
    }
    const packed = this.#packed;
    let at = 0;
    while (at < packed.length) {
      const length = packed.charCodeAt(at);
      const order = compareIntegers(packed.substr(at + 1, length), member);
      if (order === 0) return false;
      if (order > 0) break;
      at += 1 + length;
    }
    this.#splice(at, at, member);
    return true;
  }

  /** A sorted intset: where `member` is, or -1. */
  #search(member: string): number {
    const at = this.#upperBound(member);
    return at > 0 && this.#sorted![at - 1] === member ? at - 1 : -1;
  }

  /** A sorted intset: the first position whose member is greater than `member`. */
  #upperBound(member: string): number {
    const sorted = this.#sorted!;
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareIntegers(sorted[mid], member) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Packed: where `member`'s entry starts, or -1. */
  #find(member: string): number {
    return findPacked(this.#packed, member);
  }

  /**
   * Replaces the packed bytes [at, end) with `member`'s entry (or nothing),
   * building one flat string (concatenation would leave a tree of cons
   * strings holding on to the request's strings).
   */
  #splice(at: number, end: number, member?: string): void {
    const old = this.#packed;
    const added = member === undefined ? 0 : 1 + member.length;
    const length = old.length - (end - at) + added;
    const out = scratch.atLeast(length);
    for (let i = 0; i < at; i++) out[i] = old.charCodeAt(i);
    let n = at;
    if (member !== undefined) {
      out[n++] = member.length;
      for (let i = 0; i < member.length; i++) out[n++] = member.charCodeAt(i);
    }
    for (let i = end; i < old.length; i++) out[n++] = old.charCodeAt(i);
    this.#packed = bytesToBinary(out, 0, n);
  }

  #toSorted(): void {
    this.#sorted = this.members();
    this.#packed = "";
    this.#held();
  }

  #toTable(): void {
    const table = new MemberTable();
    this.forEach((member) => {
      table.add(member);
    });
    this.#table = table;
    this.#sorted = undefined;
    this.#packed = "";
    this.#held();
  }

  /**
   * An array form is kept as an object, not re-read from bytes: the writer
   * converting a copy stores it once (applySetAdds decides that before
   * changing it), and later writes change it in place. Left set, every
   * later SADD, SREM and SPOP of a set once read inline stored it again —
   * a key lookup and a memory estimate (five sampled members) more per
   * write. For a set the estimate is cheap (members are an array): SADD and
   * SPOP moved within the noise (in-process A/B of redis-benchmark's
   * shapes, pipelines of 16 prefetched: SADD 471/578 → 525/623 ns min/median,
   * SPOP 332/375 → 334/398, 3 alternating rounds on a machine at load 11);
   * for a sorted set it was 15% of ZADD (see `ZsetValue`).
   */
  #held(): void {
    this.#unpacked = false;
  }
}

/** A u32 length as four binary chars, little-endian (snapshot chunks). */
function encodeLength(n: number): string {
  return String.fromCharCode(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

function decodeLength(s: string, at: number): number {
  if (at + 4 > s.length) throw new RangeError("a set chunk is cut short");
  return (s.charCodeAt(at) | (s.charCodeAt(at + 1) << 8) | (s.charCodeAt(at + 2) << 16) |
    (s.charCodeAt(at + 3) << 24)) >>> 0;
}

/**
 * Where `member`'s entry starts in the packed members `packed`, or -1.
 * Members of one length often differ only at the end (ids, counters): the
 * last byte is compared before the rest.
 */
function findPacked(packed: string, member: string): number {
  const length = member.length;
  const last = length === 0 ? 0 : member.charCodeAt(length - 1);
  for (let at = 0; at < packed.length;) {
    const entryLength = packed.charCodeAt(at);
    if (
      entryLength === length && (length === 0 || packed.charCodeAt(at + length) === last) &&
      packed.startsWith(member, at + 1)
    ) {
      return at;
    }
    at += 1 + entryLength;
  }
  return -1;
}

/** The packed form (see the module doc) of `members` in their order, after the packed `before`. */
function packMembers(members: readonly string[], before = ""): string {
  let length = before.length;
  for (let i = 0; i < members.length; i++) length += 1 + members[i].length;
  const out = scratch.atLeast(length);
  let n = writeBinary(before, out, 0);
  for (let i = 0; i < members.length; i++) {
    const member = members[i];
    out[n++] = member.length;
    for (let j = 0; j < member.length; j++) out[n++] = member.charCodeAt(j);
  }
  return bytesToBinary(out, 0, n);
}

/**
 * How many of the first `count` records' `flags` lead with 0: the records
 * an in-place edit may take (a flag asks for the object). `flags` may be
 * longer than the records (a shared array of zeros).
 */
function plainRecords(flags: readonly number[], count: number): number {
  let n = 0;
  while (n < count && flags[n] === 0) n++;
  return n;
}

/**
 * Applies `SetAdd` records (see `wal/record.ts`) to the set at `key`:
 * adds `members[i]`, first making the set a hashtable where `flags[i]` is
 * {@link SET_ADD_AS_HASHTABLE}. A missing key (or, replaying over a newer
 * state, another type) becomes a new set. Live writes and replay both come
 * here, so they cannot differ.
 *
 * @example
 * ```ts
 * applySetAdds(engine, "s", ["a", "b"], [0, 0]);
 * ```
 */
export function applySetAdds(
  engine: Engine,
  key: string,
  members: readonly string[],
  flags: readonly number[],
): void {
  let current = engine.getOrPacked(key, SNAPSHOT_TYPE_SET);
  if (current === engine.packedView) {
    // Held inline: each member's entry spliced into the bytes where they are.
    const plain = plainRecords(flags, members.length);
    const i = editPacked(engine, key, members, plain, current, addPackedMember);
    if (i === members.length) return;
    members = members.slice(i);
    flags = flags.slice(i);
    current = engine.get(key);
  }
  let set: SetValue;
  // An object in the key table changes in place; a small set read from its
  // inline bytes is a copy, stored back below (as is a new one).
  let store = true;
  if (current instanceof SetValue) {
    set = current;
    store = current.unpacked;
  } else {
    if (current !== undefined) engine.delete(key);
    set = new SetValue();
  }
  set.addAll(members, flags);
  if (store) engine.setCollection(key, set);
}

/**
 * Applies `SetRem` records: removes members, and the key with its last.
 * After a record flagged {@link SET_REM_REBUILD} the set is replaced by a
 * new one of the same members, encoded by its contents (what Redis's SPOP
 * does when it takes most of a set).
 *
 * @example
 * ```ts
 * applySetRems(engine, "s", ["a"], [0]);
 * ```
 */
export function applySetRems(
  engine: Engine,
  key: string,
  members: readonly string[],
  flags: readonly number[],
): void {
  let current = engine.getOrPacked(key, SNAPSHOT_TYPE_SET, false);
  if (current === engine.packedView) {
    // Held inline: each member's entry cut out of the bytes where they are.
    const plain = plainRecords(flags, members.length);
    const i = editPacked(engine, key, members, plain, current, removePackedMember);
    if (i === members.length) return;
    members = members.slice(i);
    flags = flags.slice(i);
    current = engine.get(key, false);
  }
  if (!(current instanceof SetValue)) return;
  let set = current;
  let changed = false;
  let replaced = false;
  for (let i = 0; i < members.length; i++) {
    if (set.delete(members[i])) changed = true;
    if (flags[i] === SET_REM_REBUILD && set.length > 0) {
      // A new object: a snapshot walk of the old one does not go on in it.
      set = SetValue.of(set.members());
      replaced = true;
    }
  }
  if (!changed && !replaced) return;
  if (set.length === 0) engine.delete(key);
  else if (set.unpacked || replaced) engine.setCollection(key, set);
}
