/**
 * The blocking sorted-set commands — BZPOPMIN, BZPOPMAX, BZMPOP — as Redis
 * 7.0 runs them (`blockingGenericZpopCommand`): BZMPOP's numkeys, MIN|MAX
 * and COUNT are checked first, then the timeout, then the keys in order —
 * a missing key is skipped, one of another type answers WRONGTYPE, the
 * first sorted set is popped at once as ZPOPMIN/ZPOPMAX/ZMPOP would. With
 * none, the client blocks (`src/blocking/`) until a ZADD (or any command
 * that creates the key) serves it, its timeout passes (the nil array) or
 * it is unblocked — except inside MULTI, where they answer the nil array
 * at once.
 *
 * Replies: BZPOPMIN/BZPOPMAX `[key, member, score]`, BZMPOP `[key,
 * [[member, score], ...]]`, the score a bulk string in RESP2 and a double
 * in RESP3 (`writeScore`). Every pop goes through `zset_ops.ts`, which logs
 * its effect: restarts and replicas see a served BZPOPMIN as a ZPOPMIN.
 *
 * @example
 * ```ts
 * BLOCKING_ZSET_COMMANDS.map((c) => c.name); // ["BZPOPMIN", "BZPOPMAX", "BZMPOP"]
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
import { popZset, type ScoredMember, writeScore } from "./zset_ops.ts";

function error(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/** A count in [1, LONG_MAX] (`getRangeLongFromObjectOrReply`): `message` otherwise. */
function countArgument(s: string, message: string): number {
  const value = parseInt64(s);
  if (value === undefined || value < 1n) throw error(message);
  return value > 2n ** 53n ? 2 ** 53 : Number(value);
}

/** BZPOPMIN's reply: `[key, member, score]`. */
function replyOne(w: ReplyWriter, key: string, popped: readonly ScoredMember[]): void {
  w.array(3);
  w.bulk(key);
  w.bulk(popped[0].member);
  writeScore(w, popped[0].score);
}

/** BZMPOP's reply: `[key, [[member, score], ...]]`. */
function replyMany(w: ReplyWriter, key: string, popped: readonly ScoredMember[]): void {
  w.array(2);
  w.bulk(key);
  w.array(popped.length);
  for (const { member, score } of popped) {
    w.array(2);
    w.bulk(member);
    writeScore(w, score);
  }
}

/**
 * Pops from the first of `keys` that holds a sorted set, or blocks:
 * BZPOPMIN/BZPOPMAX (`count` -1: one member, flat reply), BZMPOP (nested).
 */
function popOrBlock(
  ctx: CommandContext,
  w: ReplyWriter,
  keys: readonly string[],
  min: boolean,
  count: number,
  timeoutMs: number,
): void | Promise<void> {
  const reply = count === -1 ? replyOne : replyMany;
  const n = count === -1 ? 1 : count;
  for (const key of keys) {
    const popped = popZset(ctx, key, min, n);
    if (popped === undefined) continue;
    return reply(w, key, popped);
  }
  if (ctx.session.inExec) return w.nilArray();
  return blockOn(ctx, w, {
    keys,
    type: "zset",
    timeoutMs,
    serve(ctx, key) {
      const popped = popZset(ctx, key, min, n);
      assert(popped !== undefined && popped.length > 0, "a ready sorted set has members");
      return (w) => reply(w, key, popped);
    },
  });
}

/** BZPOPMIN / BZPOPMAX key [key ...] timeout. */
function bzpop(ctx: CommandContext, args: string[], w: ReplyWriter, min: boolean) {
  const timeoutMs = timeoutMsFromSeconds(args[args.length - 1]);
  return popOrBlock(ctx, w, args.slice(1, -1), min, -1, timeoutMs);
}

/** BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]. */
function bzmpop(ctx: CommandContext, args: string[], w: ReplyWriter): void | Promise<void> {
  const numkeys = countArgument(args[2], "numkeys should be greater than 0");
  const whereAt = 3 + numkeys;
  if (whereAt >= args.length) throw syntaxError();
  const where = args[whereAt].toUpperCase();
  if (where !== "MIN" && where !== "MAX") throw syntaxError();
  let count = -1;
  for (let j = whereAt + 1; j < args.length; j++) {
    if (count === -1 && args[j].toUpperCase() === "COUNT" && j + 1 < args.length) {
      count = countArgument(args[++j], "count should be greater than 0");
    } else {
      throw syntaxError();
    }
  }
  const timeoutMs = timeoutMsFromSeconds(args[1]);
  const keys = args.slice(3, whereAt);
  return popOrBlock(ctx, w, keys, where === "MIN", count === -1 ? 1 : count, timeoutMs);
}

/** BZPOPMIN, BZPOPMAX, BZMPOP. */
export const BLOCKING_ZSET_COMMANDS: CommandHandler[] = [
  {
    name: "BZPOPMIN",
    summary: "Pops the lowest-scored member of the first non-empty sorted set, waiting up to " +
      "timeout seconds (0: for ever) for one: BZPOPMIN key [key ...] timeout.",
    run: (ctx, args, w) => bzpop(ctx, args, w, true),
  },
  {
    name: "BZPOPMAX",
    summary: "Pops the highest-scored member of the first non-empty sorted set, waiting up to " +
      "timeout seconds (0: for ever) for one: BZPOPMAX key [key ...] timeout.",
    run: (ctx, args, w) => bzpop(ctx, args, w, false),
  },
  {
    name: "BZMPOP",
    summary: "Pops up to count lowest or highest members of the first non-empty sorted set, " +
      "waiting up to timeout seconds: BZMPOP timeout numkeys key... MIN|MAX [COUNT count].",
    run: bzmpop,
  },
];
