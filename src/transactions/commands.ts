/**
 * Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, with Redis's
 * semantics. Between MULTI and EXEC the executor queues commands (see
 * `queueing.ts`); EXEC runs them one after the other with nothing in
 * between — the server is single-threaded and EXEC is synchronous — and
 * their log records form one group (`WalFlag`), so after a crash a
 * transaction is there whole or not at all, and a replica applies it whole.
 *
 * @example
 * ```ts
 * TRANSACTION_COMMANDS.map((c) => c.name); // ["MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH"]
 * ```
 * @module
 */

import { CommandError } from "../protocol/reply_writer.ts";
import type { CommandContext, CommandHandler, Session } from "../executor/command_spec.ts";
import { newWatcher } from "./watch.ts";
import { luaLoadFor } from "../scripting/lua_loading.ts";

function error(message: string, code = "ERR"): CommandError {
  return new CommandError(code, message, message);
}

/** Forgets the session's watched keys (EXEC, DISCARD, UNWATCH, disconnect). */
export function unwatchAll(ctx: CommandContext, session: Session): void {
  if (session.watcher !== undefined) ctx.watches.unwatchAll(session.watcher);
}

/**
 * Whether a watched key changed since WATCH: marked by a write, or expired
 * since (a key already expired when watched does not count).
 */
function watchBroken(ctx: CommandContext, session: Session): boolean {
  const watcher = session.watcher;
  if (watcher === undefined) return false;
  if (watcher.dirty) return true;
  return watcher.keys.some((watched) => !watched.expired && ctx.db.isExpired(watched.key));
}

/** The transaction commands. */
export const TRANSACTION_COMMANDS: CommandHandler[] = [
  {
    name: "MULTI",
    summary: "Starts a transaction: commands are queued until EXEC.",
    run(ctx, _args, w) {
      if (ctx.session.multi !== undefined) throw error("MULTI calls can not be nested");
      ctx.session.multi = { commands: [], bytes: 0, failed: false };
      w.status("OK");
    },
  },
  {
    name: "EXEC",
    summary: "Runs the queued commands atomically; nil if a watched key changed.",
    run: function exec(ctx, args, w): void | Promise<void> {
      const session = ctx.session;
      const multi = session.multi;
      if (multi === undefined) throw error("EXEC without MULTI");
      // The Lua VM loads on first use: a command EXEC runs replies at once,
      // so EXEC waits for it first (src/scripting/lua_loading.ts).
      const lua = luaLoadFor(multi.commands);
      if (lua !== undefined) {
        return lua.then(() => {
          ctx.session = session;
          ctx.db = ctx.store.database(session.db);
          return exec(ctx, args, w);
        });
      }
      session.multi = undefined;
      const broken = watchBroken(ctx, session);
      unwatchAll(ctx, session);
      if (multi.failed) {
        throw error("Transaction discarded because of previous errors.", "EXECABORT");
      }
      if (broken) return w.nilArray();
      w.array(multi.commands.length);
      // One group: the transaction's records are all-or-nothing in the log.
      ctx.store.beginGroup();
      session.inExec = true;
      try {
        for (const args of multi.commands) ctx.dispatch(args, w);
      } finally {
        session.inExec = false;
        ctx.store.endGroup();
      }
    },
  },
  {
    name: "DISCARD",
    summary: "Drops the queued commands and the watched keys.",
    run(ctx, _args, w) {
      if (ctx.session.multi === undefined) throw error("DISCARD without MULTI");
      ctx.session.multi = undefined;
      unwatchAll(ctx, ctx.session);
      w.status("OK");
    },
  },
  {
    name: "WATCH",
    summary: "Makes the next EXEC fail if any of these keys changes first.",
    run(ctx, args, w) {
      const session = ctx.session;
      if (session.multi !== undefined) throw error("WATCH inside MULTI is not allowed");
      session.watcher ??= newWatcher();
      // Once marked, watching more changes nothing (EXEC fails anyway).
      if (!session.watcher.dirty) {
        for (let i = 1; i < args.length; i++) {
          ctx.watches.watch(session.watcher, 0, args[i], ctx.db.isExpired(args[i]));
        }
      }
      w.status("OK");
    },
  },
  {
    name: "UNWATCH",
    summary: "Forgets every watched key.",
    run(ctx, _args, w) {
      unwatchAll(ctx, ctx.session);
      w.status("OK");
    },
  },
];
