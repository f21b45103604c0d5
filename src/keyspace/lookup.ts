/**
 * Reading a key as a command does (Redis's `lookupKeyRead`): every read
 * counts as a keyspace hit or miss (INFO stats), and a miss publishes a
 * `keymiss` notification. Writes look keys up without either.
 *
 * @example
 * ```ts
 * const value = lookupRead(ctx, "k"); // undefined: a miss, counted and notified
 * ```
 * @module
 */

import type { CommandContext } from "../executor/command_spec.ts";
import { NOTIFY_KEY_MISS } from "../pubsub/keyspace_events.ts";
import type { StoredValue } from "../storage/engine.ts";
import type { KeyValue } from "../types/collection.ts";

/**
 * Counts a read of `key` that `found` it or not, and notifies a miss
 * unless `notify` is false (OBJECT: Redis's LOOKUP_NONOTIFY); for readers
 * that fetched the key their own way (its entry, its expiry).
 */
export function noteRead(ctx: CommandContext, key: string, found: boolean, notify = true): void {
  if (found) {
    ctx.stats.keyspaceHits++;
  } else {
    ctx.stats.keyspaceMisses++;
    if (notify) ctx.notify(NOTIFY_KEY_MISS, "keymiss", key);
  }
}

/**
 * The string at `key` for a reading command: counted as a hit or a miss, a
 * miss notified; WRONGTYPE for another type (see `Database.get`).
 */
export function lookupRead(ctx: CommandContext, key: string): StoredValue | undefined {
  const value = ctx.db.get(key);
  noteRead(ctx, key, value !== undefined);
  return value;
}

/** Like {@link lookupRead}, for commands that take a key of any type (EXISTS, TYPE). */
export function lookupValue(ctx: CommandContext, key: string): KeyValue | undefined {
  const value = ctx.db.value(key);
  noteRead(ctx, key, value !== undefined);
  return value;
}

/**
 * The snapshot type of `key` (0: a string) for commands that read no more
 * of it (EXISTS, TYPE), or -1: counted as a hit or a miss, a miss
 * notified, as {@link lookupValue}; no value made.
 */
export function lookupType(ctx: CommandContext, key: string, touch = true): number {
  const type = ctx.db.typeOf(key, touch);
  noteRead(ctx, key, type >= 0);
  return type;
}
