/**
 * Keyspace commands that move, copy or pick keys: RENAME, RENAMENX, COPY,
 * RANDOMKEY, UNLINK, TOUCH, and the expiry readers EXPIRETIME and
 * PEXPIRETIME. RENAME is logged as one `Rename` record (the value moves,
 * O(1) whatever its size); COPY as its effects — the value written under
 * the new name, a collection as its rebuild records — so a replayed log and
 * a replica reach the same state whatever they hold.
 *
 * @example
 * ```ts
 * KEYSPACE_COMMANDS.map((c) => c.name); // ["RENAME", "RENAMENX", "COPY", ...]
 * ```
 * @module
 */

import { CommandError } from "../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  notAnInteger,
  parseInt64,
  syntaxError,
} from "../executor/command_spec.ts";
import { Collection } from "../types/collection.ts";
import { EncodingHint } from "../storage/key_table.ts";
import { countExisting, deleteKeys } from "../executor/commands/keys.ts";
import { NOTIFY_GENERIC, NOTIFY_NEW } from "../pubsub/keyspace_events.ts";
import { noteRead } from "./lookup.ts";

function error(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/** RENAME and RENAMENX: 1/OK when renamed; `nx` refuses an existing new name. */
function rename(ctx: CommandContext, from: string, to: string, nx: boolean): boolean | undefined {
  const entry = ctx.db.keyEntry(from);
  if (entry === undefined) throw error("no such key");
  if (from === to) return nx ? false : true;
  if (nx && ctx.db.exists(to)) return false;
  // The time to live moves with the value; what the new name held goes
  // (silently: Redis announces the name as `new` even then). One O(1)
  // record, whatever the value's size.
  ctx.db.relocate(from, ctx.db, to);
  ctx.notify(NOTIFY_NEW, "new", to);
  ctx.notify(NOTIFY_GENERIC, "rename_from", from);
  ctx.notify(NOTIFY_GENERIC, "rename_to", to);
  return true;
}

/** The expiry of `key` in `unitMs`: -2 no key, -1 none, else the absolute time. */
function expireTime(ctx: CommandContext, key: string, unitMs: number): number {
  const entry = ctx.db.keyEntry(key);
  noteRead(ctx, key, entry !== undefined);
  if (entry === undefined) return -2;
  if (entry.expiresAtMs === 0) return -1;
  // Seconds are rounded, as Redis's ttlGenericCommand does.
  return unitMs === 1 ? entry.expiresAtMs : Math.floor((entry.expiresAtMs + 500) / 1000);
}

/** The keyspace commands of this module. */
export const KEYSPACE_COMMANDS: CommandHandler[] = [
  {
    name: "RENAME",
    summary: "Renames a key (with its time to live), replacing the new name's value.",
    run(ctx, args, w) {
      rename(ctx, args[1], args[2], false);
      w.status("OK");
    },
  },
  {
    name: "RENAMENX",
    summary: "Renames a key only if the new name is free; 1 if renamed.",
    run(ctx, args, w) {
      w.integer(rename(ctx, args[1], args[2], true) ? 1 : 0);
    },
  },
  {
    name: "COPY",
    summary: "Copies a key's value and time to live to another name (DB, REPLACE); 1 if copied.",
    run(ctx, args, w) {
      let target = ctx.db;
      let replace = false;
      for (let i = 3; i < args.length; i++) {
        const option = args[i].toUpperCase();
        if (option === "REPLACE") {
          replace = true;
        } else if (option === "DB" && i + 1 < args.length) {
          const index = parseInt64(args[++i]);
          if (index === undefined) throw notAnInteger();
          if (index < 0n || index >= BigInt(ctx.store.databaseCount)) {
            throw error("DB index is out of range");
          }
          target = ctx.store.database(Number(index));
        } else {
          throw syntaxError();
        }
      }
      const [from, to] = [args[1], args[2]];
      if (target === ctx.db && from === to) {
        throw error("source and destination objects are the same");
      }
      const entry = ctx.db.keyEntry(from);
      noteRead(ctx, from, entry !== undefined);
      if (entry === undefined) return w.integer(0);
      if (target.exists(to) && !replace) return w.integer(0);
      // A copy is never one of Redis's shared small integers (dupStringObject).
      const hint = (ctx.db.engine.objectFacts(from)?.hint ?? 0) | EncodingHint.Unshared;
      const value = entry.value instanceof Collection ? entry.value.clone() : entry.value;
      target.put(to, value, entry.expiresAtMs, hint);
      ctx.notify(NOTIFY_NEW, "new", to, target.index);
      ctx.notify(NOTIFY_GENERIC, "copy_to", to, target.index);
      w.integer(1);
    },
  },
  {
    name: "RANDOMKEY",
    summary: "A key of the selected database chosen at random; nil when it is empty.",
    run(ctx, _args, w) {
      // Expired keys met on the way are deleted (where allowed) and passed
      // over, as Redis does; a bounded number of tries, then nil... unless
      // every key is expired on a replica, where Redis also gives up.
      for (let tries = 0; tries < 100; tries++) {
        const key = ctx.db.engine.randomKey();
        if (key === undefined) return w.nil();
        if (ctx.db.exists(key)) return w.bulk(key);
      }
      w.nil();
    },
  },
  {
    name: "UNLINK",
    summary: "Deletes keys (values are freed at once: no large collections yet); the count.",
    run(ctx, args, w) {
      w.integer(deleteKeys(ctx, args));
    },
  },
  {
    name: "TOUCH",
    summary: "Counts the given keys that exist (and marks them as used).",
    run(ctx, args, w) {
      w.integer(countExisting(ctx, args, true));
    },
  },
  {
    name: "EXPIRETIME",
    summary: "A key's expiry as a Unix time in seconds; -1 without one, -2 without the key.",
    run(ctx, args, w) {
      w.integer(expireTime(ctx, args[1], 1000));
    },
  },
  {
    name: "PEXPIRETIME",
    summary: "A key's expiry as a Unix time in milliseconds; -1 without one, -2 without the key.",
    run(ctx, args, w) {
      w.integer(expireTime(ctx, args[1], 1));
    },
  },
];
