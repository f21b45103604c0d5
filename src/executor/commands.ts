/**
 * The command table: every command kvdb knows, by upper-case name, with
 * COMMAND itself (which describes the table, so it lives beside it).
 *
 * @example
 * ```ts
 * COMMANDS.get("GET")!.arity; // 2
 * ```
 * @module
 */

import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import type { CommandSpec } from "./command_spec.ts";
import { KEY_COMMANDS } from "./commands/keys.ts";
import { SERVER_COMMANDS } from "./commands/server.ts";
import { STRING_COMMANDS } from "../types/string/commands.ts";
import { RANGE_COMMANDS } from "../types/string/range_commands.ts";
import { BITMAP_COMMANDS } from "../types/string/bitmap_commands.ts";
import { TRANSACTION_COMMANDS } from "../transactions/commands.ts";
import { DUMP_COMMANDS } from "../keyspace/dump_commands.ts";
import { DATABASE_COMMANDS } from "../keyspace/database_commands.ts";

function replyInfo(spec: CommandSpec, w: ReplyWriter): void {
  const [first, last, step] = spec.keys ?? [0, 0, 0];
  w.array(10);
  w.bulk(spec.name.toLowerCase());
  w.integer(spec.arity);
  const flags = spec.write ? ["write"] : ["readonly", "fast"];
  w.array(flags.length);
  for (const flag of flags) w.status(flag);
  w.integer(first);
  w.integer(last);
  w.integer(step);
  for (let i = 0; i < 4; i++) w.array(0); // ACL categories, tips, key specs, subcommands
}

const COMMAND_COMMAND: CommandSpec = {
  name: "COMMAND",
  arity: -1,
  write: false,
  summary: "Describes commands: COMMAND, COMMAND COUNT | LIST | INFO name... | DOCS [name...].",
  run(_ctx, args, w) {
    const sub = args[1]?.toUpperCase();
    const named = (names: string[]) => names.map((n) => COMMANDS.get(n.toUpperCase()));
    if (sub === undefined) {
      w.array(COMMANDS.size);
      for (const spec of COMMANDS.values()) replyInfo(spec, w);
    } else if (sub === "COUNT") {
      w.integer(COMMANDS.size);
    } else if (sub === "LIST") {
      w.array(COMMANDS.size);
      for (const name of COMMANDS.keys()) w.bulk(name.toLowerCase());
    } else if (sub === "INFO") {
      const specs = args.length > 2 ? named(args.slice(2)) : [...COMMANDS.values()];
      w.array(specs.length);
      for (const spec of specs) spec ? replyInfo(spec, w) : w.nil();
    } else if (sub === "DOCS") {
      const specs = (args.length > 2 ? named(args.slice(2)) : [...COMMANDS.values()])
        .filter((s) => s !== undefined);
      w.array(specs.length * 2);
      for (const spec of specs) {
        w.bulk(spec.name.toLowerCase());
        w.array(6);
        w.bulk("summary");
        w.bulk(spec.summary ?? "");
        w.bulk("since");
        w.bulk("1.0.0");
        w.bulk("group");
        w.bulk(spec.name === "COMMAND" || !spec.keys ? "server" : "string");
      }
    } else {
      throw new CommandError(
        "ERR",
        `unknown subcommand '${args[1]}'. Try COMMAND HELP.`,
        `unknown COMMAND subcommand '${args[1]}'`,
      );
    }
  },
};

/**
 * Commands by upper-case name.
 *
 * @example
 * ```ts
 * COMMANDS.has("SET"); // true
 * ```
 */
export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  [
    ...STRING_COMMANDS,
    ...RANGE_COMMANDS,
    ...BITMAP_COMMANDS,
    ...KEY_COMMANDS,
    ...DUMP_COMMANDS,
    ...DATABASE_COMMANDS,
    ...TRANSACTION_COMMANDS,
    ...SERVER_COMMANDS,
    COMMAND_COMMAND,
  ].map((spec) => [
    spec.name,
    spec,
  ]),
);
