/**
 * The sorted-set algebra, as Redis's `zunionInterDiffGenericCommand`:
 * ZUNION, ZINTER, ZDIFF, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE (WEIGHTS,
 * AGGREGATE SUM|MIN|MAX, WITHSCORES) and ZINTERCARD (LIMIT). A set is
 * accepted as an input, each member scoring 1. Union and intersection
 * visit the inputs from the smallest (Redis's order, which decides how
 * sums round).
 *
 * @example
 * ```ts
 * ZSET_SETOP_COMMANDS.map((c) => c.name); // ["ZUNION", "ZINTER", ...]
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
import { noteRead } from "../../keyspace/lookup.ts";
import { NOTIFY_GENERIC } from "../../pubsub/keyspace_events.ts";
import { Collection, WrongTypeError } from "../collection.ts";
import { replyMembers, storeZset, zsetError } from "./_zset_common.ts";
import { parseScore } from "./score.ts";
import { ZsetValue } from "./zset.ts";

const UNION = 0;
const INTER = 1;
const DIFF = 2;
const SUM = 0;
const MIN = 1;
const MAX = 2;

/** One input: a sorted set, a set's members (score 1), or nothing. */
interface Source {
  size: number;
  weight: number;
  /** The score of `member` here, or undefined. */
  find(member: string): number | undefined;
  /** Every member with its score, in the input's order. */
  forEach(visit: (member: string, score: number) => void): void;
}

const EMPTY_SOURCE: Omit<Source, "weight"> = {
  size: 0,
  find: () => undefined,
  forEach: () => {},
};

function sourceOf(value: Collection | undefined): Omit<Source, "weight"> {
  if (value === undefined) return EMPTY_SOURCE;
  if (value instanceof ZsetValue) {
    return {
      size: value.length,
      find: (member) => value.score(member),
      forEach: (visit) =>
        value.walk(0, false, (member, score) => {
          visit(member, score);
          return true;
        }),
    };
  }
  const members = new Set(value.sortInput() ?? []);
  return {
    size: members.size,
    find: (member) => members.has(member) ? 1 : undefined,
    forEach: (visit) => members.forEach((member) => visit(member, 1)),
  };
}

function aggregate(target: number, value: number, how: number): number {
  if (how === SUM) {
    const sum = target + value;
    // inf + -inf: Redis's convention is 0.
    return Number.isNaN(sum) ? 0 : sum;
  }
  if (how === MIN) return value < target ? value : target;
  return value > target ? value : target;
}

/**
 * Redis's zunionInterDiffGenericCommand: `at` is where numkeys is, `dest`
 * the key to store into; `cardinalityOnly` for ZINTERCARD.
 */
function setop(
  ctx: CommandContext,
  args: string[],
  w: ReplyWriter,
  at: number,
  dest: string | undefined,
  op: number,
  cardinalityOnly: boolean,
  name: string,
): void {
  const numkeys = parseInt64(args[at]);
  if (numkeys === undefined) throw notAnInteger();
  if (numkeys < 1n) throw zsetError(`at least 1 input key is needed for '${name}' command`);
  if (numkeys > BigInt(args.length - at - 1)) throw syntaxError();
  const n = Number(numkeys);
  const sources: Source[] = [];
  for (let i = 0; i < n; i++) {
    const key = args[at + 1 + i];
    const value = ctx.db.value(key);
    if (dest === undefined) noteRead(ctx, key, value !== undefined);
    if (
      value !== undefined &&
      !(value instanceof ZsetValue) &&
      !(value instanceof Collection && value.typeName === "set")
    ) {
      throw new WrongTypeError();
    }
    sources.push({ ...sourceOf(value as Collection | undefined), weight: 1 });
  }
  let how = SUM;
  let withScores = false;
  let limit = 0;
  for (let j = at + 1 + n; j < args.length;) {
    const remaining = args.length - j;
    const word = args[j].toUpperCase();
    if (op !== DIFF && !cardinalityOnly && remaining >= n + 1 && word === "WEIGHTS") {
      j++;
      for (let i = 0; i < n; i++, j++) {
        const weight = parseScore(args[j]);
        if (weight === undefined) throw zsetError("weight value is not a float");
        sources[i].weight = weight;
      }
    } else if (op !== DIFF && !cardinalityOnly && remaining >= 2 && word === "AGGREGATE") {
      const kind = args[j + 1].toUpperCase();
      if (kind === "SUM") how = SUM;
      else if (kind === "MIN") how = MIN;
      else if (kind === "MAX") how = MAX;
      else throw syntaxError();
      j += 2;
    } else if (dest === undefined && !cardinalityOnly && word === "WITHSCORES") {
      withScores = true;
      j++;
    } else if (cardinalityOnly && remaining >= 2 && word === "LIMIT") {
      const value = parseInt64(args[j + 1]);
      if (value === undefined || value < 0n) throw zsetError("LIMIT can't be negative");
      limit = value > 2n ** 53n ? 2 ** 53 : Number(value);
      j += 2;
    } else {
      throw syntaxError();
    }
  }
  const result = new ZsetValue();
  let cardinality = 0;
  if (op === DIFF) {
    const [first, ...others] = sources;
    first.forEach((member, score) => {
      if (others.every((s) => s.find(member) === undefined)) result.set(member, score);
    });
  } else {
    // Smallest first (a stable sort, as glibc's qsort sorts these).
    const ordered = sources.map((s, i) => [s, i] as const).sort((a, b) =>
      a[0].size - b[0].size || a[1] - b[1]
    ).map(([s]) => s);
    if (op === INTER) {
      const [first, ...others] = ordered;
      let stop = false;
      first.forEach((member, score) => {
        if (stop) return;
        let total = first.weight * score;
        if (Number.isNaN(total)) total = 0;
        for (const other of others) {
          const found = other.find(member);
          if (found === undefined) return;
          total = aggregate(total, found * other.weight, how);
        }
        if (cardinalityOnly) {
          cardinality++;
          if (limit !== 0 && cardinality >= limit) stop = true;
        } else {
          result.set(member, total);
        }
      });
    } else {
      const totals = new Map<string, number>();
      for (const source of ordered) {
        source.forEach((member, score) => {
          let value = source.weight * score;
          if (Number.isNaN(value)) value = 0;
          const current = totals.get(member);
          totals.set(member, current === undefined ? value : aggregate(current, value, how));
        });
      }
      for (const [member, score] of totals) result.set(member, score);
    }
  }
  if (cardinalityOnly) return w.integer(cardinality);
  if (dest !== undefined) {
    if (result.length === 0) {
      if (ctx.db.delete(dest)) ctx.notify(NOTIFY_GENERIC, "del", dest);
      return w.integer(0);
    }
    const events = ["zunionstore", "zinterstore", "zdiffstore"];
    return storeZset(ctx, dest, result, w, events[op]);
  }
  const members: string[] = [];
  const scores: number[] = [];
  result.walk(0, false, (member, score) => {
    members.push(member);
    scores.push(score);
    return true;
  });
  replyMembers(ctx, w, members, scores, withScores);
}

/** The sorted-set algebra commands. */
export const ZSET_SETOP_COMMANDS: CommandHandler[] = [
  {
    name: "ZUNION",
    summary: "Returns the union of sorted sets (WEIGHTS, AGGREGATE, WITHSCORES).",
    run: (ctx, args, w) => setop(ctx, args, w, 1, undefined, UNION, false, "zunion"),
  },
  {
    name: "ZINTER",
    summary: "Returns the intersection of sorted sets (WEIGHTS, AGGREGATE, WITHSCORES).",
    run: (ctx, args, w) => setop(ctx, args, w, 1, undefined, INTER, false, "zinter"),
  },
  {
    name: "ZDIFF",
    summary: "Returns the members of the first sorted set that no other holds.",
    run: (ctx, args, w) => setop(ctx, args, w, 1, undefined, DIFF, false, "zdiff"),
  },
  {
    name: "ZUNIONSTORE",
    summary: "Stores the union of sorted sets; its size.",
    run: (ctx, args, w) => setop(ctx, args, w, 2, args[1], UNION, false, "zunionstore"),
  },
  {
    name: "ZINTERSTORE",
    summary: "Stores the intersection of sorted sets; its size.",
    run: (ctx, args, w) => setop(ctx, args, w, 2, args[1], INTER, false, "zinterstore"),
  },
  {
    name: "ZDIFFSTORE",
    summary: "Stores the difference of sorted sets; its size.",
    run: (ctx, args, w) => setop(ctx, args, w, 2, args[1], DIFF, false, "zdiffstore"),
  },
  {
    name: "ZINTERCARD",
    summary: "Counts the members of the intersection of sorted sets (LIMIT stops early).",
    run: (ctx, args, w) => setop(ctx, args, w, 1, undefined, INTER, true, "zintercard"),
  },
];
