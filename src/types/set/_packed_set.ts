/**
 * A small set where the key table holds it inline, read in its packed
 * bytes ({@link PackedSet}) and given or rid of one member there
 * ({@link addPackedMember}, {@link removePackedMember}). SISMEMBER, SADD
 * and SREM on a small set then scan its entries where they lie and splice
 * one entry and the count (SMEMBERS replies straight from them), where
 * each unpacked a `SetValue` (the bytes copied into a string) and a write
 * rebuilt that string and wrote it all back: in-process, SADD and SREM of
 * one member by turns on a set of 120, 12.4 µs a command.
 *
 * Layout, as `set.ts` writes it: a header of two bytes — 1 for a
 * `hashtable` set, 0 for an `intset`, then the member count — and each
 * member as its length (one byte) and its bytes; an intset's in numeric
 * order, a hashtable's in the order they came.
 *
 * @example
 * ```ts
 * const view = engine.packed("tags", SNAPSHOT_TYPE_SET);
 * if (view !== undefined) new PackedSet(view).has("red");
 * addPackedMember(engine, "tags", "blue"); // 1: added in place
 * ```
 * @module
 */

import { PackedReader } from "../_packed_reader.ts";
import { assert } from "../../_assert.ts";
import { binaryEquals, bytesToBinary, writeBinary } from "../../bytes/binary_string.ts";
import type { Engine } from "../../storage/engine.ts";
import { fnv1a, fnv1aBytes } from "../../storage/hash.ts";
import type { ReplyWriter } from "../../protocol/reply_writer.ts";
import { INLINE_MAX_BYTES } from "../string/big_string.ts";
import {
  intsetMaxEntries,
  isIntegerMember,
  SET_PACKED_MAX_MEMBER_BYTES,
  SET_PACKED_MAX_MEMBERS,
  SNAPSHOT_TYPE_SET,
} from "./set.ts";

/** Bytes before the first member: the encoding, then the count. */
const HEADER_BYTES = 2;

/**
 * The numeric order of the integer member of `length` bytes at `at` and
 * the integer member `member` (see `compareIntegers`: sign, digit count,
 * then digits).
 */
function compareIntegerAt(bytes: Uint8Array, at: number, length: number, member: string): number {
  const negative = bytes[at] === 45;
  if (negative !== (member.charCodeAt(0) === 45)) return negative ? -1 : 1;
  let order = length - member.length;
  for (let i = 0; order === 0 && i < length; i++) order = bytes[at + i] - member.charCodeAt(i);
  return negative ? -order : order;
}

/**
 * Where `member`'s entry starts in the members [`at`, `end`), or -1.
 * Members of one length often differ only at the end (ids, counters): the
 * last byte is compared before the rest.
 */
function findMember(bytes: Uint8Array, at: number, end: number, member: string): number {
  const length = member.length;
  const last = length === 0 ? 0 : member.charCodeAt(length - 1);
  while (at < end) {
    const n = bytes[at];
    if (
      n === length && (n === 0 || bytes[at + n] === last) && binaryEquals(bytes, at + 1, member)
    ) {
      return at;
    }
    at += 1 + n;
  }
  return -1;
}

/**
 * A set held inline, read where its bytes lie. Valid until the keyspace
 * next changes: read first, then write.
 *
 * @example
 * ```ts
 * new PackedSet(view).length; // its members
 * ```
 */
export class PackedSet extends PackedReader {
  /** Its members. */
  get length(): number {
    return this.bytes[this.start + 1];
  }

  /** Whether `member` is in it. */
  has(member: string): boolean {
    const bytes = this.bytes;
    // An intset holds only integers.
    if (bytes[this.start] === 0 && !isIntegerMember(member)) return false;
    return findMember(bytes, this.start + HEADER_BYTES, this.end, member) >= 0;
  }

  /** The member at position `at` (< {@link length}), in its order. */
  memberAt(at: number): string {
    assert(at >= 0 && at < this.length, "a member position is within the set");
    const bytes = this.bytes;
    let p = this.start + HEADER_BYTES;
    for (let i = 0; i < at; i++) p += 1 + bytes[p];
    return bytesToBinary(bytes, p + 1, p + 1 + bytes[p]);
  }

  /** A member picked uniformly at random (the set is not empty). */
  randomMember(): string {
    return this.memberAt(Math.floor(Math.random() * this.length));
  }

  /** Calls `visit` for each member in its order (an intset's ascending); stops on false. */
  forEach(visit: (member: string) => boolean | void): void {
    const bytes = this.bytes;
    for (let at = this.start + HEADER_BYTES; at < this.end; at += 1 + bytes[at]) {
      if (visit(bytesToBinary(bytes, at + 1, at + 1 + bytes[at])) === false) return;
    }
  }

  /** Its members, in its order. */
  members(): string[] {
    const out: string[] = [];
    this.forEach((member) => {
      out.push(member);
    });
    return out;
  }

  /** {@link memberAt} walks the bytes: not O(1). */
  get indexed(): boolean {
    return false;
  }

  /**
   * An index of its members by their bytes, for many lookups (SINTER,
   * SDIFF): each then hashes the member once and compares one or two
   * entries, where {@link has} walks them all. No string is made.
   */
  index(): { has(member: string): boolean } {
    return new PackedSetIndex(this.bytes, this.start + HEADER_BYTES, this.end, this.length);
  }

  /** Writes each member as a bulk reply straight from the bytes, in its order. */
  writeMembers(w: ReplyWriter): void {
    const bytes = this.bytes;
    for (let at = this.start + HEADER_BYTES; at < this.end; at += 1 + bytes[at]) {
      w.bulkRange(bytes, at + 1, at + 1 + bytes[at]);
    }
  }
}

/**
 * A set's packed members indexed by an open-addressing table of their
 * offsets (load at most 1/2), valid as long as the bytes are. SINTER of
 * two sets of 120 held inline: the other set's members had each been
 * made a string and put in a JS Set, ~45 ns a lookup of a new string.
 */
class PackedSetIndex {
  readonly #bytes: Uint8Array;
  readonly #slots: number[];
  readonly #mask: number;

  constructor(bytes: Uint8Array, start: number, end: number, count: number) {
    let size = 8;
    while (size < count * 2) size *= 2;
    // A JS array of small integers: a new typed array's store costs more
    // than this whole index of a set of 120.
    const slots: number[] = new Array<number>(size).fill(-1);
    const mask = size - 1;
    for (let at = start; at < end; at += 1 + bytes[at]) {
      let slot = fnv1aBytes(bytes, at + 1, at + 1 + bytes[at]) & mask;
      while (slots[slot] >= 0) slot = (slot + 1) & mask;
      slots[slot] = at;
    }
    this.#bytes = bytes;
    this.#slots = slots;
    this.#mask = mask;
  }

  has(member: string): boolean {
    const bytes = this.#bytes;
    const slots = this.#slots;
    const length = member.length;
    for (let slot = fnv1a(member) & this.#mask;; slot = (slot + 1) & this.#mask) {
      const at = slots[slot];
      if (at < 0) return false;
      if (bytes[at] === length && binaryEquals(bytes, at + 1, member)) return true;
    }
  }
}

/**
 * Where an entry and a count are built for a splice (a member's length is
 * one byte; sized without set.ts's constants, which this module's import
 * cycle with it leaves unset while this one loads).
 */
const entry = new Uint8Array(1 + 0xff);
const countByte = new Uint8Array(1);

/** Writes the member count into the header of the set at `key` held inline. */
function writeCount(engine: Engine, key: string, count: number): void {
  countByte[0] = count;
  engine.splicePacked(key, 1, 2, countByte, 1);
}
const NO_BYTES = new Uint8Array(0);

/**
 * Adds `member` to the set at `key` where it is held inline, in its packed
 * bytes: 1 if added, 0 if it was held. -1, changing nothing, where the set
 * is not held inline (or there is none) or where the member would change
 * its encoding or take it out of the packed form: the caller then goes
 * through a `SetValue`, which converts by the same rules (`SetValue.add`).
 * `view`: the set's packed bytes if just looked up (`Engine.getOrPacked`).
 */
export function addPackedMember(
  engine: Engine,
  key: string,
  member: string,
  view = engine.packed(key, SNAPSHOT_TYPE_SET, false),
): number {
  if (view === undefined) return -1;
  const { bytes, start, length } = view;
  const end = start + length;
  const hashtable = bytes[start] === 1;
  const count = bytes[start + 1];
  let at = start + HEADER_BYTES;
  if (hashtable) {
    if (findMember(bytes, at, end, member) >= 0) return 0;
    if (count + 1 > SET_PACKED_MAX_MEMBERS || member.length > SET_PACKED_MAX_MEMBER_BYTES) {
      return -1;
    }
    at = end;
  } else {
    if (!isIntegerMember(member)) return -1;
    for (; at < end; at += 1 + bytes[at]) {
      const order = compareIntegerAt(bytes, at + 1, bytes[at], member);
      if (order === 0) return 0;
      if (order > 0) break;
    }
    if (count + 1 > intsetMaxEntries() || count + 1 > SET_PACKED_MAX_MEMBERS) return -1;
  }
  if (length + 1 + member.length > INLINE_MAX_BYTES) return -1;
  entry[0] = member.length;
  const n = writeBinary(member, entry, 1);
  engine.splicePacked(key, at - start, at - start, entry, n);
  writeCount(engine, key, count + 1);
  return 1;
}

/**
 * Removes `member` from the set at `key` where it is held inline, in its
 * packed bytes (the key with its last member): 1 if it was held, 0 if
 * not; -1, changing nothing, where the set is not held inline. `view`: its
 * packed bytes if just looked up.
 */
export function removePackedMember(
  engine: Engine,
  key: string,
  member: string,
  view = engine.packed(key, SNAPSHOT_TYPE_SET, false),
): number {
  if (view === undefined) return -1;
  const { bytes, start, length } = view;
  if (bytes[start] === 0 && !isIntegerMember(member)) return 0;
  const at = findMember(bytes, start + HEADER_BYTES, start + length, member);
  if (at < 0) return 0;
  const count = bytes[start + 1];
  if (count === 1) {
    engine.delete(key);
    return 1;
  }
  engine.splicePacked(key, at - start, at - start + 1 + member.length, NO_BYTES, 0);
  writeCount(engine, key, count - 1);
  return 1;
}
