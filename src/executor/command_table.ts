/**
 * Builds the command table: each handler joined by name with its facts
 * (Redis's, or kvdb's own for commands Redis lacks), subcommand containers
 * given their subcommand tables and a HELP, every row checked once at
 * startup. Also the lookups the table answers (a request, a `config|get`
 * full name) and the error for an unknown subcommand.
 *
 * @example
 * ```ts
 * const table = buildCommandTable([getHandler], COMMAND_FACTS);
 * table.get("GET")!.arity; // 2, from the facts
 * ```
 * @module
 */

import { newCommandStatsFor } from "../admin/command_stats.ts";
import { CommandError } from "../protocol/reply_writer.ts";
import { renderTextArgument } from "../protocol/text_quote.ts";
import { replyHelp } from "./_command_replies.ts";
import type { CommandFacts } from "./command_facts_types.ts";
import {
  COMMAND_FLAG_BITS,
  type CommandDeclaration,
  type CommandHandler,
  type CommandRun,
  type CommandSpec,
  type ContainerHandler,
} from "./command_spec.ts";
import { KEY_PROCEDURES, needsKeysProcedure } from "./key_specs.ts";

/** Top-level commands by upper-case name. */
export type CommandTable = ReadonlyMap<string, CommandSpec>;

/** Redis echoes at most this many bytes of an unknown subcommand. */
const MAX_ECHOED_SUBCOMMAND_BYTES = 128;

/**
 * ASCII-only upper case, as Redis compares names (`toUpperCase` would turn
 * some bytes of a binary string into other letters: `ß` into `SS`).
 *
 * @example
 * ```ts
 * asciiUpper("get\xdf"); // "GET\xdf"
 * ```
 */
export function asciiUpper(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
  }
  return s;
}

/**
 * ASCII-only lower case.
 *
 * @example
 * ```ts
 * asciiLower("CONFIG*"); // "config*"
 * ```
 */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * Redis's reply to a container's unknown subcommand (the name up to a NUL
 * byte and at most 128 bytes, line breaks made blanks).
 *
 * @example
 * ```ts
 * unknownSubcommand("CONFIG", "x").message; // "unknown subcommand 'x'. Try CONFIG HELP."
 * ```
 */
export function unknownSubcommand(container: string, sub: string): CommandError {
  // Redis prints the name as a C string: it ends at a NUL byte.
  const nul = sub.indexOf("\x00");
  const cut = sub.slice(0, Math.min(nul < 0 ? sub.length : nul, MAX_ECHOED_SUBCOMMAND_BYTES));
  return new CommandError(
    "ERR",
    `unknown subcommand '${cut}'. Try ${container} HELP.`.replace(/[\r\n]/g, " "),
    `unknown ${container} subcommand '${renderTextArgument(cut)}'`,
  );
}

function isContainer(declaration: CommandDeclaration): declaration is ContainerHandler {
  return "subcommands" in declaration;
}

/** Facts by full name, subcommands included. */
function indexFacts(facts: readonly (readonly CommandFacts[])[]): Map<string, CommandFacts> {
  const byName = new Map<string, CommandFacts>();
  for (const list of facts) {
    for (const command of list) {
      for (const f of [command, ...(command.subcommands ?? [])]) {
        if (byName.has(f.name)) throw new Error(`command facts: ${f.name} given twice`);
        byName.set(f.name, f);
      }
    }
  }
  return byName;
}

function flagBits(facts: CommandFacts): number {
  let bits = 0;
  for (const flag of facts.flags) {
    const bit = COMMAND_FLAG_BITS[flag];
    if (bit === undefined) throw new Error(`${facts.name}: unknown command flag ${flag}`);
    bits |= bit;
  }
  return bits;
}

function spec(
  name: string,
  facts: CommandFacts,
  own: {
    summary: string;
    text?: CommandHandler["text"];
    async?: boolean;
    element?: number;
    run?: CommandRun;
  },
  subcommands: ReadonlyMap<string, CommandSpec> | undefined,
): CommandSpec {
  if (needsKeysProcedure(facts) && !KEY_PROCEDURES.has(facts.name)) {
    throw new Error(
      `${facts.name}: its key specs are incomplete or variable; add its key procedure to key_specs.ts`,
    );
  }
  const flags = flagBits(facts);
  // Every row has the same fields in the same order: dispatch's property
  // reads stay monomorphic.
  return {
    name,
    fullName: facts.name,
    arity: facts.arity,
    flags,
    write: (flags & COMMAND_FLAG_BITS.write) !== 0,
    loading: (flags & COMMAND_FLAG_BITS.loading) !== 0,
    firstKey: facts.firstKey || countedFirstKey(facts),
    element: own.element ?? 1,
    summary: own.summary,
    text: own.text,
    async: own.async ?? false,
    run: own.run,
    subcommands,
    facts,
    stats: newCommandStatsFor(facts.name),
  };
}

function helpHandler(container: () => CommandSpec): CommandHandler {
  return {
    name: "HELP",
    summary: "Lists the subcommands, their arguments and what each does.",
    run: (_ctx, _args, w) => replyHelp(container(), w),
  };
}

function containerSpec(
  declaration: ContainerHandler,
  facts: CommandFacts,
  factsByName: ReadonlyMap<string, CommandFacts>,
): CommandSpec {
  const upper = declaration.name;
  if (declaration.run === undefined && facts.arity > -2) {
    throw new Error(`${upper}: a container served without a subcommand needs a run`);
  }
  const subs = new Map<string, CommandSpec>();
  const built: { spec?: CommandSpec } = {}; // HELP's view of the finished container
  const handlers = [...declaration.subcommands];
  if (!handlers.some((h) => h.name === "HELP") && factsByName.has(`${facts.name}|help`)) {
    handlers.push(helpHandler(() => built.spec!));
  }
  for (const handler of handlers) {
    if (handler.name !== asciiUpper(handler.name) || handler.name.includes("|")) {
      throw new Error(`${upper} ${handler.name}: a subcommand is named by one upper-case word`);
    }
    const fullName = `${facts.name}|${handler.name.toLowerCase()}`;
    const subFacts = factsByName.get(fullName);
    if (subFacts === undefined) {
      throw new Error(`${upper} ${handler.name}: no facts for ${fullName}`);
    }
    if (subs.has(handler.name)) throw new Error(`${upper} ${handler.name} declared twice`);
    subs.set(handler.name, spec(`${upper}|${handler.name}`, subFacts, handler, undefined));
  }
  built.spec = spec(upper, facts, declaration, subs);
  return built.spec;
}

/**
 * Joins handlers with their facts. Throws, naming the command, if a
 * handler has no facts, is declared twice, is a plain handler where Redis
 * has a container (or the reverse), has a flag kvdb does not know, or
 * needs a key procedure that key_specs.ts lacks: a table that builds is
 * complete.
 *
 * @example
 * ```ts
 * buildCommandTable([{ name: "NOSUCH", summary: "", run() {} }], [COMMAND_FACTS]);
 * // throws: NOSUCH: no facts
 * ```
 */
export function buildCommandTable(
  declarations: readonly CommandDeclaration[],
  facts: readonly (readonly CommandFacts[])[],
): CommandTable {
  const factsByName = indexFacts(facts);
  const rows: CommandSpec[] = [];
  const seen = new Set<string>();
  for (const declaration of declarations) {
    const name = declaration.name;
    if (name !== asciiUpper(name) || name.includes("|")) {
      throw new Error(`${name}: a command is named in upper case, without '|'`);
    }
    if (seen.has(name)) throw new Error(`${name} declared twice`);
    seen.add(name);
    const own = factsByName.get(name.toLowerCase());
    if (own === undefined) {
      throw new Error(`${name}: no facts (neither Redis's nor kvdb's own, kvdb_facts.ts)`);
    }
    const redisContainer = [...factsByName.keys()].some((n) => n.startsWith(`${own.name}|`));
    if (isContainer(declaration)) {
      if (!redisContainer) throw new Error(`${name}: declared with subcommands, but has none`);
      rows.push(containerSpec(declaration, own, factsByName));
    } else {
      if (redisContainer) throw new Error(`${name}: has subcommands; declare it as a container`);
      rows.push(spec(name, own, declaration, undefined));
    }
  }
  rows.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return new Map(rows.map((row) => [row.name, row]));
}

/**
 * The row a request names (Redis's `lookupCommand`): the command, or for a
 * container given a subcommand, that subcommand's row; undefined if either
 * is unknown.
 *
 * @example
 * ```ts
 * lookupRequest(COMMANDS, ["config", "get", "x"])!.fullName; // "config|get"
 * ```
 */
export function lookupRequest(
  table: CommandTable,
  args: readonly string[],
): CommandSpec | undefined {
  if (args.length === 0) return undefined;
  const base = table.get(asciiUpper(args[0]));
  if (base?.subcommands === undefined || args.length === 1) return base;
  return base.subcommands.get(asciiUpper(args[1]));
}

/**
 * The row of a full name as COMMAND INFO and DOCS take it: `get`,
 * `config|get` (Redis's `lookupCommandBySds`: exactly one level of
 * subcommand, and a plain command has none).
 *
 * @example
 * ```ts
 * lookupFullName(COMMANDS, "CONFIG|GET")!.name; // "CONFIG|GET"
 * lookupFullName(COMMANDS, "get|x"); // undefined
 * ```
 */
export function lookupFullName(table: CommandTable, fullName: string): CommandSpec | undefined {
  const parts = fullName.split("|");
  if (parts.length > 2) return undefined;
  const base = table.get(asciiUpper(parts[0]));
  if (parts.length === 1) return base;
  return base?.subcommands?.get(asciiUpper(parts[1]));
}

/**
 * For prefetching only: where the first key is in a command whose keys
 * follow a count (EVAL, EVALSHA, FCALL, ZUNION, LMPOP...), whose legacy
 * first key is 0. With a count of 0 it points at another argument, which
 * only warms memory in vain. An EVALSHA's key was a cache miss in the
 * script's GET (in-process pipelined EVALSHA, min of 5 rounds, 4
 * alternating runs: 1.88-2.00 -> 1.77-1.85 µs).
 */
function countedFirstKey(facts: CommandFacts): number {
  const spec = facts.keySpecs[0];
  if (spec === undefined || spec.beginSearch.type !== "index") return 0;
  if (spec.findKeys.type !== "keynum") return 0;
  return spec.beginSearch.spec.index + spec.findKeys.spec.firstkey;
}
