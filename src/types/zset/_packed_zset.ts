/**
 * A small sorted set where the key table holds it inline (the `listpack`
 * encoding: see `zset.ts`), read in its packed bytes ({@link PackedZset})
 * and given one member's score there ({@link setPackedScore}) or rid of
 * one ({@link removePackedMember}). A ZINCRBY
 * or a one-member ZADD then scans the entries once and moves one entry
 * with a single splice of the bytes between its old and new places, where
 * it unpacked a `ZsetValue` (the bytes copied into a string), rebuilt that
 * string twice (the entry taken out, then put back where it sorts) and
 * wrote it all back.
 *
 * Layout, as `zset.ts` writes it: per member, in (score, member) order,
 * its length (u16, little-endian), its bytes and its score (8 bytes,
 * IEEE-754 little-endian).
 *
 * @example
 * ```ts
 * const view = engine.packed("board", SNAPSHOT_TYPE_ZSET);
 * if (view !== undefined) new PackedZset(view).score("alice");
 * setPackedScore(engine, "board", "alice", 12); // 0: updated in place
 * ```
 * @module
 */

import { PackedReader } from "../_packed_reader.ts";
import { binaryEquals, bytesToBinary } from "../../bytes/binary_string.ts";
import type { Engine } from "../../storage/engine.ts";
import { INLINE_MAX_BYTES } from "../string/big_string.ts";
import { ENCODING_LIMITS } from "../encoding_limits.ts";
import { SNAPSHOT_TYPE_ZSET, writeEntry, type ZsetReader } from "./zset.ts";
import { readScoreBytes } from "./score.ts";

/** The length of the entry's member whose entry starts at `at`. */
function memberLength(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8);
}

/**
 * Where the entry of `member` starts in the entries [`at`, `end`), or -1.
 * Members of one length often differ only at the end (ids, counters): the
 * last byte is compared before the rest.
 */
function findEntry(bytes: Uint8Array, at: number, end: number, member: string): number {
  const length = member.length;
  const last = length === 0 ? 0 : member.charCodeAt(length - 1);
  while (at < end) {
    const n = memberLength(bytes, at);
    if (
      n === length && (length === 0 || bytes[at + 1 + length] === last) &&
      binaryEquals(bytes, at + 2, member)
    ) {
      return at;
    }
    at += 10 + n;
  }
  return -1;
}

/** How many entries [`at`, `end`) holds. */
function countEntries(bytes: Uint8Array, at: number, end: number): number {
  let count = 0;
  for (; at < end; count++) at += 10 + memberLength(bytes, at);
  return count;
}

/** Whether (`score`, `member`) sorts before the entry at `at`. */
function sortsBefore(member: string, score: number, bytes: Uint8Array, at: number): boolean {
  const n = memberLength(bytes, at);
  const s = readScoreBytes(bytes, at + 2 + n);
  return score < s || (score === s && memberBefore(member, bytes, at + 2, n));
}

/**
 * Whether `member` sorts before the `length` bytes at `at` (byte order,
 * a prefix first), as two members of one score are ordered.
 */
function memberBefore(member: string, bytes: Uint8Array, at: number, length: number): boolean {
  const n = Math.min(member.length, length);
  for (let i = 0; i < n; i++) {
    const a = member.charCodeAt(i);
    const b = bytes[at + i];
    if (a !== b) return a < b;
  }
  return member.length < length;
}

/**
 * A sorted set held inline, read where its bytes lie. Valid until the
 * keyspace next changes: read first, then write.
 *
 * @example
 * ```ts
 * const zset = new PackedZset(view);
 * zset.length; // its members
 * ```
 */
export class PackedZset extends PackedReader implements ZsetReader {
  #length = -1;

  /** Its members. */
  get length(): number {
    if (this.#length < 0) this.#length = countEntries(this.bytes, this.start, this.end);
    return this.#length;
  }

  /** Positions for cursors and random picks: its ranks. */
  get positions(): number {
    return this.length;
  }

  /** What OBJECT ENCODING answers for it. */
  encoding(): string {
    return "listpack";
  }

  /** The 0-based rank of `member` (ascending), or undefined. */
  rank(member: string): number | undefined {
    const at = findEntry(this.bytes, this.start, this.end, member);
    return at < 0 ? undefined : countEntries(this.bytes, this.start, at);
  }

  /**
   * Visits members with their scores from `rank` up (or down, `reverse`)
   * until `visit` returns false or the end; a member's string is made only
   * for the members visited.
   */
  walk(rank: number, reverse: boolean, visit: (member: string, score: number) => boolean): void {
    this.walkBytes(
      rank,
      reverse,
      (bytes, start, end, score) => visit(bytesToBinary(bytes, start, end), score),
    );
  }

  /**
   * {@link walk} with each member as where its bytes lie (`bytes[start,
   * end)`), for a reply written from them. A reverse walk finds the
   * entries' starts first (they are variable-length) in a shared array:
   * `visit` must not walk a sorted set itself.
   */
  walkBytes(
    rank: number,
    reverse: boolean,
    visit: (bytes: Uint8Array, start: number, end: number, score: number) => boolean,
  ): void {
    const bytes = this.bytes;
    if (rank < 0) return;
    if (reverse) {
      if (rank >= this.length) return;
      if (starts.length <= rank) starts = new Int32Array(Math.max(rank + 1, starts.length * 2));
      for (let at = this.start, i = 0; i <= rank; i++) {
        starts[i] = at;
        at += 10 + memberLength(bytes, at);
      }
      for (let i = rank; i >= 0; i--) {
        const at = starts[i];
        const end = at + 2 + memberLength(bytes, at);
        if (!visit(bytes, at + 2, end, readScoreBytes(bytes, end))) return;
      }
      return;
    }
    let i = 0;
    for (let at = this.start; at < this.end; i++) {
      const end = at + 2 + memberLength(bytes, at);
      if (i >= rank && !visit(bytes, at + 2, end, readScoreBytes(bytes, end))) return;
      at = end + 8;
    }
  }

  /** How many members from the lowest satisfy `isBefore` (a prefix of the order). */
  countBefore(isBefore: (score: number, member: string) => boolean): number {
    let count = 0;
    this.walk(0, false, (member, score) => isBefore(score, member) && ++count > 0);
    return count;
  }

  /** {@link countBefore} for a test of scores alone: no member's string is made. */
  countBeforeScore(isBefore: (score: number) => boolean): number {
    const bytes = this.bytes;
    let count = 0;
    for (let at = this.start; at < this.end; count++) {
      const n = memberLength(bytes, at);
      if (!isBefore(readScoreBytes(bytes, at + 2 + n))) break;
      at += 10 + n;
    }
    return count;
  }

  /** The member of rank `at`, or undefined past the end. */
  memberAt(at: number): string | undefined {
    let found: string | undefined;
    this.walk(at, false, (member) => {
      found = member;
      return false;
    });
    return found;
  }

  /** Every member in order with its score. */
  entries(): [string, number][] {
    const out: [string, number][] = [];
    this.walk(0, false, (member, score) => out.push([member, score]) > 0);
    return out;
  }

  /** The score of `member`, or undefined. */
  score(member: string): number | undefined {
    const at = findEntry(this.bytes, this.start, this.end, member);
    return at < 0 ? undefined : readScoreBytes(this.bytes, at + 2 + member.length);
  }
}

/** Where a reverse walk keeps the entries' starts (grown on demand, as the limits are config). */
let starts = new Int32Array(ENCODING_LIMITS.zsetMaxListpackEntries + 1);

/** Where {@link setPackedScore} builds the bytes it splices in. */
let scratch = new Uint8Array(INLINE_MAX_BYTES);

/**
 * Sets `member`'s score to `score` (not NaN) in the sorted set at `key`
 * where it is held inline, in its packed bytes: 1 if the member is new, 0
 * if it was held (its score changed or not). -1, changing nothing, where
 * the sorted set is not held inline (or there is none) or where a new
 * member would make it a skiplist or take it past inline size: the caller
 * then goes through a `ZsetValue`, which converts by the same rules
 * (`ZsetValue.set`). `view`: its packed bytes if just looked up
 * (`Engine.getOrPacked`).
 */
export function setPackedScore(
  engine: Engine,
  key: string,
  member: string,
  score: number,
  view = engine.packed(key, SNAPSHOT_TYPE_ZSET, false),
): number {
  if (view === undefined) return -1;
  // Redis's listpack keeps -0 as 0 (its skiplist keeps -0).
  if (score === 0) score = 0;
  const { bytes, start, length } = view;
  const end = start + length;
  const size = 10 + member.length;
  const old = findEntry(bytes, start, end, member);
  if (scratch.length < length + size) scratch = new Uint8Array(length + size);
  const out = scratch;
  if (old < 0) {
    if (
      member.length > ENCODING_LIMITS.zsetMaxListpackValue || member.length > 0xffff ||
      length + size > INLINE_MAX_BYTES
    ) {
      return -1;
    }
    // A new member: the entries counted and its place found in one pass.
    let count = 0;
    let to = end;
    for (let at = start; at < end; count++) {
      if (to === end && sortsBefore(member, score, bytes, at)) to = at;
      at += 10 + memberLength(bytes, at);
    }
    if (count + 1 > ENCODING_LIMITS.zsetMaxListpackEntries) return -1;
    const n = writeEntry(out, 0, member, score);
    engine.splicePacked(key, to - start, to - start, out, n);
    return 1;
  }
  const was = readScoreBytes(bytes, old + size - 8);
  if (was === score) return 0;
  // Where the entry goes, its old place left out: after it for a higher
  // score (its own member ties), else before it. A ZINCRBY of a member
  // near the top of a board of 100 had read every entry's score, and
  // compared every member of its length in full: 2.8 -> 1.2 us in-process.
  let to = score > was ? old + size : start;
  const until = score > was ? end : old;
  while (to < until && !sortsBefore(member, score, bytes, to)) to += 10 + memberLength(bytes, to);
  // One splice of what lies between the old place and the new, as long as it was.
  if (to <= old) {
    let n = writeEntry(out, 0, member, score);
    for (let i = to; i < old; i++) out[n++] = bytes[i];
    engine.splicePacked(key, to - start, old + size - start, out, n);
  } else {
    let n = 0;
    for (let i = old + size; i < to; i++) out[n++] = bytes[i];
    n = writeEntry(out, n, member, score);
    engine.splicePacked(key, old - start, to - start, out, n);
  }
  return 0;
}

/**
 * Removes `member` from the sorted set at `key` where it is held inline,
 * in its packed bytes (the key with its last member): 1 if it was held, 0
 * if not; -1, changing nothing, where the sorted set is not held inline.
 * `view`: its packed bytes if just looked up.
 */
export function removePackedMember(
  engine: Engine,
  key: string,
  member: string,
  view = engine.packed(key, SNAPSHOT_TYPE_ZSET, false),
): number {
  if (view === undefined) return -1;
  const { bytes, start, length } = view;
  const at = findEntry(bytes, start, start + length, member);
  if (at < 0) return 0;
  engine.cutPacked(key, at - start, at - start + 10 + member.length);
  return 1;
}
