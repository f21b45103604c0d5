/**
 * CONFIG GET, SET, RESETSTAT and REWRITE (HELP is generated from the
 * table), over the parameter table of config_parameters.ts, with Redis
 * 7.0's replies: GET takes several glob patterns and replies a map; SET
 * takes several parameters and applies all or none.
 *
 * @example
 * ```ts
 * CONFIG_COMMAND.subcommands.map((s) => s.name); // ["GET", "SET", "RESETSTAT", "REWRITE"]
 * ```
 * @module
 */

import { checkConfigValue, ConfigError } from "../config/config.ts";
import type { CommandContext, ContainerHandler } from "../executor/command_spec.ts";
import { syntaxError } from "../executor/command_spec.ts";
import { COMMANDS } from "../executor/commands.ts";
import { CommandError } from "../protocol/reply_writer.ts";
import { resetCommandStats } from "./command_stats.ts";
import { type ConfigParameter, ParameterError, type RunningValues } from "./config_parameters.ts";
import { rewriteConfigFile } from "./config_rewrite.ts";

function setFailed(argument: string, reason: string): CommandError {
  return new CommandError(
    "ERR",
    `CONFIG SET failed (possibly related to argument '${argument}') - ${reason}`,
    `CONFIG SET ${argument}: ${reason}`,
  );
}

function shown(ctx: CommandContext, p: ConfigParameter): string {
  return p.show(ctx.server.admin.values);
}

function configGet(
  ctx: CommandContext,
  args: string[],
  w: import("../protocol/reply_writer.ts").ReplyWriter,
) {
  const table = ctx.server.admin.parameters;
  // Redis keeps the names as given for exact ones (any case), and the
  // matched names for patterns; one entry per name, case-insensitively.
  const matches = new Map<string, [string, ConfigParameter]>();
  for (let i = 2; i < args.length; i++) {
    const pattern = args[i];
    if (!/[[*?]/.test(pattern)) {
      const p = table.lookup(pattern);
      if (p !== undefined && !matches.has(pattern.toLowerCase())) {
        matches.set(pattern.toLowerCase(), [pattern, p]);
      }
      continue;
    }
    for (const [name, p] of table.match(pattern)) {
      if (!matches.has(name)) matches.set(name, [name, p]);
    }
  }
  w.map(matches.size);
  for (const [name, p] of matches.values()) {
    w.bulk(name);
    w.bulk(shown(ctx, p));
  }
}

interface PlannedSet {
  /** The YAML key set. */
  path: string;
  /** Its new value, checked by its rule. */
  value: unknown;
}

/**
 * Runs the checks that span several keys (see ConfigParameter.check) on
 * the values as the whole SET would leave them, each check once, blaming
 * the first argument that has it: a certificate and its key set together
 * are checked as a pair.
 */
function checkTogether(
  chosen: readonly [string, ConfigParameter, string][],
  plan: readonly PlannedSet[],
  running: RunningValues,
): void {
  const next = new Map(running);
  for (const { path, value } of plan) next.set(path, value);
  const set = new Set(plan.map(({ path }) => path));
  const done = new Set<ConfigParameter["check"]>();
  for (const [argument, p] of chosen) {
    if (p.check === undefined || done.has(p.check)) continue;
    done.add(p.check);
    try {
      p.check(next, running, set);
    } catch (e) {
      if (e instanceof ParameterError) throw setFailed(argument, e.message);
      throw e;
    }
  }
}

function configSet(ctx: CommandContext, args: string[]) {
  if (args.length % 2 !== 0) throw syntaxError();
  const admin = ctx.server.admin;
  const table = admin.parameters;
  // Redis's order: names first (the first unknown, immutable, protected or
  // duplicate one fails the call), then values, then nothing is applied
  // unless every value was good.
  const chosen: [string, ConfigParameter, string][] = [];
  for (let i = 2; i < args.length; i += 2) {
    const argument = args[i];
    const p = table.lookup(argument);
    if (p === undefined) {
      throw new CommandError(
        "ERR",
        `Unknown option or number of arguments for CONFIG SET - '${argument}'`,
        `CONFIG SET: unknown parameter '${argument}'`,
      );
    }
    if (p.mode === "immutable") throw setFailed(argument, "can't set immutable config");
    if (p.mode === "protected") throw setFailed(argument, "can't set protected config");
    // Redis compares names: a name and its alias both apply, the last one winning.
    if (chosen.some(([a]) => a.toLowerCase() === argument.toLowerCase())) {
      throw setFailed(argument, "duplicate parameter");
    }
    chosen.push([argument, p, args[i + 1]]);
  }
  const plan: PlannedSet[] = [];
  for (const [argument, p, text] of chosen) {
    try {
      if (p.mode === "restart") throw new ParameterError(p.refusal!);
      const raw = p.read(text, admin.values);
      if (p.keys !== undefined) {
        for (const [path, value] of raw as Map<string, unknown>) {
          plan.push({ path, value: checkConfigValue(path, value) });
        }
        continue;
      }
      if (p.mode === "fixed" || p.yaml === undefined) {
        if (p.mode !== "fixed") throw new ParameterError(p.refusal ?? "can't set this config");
        continue; // the value kvdb has: nothing to do
      }
      plan.push({ path: p.yaml, value: checkConfigValue(p.yaml, raw) });
    } catch (e) {
      if (e instanceof ParameterError) throw setFailed(argument, e.message);
      if (e instanceof ConfigError) throw setFailed(argument, `argument ${e.message}`);
      throw e;
    }
  }
  checkTogether(chosen, plan, admin.values);
  for (const { path, value } of plan) admin.applyLive(path, value);
  admin.log.info("config set", {
    parameters: chosen.map(([argument, , text]) => `${argument}=${text}`).join(" "),
  });
}

/** The CONFIG container. */
export const CONFIG_COMMAND: ContainerHandler = {
  name: "CONFIG",
  summary: "Reads and changes the running configuration under Redis's parameter names.",
  subcommands: [
    {
      name: "GET",
      summary: "Returns the parameters whose names match the patterns, and their values.",
      run: configGet,
    },
    {
      name: "SET",
      summary: "Sets parameters at run time, all or none; says which need a restart.",
      run(ctx, args, w) {
        configSet(ctx, args);
        w.status("OK");
      },
    },
    {
      name: "RESETSTAT",
      summary: "Zeroes the statistics INFO reports (commands, errors, slow commands aside).",
      run(ctx, _args, w) {
        for (const spec of COMMANDS.values()) {
          resetCommandStats(spec.stats);
          for (const sub of spec.subcommands?.values() ?? []) resetCommandStats(sub.stats);
        }
        ctx.stats.commandsProcessed = 0;
        ctx.stats.keyspaceHits = 0;
        ctx.stats.keyspaceMisses = 0;
        ctx.store.expiredKeys = 0;
        ctx.store.memory.evictedKeys = 0;
        ctx.server.admin.connectionsBeforeReset = ctx.server.totalConnections();
        ctx.server.admin.resetStats();
        w.status("OK");
      },
    },
    {
      name: "REWRITE",
      summary: "Writes the running configuration into the YAML file, comments kept.",
      run(ctx, _args, w) {
        const admin = ctx.server.admin;
        if (admin.configPath === undefined) {
          throw new CommandError(
            "ERR",
            "The server is running without a config file",
            "the server is running without a config file (--config)",
          );
        }
        try {
          rewriteConfigFile(admin.configPath, admin.values);
        } catch (e) {
          const reason = e instanceof Error ? e.message : String(e);
          admin.log.warn("CONFIG REWRITE failed", { file: admin.configPath, error: reason });
          throw new CommandError("ERR", `Rewriting config file: ${reason}`);
        }
        admin.log.info("CONFIG REWRITE executed with success", { file: admin.configPath });
        w.status("OK");
      },
    },
  ],
};
