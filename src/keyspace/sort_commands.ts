/**
 * SORT and SORT_RO, Redis's option grammar (BY, LIMIT, GET, ASC/DESC,
 * ALPHA, STORE). Only lists, sets and sorted sets can be sorted; kvdb holds
 * strings only so far, so a sort finds nothing to sort (a missing key: an
 * empty result, STORE deletes its destination) or refuses a string with
 * WRONGTYPE, as Redis does. The sorting itself arrives with those types.
 *
 * @example
 * ```ts
 * SORT_COMMANDS.map((c) => c.name); // ["SORT", "SORT_RO"]
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
import type { ReplyWriter } from "../protocol/reply_writer.ts";
import { NOTIFY_GENERIC } from "../pubsub/keyspace_events.ts";
import { lookupRead } from "./lookup.ts";

function wrongType(): CommandError {
  return new CommandError(
    "WRONGTYPE",
    "Operation against a key holding the wrong kind of value",
    "Operation against a key holding the wrong kind of value",
  );
}

/** Parses SORT's options (Redis's order of checks); returns the STORE destination, if any. */
function parseOptions(args: string[], readOnly: boolean): string | undefined {
  let store: string | undefined;
  for (let j = 2; j < args.length; j++) {
    const option = args[j].toUpperCase();
    const left = args.length - j - 1;
    if (option === "ASC" || option === "DESC" || option === "ALPHA") continue;
    if (option === "LIMIT" && left >= 2) {
      if (parseInt64(args[j + 1]) === undefined || parseInt64(args[j + 2]) === undefined) {
        throw notAnInteger();
      }
      j += 2;
    } else if (option === "STORE" && left >= 1 && !readOnly) {
      store = args[++j];
    } else if ((option === "BY" || option === "GET") && left >= 1) {
      j++;
    } else {
      throw syntaxError();
    }
  }
  return store;
}

function sort(ctx: CommandContext, args: string[], w: ReplyWriter, readOnly: boolean): void {
  const store = parseOptions(args, readOnly);
  if (lookupRead(ctx, args[1]) !== undefined) throw wrongType();
  if (store === undefined) return w.array(0);
  // An empty result: the destination is deleted, not stored empty.
  if (ctx.db.delete(store)) ctx.notify(NOTIFY_GENERIC, "del", store);
  w.integer(0);
}

/** SORT and SORT_RO. */
export const SORT_COMMANDS: CommandHandler[] = [
  {
    name: "SORT",
    summary: "Sorts a list, set or sorted set (BY, LIMIT, GET, ALPHA, DESC, STORE).",
    run(ctx, args, w) {
      sort(ctx, args, w, false);
    },
  },
  {
    name: "SORT_RO",
    summary: "SORT without STORE, for read-only contexts.",
    run(ctx, args, w) {
      sort(ctx, args, w, true);
    },
  },
];
