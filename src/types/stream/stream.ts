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
 * A node holds its entries' IDs (16-byte strings: string order is ID
 * order) and each entry's pairs packed in one string; lookups binary-search
 * the nodes, then the node: a range costs O(log n + k).
 *
 * @example
 * ```ts
 * const s = new StreamValue();
 * s.append(makeId(1, 0), packFields(["f", "v"], 0), 1);
 * s.length; // 1
 * ```
 * @module
 */

import { Collection, type RecordSink } from "../collection.ts";
import { ByteReader, num, str, u32le } from "./_stream_codec.ts";
import {
  bigIntElementBytes,
  intElementBytes,
  LISTPACK_EMPTY_BYTES,
  stringElementBytes,
} from "./_listpack_size.ts";
import { idMs, idMsNumber, idSeq, idSeqNumber, MIN_ID } from "./stream_id.ts";
import { ENTRIES_READ_UNKNOWN, StreamGroup } from "./stream_group.ts";

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

/** One node: up to a listpack's worth of entries. */
export class StreamNode {
  readonly ids: string[] = [];
  /** Each entry's field-value pairs (see `packFields`). */
  readonly fields: string[] = [];
  /** Each entry's pair count. */
  readonly counts: number[] = [];
  /** 1 for a deleted entry (a tombstone). */
  readonly dead: number[] = [];
  live = 0;
  deleted = 0;
  /** Bytes of the entries' listpack elements. */
  entryBytes = 0;
  /** The master entry's field names' elements' bytes. */
  readonly masterFieldBytes: number;
  /** The master entry's ID's parts as numbers (-1: not below 2^53), set by the first entry. */
  masterMs = -1;
  masterSeq = -1;

  constructor(readonly masterFields: readonly string[]) {
    let bytes = 0;
    for (const field of masterFields) bytes += stringElementBytes(field);
    this.masterFieldBytes = bytes;
  }

  /** The listpack's bytes (Redis's lpBytes). */
  bytes(): number {
    return LISTPACK_EMPTY_BYTES + intElementBytes(this.live) + intElementBytes(this.deleted) +
      intElementBytes(this.masterFields.length) + this.masterFieldBytes + 2 + this.entryBytes;
  }

  /** The position of the first ID at or after `id`. */
  lowerBound(id: string): number {
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Bytes of an integer element holding `a - b` as a signed 64-bit value (listpack's deltas). */
function deltaBytes(a: number, b: number, aBig: () => bigint, bBig: () => bigint): number {
  if (a >= 0 && b >= 0) return intElementBytes(a - b);
  return bigIntElementBytes(BigInt.asIntN(64, aBig() - bBig()));
}

/** Bytes of the listpack elements of a new entry in `node`. */
function entryElementBytes(
  node: StreamNode,
  id: string,
  parts: readonly string[],
  from: number,
  same: boolean,
): number {
  if (node.ids.length === 0) {
    node.masterMs = idMsNumber(id);
    node.masterSeq = idSeqNumber(id);
  }
  const master = node.ids.length === 0 ? id : node.ids[0];
  const pairs = (parts.length - from) / 2;
  let bytes = 2; // flags
  const ms = idMsNumber(id);
  const seq = ms < 0 ? -1 : idSeqNumber(id);
  bytes += deltaBytes(ms, node.masterMs, () => idMs(id), () => idMs(master));
  bytes += deltaBytes(seq, node.masterSeq, () => idSeq(id), () => idSeq(master));
  if (!same) bytes += intElementBytes(pairs);
  for (let i = from; i < parts.length; i += 2) {
    if (!same) bytes += stringElementBytes(parts[i]);
    bytes += stringElementBytes(parts[i + 1]);
  }
  return bytes + intElementBytes(same ? pairs + 3 : pairs * 2 + 4);
}

/** How an entry is read: its ID, packed pairs and pair count. */
export type EntryVisitor = (id: string, fields: string, count: number) => boolean;

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
  nodes: StreamNode[] = [];
  #length = 0;
  /** Entries in the nodes, tombstones included. */
  #stored = 0;
  /** The last ID generated (XADD) or set (XSETID). */
  lastId = MIN_ID;
  /** Entries ever added. */
  entriesAdded = 0;
  /** The largest ID XDEL deleted. */
  maxDeletedId = MIN_ID;
  /** Consumer groups by name. */
  groups = new Map<string, StreamGroup>();

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

  /** Sums its nodes (XADD took it on every entry: ~50% of a pipelined XADD's CPU). */
  override get memoryBytesWalks(): boolean {
    return true;
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
   * `newNode`; `parts` are its field-value pairs. Counts it as added and
   * makes `id` the last ID.
   */
  append(
    id: string,
    parts: readonly string[],
    packed: string,
    newNode: boolean,
    from = 0,
  ): void {
    let node = this.nodes[this.nodes.length - 1];
    let same: boolean;
    const pairs = (parts.length - from) / 2;
    if (newNode || node === undefined) {
      const fields: string[] = [];
      for (let i = from; i < parts.length; i += 2) fields.push(parts[i]);
      node = new StreamNode(fields);
      this.nodes.push(node);
      same = true;
    } else {
      const master = node.masterFields;
      same = master.length === pairs;
      for (let i = 0; same && i < master.length; i++) same = master[i] === parts[from + i * 2];
    }
    node.entryBytes += entryElementBytes(node, id, parts, from, same);
    node.ids.push(id);
    node.fields.push(packed);
    node.counts.push(pairs);
    node.dead.push(0);
    node.live++;
    this.#length++;
    this.#stored++;
    this.entriesAdded++;
    this.lastId = id;
  }

  /** The index of the node that would hold `id` (the last whose first ID is at most `id`; 0 if none). */
  #nodeFor(id: string): number {
    const nodes = this.nodes;
    let lo = 0;
    let hi = nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (nodes[mid].ids[0] <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : lo - 1;
  }

  /** Whether `id` is a live entry. */
  has(id: string): boolean {
    const node = this.nodes[this.#nodeFor(id)];
    if (node === undefined) return false;
    const at = node.lowerBound(id);
    return at < node.ids.length && node.ids[at] === id && node.dead[at] === 0;
  }

  /** The packed pairs of live entry `id`, or undefined. */
  fieldsOf(id: string): string | undefined {
    const node = this.nodes[this.#nodeFor(id)];
    if (node === undefined) return undefined;
    const at = node.lowerBound(id);
    if (at >= node.ids.length || node.ids[at] !== id || node.dead[at] === 1) return undefined;
    return node.fields[at];
  }

  /**
   * Deletes live entry `id` (XDEL): a tombstone, or its node goes with its
   * last live entry. False if not a live entry. Counters untouched.
   */
  delete(id: string): boolean {
    const index = this.#nodeFor(id);
    const node = this.nodes[index];
    if (node === undefined) return false;
    const at = node.lowerBound(id);
    if (at >= node.ids.length || node.ids[at] !== id || node.dead[at] === 1) return false;
    if (node.live === 1) {
      this.nodes.splice(index, 1);
      this.#stored -= node.ids.length;
    } else {
      node.dead[at] = 1;
      node.live--;
      node.deleted++;
    }
    this.#length--;
    return true;
  }

  /**
   * Visits live entries from `start` to `end` (inclusive), ascending, or
   * descending from `end` to `start` when `rev`, until `visit` returns false.
   */
  range(start: string, end: string, rev: boolean, visit: EntryVisitor): void {
    if (start > end) return;
    const nodes = this.nodes;
    if (!rev) {
      let n = this.#nodeFor(start);
      let at = nodes[n]?.lowerBound(start) ?? 0;
      for (; n < nodes.length; n++, at = 0) {
        const node = nodes[n];
        for (; at < node.ids.length; at++) {
          const id = node.ids[at];
          if (id > end) return;
          if (node.dead[at] === 1) continue;
          if (!visit(id, node.fields[at], node.counts[at])) return;
        }
      }
      return;
    }
    let n = this.#nodeFor(end);
    if (n >= nodes.length) return;
    let at = nodes[n].lowerBound(end);
    if (at >= nodes[n].ids.length || nodes[n].ids[at] !== end) at--;
    for (; n >= 0; n--, at = n >= 0 ? nodes[n].ids.length - 1 : 0) {
      const node = nodes[n];
      for (; at >= 0; at--) {
        const id = node.ids[at];
        if (id < start) return;
        if (node.dead[at] === 1) continue;
        if (!visit(id, node.fields[at], node.counts[at])) return;
      }
    }
  }

  /** The first (or with `last`, the last) live entry's ID, or undefined when empty. */
  edgeId(last: boolean): string | undefined {
    let found: string | undefined;
    this.range(MIN_ID, "\xff".repeat(16), last, (id) => {
      found = id;
      return false;
    });
    return found;
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
    let deleted = 0;
    let removed = 0;
    while (removed < nodes.length) {
      if (maxLen >= 0 && this.#length <= maxLen) break;
      const node = nodes[removed];
      const entries = node.live;
      if (limit > 0 && deleted + entries > limit) break;
      const whole = maxLen >= 0
        ? this.#length - entries >= maxLen
        : node.ids[node.ids.length - 1] < minId;
      if (whole) {
        removed++;
        this.#stored -= node.ids.length;
        this.#length -= entries;
        deleted += entries;
        continue;
      }
      if (approx) break;
      let fromNode = 0;
      for (let at = 0; at < node.ids.length; at++) {
        const stop = maxLen >= 0 ? this.#length <= maxLen : node.ids[at] >= minId;
        if (stop) break;
        if (node.dead[at] === 0) {
          node.dead[at] = 1;
          fromNode++;
          this.#length--;
        }
      }
      node.live -= fromNode;
      node.deleted += fromNode;
      deleted += fromNode;
      break;
    }
    if (removed > 0) nodes.splice(0, removed);
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
    const whole = maxLen >= 0
      ? this.#length - node.live >= maxLen
      : node.ids[node.ids.length - 1] < minId;
    if (whole) return true;
    if (approx) return false;
    // Exact: MAXLEN's length is above the bound; MINID needs a live entry below it.
    if (maxLen >= 0) return true;
    for (let at = 0; at < node.ids.length && node.ids[at] < minId; at++) {
      if (node.dead[at] === 0) return true;
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
    this.#length += node.live;
    this.#stored += node.ids.length;
  }

  clone(): StreamValue {
    const copy = new StreamValue();
    for (const node of this.nodes) {
      const twin = new StreamNode(node.masterFields);
      twin.ids.push(...node.ids);
      twin.fields.push(...node.fields);
      twin.counts.push(...node.counts);
      twin.dead.push(...node.dead);
      twin.live = node.live;
      twin.deleted = node.deleted;
      twin.entryBytes = node.entryBytes;
      twin.masterMs = node.masterMs;
      twin.masterSeq = node.masterSeq;
      copy.addNode(twin);
    }
    copy.lastId = this.lastId;
    copy.entriesAdded = this.entriesAdded;
    copy.maxDeletedId = this.maxDeletedId;
    for (const [name, group] of this.groups) copy.groups.set(name, group.clone());
    return copy;
  }

  memoryBytes(): number {
    let bytes = 64;
    for (const node of this.nodes) bytes += node.bytes() + node.ids.length * 40 + 64;
    for (const group of this.groups.values()) bytes += 128 + group.entries.size * 96;
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
  out += u32le(node.ids.length) + num(node.entryBytes);
  for (let i = 0; i < node.ids.length; i++) {
    out += String.fromCharCode(node.dead[i]) + node.ids[i] + u32le(node.counts[i]) +
      str(node.fields[i]);
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
        const dead = r.u8();
        node.dead.push(dead);
        node.ids.push(r.id());
        node.counts.push(r.u32());
        node.fields.push(r.str());
        if (dead === 1) node.deleted++;
        else node.live++;
      }
      if (node.ids.length > 0) {
        node.masterMs = idMsNumber(node.ids[0]);
        node.masterSeq = idSeqNumber(node.ids[0]);
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
