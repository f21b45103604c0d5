/**
 * The sorted-set commands that pop, pick at random or iterate: ZPOPMIN,
 * ZPOPMAX, ZMPOP (through `popZset`, shared with the blocking forms),
 * ZRANDMEMBER and ZSCAN.
 *
 * @example
 * ```ts
 * ZSET_POP_COMMANDS.map((c) => c.name); // ["ZPOPMIN", "ZPOPMAX", ...]
 * ```
 * @module
 */

import type { ReplyWriter } from "../../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  notAnInteger,
  parseInt64,
  syntaxError,
} from "../../executor/command_spec.ts";
import { globMatch } from "../../executor/glob.ts";
import { formatDouble } from "../../protocol/double_format.ts";
import { replyMembers, zsetError } from "./_zset_common.ts";
import { readZset } from "./_zset_read.ts";
import type { ZsetReader } from "./zset.ts";
import { popZset, type ScoredMember, writeScore } from "./zset_ops.ts";
import { parseScanCursor, parseScanOptions, replyEmptyScan } from "../_collection_scan.ts";

/**
 * Most elements ZRANDMEMBER with a negative count (repetitions allowed)
 * answers: Redis has no bound and builds the reply whatever its size.
 */
export const ZRANDMEMBER_MAX_COUNT = 10_000_000;

const LONG_MAX = 2n ** 63n - 1n;

/** Pairs as ZPOPMIN replies them: flat, or (RESP3 with a count) [member, score] pairs. */
function replyPopped(w: ReplyWriter, popped: ScoredMember[], nested: boolean): void {
  w.array(nested ? popped.length : popped.length * 2);
  for (const { member, score } of popped) {
    if (nested) w.array(2);
    w.bulk(member);
    writeScore(w, score);
  }
}

/** ZPOPMIN / ZPOPMAX key [count]. */
function zpop(ctx: CommandContext, args: string[], w: ReplyWriter, min: boolean): void {
  if (args.length > 3) throw syntaxError();
  let count = -1;
  if (args.length === 3) {
    // Redis's getPositiveLongFromObjectOrReply: one message for both faults.
    const n = parseInt64(args[2]);
    if (n === undefined || n < 0n) throw zsetError("value is out of range, must be positive");
    count = n > 2n ** 53n ? 2 ** 53 : Number(n);
  }
  const popped = popZset(ctx, args[1], min, count === -1 ? 1 : count);
  replyPopped(w, popped ?? [], ctx.session.protocol === 3 && count !== -1);
}

/** A count argument in [1, LONG_MAX], with Redis's message for a non-integer or below. */
function positiveCount(s: string, message: string): number {
  const n = parseInt64(s);
  if (n === undefined || n < 1n) throw zsetError(message);
  return n > 2n ** 53n ? 2 ** 53 : Number(n);
}

/** ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]. */
function zmpop(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const numkeys = positiveCount(args[1], "numkeys should be greater than 0");
  const whereAt = 2 + numkeys;
  if (whereAt >= args.length) throw syntaxError();
  const where = args[whereAt].toUpperCase();
  if (where !== "MIN" && where !== "MAX") throw syntaxError();
  let count = -1;
  for (let j = whereAt + 1; j < args.length; j++) {
    if (count === -1 && args[j].toUpperCase() === "COUNT" && j + 1 < args.length) {
      count = positiveCount(args[++j], "count should be greater than 0");
    } else {
      throw syntaxError();
    }
  }
  for (let i = 2; i < whereAt; i++) {
    const popped = popZset(ctx, args[i], where === "MIN", count === -1 ? 1 : count);
    if (popped === undefined) continue;
    w.array(2);
    w.bulk(args[i]);
    return replyPopped(w, popped, true);
  }
  w.nilArray();
}

function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}

/** A random member of `zset` (not empty). */
function randomMember(zset: ZsetReader): string {
  const positions = zset.positions;
  for (;;) {
    const member = zset.memberAt(randomIndex(positions));
    if (member !== undefined) return member;
  }
}

/** ZRANDMEMBER key count [WITHSCORES]: Redis's cases (repetitions, all, some). */
function randomMembers(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const count = parseInt64(args[2]);
  if (count === undefined) throw notAnInteger();
  if (count < -LONG_MAX) {
    throw zsetError(`value is out of range, value must between ${-LONG_MAX} and ${LONG_MAX}`);
  }
  let withScores = false;
  if (args.length > 4 || (args.length === 4 && args[3].toUpperCase() !== "WITHSCORES")) {
    throw syntaxError();
  } else if (args.length === 4) {
    withScores = true;
    if (count < -LONG_MAX / 2n || count > LONG_MAX / 2n) throw zsetError("value is out of range");
  }
  const zset = readZset(ctx, args[1]);
  if (zset === undefined || count === 0n) return w.array(0);
  if (count < 0n) {
    if (-count > BigInt(ZRANDMEMBER_MAX_COUNT)) {
      throw zsetError(`ZRANDMEMBER answers at most ${ZRANDMEMBER_MAX_COUNT} elements`);
    }
    const total = Number(-count);
    const all = zset.encoding() === "listpack" ? zset.entries() : undefined;
    const members: string[] = [];
    const scores: number[] = [];
    for (let i = 0; i < total; i++) {
      const member = all !== undefined ? all[randomIndex(all.length)][0] : randomMember(zset);
      members.push(member);
      scores.push(zset.score(member)!);
    }
    return replyMembers(ctx, w, members, scores, withScores);
  }
  if (count * 3n < BigInt(zset.length) && zset.encoding() === "skiplist") {
    // Few of many (Redis's case 4): random picks until that many distinct,
    // O(count), not a pass over the whole set.
    const picked = new Set<string>();
    while (picked.size < Number(count)) picked.add(randomMember(zset));
    const members = [...picked];
    return replyMembers(ctx, w, members, members.map((m) => zset.score(m)!), withScores);
  }
  const entries = zset.entries();
  if (count < BigInt(entries.length)) {
    // Distinct members: a partial Fisher–Yates shuffle (Redis's order is random too).
    const n = Number(count);
    for (let i = 0; i < n; i++) {
      const j = i + randomIndex(entries.length - i);
      [entries[i], entries[j]] = [entries[j], entries[i]];
    }
    entries.length = n;
  } else {
    // The whole set: Redis answers it from the highest rank down.
    entries.reverse();
  }
  replyMembers(ctx, w, entries.map((e) => e[0]), entries.map((e) => e[1]), withScores);
}

/** ZSCAN key cursor [MATCH pattern] [COUNT count]. */
function zscan(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const cursor = parseScanCursor(args[2]);
  const zset = readZset(ctx, args[1]);
  if (zset === undefined) return replyEmptyScan(w);
  const { pattern, count } = parseScanOptions(args, 3);
  const found: string[] = [];
  let next = 0;
  const keep = (member: string, score: number) => {
    if (pattern === "*" || globMatch(pattern, member)) found.push(member, formatDouble(score));
  };
  if (zset.encoding() === "listpack") {
    // Small: all at once with cursor 0, as Redis replies for a listpack.
    zset.walk(0, false, (member, score) => {
      keep(member, score);
      return true;
    });
  } else {
    const positions = zset.positions;
    let at = cursor >= BigInt(positions) ? positions : Number(cursor);
    for (let seen = 0; at < positions && seen < count; at++) {
      const member = zset.memberAt(at);
      if (member === undefined) continue;
      seen++;
      keep(member, zset.score(member)!);
    }
    next = at < positions ? at : 0;
  }
  w.array(2);
  w.bulk(String(next));
  w.array(found.length);
  for (const item of found) w.bulk(item);
}

/** The sorted-set pop, random and scan commands. */
export const ZSET_POP_COMMANDS: CommandHandler[] = [
  {
    name: "ZPOPMIN",
    summary: "Removes and returns the members with the lowest scores.",
    run(ctx, args, w) {
      zpop(ctx, args, w, true);
    },
  },
  {
    name: "ZPOPMAX",
    summary: "Removes and returns the members with the highest scores.",
    run(ctx, args, w) {
      zpop(ctx, args, w, false);
    },
  },
  {
    name: "ZMPOP",
    summary: "Pops members from the first non-empty sorted set of those named.",
    run(ctx, args, w) {
      zmpop(ctx, args, w);
    },
  },
  {
    name: "ZRANDMEMBER",
    summary: "Returns random members (a count: distinct; negative: with repeats).",
    run(ctx, args, w) {
      if (args.length >= 3) return randomMembers(ctx, args, w);
      const zset = readZset(ctx, args[1]);
      if (zset === undefined) return w.nil();
      w.bulk(randomMember(zset));
    },
  },
  {
    name: "ZSCAN",
    summary: "Iterates a sorted set's members and scores: ZSCAN key cursor [MATCH p] [COUNT n].",
    run(ctx, args, w) {
      zscan(ctx, args, w);
    },
  },
];
