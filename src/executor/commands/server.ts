/**
 * Connection and server commands: PING, ECHO, SELECT, QUIT, HELLO, CLIENT,
 * INFO, ROLE, CONFIG GET, and REPLSYNC's refusal where replication is not
 * served. (COMMAND lives with the table it describes, in ../commands.ts.)
 *
 * @example
 * ```ts
 * SERVER_COMMANDS.some((c) => c.name === "INFO"); // true
 * ```
 * @module
 */

import { CommandError } from "../../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  type InfoFields,
  integerArgument,
  type SnapshotControl,
  syntaxError,
} from "../command_spec.ts";
import { wrongArity } from "../errors.ts";
import { globMatch } from "../glob.ts";

/** The Redis version kvdb answers as, for clients that check it. */
export const REDIS_COMPATIBLE_VERSION = "7.0.0";

const INFO_SECTIONS = [
  "server",
  "clients",
  "memory",
  "persistence",
  "stats",
  "replication",
  "keyspace",
] as const;

function infoSection(ctx: CommandContext, section: typeof INFO_SECTIONS[number]): InfoFields {
  switch (section) {
    case "memory": {
      const memory = Deno.memoryUsage();
      return [
        ["used_memory", memory.heapUsed + memory.external],
        ["used_memory_rss", memory.rss],
        ["used_memory_heap_total", memory.heapTotal],
        ["maxmemory", 0],
        ["maxmemory_policy", "noeviction"],
      ];
    }
    case "stats":
      return [
        ["total_connections_received", ctx.server.totalConnections()],
        ["total_commands_processed", ctx.stats.commandsProcessed],
        ["expired_keys", ctx.store.expiredKeys],
        ["keyspace_hits", ctx.stats.keyspaceHits],
        ["keyspace_misses", ctx.stats.keyspaceMisses],
      ];
    case "keyspace": {
      const keys = ctx.store.size;
      return keys === 0
        ? []
        : [["db0", `keys=${keys},expires=${ctx.store.engine.expiringCount},avg_ttl=0`]];
    }
    default:
      return ctx.server.info(section);
  }
}

function renderInfo(ctx: CommandContext, wanted: string[]): string {
  const all = wanted.length === 0 ||
    wanted.some((s) => ["all", "everything", "default"].includes(s));
  let text = "";
  for (const section of INFO_SECTIONS) {
    if (!all && !wanted.includes(section)) continue;
    if (text) text += "\r\n";
    text += `# ${section[0].toUpperCase()}${section.slice(1)}\r\n`;
    for (const [name, value] of infoSection(ctx, section)) text += `${name}:${value}\r\n`;
  }
  return text;
}

/** Redis's rule for client names: printable ASCII, no blanks. */
function isPrintableName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

function snapshotsOf(ctx: CommandContext): SnapshotControl {
  const snapshots = ctx.server.snapshots();
  if (snapshots === undefined) {
    throw new CommandError(
      "ERR",
      "snapshots need the WAL (wal.enabled: true)",
      "snapshots need the WAL (wal.enabled: true)",
    );
  }
  return snapshots;
}

function saveInProgress(): CommandError {
  return new CommandError(
    "ERR",
    "Background save already in progress",
    "a snapshot is already being taken",
  );
}

/** The connection and server commands. */
export const SERVER_COMMANDS: CommandHandler[] = [
  {
    name: "PING",
    summary: "Returns PONG, or the message given.",
    run(_ctx, args, w) {
      if (args.length > 2) throw wrongArity("ping");
      if (args.length === 2) w.bulk(args[1]);
      else w.status("PONG");
    },
  },
  {
    name: "ECHO",
    summary: "Returns the message given.",
    run(_ctx, args, w) {
      w.bulk(args[1]);
    },
  },
  {
    name: "SELECT",
    summary: "Selects database 0 (the only one).",
    run(_ctx, args, w) {
      if (integerArgument(args[1]) !== 0) {
        throw new CommandError("ERR", "DB index is out of range", "DB index is out of range");
      }
      w.status("OK");
    },
  },
  {
    name: "QUIT",
    summary: "Closes the connection after replying OK.",
    run(ctx, _args, w) {
      ctx.session.closeAfterReply = true;
      w.status("OK");
    },
  },
  {
    name: "HELLO",
    summary: "Handshake: protocol 2 only (RESP3 is answered with NOPROTO).",
    run(ctx, args, w) {
      if (args.length >= 2) {
        const version = integerArgument(args[1]);
        if (version !== 2) {
          throw new CommandError(
            "NOPROTO",
            "sorry, this protocol version is not supported",
            "unsupported protocol version",
          );
        }
      }
      for (let i = 2; i < args.length; i++) {
        const option = args[i].toUpperCase();
        if (option === "SETNAME" && args[i + 1] !== undefined) ctx.session.name = args[++i];
        else if (option === "AUTH" && args[i + 2] !== undefined) i += 2;
        else throw syntaxError();
      }
      const fields: [string, string | number][] = [
        ["server", "redis"],
        ["version", REDIS_COMPATIBLE_VERSION],
        ["proto", 2],
        ["id", ctx.session.id],
        ["mode", "standalone"],
        ["role", ctx.server.role === "slave" ? "replica" : "master"],
      ];
      w.array(fields.length * 2 + 2);
      for (const [name, value] of fields) {
        w.bulk(name);
        if (typeof value === "number") w.integer(value);
        else w.bulk(value);
      }
      w.bulk("modules");
      w.array(0);
    },
  },
  {
    name: "CLIENT",
    summary: "CLIENT ID | SETNAME name | GETNAME | SETINFO LIB-NAME|LIB-VER value | INFO.",
    run(ctx, args, w) {
      const sub = args[1].toUpperCase();
      const { session } = ctx;
      if (sub === "ID" && args.length === 2) return w.integer(session.id);
      if (sub === "GETNAME" && args.length === 2) {
        return session.name ? w.bulk(session.name) : w.nil();
      }
      if (sub === "SETNAME" && args.length === 3) {
        if (!isPrintableName(args[2])) {
          throw new CommandError(
            "ERR",
            "Client names cannot contain spaces, newlines or special characters.",
            "client names cannot contain spaces, newlines or special characters",
          );
        }
        session.name = args[2];
        return w.status("OK");
      }
      if (sub === "SETINFO" && args.length === 4) {
        const attribute = args[2].toUpperCase();
        if (attribute === "LIB-NAME") session.libName = args[3];
        else if (attribute === "LIB-VER") session.libVersion = args[3];
        else throw new CommandError("ERR", `Unrecognized option '${args[2]}'`);
        return w.status("OK");
      }
      if (sub === "INFO" && args.length === 2) {
        return w.bulk(
          `id=${session.id} name=${session.name} db=0 lib-name=${session.libName} lib-ver=${session.libVersion}\n`,
        );
      }
      throw new CommandError(
        "ERR",
        `unknown subcommand or wrong number of arguments for '${args[1]}'. Try CLIENT HELP.`,
        `unknown CLIENT subcommand '${args[1]}'`,
      );
    },
  },
  {
    name: "INFO",
    summary:
      "Server facts by section: server, clients, memory, persistence, stats, replication, keyspace.",
    run(ctx, args, w) {
      w.bulk(renderInfo(ctx, args.slice(1).map((s) => s.toLowerCase())));
    },
  },
  {
    name: "ROLE",
    summary: "Returns this server's role in replication.",
    run(ctx, _args, w) {
      ctx.server.replyRole(w);
    },
  },
  {
    name: "CONFIG",
    summary: "CONFIG GET pattern...: the parameters clients ask for (read-only).",
    run(ctx, args, w) {
      if (args[1].toUpperCase() !== "GET" || args.length < 3) {
        throw new CommandError(
          "ERR",
          "only CONFIG GET is supported; kvdb is configured by its YAML file",
          "only CONFIG GET is supported; kvdb is configured by its YAML file",
        );
      }
      const parameters = ctx.server.configParameters();
      const matched: [string, string][] = [];
      for (const [name, value] of Object.entries(parameters)) {
        if (args.slice(2).some((p) => globMatch(p.toLowerCase(), name))) {
          matched.push([name, value]);
        }
      }
      w.array(matched.length * 2);
      for (const [name, value] of matched) {
        w.bulk(name);
        w.bulk(value);
      }
    },
  },
  {
    name: "SAVE",
    async: true,
    summary: "Takes a snapshot and replies when it is on disk (the server keeps serving).",
    async run(ctx, _args, w) {
      // Unlike Redis, a SAVE during a background snapshot waits for it and
      // then takes its own, so its OK covers every write before it.
      await snapshotsOf(ctx).saveNow();
      w.status("OK");
    },
  },
  {
    name: "BGSAVE",
    summary: "Starts a snapshot in the background.",
    run(ctx, args, w) {
      if (args.length > 2 || (args.length === 2 && args[1].toUpperCase() !== "SCHEDULE")) {
        throw syntaxError();
      }
      if (!snapshotsOf(ctx).startInBackground()) throw saveInProgress();
      w.status("Background saving started");
    },
  },
  {
    // A master's connections hand REPLSYNC to replication before it gets
    // here; reaching the table means this server does not serve replicas.
    name: "REPLSYNC",
    summary: "Replication handshake (served by masters with replication enabled).",
    run(_ctx, _args, w) {
      w.error(
        new CommandError(
          "ERR",
          "this server does not serve replicas (it is not a master with replication enabled)",
        ),
      );
    },
  },
];
