/**
 * The sorted-set range commands, as Redis's `zrangeGenericCommand` and
 * `zremrangeGenericCommand`: ZRANGE (BYSCORE, BYLEX, REV, LIMIT,
 * WITHSCORES), ZRANGESTORE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
 * ZREVRANGEBYLEX, ZREVRANGE, ZREMRANGEBYRANK, ZREMRANGEBYSCORE,
 * ZREMRANGEBYLEX. Ranges become rank ranges in O(log n) (see
 * `_zset_common.ts`); a store writes its result with `Database.put`.
 *
 * @example
 * ```ts
 * ZSET_RANGE_COMMANDS.map((c) => c.name); // ["ZRANGE", "ZRANGESTORE", ...]
 * ```
 * @module
 */

import type { ReplyWriter } from "../../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  syntaxError,
} from "../../executor/command_spec.ts";
import { NOTIFY_GENERIC, NOTIFY_ZSET } from "../../pubsub/keyspace_events.ts";
import {
  lexRanks,
  longArgument,
  parseLexRange,
  parseScoreRange,
  replyRange,
  scoreRanks,
  storeZset,
  zsetError,
} from "./_zset_common.ts";
import { readZset } from "./_zset_read.ts";
import { type ZsetReader, ZsetValue } from "./zset.ts";
import { removeMembers } from "./zset_ops.ts";

const RANK = 1;
const SCORE = 2;
const LEX = 3;

/** What a range selected: members in reply order, and their scores. */
interface Selection {
  members: string[];
  scores: number[];
}

/**
 * Where the members of ranks [start, end) begin in reply order (from
 * end − 1 down when `reverse`) after `offset`, and how many of them, at
 * most `limit` (-1: no limit), as Redis counts them: `[first, count]`.
 */
function window(
  start: number,
  end: number,
  reverse: boolean,
  offset: number,
  limit: number,
): [number, number] {
  // A negative offset skips everything in Redis (its `while (offset--)` runs to the end).
  if (offset < 0 || start >= end || limit === 0) return [0, 0];
  const first = reverse ? end - 1 - offset : start + offset;
  if (first < start || first >= end) return [0, 0];
  return [first, Math.min(limit < 0 ? Infinity : limit, end - start - offset)];
}

/** Members of ranks [start, end) in order, or from end − 1 down when `reverse`; offset and limit as Redis. */
function select(
  zset: ZsetReader,
  start: number,
  end: number,
  reverse: boolean,
  offset: number,
  limit: number,
): Selection {
  const out: Selection = { members: [], scores: [] };
  const [first, count] = window(start, end, reverse, offset, limit);
  let left = count;
  if (left === 0) return out;
  zset.walk(first, reverse, (member, score) => {
    out.members.push(member);
    out.scores.push(score);
    return --left > 0;
  });
  return out;
}

/** Stores `selection` at `dest` (deleting it when empty); replies with its size. */
function store(
  ctx: CommandContext,
  dest: string,
  selection: Selection,
  w: ReplyWriter,
  event: string,
): void {
  const n = selection.members.length;
  if (n === 0) {
    if (ctx.db.delete(dest)) ctx.notify(NOTIFY_GENERIC, "del", dest);
    return w.integer(0);
  }
  const zset = new ZsetValue();
  for (let i = 0; i < n; i++) zset.set(selection.members[i], selection.scores[i]);
  storeZset(ctx, dest, zset, w, event);
}

/**
 * Redis's zrangeGenericCommand: `at` is where the source key is, `dest` the
 * key to store into (ZRANGESTORE), `type`/`reverse` fixed by the command
 * name (0: from the arguments).
 */
function zrange(
  ctx: CommandContext,
  args: string[],
  w: ReplyWriter,
  at: number,
  dest: string | undefined,
  fixedType: number,
  fixedReverse: boolean | undefined,
): void {
  let type = fixedType;
  let reverse = fixedReverse;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  let limited = false;
  for (let j = at + 3; j < args.length; j++) {
    const word = args[j].toUpperCase();
    const left = args.length - j - 1;
    if (dest === undefined && word === "WITHSCORES") {
      withScores = true;
    } else if (word === "LIMIT" && left >= 2) {
      offset = longArgument(args[j + 1]);
      limit = longArgument(args[j + 2]);
      limited = true;
      j += 2;
    } else if (reverse === undefined && word === "REV") {
      reverse = true;
    } else if (type === 0 && word === "BYLEX") {
      type = LEX;
    } else if (type === 0 && word === "BYSCORE") {
      type = SCORE;
    } else {
      throw syntaxError();
    }
  }
  reverse ??= false;
  if (type === 0) type = RANK;
  if (limited && limit !== -1 && type === RANK) {
    throw zsetError(
      "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
  }
  if (withScores && type === LEX) {
    throw zsetError("syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  // BYSCORE and BYLEX take the range as [max, min] when reversed.
  const swap = reverse && type !== RANK;
  const minArg = args[swap ? at + 2 : at + 1];
  const maxArg = args[swap ? at + 1 : at + 2];
  let startRank = 0;
  let endRank = 0;
  const scoreRange = type === SCORE ? parseScoreRange(minArg, maxArg) : undefined;
  const lexRange = type === LEX ? parseLexRange(minArg, maxArg) : undefined;
  if (type === RANK) {
    startRank = longArgument(minArg);
    endRank = longArgument(maxArg);
  } else if (type === SCORE && scoreRange === undefined) {
    throw zsetError("min or max is not a float");
  } else if (type === LEX && lexRange === undefined) {
    throw zsetError("min or max not valid string range item");
  }
  const zset = readZset(ctx, args[at]);
  // The ranks selected, as [start, end) before offset and limit.
  let start = 0;
  let end = 0;
  if (zset !== undefined) {
    const length = zset.length;
    if (type === RANK) {
      if (startRank < 0) startRank += length;
      if (endRank < 0) endRank += length;
      if (startRank < 0) startRank = 0;
      if (startRank <= endRank && startRank < length) {
        if (endRank >= length) endRank = length - 1;
        // Reversed ranks count from the highest score.
        [start, end] = reverse ? [length - 1 - endRank, length - startRank] : [
          startRank,
          endRank + 1,
        ];
      }
      offset = 0;
      limit = -1;
    } else if (!(offset > 0 && offset >= length)) {
      [start, end] = type === SCORE ? scoreRanks(zset, scoreRange!) : lexRanks(zset, lexRange!);
    }
  }
  if (dest !== undefined) {
    const selection = zset === undefined
      ? { members: [], scores: [] }
      : select(zset, start, end, reverse, offset, limit);
    return store(ctx, dest, selection, w, "zrangestore");
  }
  if (zset === undefined) return w.array(0);
  const [first, count] = window(start, end, reverse, offset, limit);
  replyRange(ctx, w, zset, first, count, reverse, withScores);
}

/** ZREMRANGEBYRANK / BYSCORE / BYLEX key min max. */
function zremrange(ctx: CommandContext, args: string[], w: ReplyWriter, type: number): void {
  const key = args[1];
  let start = 0;
  let end = 0;
  const scoreRange = type === SCORE ? parseScoreRange(args[2], args[3]) : undefined;
  const lexRange = type === LEX ? parseLexRange(args[2], args[3]) : undefined;
  if (type === RANK) {
    start = longArgument(args[2]);
    end = longArgument(args[3]);
  } else if (type === SCORE && scoreRange === undefined) {
    throw zsetError("min or max is not a float");
  } else if (type === LEX && lexRange === undefined) {
    throw zsetError("min or max not valid string range item");
  }
  const zset = readZset(ctx, key, false);
  if (zset === undefined) return w.integer(0);
  const length = zset.length;
  let s: number;
  let e: number;
  if (type === RANK) {
    if (start < 0) start += length;
    if (end < 0) end += length;
    if (start < 0) start = 0;
    if (start > end || start >= length) return w.integer(0);
    if (end >= length) end = length - 1;
    [s, e] = [start, end + 1];
  } else {
    [s, e] = type === SCORE ? scoreRanks(zset, scoreRange!) : lexRanks(zset, lexRange!);
  }
  const members = select(zset, s, e, false, 0, -1).members;
  if (members.length > 0) {
    removeMembers(ctx, key, members);
    const events = ["", "zremrangebyrank", "zremrangebyscore", "zremrangebylex"];
    ctx.notify(NOTIFY_ZSET, events[type], key);
    if (members.length === length) ctx.notify(NOTIFY_GENERIC, "del", key);
  }
  w.integer(members.length);
}

/** The sorted-set range commands. */
export const ZSET_RANGE_COMMANDS: CommandHandler[] = [
  {
    name: "ZRANGE",
    summary: "Returns members in a range of ranks, scores (BYSCORE) or members (BYLEX).",
    run(ctx, args, w) {
      zrange(ctx, args, w, 1, undefined, 0, undefined);
    },
  },
  {
    name: "ZRANGESTORE",
    summary: "Stores a range of a sorted set (as ZRANGE selects it) in another key.",
    run(ctx, args, w) {
      zrange(ctx, args, w, 2, args[1], 0, undefined);
    },
  },
  {
    name: "ZREVRANGE",
    summary: "Returns members in a range of ranks, highest score first.",
    run(ctx, args, w) {
      zrange(ctx, args, w, 1, undefined, RANK, true);
    },
  },
  {
    name: "ZRANGEBYSCORE",
    summary: "Returns members with scores within a range.",
    run(ctx, args, w) {
      zrange(ctx, args, w, 1, undefined, SCORE, false);
    },
  },
  {
    name: "ZREVRANGEBYSCORE",
    summary: "Returns members with scores within a range, highest first.",
    run(ctx, args, w) {
      zrange(ctx, args, w, 1, undefined, SCORE, true);
    },
  },
  {
    name: "ZRANGEBYLEX",
    summary: "Returns members within a lexicographical range.",
    run(ctx, args, w) {
      zrange(ctx, args, w, 1, undefined, LEX, false);
    },
  },
  {
    name: "ZREVRANGEBYLEX",
    summary: "Returns members within a lexicographical range, in reverse order.",
    run(ctx, args, w) {
      zrange(ctx, args, w, 1, undefined, LEX, true);
    },
  },
  {
    name: "ZREMRANGEBYRANK",
    summary: "Removes the members within a range of ranks; how many.",
    run(ctx, args, w) {
      zremrange(ctx, args, w, RANK);
    },
  },
  {
    name: "ZREMRANGEBYSCORE",
    summary: "Removes the members with scores within a range; how many.",
    run(ctx, args, w) {
      zremrange(ctx, args, w, SCORE);
    },
  },
  {
    name: "ZREMRANGEBYLEX",
    summary: "Removes the members within a lexicographical range; how many.",
    run(ctx, args, w) {
      zremrange(ctx, args, w, LEX);
    },
  },
];
