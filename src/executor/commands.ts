/**
 * The command table: every command kvdb serves, each handler joined with
 * Redis's facts about it (command_facts.ts) or kvdb's own (kvdb_facts.ts);
 * and COMMAND, which describes the table, so it lives beside it.
 *
 * Adding a command: write its handler (name, summary, run) in its type's
 * commands file and list it there; arity, flags, key positions and ACL
 * categories come from the facts; a subcommand goes into its container's
 * `subcommands`.
 *
 * @example
 * ```ts
 * COMMANDS.get("GET")!.arity; // 2
 * ```
 * @module
 */

import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import { replyCommandDocs, replyCommandInfo } from "./_command_replies.ts";
import { COMMAND_FACTS } from "./command_facts.ts";
import {
  type CommandDeclaration,
  type CommandHandler,
  type CommandSpec,
  type ContainerHandler,
  syntaxError,
} from "./command_spec.ts";
import {
  asciiLower,
  buildCommandTable,
  type CommandTable,
  lookupFullName,
  lookupRequest,
} from "./command_table.ts";
import { KEY_COMMANDS } from "./commands/keys.ts";
import { SERVER_COMMANDS } from "./commands/server.ts";
import { globMatch } from "./glob.ts";
import { commandKeys, hasKeys, newKeysResult } from "./key_specs.ts";
import { KVDB_FACTS } from "./kvdb_facts.ts";
import { STRING_COMMANDS } from "../types/string/commands.ts";
import { RANGE_COMMANDS } from "../types/string/range_commands.ts";
import { BITMAP_COMMANDS } from "../types/string/bitmap_commands.ts";
import { HASH_COMMANDS } from "../types/hash/hash_commands.ts";
import { LIST_COMMANDS } from "../types/list/list_commands.ts";
import { SET_COMMANDS } from "../types/set/set_commands.ts";
import { BLOCKING_LIST_COMMANDS } from "../types/list/blocking_list_commands.ts";
import { BLOCKING_ZSET_COMMANDS } from "../types/zset/blocking_zset_commands.ts";
import { ZSET_COMMANDS } from "../types/zset/zset_commands.ts";
import { ZSET_POP_COMMANDS } from "../types/zset/zset_pop_commands.ts";
import { ZSET_RANGE_COMMANDS } from "../types/zset/zset_range_commands.ts";
import { ZSET_SETOP_COMMANDS } from "../types/zset/zset_setop_commands.ts";
import { STREAM_COMMANDS } from "../types/stream/stream_commands.ts";
import { STREAM_GROUP_COMMANDS } from "../types/stream/stream_group_commands.ts";
import { STREAM_INFO_COMMANDS } from "../types/stream/stream_info_commands.ts";
import { STREAM_READ_COMMANDS } from "../types/stream/stream_read_commands.ts";
import { TRANSACTION_COMMANDS } from "../transactions/commands.ts";
import { DUMP_COMMANDS } from "../keyspace/dump_commands.ts";
import { DATABASE_COMMANDS } from "../keyspace/database_commands.ts";
import { KEYSPACE_COMMANDS } from "../keyspace/key_commands.ts";
import { OBJECT_COMMANDS } from "../keyspace/object_commands.ts";
import { SORT_COMMANDS } from "../keyspace/sort_commands.ts";
import { REPLICATION_COMMANDS } from "../replication/replication_commands.ts";
import { PUBSUB_COMMANDS } from "../pubsub/commands.ts";
import { CLIENT_COMMANDS } from "../server/client_commands.ts";
import { SECURITY_COMMANDS } from "../security/acl_commands.ts";
import { SCRIPT_COMMANDS } from "../scripting/script_commands.ts";
import { FUNCTION_COMMANDS } from "../scripting/function_commands.ts";

function replyAllInfo(w: ReplyWriter): void {
  w.array(COMMANDS.size);
  for (const spec of COMMANDS.values()) replyCommandInfo(spec, w);
}

/** Every full name the table serves, subcommands after their container. */
function fullNames(): CommandSpec[] {
  const all: CommandSpec[] = [];
  for (const spec of COMMANDS.values()) {
    all.push(spec);
    for (const sub of spec.subcommands?.values() ?? []) all.push(sub);
  }
  return all;
}

function commandError(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/** COMMAND GETKEYS and GETKEYSANDFLAGS: the keys of the request after the subcommand. */
function replyKeys(args: string[], w: ReplyWriter, withFlags: boolean): void {
  const request = args.slice(2);
  const spec = lookupRequest(COMMANDS, request);
  if (spec === undefined) throw commandError("Invalid command specified");
  if (!hasKeys(spec.facts)) throw commandError("The command has no key arguments");
  if (spec.arity > 0 ? request.length !== spec.arity : request.length < -spec.arity) {
    throw commandError("Invalid number of arguments specified for command");
  }
  const keys = newKeysResult();
  const count = commandKeys(spec.facts, request, keys);
  if (count === 0) {
    if (spec.facts.flags.includes("no_mandatory_keys")) return w.array(0);
    throw commandError("Invalid arguments specified for command");
  }
  w.array(count);
  for (let i = 0; i < count; i++) {
    if (withFlags) {
      w.array(2);
      w.bulk(request[keys.positions[i]]);
      w.array(keys.flags[i].length);
      for (const flag of keys.flags[i]) w.status(flag);
    } else {
      w.bulk(request[keys.positions[i]]);
    }
  }
}

/** COMMAND LIST's FILTERBY: whether a row passes (Redis's `shouldFilterFromCommandList`). */
function listFilter(kind: string, value: string): (spec: CommandSpec) => boolean {
  switch (asciiLower(kind)) {
    case "module":
      return () => false; // kvdb loads no modules
    case "aclcat": {
      const category = `@${asciiLower(value)}`;
      return (spec) => spec.facts.aclCategories.includes(category);
    }
    case "pattern": {
      // Redis matches ignoring case; full names are lower-case.
      const pattern = asciiLower(value);
      return (spec) => globMatch(pattern, spec.fullName);
    }
    default:
      throw syntaxError();
  }
}

const COMMAND_COMMAND: ContainerHandler = {
  name: "COMMAND",
  summary: "Describes the commands this server serves, as Redis's COMMAND does.",
  run: (_ctx, _args, w) => replyAllInfo(w),
  subcommands: [
    {
      name: "COUNT",
      summary: "Returns the number of commands (subcommands not counted).",
      run: (_ctx, _args, w) => w.integer(COMMANDS.size),
    },
    {
      name: "LIST",
      summary: "Returns the name of every command and subcommand, optionally filtered.",
      run(_ctx, args, w) {
        let filter: ((spec: CommandSpec) => boolean) | undefined;
        // One FILTERBY clause, as the request's last three arguments.
        if (args.length === 5 && asciiLower(args[2]) === "filterby") {
          filter = listFilter(args[3], args[4]);
        } else if (args.length !== 2) {
          throw syntaxError();
        }
        const names = fullNames().filter((spec) => filter === undefined || filter(spec));
        w.array(names.length);
        for (const spec of names) w.bulk(spec.fullName);
      },
    },
    {
      name: "INFO",
      summary: "Describes the named commands (all without names): arity, flags, keys, ACL.",
      run(_ctx, args, w) {
        if (args.length === 2) return replyAllInfo(w);
        w.array(args.length - 2);
        for (let i = 2; i < args.length; i++) {
          const spec = lookupFullName(COMMANDS, args[i]);
          if (spec === undefined) w.nil();
          else replyCommandInfo(spec, w);
        }
      },
    },
    {
      name: "DOCS",
      summary: "Documents the named commands (all without names): summary, arguments.",
      run(_ctx, args, w) {
        const specs = args.length === 2
          ? [...COMMANDS.values()]
          : args.slice(2).map((n) => lookupFullName(COMMANDS, n)).filter((s) => s !== undefined);
        w.array(specs.length * 2); // RESP3: a map
        for (const spec of specs) {
          w.bulk(spec.fullName);
          replyCommandDocs(spec, w);
        }
      },
    },
    {
      name: "GETKEYS",
      summary: "Returns the keys of a request, found as the command's key specs say.",
      run: (_ctx, args, w) => replyKeys(args, w, false),
    },
    {
      name: "GETKEYSANDFLAGS",
      summary: "Returns the keys of a request and how the command uses each.",
      run: (_ctx, args, w) => replyKeys(args, w, true),
    },
  ],
};

/**
 * CONFIG is still one handler in server.ts (splitting it into
 * per-subcommand handlers is a follow-up): the subcommands it serves
 * and kvdb's summaries of them. Dispatch checks each subcommand's arity and
 * answers Redis's error for any other subcommand.
 */
const SINGLE_HANDLER_CONTAINERS: Record<string, Record<string, string>> = {
  CONFIG: { GET: "Returns the parameters whose names match the patterns, and their values." },
};

function asContainer(handler: CommandDeclaration): CommandDeclaration {
  const subcommands = SINGLE_HANDLER_CONTAINERS[handler.name];
  if (subcommands === undefined || !("run" in handler) || handler.run === undefined) {
    return handler;
  }
  const { run, text } = handler as CommandHandler;
  return {
    name: handler.name,
    summary: handler.summary,
    subcommands: Object.entries(subcommands).map(([name, summary]): CommandHandler => ({
      name,
      summary,
      text,
      run,
    })),
  };
}

/**
 * Commands by upper-case name.
 *
 * @example
 * ```ts
 * COMMANDS.has("SET"); // true
 * COMMANDS.get("CONFIG")!.subcommands!.has("GET"); // true
 * ```
 */
export const COMMANDS: CommandTable = buildCommandTable(
  [
    ...STRING_COMMANDS,
    ...RANGE_COMMANDS,
    ...BITMAP_COMMANDS,
    ...HASH_COMMANDS,
    ...LIST_COMMANDS,
    ...SET_COMMANDS,
    ...BLOCKING_LIST_COMMANDS,
    ...BLOCKING_ZSET_COMMANDS,
    ...ZSET_COMMANDS,
    ...ZSET_POP_COMMANDS,
    ...ZSET_RANGE_COMMANDS,
    ...ZSET_SETOP_COMMANDS,
    ...STREAM_COMMANDS,
    ...STREAM_GROUP_COMMANDS,
    ...STREAM_READ_COMMANDS,
    ...STREAM_INFO_COMMANDS,
    ...KEY_COMMANDS,
    ...DUMP_COMMANDS,
    ...DATABASE_COMMANDS,
    ...KEYSPACE_COMMANDS,
    ...OBJECT_COMMANDS,
    ...SORT_COMMANDS,
    ...REPLICATION_COMMANDS,
    ...TRANSACTION_COMMANDS,
    ...SERVER_COMMANDS.map(asContainer),
    ...PUBSUB_COMMANDS,
    ...CLIENT_COMMANDS,
    ...SECURITY_COMMANDS,
    ...SCRIPT_COMMANDS,
    ...FUNCTION_COMMANDS,
    COMMAND_COMMAND,
  ],
  [COMMAND_FACTS, KVDB_FACTS],
);
