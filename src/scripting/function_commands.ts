/**
 * Redis 7 functions' commands: FUNCTION LOAD [REPLACE] | DELETE | FLUSH
 * [ASYNC|SYNC] | LIST [LIBRARYNAME pattern] [WITHCODE] | DUMP | RESTORE
 * payload [FLUSH|APPEND|REPLACE] | STATS | KILL, FCALL and FCALL_RO, with
 * Redis 7.0's replies and errors; the work is in `functions.ts` and the
 * script engine.
 *
 * @example
 * ```ts
 * FUNCTION_COMMANDS.map((c) => c.name); // ["FUNCTION", "FCALL", "FCALL_RO"]
 * ```
 * @module
 */

import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import type { CommandContext, CommandDeclaration } from "../executor/command_spec.ts";
import { globMatch } from "../executor/glob.ts";
import { functionRegistry, type Library } from "./functions.ts";
import { scriptEngine } from "./script_engine.ts";
import { withLua } from "./lua_loading.ts";
import { roRefusal, scriptMayWrite, scriptRefusal } from "./script_flags.ts";

function err(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

const SYNTAX = "syntax error";

/** FCALL's `numkeys`, checked as Redis does; returns it. */
function numKeys(args: string[]): number {
  const text = args[2];
  if (!/^-?\d{1,18}$/.test(text)) throw err("Bad number of keys provided");
  const n = Number(text);
  if (n < 0) throw err("Number of keys can't be negative");
  if (n > args.length - 3) throw err("Number of keys can't be greater than number of args");
  return n;
}

function fcall(
  ctx: CommandContext,
  args: string[],
  w: ReplyWriter,
  readOnlyCommand: boolean,
): void | Promise<void> {
  const fn = functionRegistry(ctx.store).find(ctx.store, args[1]);
  // As Redis's processCommand, the function's flags are checked first.
  if (fn !== undefined) {
    const refused = scriptRefusal(ctx, fn.flagBits);
    if (refused !== undefined) throw refused;
  }
  if (fn === undefined) throw err("Function not found");
  const n = numKeys(args);
  const refused = roRefusal(fn.flagBits, readOnlyCommand);
  if (refused !== undefined) throw refused;
  const engine = scriptEngine(ctx.store);
  engine.log = ctx.server.admin.log;
  return engine.runFunction(
    ctx,
    fn.ref,
    fn.name,
    args,
    n,
    !scriptMayWrite(fn.flagBits, readOnlyCommand),
    w,
  );
}

function writeLibrary(w: ReplyWriter, library: Library, withCode: boolean): void {
  w.map(withCode ? 4 : 3);
  w.bulk("library_name");
  w.bulk(library.name);
  w.bulk("engine");
  w.bulk("LUA");
  w.bulk("functions");
  w.array(library.functions.length);
  for (const f of library.functions) {
    w.map(3);
    w.bulk("name");
    w.bulk(f.name);
    w.bulk("description");
    if (f.description === null) w.nil();
    else w.bulk(f.description);
    w.bulk("flags");
    w.set(f.flags.length);
    for (const flag of f.flags) w.status(flag);
  }
  if (withCode) {
    w.bulk("library_code");
    w.bulk(library.code);
  }
}

const FUNCTION: CommandDeclaration = {
  name: "FUNCTION",
  summary: "Manages Redis 7 function libraries.",
  subcommands: [
    {
      name: "LOAD",
      summary: "Loads a library (REPLACE: over one of the same name); returns its name.",
      run(ctx, args, w) {
        let replace = false;
        for (let i = 2; i < args.length - 1; i++) {
          if (args[i].toUpperCase() === "REPLACE") replace = true;
          else throw err(`Unknown option given: ${args[i]}`);
        }
        scriptEngine(ctx.store).log = ctx.server.admin.log;
        w.bulk(functionRegistry(ctx.store).load(ctx.store, args[args.length - 1], replace));
      },
    },
    {
      name: "DELETE",
      summary: "Deletes a library and its functions.",
      run(ctx, args, w) {
        functionRegistry(ctx.store).delete(ctx.store, args[2]);
        w.status("OK");
      },
    },
    {
      name: "FLUSH",
      summary: "Deletes every library (ASYNC and SYNC both at once).",
      run(ctx, args, w) {
        if (args.length > 3) throw err(SYNTAX);
        if (args.length === 3 && !/^(a?sync)$/i.test(args[2])) {
          throw err("FUNCTION FLUSH only supports SYNC|ASYNC option");
        }
        functionRegistry(ctx.store).flush(ctx.store);
        w.status("OK");
      },
    },
    {
      name: "LIST",
      summary: "Lists libraries, their functions and optionally their code.",
      run(ctx, args, w) {
        let pattern: string | undefined;
        let withCode = false;
        for (let i = 2; i < args.length; i++) {
          const option = args[i].toUpperCase();
          if (option === "WITHCODE" && !withCode) withCode = true;
          else if (option === "LIBRARYNAME" && pattern === undefined && i + 1 < args.length) {
            pattern = args[++i];
          } else if (option === "LIBRARYNAME" && i + 1 >= args.length) {
            throw err("library name argument was not given");
          } else throw err(`Unknown argument ${args[i]}`);
        }
        const libraries = functionRegistry(ctx.store).libraries(ctx.store)
          .filter((l) => pattern === undefined || globMatch(pattern, l.name));
        w.array(libraries.length);
        for (const library of libraries) writeLibrary(w, library, withCode);
      },
    },
    {
      name: "DUMP",
      summary: "A payload of every library, for FUNCTION RESTORE.",
      run(ctx, _args, w) {
        w.bulk(functionRegistry(ctx.store).dump(ctx.store));
      },
    },
    {
      name: "RESTORE",
      summary: "Loads the libraries of a FUNCTION DUMP payload.",
      run(ctx, args, w) {
        if (args.length > 4) throw err(SYNTAX);
        const policy = (args[3] ?? "APPEND").toUpperCase();
        if (policy !== "FLUSH" && policy !== "APPEND" && policy !== "REPLACE") {
          throw err("Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
        }
        functionRegistry(ctx.store).restore(ctx.store, args[2], policy);
        w.status("OK");
      },
    },
    {
      name: "STATS",
      summary: "The function running now, and counts of libraries and functions.",
      run(ctx, _args, w) {
        const running = scriptEngine(ctx.store).runningFunction();
        const engine = scriptEngine(ctx.store);
        const registry = functionRegistry(ctx.store);
        // Served while a function is busy: compile nothing then.
        if (!engine.running) registry.sync(ctx.store);
        const { libraries, functions } = registry.counts();
        w.map(2);
        w.bulk("running_script");
        if (running === undefined) w.nil();
        else {
          w.map(3);
          w.bulk("name");
          w.bulk(running.name);
          w.bulk("command");
          w.array(running.command.length);
          for (const a of running.command) w.bulk(a);
          w.bulk("duration_ms");
          w.integer(running.durationMs);
        }
        w.bulk("engines");
        w.map(1);
        w.bulk("LUA");
        w.map(2);
        w.bulk("libraries_count");
        w.integer(libraries);
        w.bulk("functions_count");
        w.integer(functions);
      },
    },
    {
      name: "KILL",
      summary: "Stops the running function if it has not written.",
      run(ctx, _args, w) {
        scriptEngine(ctx.store).kill(true);
        w.status("OK");
      },
    },
  ],
};

/** The function commands (see the module doc). */
export const FUNCTION_COMMANDS: CommandDeclaration[] = withLua([
  FUNCTION,
  {
    name: "FCALL",
    summary: "Runs a function.",
    run: (ctx, args, w) => fcall(ctx, args, w, false),
  },
  {
    name: "FCALL_RO",
    summary: "Runs a function flagged no-writes.",
    run: (ctx, args, w) => fcall(ctx, args, w, true),
  },
]);
