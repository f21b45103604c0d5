/**
 * Command-name completion and argument hints at the terminal prompt, from
 * the command table (the commands kvdb serves, with Redis's argument facts).
 *
 * Completion (Tab) completes the command name, and a container's
 * subcommand (`CONFIG G` → `GET`), in the case the user is typing in.
 * The hint is redis-cli's: the synopsis of the longest command matching the
 * words typed (`SET ` → `<key> <value> [NX|XX] ...`), one word dropped for
 * each argument already typed, up to the first optional one.
 *
 * @example
 * ```ts
 * complete("inc"); // [["incr", "incrby", "incrbyfloat"], "inc"]
 * hint("SET k"); // " <value> [NX|XX] [GET] [EX <seconds>|...]"
 * ```
 * @module
 */

import { usage } from "../executor/_command_replies.ts";
import { asciiUpper } from "../executor/command_table.ts";
import type { CommandSpec } from "../executor/command_spec.ts";
import { COMMANDS } from "../executor/commands.ts";
import { splitInlineArguments } from "../protocol/inline_split.ts";

/** Longest line hinted at (longer ones are being pasted, not typed). */
const MAX_HINTED_LINE_CHARS = 4096;

/** Kvdb's own commands for replicas: not for people. */
const INTERNAL: ReadonlySet<string> = new Set(["REPLSYNC"]);

function names(specs: Iterable<CommandSpec>, drop: number): string[] {
  const out: string[] = [];
  for (const spec of specs) {
    if (!INTERNAL.has(spec.name)) out.push(spec.name.slice(drop));
  }
  return out.sort();
}

const encoder = new TextEncoder();
const TOP_NAMES = names(COMMANDS.values(), 0);

/** Shows `word` in the case of what the user typed (`g` → `get`). */
function inCaseOf(typed: string, word: string): string {
  return /^[a-z]/.test(typed) ? word.toLowerCase() : word;
}

/**
 * Completions of the word being typed at the end of `line`, as
 * node:readline's completer returns them: the candidates and the word.
 *
 * @example
 * ```ts
 * complete("CONFIG G"); // [["GET"], "G"]
 * ```
 */
export function complete(line: string): [string[], string] {
  const words = line.split(/[ \t]+/);
  const last = words[words.length - 1];
  const first = words[0] === "" ? words.slice(1) : words;
  let candidates: string[];
  if (first.length === 1) {
    candidates = TOP_NAMES;
  } else if (first.length === 2) {
    const container = COMMANDS.get(asciiUpper(first[0]));
    if (container?.subcommands === undefined) return [[], last];
    candidates = names(container.subcommands.values(), container.name.length + 1);
  } else {
    return [[], last];
  }
  const prefix = asciiUpper(last);
  const hits = candidates.filter((name) => name.startsWith(prefix));
  const typed = last === "" ? first[0] : last;
  return [hits.map((name) => inCaseOf(typed, name)), last];
}

/** The command (or container's subcommand) the typed words name, and how many words that took. */
function commandOf(args: readonly string[]): [CommandSpec, number] | undefined {
  const spec = COMMANDS.get(asciiUpper(args[0]));
  if (spec === undefined || INTERNAL.has(spec.name)) return undefined;
  if (spec.subcommands !== undefined && args.length >= 2) {
    const sub = spec.subcommands.get(asciiUpper(args[1]));
    if (sub !== undefined) return [sub, 2];
  }
  return [spec, 1];
}

/**
 * The hint shown after what is typed (empty for none): the command's
 * synopsis, less one word per argument typed, stopping at an optional one.
 *
 * @example
 * ```ts
 * hint("get"); // " <key>"
 * hint("get k "); // ""
 * ```
 */
export function hint(line: string): string {
  if (line.length > MAX_HINTED_LINE_CHARS) return "";
  const bytes = encoder.encode(line);
  const args = splitInlineArguments(bytes, 0, bytes.length);
  if (args === undefined || args.length === 0) return "";
  const found = commandOf(args);
  if (found === undefined) return "";
  const [spec, words] = found;
  let synopsis = usage(spec.facts.arguments);
  // redis-cli's rule: each argument typed uses up one word, up to the
  // first optional one (from there on the user may be typing any of them).
  let typed = args.length - words;
  let at = 0;
  while (typed > 0 && at < synopsis.length && synopsis[at] !== "[") {
    if (synopsis[at] === " ") typed--;
    at++;
  }
  synopsis = synopsis.slice(at);
  if (synopsis === "") return "";
  return /[ \t]$/.test(line) ? synopsis : " " + synopsis;
}
