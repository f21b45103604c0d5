/**
 * The original kvdb's three commands (SET, GET, DEL) keep the replies its
 * users know: the line the text protocol gives for them (`OK`, the value,
 * `ERROR: key not found`, `ERROR: invalid number of arguments for 'set'
 * command`, ...), whichever protocol carried the reply. The reply is played
 * into the server's own text-protocol writer, with the command's text
 * rendering from the command table, so the line is the one a text
 * connection would get.
 *
 * @example
 * ```ts
 * textLine(["GET", "k"], { type: "nil" }); // "ERROR: key not found"
 * textLine(["DEL", "k"], { type: "integer", value: 1n }); // "OK"
 * ```
 * @module
 */

import { bytesToBinary } from "../bytes/binary_string.ts";
import { asciiLower, asciiUpper } from "../executor/command_table.ts";
import { COMMANDS } from "../executor/commands.ts";
import { readOnlyReplica, wrongArity } from "../executor/errors.ts";
import { OutBuffer } from "../protocol/out_buffer.ts";
import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import { TextReplyWriter } from "../protocol/text_writer.ts";
import type { Reply } from "./reply.ts";

const ORIGINAL_COMMANDS: ReadonlySet<string> = new Set(["SET", "GET", "DEL"]);

/**
 * Whether a request is one of the original kvdb's commands (by name, any
 * case, any arguments).
 *
 * @example
 * ```ts
 * isOriginalCommand(["get", "k"]); // true
 * ```
 */
export function isOriginalCommand(args: readonly string[]): boolean {
  return args.length > 0 && ORIGINAL_COMMANDS.has(asciiUpper(args[0]));
}

/**
 * An error reply as the executor made it: Redis's code and message from the
 * wire, and the text protocol's wording, known for the errors whose wording
 * differs (the rest use Redis's message).
 */
function commandError(reply: { value: string; text?: string }, name: string): CommandError {
  const space = reply.value.indexOf(" ");
  const code = space < 0 ? reply.value : reply.value.slice(0, space);
  const message = space < 0 ? "" : reply.value.slice(space + 1);
  if (reply.text !== undefined) return new CommandError(code, message, reply.text);
  for (const known of [wrongArity(name), readOnlyReplica()]) {
    if (known.code === code && known.message === message) return known;
  }
  return new CommandError(code, message, message);
}

function replay(r: Reply, w: ReplyWriter, name: string): void {
  switch (r.type) {
    case "status":
    case "line":
      return w.status(r.value);
    case "error":
      return w.error(commandError(r, name));
    case "integer":
      return w.integer(r.value);
    case "bulk":
      return w.bulk(r.value);
    case "verbatim":
      return w.verbatim(r.format, r.value);
    case "double":
      return w.double(Number(r.value));
    case "bignum":
      return w.bigNumber(r.value);
    case "boolean":
      return w.boolean(r.value);
    case "nil":
      return w.nil();
    case "map":
      w.map(r.items.length / 2);
      break;
    default:
      w[r.type](r.items.length);
  }
  for (const item of r.items) replay(item, w, name);
}

/**
 * The text protocol's line (without its newline) for `reply` to `args`.
 *
 * @example
 * ```ts
 * textLine(["SET", "k"], { type: "error", value: "ERR wrong number of arguments for 'set' command" });
 * // "ERROR: invalid number of arguments for 'set' command"
 * ```
 */
export function textLine(args: readonly string[], reply: Reply): string {
  const out = new OutBuffer();
  const w = new TextReplyWriter(out);
  const name = args[0] ?? "";
  w.begin(COMMANDS.get(asciiUpper(name))?.text, args.length);
  replay(reply, w, asciiLower(name));
  const bytes = out.view();
  return bytesToBinary(bytes, 0, bytes.length - 1);
}
