/**
 * The list changes commands share — blocking ones included (BLPOP,
 * BLMOVE... serve a waiting client with these): each logs its effect
 * records and applies them through the same code replay uses, and fires
 * Redis's keyspace notifications. Signatures are stable: other modules
 * build on them.
 *
 * @example
 * ```ts
 * popList(ctx, "queue", true, 1); // ["job1"], or undefined without the key
 * moveList(ctx, "from", "to", false, true); // RPOPLPUSH's element
 * ```
 * @module
 */

import type { CommandContext } from "../../executor/command_spec.ts";
import type { ReplyWriter } from "../../protocol/reply_writer.ts";
import { NOTIFY_GENERIC, NOTIFY_LIST, NOTIFY_NEW } from "../../pubsub/keyspace_events.ts";
import { WalOp } from "../../wal/record.ts";
import {
  LIST_PUSH_LEFT,
  LIST_PUSH_RIGHT,
  ListValue,
  popNumber,
  SNAPSHOT_TYPE_LIST,
} from "./list.ts";
import { listApplier } from "./list_apply.ts";
import { PackedList } from "./_packed_list.ts";

/**
 * A list as commands read it: the {@link ListValue}, or a
 * {@link PackedList} over the bytes of one held inline.
 */
export type ListReader = ListValue | PackedList;

/**
 * The list at `key` to read, undefined without the key: one held inline
 * is read in its packed bytes, not unpacked (the reader is valid until
 * the keyspace next changes: read, then write). Marks the key used;
 * throws `WrongTypeError` for a key of another type.
 *
 * @example
 * ```ts
 * listAt(ctx, "queue")?.length; // LLEN
 * ```
 */
export function listAt(ctx: CommandContext, key: string): ListReader | undefined {
  const list = ctx.db.collectionOrPacked(key, ListValue, SNAPSHOT_TYPE_LIST);
  return list === undefined || list instanceof ListValue ? list : new PackedList(list);
}

/** One record's data and number, reused (changeCollection copies what it keeps). */
const ONE_DATA = [""];
const ONE_NUMBER = [0];

/**
 * Logs and applies records of op `op` (`data[i]`, `numbers[i]`) to the
 * list at `key`, one group with the command's other records.
 *
 * @example
 * ```ts
 * logList(ctx, "l", WalOp.ListSet, ["v"], [0]);
 * ```
 */
export function logList(
  ctx: CommandContext,
  key: string,
  op: number,
  data: readonly string[],
  numbers: readonly number[],
): void {
  ctx.db.changeCollection(key, op, data, numbers, listApplier(op));
}

/** Logs and applies one record of op `op` to the list at `key`. */
export function logListOne(
  ctx: CommandContext,
  key: string,
  op: number,
  value: string,
  numeric: number,
): void {
  ONE_DATA[0] = value;
  ONE_NUMBER[0] = numeric;
  try {
    logList(ctx, key, op, ONE_DATA, ONE_NUMBER);
  } finally {
    ONE_DATA[0] = "";
  }
}

/**
 * Pops up to `count` (≥ 1) elements from the head (`left`) or the tail of
 * the list at `key` as one record, with the `lpop`/`rpop` notification
 * (and `del` when emptied); returns them in pop order, or undefined
 * without the key. Throws `WrongTypeError` for a key of another type.
 *
 * @example
 * ```ts
 * popList(ctx, "l", false, 2); // the last two, last first
 * ```
 */
export function popList(
  ctx: CommandContext,
  key: string,
  left: boolean,
  count: number,
): string[] | undefined {
  const list = listAt(ctx, key);
  if (list === undefined) return undefined;
  const n = list.countUpTo(count);
  if (n <= 0) return [];
  const popped: string[] = new Array(n);
  if (left) {
    if (n === 1) popped[0] = list.at(0);
    else {
      let i = 0;
      list.forEach((element) => {
        popped[i++] = element;
        return i < n;
      });
    }
  } else {
    let i = 0;
    list.forEach((element) => {
      popped[i++] = element;
      return i < n;
    }, true);
  }
  logPop(ctx, key, left, n, list.countUpTo(n + 1) === n);
  return popped;
}

/**
 * Pops as {@link popList} does, writing the elements as bulk replies
 * straight from the list (as an array of them when `array`) instead of
 * returning them; false (nothing written) without the key.
 *
 * @example
 * ```ts
 * if (!popListReplying(ctx, "l", true, 1, w, false)) w.nil(); // LPOP l
 * ```
 */
export function popListReplying(
  ctx: CommandContext,
  key: string,
  left: boolean,
  count: number,
  w: ReplyWriter,
  array: boolean,
): boolean {
  const list = listAt(ctx, key);
  if (list === undefined) return false;
  // Counted only as far as needed: LPOP of a list held inline walks one element.
  const n = list.countUpTo(count);
  if (array) w.array(n);
  if (n <= 0) return true;
  list.writeEnd(w, left, n);
  logPop(ctx, key, left, n, list.countUpTo(n + 1) === n);
  return true;
}

/** Logs and applies a pop of `n` elements (all of them: `emptied`), with its notifications. */
function logPop(ctx: CommandContext, key: string, left: boolean, n: number, emptied: boolean) {
  logListOne(ctx, key, WalOp.ListPop, "", popNumber(left, n));
  ctx.notify(NOTIFY_LIST, left ? "lpop" : "rpop", key);
  if (emptied) ctx.notify(NOTIFY_GENERIC, "del", key);
}

/**
 * Moves one element from an end of `source` to an end of `destination`
 * (LMOVE: `fromLeft` LEFT/RIGHT, `toLeft` LEFT/RIGHT), as Redis does: the
 * destination's type is checked only when the source has an element
 * (WRONGTYPE then, nothing moved), the same key rotates, and the
 * notifications are the destination's (`new`, `lpush`/`rpush`) then the
 * source's (`lpop`/`rpop`, `del` when emptied). Returns the element, or
 * undefined without the source. Throws `WrongTypeError` for a source or
 * destination of another type.
 *
 * @example
 * ```ts
 * moveList(ctx, "l", "l", true, false); // rotates: the head goes to the tail
 * ```
 */
export function moveList(
  ctx: CommandContext,
  source: string,
  destination: string,
  fromLeft: boolean,
  toLeft: boolean,
): string | undefined {
  const from = listAt(ctx, source);
  if (from === undefined) return undefined;
  // Read before the destination is looked up: a reader of packed bytes
  // shares the engine's one view with the next one made.
  const element = from.at(fromLeft ? 0 : from.length - 1);
  const emptied = from.countUpTo(2) === 1;
  const to = listAt(ctx, destination);
  // The push first: both orders leave the same lists (a rotation too).
  logListOne(ctx, destination, WalOp.ListPush, element, toLeft ? LIST_PUSH_LEFT : LIST_PUSH_RIGHT);
  logListOne(ctx, source, WalOp.ListPop, "", popNumber(fromLeft, 1));
  if (to === undefined) ctx.notify(NOTIFY_NEW, "new", destination);
  ctx.notify(NOTIFY_LIST, toLeft ? "lpush" : "rpush", destination);
  ctx.notify(NOTIFY_LIST, fromLeft ? "lpop" : "rpop", source);
  if (emptied && source !== destination) ctx.notify(NOTIFY_GENERIC, "del", source);
  return element;
}
