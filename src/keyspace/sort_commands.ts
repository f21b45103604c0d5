/**
 * SORT and SORT_RO over lists, sets and sorted sets, as Redis 7.0 sorts
 * (`_sort_engine.ts`: the grammar, scores, comparisons, LIMIT, patterns):
 * BY a pattern (`*`, `->field` of a hash, a pattern without `*` for no
 * sorting), GET (`#`, patterns), LIMIT, ASC/DESC, ALPHA, STORE (a list;
 * an empty result deletes the destination). A hash or a string is
 * WRONGTYPE; a missing key sorts as an empty list.
 *
 * @example
 * ```ts
 * SORT_COMMANDS.map((c) => c.name); // ["SORT", "SORT_RO"]
 * ```
 * @module
 */

import { CommandError } from "../protocol/reply_writer.ts";
import type { CommandContext, CommandHandler } from "../executor/command_spec.ts";
import type { ReplyWriter } from "../protocol/reply_writer.ts";
import { NOTIFY_GENERIC, NOTIFY_LIST, NOTIFY_NEW } from "../pubsub/keyspace_events.ts";
import { ZsetValue } from "../types/zset/zset.ts";
import { Collection, type KeyValue } from "../types/collection.ts";
import { HashValue } from "../types/hash/hash.ts";
import { lookupValue } from "./lookup.ts";
import {
  parseSortOptions,
  type PatternLookup,
  resolvePattern,
  sortElements,
  type SortSource,
} from "./_sort_engine.ts";
import { sortedList } from "./_sort_store.ts";

function wrongType(): CommandError {
  return new CommandError(
    "WRONGTYPE",
    "Operation against a key holding the wrong kind of value",
    "Operation against a key holding the wrong kind of value",
  );
}

/** A looked-up value as SORT reads it: a string, or a hash's field. */
function patternLookup(ctx: CommandContext): PatternLookup {
  return (key, field) => {
    const value: KeyValue | undefined = lookupValue(ctx, key);
    if (value === undefined) return undefined;
    if (field !== undefined) return value instanceof HashValue ? value.get(field) : undefined;
    if (value instanceof Collection) return undefined;
    return typeof value === "string" ? value : value.toBinary();
  };
}

function sort(ctx: CommandContext, args: string[], w: ReplyWriter, readOnly: boolean): void {
  const options = parseSortOptions(args, readOnly);
  const value = lookupValue(ctx, args[1]);
  let elements: readonly string[] = [];
  let source: SortSource = "list";
  if (value instanceof ZsetValue && value.encoding() === "listpack") {
    // Redis's SORT makes a sorted set it reads a skiplist, in memory only
    // (not propagated: a replica or a restart has it as a listpack again).
    value.toSkiplist();
    ctx.db.engine.setCollection(args[1], value);
  }
  if (value !== undefined) {
    const input = value instanceof Collection ? value.sortInput() : undefined;
    if (input === undefined) throw wrongType();
    elements = input;
    source = (value as Collection).typeName as SortSource;
  }
  const lookup = patternLookup(ctx);
  const result = sortElements(elements, source, options, lookup);
  if ("scoreError" in result) {
    throw new CommandError("ERR", "One or more scores can't be converted into double");
  }
  const { items } = result;
  const gets = options.gets;
  if (options.store === undefined) {
    w.array(gets.length === 0 ? items.length : items.length * gets.length);
    for (const item of items) {
      if (gets.length === 0) w.bulk(item);
      for (const get of gets) {
        const got = resolvePattern(get, item, lookup);
        if (got === undefined) w.nil();
        else w.bulk(got);
      }
    }
    return;
  }
  const out: string[] = [];
  for (const item of items) {
    if (gets.length === 0) out.push(item);
    // A missing value is stored as an empty string.
    for (const get of gets) out.push(resolvePattern(get, item, lookup) ?? "");
  }
  const store = options.store;
  if (out.length > 0) {
    const existed = ctx.db.exists(store);
    ctx.db.put(store, sortedList(out), 0);
    if (!existed) ctx.notify(NOTIFY_NEW, "new", store);
    ctx.notify(NOTIFY_LIST, "sortstore", store);
  } else if (ctx.db.delete(store)) {
    ctx.notify(NOTIFY_GENERIC, "del", store);
  }
  w.integer(out.length);
}

/** SORT and SORT_RO. */
export const SORT_COMMANDS: CommandHandler[] = [
  {
    name: "SORT",
    summary: "Sorts a list, set or sorted set (BY, LIMIT, GET, ALPHA, DESC, STORE).",
    run(ctx, args, w) {
      sort(ctx, args, w, false);
    },
  },
  {
    name: "SORT_RO",
    summary: "SORT without STORE, for read-only contexts.",
    run(ctx, args, w) {
      sort(ctx, args, w, true);
    },
  },
];
