/**
 * The stream commands on entries: XADD, XRANGE, XREVRANGE, XLEN, XDEL,
 * XTRIM, XSETID, with Redis 7.0's options, replies and errors. Each write
 * logs its effect records (`stream_wal.ts`) and applies them through the
 * function replay uses (`stream_apply.ts`).
 *
 * @example
 * ```ts
 * STREAM_COMMANDS.map((c) => c.name); // ["XADD", "XRANGE", ...]
 * ```
 * @module
 */

import type { CommandContext, CommandHandler } from "../../executor/command_spec.ts";
import { wrongArity } from "../../executor/errors.ts";
import { NOTIFY_NEW, NOTIFY_STREAM } from "../../pubsub/keyspace_events.ts";
import type { ReplyWriter } from "../../protocol/reply_writer.ts";
import { WalOp } from "../../wal/record.ts";
import {
  longArgument,
  parseTrimArgs,
  readStream,
  streamError,
  type TrimArgs,
} from "./_stream_common.ts";
import {
  MAX_STREAM_ENTRIES,
  STREAM_MAX_ENTRY_BYTES,
  type StreamNode,
  StreamValue,
} from "./stream.ts";
import { changeStream, changeStreamAdd, changeStreamAddNew } from "./stream_apply.ts";
import {
  autoId,
  formatId,
  MAX_ID,
  MIN_ID,
  nextId,
  parseId,
  parseStrictId,
  previousId,
} from "./stream_id.ts";
import { delRecord, metaRecord, trimRecord } from "./stream_wal.ts";
import { signalStreamReady } from "./stream_waiters.ts";
import { writeIdReply } from "./_id_reply.ts";

/** Applies a trim to the stream at `key` if it would remove anything; how many entries went. */
export function trimStream(
  ctx: CommandContext,
  key: string,
  stream: StreamValue,
  trim: TrimArgs,
): number {
  if (!stream.wouldTrim(trim.maxLen, trim.minId, trim.approx, trim.limit)) return 0;
  const before = stream.length;
  changeStream(ctx.db, key, WalOp.StreamTrim, [
    trimRecord(trim.approx, trim.maxLen, trim.minId, trim.limit),
  ]);
  const deleted = before - (ctx.db.collection(key, StreamValue)?.length ?? 0);
  if (deleted > 0) ctx.notify(NOTIFY_STREAM, "xtrim", key);
  return deleted;
}

function xadd(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const key = args[1];
  const trim = parseTrimArgs(args, true);
  const fieldsAt = trim.next + 1;
  const pairs = args.length - fieldsAt;
  if (pairs < 2 || pairs % 2 === 1) throw wrongArity("xadd");
  if (trim.id !== undefined && trim.seqGiven && trim.id === MIN_ID) {
    throw streamError("The ID specified in XADD must be greater than 0-0");
  }
  const stream = ctx.db.collection(key, StreamValue);
  if (stream === undefined && trim.noMkStream) return w.nil();
  // The usual new ID in numbers, when the last one's are exact: a new
  // millisecond, or the next sequence (no ID string made or compared).
  let ms = -1;
  let seq = -1;
  const lastMs = stream === undefined ? 0 : stream.lastMs;
  if (trim.id === undefined && lastMs >= 0) {
    const nowMs = ctx.store.nowMs();
    const lastSeq = stream === undefined ? 0 : stream.lastSeq;
    if (nowMs > lastMs) {
      ms = nowMs;
      seq = 0;
    } else if (lastSeq >= 0 && lastSeq < Number.MAX_SAFE_INTEGER) {
      ms = lastMs;
      seq = lastSeq + 1;
    }
  }
  let id = "";
  if (ms < 0) id = explicitOrNextId(ctx, stream?.lastId ?? MIN_ID, trim.id, trim.seqGiven);
  if (stream !== undefined && stream.storedEntries >= MAX_STREAM_ENTRIES) {
    throw streamError(`a stream holds at most ${MAX_STREAM_ENTRIES} entries`);
  }
  let bytes = 0;
  for (let i = fieldsAt; i < args.length; i++) bytes += args[i].length;
  if (bytes > STREAM_MAX_ENTRY_BYTES) throw streamError("Elements are too large to be stored");
  const newNode = stream === undefined || stream.needsNewNode(args, fieldsAt);
  if (ms >= 0) {
    changeStreamAddNew(ctx.db, key, ms, seq, args, fieldsAt, newNode);
    writeIdReply(w, ms, seq);
  } else {
    changeStreamAdd(ctx.db, key, id, args, fieldsAt, newNode);
    w.bulk(formatId(id));
  }
  if (stream === undefined) ctx.notify(NOTIFY_NEW, "new", key);
  ctx.notify(NOTIFY_STREAM, "xadd", key);
  if (trim.trims) trimStream(ctx, key, stream ?? ctx.db.collection(key, StreamValue)!, trim);
  signalStreamReady(ctx, key);
}

/**
 * XADD's new ID other than from numbers (see `xadd`): an explicit one
 * (`ms-seq`, or `ms-*` for the next sequence), or the next after
 * `lastId` when its parts are not below 2^53; Redis's errors.
 */
function explicitOrNextId(
  ctx: CommandContext,
  lastId: string,
  explicit: string | undefined,
  seqGiven: boolean,
): string {
  if (lastId === MAX_ID) {
    throw streamError("The stream has exhausted the last possible ID, unable to add more items");
  }
  let id: string | undefined;
  if (explicit === undefined) {
    id = autoId(lastId, ctx.store.nowMs());
  } else if (seqGiven) {
    id = explicit;
  } else if (lastId.startsWith(explicit.substring(0, 8))) {
    id = nextId(lastId);
    // Redis 7.0 answers a sequence overflow of `ms-*` so (its errno is not EDOM there).
    if (id === undefined || !id.startsWith(lastId.substring(0, 8))) {
      throw streamError("Elements are too large to be stored");
    }
  } else {
    id = explicit;
  }
  if (id === undefined || id <= lastId) {
    throw streamError(
      "The ID specified in XADD is equal or smaller than the target stream top item",
    );
  }
  return id;
}

/** The interval bound `s` (`(` exclusive unless alone), as Redis's streamParseIntervalIDOrReply. */
function intervalBound(s: string, missingSeq: bigint): { id: string; exclusive: boolean } {
  if (s.length > 1 && s.charCodeAt(0) === 40 /* ( */) {
    return { id: parseId(s.substring(1), missingSeq, true).id, exclusive: true };
  }
  return { id: parseId(s, missingSeq, false).id, exclusive: false };
}

const U64_MAX = (1n << 64n) - 1n;

function xrange(ctx: CommandContext, args: string[], w: ReplyWriter, rev: boolean): void {
  const startArg = rev ? args[3] : args[2];
  const endArg = rev ? args[2] : args[3];
  const startBound = intervalBound(startArg, 0n);
  let start: string | undefined = startBound.id;
  if (startBound.exclusive) {
    start = nextId(start);
    if (start === undefined) throw streamError("invalid start ID for the interval");
  }
  const endBound = intervalBound(endArg, U64_MAX);
  let end: string | undefined = endBound.id;
  if (endBound.exclusive) {
    end = previousId(end);
    if (end === undefined) throw streamError("invalid end ID for the interval");
  }
  let count = -1;
  for (let j = 4; j < args.length; j++) {
    if (args[j].toLowerCase() === "count" && j + 1 < args.length) {
      count = longArgument(args[j + 1]);
      if (count < 0) count = 0;
      j++;
    } else {
      throw streamError("syntax error");
    }
  }
  const stream = readStream(ctx, args[1]);
  if (stream === undefined) return w.array(0);
  if (count === 0) return w.nilArray();
  writeRange(w, stream, start, end, rev, count);
}

/** Replies the live entries from `start` to `end` (descending when `rev`), at most `count` (-1: all). */
export function writeRange(
  w: ReplyWriter,
  stream: StreamValue,
  start: string,
  end: string,
  rev: boolean,
  count: number,
): number {
  // Positions, not strings: each entry is replied from its node's bytes.
  const nodes: StreamNode[] = [];
  const ats: number[] = [];
  stream.walk(start, end, rev, (node, at) => {
    nodes.push(node);
    ats.push(at);
    return count < 0 || ats.length < count;
  });
  w.array(ats.length);
  for (let i = 0; i < ats.length; i++) nodes[i].writeEntry(w, ats[i]);
  return ats.length;
}

/**
 * The stream commands on entries.
 *
 * @example
 * ```ts
 * STREAM_COMMANDS[0].name; // "XADD"
 * ```
 */
export const STREAM_COMMANDS: CommandHandler[] = [
  {
    name: "XADD",
    summary: "Appends an entry to a stream, making the stream if needed.",
    run: xadd,
  },
  {
    name: "XRANGE",
    summary: "Returns a stream's entries within a range of IDs.",
    run(ctx, args, w) {
      xrange(ctx, args, w, false);
    },
  },
  {
    name: "XREVRANGE",
    summary: "Returns a stream's entries within a range of IDs, last first.",
    run(ctx, args, w) {
      xrange(ctx, args, w, true);
    },
  },
  {
    name: "XLEN",
    summary: "Returns how many entries a stream holds.",
    run(ctx, args, w) {
      w.integer(readStream(ctx, args[1])?.length ?? 0);
    },
  },
  {
    name: "XDEL",
    summary: "Deletes entries from a stream by ID.",
    run(ctx, args, w) {
      const key = args[1];
      const stream = ctx.db.collection(key, StreamValue);
      if (stream === undefined) return w.integer(0);
      const ids: string[] = [];
      for (let i = 2; i < args.length; i++) ids.push(parseStrictId(args[i]));
      const records: string[] = [];
      const seen = new Set<string>();
      let maxDeleted = stream.maxDeletedId;
      for (const id of ids) {
        if (seen.has(id) || !stream.has(id)) continue;
        seen.add(id);
        records.push(delRecord(id));
        if (id > maxDeleted) maxDeleted = id;
      }
      if (records.length === 0) return w.integer(0);
      changeStream(ctx.db, key, WalOp.StreamDel, records);
      if (maxDeleted !== stream.maxDeletedId) {
        changeStream(ctx.db, key, WalOp.StreamMeta, [
          metaRecord(stream.lastId, stream.entriesAdded, maxDeleted),
        ]);
      }
      ctx.notify(NOTIFY_STREAM, "xdel", key);
      w.integer(records.length);
    },
  },
  {
    name: "XTRIM",
    summary: "Deletes a stream's oldest entries, by count or by ID.",
    run(ctx, args, w) {
      const trim = parseTrimArgs(args, false);
      const stream = ctx.db.collection(args[1], StreamValue);
      if (stream === undefined) return w.integer(0);
      w.integer(trimStream(ctx, args[1], stream, trim));
    },
  },
  {
    name: "XSETID",
    summary: "Sets a stream's last ID (and its counters).",
    run(ctx, args, w) {
      const key = args[1];
      const id = parseStrictId(args[2]);
      let entriesAdded = -1;
      let maxDeleted = MIN_ID;
      for (let i = 3; i < args.length; i += 2) {
        const opt = args[i].toUpperCase();
        if (opt === "ENTRIESADDED" && i + 1 < args.length) {
          entriesAdded = longArgument(args[i + 1]);
          if (entriesAdded < 0) throw streamError("entries_added must be positive");
        } else if (opt === "MAXDELETEDID" && i + 1 < args.length) {
          maxDeleted = parseStrictId(args[i + 1]);
          if (id < maxDeleted) {
            throw streamError(
              "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
            );
          }
        } else {
          throw streamError("syntax error");
        }
      }
      const stream = ctx.db.collection(key, StreamValue);
      if (stream === undefined) throw streamError("no such key");
      if (stream.length > 0) {
        if (id < stream.edgeId(true)!) {
          throw streamError(
            "The ID specified in XSETID is smaller than the target stream top item",
          );
        }
        if (entriesAdded !== -1 && stream.length > entriesAdded) {
          throw streamError(
            "The entries_added specified in XSETID is smaller than the target stream length",
          );
        }
      }
      changeStream(ctx.db, key, WalOp.StreamMeta, [
        metaRecord(
          id,
          entriesAdded === -1 ? stream.entriesAdded : entriesAdded,
          maxDeleted === MIN_ID ? stream.maxDeletedId : maxDeleted,
        ),
      ]);
      ctx.notify(NOTIFY_STREAM, "xsetid", key);
      w.status("OK");
    },
  },
];
