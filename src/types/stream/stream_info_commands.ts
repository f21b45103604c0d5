/**
 * XINFO STREAM [FULL [COUNT n]], XINFO GROUPS and XINFO CONSUMERS, with
 * Redis 7.0.15's fields in its order (maps in RESP3, flat arrays in
 * RESP2): lengths, the radix tree's keys and nodes (computed for the
 * nodes' first IDs as Redis's rax would hold them), the counters, each
 * group's read counter and lag, each consumer's pending count and idle time.
 *
 * @example
 * ```ts
 * STREAM_INFO_COMMANDS[0].name; // "XINFO"
 * ```
 * @module
 */

import type { CommandContext, CommandDeclaration } from "../../executor/command_spec.ts";
import { noteRead } from "../../keyspace/lookup.ts";
import type { ReplyWriter } from "../../protocol/reply_writer.ts";
import { longArgument, streamError, writeEntry } from "./_stream_common.ts";
import { StreamValue } from "./stream.ts";
import { firstId, groupLag } from "./stream_counters.ts";
import { byName, noGroup } from "./stream_group_commands.ts";
import { ENTRIES_READ_UNKNOWN, type StreamGroup } from "./stream_group.ts";
import { formatId, ID_BYTES, MAX_ID, MIN_ID } from "./stream_id.ts";

function lookup(ctx: CommandContext, key: string): StreamValue {
  const stream = ctx.db.collection(key, StreamValue);
  noteRead(ctx, key, stream !== undefined);
  if (stream === undefined) throw streamError("no such key");
  return stream;
}

/** Nodes of a rax holding `keys` (sorted, distinct, all ID_BYTES long), from `depth`. */
function raxNodes(keys: string[], lo: number, hi: number, depth: number): number {
  if (depth === ID_BYTES) return 1;
  const first = keys[lo];
  const last = keys[hi - 1];
  let common = depth;
  while (common < ID_BYTES && first.charCodeAt(common) === last.charCodeAt(common)) common++;
  if (common > depth) return 1 + raxNodes(keys, lo, hi, common);
  let total = 1;
  for (let i = lo; i < hi;) {
    const c = keys[i].charCodeAt(depth);
    let j = i + 1;
    while (j < hi && keys[j].charCodeAt(depth) === c) j++;
    total += raxNodes(keys, i, j, depth + 1);
    i = j;
  }
  return total;
}

/** Writes a key-value collection: a map in RESP3, a flat array in RESP2. */
function mapOf(ctx: CommandContext, w: ReplyWriter, pairs: number): void {
  if (ctx.session.protocol === 3) w.map(pairs);
  else w.array(pairs * 2);
}

function nullableCount(w: ReplyWriter, n: number | undefined): void {
  if (n === undefined || n === ENTRIES_READ_UNKNOWN) w.nil();
  else w.integer(n);
}

function writeEdge(w: ReplyWriter, stream: StreamValue, last: boolean): void {
  let written = false;
  stream.range(MIN_ID, MAX_ID, last, (id, fields, n) => {
    writeEntry(w, id, fields, n);
    written = true;
    return false;
  });
  if (!written) w.nil();
}

function streamHeader(ctx: CommandContext, w: ReplyWriter, stream: StreamValue): void {
  const nodeIds = stream.nodes.map((node) => node.idAt(0));
  w.bulk("length");
  w.integer(stream.length);
  w.bulk("radix-tree-keys");
  w.integer(nodeIds.length);
  w.bulk("radix-tree-nodes");
  w.integer(nodeIds.length === 0 ? 1 : raxNodes(nodeIds, 0, nodeIds.length, 0));
  w.bulk("last-generated-id");
  w.bulk(formatId(stream.lastId));
  w.bulk("max-deleted-entry-id");
  w.bulk(formatId(stream.maxDeletedId));
  w.bulk("entries-added");
  w.integer(stream.entriesAdded);
  w.bulk("recorded-first-entry-id");
  w.bulk(formatId(firstId(stream)));
  void ctx;
}

function xinfoStream(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const stream = lookup(ctx, args[2]);
  const options = args.length - 3;
  let full = false;
  let count = 10;
  if (options > 0) {
    const syntax = () =>
      streamError(
        `unknown subcommand or wrong number of arguments for '${args[1]}'. Try XINFO HELP.`,
      );
    if (options !== 1 && options !== 3) throw syntax();
    if (args[3].toLowerCase() !== "full") throw syntax();
    if (options === 3) {
      if (args[4].toLowerCase() !== "count") throw syntax();
      count = longArgument(args[5]);
      if (count < 0) count = 10;
    }
    full = true;
  }
  if (!full) {
    mapOf(ctx, w, 10);
    streamHeader(ctx, w, stream);
    w.bulk("groups");
    w.integer(stream.groups.size);
    w.bulk("first-entry");
    writeEdge(w, stream, false);
    w.bulk("last-entry");
    writeEdge(w, stream, true);
    return;
  }
  mapOf(ctx, w, 9);
  streamHeader(ctx, w, stream);
  w.bulk("entries");
  const ids: string[] = [];
  const fields: string[] = [];
  const counts: number[] = [];
  stream.range(MIN_ID, MAX_ID, false, (id, f, n) => {
    ids.push(id);
    fields.push(f);
    counts.push(n);
    return count === 0 || ids.length < count;
  });
  w.array(ids.length);
  for (let i = 0; i < ids.length; i++) writeEntry(w, ids[i], fields[i], counts[i]);
  w.bulk("groups");
  const groups = [...stream.groups].sort(byName);
  w.array(groups.length);
  for (const [name, group] of groups) writeFullGroup(ctx, w, stream, name, group, count);
}

function writeFullGroup(
  ctx: CommandContext,
  w: ReplyWriter,
  stream: StreamValue,
  name: string,
  group: StreamGroup,
  count: number,
): void {
  mapOf(ctx, w, 7);
  w.bulk("name");
  w.bulk(name);
  w.bulk("last-delivered-id");
  w.bulk(formatId(group.lastId));
  w.bulk("entries-read");
  nullableCount(w, group.entriesRead);
  w.bulk("lag");
  nullableCount(w, groupLag(stream, group));
  w.bulk("pel-count");
  w.integer(group.pending.size);
  w.bulk("pending");
  writePending(w, group, group.pending, count, true);
  w.bulk("consumers");
  const consumers = [...group.consumers].sort(byName);
  w.array(consumers.length);
  for (const [consumerName, consumer] of consumers) {
    mapOf(ctx, w, 4);
    w.bulk("name");
    w.bulk(consumerName);
    w.bulk("seen-time");
    w.integer(consumer.seenTimeMs);
    w.bulk("pel-count");
    w.integer(consumer.pending.size);
    w.bulk("pending");
    writePending(w, group, consumer.pending, count, false);
  }
}

/**
 * XINFO STREAM FULL's pending entries of a group or a consumer: the first
 * `count` (0: all), each its ID, owner (`withConsumer`), delivery time and count.
 */
function writePending(
  w: ReplyWriter,
  group: StreamGroup,
  pending: StreamGroup["pending"],
  count: number,
  withConsumer: boolean,
): void {
  const shown = count === 0 ? pending.size : Math.min(count, pending.size);
  w.array(shown);
  for (let i = 0; i < shown; i++) {
    const id = pending.at(i);
    const e = group.entries.get(id)!;
    w.array(withConsumer ? 4 : 3);
    w.bulk(formatId(id));
    if (withConsumer) w.bulk(e.consumer);
    w.integer(e.deliveryTimeMs);
    w.integer(e.deliveryCount);
  }
}

/**
 * XINFO's subcommands.
 *
 * @example
 * ```ts
 * STREAM_INFO_COMMANDS[0].name; // "XINFO"
 * ```
 */
export const STREAM_INFO_COMMANDS: CommandDeclaration[] = [
  {
    name: "XINFO",
    summary: "Describes a stream, its consumer groups or a group's consumers.",
    subcommands: [
      {
        name: "STREAM",
        summary: "Describes a stream (FULL: its entries, groups and pending lists too).",
        run: xinfoStream,
      },
      {
        name: "GROUPS",
        summary: "Lists a stream's consumer groups.",
        run(ctx, args, w) {
          const stream = lookup(ctx, args[2]);
          const groups = [...stream.groups].sort(byName);
          w.array(groups.length);
          for (const [name, group] of groups) {
            mapOf(ctx, w, 6);
            w.bulk("name");
            w.bulk(name);
            w.bulk("consumers");
            w.integer(group.consumers.size);
            w.bulk("pending");
            w.integer(group.pending.size);
            w.bulk("last-delivered-id");
            w.bulk(formatId(group.lastId));
            w.bulk("entries-read");
            nullableCount(w, group.entriesRead);
            w.bulk("lag");
            nullableCount(w, groupLag(stream, group));
          }
        },
      },
      {
        name: "CONSUMERS",
        summary: "Lists a consumer group's consumers.",
        run(ctx, args, w) {
          const stream = lookup(ctx, args[2]);
          const group = stream.groups.get(args[3]);
          if (group === undefined) {
            throw noGroup(`No such consumer group '${args[3]}' for key name '${args[2]}'`);
          }
          const now = ctx.store.nowMs();
          const consumers = [...group.consumers].sort(byName);
          w.array(consumers.length);
          for (const [name, consumer] of consumers) {
            mapOf(ctx, w, 3);
            w.bulk("name");
            w.bulk(name);
            w.bulk("pending");
            w.integer(consumer.pending.size);
            w.bulk("idle");
            w.integer(Math.max(0, now - consumer.seenTimeMs));
          }
        },
      },
    ],
  },
];
