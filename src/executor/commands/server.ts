/**
 * Connection and server commands: PING, ECHO, SELECT, QUIT, HELLO, INFO,
 * ROLE, SAVE, BGSAVE, and REPLSYNC's refusal where replication is not
 * served; CONFIG, SLOWLOG, LATENCY, MEMORY, TIME, LASTSAVE, SHUTDOWN and
 * DEBUG come from src/admin. (COMMAND lives with the table it describes,
 * in ../commands.ts; CLIENT, MONITOR and RESET in
 * ../../server/client_commands.ts.)
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
  parseInt64,
  type SnapshotControl,
  syntaxError,
} from "../command_spec.ts";
import { wrongArity } from "../errors.ts";
import { renderInfo } from "../../admin/info.ts";
import { CONFIG_COMMAND } from "../../admin/config_commands.ts";
import { INTROSPECTION_COMMANDS } from "../../admin/introspection_commands.ts";
import { CONTROL_COMMANDS } from "../../admin/control_commands.ts";
import type { CommandDeclaration } from "../command_spec.ts";
import { authenticateSession, helloNeedsAuth, wrongPass } from "../../security/acl_commands.ts";

/**
 * The Redis version kvdb answers as, for clients that check it: the one
 * whose replies it matches (Debian's redis-server, the reference here).
 */
export const REDIS_COMPATIBLE_VERSION = "7.0.15";

/** Redis's rule for client names: printable ASCII, no blanks. */
function isPrintableName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

function badClientName(): CommandError {
  return new CommandError(
    "ERR",
    "Client names cannot contain spaces, newlines or special characters.",
    "client names cannot contain spaces, newlines or special characters",
  );
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

/** The connection and server commands (and src/admin's). */
export const SERVER_COMMANDS: CommandDeclaration[] = [
  {
    name: "PING",
    summary: "Returns PONG, or the message given.",
    run(ctx, args, w) {
      if (args.length > 2) throw wrongArity("ping");
      if (ctx.session.subscriptions !== 0 && ctx.session.protocol === 2) {
        // A subscribed RESP2 connection reads arrays only: Redis answers one.
        w.array(2);
        w.bulk("pong");
        w.bulk(args.length === 2 ? args[1] : "");
      } else if (args.length === 2) {
        w.bulk(args[1]);
      } else {
        w.status("PONG");
      }
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
    name: "QUIT",
    summary: "Closes the connection after replying OK.",
    run(ctx, _args, w) {
      ctx.session.closeAfterReply = true;
      w.status("OK");
    },
  },
  {
    name: "HELLO",
    summary:
      "HELLO [protover [AUTH username password] [SETNAME clientname]]: switches to RESP2 or RESP3 and describes the server.",
    run(ctx, args, w) {
      // Redis 7.0's helloCommand, step by step.
      let version: 2 | 3 | undefined;
      let next = 1;
      if (args.length >= 2) {
        const given = parseInt64(args[next++]);
        if (given === undefined) {
          throw new CommandError(
            "ERR",
            "Protocol version is not an integer or out of range",
            "protocol version is not an integer or out of range",
          );
        }
        if (given !== 2n && given !== 3n) {
          throw new CommandError(
            "NOPROTO",
            "unsupported protocol version",
            "unsupported protocol version",
          );
        }
        version = given === 3n ? 3 : 2;
      }
      let user: string | undefined;
      let password = "";
      let name: string | undefined;
      for (let j = next; j < args.length; j++) {
        const more = args.length - 1 - j;
        const option = args[j].toUpperCase();
        if (option === "AUTH" && more >= 2) {
          user = args[j + 1];
          password = args[j + 2];
          j += 2;
        } else if (option === "SETNAME" && more >= 1) {
          name = args[++j];
        } else {
          throw new CommandError(
            "ERR",
            `Syntax error in HELLO option '${args[j]}'`,
            `syntax error in HELLO option '${args[j]}'`,
          );
        }
      }
      const acl = ctx.server.admin.acl;
      if (user !== undefined && !authenticateSession(acl, ctx.session, user, password, args[0])) {
        throw wrongPass();
      }
      if (!ctx.session.authenticated) throw helloNeedsAuth();
      if (name !== undefined) {
        if (!isPrintableName(name)) throw badClientName();
        ctx.session.name = name;
      }
      if (version !== undefined) ctx.session.protocol = version;
      w.map(7);
      w.bulk("server");
      w.bulk("redis");
      w.bulk("version");
      w.bulk(REDIS_COMPATIBLE_VERSION);
      w.bulk("proto");
      w.integer(ctx.session.protocol);
      w.bulk("id");
      w.integer(ctx.session.id);
      w.bulk("mode");
      w.bulk("standalone");
      w.bulk("role");
      w.bulk(ctx.server.role === "slave" ? "replica" : "master");
      w.bulk("modules");
      w.array(0);
    },
  },
  {
    name: "INFO",
    summary:
      "Server facts by section, in Redis's layout: default, all, everything, or named sections.",
    run(ctx, args, w) {
      w.verbatim("txt", renderInfo(ctx, args.slice(1).map((s) => s.toLowerCase())));
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
    run() {
      throw new CommandError(
        "ERR",
        "this server does not serve replicas (it is not a master with replication enabled)",
      );
    },
  },
  CONFIG_COMMAND,
  ...INTROSPECTION_COMMANDS,
  ...CONTROL_COMMANDS,
];
