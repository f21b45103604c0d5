/**
 * The stream type: entries (field-value pairs) keyed by strictly growing
 * 128-bit IDs, with Redis 7.0's counters (last generated ID, entries
 * ever added, largest deleted ID) and consumer groups.
 *
 * Entries live in nodes, in ID order, as Redis keeps them in a radix tree
 * of listpacks: a node takes entries until its listpack would pass
 * `stream-node-max-bytes` or it holds `stream-node-max-entries` (deleted
 * ones count), and a deleted entry stays in its node as a tombstone until
 * the node goes. kvdb does not build the listpacks, it computes their
 * sizes (`_listpack_size.ts`), so its nodes end where Redis's do and
 * MAXLEN/MINID `~`, which trim whole nodes only, trim what Redis trims.
 * A node holds its entries in two typed arrays (`_stream_node.ts`); an ID
 * is handed out as a 16-byte string (string order is ID order). Lookups
 * binary-search the nodes, then the node: a range costs O(log n + k).
 *
 * @example
 * ```ts
 * const s = new StreamValue();
 * s.append(makeId(1, 0), ["f", "v"], true);
 * s.length; // 1
 * ```
 * @module
 */

import { Collection, type RecordSink } from "../collection.ts";
import { ByteReader, num, str, u32le } from "./_stream_codec.ts";
import { StreamNode } from "./_stream_node.ts";
import { highWord, idMsNumber, idSeqNumber, idWord, makeId, MIN_ID } from "./stream_id.ts";
import { assert } from "../../_assert.ts";
import { ENTRIES_READ_UNKNOWN, StreamGroup } from "./stream_group.ts";

export { StreamNode };

/** The snapshot entry type of a stream. */
export const SNAPSHOT_TYPE_STREAM = 5;

/** stream-node-max-bytes, stream-node-max-entries: Redis's defaults. */
export const STREAM_NODE_LIMITS = { maxBytes: 4096, maxEntries: 100 };

/**
 * Most entries one stream holds, tombstones included (Redis's limit is
 * 2^64): XADD refuses a new entry past it.
 */
export const MAX_STREAM_ENTRIES = 100_000_000;

/** Redis's cap on one entry's field and value bytes (STREAM_LISTPACK_MAX_SIZE). */
export const STREAM_MAX_ENTRY_BYTES = 2 ** 30;

/** A stream's own bytes in its memory estimate, a group's, and each pending entry's. */
const STREAM_OVERHEAD_BYTES = 64;
const GROUP_OVERHEAD_BYTES = 128;
const PENDING_ENTRY_BYTES = 96;
/** Groups summed on each measure at most; past it the charge is reused (see `memoryBytesWalks`). */
const MEMORY_WALKED_GROUPS = 8;

/** How an entry is read: its ID, packed pairs and pair count. */
export type EntryVisitor = (id: string, fields: string, count: number) => boolean;

/** An ID's words, read once per lookup (set by {@link setKey}). */
let kA = 0;
let kB = 0;
let kC = 0;
let kD = 0;

function setKey(id: string): void {
  kA = idWord(id, 0);
  kB = idWord(id, 1);
  kC = idWord(id, 2);
  kD = idWord(id, 3);
}

/**
 * A stream value (see the module doc).
 *
 * @example
 * ```ts
 * const s = new StreamValue();
 * s.lastId; // MIN_ID
 * ```
 */
export class StreamValue extends Collection {
  readonly nodes: StreamNode[] = [];
  #length = 0;
  /** Entries in the nodes, tombstones included. */
  #stored = 0;
  /**
   * The nodes' `memoryBytes`, kept as they change: a pipelined XADD into
   * a 100k-entry stream summed its 1000 nodes every 16th entry for its
   * memory charge (~12% of the server's CPU, `--cpu-prof`).
   */
  #nodesBytes = 0;
  /** The last ID; "" when only its numbers are kept (see {@link appendNew}). */
  #lastId = MIN_ID;
  /** {@link lastId}'s parts as numbers (see `lastMs`, `lastSeq`). */
  #lastMs = 0;
  #lastSeq = 0;
  /** Entries ever added. */
  entriesAdded = 0;
  /** The largest ID XDEL deleted. */
  maxDeletedId = MIN_ID;
  /** Consumer groups by name. */
  groups = new Map<string, StreamGroup>();

  /** The last ID generated (XADD) or set (XSETID). */
  get lastId(): string {
    if (this.#lastId === "") this.#lastId = makeId(this.#lastMs, this.#lastSeq);
    return this.#lastId;
  }

  set lastId(id: string) {
    this.#lastId = id;
    this.#lastMs = idMsNumber(id);
    this.#lastSeq = this.#lastMs < 0 ? -1 : idSeqNumber(id);
  }

  /**
   * The last ID's ms part as a number, -1 when not below 2^53: XADD's
   * next ID from numbers, the last one not decoded again per entry.
   */
  get lastMs(): number {
    return this.#lastMs;
  }

  /** The last ID's seq part as a number, -1 when it or the ms part is not below 2^53. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * Whether the ID `ms-seq` (both below 2^53) is above {@link lastId}: in
   * numbers when the last ID's parts are exact, else as IDs.
   */
  lastIdBelow(ms: number, seq: number): boolean {
    const lastMs = this.#lastMs;
    if (lastMs >= 0 && this.#lastSeq >= 0) {
      return ms > lastMs || (ms === lastMs && seq > this.#lastSeq);
    }
    return makeId(ms, seq) > this.lastId;
  }

  get typeName(): string {
    return "stream";
  }

  get snapshotType(): number {
    return SNAPSHOT_TYPE_STREAM;
  }

  /** Live entries (XLEN). A stream stays in the keyspace when it has none. */
  get length(): number {
    return this.#length;
  }

  /** Its nodes' bytes are kept as a sum; only many groups make its measure a walk. */
  override get memoryBytesWalks(): boolean {
    return this.groups.size > MEMORY_WALKED_GROUPS;
  }

  override get keptEmpty(): boolean {
    return true;
  }

  encoding(): string {
    return "stream";
  }

  /**
   * Whether a new entry of these pairs would start a new node (Redis's
   * test in `streamAppendItem`): the tail's listpack plus the raw bytes
   * reach `stream-node-max-bytes`, or it holds `stream-node-max-entries`.
   */
  needsNewNode(parts: readonly string[], from = 0): boolean {
    const tail = this.nodes[this.nodes.length - 1];
    if (tail === undefined) return true;
    let raw = 0;
    for (let i = from; i < parts.length; i++) raw += parts[i].length;
    const maxBytes = STREAM_NODE_LIMITS.maxBytes === 0
      ? STREAM_MAX_ENTRY_BYTES
      : STREAM_NODE_LIMITS.maxBytes;
    if (tail.bytes() + raw >= maxBytes) return true;
    const maxEntries = STREAM_NODE_LIMITS.maxEntries;
    return maxEntries > 0 && tail.live + tail.deleted >= maxEntries;
  }

  /**
   * Appends an entry (`id` above every ID held), in a new node when
   * `newNode`; `parts[from..]` are its field-value pairs. Counts it as
   * added and makes `id` the last ID.
   */
  append(id: string, parts: readonly string[], newNode: boolean, from = 0): void {
    this.#appendWords(
      idWord(id, 0),
      idWord(id, 1),
      idWord(id, 2),
      idWord(id, 3),
      parts,
      newNode,
      from,
    );
    this.#lastId = id;
  }

  /**
   * {@link append} of the ID `ms-seq` (both below 2^53, above
   * {@link lastId}): XADD's usual new ID, kept as numbers (its string is
   * made if {@link lastId} is read). Making the ID a string, comparing it
   * and reading its words back cost XADD ~150 ns; with the head-node
   * `shift` of {@link trim}: in-process XADD of bench's row 800 -> 580 ns
   * (alternating runs against a1050c2).
   */
  appendNew(ms: number, seq: number, parts: readonly string[], newNode: boolean, from = 0): void {
    assert(
      Number.isSafeInteger(ms) && Number.isSafeInteger(seq) && this.lastIdBelow(ms, seq),
      "a new stream ID from numbers is exact and above the last",
    );
    this.#appendWords(highWord(ms), ms >>> 0, highWord(seq), seq >>> 0, parts, newNode, from);
    this.#lastId = "";
  }

  #appendWords(
    a: number,
    b: number,
    c: number,
    d: number,
    parts: readonly string[],
    newNode: boolean,
    from: number,
  ): void {
    let node = this.nodes[this.nodes.length - 1];
    if (newNode || node === undefined) {
      const fields: string[] = [];
      for (let i = from; i < parts.length; i += 2) fields.push(parts[i]);
      node = StreamNode.sizedAfter(fields, node);
      this.nodes.push(node);
    } else {
      this.#nodesBytes -= node.memoryBytes();
    }
    node.append(a, b, c, d, parts, from);
    this.#nodesBytes += node.memoryBytes();
    this.#length++;
    this.#stored++;
    this.entriesAdded++;
    this.#lastMs = node.tailMs;
    this.#lastSeq = node.tailSeq;
  }

  /** The index of the node that would hold the key (the last whose first ID is at most it; 0 if none). */
  #nodeForKey(): number {
    const nodes = this.nodes;
    let lo = 0;
    let hi = nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (nodes[mid].compareAt(0, kA, kB, kC, kD) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : lo - 1;
  }

  /** Where live entry `id` is (node index, position), or undefined. */
  #find(id: string): { node: number; at: number } | undefined {
    setKey(id);
    const index = this.#nodeForKey();
    const node = this.nodes[index];
    if (node === undefined) return undefined;
    const at = node.lowerBound(kA, kB, kC, kD);
    if (at >= node.size || node.compareAt(at, kA, kB, kC, kD) !== 0 || node.isDead(at)) {
      return undefined;
    }
    return { node: index, at };
  }

  /** Whether `id` is a live entry. */
  has(id: string): boolean {
    return this.#find(id) !== undefined;
  }

  /** The packed pairs of live entry `id`, or undefined. */
  fieldsOf(id: string): string | undefined {
    const found = this.#find(id);
    return found === undefined ? undefined : this.nodes[found.node].fieldsAt(found.at);
  }

  /**
   * Deletes live entry `id` (XDEL): a tombstone, or its node goes with its
   * last live entry. False if not a live entry. Counters untouched.
   */
  delete(id: string): boolean {
    const found = this.#find(id);
    if (found === undefined) return false;
    const node = this.nodes[found.node];
    this.#nodesBytes -= node.memoryBytes();
    if (node.live === 1) {
      this.nodes.splice(found.node, 1);
      this.#stored -= node.size;
      node.release();
    } else {
      node.markDead(found.at);
      node.live--;
      node.deleted++;
      this.#nodesBytes += node.memoryBytes();
    }
    this.#length--;
    return true;
  }

  /**
   * Visits live entries from `start` to `end` (inclusive), ascending, or
   * descending from `end` to `start` when `rev`, until `visit` returns false.
   */
  range(start: string, end: string, rev: boolean, visit: EntryVisitor): void {
    this.walk(
      start,
      end,
      rev,
      (node, at) => visit(node.idAt(at), node.fieldsAt(at), node.countAt(at)),
    );
  }

  /**
   * {@link range} by position: `visit` gets each live entry's node and
   * place in it (read there before the stream changes), no strings made.
   */
  walk(
    start: string,
    end: string,
    rev: boolean,
    visit: (node: StreamNode, at: number) => boolean,
  ): void {
    if (start > end) return;
    const nodes = this.nodes;
    if (!rev) {
      const eA = idWord(end, 0);
      const eB = idWord(end, 1);
      const eC = idWord(end, 2);
      const eD = idWord(end, 3);
      setKey(start);
      let n = this.#nodeForKey();
      let at = nodes[n]?.lowerBound(kA, kB, kC, kD) ?? 0;
      for (; n < nodes.length; n++, at = 0) {
        const node = nodes[n];
        for (; at < node.size; at++) {
          if (node.compareAt(at, eA, eB, eC, eD) > 0) return;
          if (node.isDead(at)) continue;
          if (!visit(node, at)) return;
        }
      }
      return;
    }
    const sA = idWord(start, 0);
    const sB = idWord(start, 1);
    const sC = idWord(start, 2);
    const sD = idWord(start, 3);
    setKey(end);
    let n = this.#nodeForKey();
    if (n >= nodes.length) return;
    let at = nodes[n].lowerBound(kA, kB, kC, kD);
    if (at >= nodes[n].size || nodes[n].compareAt(at, kA, kB, kC, kD) !== 0) at--;
    for (; n >= 0; n--, at = n >= 0 ? nodes[n].size - 1 : 0) {
      const node = nodes[n];
      for (; at >= 0; at--) {
        if (node.compareAt(at, sA, sB, sC, sD) < 0) return;
        if (node.isDead(at)) continue;
        if (!visit(node, at)) return;
      }
    }
  }

  /** The first (or with `last`, the last) live entry's ID, or undefined when empty. */
  edgeId(last: boolean): string | undefined {
    const nodes = this.nodes;
    // Not through `range`: no entry's pairs read. A node an exact MINID trim
    // tombstoned whole stays (as in Redis), so the next one may be needed.
    if (!last) {
      for (const node of nodes) {
        for (let at = 0; at < node.size; at++) if (!node.isDead(at)) return node.idAt(at);
      }
      return undefined;
    }
    for (let n = nodes.length - 1; n >= 0; n--) {
      const node = nodes[n];
      for (let at = node.size - 1; at >= 0; at--) if (!node.isDead(at)) return node.idAt(at);
    }
    return undefined;
  }

  /**
   * Trims as Redis 7.0's `streamTrim`: by `maxLen` (entries kept) or, when
   * it is -1, `minId` (entries below it go). Whole nodes go first; `approx`
   * stops at the first node that cannot go whole, else that node's
   * entries are tombstoned. `limit` (0: none) caps the entries removed.
   * Returns how many entries went.
   */
  trim(maxLen: number, minId: string, approx: boolean, limit: number): number {
    const nodes = this.nodes;
    setKey(minId);
    let deleted = 0;
    let removed = 0;
    while (removed < nodes.length) {
      if (maxLen >= 0 && this.#length <= maxLen) break;
      const node = nodes[removed];
      const entries = node.live;
      if (limit > 0 && deleted + entries > limit) break;
      const whole = maxLen >= 0
        ? this.#length - entries >= maxLen
        : node.compareAt(node.size - 1, kA, kB, kC, kD) < 0;
      if (whole) {
        removed++;
        this.#nodesBytes -= node.memoryBytes();
        this.#stored -= node.size;
        this.#length -= entries;
        deleted += entries;
        continue;
      }
      if (approx) break;
      this.#nodesBytes -= node.memoryBytes();
      let fromNode = 0;
      for (let at = 0; at < node.size; at++) {
        const stop = maxLen >= 0 ? this.#length <= maxLen : node.compareAt(at, kA, kB, kC, kD) >= 0;
        if (stop) break;
        if (!node.isDead(at)) {
          node.markDead(at);
          fromNode++;
          this.#length--;
        }
      }
      node.live -= fromNode;
      node.deleted += fromNode;
      this.#nodesBytes += node.memoryBytes();
      deleted += fromNode;
      break;
    }
    for (let n = 0; n < removed; n++) nodes[n].release();
    // One node (XADD's MAXLEN ~ trims, every 100th entry): V8 mostly drops
    // the head of an array in place (it moves where the array starts) where
    // a splice copies the rest: 60-140 ns against ~5 us for a 1000-node
    // array (microbenchmark, Deno 2.9). More nodes: one splice, since a
    // shift that cannot move the start (a huge array, or during incremental
    // marking) copies the array each time.
    if (removed === 1) nodes.shift();
    else if (removed > 1) nodes.splice(0, removed);
    return deleted;
  }

  /**
   * Whether {@link trim} with these arguments would remove anything: its
   * first step, without changing anything (XADD's trims mostly find
   * nothing to do, and log nothing then).
   */
  wouldTrim(maxLen: number, minId: string, approx: boolean, limit: number): boolean {
    const node = this.nodes[0];
    if (node === undefined || (maxLen >= 0 && this.#length <= maxLen)) return false;
    if (limit > 0 && node.live > limit) return false;
    if (maxLen >= 0) {
      // Whole, or exact (its length is above the bound).
      return this.#length - node.live >= maxLen || !approx;
    }
    setKey(minId);
    if (node.compareAt(node.size - 1, kA, kB, kC, kD) < 0) return true;
    if (approx) return false;
    // Exact MINID needs a live entry below it.
    for (let at = 0; at < node.size && node.compareAt(at, kA, kB, kC, kD) < 0; at++) {
      if (!node.isDead(at)) return true;
    }
    return false;
  }

  /** Entries held, tombstones included (what {@link MAX_STREAM_ENTRIES} bounds). */
  get storedEntries(): number {
    return this.#stored;
  }

  /** Adds a node as a snapshot chunk or a copy holds it (in order, after every node held). */
  addNode(node: StreamNode): void {
    this.nodes.push(node);
    this.#nodesBytes += node.memoryBytes();
    this.#length += node.live;
    this.#stored += node.size;
  }

  clone(): StreamValue {
    const copy = new StreamValue();
    for (const node of this.nodes) copy.addNode(node.copy());
    copy.lastId = this.lastId;
    copy.entriesAdded = this.entriesAdded;
    copy.maxDeletedId = this.maxDeletedId;
    for (const [name, group] of this.groups) copy.groups.set(name, group.clone());
    return copy;
  }

  memoryBytes(): number {
    let bytes = STREAM_OVERHEAD_BYTES + this.#nodesBytes;
    // Measured after every change: a stream without groups makes no
    // iterator (its two builtin calls were ~3% of an in-process XADD).
    if (this.groups.size === 0) return bytes;
    for (const group of this.groups.values()) {
      bytes += GROUP_OVERHEAD_BYTES + group.entries.size * PENDING_ENTRY_BYTES;
    }
    return bytes;
  }

  rebuildRecords(emit: RecordSink): void {
    for (const sink of streamRebuildSteps(this)) emit(sink.op, sink.value, 0);
  }

  snapshotChunk(from: number, maxBytes: number): { body: string; next: number } {
    return snapshotChunk(this, from, maxBytes);
  }

  loadChunk(body: string): void {
    loadChunk(this, body);
  }
}

// ---------------------------------------------------------------------------
// Snapshot chunks and rebuild records.

/** A record that rebuilds part of a stream. */
export interface RebuildStep {
  op: number;
  value: string;
}

/** Set by `stream_records.ts` (which imports this module): how a stream is rebuilt as records. */
let rebuildSteps: (stream: StreamValue) => RebuildStep[] = () => [];

/** Installs the rebuild-record builder (see `stream_records.ts`). */
export function setStreamRebuild(build: (stream: StreamValue) => RebuildStep[]): void {
  rebuildSteps = build;
}

function streamRebuildSteps(stream: StreamValue): RebuildStep[] {
  return rebuildSteps(stream);
}

const TAG_NODE = 78; // "N"
const TAG_META = 77; // "M"
const TAG_GROUP = 71; // "G"
const TAG_CONSUMERS = 67; // "C"
const TAG_PENDING = 80; // "P"

/** A node as a chunk item: its master fields, then each entry with its tombstone flag. */
function nodeItem(node: StreamNode): string {
  let out = String.fromCharCode(TAG_NODE) + u32le(node.masterFields.length);
  for (const field of node.masterFields) out += str(field);
  out += u32le(node.size) + num(node.entryBytes);
  for (let i = 0; i < node.size; i++) {
    out += String.fromCharCode(node.isDead(i) ? 1 : 0) + node.idAt(i) + u32le(node.countAt(i)) +
      str(node.fieldsAt(i));
  }
  return out;
}

/** The counters as a chunk item. */
function metaItem(stream: StreamValue): string {
  return String.fromCharCode(TAG_META) + stream.lastId + num(stream.entriesAdded) +
    stream.maxDeletedId;
}

/** Consumers or pending entries of a group per chunk item: no item grows with a group. */
const GROUP_SLICE = 1000;

/** A group's position as a chunk item (its consumers and PEL follow in slices). */
function groupItem(name: string, group: StreamGroup): string {
  return String.fromCharCode(TAG_GROUP) + str(name) + group.lastId + num(group.entriesRead);
}

/** Consumers `from`.. of a group (at most GROUP_SLICE) as a chunk item. */
function consumersItem(name: string, group: StreamGroup, from: number): string {
  const slice = [...group.consumers].slice(from, from + GROUP_SLICE);
  let out = String.fromCharCode(TAG_CONSUMERS) + str(name) + u32le(slice.length);
  for (const [consumer, c] of slice) out += str(consumer) + num(c.seenTimeMs);
  return out;
}

/** Pending entries `from`.. of a group (at most GROUP_SLICE) as a chunk item. */
function pendingItem(name: string, group: StreamGroup, from: number): string {
  const end = Math.min(group.pending.size, from + GROUP_SLICE);
  let out = String.fromCharCode(TAG_PENDING) + str(name) + u32le(end - from);
  for (let i = from; i < end; i++) {
    const id = group.pending.at(i);
    const e = group.entries.get(id)!;
    out += id + str(e.consumer) + num(e.deliveryTimeMs) + num(e.deliveryCount);
  }
  return out;
}

/** The chunk items after the nodes and counters: each group, then its consumers' and PEL's slices. */
function groupPieces(stream: StreamValue): (() => string)[] {
  const pieces: (() => string)[] = [];
  for (const [name, group] of stream.groups) {
    pieces.push(() => groupItem(name, group));
    for (let at = 0; at < group.consumers.size; at += GROUP_SLICE) {
      pieces.push(() => consumersItem(name, group, at));
    }
    for (let at = 0; at < group.pending.size; at += GROUP_SLICE) {
      pieces.push(() => pendingItem(name, group, at));
    }
  }
  return pieces;
}

/**
 * Chunk positions: 0..nodes-1 the nodes (several per chunk up to
 * `maxBytes`), then one for the counters, then the groups' pieces.
 */
function snapshotChunk(
  stream: StreamValue,
  from: number,
  maxBytes: number,
): { body: string; next: number } {
  const nodes = stream.nodes;
  let body = "";
  let at = from;
  while (at < nodes.length && (body === "" || body.length < maxBytes)) {
    body += nodeItem(nodes[at++]);
  }
  if (at < nodes.length || body.length >= maxBytes) return { body, next: at };
  const pieces = groupPieces(stream);
  const end = nodes.length + 1 + pieces.length;
  while (at < end && (body === "" || body.length < maxBytes)) {
    body += at === nodes.length ? metaItem(stream) : pieces[at - nodes.length - 1]();
    at++;
  }
  return { body, next: at < end ? at : -1 };
}

function loadChunk(stream: StreamValue, body: string): void {
  const r = new ByteReader(body);
  while (!r.done) {
    const tag = r.u8();
    if (tag === TAG_NODE) {
      const masterCount = r.u32();
      const masterFields: string[] = [];
      for (let i = 0; i < masterCount; i++) masterFields.push(r.str());
      const node = new StreamNode(masterFields);
      const count = r.u32();
      node.entryBytes = r.num();
      for (let i = 0; i < count; i++) {
        const dead = r.u8() === 1;
        const id = r.id();
        const pairs = r.u32();
        node.appendPacked(id, r.str(), pairs, dead);
        if (dead) node.deleted++;
        else node.live++;
      }
      if (node.live > 0) stream.addNode(node);
    } else if (tag === TAG_META) {
      stream.lastId = r.id();
      stream.entriesAdded = r.num();
      stream.maxDeletedId = r.id();
    } else if (tag === TAG_GROUP) {
      const name = r.str();
      stream.groups.set(name, new StreamGroup(r.id(), r.num()));
    } else if (tag === TAG_CONSUMERS || tag === TAG_PENDING) {
      const group = stream.groups.get(r.str());
      if (group === undefined) throw new RangeError("a stream chunk names a group not loaded");
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        if (tag === TAG_CONSUMERS) {
          group.consumer(r.str(), 0).seenTimeMs = r.num();
        } else {
          const id = r.id();
          group.setPending(id, r.str(), r.num(), r.num());
        }
      }
    } else {
      throw new RangeError(`a stream chunk holds an item of unknown kind ${tag}`);
    }
  }
}

export { ENTRIES_READ_UNKNOWN };
