/**
 * Runs one request: looks the command up in the table, checks its arity and
 * whether this server may write, and calls its handler. Protocol-agnostic:
 * requests arrive as binary-string arguments and replies leave through a
 * {@link ReplyWriter}.
 *
 * @example
 * ```ts
 * const executor = new Executor(store, { readOnly: false });
 * executor.execute(["SET", "k", "v"], writer, newSession());
 * ```
 * @module
 */

import type { OutBuffer } from "../protocol/out_buffer.ts";
import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import { PREFETCH_MAX_KEYS } from "../storage/engine.ts";
import { EntryTooLargeError, type Store } from "../storage/store.ts";
import { beginCommand } from "../storage/key_table.ts";
import {
  COMMAND_FLAG_BITS,
  type CommandContext,
  CommandSpec,
  ExecutorStats,
  ServerState,
  Session,
} from "./command_spec.ts";
import { COMMANDS } from "./commands.ts";
import { asciiUpper, unknownSubcommand } from "./command_table.ts";
import {
  emptyCommand,
  internalError,
  loadingDataset,
  masterDown,
  readOnlyReplica,
  unknownCommand,
  writeFailed,
  writeOutcomeUnknown,
  wrongArity,
  wrongType,
} from "./errors.ts";
import { WrongTypeError } from "../types/collection.ts";
import { WalOutcomeUnknownError } from "../wal/errors.ts";
import { standaloneServerState } from "./standalone_state.ts";
import { assert } from "../_assert.ts";
import { CONTROLS_TRANSACTION, queueCommand } from "../transactions/queueing.ts";
import { WatchRegistry } from "../transactions/watch.ts";
import type { AdminState } from "../admin/admin_state.ts";
import type { CommandTimer } from "../admin/command_timer.ts";
import { PubSub } from "../pubsub/pubsub.ts";
import { NOTIFY_EVICTED, NOTIFY_EXPIRED } from "../pubsub/keyspace_events.ts";
import { outOfMemory } from "../memory/memory_manager.ts";
import { refusedInContext } from "../pubsub/context.ts";
import { type BlockedClients, blockedClients } from "../blocking/blocked_clients.ts";
import type { User } from "../security/user.ts";
import { type AclCommand, aclCommand } from "../security/categories.ts";
import {
  ACL_DENIED_CMD,
  ACL_DENIED_KEY,
  ACL_OK,
  checkPermission,
} from "../security/permissions.ts";
import { logDenial, noAuth } from "../security/acl_commands.ts";
import { BUSY_SCRIPTS, busyError, refusedWhileBusy } from "../scripting/busy.ts";

/**
 * The text protocol names the command in its errors (RESP keeps Redis's
 * exact words): `ERROR: syntax error ('set' command)`.
 */
function namingCommand(error: CommandError, lower: string): CommandError {
  if (error.text.includes(`'${lower}'`)) return error;
  return new CommandError(error.code, error.message, `${error.text} ('${lower}' command)`);
}

const STALE = COMMAND_FLAG_BITS.stale;
const NO_AUTH = COMMAND_FLAG_BITS.no_auth;
const DENYOOM = COMMAND_FLAG_BITS.denyoom;
/** Commands Redis runs in MULTI whatever the memory (processCommand's reject_cmd_on_oom). */
const OOM_EXEMPT_IN_MULTI: ReadonlySet<string> = new Set(["EXEC", "DISCARD", "QUIT", "RESET"]);

/** Spellings of command names remembered (GET, get, Get, ...). */
const MAX_CACHED_NAMES = 1024;

/** The reply for a failed log: not durable, or (when it could not be cut back) unknown. */
function logFailure(e: unknown) {
  const reason = e instanceof Error ? e.message : String(e);
  return e instanceof WalOutcomeUnknownError ? writeOutcomeUnknown(reason) : writeFailed(reason);
}

/** Server-wide facts the executor needs. */
export interface ExecutorOptions {
  /** A replica: writes are refused. */
  readOnly: boolean;
  /** The server around the executor (INFO, ROLE, CONFIG); a lone one by default. */
  server?: ServerState;
}

/**
 * Dispatches requests to the command table.
 *
 * @example
 * ```ts
 * executor.execute(["GET", "k"], writer, newSession());
 * ```
 */
export class Executor {
  readonly stats: ExecutorStats = { commandsProcessed: 0, keyspaceHits: 0, keyspaceMisses: 0 };
  #readOnly: boolean;
  /** Clients blocked on keys (BLPOP...): served after each command that readies a key. */
  readonly blocking: BlockedClients;
  readonly #server: ServerState;
  readonly #admin: AdminState;
  readonly #timer: CommandTimer;
  readonly #byName = new Map<string, CommandSpec>();
  readonly #ctx: CommandContext;
  readonly #watches = new WatchRegistry();
  /**
   * Told of every command about to run, after its checks (MONITOR);
   * undefined while nobody listens, so the common case costs one test.
   */
  onCommand: ((args: string[], session: Session, spec: CommandSpec) => void) | undefined =
    undefined;
  /**
   * Asked before a client's command is checked and run; a promise makes
   * the command wait for it (CLIENT PAUSE). Undefined when nothing gates.
   */
  gate: ((spec: CommandSpec, session: Session) => Promise<void> | undefined) | undefined =
    undefined;
  /**
   * Asked before a write runs on a master; an error refuses it
   * (min-replicas-to-write's -NOREPLICAS). Undefined when nothing gates.
   */
  writeGate: (() => CommandError | undefined) | undefined = undefined;
  /**
   * A demoted master not yet caught up with its new master: only commands
   * Redis serves on a replica with stale data refused (`stale` flag) run.
   */
  holdData = false;
  /**
   * Scratch for {@link prefetch}, filled by index and emptied after each
   * use (keeping no request alive); never shortened, as setting an array's
   * length to 0 frees its storage, then pushes grow it again per batch.
   */
  readonly #prefetchKeys: string[] = new Array<string>(PREFETCH_MAX_KEYS).fill("");
  readonly #prefetchElements: (string | undefined)[] = new Array<string | undefined>(
    PREFETCH_MAX_KEYS,
  ).fill(undefined);
  #prefetchCount = 0;
  /** Channels, subscribers and keyspace notifications. */
  readonly pubsub: PubSub = new PubSub();

  /** A replica: writes are refused (REPLICAOF changes it). */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  /** Turning replica unblocks the blocked clients with an error, as Redis does. */
  set readOnly(on: boolean) {
    if (on && !this.#readOnly) this.blocking.unblockAllForRoleChange();
    this.#readOnly = on;
  }

  /** Statistics and settings INFO and CONFIG share (src/admin). */
  get admin(): AdminState {
    return this.#admin;
  }

  constructor(readonly store: Store, options: ExecutorOptions) {
    this.#readOnly = options.readOnly;
    this.#server = options.server ?? standaloneServerState(options.readOnly ? "slave" : "master");
    this.#admin = this.#server.admin;
    this.#timer = this.#admin.timer;
    store.keyChanges = this.#watches;
    this.blocking = blockedClients(store);
    const events = this.pubsub.events;
    store.onExpired = (db, key) => events.notify(NOTIFY_EXPIRED, "expired", key, db);
    store.memory.onEvicted = (db, key) => {
      if ((events.active & NOTIFY_EVICTED) !== 0) events.notify(NOTIFY_EVICTED, "evicted", key, db);
    };
    this.#ctx = {
      store,
      session: undefined as unknown as Session,
      db: store.database(0),
      server: this.#server,
      stats: this.stats,
      watches: this.#watches,
      dispatch: (args, w) => {
        const pending = this.#execute(args, w, this.#ctx.session, true);
        assert(pending === undefined, "a command run from EXEC replies at once");
      },
      pubsub: this.pubsub,
      notify(type, event, key, db) {
        if ((events.active & type) !== 0) events.notify(type, event, key, db ?? this.db.index);
      },
      notifies: (type) => (events.active & type) !== 0,
    };
  }

  /**
   * The spec of a command name as sent. Names seen before are found without
   * upper-casing them again (an allocation per request otherwise); the
   * cache holds only names that exist, in the spellings clients send.
   */
  #lookup(name: string): CommandSpec | undefined {
    let spec = this.#byName.get(name);
    if (spec === undefined) {
      spec = COMMANDS.get(asciiUpper(name));
      if (spec !== undefined && this.#byName.size < MAX_CACHED_NAMES) this.#byName.set(name, spec);
    }
    return spec;
  }

  /**
   * Prefetches the first key of each request (by its command's key
   * positions), and the element it names in a collection (HSET's field,
   * ZADD's member: `CommandSpec.element`),
   * before the requests are executed one by one, so that a pipeline's
   * keyspace cache misses overlap (see `Engine.prefetch`).
   * Only `requests[0, count)` are looked at; those that are not argument
   * lists (decode errors) are skipped.
   */
  prefetch(requests: readonly unknown[], count: number, session?: Session): void {
    const keys = this.#prefetchKeys;
    const elements = this.#prefetchElements;
    this.#prefetchCount = 0;
    for (let i = 0; i < count && this.#prefetchCount < PREFETCH_MAX_KEYS; i++) {
      const request = requests[i];
      if (!Array.isArray(request)) continue;
      const args = request as string[];
      if (args.length < 2) continue;
      const spec = this.#lookup(args[0]);
      const first = spec?.firstKey;
      if (first !== undefined && first > 0 && first < args.length) {
        // The element a collection command looks up (HSET's field, ZADD's member).
        const element = spec!.element;
        const at = element > 0 ? first + element : args.length + element;
        this.#addPrefetch(args[first], at > first ? args[at] : undefined);
        const { facts } = spec!;
        if (facts.lastKey !== first && facts.firstKey === first && facts.keyStep > 0) {
          this.#prefetchMoreKeys(args, first, facts.lastKey, facts.keyStep);
        }
      }
    }
    const n = this.#prefetchCount;
    if (n > 1) this.store.database(session?.db ?? 0).engine.prefetch(keys, elements, n);
    for (let i = 0; i < n; i++) {
      keys[i] = "";
      elements[i] = undefined;
    }
  }

  #addPrefetch(key: string, element: string | undefined): void {
    const n = this.#prefetchCount++;
    this.#prefetchKeys[n] = key;
    this.#prefetchElements[n] = element;
  }

  /**
   * A multi-key command's keys after its first (MSET's, MGET's, DEL's), as
   * room is left: without them, MSET's other nine keys were cache misses
   * that made `KeyTable.#find` ~40% of a pipelined MSET's profile.
   */
  #prefetchMoreKeys(args: readonly string[], first: number, lastKey: number, step: number): void {
    const last = lastKey < 0 ? args.length + lastKey : Math.min(lastKey, args.length - 1);
    for (let at = first + step; at <= last && this.#prefetchCount < PREFETCH_MAX_KEYS; at += step) {
      this.#addPrefetch(args[at], undefined);
    }
  }

  /**
   * Executes one request for `session`, writing exactly one reply; returns
   * a promise when the command replies later (the caller waits for it
   * before its next request, so replies stay in order).
   */
  execute(args: string[], w: ReplyWriter, session: Session): void | Promise<void> {
    // Memory is being rebuilt from disk after the log failed (store.ts):
    // wait for it rather than answer from a state the disk does not hold.
    if (this.store.loading) return this.#afterLoading(args, w, session);
    return this.#execute(args, w, session);
  }

  async #afterLoading(args: string[], w: ReplyWriter, session: Session): Promise<void> {
    await this.store.loaded();
    return this.#execute(args, w, session);
  }

  /**
   * Runs one request. `nested`: a command EXEC runs from its queue — its
   * reply is an element of EXEC's, and it runs now whatever the session's
   * state.
   */
  #execute(
    args: string[],
    w: ReplyWriter,
    session: Session,
    nested = false,
  ): void | Promise<void> {
    this.stats.commandsProcessed++;
    // A key's LFU counter is bumped once a command (key_table.ts).
    beginCommand();
    if (args.length === 0) {
      if (!nested) w.begin(undefined, 0);
      return this.#refuse(w, session, emptyCommand(), undefined);
    }
    let spec = this.#lookup(args[0]);
    if (spec === undefined) {
      if (!nested) {
        session.lastCommand = undefined;
        w.begin(undefined, args.length);
      }
      return this.#refuse(w, session, unknownCommand(args[0], args.slice(1)), undefined);
    }
    // A container given a subcommand runs the subcommand's row: its own
    // arity, flags and handler.
    if (spec.subcommands !== undefined && args.length > 1) {
      const sub = spec.subcommands.get(asciiUpper(args[1]));
      if (sub === undefined) {
        if (!nested) {
          session.lastCommand = undefined;
          w.begin(undefined, args.length);
        }
        return this.#refuse(w, session, unknownSubcommand(spec.name, args[1]), undefined);
      }
      spec = sub;
    }
    if (!nested) session.lastCommand = spec;
    // A script past busy-reply-threshold (src/scripting/busy.ts): only allow_busy commands.
    if (BUSY_SCRIPTS.count !== 0 && !nested && refusedWhileBusy(spec, args)) {
      w.begin(spec.text, args.length);
      return this.#refuse(w, session, busyError(), spec);
    }
    if (this.gate !== undefined && !nested) {
      const wait = this.gate(spec, session);
      if (wait !== undefined) {
        this.stats.commandsProcessed--; // counted when it runs
        return wait.then(() => this.#execute(args, w, session));
      }
    }
    if (!nested) w.begin(spec.text, args.length);
    if (
      spec.arity > 0 ? args.length !== spec.arity : args.length < -spec.arity
    ) {
      return this.#refuse(w, session, wrongArity(spec.fullName), spec);
    }
    // Authentication and ACLs (src/security): a logged-in user with every
    // permission (the default user) costs these two tests.
    const user = session.user ?? this.#bindUser(session);
    if (!user.unrestricted || !session.authenticated) {
      const refused = this.#authorize(spec, args, session, user);
      if (refused !== undefined) return this.#refuse(w, session, refused, spec);
    }
    if (spec.write) {
      if (this.#readOnly) return this.#refuse(w, session, readOnlyReplica(), spec);
      if (this.writeGate !== undefined) {
        const refused = this.writeGate();
        if (refused !== undefined) return this.#refuse(w, session, refused, spec);
      }
    }
    if (this.holdData && (spec.flags & STALE) === 0) {
      return this.#refuse(w, session, masterDown(), spec);
    }
    if (session.restricted) {
      const refused = refusedInContext(spec, session);
      if (refused !== undefined) return this.#refuse(w, session, refused, spec);
    }
    if (!spec.loading && this.store.loading) {
      return this.#refuse(w, session, loadingDataset(), spec);
    }
    // maxmemory (src/memory): evict before a write, or anything queued in
    // MULTI (queuing takes memory), as Redis's processCommand does; refuse
    // what may grow memory (denyoom, an EXEC queuing one, a command to
    // queue) when nothing more can go. A replica never gets here with a write.
    if (
      this.store.memory.maxmemoryBytes !== 0 && !nested && !this.#readOnly &&
      (spec.write || spec.name === "EXEC" || session.multi !== undefined) &&
      this.#outOfMemory(spec, session)
    ) {
      return this.#refuse(w, session, outOfMemory(), spec);
    }
    const multi = session.multi;
    if (multi !== undefined && !nested && !CONTROLS_TRANSACTION.has(spec.name)) {
      const refused = queueCommand(multi, spec, args);
      if (refused !== undefined) return this.#refuse(w, session, refused, spec);
      w.status("QUEUED");
      return;
    }
    this.onCommand?.(args, session, spec);
    // Timing: see src/admin/command_timer.ts (no clock read for most
    // commands). A command EXEC runs is part of EXEC's time.
    const async = spec.async;
    const alone = !nested && !async && this.#timer.before(spec, args, session);
    // Synchronous handlers share one context; an async one keeps its own.
    const ctx = spec.async ? { ...this.#ctx, session } : this.#ctx;
    ctx.session = session;
    ctx.db = this.store.database(session.db);
    const run = spec.run!; // a container without one needs a subcommand: its arity says so
    // A write's records are one all-or-nothing group in the log.
    const write = spec.write;
    if (write) this.store.beginGroup();
    const startMs = async && !nested ? performance.now() : 0;
    try {
      const pending = run(ctx, args, w);
      if (pending !== undefined) {
        const ran = spec;
        return pending.catch((e) => this.#fail(e, ran, w, session)).finally(() => {
          if (startMs !== 0) this.#timer.afterAsync(ran, args, session, startMs);
          // A script that ran past the busy threshold: the clients its
          // pushes readied are served now that it is whole.
          if (!nested) this.#serveReady();
        });
      }
    } catch (e) {
      this.#fail(e, spec, w, session);
    } finally {
      if (write) this.store.endGroup();
      // Counted once it ran, as Redis does (INFO does not count itself;
      // CONFIG RESETSTAT counts itself after the reset).
      spec.stats.calls++;
      if (alone) this.#timer.afterAlone(spec, args, session);
      // Clients blocked on keys this command (or transaction) readied, once it is whole.
      if (!nested) this.#serveReady();
    }
  }

  /**
   * Serves the clients blocked on keys that became ready, unless a script
   * is suspended past the busy threshold (it yielded to the event loop):
   * what it pushed is served when it ends, as Redis serves it, so no other
   * client sees the script's state half made. A command allowed while it
   * is busy (SCRIPT KILL...) comes here too.
   */
  #serveReady(): void {
    if (this.blocking.readyCount !== 0 && BUSY_SCRIPTS.count === 0) this.blocking.serveReady();
  }

  /**
   * Evicts as the policy says; then whether `spec` must be refused with
   * -OOM: over the limit with nothing more to evict, and a command that
   * may grow memory — denyoom, an EXEC of a transaction queuing one, or
   * any command to queue (not EXEC, DISCARD, QUIT, RESET: Redis's list).
   */
  #outOfMemory(spec: CommandSpec, session: Session): boolean {
    if (this.store.memory.freeMemory()) return false;
    if ((spec.flags & DENYOOM) !== 0) return true;
    if (spec.name === "EXEC") return this.#queuesDenyoom(session);
    return session.multi !== undefined && !OOM_EXEMPT_IN_MULTI.has(spec.name);
  }

  /** Whether the transaction `session` queued holds a command that may grow memory (denyoom). */
  #queuesDenyoom(session: Session): boolean {
    for (const args of session.multi?.commands ?? []) {
      let spec = this.#lookup(args[0]);
      if (spec?.subcommands !== undefined && args.length > 1) {
        spec = spec.subcommands.get(asciiUpper(args[1])) ?? spec;
      }
      if (spec !== undefined && (spec.flags & DENYOOM) !== 0) return true;
    }
    return false;
  }

  /**
   * A session's first command: it is the default user's, logged in if it
   * needs no password (Redis's new client) or is in-process (`kvdb cli`).
   */
  #bindUser(session: Session): User {
    const acl = this.#admin.acl;
    session.user = acl.defaultUser;
    session.authenticated = session.client === undefined || !acl.authRequired;
    return acl.defaultUser;
  }

  /**
   * Whether `session` must authenticate before sending more than a small
   * request (connection.ts bounds what it buffers until then).
   */
  mustAuthenticate(session: Session): boolean {
    if (session.authenticated) return false;
    if (session.user === undefined) this.#bindUser(session);
    return !session.authenticated && this.#admin.acl.authRequired;
  }

  /**
   * Why a request that takes the connection over (a replica's REPLSYNC)
   * is refused: the client has not authenticated, or its user may not run
   * it (`+replsync`, `@admin`...); undefined to let it through.
   */
  refuseTakeover(args: string[], session: Session): CommandError | undefined {
    const user = session.user ?? this.#bindUser(session);
    const acl = this.#admin.acl;
    if (!session.authenticated && acl.authRequired) return noAuth();
    if (user.unrestricted) return undefined;
    const command = aclCommand(args[0]);
    if (command === undefined) return undefined;
    return this.#permitted(command, args, session, user, command.fullName);
  }

  /** NOAUTH before logging in, then the user's permissions (Redis's processCommand order). */
  #authorize(
    spec: CommandSpec,
    args: string[],
    session: Session,
    user: User,
  ): CommandError | undefined {
    const acl = this.#admin.acl;
    if (!session.authenticated && (spec.flags & NO_AUTH) === 0 && acl.authRequired) return noAuth();
    if (user.unrestricted) return undefined;
    const command = aclCommand(spec.fullName);
    assert(command !== undefined, `${spec.fullName}: no ACL row`);
    return this.#permitted(command, args, session, user, spec.fullName);
  }

  /** The user's permissions for a request: NOPERM (logged) or undefined. */
  #permitted(
    command: AclCommand,
    args: string[],
    session: Session,
    user: User,
    fullName: string,
  ): CommandError | undefined {
    const acl = this.#admin.acl;
    const check = checkPermission(user, command, args);
    if (check.result === ACL_OK) return undefined;
    const result = check.result;
    logDenial(acl, session, {
      reason: result === ACL_DENIED_CMD ? "command" : result === ACL_DENIED_KEY ? "key" : "channel",
      object: result === ACL_DENIED_CMD ? fullName : args[check.index],
    });
    const message = result === ACL_DENIED_CMD
      ? `this user has no permissions to run the '${fullName}' command`
      : result === ACL_DENIED_KEY
      ? "this user has no permissions to access one of the keys used as arguments"
      : "this user has no permissions to access one of the channels used as arguments";
    return new CommandError("NOPERM", message, message);
  }

  /** A client has gone: forgets its transaction state (its watched keys). */
  endSession(session: Session): void {
    this.blocking.drop(session.id);
    session.multi = undefined;
    if (session.watcher !== undefined) this.#watches.unwatchAll(session.watcher);
  }

  /**
   * Replies `error` to a request refused before it ran (counted against
   * `spec`'s rejected calls when the command is known, and by its code);
   * inside MULTI it also dooms the transaction (EXECABORT), as Redis does.
   */
  #refuse(
    w: ReplyWriter,
    session: Session,
    error: CommandError,
    spec: CommandSpec | undefined,
  ): void {
    if (spec?.name === "EXEC") {
      // A refused EXEC ends the transaction it would have run (Redis's
      // execCommandAbort), in or out of MULTI.
      this.endSession(session);
      const cause = error.code === "ERR" ? error.message : `${error.code} ${error.message}`;
      const message = `Transaction discarded because of: ${cause}`;
      error = new CommandError("EXECABORT", message, message);
    }
    w.error(error);
    if (spec !== undefined) spec.stats.rejected++;
    this.#admin.errors.count(error.code);
    const log = this.#admin.log;
    if (log.enabled("debug")) {
      log.debug(spec === undefined ? "unknown command refused" : "command refused", {
        client: session.id,
        error: `${error.code} ${error.message}`,
      });
    }
    if (session.multi !== undefined) session.multi.failed = true;
  }

  /**
   * A handler threw before it replied: for bad arguments (a CommandError),
   * a log that can no longer write, or a bug. The client gets an error,
   * never a false OK, and the server stays up.
   */
  #fail(e: unknown, spec: CommandSpec, w: ReplyWriter, session: Session): void {
    const reason = e instanceof Error ? e.message : String(e);
    const error = e instanceof CommandError
      ? namingCommand(e, spec.fullName)
      : e instanceof WrongTypeError
      ? namingCommand(wrongType(), spec.fullName)
      : e instanceof EntryTooLargeError
      ? new CommandError("ERR", reason, `${reason} ('${spec.fullName}' command)`)
      : spec.write
      ? logFailure(e)
      : internalError(reason);
    w.error(error);
    spec.stats.failed++;
    this.#admin.errors.count(error.code);
    const log = this.#admin.log;
    if (
      !(e instanceof CommandError) && !(e instanceof EntryTooLargeError) &&
      !(e instanceof WrongTypeError) && !spec.write
    ) {
      // Not the client's fault, nor the log's (which reports its own failure once): a bug.
      log.warn("command failed", { command: spec.fullName, client: session.id, error: reason });
    } else if (log.enabled("debug")) {
      log.debug("command failed", { command: spec.fullName, client: session.id, error: reason });
    }
  }

  /**
   * Waits until the writes behind the replies in `out` are durable;
   * `undefined` when nothing is pending (no promise, no microtask). If the
   * log fails, every one of those `replies` is replaced by an error: the
   * writes among them are not durable, and the reads may have seen them.
   */
  commit(out: OutBuffer, w: ReplyWriter, replies: number): Promise<void> | undefined {
    if (!this.store.commitPending) return undefined;
    return this.store.commit().catch((e) => {
      const error = logFailure(e);
      out.reset();
      for (let i = 0; i < replies; i++) {
        w.begin(undefined, 0);
        w.error(error);
        this.#admin.errors.count(error.code);
      }
    });
  }
}
