/**
 * The non-blocking list commands of Redis 7.0: LPUSH, RPUSH, LPUSHX,
 * RPUSHX, LPOP, RPOP, LLEN, LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM,
 * LPOS, LMOVE, RPOPLPUSH, LMPOP — replies, errors and the order Redis
 * checks arguments in, as redis-server 7.0.15 answers. Every write logs
 * list records (`wal/record.ts`) through `list_ops.ts`, applied by the same
 * code replay uses.
 *
 * @example
 * ```ts
 * LIST_COMMANDS.map((c) => c.name); // ["LPUSH", "RPUSH", ...]
 * ```
 * @module
 */

import { CommandError, type ReplyWriter } from "../../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  notAnInteger,
  parseInt64,
  syntaxError,
} from "../../executor/command_spec.ts";
import { wrongArity } from "../../executor/errors.ts";
import { noteRead } from "../../keyspace/lookup.ts";
import { NOTIFY_GENERIC, NOTIFY_LIST, NOTIFY_NEW } from "../../pubsub/keyspace_events.ts";
import { WalOp } from "../../wal/record.ts";
import {
  LIST_PUSH_LEFT,
  LIST_PUSH_RIGHT,
  MAX_LIST_ELEMENTS,
  popNumber,
  removeNumber,
} from "./list.ts";
import {
  listAt,
  type ListReader,
  logList,
  logListOne,
  moveList,
  popListReplying,
} from "./list_ops.ts";

function error(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/**
 * A signed 64-bit integer argument as a number (exact within ±2^53, which
 * every list index is): Redis's `getLongFromObjectOrReply`.
 */
function longArgument(s: string): number {
  const length = s.length;
  // The common short forms without a regular expression or a BigInt.
  if (length > 0 && length < 16) {
    let i = s.charCodeAt(0) === 45 ? 1 : 0;
    if (i < length && (s.charCodeAt(i) !== 48 || length === i + 1) && !(i === 1 && s === "-0")) {
      let value = 0;
      for (; i < length; i++) {
        const digit = s.charCodeAt(i) - 48;
        if (digit < 0 || digit > 9) break;
        value = value * 10 + digit;
      }
      if (i === length) return s.charCodeAt(0) === 45 ? -value : value;
    }
  }
  const value = parseInt64(s);
  if (value === undefined) throw notAnInteger();
  return Number(value);
}

/**
 * A count Redis reads with `getRangeLongFromObjectOrReply(1, LONG_MAX)` or
 * `getPositiveLong...`: `message` for a non-integer or a value below `min`.
 */
function rangeArgument(s: string, min: number, message: string): number {
  const value = parseInt64(s);
  if (value === undefined || value < BigInt(min)) throw error(message);
  return Number(value);
}

/**
 * The list at `key` for a reading command, read in place where it is held
 * inline (see `listAt`); a hit or a miss counted, WRONGTYPE for another type.
 */
function readList(ctx: CommandContext, key: string): ListReader | undefined {
  const list = listAt(ctx, key);
  noteRead(ctx, key, list !== undefined);
  return list;
}

/** LEFT or RIGHT (any case): true for LEFT; a syntax error otherwise. */
function sideArgument(s: string): boolean {
  const upper = s.toUpperCase();
  if (upper === "LEFT") return true;
  if (upper === "RIGHT") return false;
  throw syntaxError();
}

/** Arrays of one push side, reused: a command's records' numeric fields. */
const SIDES: [number[], number[]] = [[], []];

function sides(side: number, count: number): number[] {
  const array = SIDES[side];
  while (array.length < count) array.push(side);
  return array;
}

/** LPUSH, RPUSH, LPUSHX, RPUSHX. */
function push(
  ctx: CommandContext,
  args: string[],
  w: ReplyWriter,
  left: boolean,
  existingOnly: boolean,
): void {
  const key = args[1];
  const list = listAt(ctx, key);
  if (list === undefined && existingOnly) return w.integer(0);
  const count = args.length - 2;
  const length = list === undefined ? 0 : list.length;
  if (length + count > MAX_LIST_ELEMENTS) {
    throw error(`a list holds at most ${MAX_LIST_ELEMENTS} elements`);
  }
  const side = left ? LIST_PUSH_LEFT : LIST_PUSH_RIGHT;
  if (count === 1) logListOne(ctx, key, WalOp.ListPush, args[2], side);
  else logList(ctx, key, WalOp.ListPush, args.slice(2), sides(side, count));
  if (list === undefined) ctx.notify(NOTIFY_NEW, "new", key);
  ctx.notify(NOTIFY_LIST, left ? "lpush" : "rpush", key);
  w.integer(length + count);
}

/** LPOP and RPOP, with or without a count. */
function pop(ctx: CommandContext, args: string[], w: ReplyWriter, left: boolean): void {
  if (args.length > 3) throw wrongArity(left ? "lpop" : "rpop");
  if (args.length === 2) {
    if (!popListReplying(ctx, args[1], left, 1, w, false)) w.nil();
    return;
  }
  const count = rangeArgument(args[2], 0, "value is out of range, must be positive");
  if (!popListReplying(ctx, args[1], left, count, w, true)) w.nilArray();
}

/** LRANGE's and LTRIM's normalisation: [start, stop] within the list, or undefined if empty. */
function normalRange(start: number, stop: number, length: number): [number, number] | undefined {
  if (start < 0) start += length;
  if (stop < 0) stop += length;
  if (start < 0) start = 0;
  if (start > stop || start >= length) return undefined;
  if (stop >= length) stop = length - 1;
  return [start, stop];
}

/** An index from the head for `index` (negative: from the tail), or -1 if outside. */
function normalIndex(index: number, length: number): number {
  const at = index < 0 ? length + index : index;
  return at >= 0 && at < length ? at : -1;
}

/** LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]. */
function lpos(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  // RANK -2^63 negates to itself in Redis: from the tail, every match counts.
  let allRanks = false;
  for (let j = 3; j < args.length; j++) {
    const option = args[j].toUpperCase();
    const more = args.length - 1 - j;
    if (option === "RANK" && more > 0) {
      const value = parseInt64(args[++j]);
      if (value === undefined) throw notAnInteger();
      if (value === 0n) {
        throw error(
          "RANK can't be zero: use 1 to start from the first match, 2 from the second ... " +
            "or use negative to start from the end of the list",
        );
      }
      allRanks = value === -(2n ** 63n);
      rank = Number(value);
    } else if (option === "COUNT" && more > 0) {
      count = rangeArgument(args[++j], 0, "COUNT can't be negative");
    } else if (option === "MAXLEN" && more > 0) {
      maxlen = rangeArgument(args[++j], 0, "MAXLEN can't be negative");
    } else {
      throw syntaxError();
    }
  }
  const fromTail = rank < 0;
  if (fromTail) rank = -rank;
  if (allRanks) rank = 1;
  const list = readList(ctx, args[1]);
  if (list === undefined) return count !== -1 ? w.array(0) : w.nil();
  const element = args[2];
  const found: number[] = [];
  let matches = 0;
  let seen = 0;
  list.forEach((e, index) => {
    if (maxlen !== 0 && seen >= maxlen) return false;
    seen++;
    if (e !== element) return;
    matches++;
    if (matches < rank) return;
    found.push(index);
    if (count === -1) return false;
    if (count !== 0 && !allRanks && matches - rank + 1 >= count) return false;
  }, fromTail);
  if (count !== -1) {
    w.array(found.length);
    for (const index of found) w.integer(index);
  } else if (found.length > 0) {
    w.integer(found[0]);
  } else {
    w.nil();
  }
}

/** LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]. */
function lmpop(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const numkeys = rangeArgument(args[1], 1, "numkeys should be greater than 0");
  const whereAt = 2 + numkeys;
  if (whereAt >= args.length) throw syntaxError();
  const left = sideArgument(args[whereAt]);
  let count = -1;
  for (let j = whereAt + 1; j < args.length; j++) {
    if (count === -1 && args[j].toUpperCase() === "COUNT" && j + 1 < args.length) {
      count = rangeArgument(args[++j], 1, "count should be greater than 0");
    } else {
      throw syntaxError();
    }
  }
  if (count === -1) count = 1;
  for (let i = 2; i < whereAt; i++) {
    const key = args[i];
    if (listAt(ctx, key) === undefined) continue;
    w.array(2);
    w.bulk(key);
    popListReplying(ctx, key, left, count, w, true);
    return;
  }
  w.nilArray();
}

/** The list commands (the blocking ones are `block`'s). */
export const LIST_COMMANDS: CommandHandler[] = [
  {
    name: "LPUSH",
    summary: "Prepends elements to a list (made if missing); its new length.",
    run(ctx, args, w) {
      push(ctx, args, w, true, false);
    },
  },
  {
    name: "RPUSH",
    summary: "Appends elements to a list (made if missing); its new length.",
    run(ctx, args, w) {
      push(ctx, args, w, false, false);
    },
  },
  {
    name: "LPUSHX",
    summary: "Prepends elements to an existing list; its new length (0: no list).",
    run(ctx, args, w) {
      push(ctx, args, w, true, true);
    },
  },
  {
    name: "RPUSHX",
    summary: "Appends elements to an existing list; its new length (0: no list).",
    run(ctx, args, w) {
      push(ctx, args, w, false, true);
    },
  },
  {
    name: "LPOP",
    summary: "Removes and returns the first element(s) of a list.",
    run(ctx, args, w) {
      pop(ctx, args, w, true);
    },
  },
  {
    name: "RPOP",
    summary: "Removes and returns the last element(s) of a list.",
    run(ctx, args, w) {
      pop(ctx, args, w, false);
    },
  },
  {
    name: "LLEN",
    summary: "Returns the length of a list.",
    run(ctx, args, w) {
      w.integer(readList(ctx, args[1])?.length ?? 0);
    },
  },
  {
    name: "LRANGE",
    summary: "Returns a range of a list's elements (negative indexes from the tail).",
    run(ctx, args, w) {
      const start = longArgument(args[2]);
      const stop = longArgument(args[3]);
      const list = readList(ctx, args[1]);
      const range = list === undefined ? undefined : normalRange(start, stop, list.length);
      if (range === undefined) return w.array(0);
      w.array(range[1] - range[0] + 1);
      list!.writeRange(w, range[0], range[1]);
    },
  },
  {
    name: "LINDEX",
    summary: "Returns the element at an index of a list (negative: from the tail).",
    run(ctx, args, w) {
      const list = readList(ctx, args[1]);
      if (list === undefined) return w.nil();
      const at = normalIndex(longArgument(args[2]), list.length);
      if (at < 0) w.nil();
      else w.bulk(list.at(at));
    },
  },
  {
    name: "LSET",
    summary: "Sets the element at an index of a list.",
    run(ctx, args, w) {
      const key = args[1];
      const list = listAt(ctx, key);
      if (list === undefined) throw error("no such key");
      const at = normalIndex(longArgument(args[2]), list.length);
      if (at < 0) throw error("index out of range");
      logListOne(ctx, key, WalOp.ListSet, args[3], at);
      ctx.notify(NOTIFY_LIST, "lset", key);
      w.status("OK");
    },
  },
  {
    name: "LINSERT",
    summary: "Inserts an element before or after a pivot; the new length (-1: no pivot).",
    run(ctx, args, w) {
      const where = args[2].toUpperCase();
      if (where !== "BEFORE" && where !== "AFTER") throw syntaxError();
      const key = args[1];
      const list = listAt(ctx, key);
      if (list === undefined) return w.integer(0);
      const pivot = list.indexOf(args[3]);
      if (pivot < 0) return w.integer(-1);
      if (list.length >= MAX_LIST_ELEMENTS) {
        throw error(`a list holds at most ${MAX_LIST_ELEMENTS} elements`);
      }
      const at = where === "BEFORE" ? pivot : pivot + 1;
      const length = list.length;
      logListOne(ctx, key, WalOp.ListInsert, args[4], at);
      ctx.notify(NOTIFY_LIST, "linsert", key);
      w.integer(length + 1);
    },
  },
  {
    name: "LREM",
    summary:
      "Removes elements equal to a value (count > 0 from the head, < 0 from the tail, 0 all).",
    run(ctx, args, w) {
      const count = longArgument(args[2]);
      const key = args[1];
      const list = listAt(ctx, key);
      if (list === undefined) return w.integer(0);
      const element = args[3];
      const length = list.length;
      let matches = 0;
      list.forEach((e) => {
        if (e === element) matches++;
      });
      const removed = count === 0 ? matches : Math.min(matches, Math.abs(count));
      if (removed > 0) {
        const clamped = Math.max(-MAX_LIST_ELEMENTS, Math.min(count, MAX_LIST_ELEMENTS));
        logListOne(ctx, key, WalOp.ListRemove, element, removeNumber(clamped));
        ctx.notify(NOTIFY_LIST, "lrem", key);
        if (removed === length) ctx.notify(NOTIFY_GENERIC, "del", key);
      }
      w.integer(removed);
    },
  },
  {
    name: "LTRIM",
    summary: "Keeps only a range of a list's elements.",
    run(ctx, args, w) {
      const start = longArgument(args[2]);
      const stop = longArgument(args[3]);
      const key = args[1];
      const list = listAt(ctx, key);
      if (list === undefined) return w.status("OK");
      const length = list.length;
      const range = normalRange(start, stop, length);
      const fromHead = range === undefined ? length : range[0];
      const fromTail = range === undefined ? 0 : length - 1 - range[1];
      const data: string[] = [];
      const numbers: number[] = [];
      if (fromHead > 0) {
        data.push("");
        numbers.push(popNumber(true, fromHead));
      }
      if (fromTail > 0) {
        data.push("");
        numbers.push(popNumber(false, fromTail));
      }
      // Logged even when nothing goes: WATCH sees the key touched, as in Redis.
      logList(ctx, key, WalOp.ListPop, data, numbers);
      ctx.notify(NOTIFY_LIST, "ltrim", key);
      if (fromHead + fromTail === length) ctx.notify(NOTIFY_GENERIC, "del", key);
      w.status("OK");
    },
  },
  {
    name: "LPOS",
    summary:
      "Returns the index(es) of matching elements: LPOS key element [RANK r] [COUNT n] [MAXLEN m].",
    run(ctx, args, w) {
      lpos(ctx, args, w);
    },
  },
  {
    name: "LMOVE",
    summary: "Moves an element from an end of one list to an end of another; the element.",
    run(ctx, args, w) {
      const fromLeft = sideArgument(args[3]);
      const toLeft = sideArgument(args[4]);
      const element = moveList(ctx, args[1], args[2], fromLeft, toLeft);
      if (element === undefined) w.nil();
      else w.bulk(element);
    },
  },
  {
    name: "RPOPLPUSH",
    summary: "Moves the last element of a list to the head of another; the element.",
    run(ctx, args, w) {
      const element = moveList(ctx, args[1], args[2], false, true);
      if (element === undefined) w.nil();
      else w.bulk(element);
    },
  },
  {
    name: "LMPOP",
    summary:
      "Pops elements from the first non-empty list: LMPOP numkeys key... LEFT|RIGHT [COUNT n].",
    run(ctx, args, w) {
      lmpop(ctx, args, w);
    },
  },
];
