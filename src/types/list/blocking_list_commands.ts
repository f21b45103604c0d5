/**
 * The blocking list commands — BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP —
 * as Redis 7.0 runs them (`blockingPopGenericCommand`,
 * `blmoveGenericCommand`): the arguments are checked first (BLMPOP's
 * numkeys, side and COUNT, then the timeout), then the keys in order — a
 * missing key is skipped, one of another type answers WRONGTYPE, the first
 * list is popped at once as LPOP/RPOP/LMOVE would. With none, the client
 * blocks (`src/blocking/`) until a push serves it, its timeout passes (the
 * nil array) or it is unblocked — except inside MULTI, where these answer
 * at once as on a timeout (BLMOVE and BRPOPLPUSH: a nil bulk).
 *
 * Every pop, at once or served later, goes through `list_ops.ts`, which
 * logs its effect: restarts and replicas see a served BLPOP as an LPOP.
 *
 * @example
 * ```ts
 * BLOCKING_LIST_COMMANDS.map((c) => c.name); // ["BLPOP", "BRPOP", "BLMOVE", ...]
 * ```
 * @module
 */

import {
  type CommandContext,
  type CommandHandler,
  parseInt64,
  syntaxError,
} from "../../executor/command_spec.ts";
import { CommandError, type ReplyWriter } from "../../protocol/reply_writer.ts";
import { blockOn } from "../../blocking/block_on.ts";
import { timeoutMsFromSeconds } from "../../blocking/timeout.ts";
import { assert } from "../../_assert.ts";
import { moveList, popList } from "./list_ops.ts";

function error(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/** LEFT or RIGHT, any case (Redis's `getListPositionFromObjectOrReply`): true for LEFT. */
function sideArgument(s: string): boolean {
  const upper = s.toUpperCase();
  if (upper === "LEFT") return true;
  if (upper === "RIGHT") return false;
  throw syntaxError();
}

/** A count in [1, LONG_MAX] (`getRangeLongFromObjectOrReply`): `message` otherwise. */
function countArgument(s: string, message: string): number {
  const value = parseInt64(s);
  if (value === undefined || value < 1n) throw error(message);
  return value > 2n ** 53n ? 2 ** 53 : Number(value);
}

/** What a pop of one element replies: `[key, element]`. */
function replyKeyElement(w: ReplyWriter, key: string, element: string): void {
  w.array(2);
  w.bulk(key);
  w.bulk(element);
}

/** What BLMPOP replies: `[key, [elements...]]`. */
function replyKeyElements(w: ReplyWriter, key: string, elements: readonly string[]): void {
  w.array(2);
  w.bulk(key);
  w.array(elements.length);
  for (const element of elements) w.bulk(element);
}

/**
 * Pops from the first of `keys` that holds a list, or blocks: BLPOP,
 * BRPOP (`count` -1: one element, flat reply) and BLMPOP (nested reply).
 */
function popOrBlock(
  ctx: CommandContext,
  w: ReplyWriter,
  keys: readonly string[],
  left: boolean,
  count: number,
  timeoutMs: number,
): void | Promise<void> {
  const nested = count !== -1;
  const n = nested ? count : 1;
  for (const key of keys) {
    const popped = popList(ctx, key, left, n);
    if (popped === undefined) continue;
    if (nested) replyKeyElements(w, key, popped);
    else replyKeyElement(w, key, popped[0]);
    return;
  }
  if (ctx.session.inExec) return w.nilArray();
  return blockOn(ctx, w, {
    keys,
    type: "list",
    timeoutMs,
    serve(ctx, key) {
      const popped = popList(ctx, key, left, n);
      assert(popped !== undefined && popped.length > 0, "a ready list has elements");
      return nested
        ? (w) => replyKeyElements(w, key, popped)
        : (w) => replyKeyElement(w, key, popped[0]);
    },
  });
}

/** Moves from `source` to `destination`, or blocks: BLMOVE and BRPOPLPUSH. */
function moveOrBlock(
  ctx: CommandContext,
  w: ReplyWriter,
  source: string,
  destination: string,
  fromLeft: boolean,
  toLeft: boolean,
  timeoutMs: number,
): void | Promise<void> {
  const moved = moveList(ctx, source, destination, fromLeft, toLeft);
  if (moved !== undefined) return w.bulk(moved);
  if (ctx.session.inExec) return w.nil();
  return blockOn(ctx, w, {
    keys: [source],
    type: "list",
    timeoutMs,
    serve(ctx, key) {
      // The destination's type is checked now (WRONGTYPE: nothing moves).
      const element = moveList(ctx, key, destination, fromLeft, toLeft);
      assert(element !== undefined, "a ready list has elements");
      return (w) => w.bulk(element);
    },
  });
}

/** BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]. */
function blmpop(ctx: CommandContext, args: string[], w: ReplyWriter): void | Promise<void> {
  const numkeys = countArgument(args[2], "numkeys should be greater than 0");
  const whereAt = 3 + numkeys;
  if (whereAt >= args.length) throw syntaxError();
  const left = sideArgument(args[whereAt]);
  let count = -1;
  for (let j = whereAt + 1; j < args.length; j++) {
    if (count === -1 && args[j].toUpperCase() === "COUNT" && j + 1 < args.length) {
      count = countArgument(args[++j], "count should be greater than 0");
    } else {
      throw syntaxError();
    }
  }
  const timeoutMs = timeoutMsFromSeconds(args[1]);
  return popOrBlock(ctx, w, args.slice(3, whereAt), left, count === -1 ? 1 : count, timeoutMs);
}

/** BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP. */
export const BLOCKING_LIST_COMMANDS: CommandHandler[] = [
  {
    name: "BLPOP",
    summary: "Pops the first element of the first non-empty list, waiting up to timeout " +
      "seconds (0: for ever) for one: BLPOP key [key ...] timeout.",
    run(ctx, args, w) {
      const timeoutMs = timeoutMsFromSeconds(args[args.length - 1]);
      return popOrBlock(ctx, w, args.slice(1, -1), true, -1, timeoutMs);
    },
  },
  {
    name: "BRPOP",
    summary: "Pops the last element of the first non-empty list, waiting up to timeout " +
      "seconds (0: for ever) for one: BRPOP key [key ...] timeout.",
    run(ctx, args, w) {
      const timeoutMs = timeoutMsFromSeconds(args[args.length - 1]);
      return popOrBlock(ctx, w, args.slice(1, -1), false, -1, timeoutMs);
    },
  },
  {
    name: "BLMOVE",
    summary: "Moves an element from one end of a list to an end of another, waiting up to " +
      "timeout seconds for one: BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.",
    run(ctx, args, w) {
      const fromLeft = sideArgument(args[3]);
      const toLeft = sideArgument(args[4]);
      const timeoutMs = timeoutMsFromSeconds(args[5]);
      return moveOrBlock(ctx, w, args[1], args[2], fromLeft, toLeft, timeoutMs);
    },
  },
  {
    name: "BRPOPLPUSH",
    summary: "Moves the last element of a list to the head of another, waiting up to timeout " +
      "seconds for one (BLMOVE source destination RIGHT LEFT timeout).",
    run(ctx, args, w) {
      const timeoutMs = timeoutMsFromSeconds(args[3]);
      return moveOrBlock(ctx, w, args[1], args[2], false, true, timeoutMs);
    },
  },
  {
    name: "BLMPOP",
    summary: "Pops up to count elements from the first non-empty list, waiting up to timeout " +
      "seconds: BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT count].",
    run: blmpop,
  },
];
