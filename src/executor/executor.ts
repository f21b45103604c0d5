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
import type {
  CommandContext,
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
  readOnlyReplica,
  unknownCommand,
  writeFailed,
  writeOutcomeUnknown,
  wrongArity,
} from "./errors.ts";
import { WalOutcomeUnknownError } from "../wal/errors.ts";
import { standaloneServerState } from "./standalone_state.ts";

/**
 * The text protocol names the command in its errors (RESP keeps Redis's
 * exact words): `ERROR: syntax error ('set' command)`.
 */
function namingCommand(error: CommandError, lower: string): CommandError {
  if (error.text.includes(`'${lower}'`)) return error;
  return new CommandError(error.code, error.message, `${error.text} ('${lower}' command)`);
}

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
  readonly #readOnly: boolean;
  readonly #server: ServerState;
  readonly #byName = new Map<string, CommandSpec>();
  readonly #ctx: CommandContext;
  /** Scratch for {@link prefetch}. */
  readonly #prefetchKeys: string[] = [];

  constructor(readonly store: Store, options: ExecutorOptions) {
    this.#readOnly = options.readOnly;
    this.#server = options.server ?? standaloneServerState(options.readOnly ? "slave" : "master");
    this.#ctx = {
      store,
      session: undefined as unknown as Session,
      server: this.#server,
      stats: this.stats,
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
   * positions) before the requests are executed one by one, so that a
   * pipeline's keyspace cache misses overlap (see `Engine.prefetch`).
   * Only `requests[0, count)` are looked at; those that are not argument
   * lists (decode errors) are skipped.
   */
  prefetch(requests: readonly unknown[], count: number): void {
    const keys = this.#prefetchKeys;
    for (let i = 0; i < count && keys.length < PREFETCH_MAX_KEYS; i++) {
      const request = requests[i];
      if (!Array.isArray(request)) continue;
      const args = request as string[];
      if (args.length < 2) continue;
      const first = this.#lookup(args[0])?.firstKey;
      if (first !== undefined && first > 0 && first < args.length) keys.push(args[first]);
    }
    if (keys.length > 1) this.store.engine.prefetch(keys);
    keys.length = 0;
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

  #execute(args: string[], w: ReplyWriter, session: Session): void | Promise<void> {
    this.stats.commandsProcessed++;
    if (args.length === 0) {
      w.begin(undefined, 0);
      w.error(emptyCommand());
      return;
    }
    let spec = this.#lookup(args[0]);
    if (spec === undefined) {
      w.begin(undefined, args.length);
      w.error(unknownCommand(args[0], args.slice(1)));
      return;
    }
    // A container given a subcommand runs the subcommand's row: its own
    // arity, flags and handler.
    if (spec.subcommands !== undefined && args.length > 1) {
      const sub = spec.subcommands.get(asciiUpper(args[1]));
      if (sub === undefined) {
        w.begin(undefined, args.length);
        w.error(unknownSubcommand(spec.name, args[1]));
        return;
      }
      spec = sub;
    }
    w.begin(spec.text, args.length);
    if (
      spec.arity > 0 ? args.length !== spec.arity : args.length < -spec.arity
    ) {
      w.error(wrongArity(spec.fullName));
      return;
    }
    if (spec.write && this.#readOnly) {
      w.error(readOnlyReplica());
      return;
    }
    if (!spec.loading && this.store.loading) {
      w.error(loadingDataset());
      return;
    }
    // Synchronous handlers share one context; an async one keeps its own.
    const ctx = spec.async ? { ...this.#ctx, session } : this.#ctx;
    ctx.session = session;
    const run = spec.run!; // a container without one needs a subcommand: its arity says so
    try {
      const pending = run(ctx, args, w);
      if (pending !== undefined) {
        const failed = spec;
        return pending.catch((e) => this.#fail(e, failed, w));
      }
    } catch (e) {
      this.#fail(e, spec, w);
    }
  }

  /**
   * A handler threw before it replied: for bad arguments (a CommandError),
   * a log that can no longer write, or a bug. The client gets an error,
   * never a false OK, and the server stays up.
   */
  #fail(e: unknown, spec: CommandSpec, w: ReplyWriter): void {
    const reason = e instanceof Error ? e.message : String(e);
    w.error(
      e instanceof CommandError
        ? namingCommand(e, spec.fullName)
        : e instanceof EntryTooLargeError
        ? new CommandError("ERR", reason, `${reason} ('${spec.fullName}' command)`)
        : spec.write
        ? logFailure(e)
        : internalError(reason),
    );
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
      }
    });
  }
}
