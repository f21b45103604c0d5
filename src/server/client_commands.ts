/**
 * The connection commands that act on clients: CLIENT (ID, GETNAME,
 * SETNAME, SETINFO, INFO, LIST, KILL, PAUSE, UNPAUSE, REPLY, NO-EVICT,
 * TRACKING, GETREDIR, UNBLOCK; HELP is made from the table), MONITOR and
 * RESET — with redis-server 7.0.15's replies and errors. The client lines
 * of CLIENT LIST / INFO are made in `client_info.ts`.
 *
 * @example
 * ```ts
 * CLIENT_COMMANDS.map((c) => c.name); // ["CLIENT", "MONITOR", "RESET"]
 * ```
 * @module
 */

import {
  type CommandContext,
  type CommandDeclaration,
  type CommandHandler,
  parseInt64,
  syntaxError,
} from "../executor/command_spec.ts";
import { CommandError } from "../protocol/reply_writer.ts";
import { updateRestricted } from "../pubsub/context.ts";
import type { Client, ClientRegistry } from "./clients.ts";
import { clientLine, clientType, typeByName } from "./client_info.ts";
import { REPLY_DEFERRED, REPLY_OFF, REPLY_SKIP_NEXT } from "./reply_mode.ts";
import { blockedClients } from "../blocking/blocked_clients.ts";

function error(message: string, text = message): CommandError {
  return new CommandError("ERR", message, text);
}

/** The session's connection; in-process sessions (`kvdb cli`) have none. */
function clientOf(ctx: CommandContext): Client {
  const client = ctx.session.client;
  if (client === undefined) {
    throw error("this command needs a network connection (kvdb client, redis-cli)");
  }
  return client;
}

function registryOf(ctx: CommandContext): ClientRegistry {
  return clientOf(ctx).registry;
}

/** Redis's rule for client names: printable ASCII, no blanks. */
function isPrintableName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/**
 * Redis's error for a bad client name.
 *
 * @example
 * ```ts
 * if (!isPrintableName(name)) throw badClientName();
 * ```
 */
export function badClientName(): CommandError {
  return error(
    "Client names cannot contain spaces, newlines or special characters.",
    "client names cannot contain spaces, newlines or special characters",
  );
}

/** Redis's `addReplySubcommandSyntaxError` for CLIENT. */
function subcommandSyntax(sub: string): CommandError {
  return error(
    `unknown subcommand or wrong number of arguments for '${sub.slice(0, 128)}'. Try CLIENT HELP.`,
    `wrong arguments for CLIENT ${sub.slice(0, 128)}`,
  );
}

/** Redis's `getTimeoutFromObjectOrReply` for milliseconds: a delay from now. */
function timeoutMs(arg: string): number {
  const value = parseInt64(arg);
  if (value === undefined) throw error("timeout is not an integer or out of range");
  if (value < 0n) throw error("timeout is negative");
  if (value > BigInt(Number.MAX_SAFE_INTEGER) - BigInt(Date.now())) {
    throw error("timeout is out of range");
  }
  return Number(value);
}

/** What CLIENT KILL's filters select. */
interface KillFilter {
  addr?: string;
  laddr?: string;
  type?: string;
  id?: number;
  maxAgeSeconds?: number;
  skipMe: boolean;
}

function parseKillFilter(args: string[]): KillFilter {
  if (args.length === 3) return { addr: args[2], skipMe: false }; // the old form may kill itself
  const filter: KillFilter = { skipMe: true };
  for (let i = 2; i < args.length; i += 2) {
    const option = args[i].toLowerCase();
    const value = args[i + 1];
    if (value === undefined) throw syntaxError();
    if (option === "id") {
      const id = parseInt64(value);
      if (id === undefined || id < 1n) throw error("client-id should be greater than 0");
      filter.id = Number(id);
    } else if (option === "type") {
      filter.type = typeByName(value);
      if (filter.type === undefined) throw error(`Unknown client type '${value}'`);
    } else if (option === "addr") {
      filter.addr = value;
    } else if (option === "laddr") {
      filter.laddr = value;
    } else if (option === "user") {
      // One user exists until ACLs come: "default", whom every client is.
      if (value !== "default") throw error(`No such user '${value}'`);
    } else if (option === "skipme") {
      const answer = value.toLowerCase();
      if (answer !== "yes" && answer !== "no") throw syntaxError();
      filter.skipMe = answer === "yes";
    } else if (option === "maxage") {
      // Redis 7.4's filter (7.0 answers a syntax error): older than this many seconds.
      const seconds = parseInt64(value);
      if (seconds === undefined || seconds < 1n) throw syntaxError();
      filter.maxAgeSeconds = Number(seconds);
    } else {
      throw syntaxError();
    }
  }
  return filter;
}

function matches(client: Client, filter: KillFilter, nowMs: number): boolean {
  return (filter.addr === undefined || client.addr === filter.addr) &&
    (filter.laddr === undefined || client.laddr === filter.laddr) &&
    (filter.type === undefined || clientType(client) === filter.type) &&
    (filter.id === undefined || client.id === filter.id) &&
    (filter.maxAgeSeconds === undefined ||
      Math.floor((nowMs - client.createdMs) / 1000) > filter.maxAgeSeconds);
}

const CLIENT_SUBCOMMANDS: CommandHandler[] = [
  {
    name: "ID",
    summary: "Returns this connection's id.",
    run: (ctx, _args, w) => w.integer(ctx.session.id),
  },
  {
    name: "GETNAME",
    summary: "Returns this connection's name, nil if it has none.",
    run: (ctx, _args, w) => ctx.session.name ? w.bulk(ctx.session.name) : w.nil(),
  },
  {
    name: "SETNAME",
    summary: "Names this connection (an empty name removes it).",
    run(ctx, args, w) {
      if (!isPrintableName(args[2])) throw badClientName();
      ctx.session.name = args[2];
      w.status("OK");
    },
  },
  {
    name: "SETINFO",
    summary: "Records the client library's name or version (LIB-NAME, LIB-VER).",
    run(ctx, args, w) {
      const attribute = args[2].toUpperCase();
      if (attribute === "LIB-NAME") ctx.session.libName = args[3];
      else if (attribute === "LIB-VER") ctx.session.libVersion = args[3];
      else throw error(`Unrecognized option '${args[2]}'`);
      w.status("OK");
    },
  },
  {
    name: "INFO",
    summary: "Describes this connection on one line, as CLIENT LIST does.",
    run(ctx, args, w) {
      const client = clientOf(ctx);
      w.verbatim("txt", clientLine(client, client, args) + "\n");
    },
  },
  {
    name: "LIST",
    summary: "Describes every connection (TYPE: of one kind; ID: those given), a line each.",
    run(ctx, args, w) {
      const self = clientOf(ctx);
      const registry = self.registry;
      let text = "";
      if (args.length === 4 && args[2].toLowerCase() === "type") {
        const type = typeByName(args[3]);
        if (type === undefined) throw error(`Unknown client type '${args[3]}'`);
        for (const client of registry.all()) {
          if (clientType(client) === type) text += clientLine(client, self, args) + "\n";
        }
      } else if (args.length > 3 && args[2].toLowerCase() === "id") {
        for (let i = 3; i < args.length; i++) {
          const id = parseInt64(args[i]);
          if (id === undefined) throw error("Invalid client ID");
          const client = registry.get(Number(id));
          if (client !== undefined) text += clientLine(client, self, args) + "\n";
        }
      } else if (args.length !== 2) {
        throw syntaxError();
      } else {
        for (const client of registry.all()) text += clientLine(client, self, args) + "\n";
      }
      w.verbatim("txt", text);
    },
  },
  {
    name: "KILL",
    summary: "Closes the connections from an address, or those the filters select (ID, TYPE, " +
      "USER, ADDR, LADDR, SKIPME, MAXAGE).",
    run(ctx, args, w) {
      const self = clientOf(ctx);
      const filter = parseKillFilter(args);
      const now = Date.now();
      let killed = 0;
      for (const client of [...self.registry.all()]) {
        if (!matches(client, filter, now)) continue;
        if (client === self) {
          if (filter.skipMe) continue;
          ctx.session.closeAfterReply = true;
        } else {
          client.killed = true;
          client.io.close();
        }
        killed++;
      }
      self.registry.killed += killed;
      if (args.length !== 3) return w.integer(killed);
      if (killed === 0) throw error("No such client");
      w.status("OK");
    },
  },
  {
    name: "PAUSE",
    summary: "Holds every client's commands (ALL) or their writes (WRITE) for a time, in ms.",
    run(ctx, args, w) {
      if (args.length > 4) throw subcommandSyntax(args[1]);
      let kind: "all" | "write" = "all";
      if (args.length === 4) {
        const mode = args[3].toLowerCase();
        if (mode !== "write" && mode !== "all") {
          throw error("CLIENT PAUSE mode must be WRITE or ALL");
        }
        kind = mode;
      }
      registryOf(ctx).pause.pause(timeoutMs(args[2]), kind);
      w.status("OK");
    },
  },
  {
    name: "UNPAUSE",
    summary: "Ends a CLIENT PAUSE: the commands held run.",
    run(ctx, _args, w) {
      registryOf(ctx).pause.unpause();
      w.status("OK");
    },
  },
  {
    name: "REPLY",
    summary: "ON: replies are sent; OFF: none until ON; SKIP: not the next command's.",
    run(ctx, args, w) {
      const mode = args[2].toLowerCase();
      const session = ctx.session;
      if (mode === "on") {
        session.replyFlags &= REPLY_DEFERRED; // output held for after this command stays

        w.status("OK");
      } else if (mode === "off") {
        session.replyFlags |= REPLY_OFF;
      } else if (mode === "skip") {
        if ((session.replyFlags & REPLY_OFF) === 0) session.replyFlags |= REPLY_SKIP_NEXT;
      } else {
        throw syntaxError();
      }
    },
  },
  {
    name: "NO-EVICT",
    summary: "ON or OFF: keeps this connection from being closed by client eviction " +
      "(maxmemory-clients).",
    run(ctx, args, w) {
      const mode = args[2].toLowerCase();
      if (mode !== "on" && mode !== "off") throw syntaxError();
      clientOf(ctx).noEvict = mode === "on";
      w.status("OK");
    },
  },
  {
    name: "TRACKING",
    summary: "Client-side caching: not supported by kvdb (answers an error).",
    run() {
      throw error(
        "CLIENT TRACKING is not supported by kvdb (no client-side caching)",
        "CLIENT TRACKING is not supported (no client-side caching)",
      );
    },
  },
  {
    name: "GETREDIR",
    summary: "Returns -1: tracking is not supported, so nothing is redirected.",
    run: (_ctx, _args, w) => w.integer(-1),
  },
  {
    name: "UNBLOCK",
    summary: "Ends a client's wait in a blocking command (BLPOP...): as a timeout (TIMEOUT, " +
      "the default) or with an error (ERROR); 1 if it was blocked.",
    run(ctx, args, w) {
      if (args.length > 4) throw subcommandSyntax(args[1]);
      let asError = false;
      if (args.length === 4) {
        const reason = args[3].toLowerCase();
        if (reason !== "timeout" && reason !== "error") {
          throw error("CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
        }
        asError = reason === "error";
      }
      const id = parseInt64(args[2]);
      if (id === undefined) throw error("value is not an integer or out of range");
      w.integer(blockedClients(ctx.store).unblock(Number(id), asError) ? 1 : 0);
    },
  },
];

/** CLIENT, MONITOR and RESET. */
export const CLIENT_COMMANDS: CommandDeclaration[] = [
  {
    name: "CLIENT",
    summary: "Inspects and controls client connections.",
    subcommands: CLIENT_SUBCOMMANDS,
  },
  {
    name: "MONITOR",
    summary: "Streams every command the server runs to this connection, a line each.",
    run(ctx, _args, w) {
      const client = clientOf(ctx);
      // Already monitoring: Redis replies nothing.
      if (client.registry.monitors.add(client)) w.status("OK");
    },
  },
  {
    name: "RESET",
    summary: "Returns the connection to its state at connect: RESP2, database 0, no name, " +
      "no transaction, subscription or MONITOR.",
    run(ctx, _args, w) {
      const session = ctx.session;
      const client = session.client;
      session.multi = undefined;
      if (session.watcher !== undefined) ctx.watches.unwatchAll(session.watcher);
      session.db = 0;
      session.protocol = 2;
      session.name = "";
      session.replyFlags = 0;
      // Back to the default user, logged in only if it needs no password (Redis's clientSetDefaultAuth).
      session.user = undefined;
      session.authenticated = false;
      if (client !== undefined) {
        client.registry.monitors.remove(client);
        client.registry.pubsub.dropAll(client);
        client.subscriptionsChanged();
        client.noEvict = false;
      }
      updateRestricted(session);
      w.status("RESET");
    },
  },
];
