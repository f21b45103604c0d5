/**
 * A stream in Redis 7.0's RDB format, RDB_TYPE_STREAM_LISTPACKS_2 (19),
 * as DUMP writes it and RESTORE reads it: each node as its master ID (the
 * radix-tree key, 16 bytes) and its listpack — built entry by entry as
 * Redis's `streamAppendItem` builds it (master entry of the node's first
 * fields, then per entry its flags, ID deltas, fields unless the same as
 * the master's, values and element count) — then the length, the last,
 * first and largest deleted IDs, the entries added, and each consumer
 * group with its pending entries (raw IDs, delivery times and counts) and
 * consumers (seen times, their own pending IDs).
 *
 * @example
 * ```ts
 * const out = new ByteWriter();
 * writeStreamRdb(out, stream);
 * readStreamRdb(new RdbReader(out.finish())); // an equal StreamValue
 * ```
 * @module
 */

import type { ByteWriter } from "../../keyspace/rdb/byte_writer.ts";
import { decodeListpack, encodeListpack } from "../../keyspace/rdb/listpack.ts";
import { type RdbReader, writeRdbLength, writeRdbString } from "../../keyspace/rdb/rdb_string.ts";
import { bytesToBinary } from "../../bytes/binary_string.ts";
import { packFields, unpackFields } from "./_stream_codec.ts";
import { StreamNode, StreamValue } from "./stream.ts";
import { firstId } from "./stream_counters.ts";
import { ENTRIES_READ_UNKNOWN, StreamGroup } from "./stream_group.ts";
import { ID_BYTES, idMs, idMsNumber, idSeq, idSeqNumber, makeBigId } from "./stream_id.ts";

/** Redis's RDB type byte of a stream with its 7.0 counters. */
export const RDB_TYPE_STREAM_LISTPACKS_2 = 19;

const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;
const U64 = 1n << 64n;

/** An unsigned 64-bit RDB length (rdbSaveLen of a uint64_t). */
function writeLen64(out: ByteWriter, value: bigint): void {
  if (value < 0x1_0000_0000n) {
    writeRdbLength(out, Number(value));
    return;
  }
  out.u8(0x81).u32be(Number(value >> 32n)).u32be(Number(value & 0xffffffffn));
}

/** An unsigned 64-bit RDB length as a bigint; undefined on bad bytes. */
function readLen64(reader: RdbReader): bigint | undefined {
  const bytes = reader.bytes;
  const first = reader.byte();
  if (first === undefined) return undefined;
  const kind = first >> 6;
  if (kind === 0) return BigInt(first & 0x3f);
  if (kind === 1) {
    const second = reader.byte();
    return second === undefined ? undefined : BigInt(((first & 0x3f) << 8) | second);
  }
  const size = first === 0x80 ? 4 : first === 0x81 ? 8 : 0;
  if (size === 0 || reader.at + size > bytes.length) return undefined;
  let value = 0n;
  for (let i = 0; i < size; i++) value = (value << 8n) | BigInt(bytes[reader.at++]);
  return value;
}

function readSafe(reader: RdbReader): number | undefined {
  const v = readLen64(reader);
  return v === undefined || v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v);
}

function writeId(out: ByteWriter, id: string): void {
  writeLen64(out, idMs(id));
  writeLen64(out, idSeq(id));
}

function readId(reader: RdbReader): string | undefined {
  const ms = readLen64(reader);
  const seq = readLen64(reader);
  return ms === undefined || seq === undefined ? undefined : makeBigId(ms, seq);
}

/** Milliseconds as rdbSaveMillisecondTime: 8 bytes, little-endian. */
function writeMs(out: ByteWriter, ms: number): void {
  out.intLE(BigInt(ms), 8);
}

function readMs(reader: RdbReader): number | undefined {
  if (reader.at + 8 > reader.bytes.length) return undefined;
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(reader.bytes[reader.at + i]);
  reader.at += 8;
  const n = Number(BigInt.asIntN(64, v));
  return Number.isSafeInteger(n) ? n : undefined;
}

function rawId(reader: RdbReader): string | undefined {
  if (reader.at + ID_BYTES > reader.bytes.length) return undefined;
  const id = bytesToBinary(reader.bytes, reader.at, reader.at + ID_BYTES);
  reader.at += ID_BYTES;
  return id;
}

/** A node's listpack elements, as Redis's listpack holds them. */
function nodeElements(node: StreamNode): string[] {
  const master = node.idAt(0);
  const masterMs = idMs(master);
  const masterSeq = idSeq(master);
  const out: string[] = [String(node.live), String(node.deleted), String(node.masterFields.length)];
  out.push(...node.masterFields, "0");
  for (let i = 0; i < node.size; i++) {
    const parts = unpackFields(node.fieldsAt(i));
    const pairs = parts.length / 2;
    let same = pairs === node.masterFields.length;
    for (let f = 0; same && f < pairs; f++) same = parts[f * 2] === node.masterFields[f];
    const flags = (node.isDead(i) ? FLAG_DELETED : 0) | (same ? FLAG_SAMEFIELDS : 0);
    out.push(String(flags));
    const id = node.idAt(i);
    out.push(String(BigInt.asIntN(64, idMs(id) - masterMs)));
    out.push(String(BigInt.asIntN(64, idSeq(id) - masterSeq)));
    if (!same) out.push(String(pairs));
    for (let f = 0; f < pairs; f++) {
      if (!same) out.push(parts[f * 2]);
      out.push(parts[f * 2 + 1]);
    }
    out.push(String(same ? pairs + 3 : pairs * 2 + 4));
  }
  return out;
}

/**
 * Writes `stream`'s body (after the type byte) as Redis 7.0 saves it.
 *
 * @example
 * ```ts
 * writeStreamRdb(out, stream);
 * ```
 */
export function writeStreamRdb(out: ByteWriter, stream: StreamValue): void {
  writeRdbLength(out, stream.nodes.length);
  for (const node of stream.nodes) {
    writeRdbString(out, node.idAt(0));
    writeRdbString(out, encodeListpack(nodeElements(node)));
  }
  writeRdbLength(out, stream.length);
  writeId(out, stream.lastId);
  writeId(out, firstId(stream));
  writeId(out, stream.maxDeletedId);
  writeRdbLength(out, stream.entriesAdded);
  const groups = [...stream.groups].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  writeRdbLength(out, groups.length);
  for (const [name, group] of groups) {
    writeRdbString(out, name);
    writeId(out, group.lastId);
    writeLen64(out, BigInt.asUintN(64, BigInt(group.entriesRead)));
    writeRdbLength(out, group.pending.size);
    for (let i = 0; i < group.pending.size; i++) {
      const id = group.pending.at(i);
      const e = group.entries.get(id)!;
      out.binary(id);
      writeMs(out, e.deliveryTimeMs);
      writeRdbLength(out, e.deliveryCount);
    }
    const consumers = [...group.consumers].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    writeRdbLength(out, consumers.length);
    for (const [consumerName, consumer] of consumers) {
      writeRdbString(out, consumerName);
      writeMs(out, consumer.seenTimeMs);
      writeRdbLength(out, consumer.pending.size);
      for (let i = 0; i < consumer.pending.size; i++) out.binary(consumer.pending.at(i));
    }
  }
}

/** A node read back from its listpack, or undefined for bytes Redis would refuse. */
function readNode(masterId: string, blob: Uint8Array): StreamNode | undefined {
  const el = decodeListpack(blob);
  if (el === undefined || el.length < 4) return undefined;
  let at = 0;
  const next = (): string | undefined => el[at++];
  const int = (): bigint | undefined => {
    const s = next();
    return s !== undefined && /^-?[0-9]+$/.test(s) ? BigInt(s) : undefined;
  };
  const live = int();
  const deleted = int();
  const masterCount = int();
  if (live === undefined || deleted === undefined || masterCount === undefined) return undefined;
  if (masterCount < 0n || BigInt(el.length) < masterCount + 4n) return undefined;
  const masterFields: string[] = [];
  for (let i = 0; i < masterCount; i++) masterFields.push(next()!);
  if (next() !== "0") return undefined;
  const node = new StreamNode(masterFields);
  const masterMs = idMs(masterId);
  const masterSeq = idSeq(masterId);
  let previous: string | undefined;
  while (at < el.length) {
    const flags = int();
    const msDelta = int();
    const seqDelta = int();
    if (flags === undefined || msDelta === undefined || seqDelta === undefined) return undefined;
    const same = (flags & BigInt(FLAG_SAMEFIELDS)) !== 0n;
    const pairs = same ? masterCount : int();
    if (pairs === undefined || pairs < 0n || BigInt(at) + pairs * (same ? 1n : 2n) >= el.length) {
      return undefined;
    }
    const parts: string[] = [];
    for (let f = 0; f < pairs; f++) {
      parts.push(same ? masterFields[f] : next()!);
      parts.push(next()!);
    }
    if (int() === undefined) return undefined; // lp-count
    const id = makeBigId((masterMs + msDelta + U64) % U64, (masterSeq + seqDelta + U64) % U64);
    if (previous !== undefined && id <= previous) return undefined;
    previous = id;
    const dead = (flags & BigInt(FLAG_DELETED)) !== 0n;
    node.appendPacked(id, packFields(parts, 0), parts.length / 2, dead);
    if (dead) node.deleted++;
    else node.live++;
  }
  if (node.size === 0 || node.idAt(0) !== masterId || node.live === 0) return undefined;
  if (BigInt(node.live) !== live || BigInt(node.deleted) !== deleted) return undefined;
  // The entries' share of the listpack as it is (the master entry computed as kvdb does).
  node.entryBytes = 0;
  node.entryBytes = blob.length - node.bytes();
  node.masterMs = idMsNumber(masterId);
  node.masterSeq = idSeqNumber(masterId);
  return node;
}

/**
 * Reads a stream body (after the type byte); undefined for what Redis
 * calls "Bad data format".
 *
 * @example
 * ```ts
 * readStreamRdb(reader); // a StreamValue, or undefined
 * ```
 */
export function readStreamRdb(reader: RdbReader): StreamValue | undefined {
  const stream = new StreamValue();
  const nodes = reader.length();
  if (nodes === undefined) return undefined;
  for (let i = 0; i < nodes; i++) {
    const key = reader.string();
    const blob = reader.stringBytes();
    if (key === undefined || key.length !== ID_BYTES || blob === undefined) return undefined;
    const node = readNode(key, blob);
    if (node === undefined) return undefined;
    const last = stream.nodes.at(-1);
    if (last !== undefined && node.idAt(0) <= last.lastIdAt()) return undefined;
    stream.addNode(node);
  }
  const length = readSafe(reader);
  const lastId = readId(reader);
  const first = readId(reader);
  const maxDeleted = readId(reader);
  const entriesAdded = readSafe(reader);
  if (
    length === undefined || lastId === undefined || first === undefined ||
    maxDeleted === undefined || entriesAdded === undefined || length !== stream.length
  ) {
    return undefined;
  }
  const top = stream.nodes.at(-1);
  if (top !== undefined && top.lastIdAt() > lastId) return undefined;
  stream.lastId = lastId;
  stream.entriesAdded = entriesAdded;
  stream.maxDeletedId = maxDeleted;
  const groups = reader.length();
  if (groups === undefined) return undefined;
  for (let g = 0; g < groups; g++) {
    const name = reader.string();
    const groupLast = readId(reader);
    const read = readLen64(reader);
    if (name === undefined || groupLast === undefined || read === undefined) return undefined;
    if (stream.groups.has(name)) return undefined;
    const entriesRead = Number(BigInt.asIntN(64, read));
    if (entriesRead < ENTRIES_READ_UNKNOWN || !Number.isSafeInteger(entriesRead)) return undefined;
    const group = new StreamGroup(groupLast, entriesRead);
    const pel = reader.length();
    if (pel === undefined) return undefined;
    const nacks = new Map<string, { time: number; count: number }>();
    for (let i = 0; i < pel; i++) {
      const id = rawId(reader);
      const time = readMs(reader);
      const count = readSafe(reader);
      if (id === undefined || time === undefined || count === undefined || nacks.has(id)) {
        return undefined;
      }
      nacks.set(id, { time, count });
    }
    const consumers = reader.length();
    if (consumers === undefined) return undefined;
    for (let c = 0; c < consumers; c++) {
      const consumerName = reader.string();
      const seen = readMs(reader);
      const owned = reader.length();
      if (consumerName === undefined || seen === undefined || owned === undefined) return undefined;
      if (group.consumers.has(consumerName)) return undefined;
      group.consumer(consumerName, seen);
      for (let i = 0; i < owned; i++) {
        const id = rawId(reader);
        const nack = id === undefined ? undefined : nacks.get(id);
        // Redis refuses a consumer's pending ID missing from its group's PEL, or owned twice.
        if (id === undefined || nack === undefined || group.entries.has(id)) return undefined;
        group.setPending(id, consumerName, nack.time, nack.count);
      }
    }
    if (group.entries.size !== nacks.size) return undefined;
    stream.groups.set(name, group);
  }
  return stream;
}
