/**
 * Sorted-set operations shared by several commands (ZPOPMIN, ZPOPMAX,
 * ZMPOP and the blocking BZPOPMIN, BZPOPMAX, BZMPOP): popping the lowest
 * or highest members as one logged group, changing the keyspace through
 * the same functions replay uses, and a score as Redis replies it.
 *
 * @example
 * ```ts
 * const popped = popZset(ctx, "z", true, 2); // [{ member: "a", score: 1 }, ...]
 * for (const { member, score } of popped ?? []) { w.bulk(member); writeScore(w, score); }
 * ```
 * @module
 */

import type { ReplyWriter } from "../../protocol/reply_writer.ts";
import type { CommandContext } from "../../executor/command_spec.ts";
import { NOTIFY_GENERIC, NOTIFY_ZSET } from "../../pubsub/keyspace_events.ts";
import type { Engine } from "../../storage/engine.ts";
import { WalOp } from "../../wal/record.ts";
import { applyZsetRems } from "./zset.ts";
import { readZset } from "./_zset_read.ts";

/** A member and its score. */
export interface ScoredMember {
  member: string;
  score: number;
}

function applyRems(engine: Engine, key: string, members: readonly string[]): void {
  applyZsetRems(engine, key, members);
}

/**
 * Logs and applies removing `members` (all held, each once) from the
 * sorted set at `key` as one group; the key goes with its last member.
 *
 * @example
 * ```ts
 * removeMembers(ctx, "z", ["a", "b"]);
 * ```
 */
export function removeMembers(ctx: CommandContext, key: string, members: string[]): void {
  ctx.db.changeCollection(key, WalOp.ZsetRem, members, zeros(members.length), applyRems);
}

/** A shared array of at least `n` zeros: the numeric fields of records that carry none. */
let zeroes: number[] = [0];

/**
 * At least `n` zeros (read-only, shared: no array per command).
 *
 * @example
 * ```ts
 * ctx.db.changeCollection(key, WalOp.ZsetRem, members, zeros(members.length), apply);
 * ```
 */
export function zeros(n: number): readonly number[] {
  if (zeroes.length < n) zeroes = new Array<number>(Math.max(n, zeroes.length * 2)).fill(0);
  return zeroes;
}

/**
 * Pops up to `count` of the lowest (`min`) or highest members of the sorted
 * set at `key`, in the order popped, logged and applied as one group, with
 * Redis's keyspace notifications (`zpopmin`/`zpopmax`, then `del` when it
 * empties the key). Undefined without the key; throws `WrongTypeError` for
 * a key of another type. A count of 0 pops nothing and notifies nothing.
 *
 * @example
 * ```ts
 * popZset(ctx, "z", false, 1); // [{ member: "top", score: 99 }]
 * ```
 */
export function popZset(
  ctx: CommandContext,
  key: string,
  min: boolean,
  count: number,
): ScoredMember[] | undefined {
  const zset = readZset(ctx, key, false);
  if (zset === undefined) return undefined;
  const length = zset.length;
  const n = Math.min(count, length);
  const popped: ScoredMember[] = [];
  if (n <= 0) return popped;
  const members: string[] = [];
  zset.walk(min ? 0 : length - 1, !min, (member, score) => {
    popped.push({ member, score });
    members.push(member);
    return popped.length < n;
  });
  removeMembers(ctx, key, members);
  ctx.notify(NOTIFY_ZSET, min ? "zpopmin" : "zpopmax", key);
  if (n === length) ctx.notify(NOTIFY_GENERIC, "del", key);
  return popped;
}

/**
 * A score as Redis 7.0 replies it: RESP2 a bulk string (`%.17g`, `inf`,
 * `-inf`), RESP3 a double.
 *
 * @example
 * ```ts
 * writeScore(w, 1.5); // RESP2 "$3\r\n1.5\r\n", RESP3 ",1.5\r\n"
 * ```
 */
export function writeScore(w: ReplyWriter, score: number): void {
  w.double(score);
}
