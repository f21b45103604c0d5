/**
 * What the sorted-set command files share: Redis's error replies, the
 * typed read, integer arguments as Redis's `getLongFromObject` reads them,
 * score/lex ranges turned into rank ranges, and replies of members with
 * scores (RESP2 flat, RESP3 pairs), and storing a computed sorted set.
 *
 * @example
 * ```ts
 * const zset = readZset(ctx, "z");
 * const [start, end] = scoreRanks(zset!, parseScoreRange("1", "(5")!);
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";
import { CommandError, type ReplyWriter } from "../../protocol/reply_writer.ts";
import { type CommandContext, notAnInteger, parseInt64 } from "../../executor/command_spec.ts";
import { NOTIFY_NEW, NOTIFY_ZSET } from "../../pubsub/keyspace_events.ts";
import {
  compareLex,
  type LexBound,
  lexRangeEmpty,
  parseLexBound,
  parseScoreBound,
} from "./score.ts";
import { type ZsetReader, ZsetValue } from "./zset.ts";
import { PackedZset } from "./_packed_zset.ts";
import { writeScore } from "./zset_ops.ts";

/** An `ERR` reply with Redis's message. */
export function zsetError(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/** Redis's reply to a score argument that is not a number. */
export function notAFloat(): CommandError {
  return zsetError("value is not a valid float");
}

/**
 * A signed 64-bit argument as a number (exact within ±2^53, clamped
 * beyond: every use compares it with a length); Redis's error otherwise.
 */
export function longArgument(s: string): number {
  const value = parseInt64(s);
  if (value === undefined) throw notAnInteger();
  return Number(value);
}

/** A parsed score range (`zslParseRange`). */
export interface ScoreRange {
  min: number;
  minExclusive: boolean;
  max: number;
  maxExclusive: boolean;
}

/** Parses a score range; undefined where Redis answers "min or max is not a float". */
export function parseScoreRange(min: string, max: string): ScoreRange | undefined {
  const low = parseScoreBound(min);
  const high = parseScoreBound(max);
  if (low === undefined || high === undefined) return undefined;
  return {
    min: low.value,
    minExclusive: low.exclusive,
    max: high.value,
    maxExclusive: high.exclusive,
  };
}

/** The ranks [start, end) of the members within `range`. */
export function scoreRanks(zset: ZsetReader, range: ScoreRange): [number, number] {
  const { min, max } = range;
  const start = range.minExclusive
    ? zset.countBeforeScore((score) => score <= min)
    : zset.countBeforeScore((score) => score < min);
  const end = range.maxExclusive
    ? zset.countBeforeScore((score) => score < max)
    : zset.countBeforeScore((score) => score <= max);
  return [start, Math.max(start, end)];
}

/** A parsed lexicographic range (`zslParseLexRange`). */
export interface LexRange {
  min: LexBound;
  max: LexBound;
}

/** Parses a lex range; undefined where Redis answers "min or max not valid string range item". */
export function parseLexRange(min: string, max: string): LexRange | undefined {
  const low = parseLexBound(min);
  const high = parseLexBound(max);
  return low === undefined || high === undefined ? undefined : { min: low, max: high };
}

/** The ranks [start, end) of the members within `range` (members of equal scores). */
export function lexRanks(zset: ZsetReader, range: LexRange): [number, number] {
  if (lexRangeEmpty(range.min, range.max)) return [0, 0];
  const { min, max } = range;
  const start = min.exclusive
    ? zset.countBefore((_, member) => compareLex(member, min) <= 0)
    : zset.countBefore((_, member) => compareLex(member, min) < 0);
  const end = max.exclusive
    ? zset.countBefore((_, member) => compareLex(member, max) < 0)
    : zset.countBefore((_, member) => compareLex(member, max) <= 0);
  return [start, Math.max(start, end)];
}

/**
 * Replies with `count` members of `zset` from rank `first` up (or down,
 * `reverse`), as {@link replyMembers}. One held inline is written from its
 * bytes (no member's string made): ZREVRANGE of 10 of a sorted set of 120,
 * pipeline 16, server CPU a request 6.1 -> 2.8 us with the reads of
 * `PackedZset`, Redis 1.5-1.8 (redis-benchmark, 200k requests).
 */
export function replyRange(
  ctx: CommandContext,
  w: ReplyWriter,
  zset: ZsetReader,
  first: number,
  count: number,
  reverse: boolean,
  withScores: boolean,
): void {
  const resp3 = ctx.session.protocol === 3;
  w.array(withScores && !resp3 ? count * 2 : count);
  let left = count;
  if (left === 0) return;
  if (zset instanceof PackedZset) {
    zset.walkBytes(first, reverse, (bytes, start, end, score) => {
      if (withScores && resp3) w.array(2);
      w.bulkRange(bytes, start, end);
      if (withScores) writeScore(w, score);
      return --left > 0;
    });
  } else {
    zset.walk(first, reverse, (member, score) => {
      if (withScores && resp3) w.array(2);
      w.bulk(member);
      if (withScores) writeScore(w, score);
      return --left > 0;
    });
  }
  assert(left === 0, "a range replies as many members as it counted");
}

/**
 * Replies with members, and their scores if `withScores`: RESP2 one flat
 * array, RESP3 an array of [member, score] pairs.
 */
export function replyMembers(
  ctx: CommandContext,
  w: ReplyWriter,
  members: readonly string[],
  scores: readonly number[],
  withScores: boolean,
): void {
  const resp3 = ctx.session.protocol === 3;
  w.array(withScores && !resp3 ? members.length * 2 : members.length);
  for (let i = 0; i < members.length; i++) {
    if (withScores && resp3) w.array(2);
    w.bulk(members[i]);
    if (withScores) writeScore(w, scores[i]);
  }
}

/**
 * Stores the non-empty `zset` at `dest` (any type before, its expiry
 * gone, as Redis's setKey), with Redis's notifications; replies with its size.
 *
 * @example
 * ```ts
 * storeZset(ctx, "dest", zset, w, "zunionstore");
 * ```
 */
export function storeZset(
  ctx: CommandContext,
  dest: string,
  zset: ZsetValue,
  w: ReplyWriter,
  event: string,
): void {
  const created = ctx.notifies(NOTIFY_NEW) && !ctx.db.exists(dest);
  ctx.db.put(dest, zset, 0);
  if (created) ctx.notify(NOTIFY_NEW, "new", dest);
  ctx.notify(NOTIFY_ZSET, event, dest);
  w.integer(zset.length);
}
