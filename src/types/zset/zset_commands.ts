/**
 * The sorted-set commands that add, remove and read members one by one:
 * ZADD (NX, XX, GT, LT, CH, INCR), ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE,
 * ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT. A write logs one `ZsetAdd` (the
 * resulting score) or `ZsetRem` record per member changed, one group,
 * applied through the functions replay uses.
 *
 * @example
 * ```ts
 * ZSET_COMMANDS.map((c) => c.name); // ["ZADD", "ZINCRBY", ...]
 * ```
 * @module
 */

import { distinctArgs, ScratchIndex } from "../_scratch_index.ts";
import type { ReplyWriter } from "../../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  syntaxError,
} from "../../executor/command_spec.ts";
import { NOTIFY_GENERIC, NOTIFY_NEW, NOTIFY_ZSET } from "../../pubsub/keyspace_events.ts";
import type { Engine } from "../../storage/engine.ts";
import { WalOp } from "../../wal/record.ts";
import {
  lexRanks,
  notAFloat,
  parseLexRange,
  parseScoreRange,
  scoreRanks,
  zsetError,
} from "./_zset_common.ts";
import { readZset } from "./_zset_read.ts";
import { encodeScore, parseScore } from "./score.ts";
import { applyZsetScores, MAX_ZSET_MEMBERS } from "./zset.ts";
import { removeMembers, writeScore, zeros } from "./zset_ops.ts";

const IN_NX = 1;
const IN_XX = 2;
const IN_INCR = 4;
const IN_GT = 8;
const IN_LT = 16;

/**
 * The members and scores of the records the running command logs: its
 * apply step sets them as replaying the records would, without decoding
 * them back (set just before `changeCollection`, which applies at once).
 * With ZADD's scores and records, arrays reused from request to request
 * (see {@link fillCount} and {@link releaseReused}): new ones, or ones
 * emptied by setting their length to 0 (which drops their storage), were
 * ~700 bytes of garbage a ZADD.
 */
const liveMembers: string[] = [];
const liveScores: number[] = [];
const SCORES: number[] = [];
const RECORDS: string[] = [];
/** After a request of more elements, the reused arrays are let go. */
const REUSED_MAX_ELEMENTS = 256;

/** Writes a request's `i`th change: its log record, and what its apply step sets. */
function record(i: number, member: string, score: number): void {
  RECORDS[i] = encodeScore(score) + member;
  liveMembers[i] = member;
  liveScores[i] = score;
}

/** Ends the reused arrays at the `count` (> 0) elements a request wrote. */
function fillCount(count: number): void {
  RECORDS.length = count;
  liveMembers.length = count;
  liveScores.length = count;
}

/** Lets go of what a request of `count` elements left in the reused arrays. */
function releaseReused(count: number): void {
  if (count > REUSED_MAX_ELEMENTS) {
    RECORDS.length = 0;
    liveMembers.length = 0;
    liveScores.length = 0;
    return;
  }
  for (let i = 0; i < count; i++) {
    RECORDS[i] = "";
    liveMembers[i] = "";
  }
}

function applyAdds(engine: Engine, key: string): void {
  applyZsetScores(engine, key, liveMembers, liveScores);
}

/** The ZADD option `word` names (0: not an option), read without allocating for scores. */
function optionFlag(word: string): number {
  if (word.length < 2 || word.length > 4) return 0;
  const first = word.charCodeAt(0) | 0x20;
  if (first < 99 /* c */ || first > 120 /* x */) return 0;
  switch (word.toLowerCase()) {
    case "nx":
      return IN_NX;
    case "xx":
      return IN_XX;
    case "incr":
      return IN_INCR;
    case "gt":
      return IN_GT;
    case "lt":
      return IN_LT;
    case "ch":
      return -1;
    default:
      return 0;
  }
}

/** Scores a ZADD has set so far in its request, by member (see `_scratch_index.ts`). */
const PENDING_SCORES = new ScratchIndex();

/** ZADD and ZINCRBY (`flags` IN_INCR), as Redis's zaddGenericCommand. */
function zadd(ctx: CommandContext, args: string[], w: ReplyWriter, flags: number): void {
  const key = args[1];
  let ch = false;
  let at = 2;
  for (; at < args.length; at++) {
    const flag = optionFlag(args[at]);
    if (flag === 0) break;
    if (flag === -1) ch = true;
    else flags |= flag;
  }
  const incr = (flags & IN_INCR) !== 0;
  const nx = (flags & IN_NX) !== 0;
  const xx = (flags & IN_XX) !== 0;
  const gt = (flags & IN_GT) !== 0;
  const lt = (flags & IN_LT) !== 0;
  const pairs = args.length - at;
  if (pairs % 2 === 1 || pairs === 0) throw syntaxError();
  const elements = pairs / 2;
  if (nx && xx) throw zsetError("XX and NX options at the same time are not compatible");
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    throw zsetError("GT, LT, and/or NX options at the same time are not compatible");
  }
  if (incr && elements > 1) throw zsetError("INCR option supports a single increment-element pair");
  for (let j = 0; j < elements; j++) {
    const score = parseScore(args[at + j * 2]);
    if (score === undefined) throw notAFloat();
    SCORES[j] = score;
  }
  const zset = readZset(ctx, key, false);
  if (zset === undefined && xx) {
    if (incr) w.nil();
    else w.integer(0);
    return;
  }
  let added = 0;
  let updated = 0;
  let processed = 0;
  let score = 0;
  let records = 0;
  // Members this command already set (a member named twice sees its first change).
  const pending = elements > 1 ? PENDING_SCORES : undefined;
  pending?.reset(elements);
  for (let j = 0; j < elements; j++) {
    score = SCORES[j];
    const member = args[at + 1 + j * 2];
    const current = pending?.get(member) ?? zset?.score(member);
    if (current !== undefined) {
      if (nx) continue;
      if (incr) {
        score += current;
        if (Number.isNaN(score)) throw zsetError("resulting score is not a number (NaN)");
      }
      if ((lt && score >= current) || (gt && score <= current)) continue;
      processed++;
      if (score !== current) {
        record(records++, member, score);
        pending?.set(member, score);
        updated++;
      }
    } else if (!xx) {
      record(records++, member, score);
      pending?.set(member, score);
      added++;
      processed++;
    }
  }
  if (added > 0 && (zset?.length ?? 0) + added > MAX_ZSET_MEMBERS) {
    releaseReused(records);
    throw zsetError(`a sorted set holds at most ${MAX_ZSET_MEMBERS} members`);
  }
  if (records > 0) {
    fillCount(records);
    try {
      ctx.db.changeCollection(key, WalOp.ZsetAdd, RECORDS, zeros(records), applyAdds);
    } finally {
      releaseReused(records);
    }
    if (zset === undefined) ctx.notify(NOTIFY_NEW, "new", key);
    ctx.notify(NOTIFY_ZSET, incr ? "zincr" : "zadd", key);
  }
  if (elements > REUSED_MAX_ELEMENTS) SCORES.length = 0;
  if (incr) {
    if (processed > 0) writeScore(w, score);
    else w.nil();
  } else {
    w.integer(ch ? added + updated : added);
  }
}

/** ZCOUNT and ZLEXCOUNT. */
function count(ctx: CommandContext, args: string[], w: ReplyWriter, lex: boolean): void {
  if (lex) {
    const range = parseLexRange(args[2], args[3]);
    if (range === undefined) throw zsetError("min or max not valid string range item");
    const zset = readZset(ctx, args[1]);
    if (zset === undefined) return w.integer(0);
    const [start, end] = lexRanks(zset, range);
    return w.integer(end - start);
  }
  const range = parseScoreRange(args[2], args[3]);
  if (range === undefined) throw zsetError("min or max is not a float");
  const zset = readZset(ctx, args[1]);
  if (zset === undefined) return w.integer(0);
  const [start, end] = scoreRanks(zset, range);
  w.integer(end - start);
}

function rank(ctx: CommandContext, args: string[], w: ReplyWriter, reverse: boolean): void {
  const zset = readZset(ctx, args[1]);
  const at = zset?.rank(args[2]);
  if (at === undefined) return w.nil();
  w.integer(reverse ? zset!.length - 1 - at : at);
}

/** The sorted-set commands on single members. */
export const ZSET_COMMANDS: CommandHandler[] = [
  {
    name: "ZADD",
    summary: "Adds members with scores to a sorted set, or updates their scores.",
    element: -1,
    run(ctx, args, w) {
      zadd(ctx, args, w, 0);
    },
  },
  {
    name: "ZINCRBY",
    summary: "Adds to a member's score in a sorted set; the new score.",
    element: -1,
    run(ctx, args, w) {
      zadd(ctx, args, w, IN_INCR);
    },
  },
  {
    name: "ZREM",
    summary: "Removes members from a sorted set (the key with its last); how many existed.",
    run(ctx, args, w) {
      const key = args[1];
      const zset = readZset(ctx, key, false);
      if (zset === undefined) return w.integer(0);
      const members = distinctArgs(args, 2, (m) => zset.score(m) !== undefined);
      if (members.length > 0) {
        const emptied = members.length === zset.length;
        removeMembers(ctx, key, members);
        ctx.notify(NOTIFY_ZSET, "zrem", key);
        if (emptied) ctx.notify(NOTIFY_GENERIC, "del", key);
      }
      w.integer(members.length);
    },
  },
  {
    name: "ZCARD",
    summary: "Returns how many members a sorted set has.",
    run(ctx, args, w) {
      w.integer(readZset(ctx, args[1])?.length ?? 0);
    },
  },
  {
    name: "ZSCORE",
    summary: "Returns a member's score.",
    run(ctx, args, w) {
      const score = readZset(ctx, args[1])?.score(args[2]);
      if (score === undefined) w.nil();
      else writeScore(w, score);
    },
  },
  {
    name: "ZMSCORE",
    summary: "Returns the scores of members (nil for each one missing).",
    run(ctx, args, w) {
      const zset = readZset(ctx, args[1]);
      w.array(args.length - 2);
      for (let i = 2; i < args.length; i++) {
        const score = zset?.score(args[i]);
        if (score === undefined) w.nil();
        else writeScore(w, score);
      }
    },
  },
  {
    name: "ZRANK",
    summary: "Returns a member's rank, lowest score first.",
    run(ctx, args, w) {
      rank(ctx, args, w, false);
    },
  },
  {
    name: "ZREVRANK",
    summary: "Returns a member's rank, highest score first.",
    run(ctx, args, w) {
      rank(ctx, args, w, true);
    },
  },
  {
    name: "ZCOUNT",
    summary: "Counts the members with scores within a range.",
    run(ctx, args, w) {
      count(ctx, args, w, false);
    },
  },
  {
    name: "ZLEXCOUNT",
    summary: "Counts the members within a lexicographical range.",
    run(ctx, args, w) {
      count(ctx, args, w, true);
    },
  },
];
