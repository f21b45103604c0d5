/**
 * The numbered databases (`engine.databases`, Redis's `databases`):
 * SELECT, MOVE, SWAPDB, FLUSHDB, FLUSHALL. Each database is a keyspace of
 * its own; the log names the database of every record, so restarts,
 * snapshots and replicas keep them apart.
 *
 * MOVE is logged as one `Rename` record into the other database (O(1)
 * whatever the value's size); SWAPDB and FLUSHDB as records of their own.
 *
 * @example
 * ```ts
 * DATABASE_COMMANDS.map((c) => c.name); // ["SELECT", "MOVE", "SWAPDB", "FLUSHDB", "FLUSHALL"]
 * ```
 * @module
 */

import { NOTIFY_GENERIC, NOTIFY_NEW } from "../pubsub/keyspace_events.ts";
import { CommandError } from "../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  notAnInteger,
  parseInt64,
  syntaxError,
} from "../executor/command_spec.ts";

function error(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/**
 * A database index argument (Redis's getIntFromObjectOrReply, with its
 * own message when given), checked against the databases there are.
 */
function databaseIndex(ctx: CommandContext, arg: string, notInteger?: string): number {
  const value = parseInt64(arg);
  if (value === undefined) throw notInteger === undefined ? notAnInteger() : error(notInteger);
  if (value < -(2n ** 31n) || value >= 2n ** 31n) {
    throw error(
      notInteger ?? "value is out of range, value must between -2147483648 and 2147483647",
    );
  }
  if (value < 0n || value >= BigInt(ctx.store.databaseCount)) {
    throw error("DB index is out of range");
  }
  return Number(value);
}

/** FLUSHDB's and FLUSHALL's optional ASYNC or SYNC (both empty at once here). */
function checkFlushMode(args: string[]): void {
  if (args.length > 2) throw syntaxError();
  if (args.length === 2 && !["ASYNC", "SYNC"].includes(args[1].toUpperCase())) {
    throw syntaxError();
  }
}

/** The database commands. */
export const DATABASE_COMMANDS: CommandHandler[] = [
  {
    name: "SELECT",
    summary: "Selects the database the connection's commands use.",
    run(ctx, args, w) {
      ctx.session.db = databaseIndex(ctx, args[1]);
      w.status("OK");
    },
  },
  {
    name: "MOVE",
    summary: "Moves a key (and its time to live) to another database; 1 if moved.",
    run(ctx, args, w) {
      const to = databaseIndex(ctx, args[2]);
      if (to === ctx.session.db) throw error("source and destination objects are the same");
      const key = args[1];
      const entry = ctx.db.keyEntry(key);
      const target = ctx.store.database(to);
      if (entry === undefined || target.exists(key)) return w.integer(0);
      ctx.db.relocate(key, target, key);
      ctx.notify(NOTIFY_NEW, "new", key, to);
      ctx.notify(NOTIFY_GENERIC, "move_from", key);
      ctx.notify(NOTIFY_GENERIC, "move_to", key, to);
      w.integer(1);
    },
  },
  {
    name: "SWAPDB",
    summary: "Swaps the contents of two databases (clients' selections stay).",
    run(ctx, args, w) {
      const a = databaseIndex(ctx, args[1], "invalid first DB index");
      const b = databaseIndex(ctx, args[2], "invalid second DB index");
      if (a !== b) ctx.store.swapDb(a, b);
      w.status("OK");
    },
  },
  {
    name: "FLUSHDB",
    summary: "Deletes every key of the selected database (ASYNC and SYNC both at once).",
    run(ctx, args, w) {
      checkFlushMode(args);
      ctx.store.flushDb(ctx.session.db);
      w.status("OK");
    },
  },
  {
    name: "FLUSHALL",
    summary: "Deletes every key of every database (ASYNC and SYNC both at once).",
    run(ctx, args, w) {
      checkFlushMode(args);
      ctx.store.flushAll();
      w.status("OK");
    },
  },
];
