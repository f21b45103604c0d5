/**
 * A stream node: up to a listpack's worth of entries (see `stream.ts`),
 * held in two typed arrays instead of objects per entry: a table of 32-bit
 * words (each entry's ID, pair count, where its pairs end, tombstone flag)
 * and a byte arena of the entries' packed pairs (`packFields`' layout).
 *
 * An entry kept as two strings (its ID, its packed pairs) stayed in the
 * heap until trimmed: a 100k-entry stream under pipelined XADD had every
 * entry promoted and then marked by each full GC. Here a node costs two
 * buffers whatever its entries (GC ~19% -> ~9% of the server's busy CPU
 * in bench's pipelined XADD row, `--cpu-prof`). Reads make an entry's
 * strings when asked (`idAt`, `fieldsAt`), or reply from the bytes
 * (`writeEntry`).
 *
 * @example
 * ```ts
 * const node = new StreamNode(["f"]);
 * node.append(0, 1, 0, 0, ["f", "v"], 0); // 1-0
 * formatId(node.idAt(0)); // "1-0"
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";
import { bytesToBinary } from "../../bytes/binary_string.ts";
import type { ReplyWriter } from "../../protocol/reply_writer.ts";
import { giveBytes, giveWords, takeBytes, takeWords } from "./_node_buffers.ts";
import { writeIdReply } from "./_id_reply.ts";
import { writePackedFields } from "./_stream_codec.ts";
import {
  bigIntElementBytes,
  intElementBytes,
  LISTPACK_EMPTY_BYTES,
  stringElementBytes,
} from "./_listpack_size.ts";
import {
  formatId,
  halfFromWords,
  idFromWords,
  idMs,
  idMsNumber,
  idSeq,
  idSeqNumber,
  idWord,
} from "./stream_id.ts";

/** Table words per entry: the ID's four, the pair count, the pairs' end, the tombstone flag (one spare). */
const STRIDE = 8;
const W_COUNT = 4;
const W_END = 5;
const W_DEAD = 6;

/** Entries a node's table is made for first, and at most its growth factor (then it doubles). */
const INITIAL_ENTRIES = 4;
const GROWTH = 4;
/** Bytes a node's arena is made with first (enough for a few small entries). */
const INITIAL_ARENA_BYTES = 64;
/**
 * Most entries and arena bytes a node is made for up front (see
 * {@link StreamNode.sizedAfter}): a node after one of a few huge entries
 * does not reserve their bytes.
 */
const MAX_HINT_ENTRIES = 1024;
const MAX_HINT_ARENA_BYTES = 64 * 1024;

/** A node's own bytes in a stream's memory estimate, besides its listpack and entries. */
const NODE_OVERHEAD_BYTES = 64;
/** Each entry's bytes besides its listpack elements in that estimate. */
const NODE_ENTRY_OVERHEAD_BYTES = 40;

/**
 * One node (see the module doc). Its counters (`live`, `deleted`) are the
 * stream's to keep, as it tombstones entries.
 *
 * @example
 * ```ts
 * const node = new StreamNode(["f"]);
 * node.size; // 0
 * ```
 */
export class StreamNode {
  #table: Uint32Array;
  #arena: Uint8Array;
  /** Entries held, tombstones included. */
  #size = 0;
  /** Bytes of the arena in use. */
  #used = 0;
  live = 0;
  deleted = 0;
  /** Bytes of the entries' listpack elements. */
  entryBytes = 0;
  /** The master entry's field names' elements' bytes. */
  readonly masterFieldBytes: number;
  /** The master entry's ID's parts as numbers (-1: not below 2^53), set by the first entry. */
  masterMs = -1;
  masterSeq = -1;
  /** The last {@link append}ed ID's parts as numbers (-1: not below 2^53; seq -1 too when ms is). */
  tailMs = -1;
  tailSeq = -1;

  /** A node for up to `entries` entries of `arenaBytes` before it grows. */
  constructor(
    readonly masterFields: readonly string[],
    entries = INITIAL_ENTRIES,
    arenaBytes = 0,
  ) {
    let bytes = 0;
    for (const field of masterFields) bytes += stringElementBytes(field);
    this.masterFieldBytes = bytes;
    this.#table = takeWords(Math.max(entries, 1) * STRIDE);
    this.#arena = arenaBytes > 0 ? takeBytes(arenaBytes) : EMPTY_ARENA;
  }

  /**
   * A node to follow `previous` (the stream's tail), made as big as it
   * ended (within bounds): a growing stream's node then costs one buffer
   * of each kind instead of a doubling series (~9 per 100-entry node,
   * where allocating took ~15% of a pipelined XADD's server CPU).
   */
  static sizedAfter(masterFields: readonly string[], previous: StreamNode | undefined): StreamNode {
    if (previous === undefined) return new StreamNode(masterFields);
    return new StreamNode(
      masterFields,
      Math.min(previous.#size, MAX_HINT_ENTRIES),
      Math.min(previous.#used, MAX_HINT_ARENA_BYTES),
    );
  }

  /** Entries held, tombstones included. */
  get size(): number {
    return this.#size;
  }

  /** The listpack's bytes (Redis's lpBytes). */
  bytes(): number {
    return LISTPACK_EMPTY_BYTES + intElementBytes(this.live) + intElementBytes(this.deleted) +
      intElementBytes(this.masterFields.length) + this.masterFieldBytes + 2 + this.entryBytes;
  }

  /** What a stream's memory estimate counts for this node. */
  memoryBytes(): number {
    return this.bytes() + this.#size * NODE_ENTRY_OVERHEAD_BYTES + NODE_OVERHEAD_BYTES;
  }

  /** Entry `i`'s ID. */
  idAt(i: number): string {
    const t = this.#table;
    const o = i * STRIDE;
    return idFromWords(t[o], t[o + 1], t[o + 2], t[o + 3]);
  }

  /** The last entry's ID (the node must hold one). */
  lastIdAt(): string {
    return this.idAt(this.#size - 1);
  }

  /** Entry `i`'s packed pairs (see `packFields`). */
  fieldsAt(i: number): string {
    const t = this.#table;
    const start = i === 0 ? 0 : t[(i - 1) * STRIDE + W_END];
    return bytesToBinary(this.#arena, start, t[i * STRIDE + W_END]);
  }

  /**
   * Replies entry `i` as Redis does, `[id, [field, value, ...]]`, from its
   * bytes: no string per entry (XRANGE made its ID's and pairs' strings,
   * then read the pairs back out of them). `XRANGE s - + COUNT 10` at
   * pipeline 16: server CPU 5.0-5.4 -> 3.3-3.5 us/request (abcmd.sh
   * against main, alternating).
   */
  writeEntry(w: ReplyWriter, i: number): void {
    const t = this.#table;
    const o = i * STRIDE;
    w.array(2);
    const ms = halfFromWords(t[o], t[o + 1]);
    const seq = halfFromWords(t[o + 2], t[o + 3]);
    if (ms >= 0 && seq >= 0) {
      writeIdReply(w, ms, seq);
    } else {
      w.bulk(formatId(this.idAt(i)));
    }
    const parts = t[o + W_COUNT] * 2;
    w.array(parts);
    const arena = this.#arena;
    let at = i === 0 ? 0 : t[o - STRIDE + W_END];
    for (let k = 0; k < parts; k++) {
      const n =
        (arena[at] | (arena[at + 1] << 8) | (arena[at + 2] << 16) | (arena[at + 3] << 24)) >>>
        0;
      at += 4;
      w.bulkRange(arena, at, at + n);
      at += n;
    }
  }

  /** Entry `i`'s pair count. */
  countAt(i: number): number {
    return this.#table[i * STRIDE + W_COUNT];
  }

  /** Whether entry `i` is a tombstone. */
  isDead(i: number): boolean {
    return this.#table[i * STRIDE + W_DEAD] === 1;
  }

  /** Makes entry `i` a tombstone (the counters are the caller's). */
  markDead(i: number): void {
    this.#table[i * STRIDE + W_DEAD] = 1;
  }

  /**
   * Entry `i`'s ID against the ID of words `a`..`d`: negative below it, 0
   * equal, positive above (no string per comparison).
   */
  compareAt(i: number, a: number, b: number, c: number, d: number): number {
    const t = this.#table;
    const o = i * STRIDE;
    return t[o] - a || t[o + 1] - b || t[o + 2] - c || t[o + 3] - d;
  }

  /** The position of the first ID at or after the ID of words `a`..`d`. */
  lowerBound(a: number, b: number, c: number, d: number): number {
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareAt(mid, a, b, c, d) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Appends a live entry of ID words `a`..`d` (see `idFromWords`; above
   * every ID held) of the pairs `parts[from..]`: its listpack bytes
   * counted, its pairs packed into the arena, `live` counted. The ID as
   * words: XADD's new ID, made from numbers, is neither made a string nor
   * read back out of one.
   */
  append(
    a: number,
    b: number,
    c: number,
    d: number,
    parts: readonly string[],
    from: number,
  ): void {
    const pairs = (parts.length - from) / 2;
    const master = this.masterFields;
    let same = master.length === pairs;
    for (let i = 0; same && i < master.length; i++) same = master[i] === parts[from + i * 2];
    this.tailMs = halfFromWords(a, b);
    this.tailSeq = this.tailMs >= 0 ? halfFromWords(c, d) : -1;
    let need = 0;
    for (let i = from; i < parts.length; i++) need += 4 + parts[i].length;
    this.#used = writePackedFields(this.#reserve(need), this.#used, parts, from);
    this.#push(a, b, c, d, pairs, 0);
    this.entryBytes += this.#elementBytes(parts, from, same);
    this.live++;
  }

  /**
   * Appends an entry as a snapshot or an RDB holds it: its packed pairs
   * and pair count, and whether it is a tombstone (`live`, `deleted` and
   * `entryBytes` are the loader's).
   */
  appendPacked(id: string, packed: string, count: number, dead: boolean): void {
    const out = this.#reserve(packed.length);
    const at = this.#used;
    for (let j = 0; j < packed.length; j++) out[at + j] = packed.charCodeAt(j);
    this.#used = at + packed.length;
    this.#push(idWord(id, 0), idWord(id, 1), idWord(id, 2), idWord(id, 3), count, dead ? 1 : 0);
    if (this.#size === 1) {
      this.masterMs = idMsNumber(id);
      this.masterSeq = idSeqNumber(id);
    }
  }

  /** An independent copy. */
  copy(): StreamNode {
    const twin = new StreamNode(this.masterFields);
    giveWords(twin.#table);
    twin.#table = takeWords(Math.max(this.#size, 1) * STRIDE);
    twin.#table.set(this.#table.subarray(0, this.#size * STRIDE));
    if (this.#used > 0) {
      twin.#arena = takeBytes(this.#used);
      twin.#arena.set(this.#arena.subarray(0, this.#used));
    }
    twin.#size = this.#size;
    twin.#used = this.#used;
    twin.live = this.live;
    twin.deleted = this.deleted;
    twin.entryBytes = this.entryBytes;
    twin.masterMs = this.masterMs;
    twin.masterSeq = this.masterSeq;
    return twin;
  }

  /**
   * Hands its buffers back for other nodes (see `_node_buffers.ts`): the
   * node has left its stream and is not read again.
   */
  release(): void {
    giveWords(this.#table);
    giveBytes(this.#arena);
    this.#table = EMPTY_TABLE;
    this.#arena = EMPTY_ARENA;
    this.#size = 0;
    this.#used = 0;
  }

  /** The arena with room for `need` more bytes. */
  #reserve(need: number): Uint8Array {
    const want = this.#used + need;
    if (want <= this.#arena.length) return this.#arena;
    // A node ends past stream-node-max-bytes with one entry of at most 2^30
    // bytes: its offsets fit the table's 32-bit words.
    assert(want < 2 ** 32, "a stream node's arena outgrew its 32-bit offsets");
    const grown = takeBytes(Math.max(want, INITIAL_ARENA_BYTES, this.#arena.length * 2));
    grown.set(this.#arena.subarray(0, this.#used));
    giveBytes(this.#arena);
    this.#arena = grown;
    return grown;
  }

  #push(a: number, b: number, c: number, d: number, count: number, dead: number): void {
    let t = this.#table;
    const o = this.#size * STRIDE;
    if (o + STRIDE > t.length) {
      const grown = takeWords(t.length * (t.length < 64 * STRIDE ? GROWTH : 2));
      grown.set(t);
      giveWords(t);
      this.#table = t = grown;
    }
    t[o] = a;
    t[o + 1] = b;
    t[o + 2] = c;
    t[o + 3] = d;
    t[o + W_COUNT] = count;
    t[o + W_END] = this.#used;
    t[o + W_DEAD] = dead;
    this.#size++;
  }

  /**
   * Bytes of the listpack elements of the entry just pushed (the tail's
   * numbers set from its ID), of pairs `parts[from..]`.
   */
  #elementBytes(parts: readonly string[], from: number, same: boolean): number {
    const ms = this.tailMs;
    const seq = this.tailSeq;
    if (this.#size === 1) {
      this.masterMs = ms;
      this.masterSeq = halfFromWords(this.#table[2], this.#table[3]);
    }
    const pairs = (parts.length - from) / 2;
    let bytes = 2; // flags
    // Past 2^53 the deltas are bigints: the IDs as strings then (rare: explicit huge IDs).
    const big = (ms < 0 || this.masterMs < 0 || seq < 0 || this.masterSeq < 0)
      ? this.lastIdAt()
      : "";
    const master = big === "" ? "" : this.idAt(0);
    bytes += ms >= 0 && this.masterMs >= 0
      ? intElementBytes(ms - this.masterMs)
      : bigIntElementBytes(BigInt.asIntN(64, idMs(big) - idMs(master)));
    bytes += seq >= 0 && this.masterSeq >= 0
      ? intElementBytes(seq - this.masterSeq)
      : bigIntElementBytes(BigInt.asIntN(64, idSeq(big) - idSeq(master)));
    if (!same) bytes += intElementBytes(pairs);
    for (let i = from; i < parts.length; i += 2) {
      if (!same) bytes += stringElementBytes(parts[i]);
      bytes += stringElementBytes(parts[i + 1]);
    }
    return bytes + intElementBytes(same ? pairs + 3 : pairs * 2 + 4);
  }
}

const EMPTY_ARENA = new Uint8Array(0);
const EMPTY_TABLE = new Uint32Array(0);
