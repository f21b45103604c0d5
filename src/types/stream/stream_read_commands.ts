/**
 * XREAD and XREADGROUP, with BLOCK, as Redis 7.0's `xreadCommand` and its
 * blocked-client serving: entries after an ID (XREAD; `$` the last one),
 * or a group's new entries (`>`: they become pending for the consumer,
 * unless NOACK) or a consumer's own pending history (any other ID).
 *
 * A read that finds nothing blocks through `blocking/blocked_clients.ts`
 * (FIFO per key, timeouts, CLIENT UNBLOCK), served after the command that
 * added to one of its streams; never inside MULTI (a nil reply, as Redis).
 * A client blocked in XREADGROUP gets Redis's errors when its group is
 * destroyed (`-NOGROUP`) or its key deleted (`-UNBLOCKED`).
 *
 * @example
 * ```ts
 * STREAM_READ_COMMANDS.map((c) => c.name); // ["XREAD", "XREADGROUP"]
 * ```
 * @module
 */

import { blockOn } from "../../blocking/block_on.ts";
import type { CommandContext, CommandHandler } from "../../executor/command_spec.ts";
import { parseInt64 } from "../../executor/command_spec.ts";
import { CommandError, type ReplyWriter } from "../../protocol/reply_writer.ts";
import { WalOp } from "../../wal/record.ts";
import { longArgument, streamError, writeEntry } from "./_stream_common.ts";
import { StreamValue } from "./stream.ts";
import { changeStream } from "./stream_apply.ts";
import { entriesReadAfter } from "./stream_counters.ts";
import { noGroup, touchConsumer } from "./stream_group_commands.ts";
import { formatId, MAX_ID, nextId, parseStrictId } from "./stream_id.ts";
import { groupSetRecord, pendingSetRecord } from "./stream_wal.ts";

/** Entries a blocked read is served at most when it gave no COUNT (Redis's XREAD_BLOCKED_DEFAULT_COUNT). */
const BLOCKED_DEFAULT_COUNT = 1000;

/** One entry read: its ID, packed pairs and pair count, or no pairs (a deleted pending entry). */
interface ReadEntry {
  id: string;
  fields: string | undefined;
  count: number;
}

/** A group read's parameters. */
interface GroupRead {
  group: string;
  consumer: string;
  noack: boolean;
}

/** What one XREAD/XREADGROUP request asks. */
interface ReadRequest {
  keys: string[];
  /** Per key: read after this ID; MAX_ID for `>`. */
  ids: string[];
  count: number;
  timeoutMs: number;
  group: GroupRead | undefined;
}

/** BLOCK's milliseconds as Redis's getTimeoutFromObjectOrReply reads them (0: for ever). */
function blockTimeoutMs(arg: string, nowMs: number): number {
  const value = parseInt64(arg);
  if (value === undefined) throw streamError("timeout is not an integer or out of range");
  if (value < 0n) throw streamError("timeout is negative");
  if (value > 0n && value > (1n << 63n) - 1n - BigInt(nowMs)) {
    throw streamError("timeout is out of range");
  }
  return Number(value);
}

function parseRead(ctx: CommandContext, args: string[], xreadgroup: boolean): ReadRequest {
  let timeoutMs = -1;
  let count = 0;
  let streamsAt = 0;
  let streams = 0;
  let group: GroupRead | undefined;
  let noack = false;
  for (let i = 1; i < args.length; i++) {
    const more = args.length - i - 1;
    const opt = args[i].toUpperCase();
    if (opt === "BLOCK" && more > 0) {
      timeoutMs = blockTimeoutMs(args[++i], ctx.store.nowMs());
    } else if (opt === "COUNT" && more > 0) {
      count = Math.max(0, longArgument(args[++i]));
    } else if (opt === "STREAMS" && more > 0) {
      streamsAt = i + 1;
      streams = args.length - streamsAt;
      if (streams % 2 !== 0) {
        const name = xreadgroup ? "xreadgroup" : "xread";
        throw streamError(
          `Unbalanced '${name}' list of streams: for each stream key an ID or ` +
            `'${xreadgroup ? ">" : "$"}' must be specified.`,
        );
      }
      streams /= 2;
      break;
    } else if (opt === "GROUP" && more >= 2) {
      if (!xreadgroup) {
        throw streamError(
          "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
        );
      }
      group = { group: args[i + 1], consumer: args[i + 2], noack: false };
      i += 2;
    } else if (opt === "NOACK") {
      if (!xreadgroup) {
        throw streamError(
          "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
        );
      }
      noack = true;
    } else {
      throw streamError("syntax error");
    }
  }
  if (streamsAt === 0) throw streamError("syntax error");
  if (xreadgroup && group === undefined) throw streamError("Missing GROUP option for XREADGROUP");
  if (group !== undefined) group.noack = noack;
  const keys: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < streams; i++) {
    const key = args[streamsAt + i];
    const arg = args[streamsAt + streams + i];
    const stream = ctx.db.collection(key, StreamValue);
    if (group !== undefined && stream?.groups.get(group.group) === undefined) {
      throw noGroup(
        `No such key '${key}' or consumer group '${group.group}' in XREADGROUP with GROUP option`,
      );
    }
    keys.push(key);
    if (arg === "$") {
      if (xreadgroup) {
        throw streamError(
          "The $ ID is meaningless in the context of XREADGROUP: you want to read the history " +
            "of this consumer by specifying a proper ID, or use the > ID to get new messages. " +
            "The $ ID would just return an empty result set.",
        );
      }
      ids.push(stream?.lastId ?? "\0".repeat(16));
    } else if (arg === ">") {
      if (!xreadgroup) {
        throw streamError(
          "The > ID can be specified only when calling XREADGROUP using the GROUP <group> " +
            "<consumer> option.",
        );
      }
      ids.push(MAX_ID);
    } else {
      ids.push(parseStrictId(arg));
    }
  }
  return { keys, ids, count, timeoutMs, group };
}

/**
 * Reads new entries of `key` after `after` (for a group: delivers them,
 * logged), up to `count` (0: all).
 */
function readNew(
  ctx: CommandContext,
  key: string,
  stream: StreamValue,
  after: string,
  count: number,
  group: GroupRead | undefined,
): ReadEntry[] {
  const start = nextId(after);
  const entries: ReadEntry[] = [];
  if (start === undefined) return entries;
  stream.range(start, MAX_ID, false, (id, fields, n) => {
    entries.push({ id, fields, count: n });
    return count === 0 || entries.length < count;
  });
  if (group === undefined) return entries;
  const g = stream.groups.get(group.group)!;
  const now = ctx.store.nowMs();
  touchConsumer(ctx, key, group.group, group.consumer, now);
  let lastId = g.lastId;
  let entriesRead = g.entriesRead;
  const sets: string[] = [];
  for (const entry of entries) {
    if (entry.id > lastId) {
      entriesRead = entriesReadAfter(stream, entriesRead, entry.id);
      lastId = entry.id;
    }
    if (!group.noack) sets.push(pendingSetRecord(group.group, entry.id, group.consumer, now, 1));
  }
  if (lastId !== g.lastId || entriesRead !== g.entriesRead) {
    changeStream(ctx.db, key, WalOp.StreamGroupSet, [
      groupSetRecord(group.group, lastId, entriesRead),
    ]);
  }
  if (sets.length > 0) changeStream(ctx.db, key, WalOp.StreamPendingSet, sets);
  return entries;
}

/** A consumer's own pending entries after `after` (redelivered: logged). */
function readHistory(
  ctx: CommandContext,
  key: string,
  stream: StreamValue,
  after: string,
  count: number,
  group: GroupRead,
): ReadEntry[] {
  const now = ctx.store.nowMs();
  touchConsumer(ctx, key, group.group, group.consumer, now);
  const g = stream.groups.get(group.group)!;
  const consumer = g.consumers.get(group.consumer)!;
  const entries: ReadEntry[] = [];
  const start = nextId(after);
  if (start === undefined) return entries;
  const sets: string[] = [];
  const pel = consumer.pending;
  for (
    let i = pel.lowerBound(start);
    i < pel.size && (count === 0 || entries.length < count);
    i++
  ) {
    const id = pel.at(i);
    const fields = stream.fieldsOf(id);
    if (fields === undefined) {
      entries.push({ id, fields: undefined, count: 0 });
      continue;
    }
    entries.push({ id, fields, count: countPairs(fields) });
    const nack = g.entries.get(id)!;
    sets.push(pendingSetRecord(group.group, id, group.consumer, now, nack.deliveryCount + 1));
  }
  if (sets.length > 0) changeStream(ctx.db, key, WalOp.StreamPendingSet, sets);
  return entries;
}

function countPairs(fields: string): number {
  let n = 0;
  for (let at = 0; at < fields.length; n++) {
    at += 4 + ((fields.charCodeAt(at) | (fields.charCodeAt(at + 1) << 8) |
      (fields.charCodeAt(at + 2) << 16) | (fields.charCodeAt(at + 3) << 24)) >>> 0);
  }
  return n / 2;
}

/** Writes one stream's part of a read reply (`[key, entries]`; in RESP3 a map's key and value). */
function writeStreamPart(w: ReplyWriter, key: string, entries: ReadEntry[], resp3: boolean): void {
  if (!resp3) w.array(2);
  w.bulk(key);
  w.array(entries.length);
  for (const e of entries) {
    if (e.fields === undefined) {
      w.array(2);
      w.bulk(formatId(e.id));
      w.nilArray();
    } else {
      writeEntry(w, e.id, e.fields, e.count);
    }
  }
}

function read(ctx: CommandContext, args: string[], w: ReplyWriter, xreadgroup: boolean) {
  const request = parseRead(ctx, args, xreadgroup);
  const { keys, ids, count, group } = request;
  const parts: { key: string; entries: ReadEntry[] }[] = [];
  for (let i = 0; i < keys.length; i++) {
    const stream = ctx.db.collection(keys[i], StreamValue);
    if (stream === undefined) continue;
    let after = ids[i];
    if (group !== undefined && after !== MAX_ID) {
      parts.push({
        key: keys[i],
        entries: readHistory(ctx, keys[i], stream, after, count, group),
      });
      continue;
    }
    if (stream.length === 0) continue;
    const last = stream.edgeId(true)!;
    if (group !== undefined) after = stream.groups.get(group.group)!.lastId;
    if (last <= after) continue;
    parts.push({ key: keys[i], entries: readNew(ctx, keys[i], stream, after, count, group) });
  }
  const resp3 = ctx.session.protocol === 3;
  if (parts.length > 0) {
    if (resp3) w.map(parts.length);
    else w.array(parts.length);
    for (const part of parts) writeStreamPart(w, part.key, part.entries, resp3);
    return;
  }
  if (request.timeoutMs < 0 || ctx.session.inExec) return w.nilArray();
  // Blocking: `$` was resolved above; a group waits for entries past its last ID.
  const after = new Map<string, string>();
  for (let i = 0; i < keys.length; i++) if (!after.has(keys[i])) after.set(keys[i], ids[i]);
  const blockedCount = count === 0 ? BLOCKED_DEFAULT_COUNT : count;
  return blockOn(ctx, w, {
    keys: [...after.keys()],
    type: "stream",
    everyChange: group !== undefined,
    timeoutMs: request.timeoutMs,
    serve: (waiterCtx, key) => serveBlocked(waiterCtx, key, after.get(key)!, blockedCount, group),
  });
}

/** Serves a blocked read from `key` if it has entries for it (see `ServeWaiter`). */
function serveBlocked(
  ctx: CommandContext,
  key: string,
  after: string,
  count: number,
  group: GroupRead | undefined,
): ((w: ReplyWriter) => void) | undefined {
  const value = ctx.db.value(key);
  if (group !== undefined && !(value instanceof StreamValue)) {
    throw new CommandError("UNBLOCKED", "the stream key no longer exists");
  }
  if (!(value instanceof StreamValue)) return undefined;
  const stream = value;
  if (group !== undefined) {
    const g = stream.groups.get(group.group);
    if (g === undefined) {
      throw noGroup("the consumer group this client was blocked on no longer exists");
    }
    after = g.lastId;
  }
  if (stream.lastId <= after) return undefined;
  const entries = readNew(ctx, key, stream, after, count, group);
  const resp3 = ctx.session.protocol === 3;
  return (w) => {
    if (resp3) w.map(1);
    else w.array(1);
    writeStreamPart(w, key, entries, resp3);
  };
}

/**
 * XREAD and XREADGROUP.
 *
 * @example
 * ```ts
 * STREAM_READ_COMMANDS[1].name; // "XREADGROUP"
 * ```
 */
export const STREAM_READ_COMMANDS: CommandHandler[] = [
  {
    name: "XREAD",
    summary: "Reads entries after IDs from one or more streams, waiting for them with BLOCK.",
    run(ctx, args, w) {
      return read(ctx, args, w, false);
    },
  },
  {
    name: "XREADGROUP",
    summary: "Reads entries for a consumer of a consumer group, waiting for them with BLOCK.",
    run(ctx, args, w) {
      return read(ctx, args, w, true);
    },
  },
];
