/**
 * The set commands of Redis 7.0 on one key: SADD, SREM, SCARD, SISMEMBER,
 * SMISMEMBER, SMEMBERS, SRANDMEMBER, SPOP, SMOVE, SSCAN (the commands over
 * several sets are in `set_algebra_commands.ts`; {@link SET_COMMANDS} holds
 * both). Every write logs one `SetAdd` or `SetRem` record per member that
 * changed (the executor groups a command's records), applied through the
 * same functions replay uses; SPOP logs the members it took.
 *
 * @example
 * ```ts
 * SET_COMMANDS.map((c) => c.name); // ["SADD", "SREM", ...]
 * ```
 * @module
 */

import { distinctArgs } from "../_scratch_index.ts";
import { CommandError, type ReplyWriter } from "../../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  notAnInteger,
  parseInt64,
  syntaxError,
} from "../../executor/command_spec.ts";
import { globMatch } from "../../executor/glob.ts";
import { NOTIFY_GENERIC, NOTIFY_NEW, NOTIFY_SET } from "../../pubsub/keyspace_events.ts";
import { WalOp } from "../../wal/record.ts";
import { WrongTypeError } from "../collection.ts";
import {
  applySetAdds,
  applySetRems,
  MAX_SET_MEMBERS,
  SET_REM_REBUILD,
  SetValue,
  SNAPSHOT_TYPE_SET,
} from "./set.ts";
import { PackedSet } from "./_packed_set.ts";
import { distinctRandomMembers, randomIndex } from "./_set_random.ts";
import { SET_ALGEBRA_COMMANDS } from "./set_algebra_commands.ts";
import { type SetMembers, setMembers } from "./_set_read.ts";
import { parseScanCursor, parseScanOptions, replyEmptyScan } from "../_collection_scan.ts";

/**
 * Most members SRANDMEMBER with a negative count (repetitions allowed)
 * answers: Redis has no bound and builds the reply whatever its size.
 */
export const SRANDMEMBER_MAX_COUNT = 10_000_000;

/** Redis's SPOP: with a count, take the rest instead when fewer than 1/5 would stay. */
const SPOP_MOVE_STRATEGY_MUL = 5;

const LONG_MAX = 2n ** 63n - 1n;

/** One zero per member: the numeric fields of plain `SetAdd`/`SetRem` records. */
const ZEROS: number[] = [0];

function zeros(n: number): number[] {
  while (ZEROS.length < n) ZEROS.push(0);
  return ZEROS;
}

function error(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/** Refuses a set that would pass {@link MAX_SET_MEMBERS}. */
export function checkRoom(size: number): void {
  if (size > MAX_SET_MEMBERS) throw error(`a set holds at most ${MAX_SET_MEMBERS} members`);
}

/** Replies with members as Redis replies a set (RESP3: a set). */
function replySet(w: ReplyWriter, members: readonly string[]): void {
  w.set(members.length);
  for (let i = 0; i < members.length; i++) w.bulk(members[i]);
}

// The closures over `set` live in these helpers, not in SADD and SREM: a
// function whose closure captures a local allocates that local's context
// on every call, even when the closure is never made (SADD of one member
// already held: 42 -> 0 bytes of garbage a call).

/** SADD's arguments not in `set`, each once, in argument order. */
function newMembers(args: string[], set: SetMembers | undefined): string[] {
  return distinctArgs(args, 2, (member) => set === undefined || !set.has(member));
}

/** SREM's arguments in `set`, each once, in argument order. */
function heldMembers(args: string[], set: SetMembers): string[] {
  return distinctArgs(args, 2, (member) => set.has(member));
}

/** SADD key member [member ...]: how many were new. */
function sadd(ctx: CommandContext, args: string[]): number {
  const key = args[1];
  const set = setMembers(ctx, key, false);
  let added: string[];
  if (args.length === 3) {
    if (set !== undefined && set.has(args[2])) return 0;
    added = [args[2]];
  } else {
    // New members, each once (SADD s a a adds one), in argument order.
    added = newMembers(args, set);
    if (added.length === 0) return 0;
  }
  checkRoom((set?.length ?? 0) + added.length);
  ctx.db.changeCollection(key, WalOp.SetAdd, added, zeros(added.length), applySetAdds);
  if (set === undefined) ctx.notify(NOTIFY_NEW, "new", key);
  ctx.notify(NOTIFY_SET, "sadd", key);
  return added.length;
}

/** SREM key member [member ...]: how many were held. */
function srem(ctx: CommandContext, args: string[]): number {
  const key = args[1];
  const set = setMembers(ctx, key, false);
  if (set === undefined) return 0;
  const size = set.length;
  let removed: string[];
  if (args.length === 3) {
    if (!set.has(args[2])) return 0;
    removed = [args[2]];
  } else {
    removed = heldMembers(args, set);
    if (removed.length === 0) return 0;
  }
  ctx.db.changeCollection(key, WalOp.SetRem, removed, zeros(removed.length), applySetRems);
  ctx.notify(NOTIFY_SET, "srem", key);
  if (removed.length === size) ctx.notify(NOTIFY_GENERIC, "del", key);
  return removed.length;
}

/** SMOVE source destination member: 1 if moved (or already in a source that is the destination). */
function smove(ctx: CommandContext, args: string[]): number {
  const [, source, destination, member] = args;
  // Both looked up first (an expired one deleted, as Redis's lookupKeyWrite
  // does): a missing source answers 0 whatever the destination is. Then
  // read as sets, one held inline in its bytes.
  const sourceType = ctx.db.typeOf(source);
  const destinationType = ctx.db.typeOf(destination);
  if (sourceType < 0) return 0;
  if (
    sourceType !== SNAPSHOT_TYPE_SET ||
    (destinationType >= 0 && destinationType !== SNAPSHOT_TYPE_SET)
  ) {
    throw new WrongTypeError();
  }
  const from = setMembers(ctx, source, false)!;
  const to = destinationType < 0 ? undefined : setMembers(ctx, destination, false);
  if (source === destination) return from.has(member) ? 1 : 0;
  if (!from.has(member)) return 0;
  const emptied = from.length === 1;
  const adds = to === undefined || !to.has(member);
  if (adds) checkRoom((to?.length ?? 0) + 1);
  ctx.db.changeCollection(source, WalOp.SetRem, [member], ZEROS, applySetRems);
  ctx.notify(NOTIFY_SET, "srem", source);
  if (emptied) ctx.notify(NOTIFY_GENERIC, "del", source);
  if (adds) {
    ctx.db.changeCollection(destination, WalOp.SetAdd, [member], ZEROS, applySetAdds);
    if (to === undefined) ctx.notify(NOTIFY_NEW, "new", destination);
    ctx.notify(NOTIFY_SET, "sadd", destination);
  }
  return 1;
}

/** SPOP key: one random member, removed. */
function spop(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const key = args[1];
  const set = setMembers(ctx, key, false);
  if (set === undefined) return w.nil();
  const member = set.randomMember();
  const emptied = set.length === 1;
  ctx.db.changeCollection(key, WalOp.SetRem, [member], ZEROS, applySetRems);
  ctx.notify(NOTIFY_SET, "spop", key);
  w.bulk(member);
  if (emptied) ctx.notify(NOTIFY_GENERIC, "del", key);
}

/** SPOP key count: Redis's three cases (all, a few taken, most taken and the set rebuilt). */
function spopCount(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const key = args[1];
  const n = parseInt64(args[2]);
  if (n === undefined || n < 0n) throw error("value is out of range, must be positive");
  const set = setMembers(ctx, key, false);
  if (set === undefined || n === 0n) return w.set(0);
  const size = set.length;
  ctx.notify(NOTIFY_SET, "spop", key);
  if (n >= BigInt(size)) {
    // The whole set, in the order of a set built from it (Redis answers through SUNION).
    const members = SetValue.of(set.members()).members();
    ctx.db.delete(key);
    ctx.notify(NOTIFY_GENERIC, "del", key);
    return replySet(w, members);
  }
  const count = Number(n);
  const remaining = size - count;
  let popped: string[];
  let flags: number[];
  if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
    popped = distinctRandomMembers(set, count);
    flags = zeros(count);
  } else {
    // Most go: Redis picks the few that stay and makes them a new set
    // (encoded by its contents); the last record says so.
    const stay = new Set(distinctRandomMembers(set, remaining));
    popped = set.members().filter((member) => !stay.has(member));
    flags = new Array(count).fill(0);
    flags[count - 1] = SET_REM_REBUILD;
  }
  ctx.db.changeCollection(key, WalOp.SetRem, popped, flags, applySetRems);
  replySet(w, popped);
}

/** SRANDMEMBER key count: Redis's cases (repetitions, all, distinct picks). */
function srandmemberCount(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const n = parseInt64(args[2]);
  if (n === undefined) throw notAnInteger();
  if (n < -LONG_MAX) {
    throw error(`value is out of range, value must between ${-LONG_MAX} and ${LONG_MAX}`);
  }
  const set = setMembers(ctx, args[1]);
  if (set === undefined || n === 0n) return w.array(0);
  const size = set.length;
  if (n < 0n || n === 1n) {
    const total = n < 0n ? -n : n;
    if (total > BigInt(SRANDMEMBER_MAX_COUNT)) {
      throw error(`SRANDMEMBER answers at most ${SRANDMEMBER_MAX_COUNT} members`);
    }
    const count = Number(total);
    w.array(count);
    if (set.indexed) {
      for (let i = 0; i < count; i++) w.bulk(set.memberAt(randomIndex(size)));
    } else {
      const all = set.members();
      for (let i = 0; i < count; i++) w.bulk(all[randomIndex(size)]);
    }
    return;
  }
  const picked = n >= BigInt(size) ? set.members() : distinctRandomMembers(set, Number(n));
  w.array(picked.length);
  for (let i = 0; i < picked.length; i++) w.bulk(picked[i]);
}

/** SSCAN key cursor [MATCH pattern] [COUNT count]. */
function sscan(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const cursor = parseScanCursor(args[2]);
  const set = setMembers(ctx, args[1]);
  if (set === undefined) return replyEmptyScan(w);
  const { pattern, count } = parseScanOptions(args, 3);
  const found: string[] = [];
  const visit = (member: string) => {
    if (pattern === "*" || globMatch(pattern, member)) found.push(member);
  };
  let next = 0;
  // A set held inline answers at once, as Redis answers a small set.
  if (set instanceof SetValue && set.cursored) {
    const start = cursor > BigInt(set.length) ? set.length : Number(cursor);
    next = set.scan(start, count, visit);
  } else {
    // Small: all at once with cursor 0, as Redis answers an intset.
    set.forEach(visit);
  }
  w.array(2);
  w.bulk(String(next));
  w.array(found.length);
  for (const member of found) w.bulk(member);
}

/** The set commands (one key, and those over several sets). */
export const SET_COMMANDS: CommandHandler[] = [
  {
    name: "SADD",
    summary: "Adds members to a set; how many were new.",
    run(ctx, args, w) {
      w.integer(sadd(ctx, args));
    },
  },
  {
    name: "SREM",
    summary: "Removes members from a set (the key with its last); how many were held.",
    run(ctx, args, w) {
      w.integer(srem(ctx, args));
    },
  },
  {
    name: "SCARD",
    summary: "Returns how many members a set has.",
    run(ctx, args, w) {
      w.integer(setMembers(ctx, args[1])?.length ?? 0);
    },
  },
  {
    name: "SISMEMBER",
    summary: "Whether a member is in a set: 1 or 0.",
    run(ctx, args, w) {
      w.integer(setMembers(ctx, args[1])?.has(args[2]) ? 1 : 0);
    },
  },
  {
    name: "SMISMEMBER",
    summary: "Whether each member is in a set: 1 or 0 each.",
    run(ctx, args, w) {
      const set = setMembers(ctx, args[1]);
      w.array(args.length - 2);
      for (let i = 2; i < args.length; i++) w.integer(set?.has(args[i]) ? 1 : 0);
    },
  },
  {
    name: "SMEMBERS",
    summary: "Returns the members of a set.",
    run(ctx, args, w) {
      const set = setMembers(ctx, args[1]);
      if (set === undefined) return w.set(0);
      w.set(set.length);
      if (set instanceof PackedSet) return set.writeMembers(w);
      set.forEach((member) => {
        w.bulk(member);
      });
    },
  },
  {
    name: "SRANDMEMBER",
    summary: "Returns random members of a set (a count: distinct; negative: with repeats).",
    run(ctx, args, w) {
      if (args.length > 3) throw syntaxError();
      if (args.length === 3) return srandmemberCount(ctx, args, w);
      const set = setMembers(ctx, args[1]);
      if (set === undefined) return w.nil();
      w.bulk(set.randomMember());
    },
  },
  {
    name: "SPOP",
    summary: "Removes and returns random members of a set.",
    run(ctx, args, w) {
      if (args.length > 3) throw syntaxError();
      if (args.length === 3) return spopCount(ctx, args, w);
      spop(ctx, args, w);
    },
  },
  {
    name: "SMOVE",
    summary: "Moves a member from one set to another; 1 if it was moved.",
    run(ctx, args, w) {
      w.integer(smove(ctx, args));
    },
  },
  {
    name: "SSCAN",
    summary: "Iterates a set's members: SSCAN key cursor [MATCH pattern] [COUNT n].",
    run(ctx, args, w) {
      sscan(ctx, args, w);
    },
  },
  ...SET_ALGEBRA_COMMANDS,
];
