/**
 * The Lua VM loads on first use, not when the server starts (issue 20:
 * an idle server's VmRSS 84.6-85.0 -> 80.3-81.1 MB, see lua_vm.ts). Every scripting
 * command (EVAL*, SCRIPT, FCALL*, FUNCTION) waits for the load the first
 * time: its client gets its reply once Lua is there, in order with its
 * other replies. EXEC waits before it starts when its queue holds one of
 * them (a command EXEC runs must reply at once). Function libraries
 * restored at start (snapshot, log, replication) are data until the first
 * function command compiles them (functions.ts): nothing at start waits.
 *
 * @example
 * ```ts
 * const EVAL = { name: "EVAL", summary: "...", run: evaluate };
 * export const COMMANDS = withLua([EVAL]); // EVAL waits for the first load
 * ```
 * @module
 */

import type { CommandContext, CommandDeclaration, CommandRun } from "../executor/command_spec.ts";
import { asciiUpper } from "../executor/command_table.ts";
import type { ReplyWriter } from "../protocol/reply_writer.ts";
import { assert } from "../_assert.ts";
import { loadLua, luaLoaded } from "./lua_vm.ts";

/** The commands that need the VM (the names {@link withLua} is given). */
const LUA_COMMANDS = new Set<string>();

/**
 * The declarations with each handler (subcommands' too) waiting for the
 * Lua VM when it is not loaded yet; once it is, a handler costs one test.
 */
export function withLua(declarations: CommandDeclaration[]): CommandDeclaration[] {
  return declarations.map((declaration) => {
    LUA_COMMANDS.add(declaration.name);
    if ("subcommands" in declaration) {
      return {
        ...declaration,
        run: declaration.run && waiting(declaration.run),
        subcommands: declaration.subcommands.map((sub) => ({ ...sub, run: waiting(sub.run) })),
      };
    }
    return { ...declaration, run: waiting(declaration.run) };
  });
}

function waiting(run: CommandRun): CommandRun {
  return (ctx, args, w) => {
    if (luaLoaded()) return run(ctx, args, w);
    // EXEC loaded it first (luaLoadFor): a command EXEC runs never waits.
    assert(!ctx.session.inExec, "the Lua VM loads before EXEC runs a scripting command");
    return afterLoad(run, ctx, args, w);
  };
}

async function afterLoad(
  run: CommandRun,
  ctx: CommandContext,
  args: string[],
  w: ReplyWriter,
): Promise<void> {
  const session = ctx.session;
  await loadLua();
  // Commands served meanwhile used the shared context.
  ctx.session = session;
  ctx.db = ctx.store.database(session.db);
  return run(ctx, args, w);
}

/**
 * For EXEC: the load to wait for when the Lua VM is not loaded and the
 * transaction's queue holds a command that needs it; undefined otherwise.
 */
export function luaLoadFor(commands: readonly (readonly string[])[]): Promise<void> | undefined {
  if (luaLoaded()) return undefined;
  for (const args of commands) {
    if (args.length > 0 && LUA_COMMANDS.has(asciiUpper(args[0]))) return loadLua();
  }
  return undefined;
}
