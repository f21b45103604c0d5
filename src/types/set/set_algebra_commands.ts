/**
 * The Redis 7.0 commands over several sets: SINTER, SINTERCARD,
 * SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE. A missing key is an
 * empty set; a key of another type answers WRONGTYPE. Results are built as
 * Redis builds them — a new set that members are added to one by one — so
 * a result's order (ascending for an intset) and a stored result's
 * encoding are Redis's, including SDIFF's choice between its two
 * algorithms, which decides whether a result of integers is an intset.
 *
 * @example
 * ```ts
 * SET_ALGEBRA_COMMANDS.map((c) => c.name); // ["SINTER", "SINTERCARD", ...]
 * ```
 * @module
 */

import { CommandError, type ReplyWriter } from "../../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  syntaxError,
} from "../../executor/command_spec.ts";
import { NOTIFY_GENERIC, NOTIFY_NEW, NOTIFY_SET } from "../../pubsub/keyspace_events.ts";
import { MAX_SET_MEMBERS, SetValue } from "./set.ts";
import { type SetMembers, setMembers } from "./_set_read.ts";
import { PackedSet } from "./_packed_set.ts";

const LONG_MAX = 2n ** 63n - 1n;

function error(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/**
 * The sets at `keys` (undefined for a missing key), each read as Redis's
 * lookupKeyRead reads it; WRONGTYPE at the first key of another type. Small
 * sets are read in their packed bytes: every one is read before a result
 * is stored.
 */
function readSets(ctx: CommandContext, keys: readonly string[]): (SetMembers | undefined)[] {
  return keys.map((key) => setMembers(ctx, key));
}

/** Refuses a result past {@link MAX_SET_MEMBERS}. */
function tooManyMembers(): never {
  throw error(`a set holds at most ${MAX_SET_MEMBERS} members`);
}

/** Lookups in a set held inline that walk its members, before an index of them costs less. */
const WALKED_LOOKUPS_MAX = 8;

/**
 * What answers `has` for `set` when it is asked `lookups` times: the set
 * itself, or for more than a few lookups in one held inline an index of
 * its bytes (each lookup would walk them).
 */
function lookupOf(set: SetMembers, lookups: number): { has(member: string): boolean } {
  return set instanceof PackedSet && lookups > WALKED_LOOKUPS_MAX ? set.index() : set;
}

/**
 * The members in every set, in the order of the smallest (Redis walks it
 * and tests the others), at most `limit` of them (0: all); undefined if a
 * set is missing.
 */
function intersection(
  keys: readonly string[],
  sets: (SetMembers | undefined)[],
  limit = 0,
): string[] | undefined {
  if (sets.some((set) => set === undefined)) return undefined;
  // Smallest first (a stable sort, as glibc's qsort of a few sets is).
  const order = sets.map((_, i) => i).sort((a, b) => sets[a]!.length - sets[b]!.length);
  const first = sets[order[0]]!;
  const others = order.slice(1).filter((i) => keys[i] !== keys[order[0]]).map((i) =>
    lookupOf(sets[i]!, first.length)
  );
  const out: string[] = [];
  first.forEach((member) => {
    for (const other of others) if (!other.has(member)) return;
    out.push(member);
    if (limit > 0 && out.length >= limit) return false;
  });
  return out;
}

/**
 * SUNION's result: every member of every set, added in order. Each set's
 * members not in the sets before it are gathered, and the set built at
 * once (`SetValue.of`): added one by one, a small result was rewritten
 * whole at each member (SUNION of two sets of 120 held inline, 120 us
 * in-process). A JS Set would cost more than the sets' own lookups: its
 * lookup of a new string is ~45-70 ns.
 */
function union(sets: (SetMembers | undefined)[]): SetValue {
  const members: string[] = [];
  const before: { has(member: string): boolean }[] = [];
  let later = 0;
  for (const set of sets) later += set?.length ?? 0;
  for (const set of sets) {
    if (set === undefined) continue;
    later -= set.length;
    set.forEach((member) => {
      for (let i = 0; i < before.length; i++) if (before[i].has(member)) return;
      if (members.push(member) > MAX_SET_MEMBERS) tooManyMembers();
    });
    before.push(lookupOf(set, later));
  }
  return SetValue.of(members);
}

/** SDIFF's result: the first set's members in none of the others, by Redis's two algorithms. */
function difference(keys: readonly string[], sets: (SetMembers | undefined)[]): SetValue {
  const result = new SetValue();
  const first = sets[0];
  if (first === undefined || keys.slice(1).includes(keys[0])) return result;
  // Algorithm 1 (test each member of the first set against the others)
  // unless adding the first set and removing the others is cheaper.
  let algoOneWork = 0;
  let algoTwoWork = 0;
  for (const set of sets) {
    if (set === undefined) continue;
    algoOneWork += first.length;
    algoTwoWork += set.length;
  }
  algoOneWork = Math.floor(algoOneWork / 2);
  if (algoOneWork <= algoTwoWork) {
    const others = sets.slice(1).map((set) => set && lookupOf(set, first.length));
    const kept: string[] = [];
    first.forEach((member) => {
      for (let i = 0; i < others.length; i++) if (others[i]?.has(member)) return;
      kept.push(member);
    });
    return SetValue.of(kept);
  }
  // Algorithm 2: the result holds the whole first set for a while, so it
  // stays a hashtable if the first set made it one.
  first.forEach((member) => void result.add(member));
  for (let i = 1; i < sets.length && result.length > 0; i++) {
    sets[i]?.forEach((member) => void result.delete(member));
  }
  return result;
}

/** Replies with a result's members (RESP3: a set). */
function replyMembers(w: ReplyWriter, members: readonly string[]): void {
  w.set(members.length);
  for (let i = 0; i < members.length; i++) w.bulk(members[i]);
}

/**
 * Stores `result` at `destination` (any type there is replaced, its expiry
 * dropped) or, empty, deletes it; its size. `event` names the change.
 */
function store(ctx: CommandContext, destination: string, result: SetValue, event: string): number {
  if (result.length === 0) {
    if (ctx.db.delete(destination)) ctx.notify(NOTIFY_GENERIC, "del", destination);
    return 0;
  }
  const existed = ctx.db.value(destination) !== undefined;
  ctx.db.put(destination, result, 0);
  if (!existed) ctx.notify(NOTIFY_NEW, "new", destination);
  ctx.notify(NOTIFY_SET, event, destination);
  return result.length;
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit]. */
function sintercard(ctx: CommandContext, args: string[]): number {
  const numkeys = /^(?:0|-?[1-9][0-9]{0,18})$/.test(args[1]) ? BigInt(args[1]) : undefined;
  if (numkeys === undefined || numkeys < 1n || numkeys > LONG_MAX) {
    throw error("numkeys should be greater than 0");
  }
  if (numkeys > BigInt(args.length - 2)) {
    throw error("Number of keys can't be greater than number of args");
  }
  const keyCount = Number(numkeys);
  let limit = 0n;
  for (let i = 2 + keyCount; i < args.length; i++) {
    if (args[i].toUpperCase() === "LIMIT" && i + 1 < args.length) {
      const text = args[++i];
      const n = /^(?:0|-?[1-9][0-9]{0,18})$/.test(text) ? BigInt(text) : undefined;
      if (n === undefined || n < 0n || n > LONG_MAX) throw error("LIMIT can't be negative");
      limit = n;
    } else {
      throw syntaxError();
    }
  }
  const keys = args.slice(2, 2 + keyCount);
  const sets = readSets(ctx, keys);
  const cap = limit > BigInt(MAX_SET_MEMBERS) ? 0 : Number(limit);
  return intersection(keys, sets, cap)?.length ?? 0;
}

/** The commands over several sets. */
export const SET_ALGEBRA_COMMANDS: CommandHandler[] = [
  {
    name: "SINTER",
    summary: "Returns the members common to all the sets.",
    run(ctx, args, w) {
      const keys = args.slice(1);
      replyMembers(w, intersection(keys, readSets(ctx, keys)) ?? []);
    },
  },
  {
    name: "SINTERCARD",
    summary: "Returns how many members all the sets have in common (at most LIMIT).",
    run(ctx, args, w) {
      w.integer(sintercard(ctx, args));
    },
  },
  {
    name: "SINTERSTORE",
    summary: "Stores the members common to all the sets; how many.",
    run(ctx, args, w) {
      const keys = args.slice(2);
      const members = intersection(keys, readSets(ctx, keys)) ?? [];
      w.integer(store(ctx, args[1], SetValue.of(members), "sinterstore"));
    },
  },
  {
    name: "SUNION",
    summary: "Returns the members of any of the sets.",
    run(ctx, args, w) {
      replyMembers(w, union(readSets(ctx, args.slice(1))).members());
    },
  },
  {
    name: "SUNIONSTORE",
    summary: "Stores the members of any of the sets; how many.",
    run(ctx, args, w) {
      w.integer(store(ctx, args[1], union(readSets(ctx, args.slice(2))), "sunionstore"));
    },
  },
  {
    name: "SDIFF",
    summary: "Returns the members of the first set that are in none of the others.",
    run(ctx, args, w) {
      const keys = args.slice(1);
      replyMembers(w, difference(keys, readSets(ctx, keys)).members());
    },
  },
  {
    name: "SDIFFSTORE",
    summary: "Stores the members of the first set that are in none of the others; how many.",
    run(ctx, args, w) {
      const keys = args.slice(2);
      w.integer(store(ctx, args[1], difference(keys, readSets(ctx, keys)), "sdiffstore"));
    },
  },
];
