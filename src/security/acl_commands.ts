/**
 * AUTH and ACL: logging in, and defining and inspecting users, as Redis
 * 7.0 answers them (its replies and errors, word for word).
 *
 * @example
 * ```ts
 * // AUTH app secret -> +OK; ACL WHOAMI -> "app"
 * ```
 * @module
 */

import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  type ContainerHandler,
  parseInt64,
  type Session,
} from "../executor/command_spec.ts";
import { clientLine } from "../server/client_info.ts";
import type { Acl } from "./acl.ts";
import { ACL_CATEGORIES, ACL_COMMANDS, aclCommand, categoryIndex } from "./categories.ts";
import { randomHex } from "./password.ts";
import { globMatch } from "../executor/glob.ts";
import { ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_OK, checkPermission } from "./permissions.ts";
import type { Selector } from "./selector.ts";
import type { User } from "./user.ts";
import type { AclLogEvent } from "./acl_log.ts";

/** ACL GENPASS's largest and default sizes, in bits. */
const GENPASS_MAX_BITS = 4096;
const GENPASS_DEFAULT_BITS = 256;
/** ACL LOG's default count. */
const ACL_LOG_DEFAULT_COUNT = 10;

function error(message: string, code = "ERR"): CommandError {
  return new CommandError(code, message, message);
}

/**
 * Redis's WRONGPASS reply.
 *
 * @example
 * ```ts
 * throw wrongPass(); // -WRONGPASS invalid username-password pair or user is disabled.
 * ```
 */
export function wrongPass(): CommandError {
  return error("invalid username-password pair or user is disabled.", "WRONGPASS");
}

/**
 * HELLO from a client that has not authenticated (and gave no AUTH): Redis 7.0's words.
 *
 * @example
 * ```ts
 * if (!session.authenticated) throw helloNeedsAuth();
 * ```
 */
export function helloNeedsAuth(): CommandError {
  return error(
    "HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    "NOAUTH",
  );
}

/**
 * Redis's NOAUTH reply.
 *
 * @example
 * ```ts
 * return noAuth(); // -NOAUTH Authentication required.
 * ```
 */
export function noAuth(): CommandError {
  return error("Authentication required.", "NOAUTH");
}

function aclOf(ctx: CommandContext): Acl {
  return ctx.server.admin.acl;
}

/**
 * CLIENT LIST's line for a session's client ("" for a local one).
 *
 * @example
 * ```ts
 * clientInfoOf(session); // "id=7 addr=127.0.0.1:50000 ..."
 * ```
 */
export function clientInfoOf(session: Session): string {
  const client = session.client;
  return client === undefined ? "" : clientLine(client, client, []);
}

/**
 * Adds an ACL LOG entry for `session`.
 *
 * @example
 * ```ts
 * logDenial(acl, session, { reason: "key", object: "secret:1" });
 * ```
 */
export function logDenial(
  acl: Acl,
  session: Session,
  event: Omit<AclLogEvent, "clientInfo" | "context" | "username"> & { username?: string },
): void {
  acl.log.add({
    reason: event.reason,
    context: session.multi !== undefined || session.inExec ? "multi" : "toplevel",
    object: event.object,
    username: event.username ?? session.user?.name ?? "default",
    clientInfo: clientInfoOf(session),
  });
}

/**
 * Logs `session` in as `name` with `password` (AUTH, HELLO ... AUTH);
 * false (and an ACL LOG entry naming `commandWord`) if refused.
 *
 * @example
 * ```ts
 * if (!authenticateSession(acl, session, "app", "pw", "AUTH")) throw wrongPass();
 * ```
 */
export function authenticateSession(
  acl: Acl,
  session: Session,
  name: string,
  password: string,
  commandWord: string,
): boolean {
  const user = acl.authenticate(name, password);
  if (user === undefined) {
    logDenial(acl, session, { reason: "auth", object: commandWord, username: name });
    return false;
  }
  session.user = user;
  session.authenticated = true;
  return true;
}

/**
 * AUTH [username] password.
 *
 * @example
 * ```ts
 * COMMANDS.get("AUTH"); // this handler joined with Redis's facts
 * ```
 */
export const AUTH_COMMAND: CommandHandler = {
  name: "AUTH",
  summary:
    "Authenticates the connection as a user (the default user when only a password is given).",
  run(ctx, args, w) {
    if (args.length > 3) throw error("syntax error");
    const acl = aclOf(ctx);
    let name = "default";
    let password: string;
    if (args.length === 2) {
      if (acl.defaultUser.nopass) {
        throw error(
          "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        );
      }
      password = args[1];
    } else {
      name = args[1];
      password = args[2];
    }
    if (!authenticateSession(acl, ctx.session, name, password, args[0])) throw wrongPass();
    w.status("OK");
  },
};

function replySelector(s: Selector, w: ReplyWriter): void {
  w.bulk("commands");
  w.bulk(s.describeCommands());
  w.bulk("keys");
  w.bulk(s.describeKeys());
  w.bulk("channels");
  w.bulk(s.describeChannels());
}

function replyUser(u: User, w: ReplyWriter): void {
  w.map(6);
  w.bulk("flags");
  const flags = u.flags();
  w.set(flags.length);
  for (const f of flags) w.bulk(f);
  w.bulk("passwords");
  w.array(u.passwords.length);
  for (const p of u.passwords) w.bulk(p);
  replySelector(u.root, w);
  w.bulk("selectors");
  w.array(u.selectors.length - 1);
  for (const s of u.selectors.slice(1)) {
    w.map(3);
    replySelector(s, w);
  }
}

/**
 * Closes the connections authenticated as `users` (the caller's after its
 * reply), as Redis does when a user is deleted or the ACL file reloaded.
 */
function disconnectUsers(ctx: CommandContext, users: ReadonlySet<User>): void {
  const self = ctx.session.client;
  if (users.has(ctx.session.user!)) ctx.session.closeAfterReply = true;
  if (self === undefined) return;
  for (const client of [...self.registry.all()]) {
    const session = client.session;
    if (session.user === undefined || !users.has(session.user)) continue;
    session.user = aclOf(ctx).defaultUser;
    session.authenticated = false;
    if (client !== self) client.io.close();
  }
}

/**
 * A user's changed channel permissions reach its subscribers: one
 * subscribed to a channel or pattern it may no longer use is closed (Redis's
 * `ACLKillPubsubClientsIfNeeded`).
 */
function closeForbiddenSubscribers(ctx: CommandContext, user: User): void {
  const self = ctx.session.client;
  if (self === undefined || user.selectors.some((s) => s.allChannels)) return;
  const allowed = user.selectors.flatMap((s) => s.channels);
  const channelOk = (c: string) => allowed.some((p) => globMatch(p, c));
  const patternOk = (p: string) => allowed.includes(p);
  for (const client of [...self.registry.all()]) {
    if (client.session.user !== user || client.subscriptions.total === 0) continue;
    const subs = client.subscriptions;
    const forbidden = [...subs.patterns].some((p) => !patternOk(p)) ||
      [...subs.channels].some((c) => !channelOk(c)) ||
      [...subs.shardChannels].some((c) => !channelOk(c));
    if (!forbidden) continue;
    if (client === self) ctx.session.closeAfterReply = true;
    else client.io.close();
  }
}

/**
 * Redis's DRYRUN / NOPERM wording of a refusal.
 *
 * @example
 * ```ts
 * denialText(ACL_DENIED_KEY, "get", "k"); // "no permissions to access the 'k' key"
 * ```
 */
export function denialText(result: number, commandName: string, object: string): string {
  if (result === ACL_DENIED_CMD) return `no permissions to run the '${commandName}' command`;
  if (result === ACL_DENIED_KEY) return `no permissions to access the '${object}' key`;
  return `no permissions to access the '${object}' channel`;
}

/**
 * ACL and its subcommands.
 *
 * @example
 * ```ts
 * COMMANDS.get("ACL")!.subcommands!.has("SETUSER"); // true
 * ```
 */
export const ACL_COMMAND: ContainerHandler = {
  name: "ACL",
  summary: "Defines and inspects users, their permissions and the ACL log.",
  subcommands: [
    {
      name: "CAT",
      summary: "Lists the categories, or the commands in one.",
      run(_ctx, args, w) {
        if (args.length === 2) {
          w.array(ACL_CATEGORIES.length);
          for (const c of ACL_CATEGORIES) w.bulk(c);
          return;
        }
        if (args.length !== 3) throw error("syntax error");
        const index = categoryIndex(args[2]);
        if (index < 0) throw error(`Unknown category '${args[2].slice(0, 128)}'`);
        const names = ACL_COMMANDS.filter((c) => (c.categories & (1 << index)) !== 0);
        w.array(names.length);
        for (const c of names) w.bulk(c.fullName);
      },
    },
    {
      name: "SETUSER",
      summary: "Creates or changes a user: every rule applies, or none.",
      run(ctx, args, w) {
        const result = aclOf(ctx).setUser(args[2], args.slice(3));
        if (typeof result === "string") throw error(result);
        closeForbiddenSubscribers(ctx, result);
        w.status("OK");
      },
    },
    {
      name: "GETUSER",
      summary: "Describes a user: flags, password hashes, commands, keys, channels, selectors.",
      run(ctx, args, w) {
        const u = aclOf(ctx).users.get(args[2]);
        if (u === undefined) return w.nil();
        replyUser(u, w);
      },
    },
    {
      name: "DELUSER",
      summary: "Deletes users (not default), closing their connections; returns how many.",
      run(ctx, args, w) {
        const names = args.slice(2);
        if (names.includes("default")) throw error("The 'default' user cannot be removed");
        const removed = aclOf(ctx).deleteUsers(names);
        disconnectUsers(ctx, new Set(removed));
        w.integer(removed.length);
      },
    },
    {
      name: "LIST",
      summary: "Every user, as an ACL file line.",
      run(ctx, _args, w) {
        const users = aclOf(ctx).sortedUsers();
        w.array(users.length);
        for (const u of users) w.bulk(`user ${u.name} ${u.describe()}`);
      },
    },
    {
      name: "USERS",
      summary: "Every user's name.",
      run(ctx, _args, w) {
        const users = aclOf(ctx).sortedUsers();
        w.array(users.length);
        for (const u of users) w.bulk(u.name);
      },
    },
    {
      name: "WHOAMI",
      summary: "The connection's user.",
      run(ctx, _args, w) {
        w.bulk(ctx.session.user?.name ?? "default");
      },
    },
    {
      name: "GENPASS",
      summary: "A random password of 256 bits (or the bits given), in hex.",
      run(_ctx, args, w) {
        let bits = GENPASS_DEFAULT_BITS;
        if (args.length === 3) {
          const given = parseInt64(args[2]);
          if (given === undefined) throw error("value is not an integer or out of range");
          if (given <= 0n || given > BigInt(GENPASS_MAX_BITS)) {
            throw error(
              `ACL GENPASS argument must be the number of bits for the output password, a positive number up to ${GENPASS_MAX_BITS}`,
            );
          }
          bits = Number(given);
        } else if (args.length > 3) throw error("syntax error");
        w.bulk(randomHex(Math.floor((bits + 3) / 4)));
      },
    },
    {
      name: "LOG",
      summary: "The ACL log's newest entries (10, or the count given), or RESET.",
      run(ctx, args, w) {
        const log = aclOf(ctx).log;
        let count = ACL_LOG_DEFAULT_COUNT;
        if (args.length === 3) {
          if (args[2].toLowerCase() === "reset") {
            log.reset();
            return w.status("OK");
          }
          const given = parseInt64(args[2]);
          if (given === undefined) throw error("value is not an integer or out of range");
          count = given < 0n ? 0 : Number(given > 1_000_000n ? 1_000_000n : given);
        } else if (args.length > 3) throw error("syntax error");
        const entries = log.entries.slice(0, count);
        const now = Date.now();
        w.array(entries.length);
        for (const e of entries) {
          w.map(7);
          w.bulk("count");
          w.integer(e.count);
          w.bulk("reason");
          w.bulk(e.reason);
          w.bulk("context");
          w.bulk(e.context);
          w.bulk("object");
          w.bulk(e.object);
          w.bulk("username");
          w.bulk(e.username);
          w.bulk("age-seconds");
          w.double((now - e.timeMs) / 1000);
          w.bulk("client-info");
          w.bulk(e.clientInfo);
        }
      },
    },
    {
      name: "DRYRUN",
      summary: "Whether a user may run a command with these arguments, without running it.",
      run(ctx, args, w) {
        const u = aclOf(ctx).users.get(args[2]);
        if (u === undefined) throw error(`User '${args[2]}' not found`);
        const request = args.slice(3);
        const found = lookupAclRequest(request);
        if (found === undefined) throw error(`Command '${args[3]}' not found`);
        const check = checkPermission(u, found, request);
        if (check.result === ACL_OK) return w.status("OK");
        w.bulk(
          `This user has ${denialText(check.result, found.fullName, request[check.index] ?? "")}`,
        );
      },
    },
    {
      name: "SAVE",
      summary: "Writes the users to security.acl_file.",
      async: true,
      async run(ctx, _args, w) {
        const acl = aclOf(ctx);
        if (acl.aclFile === "") throw noAclFile();
        const temp = `${acl.aclFile}.tmp-${Deno.pid}-${Date.now()}`;
        try {
          await Deno.writeTextFile(temp, acl.renderFile());
          await Deno.rename(temp, acl.aclFile);
        } catch (e) {
          await Deno.remove(temp).catch(() => {});
          ctx.server.admin.log.warn("ACL SAVE failed", { error: String(e) });
          throw error(
            "There was an error trying to save the ACLs. Please check the server logs for more information",
          );
        }
        w.status("OK");
      },
    },
    {
      name: "LOAD",
      summary: "Replaces the users with security.acl_file's (all or nothing).",
      async: true,
      async run(ctx, _args, w) {
        const acl = aclOf(ctx);
        if (acl.aclFile === "") throw noAclFile();
        let text: string;
        try {
          text = await Deno.readTextFile(acl.aclFile);
        } catch (e) {
          const reason = e instanceof Deno.errors.NotFound
            ? "No such file or directory"
            : e instanceof Error
            ? e.message
            : String(e);
          throw error(`Error loading ACLs, opening file '${acl.aclFile}': ${reason}`);
        }
        const before = new Set(acl.users.values());
        const errors = acl.loadFile(text);
        if (errors !== undefined) throw error(errors);
        before.delete(acl.defaultUser);
        disconnectUsers(ctx, before);
        w.status("OK");
      },
    },
  ],
};

function noAclFile(): CommandError {
  return error(
    "This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.",
  );
}

/**
 * The ACL row of a request (`CONFIG GET x` -> config|get), as dispatch would find it.
 *
 * @example
 * ```ts
 * lookupAclRequest(["CONFIG", "GET", "x"])?.fullName; // "config|get"
 * ```
 */
export function lookupAclRequest(request: readonly string[]) {
  if (request.length === 0) return undefined;
  const top = aclCommand(request[0]);
  if (top === undefined || top.subcommands.length === 0 || request.length < 2) return top;
  return aclCommand(`${top.fullName}|${request[1]}`);
}

/**
 * The commands this folder serves.
 *
 * @example
 * ```ts
 * buildCommandTable([...SECURITY_COMMANDS], [COMMAND_FACTS]);
 * ```
 */
export const SECURITY_COMMANDS = [AUTH_COMMAND, ACL_COMMAND];
