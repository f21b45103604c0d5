/**
 * TIME, LASTSAVE, SHUTDOWN and DEBUG.
 *
 * DEBUG is refused with Redis's error unless `security.enable_debug_command`
 * (Redis's `enable-debug-command`) is `true`, or `local` and the client is on
 * loopback. When allowed it serves:
 *
 * - `DEBUG SLEEP <seconds>`: blocks the whole server that long (as Redis:
 *   the way to test the slow log, the latency monitor and client timeouts);
 * - `DEBUG OBJECT <key>`: Redis's one-line description (encoding,
 *   serialized length, kvdb's memory estimate);
 * - `DEBUG HELP`.
 *
 * @example
 * ```ts
 * CONTROL_COMMANDS.map((c) => c.name); // ["TIME", "LASTSAVE", "SHUTDOWN", "DEBUG"]
 * ```
 * @module
 */

import type { CommandContext, CommandHandler } from "../executor/command_spec.ts";
import { syntaxError } from "../executor/command_spec.ts";
import { Collection } from "../types/collection.ts";
import { CommandError } from "../protocol/reply_writer.ts";
import type { ShutdownRequest } from "./admin_state.ts";
import { memoryUsage } from "./introspection_commands.ts";

/** Longest DEBUG SLEEP: the server stops serving for it. */
const MAX_DEBUG_SLEEP_SEC = 3600;

/** LASTSAVE: the last snapshot's time, or the start when there was none. */
function lastSaveSec(ctx: CommandContext): number {
  const field = ctx.server.info("persistence").find(([name]) => name === "rdb_last_save_time");
  const sec = field === undefined ? 0 : Number(field[1]);
  return sec > 0 ? sec : Math.floor(ctx.server.admin.startedMs / 1000);
}

function parseShutdown(args: string[]): ShutdownRequest | "abort" {
  const request: ShutdownRequest = { save: "default", now: false, force: false };
  let abort = false;
  for (let i = 1; i < args.length; i++) {
    switch (args[i].toLowerCase()) {
      case "nosave":
        if (request.save === "save") throw syntaxError();
        request.save = "nosave";
        break;
      case "save":
        if (request.save === "nosave") throw syntaxError();
        request.save = "save";
        break;
      case "now":
        request.now = true;
        break;
      case "force":
        request.force = true;
        break;
      case "abort":
        abort = true;
        break;
      default:
        throw syntaxError();
    }
  }
  if (abort) {
    if (args.length !== 2) throw syntaxError();
    return "abort";
  }
  return request;
}

function shutdownFailed(): CommandError {
  return new CommandError("ERR", "Errors trying to SHUTDOWN. Check logs.");
}

/** Blocks the event loop (and so the server) for `ms`, as Redis's DEBUG SLEEP blocks it. */
function blockFor(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function debugNotAllowed(): CommandError {
  return new CommandError(
    "ERR",
    'DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.',
    "DEBUG is not allowed: set security.enable_debug_command in the config file and restart",
  );
}

const DEBUG_HELP = [
  "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "OBJECT <key>",
  "    Show low level info about the key and associated value.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
  "HELP",
  "    Prints this help.",
];

/** TIME, LASTSAVE, SHUTDOWN and DEBUG. */
export const CONTROL_COMMANDS: CommandHandler[] = [
  {
    name: "TIME",
    summary: "Returns the server's clock: Unix seconds and microseconds.",
    run(_ctx, _args, w) {
      const usec = Math.floor((performance.timeOrigin + performance.now()) * 1000);
      w.array(2);
      w.bulk(String(Math.floor(usec / 1e6)));
      w.bulk(String(usec % 1e6));
    },
  },
  {
    name: "LASTSAVE",
    summary: "Returns the Unix time of the last snapshot (the start when none was taken).",
    run: (ctx, _args, w) => w.integer(lastSaveSec(ctx)),
  },
  {
    name: "SHUTDOWN",
    async: true,
    summary:
      "Stops the server gracefully, as SIGTERM does; SAVE takes a snapshot first, NOSAVE skips it.",
    async run(ctx, args, w) {
      const admin = ctx.server.admin;
      const request = parseShutdown(args);
      if (request === "abort") {
        if (!admin.shutdownPending) throw new CommandError("ERR", "No shutdown in progress.");
        admin.shutdownPending = false;
        admin.log.warn("shutdown aborted (SHUTDOWN ABORT)");
        return w.status("OK");
      }
      const handler = admin.shutdownHandler;
      if (handler === undefined) {
        admin.log.warn("SHUTDOWN refused: this server cannot be stopped by a client");
        throw shutdownFailed();
      }
      const refusal = await handler(request);
      if (refusal !== undefined) {
        admin.log.warn("SHUTDOWN refused", { reason: refusal });
        throw shutdownFailed();
      }
      // As Redis: no reply; the connection closes and the server stops.
      ctx.session.closeAfterReply = true;
    },
  },
  {
    name: "DEBUG",
    summary: "Debugging aids (SLEEP, OBJECT, HELP), only where enable-debug-command allows.",
    run(ctx, args, w) {
      if (!ctx.server.admin.debugAllowed(ctx.session)) throw debugNotAllowed();
      const sub = args[1].toUpperCase();
      if (sub === "HELP" && args.length === 2) {
        w.array(DEBUG_HELP.length);
        for (const line of DEBUG_HELP) w.status(line);
        return;
      }
      if (sub === "SLEEP" && args.length === 3) {
        const seconds = Number(args[2]);
        if (!/^[0-9.eE+-]+$/.test(args[2]) || !Number.isFinite(seconds)) {
          throw new CommandError("ERR", "value is not a valid float");
        }
        blockFor(Math.min(Math.max(0, seconds), MAX_DEBUG_SLEEP_SEC) * 1000);
        return w.status("OK");
      }
      if (sub === "OBJECT" && args.length === 3) {
        const entry = ctx.db.keyEntry(args[2]);
        if (entry === undefined) throw new CommandError("ERR", "no such key");
        const value = entry.value;
        const length = value.length;
        const text = typeof value === "string" ? value : "";
        const encoding = value instanceof Collection
          ? value.encoding()
          : length <= 20 && /^-?[1-9][0-9]*$|^0$/.test(text)
          ? "int"
          : length <= 44
          ? "embstr"
          : "raw";
        return w.status(
          `Value at:0x0 refcount:1 encoding:${encoding} serializedlength:${length} lru:0 ` +
            `lru_seconds_idle:0 kvdb_memory_usage:${
              memoryUsage(args[2], value, entry.expiresAtMs > 0)
            }`,
        );
      }
      throw new CommandError(
        "ERR",
        `unknown subcommand or wrong number of arguments for '${args[1]}'. Try DEBUG HELP.`,
      );
    },
  },
];
