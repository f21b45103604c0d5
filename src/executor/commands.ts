/**
 * The command table: name, arity, whether it writes, how the text protocol
 * renders its replies where it departs from the generic rendering, and the
 * handler. Handlers are synchronous; writes go through the {@link Store}.
 *
 * Arity follows Redis: a positive number is the exact argument count
 * including the name, a negative one the minimum.
 *
 * @example
 * ```ts
 * const spec = COMMANDS.get("GET")!;
 * spec.arity; // 2
 * ```
 * @module
 */

import { CommandError, type ReplyWriter, type TextRendering } from "../protocol/reply_writer.ts";
import { globMatch } from "./glob.ts";
import type { Store } from "../storage/store.ts";
import { wrongArity } from "./errors.ts";

/** What a handler works on. */
export interface CommandContext {
  store: Store;
}

/** One row of the command table. */
export interface CommandSpec {
  /** Upper-case name. */
  name: string;
  arity: number;
  /** Changes the keyspace: refused on a replica, logged to the WAL. */
  write: boolean;
  text?: TextRendering;
  run(ctx: CommandContext, args: string[], w: ReplyWriter): void;
}

const KEY_NOT_FOUND = "ERROR: key not found";

/** The original's reply for a one-key DEL; a count for several keys. */
const DEL_TEXT: TextRendering = {
  integer: (deleted, argc) => argc > 2 ? String(deleted) : deleted === 1 ? "OK" : KEY_NOT_FOUND,
};

const TABLE: CommandSpec[] = [
  {
    name: "PING",
    arity: -1,
    write: false,
    run(_ctx, args, w) {
      if (args.length > 2) w.error(wrongArity("ping"));
      else if (args.length === 2) w.bulk(args[1]);
      else w.status("PONG");
    },
  },
  {
    name: "GET",
    arity: 2,
    write: false,
    text: { nil: KEY_NOT_FOUND },
    run(ctx, args, w) {
      const value = ctx.store.get(args[1]);
      if (value === undefined) w.nil();
      else w.bulk(value);
    },
  },
  {
    name: "SET",
    arity: 3,
    write: true,
    run(ctx, args, w) {
      ctx.store.set(args[1], args[2]);
      w.status("OK");
    },
  },
  {
    name: "DEL",
    arity: -2,
    write: true,
    text: DEL_TEXT,
    run(ctx, args, w) {
      let deleted = 0;
      for (let i = 1; i < args.length; i++) {
        if (ctx.store.delete(args[i])) deleted++;
      }
      w.integer(deleted);
    },
  },
  {
    name: "DBSIZE",
    arity: 1,
    write: false,
    run(ctx, _args, w) {
      w.integer(ctx.store.engine.size);
    },
  },
  {
    name: "KEYS",
    arity: 2,
    write: false,
    run(ctx, args, w) {
      const { engine } = ctx.store;
      const pattern = args[1];
      const keys: string[] = [];
      for (let i = 0; i < engine.partitionCount; i++) {
        for (const key of engine.partition(i).keys()) {
          if (pattern === "*" || globMatch(pattern, key)) keys.push(key);
        }
      }
      w.array(keys.length);
      for (const key of keys) w.bulk(key);
    },
  },
  {
    // A master's connections hand REPLSYNC to replication before it gets
    // here; reaching the table means this server does not serve replicas.
    name: "REPLSYNC",
    arity: -1,
    write: false,
    run(_ctx, _args, w) {
      w.error(
        new CommandError(
          "ERR",
          "this server does not serve replicas (it is not a master with replication enabled)",
        ),
      );
    },
  },
];

/**
 * Commands by upper-case name.
 *
 * @example
 * ```ts
 * COMMANDS.has("SET"); // true
 * ```
 */
export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  TABLE.map((spec) => [spec.name, spec]),
);
