/**
 * How the client and cli show a reply: as `redis-cli` 7.0 shows it, except
 * for the original kvdb's three commands (SET, GET, DEL), whose replies stay
 * the text protocol's lines (`OK`, the value, `ERROR: key not found`).
 *
 * Two modes, as redis-cli's: `tty` (a person at a terminal: `(integer) 5`,
 * `(nil)`, quoted strings, numbered and indented aggregates) and `raw` (for
 * scripts and pipes: the bare strings and numbers, one aggregate element a
 * line). Commands whose reply is text to read (INFO, CLIENT LIST, ...) are
 * shown raw in both modes, as redis-cli does.
 *
 * Results are binary strings (one char per byte), ready for stdout.
 *
 * @example
 * ```ts
 * formatReply(["INCR", "n"], { type: "integer", value: 5n }, "tty"); // "(integer) 5\n"
 * formatReply(["INCR", "n"], { type: "integer", value: 5n }, "raw"); // "5\n"
 * ```
 * @module
 */

import { quoteBinary } from "../protocol/text_quote.ts";
import { asciiLower } from "../executor/command_table.ts";
import type { Reply } from "./reply.ts";
import { isOriginalCommand, textLine } from "./_text_line.ts";

/** `tty`: redis-cli on a terminal; `raw`: redis-cli's `--raw` (and its piped output). */
export type DisplayMode = "tty" | "raw";

/**
 * Whether redis-cli 7.0 shows this request's reply raw even on a terminal
 * (its list in `cliSendCommand`): replies that are text for reading.
 */
function showsRaw(args: readonly string[]): boolean {
  const name = asciiLower(args[0] ?? "");
  const sub = args.length >= 2 ? asciiLower(args[1]) : "";
  const argc = args.length;
  switch (name) {
    case "info":
    case "lolwut":
      return true;
    case "debug":
      return argc >= 2 && (sub === "htstats" || sub === "htstats-key" || sub === "client-eviction");
    case "memory":
      return argc >= 2 && (sub === "malloc-stats" || sub === "doctor");
    case "cluster":
      return argc === 2 && (sub === "nodes" || sub === "info");
    case "client":
      return argc >= 2 && (sub === "list" || sub === "info");
    case "latency":
      return (argc === 3 && sub === "graph") || (argc === 2 && sub === "doctor");
    case "proxy":
      return argc >= 2 && sub === "info";
    default:
      return false;
  }
}

/**
 * The text of one reply to `args` as shown in `mode`, ending in a newline
 * (redis-cli's raw display of a nil is the empty line).
 *
 * @example
 * ```ts
 * formatReply(["GET", "k"], { type: "nil" }, "tty"); // "ERROR: key not found\n"
 * formatReply(["MGET", "k"], { type: "array", items: [{ type: "nil" }] }, "tty"); // "1) (nil)\n"
 * ```
 */
export function formatReply(args: readonly string[], reply: Reply, mode: DisplayMode): string {
  if (reply.type === "line") return reply.value + "\n";
  if (isOriginalCommand(args)) return textLine(args, reply) + "\n";
  if (showsRaw(args)) return formatRaw(reply);
  return mode === "tty" ? formatTty(reply, "") : formatRaw(reply) + "\n";
}

/** A C string's view of `s` (redis-cli prints statuses and errors with `%s`). */
function cString(s: string): string {
  const nul = s.indexOf("\x00");
  return nul < 0 ? s : s.slice(0, nul);
}

/** Whether {@link formatTty} spans several lines (redis-cli's cliIsMultilineValueTTY). */
function multiline(r: Reply): boolean {
  switch (r.type) {
    case "array":
    case "set":
    case "push":
      return r.items.length > 1 || (r.items.length === 1 && multiline(r.items[0]));
    case "map":
      return r.items.length > 2 || (r.items.length === 2 && multiline(r.items[1]));
    default:
      return false;
  }
}

const EMPTY: Record<string, string> = {
  array: "(empty array)\n",
  map: "(empty hash)\n",
  set: "(empty set)\n",
  push: "(empty push)\n",
};

/**
 * redis-cli's terminal display (`cliFormatReplyTTY`): `prefix` is the
 * indentation of the lines after the first of a nested aggregate.
 *
 * @example
 * ```ts
 * formatTty({ type: "array", items: [{ type: "bulk", value: "a" }] }, ""); // '1) "a"\n'
 * ```
 */
export function formatTty(r: Reply, prefix: string): string {
  switch (r.type) {
    case "error":
      return `(error) ${cString(r.value)}\n`;
    case "status":
      return cString(r.value) + "\n";
    case "integer":
      return `(integer) ${r.value}\n`;
    case "double":
      return `(double) ${r.value}\n`;
    case "bignum":
      // redis-cli 7.0 stops at a big number; later ones show it so.
      return `(big number) ${r.value}\n`;
    case "bulk":
      return quoteBinary(r.value) + "\n";
    case "verbatim":
    case "line":
      return r.value + "\n";
    case "nil":
      return "(nil)\n";
    case "boolean":
      return r.value ? "(true)\n" : "(false)\n";
    default: {
      const items = r.items;
      if (items.length === 0) return EMPTY[r.type];
      const isMap = r.type === "map";
      const count = isMap ? items.length / 2 : items.length;
      const width = String(count).length;
      const inner = prefix + " ".repeat(width + 2);
      const separator = r.type === "set" ? "~" : isMap ? "#" : ")";
      let out = "";
      for (let i = 0; i < items.length; i++) {
        const index = (isMap ? i / 2 : i) + 1;
        // The first line follows the parent's own index number.
        out += `${i === 0 ? "" : prefix}${String(index).padStart(width)}${separator} `;
        const shown = formatTty(items[i], inner);
        if (!isMap) {
          out += shown;
          continue;
        }
        // A map's key loses its newline: the value follows on its line.
        out += shown.slice(0, -1) + " => ";
        i++;
        if (multiline(items[i])) out += "\n" + inner;
        out += formatTty(items[i], inner);
      }
      return out;
    }
  }
}

/**
 * redis-cli's raw display (`cliFormatReplyRaw`), without the newline that
 * ends a reply: strings as their bytes, aggregates one element a line (a
 * map's key and value on one line), nil as nothing.
 *
 * @example
 * ```ts
 * formatRaw({ type: "array", items: [{ type: "integer", value: 1n }, { type: "nil" }] }); // "1\n"
 * ```
 */
export function formatRaw(r: Reply): string {
  switch (r.type) {
    case "nil":
      return "";
    case "error":
      return r.value + "\n";
    case "status":
    case "bulk":
    case "verbatim":
    case "double":
    case "bignum":
    case "line":
      return r.value;
    case "boolean":
      return r.value ? "(true)" : "(false)";
    case "integer":
      return String(r.value);
    case "map": {
      const lines: string[] = [];
      for (let i = 0; i < r.items.length; i += 2) {
        lines.push(formatRaw(r.items[i]) + " " + formatRaw(r.items[i + 1]));
      }
      return lines.join("\n");
    }
    default:
      return r.items.map(formatRaw).join("\n");
  }
}
