/**
 * Applies stream records (see `stream_wal.ts`) to a keyspace: replay,
 * replicas and the live commands all change streams here, so they cannot
 * differ. Total, as replay needs: a record that meets another type or a
 * missing group changes nothing (but `StreamAdd` and `StreamMeta`, which
 * make a stream), and later records put things right.
 *
 * @example
 * ```ts
 * applyStreamRecord(engine, "s", WalOp.StreamDel, delRecord(id));
 * ctx.db.changeCollection(key, WalOp.StreamDel, [delRecord(id)], ZEROS, applyStreamRecords);
 * ```
 * @module
 */

import type { Engine } from "../../storage/engine.ts";
import type { Database } from "../../storage/database.ts";
import { WalOp } from "../../wal/record.ts";
import { ByteReader, packFields, unpackFields } from "./_stream_codec.ts";
import { type RebuildStep, setStreamRebuild, StreamValue } from "./stream.ts";
import {
  addRecord,
  consumerSetRecord,
  delRecord,
  groupSetRecord,
  metaRecord,
  pendingSetRecord,
} from "./stream_wal.ts";
import { StreamGroup } from "./stream_group.ts";
import { makeId } from "./stream_id.ts";

/** The op applied by {@link applyStreamRecords} (set by {@link changeStream}). */
let currentOp = 0;

/**
 * The stream at `key`, made if missing (or, replaying over a newer state,
 * replacing another type) when `create`; else undefined unless a stream.
 */
function streamAt(engine: Engine, key: string, create: boolean): StreamValue | undefined {
  const current = engine.get(key, false);
  if (current instanceof StreamValue) return current;
  if (!create) return undefined;
  if (current !== undefined) engine.delete(key);
  const stream = new StreamValue();
  engine.setCollection(key, stream);
  return stream;
}

/**
 * Applies one stream record of op `op` with value `value` to `key`.
 *
 * @example
 * ```ts
 * applyStreamRecord(engine, "s", WalOp.StreamMeta, metaRecord(MIN_ID, 0, MIN_ID));
 * ```
 */
export function applyStreamRecord(engine: Engine, key: string, op: number, value: string): void {
  const r = new ByteReader(value);
  switch (op) {
    case WalOp.StreamAdd: {
      const newNode = r.u8() === 1;
      const id = r.id();
      const packed = r.rest();
      const stream = streamAt(engine, key, true)!;
      if (id <= stream.lastId) return;
      stream.append(id, unpackFields(packed), newNode);
      return;
    }
    case WalOp.StreamMeta: {
      const stream = streamAt(engine, key, true)!;
      stream.lastId = r.id();
      stream.entriesAdded = r.num();
      stream.maxDeletedId = r.id();
      return;
    }
  }
  const stream = streamAt(engine, key, false);
  if (stream === undefined) return;
  switch (op) {
    case WalOp.StreamDel:
      stream.delete(r.id());
      return;
    case WalOp.StreamTrim: {
      const approx = r.u8() === 1;
      const maxLen = r.num();
      const minId = r.id();
      stream.trim(maxLen, minId, approx, r.num());
      return;
    }
  }
  const groupName = r.str();
  if (op === WalOp.StreamGroupSet) {
    const lastId = r.id();
    const entriesRead = r.num();
    const group = stream.groups.get(groupName);
    if (group === undefined) stream.groups.set(groupName, newGroup(lastId, entriesRead));
    else {
      group.lastId = lastId;
      group.entriesRead = entriesRead;
    }
    return;
  }
  if (op === WalOp.StreamGroupDel) {
    stream.groups.delete(groupName);
    return;
  }
  const group = stream.groups.get(groupName);
  if (group === undefined) return;
  switch (op) {
    case WalOp.StreamConsumerSet: {
      const name = r.str();
      const seen = r.num();
      group.consumer(name, seen).seenTimeMs = seen;
      return;
    }
    case WalOp.StreamConsumerDel:
      group.deleteConsumer(r.str());
      return;
    case WalOp.StreamPendingSet: {
      const id = r.id();
      const consumer = r.str();
      const time = r.num();
      group.setPending(id, consumer, time, r.num());
      return;
    }
    case WalOp.StreamPendingDel:
      group.deletePending(r.id());
      return;
  }
}

function newGroup(lastId: string, entriesRead: number): StreamGroup {
  return new StreamGroup(lastId, entriesRead);
}

/**
 * `changeCollection`'s apply step for stream records of the op
 * {@link changeStream} set.
 */
export function applyStreamRecords(
  engine: Engine,
  key: string,
  data: readonly string[],
): void {
  for (const value of data) applyStreamRecord(engine, key, currentOp, value);
}

const ZEROS: readonly number[] = new Array<number>(64).fill(0);

/**
 * Logs and applies stream records of op `op` to `key` (one each of
 * `values`, at most 64 per call), in the command's log group.
 *
 * @example
 * ```ts
 * changeStream(ctx.db, key, WalOp.StreamDel, [delRecord(id)]);
 * ```
 */
export function changeStream(
  db: {
    changeCollection(
      key: string,
      op: number,
      data: readonly string[],
      numbers: readonly number[],
      apply: (engine: Engine, key: string, data: readonly string[]) => void,
    ): void;
  },
  key: string,
  op: number,
  values: readonly string[],
): void {
  for (let from = 0; from < values.length; from += ZEROS.length) {
    const part = from === 0 && values.length <= ZEROS.length
      ? values
      : values.slice(from, from + ZEROS.length);
    currentOp = op;
    db.changeCollection(key, op, part, ZEROS, applyStreamRecords);
  }
}

/** XADD's one record (reused: no array per XADD). */
const oneRecord: string[] = [""];

/**
 * The entry {@link changeStreamAdd} or {@link changeStreamAddNew} applies:
 * the command's own strings, not decoded back; its ID as a string, or
 * when `liveMs` is not -1, as the numbers `liveMs`-`liveSeq`.
 */
let liveId = "";
let liveMs = -1;
let liveSeq = -1;
const NO_PARTS: readonly string[] = [];
let liveParts: readonly string[] = NO_PARTS;
let liveFrom = 0;
let liveNewNode = false;

/** As replaying the entry's record does: an ID not above the last one adds nothing. */
function applyLiveAdd(engine: Engine, key: string): void {
  const stream = streamAt(engine, key, true)!;
  if (liveMs < 0) {
    if (liveId > stream.lastId) stream.append(liveId, liveParts, liveNewNode, liveFrom);
  } else if (stream.lastIdBelow(liveMs, liveSeq)) {
    stream.appendNew(liveMs, liveSeq, liveParts, liveNewNode, liveFrom);
  }
}

/**
 * Logs (the record built only when there is a log) and applies the live
 * entry whose ID {@link changeStreamAdd} or {@link changeStreamAddNew} set.
 */
function logAndApplyLiveAdd(
  db: Database,
  key: string,
  parts: readonly string[],
  from: number,
  newNode: boolean,
): void {
  liveParts = parts;
  liveFrom = from;
  liveNewNode = newNode;
  oneRecord[0] = db.host.logging
    ? addRecord(newNode, liveMs < 0 ? liveId : makeId(liveMs, liveSeq), packFields(parts, from))
    : "";
  db.changeCollection(key, WalOp.StreamAdd, oneRecord, ZEROS, applyLiveAdd);
  oneRecord[0] = "";
  liveParts = NO_PARTS;
}

/**
 * Logs and applies XADD's entry `id` (pairs `parts[from..]`): a
 * `StreamAdd` record (built only when there is a log: its pairs are
 * packed only then), applied from the command's own strings — what
 * replaying the record does, without decoding it.
 *
 * @example
 * ```ts
 * changeStreamAdd(ctx.db, "s", makeId(5, 0), ["f", "v"], 0, false);
 * ```
 */
export function changeStreamAdd(
  db: Database,
  key: string,
  id: string,
  parts: readonly string[],
  from: number,
  newNode: boolean,
): void {
  liveId = id;
  liveMs = -1;
  liveSeq = -1;
  logAndApplyLiveAdd(db, key, parts, from, newNode);
}

/**
 * {@link changeStreamAdd} of the ID `ms-seq` (both below 2^53): XADD's
 * usual new ID, whose string is made only for the log.
 *
 * @example
 * ```ts
 * changeStreamAddNew(ctx.db, "s", 5, 0, ["f", "v"], 0, false);
 * ```
 */
export function changeStreamAddNew(
  db: Database,
  key: string,
  ms: number,
  seq: number,
  parts: readonly string[],
  from: number,
  newNode: boolean,
): void {
  liveMs = ms;
  liveSeq = seq;
  logAndApplyLiveAdd(db, key, parts, from, newNode);
}

/** The records that rebuild `stream` under an absent key (COPY, MOVE; see `Collection.rebuildRecords`). */
function rebuildSteps(stream: StreamValue): RebuildStep[] {
  const steps: RebuildStep[] = [];
  for (const node of stream.nodes) {
    for (let i = 0; i < node.size; i++) {
      steps.push({
        op: WalOp.StreamAdd,
        value: addRecord(i === 0, node.idAt(i), node.fieldsAt(i)),
      });
    }
    for (let i = 0; i < node.size; i++) {
      if (node.isDead(i)) steps.push({ op: WalOp.StreamDel, value: delRecord(node.idAt(i)) });
    }
  }
  steps.push({
    op: WalOp.StreamMeta,
    value: metaRecord(stream.lastId, stream.entriesAdded, stream.maxDeletedId),
  });
  for (const [name, group] of stream.groups) {
    steps.push({
      op: WalOp.StreamGroupSet,
      value: groupSetRecord(name, group.lastId, group.entriesRead),
    });
    for (const [consumer, c] of group.consumers) {
      steps.push({
        op: WalOp.StreamConsumerSet,
        value: consumerSetRecord(name, consumer, c.seenTimeMs),
      });
    }
    for (let i = 0; i < group.pending.size; i++) {
      const id = group.pending.at(i);
      const e = group.entries.get(id)!;
      steps.push({
        op: WalOp.StreamPendingSet,
        value: pendingSetRecord(name, id, e.consumer, e.deliveryTimeMs, e.deliveryCount),
      });
    }
  }
  return steps;
}

setStreamRebuild(rebuildSteps);
