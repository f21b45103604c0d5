/**
 * EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD|EXISTS|FLUSH|KILL,
 * with Redis 7.0's replies and errors; the work is in `script_engine.ts`.
 *
 * @example
 * ```ts
 * SCRIPT_COMMANDS.map((c) => c.name); // ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "SCRIPT"]
 * ```
 * @module
 */

import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import type {
  CommandContext,
  CommandDeclaration,
  CommandHandler,
} from "../executor/command_spec.ts";
import { scriptEngine } from "./script_engine.ts";
import { withLua } from "./lua_loading.ts";
import {
  parseShebang,
  roRefusal,
  SCRIPT_FLAGS,
  scriptMayWrite,
  scriptRefusal,
} from "./script_flags.ts";

function err(message: string, code = "ERR"): CommandError {
  return new CommandError(code, message, message);
}

/** EVAL's `numkeys`, checked as Redis does; returns it. */
function numKeys(args: string[]): number {
  const text = args[2];
  let n: number;
  // One digit, as nearly every call sends: no regex (0.8% of a pipelined
  // EVALSHA's server CPU profile was the regex and Number()).
  const digit = text.length === 1 ? text.charCodeAt(0) - 48 : -1;
  if (digit >= 0 && digit <= 9) n = digit;
  else if (!/^-?\d{1,18}$/.test(text)) throw err("value is not an integer or out of range");
  else n = Number(text);
  if (n < 0) throw err("Number of keys can't be negative");
  if (n > args.length - 3) throw err("Number of keys can't be greater than number of args");
  return n;
}

function evaluate(
  ctx: CommandContext,
  args: string[],
  w: ReplyWriter,
  bySha: boolean,
  readOnly: boolean,
): void | Promise<void> {
  const engine = scriptEngine(ctx.store);
  // As Redis's processCommand, the script's flags are checked first (a bad
  // shebang is EVAL's compile error, below). One lookup finds an EVALSHA's
  // script and its flags.
  let script = bySha ? engine.script(args[1]) : undefined;
  const flags = bySha ? script?.flags : shebangFlags(args[1]);
  if (flags !== undefined) {
    const refused = scriptRefusal(ctx, flags);
    if (refused !== undefined) throw refused;
  }
  const n = numKeys(args);
  engine.log = ctx.server.admin.log;
  if (!bySha) script = engine.script(engine.load(args[1]));
  if (script === undefined) throw err("No matching script. Please use EVAL.", "NOSCRIPT");
  const refused = roRefusal(script.flags, readOnly);
  if (refused !== undefined) throw refused;
  const mayWrite = scriptMayWrite(script.flags, readOnly);
  return engine.run(ctx, script, args, 3, n, !mayWrite, w);
}

/** An EVAL body's flags, or undefined if its shebang is wrong (its load says how). */
function shebangFlags(body: string): number | undefined {
  if (!body.startsWith("#!")) return SCRIPT_FLAGS.evalCompat;
  try {
    return parseShebang(body).flags;
  } catch {
    return undefined;
  }
}

const SCRIPT: CommandDeclaration = {
  name: "SCRIPT",
  summary: "Manages the script cache.",
  subcommands: [
    {
      name: "LOAD",
      summary: "Compiles and caches a script; returns its SHA-1.",
      run(ctx, args, w) {
        w.bulk(scriptEngine(ctx.store).load(args[2]));
      },
    },
    {
      name: "EXISTS",
      summary: "Whether each SHA-1 names a cached script.",
      run(ctx, args, w) {
        const engine = scriptEngine(ctx.store);
        w.array(args.length - 2);
        for (let i = 2; i < args.length; i++) w.integer(engine.exists(args[i]) ? 1 : 0);
      },
    },
    {
      name: "FLUSH",
      summary: "Empties the script cache (ASYNC and SYNC both flush at once).",
      run(ctx, args, w) {
        if (args.length > 3) throw err("syntax error");
        if (args.length === 3 && !/^(a?sync)$/i.test(args[2])) {
          throw err("SCRIPT FLUSH only support SYNC|ASYNC option");
        }
        scriptEngine(ctx.store).flush();
        w.status("OK");
      },
    },
    {
      name: "KILL",
      summary: "Stops the running script if it has not written.",
      run(ctx, _args, w) {
        scriptEngine(ctx.store).kill();
        w.status("OK");
      },
    },
  ],
};

/** The scripting commands (see the module doc); each waits for the Lua VM's first load. */
export const SCRIPT_COMMANDS: CommandDeclaration[] = withLua([
  {
    name: "EVAL",
    summary: "Runs a Lua script.",
    run: (ctx, args, w) => evaluate(ctx, args, w, false, false),
  } satisfies CommandHandler,
  {
    name: "EVALSHA",
    summary: "Runs a cached Lua script by its SHA-1.",
    run: (ctx, args, w) => evaluate(ctx, args, w, true, false),
  },
  {
    name: "EVAL_RO",
    summary: "Runs a Lua script that may not write.",
    run: (ctx, args, w) => evaluate(ctx, args, w, false, true),
  },
  {
    name: "EVALSHA_RO",
    summary: "Runs a cached Lua script that may not write, by its SHA-1.",
    run: (ctx, args, w) => evaluate(ctx, args, w, true, true),
  },
  SCRIPT,
]);
