/**
 * What a command is (its handler, and the table row it becomes when joined
 * with Redis's facts about it) and what it runs against: the
 * store, the client's session and the server's state. Also the argument
 * parsing every command shares, with Redis's error replies.
 *
 * @example
 * ```ts
 * const handler: CommandHandler = {
 *   name: "STRLEN",
 *   summary: "Returns the length of a key's value.",
 *   run: (ctx, args, w) => w.integer(ctx.store.get(args[1])?.length ?? 0),
 * };
 * ```
 * @module
 */

import { CommandError, type ReplyWriter, type TextRendering } from "../protocol/reply_writer.ts";
import type { Database, Store } from "../storage/store.ts";
import type { Watcher, WatchRegistry } from "../transactions/watch.ts";
import type { PubSub } from "../pubsub/pubsub.ts";
import type { Client } from "../server/clients.ts";
import type { CommandFacts } from "./command_facts_types.ts";
import type { CommandStats } from "../admin/command_stats.ts";
import type { AdminState } from "../admin/admin_state.ts";
import type { User } from "../security/user.ts";

/** One client's state across requests. */
export interface Session {
  readonly id: number;
  /** CLIENT SETNAME. */
  name: string;
  /** CLIENT SETINFO lib-name / lib-ver. */
  libName: string;
  libVersion: string;
  /** QUIT: close the connection after this reply. */
  closeAfterReply: boolean;
  /** RESP version of the replies (HELLO changes it); the text protocol ignores it. */
  protocol: 2 | 3;
  /** The selected database (SELECT). */
  db: number;
  /** Between MULTI and EXEC/DISCARD: the commands queued. */
  multi: QueuedTransaction | undefined;
  /** WATCH state, once the client watched something. */
  watcher: Watcher | undefined;
  /**
   * The connection behind the session (pub/sub, CLIENT, MONITOR); undefined
   * for an in-process session (`kvdb cli`).
   */
  client: Client | undefined;
  /** Channels, patterns and shard channels subscribed to. */
  subscriptions: number;
  /**
   * Subscribed or MONITORing: the executor asks `pubsub/context.ts` whether
   * each command may run (one test while false).
   */
  restricted: boolean;
  /** CLIENT REPLY state (`server/reply_mode.ts`); 0: every reply is sent. */
  replyFlags: number;
  /**
   * The command last sent (the subcommand's row for a container),
   * undefined if unknown: CLIENT LIST's `cmd`. A table row, not the
   * request, so no argument outlives its request.
   */
  lastCommand: CommandSpec | undefined;
  /** EXEC is running this session's queued commands (WAIT answers at once then). */
  inExec: boolean;
  /** The ACL user; undefined until the first command binds the default user (src/security). */
  user: User | undefined;
  /** Logged in (or needing no password when it connected): Redis's `c->authenticated`. */
  authenticated: boolean;
}

/** A transaction being queued (MULTI ... EXEC). */
export interface QueuedTransaction {
  commands: string[][];
  /** Bytes of the queued arguments (bounded: see `transactions/commands.ts`). */
  bytes: number;
  /** A command was refused while queuing: EXEC answers EXECABORT. */
  failed: boolean;
}

let nextSessionId = 1;

/**
 * A fresh session with the next client id.
 *
 * @example
 * ```ts
 * newSession().id; // 1, 2, ...
 * ```
 */
export function newSession(): Session {
  return {
    id: nextSessionId++,
    name: "",
    libName: "",
    libVersion: "",
    closeAfterReply: false,
    multi: undefined,
    watcher: undefined,
    protocol: 2,
    db: 0,
    client: undefined,
    subscriptions: 0,
    restricted: false,
    replyFlags: 0,
    lastCommand: undefined,
    inExec: false,
    user: undefined,
    authenticated: false,
  };
}

/** INFO fields: name and value. */
export type InfoFields = [string, string | number][];

/** SAVE and BGSAVE's view of the server's snapshots. */
export interface SnapshotControl {
  readonly inProgress: boolean;
  /** Takes a snapshot holding every change made so far (waits out a running one). */
  saveNow(): Promise<{ lsn: number; keys: number }>;
  /** Starts one in the background; false if one is running. */
  startInBackground(): boolean;
}

/** A host and port (REPLICAOF's arguments). */
export interface HostPort {
  hostname: string;
  port: number;
}

/** Run-time replication, as REPLICAOF, WAIT and min-replicas use it. */
export interface ReplicationControl {
  readonly role: "master" | "slave";
  /** The master followed, while a replica. */
  readonly masterAddress: HostPort | undefined;
  /** Follows `master`, or stops following (undefined); resolves once in effect. */
  replicaOf(master: HostPort | undefined): Promise<void>;
  /** While a master: its replicas' acknowledgements. */
  readonly master: {
    readonly closed: boolean;
    acknowledged(lsn: number): number;
    onAck(listener: () => void): () => void;
  } | undefined;
  /** Replicas that acknowledged within `maxLagMs`. */
  goodReplicas(maxLagMs: number): number;
}

/** What commands may ask of the server around them. */
export interface ServerState {
  readonly role: "master" | "slave";
  readonly startedMs: number;
  /** Connections being served. */
  connectedClients(): number;
  /** Connections accepted since start. */
  totalConnections(): number;
  /** Fields of an INFO section the server owns (persistence, replication, ...). */
  info(section: "server" | "clients" | "persistence" | "replication"): InfoFields;
  /** ROLE's reply. */
  replyRole(w: ReplyWriter): void;
  /** Configuration, statistics, slow log, latency monitor, shutdown (src/admin). */
  readonly admin: AdminState;
  /** Snapshots, when the server has a WAL. */
  snapshots(): SnapshotControl | undefined;
  /** Run-time replication, when the server has a WAL. */
  replication(): ReplicationControl | undefined;
}

/** Counters the executor keeps for INFO stats. */
export interface ExecutorStats {
  commandsProcessed: number;
  keyspaceHits: number;
  keyspaceMisses: number;
}

/** What a handler works on. */
export interface CommandContext {
  store: Store;
  /** The database the client selected (SELECT). */
  db: Database;
  session: Session;
  server: ServerState;
  stats: ExecutorStats;
  /** Clients' watched keys (WATCH). */
  watches: WatchRegistry;
  /**
   * Runs another command for this session now, synchronously, replying
   * into `w` (EXEC's queued commands). Commands that reply later cannot.
   */
  dispatch(args: string[], w: ReplyWriter): void;
  /** The server's pub/sub (PUBLISH, SUBSCRIBE; `notify-keyspace-events` in `pubsub.events`). */
  pubsub: PubSub;
  /**
   * A keyspace notification: `event` (Redis's name: "set", "del",
   * "expire", ...) happened to `key` in database `db` (default: the
   * session's), of class `type` (`NOTIFY_STRING`, `NOTIFY_GENERIC`, ... from
   * `pubsub/keyspace_events.ts`). One test while nobody asked for the class.
   * Call it after the change, in Redis's order.
   *
   * @example
   * ```ts
   * ctx.db.set(key, value);
   * ctx.notify(NOTIFY_STRING, "set", key);
   * ```
   */
  notify(type: number, event: string, key: string, db?: number): void;
  /**
   * Whether events of class `type` are published now: for work only an
   * event needs (`if (ctx.notifies(NOTIFY_NEW)) created = !exists(key)`).
   */
  notifies(type: number): boolean;
}

/** A command's handler: runs one request (whose arity dispatch has checked). */
export type CommandRun = (
  ctx: CommandContext,
  args: string[],
  w: ReplyWriter,
) => void | Promise<void>;

/**
 * What a handler file declares about a command: only what is kvdb's own.
 * Arity, flags, key positions and ACL categories are Redis's facts
 * (command_facts.ts), joined with the handler by name in commands.ts.
 */
export interface CommandHandler {
  /** Upper-case name; a subcommand's own word (`GET` in CONFIG's table). */
  readonly name: string;
  /** One line of kvdb's own words for COMMAND DOCS and HELP. */
  readonly summary: string;
  /** How the text protocol renders replies where it departs from the generic. */
  readonly text?: TextRendering;
  /**
   * The handler replies after an await (SAVE): it gets a context of its
   * own, and the connection waits for it before its next request.
   */
  readonly async?: boolean;
  /**
   * Which argument a pipeline prefetches in the key's collection (see
   * `Executor.prefetch`): counted from the key (1, the default: the one
   * after it, HSET's field) or, negative, from the end (-1: the last,
   * ZADD's member).
   */
  readonly element?: number;
  readonly run: CommandRun;
}

/**
 * A command with subcommands (CONFIG, CLIENT, COMMAND, ...): a handler per
 * subcommand, each checked against its own facts (`config|get`), and
 * optionally one for the name alone (COMMAND).
 */
export interface ContainerHandler {
  readonly name: string;
  readonly summary: string;
  readonly subcommands: readonly CommandHandler[];
  /** The container's name without a subcommand, where Redis serves it. */
  readonly run?: CommandRun;
}

/** What handler files export: plain commands and containers. */
export type CommandDeclaration = CommandHandler | ContainerHandler;

/** Redis's command flags, one bit each in {@link CommandSpec.flags}. */
export const COMMAND_FLAG_BITS: Readonly<Record<string, number>> = Object.freeze({
  write: 1 << 0,
  readonly: 1 << 1,
  denyoom: 1 << 2,
  module: 1 << 3,
  admin: 1 << 4,
  pubsub: 1 << 5,
  noscript: 1 << 6,
  blocking: 1 << 7,
  loading: 1 << 8,
  stale: 1 << 9,
  skip_monitor: 1 << 10,
  skip_slowlog: 1 << 11,
  asking: 1 << 12,
  fast: 1 << 13,
  no_auth: 1 << 14,
  may_replicate: 1 << 15,
  sentinel: 1 << 16,
  only_sentinel: 1 << 17,
  no_mandatory_keys: 1 << 18,
  protected: 1 << 19,
  module_getkeys: 1 << 20,
  module_no_cluster: 1 << 21,
  no_async_loading: 1 << 22,
  no_multi: 1 << 23,
  movablekeys: 1 << 24,
  allow_busy: 1 << 25,
  module_getchannels: 1 << 26,
});

/**
 * One row of the command table: a handler joined with its facts. Built
 * once at startup; dispatch reads its precomputed fields.
 */
export interface CommandSpec {
  /** Upper-case: `GET`; a subcommand `CONFIG|GET`. */
  readonly name: string;
  /** Redis's full name, lower-case: `get`, `config|get`. */
  readonly fullName: string;
  /** Exact argument count including the name if > 0, minimum if < 0. */
  readonly arity: number;
  /** {@link COMMAND_FLAG_BITS} of the command's flags. */
  readonly flags: number;
  /** Changes the keyspace: refused on a replica. */
  readonly write: boolean;
  /** Served while the keyspace is being (re)loaded (Redis's `loading`). */
  readonly loading: boolean;
  /** The first key's position (0: none), for prefetching. */
  readonly firstKey: number;
  /** {@link CommandHandler.element}: the argument prefetched in the key's collection. */
  readonly element: number;
  readonly summary: string;
  readonly text: TextRendering | undefined;
  readonly async: boolean;
  /** Undefined for a container that needs a subcommand. */
  readonly run: CommandRun | undefined;
  /** A container's subcommands by upper-case word; undefined otherwise. */
  readonly subcommands: ReadonlyMap<string, CommandSpec> | undefined;
  /** Redis's facts: what COMMAND INFO / DOCS / GETKEYS answer from. */
  readonly facts: CommandFacts;
  /** INFO commandstats' counters (src/admin/command_stats.ts). */
  readonly stats: CommandStats;
}

/** Redis's `syntax error`. */
export function syntaxError(): CommandError {
  return new CommandError("ERR", "syntax error", "syntax error");
}

/** Redis's error for a bad integer argument or value. */
export function notAnInteger(): CommandError {
  return new CommandError(
    "ERR",
    "value is not an integer or out of range",
    "value is not an integer or out of range",
  );
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Parses a signed 64-bit integer as Redis does (`string2ll`): optional `-`,
 * digits, no `+`, no blanks, no leading zeros; undefined otherwise.
 *
 * @example
 * ```ts
 * parseInt64("-12"); // -12n
 * parseInt64("012"); // undefined
 * ```
 */
export function parseInt64(s: string): bigint | undefined {
  const short = parseShortInteger(s);
  if (short !== undefined) return BigInt(short);
  if (s.length === 0 || s.length > 20) return undefined;
  if (!/^(?:0|-?[1-9][0-9]*)$/.test(s)) return undefined;
  const value = BigInt(s);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

/** Digits a {@link parseShortInteger} value may have: 10^15 - 1 < 2^53, so the value is exact. */
const SHORT_INTEGER_MAX_DIGITS = 15;
/** The longest text {@link parseShortInteger} reads: a sign and its digits. */
export const SHORT_INTEGER_MAX_BYTES = SHORT_INTEGER_MAX_DIGITS + 1;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const MINUS_SIGN = 45;

/**
 * {@link parseInt64}'s fast path, without a regular expression or a bigint:
 * the value of `s` if it is in Redis's integer syntax with at most 15
 * digits; undefined otherwise — including for a valid longer integer, which
 * the caller then parses with {@link parseInt64}.
 *
 * @example
 * ```ts
 * parseShortInteger("-12"); // -12
 * parseShortInteger("012"); // undefined
 * parseShortInteger("9223372036854775807"); // undefined (valid, but long)
 * ```
 */
export function parseShortInteger(s: string): number | undefined {
  const length = s.length;
  const start = length > 0 && s.charCodeAt(0) === MINUS_SIGN ? 1 : 0;
  const digits = length - start;
  if (digits === 0 || digits > SHORT_INTEGER_MAX_DIGITS) return undefined;
  let value = s.charCodeAt(start) - DIGIT_0;
  // No leading zero, and no "-0" (string2ll refuses both).
  if (value < 1 || value > 9) return value === 0 && length === 1 ? 0 : undefined;
  for (let i = start + 1; i < length; i++) {
    const code = s.charCodeAt(i);
    if (code < DIGIT_0 || code > DIGIT_9) return undefined;
    value = value * 10 + (code - DIGIT_0);
  }
  return start === 1 ? -value : value;
}

/**
 * {@link parseShortInteger} of the binary string in `bytes[start, start +
 * length)`: for a value read where it is stored (INCR), with no string
 * made of it first. The same rules; `command_spec_test.ts` holds the two
 * to each other.
 *
 * @example
 * ```ts
 * parseShortIntegerBytes(new Uint8Array([45, 49, 50]), 0, 3); // -12
 * ```
 */
export function parseShortIntegerBytes(
  bytes: Uint8Array,
  start: number,
  length: number,
): number | undefined {
  const end = start + length;
  const first = length > 0 && bytes[start] === MINUS_SIGN ? start + 1 : start;
  const digits = end - first;
  if (digits === 0 || digits > SHORT_INTEGER_MAX_DIGITS) return undefined;
  let value = bytes[first] - DIGIT_0;
  if (value < 1 || value > 9) return value === 0 && length === 1 ? 0 : undefined;
  for (let i = first + 1; i < end; i++) {
    const code = bytes[i];
    if (code < DIGIT_0 || code > DIGIT_9) return undefined;
    value = value * 10 + (code - DIGIT_0);
  }
  return first !== start ? -value : value;
}

/** Whether a bigint fits a signed 64-bit integer. */
export function fitsInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/**
 * An integer argument, as a JS number within ±2^53; throws the Redis error
 * otherwise.
 *
 * @example
 * ```ts
 * integerArgument("10"); // 10
 * ```
 */
export function integerArgument(s: string): number {
  const short = parseShortInteger(s);
  if (short !== undefined) return short;
  const value = parseInt64(s);
  if (value === undefined || value > 2n ** 53n || value < -(2n ** 53n)) throw notAnInteger();
  return Number(value);
}
