/**
 * The consumer-group commands: XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|
 * DELCONSUMER, XACK, XPENDING (summary and extended, IDLE, consumer),
 * XCLAIM (IDLE, TIME, RETRYCOUNT, FORCE, JUSTID, LASTID) and XAUTOCLAIM,
 * as Redis 7.0's `t_stream.c` answers them. Group state changes only
 * through logged records (`stream_wal.ts`): a delivery's time and count,
 * a consumer's seen time and the group's position are all in the log, so
 * replicas and restarts hold the same idle times.
 *
 * @example
 * ```ts
 * STREAM_GROUP_COMMANDS.map((c) => c.name); // ["XGROUP", "XACK", ...]
 * ```
 * @module
 */

import type {
  CommandContext,
  CommandDeclaration,
  CommandHandler,
} from "../../executor/command_spec.ts";
import { NOTIFY_NEW, NOTIFY_STREAM } from "../../pubsub/keyspace_events.ts";
import { CommandError, type ReplyWriter } from "../../protocol/reply_writer.ts";
import { WalOp } from "../../wal/record.ts";
import { longArgument, streamError, writeEntry } from "./_stream_common.ts";
import { StreamValue } from "./stream.ts";
import { changeStream } from "./stream_apply.ts";
import { ENTRIES_READ_UNKNOWN, type StreamGroup } from "./stream_group.ts";
import { formatId, MIN_ID, nextId, parseId, parseStrictId, previousId } from "./stream_id.ts";
import {
  consumerDelRecord,
  consumerSetRecord,
  groupDelRecord,
  groupSetRecord,
  metaRecord,
  pendingDelRecord,
  pendingSetRecord,
} from "./stream_wal.ts";
import { signalStreamReady } from "./stream_waiters.ts";

/** Redis's NOGROUP error. */
export function noGroup(message: string): CommandError {
  return new CommandError("NOGROUP", message);
}

/** The stream and group a command names, or Redis's NOGROUP (`No such key ... or consumer group ...`). */
function streamAndGroup(
  ctx: CommandContext,
  key: string,
  groupName: string,
): { stream: StreamValue; group: StreamGroup } {
  const stream = ctx.db.collection(key, StreamValue);
  const group = stream?.groups.get(groupName);
  if (stream === undefined || group === undefined) {
    throw noGroup(`No such key '${key}' or consumer group '${groupName}'`);
  }
  return { stream, group };
}

/**
 * Logs and applies `consumer` seen at `nowMs`; one made here is announced
 * as Redis's `streamCreateConsumer` does (`xgroup-createconsumer`).
 */
export function touchConsumer(
  ctx: CommandContext,
  key: string,
  groupName: string,
  consumer: string,
  nowMs: number,
): void {
  const made =
    ctx.db.collection(key, StreamValue)?.groups.get(groupName)?.consumers.has(consumer) !==
      true;
  changeStream(ctx.db, key, WalOp.StreamConsumerSet, [
    consumerSetRecord(groupName, consumer, nowMs),
  ]);
  if (made) ctx.notify(NOTIFY_STREAM, "xgroup-createconsumer", key);
}

function subcommandSyntaxError(sub: string): CommandError {
  return streamError(
    `unknown subcommand or wrong number of arguments for '${sub}'. Try XGROUP HELP.`,
  );
}

/** XGROUP's shared preamble (Redis's): options, the key, the group. */
function xgroupPreamble(
  ctx: CommandContext,
  args: string[],
  sub: string,
): { stream: StreamValue | undefined; group: StreamGroup | undefined; entriesRead: number } {
  let mkstream = false;
  let entriesRead = ENTRIES_READ_UNKNOWN;
  if (sub === "CREATE" || sub === "SETID") {
    for (let i = 5; i < args.length;) {
      const opt = args[i].toUpperCase();
      if (sub === "CREATE" && opt === "MKSTREAM") {
        mkstream = true;
        i++;
      } else if (opt === "ENTRIESREAD" && i + 1 < args.length) {
        entriesRead = longArgument(args[i + 1]);
        if (entriesRead < 0 && entriesRead !== ENTRIES_READ_UNKNOWN) {
          throw streamError("value for ENTRIESREAD must be positive or -1");
        }
        i += 2;
      } else {
        throw subcommandSyntaxError(args[1]);
      }
    }
  }
  const key = args[2];
  const stream = ctx.db.collection(key, StreamValue);
  const group = stream?.groups.get(args[3]);
  if (!mkstream) {
    if (stream === undefined) {
      throw streamError(
        "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want " +
          "to use the MKSTREAM option to create an empty stream automatically.",
      );
    }
    if (group === undefined && sub !== "CREATE" && sub !== "DESTROY") {
      throw noGroup(`No such consumer group '${args[3]}' for key name '${key}'`);
    }
  }
  return { stream, group, entriesRead };
}

const XGROUP: CommandDeclaration = {
  name: "XGROUP",
  summary: "Manages a stream's consumer groups.",
  subcommands: [
    {
      name: "CREATE",
      summary: "Creates a consumer group (MKSTREAM: and the stream).",
      run(ctx, args, w) {
        if (args.length > 8) throw subcommandSyntaxError(args[1]);
        const { stream, entriesRead } = xgroupPreamble(ctx, args, "CREATE");
        const key = args[2];
        const name = args[3];
        const id = args[4] === "$" ? stream?.lastId ?? MIN_ID : parseStrictId(args[4]);
        if (stream?.groups.has(name)) {
          throw new CommandError("BUSYGROUP", "Consumer Group name already exists");
        }
        if (stream === undefined) {
          changeStream(ctx.db, key, WalOp.StreamMeta, [metaRecord(MIN_ID, 0, MIN_ID)]);
          ctx.notify(NOTIFY_NEW, "new", key);
        }
        changeStream(ctx.db, key, WalOp.StreamGroupSet, [groupSetRecord(name, id, entriesRead)]);
        w.status("OK");
        ctx.notify(NOTIFY_STREAM, "xgroup-create", key);
      },
    },
    {
      name: "SETID",
      summary: "Sets a consumer group's last delivered ID.",
      run(ctx, args, w) {
        if (args.length !== 5 && args.length !== 7) throw subcommandSyntaxError(args[1]);
        const { stream, entriesRead } = xgroupPreamble(ctx, args, "SETID");
        const id = args[4] === "$" ? stream!.lastId : parseId(args[4], 0n, false).id;
        changeStream(ctx.db, args[2], WalOp.StreamGroupSet, [
          groupSetRecord(args[3], id, entriesRead),
        ]);
        w.status("OK");
        ctx.notify(NOTIFY_STREAM, "xgroup-setid", args[2]);
      },
    },
    {
      name: "DESTROY",
      summary: "Deletes a consumer group.",
      run(ctx, args, w) {
        const { group } = xgroupPreamble(ctx, args, "DESTROY");
        if (group === undefined) return w.integer(0);
        changeStream(ctx.db, args[2], WalOp.StreamGroupDel, [groupDelRecord(args[3])]);
        w.integer(1);
        ctx.notify(NOTIFY_STREAM, "xgroup-destroy", args[2]);
        // Its blocked XREADGROUP clients get NOGROUP.
        signalStreamReady(ctx, args[2]);
      },
    },
    {
      name: "CREATECONSUMER",
      summary: "Creates a consumer in a consumer group.",
      run(ctx, args, w) {
        const { group } = xgroupPreamble(ctx, args, "CREATECONSUMER");
        if (group!.consumers.has(args[4])) return w.integer(0);
        touchConsumer(ctx, args[2], args[3], args[4], ctx.store.nowMs());
        w.integer(1);
      },
    },
    {
      name: "DELCONSUMER",
      summary: "Deletes a consumer (and its pending entries) from a consumer group.",
      run(ctx, args, w) {
        const { group } = xgroupPreamble(ctx, args, "DELCONSUMER");
        const consumer = group!.consumers.get(args[4]);
        if (consumer === undefined) return w.integer(0);
        const pending = consumer.pending.size;
        changeStream(ctx.db, args[2], WalOp.StreamConsumerDel, [
          consumerDelRecord(args[3], args[4]),
        ]);
        w.integer(pending);
        ctx.notify(NOTIFY_STREAM, "xgroup-delconsumer", args[2]);
      },
    },
  ],
};

/** The interval bound `s` as XRANGE reads it; `end` moves an exclusive bound down, else up. */
function intervalId(s: string, end: boolean): string {
  if (s.length > 1 && s.charCodeAt(0) === 40 /* ( */) {
    const id = parseId(s.substring(1), end ? (1n << 64n) - 1n : 0n, true).id;
    const moved = end ? previousId(id) : nextId(id);
    if (moved === undefined) {
      throw streamError(
        end ? "invalid end ID for the interval" : "invalid start ID for the interval",
      );
    }
    return moved;
  }
  return parseId(s, end ? (1n << 64n) - 1n : 0n, false).id;
}

function xpending(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const summary = args.length === 3;
  if (!summary && (args.length < 6 || args.length > 9)) throw streamError("syntax error");
  let minIdle = 0;
  let count = 0;
  let start = MIN_ID;
  let end = MIN_ID;
  let consumerName: string | undefined;
  if (!summary) {
    let at = 3;
    if (args[3].toUpperCase() === "IDLE") {
      minIdle = longArgument(args[4]);
      if (args.length < 8) throw streamError("syntax error");
      at += 2;
    }
    count = Math.max(0, longArgument(args[at + 2]));
    start = intervalId(args[at], false);
    end = intervalId(args[at + 1], true);
    if (at + 3 < args.length) consumerName = args[at + 3];
  }
  const { group } = streamAndGroup(ctx, args[1], args[2]);
  if (summary) {
    w.array(4);
    w.integer(group.pending.size);
    if (group.pending.size === 0) {
      w.nil();
      w.nil();
      w.nilArray();
      return;
    }
    w.bulk(formatId(group.pending.at(0)));
    w.bulk(formatId(group.pending.at(group.pending.size - 1)));
    const owners = [...group.consumers].filter(([, c]) => c.pending.size > 0).sort(byName);
    w.array(owners.length);
    for (const [name, c] of owners) {
      w.array(2);
      w.bulk(name);
      w.bulk(String(c.pending.size));
    }
    return;
  }
  let pel = group.pending;
  if (consumerName !== undefined) {
    const consumer = group.consumers.get(consumerName);
    if (consumer === undefined) return w.array(0);
    pel = consumer.pending;
  }
  const now = ctx.store.nowMs();
  const rows: string[] = [];
  for (let i = pel.lowerBound(start); count > 0 && i < pel.size; i++) {
    const id = pel.at(i);
    if (id > end) break;
    const e = group.entries.get(id)!;
    if (minIdle !== 0 && now - e.deliveryTimeMs < minIdle) continue;
    rows.push(id);
    count--;
  }
  w.array(rows.length);
  for (const id of rows) {
    const e = group.entries.get(id)!;
    w.array(4);
    w.bulk(formatId(id));
    w.bulk(e.consumer);
    w.integer(Math.max(0, now - e.deliveryTimeMs));
    w.integer(e.deliveryCount);
  }
}

/** Orders [name, ...] pairs by name bytes (Redis keeps consumers in a radix tree). */
export function byName(a: [string, unknown], b: [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** An entry's reply for XCLAIM/XAUTOCLAIM: its ID (JUSTID) or the entry itself. */
function writeClaimed(w: ReplyWriter, stream: StreamValue, id: string, justId: boolean): void {
  if (justId) return w.bulk(formatId(id));
  const fields = stream.fieldsOf(id);
  if (fields === undefined) return w.nil();
  writeEntry(w, id, fields, countOf(fields));
}

function countOf(fields: string): number {
  let n = 0;
  for (let at = 0; at < fields.length; n++) {
    at += 4 + ((fields.charCodeAt(at) | (fields.charCodeAt(at + 1) << 8) |
      (fields.charCodeAt(at + 2) << 16) | (fields.charCodeAt(at + 3) << 24)) >>> 0);
  }
  return n / 2;
}

function integerOption(s: string, message: string): number {
  try {
    return longArgument(s);
  } catch {
    throw streamError(message);
  }
}

function xclaim(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const key = args[1];
  const groupName = args[2];
  const name = args[3];
  const { stream, group } = streamAndGroup(ctx, key, groupName);
  const minIdle = Math.max(0, integerOption(args[4], "Invalid min-idle-time argument for XCLAIM"));
  const ids: string[] = [];
  let j = 5;
  for (; j < args.length; j++) {
    try {
      ids.push(parseStrictId(args[j]));
    } catch {
      break;
    }
  }
  const now = ctx.store.nowMs();
  let deliveryTime = -1;
  let retryCount = -1;
  let force = false;
  let justId = false;
  let lastId = MIN_ID;
  for (; j < args.length; j++) {
    const more = args.length - 1 - j;
    const opt = args[j].toUpperCase();
    if (opt === "FORCE") force = true;
    else if (opt === "JUSTID") justId = true;
    else if (opt === "IDLE" && more > 0) {
      deliveryTime = now - integerOption(args[++j], "Invalid IDLE option argument for XCLAIM");
    } else if (opt === "TIME" && more > 0) {
      deliveryTime = integerOption(args[++j], "Invalid TIME option argument for XCLAIM");
    } else if (opt === "RETRYCOUNT" && more > 0) {
      retryCount = integerOption(args[++j], "Invalid RETRYCOUNT option argument for XCLAIM");
    } else if (opt === "LASTID" && more > 0) {
      lastId = parseStrictId(args[++j]);
    } else {
      throw streamError(`Unrecognized XCLAIM option '${args[j]}'`);
    }
  }
  if (lastId > group.lastId) {
    changeStream(ctx.db, key, WalOp.StreamGroupSet, [
      groupSetRecord(groupName, lastId, group.entriesRead),
    ]);
  }
  if (deliveryTime === -1 || deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
  // One claim at a time, as Redis does: an ID named twice sees its first claim.
  const claimed: string[] = [];
  let touched = false;
  for (const id of ids) {
    const nack = group.entries.get(id);
    if (!stream.has(id)) {
      if (nack !== undefined) {
        changeStream(ctx.db, key, WalOp.StreamPendingDel, [pendingDelRecord(groupName, id)]);
      }
      continue;
    }
    let deliveries: number;
    if (nack === undefined) {
      if (!force) continue;
      deliveries = 1;
    } else {
      if (minIdle !== 0 && now - nack.deliveryTimeMs < minIdle) continue;
      deliveries = nack.deliveryCount;
    }
    if (!touched) touchConsumer(ctx, key, groupName, name, now);
    touched = true;
    if (retryCount >= 0) deliveries = retryCount;
    else if (!justId) deliveries++;
    changeStream(ctx.db, key, WalOp.StreamPendingSet, [
      pendingSetRecord(groupName, id, name, deliveryTime, deliveries),
    ]);
    claimed.push(id);
  }
  w.array(claimed.length);
  for (const id of claimed) writeClaimed(w, stream, id, justId);
}

/** Most entries one XAUTOCLAIM may name (Redis's `LONG_MAX / 16`, as a safe integer). */
const XAUTOCLAIM_MAX_COUNT = Number.MAX_SAFE_INTEGER;

function xautoclaim(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const key = args[1];
  const groupName = args[2];
  const name = args[3];
  const minIdle = Math.max(
    0,
    integerOption(args[4], "Invalid min-idle-time argument for XAUTOCLAIM"),
  );
  const start = intervalId(args[5], false);
  let count = 100;
  let justId = false;
  for (let j = 6; j < args.length; j++) {
    const opt = args[j].toUpperCase();
    if (opt === "COUNT" && j + 1 < args.length) {
      const n = integerOption(args[j + 1], "COUNT must be > 0");
      if (n < 1 || n > XAUTOCLAIM_MAX_COUNT) throw streamError("COUNT must be > 0");
      count = n;
      j++;
    } else if (opt === "JUSTID") {
      justId = true;
    } else {
      throw streamError("syntax error");
    }
  }
  const { stream, group } = streamAndGroup(ctx, key, groupName);
  let attempts = count * 10;
  const now = ctx.store.nowMs();
  const claimed: string[] = [];
  const deleted: string[] = [];
  const sets: string[] = [];
  const dels: string[] = [];
  let touched = false;
  const pel = group.pending;
  let i = pel.lowerBound(start);
  while (attempts-- > 0 && count > 0 && i < pel.size) {
    const id = pel.at(i++);
    const nack = group.entries.get(id)!;
    if (!stream.has(id)) {
      dels.push(pendingDelRecord(groupName, id));
      deleted.push(id);
      count--;
      continue;
    }
    if (minIdle !== 0 && now - nack.deliveryTimeMs < minIdle) continue;
    if (!touched) touchConsumer(ctx, key, groupName, name, now);
    touched = true;
    sets.push(
      pendingSetRecord(groupName, id, name, now, nack.deliveryCount + (justId ? 0 : 1)),
    );
    claimed.push(id);
    count--;
  }
  // The cursor: the first pending entry after the last one looked at.
  const next = i < pel.size ? pel.at(i) : MIN_ID;
  if (sets.length > 0) changeStream(ctx.db, key, WalOp.StreamPendingSet, sets);
  if (dels.length > 0) changeStream(ctx.db, key, WalOp.StreamPendingDel, dels);
  w.array(3);
  w.bulk(formatId(next));
  w.array(claimed.length);
  for (const id of claimed) writeClaimed(w, stream, id, justId);
  w.array(deleted.length);
  for (const id of deleted) w.bulk(formatId(id));
}

/**
 * The consumer-group commands (XREADGROUP is in `stream_read_commands.ts`).
 *
 * @example
 * ```ts
 * STREAM_GROUP_COMMANDS[0].name; // "XGROUP"
 * ```
 */
export const STREAM_GROUP_COMMANDS: CommandDeclaration[] = [
  XGROUP,
  {
    name: "XACK",
    summary: "Acknowledges entries of a consumer group's pending list.",
    run(ctx, args, w) {
      const stream = ctx.db.collection(args[1], StreamValue);
      const group = stream?.groups.get(args[2]);
      if (group === undefined) return w.integer(0);
      const ids: string[] = [];
      for (let i = 3; i < args.length; i++) ids.push(parseStrictId(args[i]));
      const records: string[] = [];
      const done = new Set<string>();
      for (const id of ids) {
        if (done.has(id) || !group.entries.has(id)) continue;
        done.add(id);
        records.push(pendingDelRecord(args[2], id));
      }
      if (records.length > 0) changeStream(ctx.db, args[1], WalOp.StreamPendingDel, records);
      w.integer(records.length);
    },
  } satisfies CommandHandler,
  { name: "XPENDING", summary: "Returns a consumer group's pending entries.", run: xpending },
  {
    name: "XCLAIM",
    summary: "Takes over pending entries for a consumer.",
    run: xclaim,
  },
  {
    name: "XAUTOCLAIM",
    summary: "Takes over pending entries idle long enough, scanning from an ID.",
    run: xautoclaim,
  },
];
