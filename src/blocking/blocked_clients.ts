/**
 * Clients blocked on keys (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP,
 * BZPOPMIN, BZPOPMAX, BZMPOP), served as Redis 7.0's `blocked.c` serves
 * them:
 *
 * - Each (database, key) has its waiters in the order they blocked; a
 *   client waiting on several keys is in each key's queue once.
 * - A key becomes *ready* when it comes into existence while clients wait
 *   on it (Redis signals it from `dbAdd`): the store tells every key change
 *   to {@link BlockedClients.touch} (the `KeyChangeListener` WATCH also
 *   uses), which notes the change from absent to present. Nothing is served
 *   there, in the middle of a command.
 * - After each command — after EXEC, for the commands of a transaction —
 *   the executor calls {@link BlockedClients.serveReady}: each ready key,
 *   in the order it became ready, serves its waiters of the type it now
 *   holds (a list serves BLPOP's waiters, a sorted set BZPOPMIN's), the
 *   first blocked first, until it is emptied. The rest stay blocked — also
 *   a waiter whose key now holds another type, as in Redis 7.0. A client
 *   waiting on several keys is served by the first of them to be ready.
 *   A served pop is logged like any write (its own group), and a push it
 *   makes (BLMOVE) can make another key ready: served in the same loop.
 * - A waiter leaves its queues when served, at its timeout, by CLIENT
 *   UNBLOCK, when its connection closes, or when the server turns replica.
 *
 * With nobody blocked the store's writes pay nothing for this (the
 * registry joins the store's key-change listener only while a client is
 * blocked) and the executor one counter test per command (`readyCount`).
 *
 * @example
 * ```ts
 * const blocked = blockedClients(store);
 * const outcome = await blocked.block(ctx, {
 *   keys: ["queue"], type: "list", timeoutMs: 0,
 *   serve: (ctx, key) => { const v = popList(ctx, key, true, 1)!; return (w) => w.bulk(v[0]); },
 * });
 * ```
 * @module
 */

import { StringMap } from "../types/string_map.ts";
import type { CommandContext } from "../executor/command_spec.ts";
import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import type { KeyChangeListener, Store } from "../storage/store.ts";
import { Collection } from "../types/collection.ts";
import { assert } from "../_assert.ts";
import { BothListeners } from "./key_listeners.ts";

/**
 * Longest delay one timer is set for (setTimeout's limit, 2^31 - 1 ms);
 * a longer timeout sets another when it fires.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Serves a waiter from `key`, which holds a non-empty value of the
 * waiter's type: pops (and logs) what the command takes, and returns how
 * to reply. Runs with the waiter's own context (its session, its
 * database). May throw (WRONGTYPE for BLMOVE's destination): the client is
 * then answered with the error, and nothing was popped. Returns undefined
 * when it has nothing for this waiter (a stream whose new entries are not
 * past the waiter's ID): the waiter waits on, and nothing was logged.
 */
export type ServeWaiter = (
  ctx: CommandContext,
  key: string,
) => ((w: ReplyWriter) => void) | undefined;

/** What a blocking command waits for. */
export interface BlockRequest {
  /** The keys, in the command's order (a repeated key counts once). */
  readonly keys: readonly string[];
  /** The type that serves it, as TYPE names it: "list", "zset" or "stream". */
  readonly type: string;
  /**
   * Served at every change of its keys, whatever they hold then (XREADGROUP:
   * a deleted key or group is an error), not only when a key appears.
   */
  readonly everyChange?: boolean;
  /** How long it waits: ms, 0 for ever. */
  readonly timeoutMs: number;
  readonly serve: ServeWaiter;
}

/** How a wait ended. */
export type BlockOutcome =
  | { readonly kind: "served"; readonly reply: (w: ReplyWriter) => void }
  /** The timeout passed, or CLIENT UNBLOCK ... TIMEOUT: Redis's nil reply. */
  | { readonly kind: "timeout" }
  /** Answer this error (CLIENT UNBLOCK ... ERROR, a role change, a failed serve). */
  | { readonly kind: "error"; readonly error: unknown }
  /** The connection closed: nobody to answer. */
  | { readonly kind: "dropped" };

const TIMED_OUT: BlockOutcome = { kind: "timeout" };
const DROPPED: BlockOutcome = { kind: "dropped" };

/** CLIENT UNBLOCK ... ERROR's error for the unblocked client. */
function unblockedByClient(): CommandError {
  const message = "client unblocked via CLIENT UNBLOCK";
  return new CommandError("UNBLOCKED", message, message);
}

/** The error blocked clients get when the server turns replica (then they are closed). */
function unblockedByRole(): CommandError {
  const message = "force unblock from blocking operation, instance state changed " +
    "(master -> replica?)";
  return new CommandError("UNBLOCKED", message, message);
}

/** One client's place in one key's queue. */
interface QueueNode {
  readonly waiter: Waiter;
  readonly queue: KeyQueue;
  prev: QueueNode | undefined;
  next: QueueNode | undefined;
  removed: boolean;
}

/** The waiters of one key of one database, first blocked first. */
class KeyQueue {
  head: QueueNode | undefined = undefined;
  tail: QueueNode | undefined = undefined;
  size = 0;
  /** In the ready list, not yet served. */
  ready = false;
  /** Waiters whose request wants {@link BlockRequest.everyChange}. */
  everyChange = 0;

  constructor(
    readonly db: number,
    readonly key: string,
    /** Whether the key was in the keyspace at its last change seen. */
    public present: boolean,
  ) {}

  append(waiter: Waiter): QueueNode {
    const node: QueueNode = {
      waiter,
      queue: this,
      prev: this.tail,
      next: undefined,
      removed: false,
    };
    if (this.tail === undefined) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.size++;
    if (waiter.request.everyChange === true) this.everyChange++;
    return node;
  }

  unlink(node: QueueNode): void {
    if (node.prev === undefined) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.removed = true;
    this.size--;
    if (node.waiter.request.everyChange === true) this.everyChange--;
  }
}

/** One blocked client. */
class Waiter {
  readonly nodes: QueueNode[] = [];
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  deadlineMs = 0;
  resolve: (outcome: BlockOutcome) => void = () => {};

  constructor(readonly ctx: CommandContext, readonly request: BlockRequest) {}
}

/**
 * The blocked clients of one store.
 *
 * @example
 * ```ts
 * const blocked = blockedClients(store);
 * blocked.count; // INFO's blocked_clients
 * ```
 */
export class BlockedClients implements KeyChangeListener {
  readonly #store: Store;
  /** Queues by database, then key. */
  /**
   * Queues by database and key. A {@link StringMap}, not a Map: every write
   * asks it for its key while anyone is blocked, and a Map lookup
   * internalizes the request's key string in V8 15 (~250 ns, and a string
   * table that grows): one client blocked in BLPOP took pipelined SET from
   * ~600k to ~365k/s.
   */
  readonly #queues = new Map<number, StringMap<KeyQueue>>();
  /** Waiters by client id. */
  readonly #waiters = new Map<number, Waiter>();
  /** Keys ready since the last serve, in the order they became ready. */
  #ready: KeyQueue[] = [];
  #withTimeout = 0;
  #serving = false;
  /** The store's own listener (WATCH's) while this one is joined to it. */
  #joined: KeyChangeListener | undefined = undefined;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Clients blocked (INFO's `blocked_clients`); 0 lets the store skip {@link touch}. */
  get size(): number {
    return this.#waiters.size;
  }

  /** Clients blocked (INFO's `blocked_clients`). */
  get count(): number {
    return this.#waiters.size;
  }

  /** Blocked clients with a timeout (INFO's `clients_in_timeout_table`). */
  get withTimeout(): number {
    return this.#withTimeout;
  }

  /** Keys ready and not yet served: the executor serves them when not 0. */
  get readyCount(): number {
    return this.#ready.length;
  }

  /** Whether client `id` is blocked (CLIENT LIST's flag `b`). */
  isBlocked(id: number): boolean {
    return this.#waiters.has(id);
  }

  /**
   * Blocks `ctx`'s client on `request.keys` (all absent now, or the command
   * would have served itself). Resolves when the wait ends. `ctx` must be
   * the command's own (a copy: the executor's changes with the next
   * command).
   */
  block(ctx: CommandContext, request: BlockRequest): Promise<BlockOutcome> {
    const id = ctx.session.id;
    assert(!this.#waiters.has(id), "a client blocks on one command at a time");
    const waiter = new Waiter(ctx, request);
    const promise = new Promise<BlockOutcome>((resolve) => waiter.resolve = resolve);
    const db = ctx.db.index;
    let keys = this.#queues.get(db);
    if (keys === undefined) this.#queues.set(db, keys = new StringMap());
    for (const key of request.keys) {
      let queue = keys.get(key);
      if (queue === undefined) keys.set(key, queue = new KeyQueue(db, key, ctx.db.exists(key)));
      else if (waiter.nodes.some((node) => node.queue === queue)) continue;
      waiter.nodes.push(queue.append(waiter));
    }
    if (this.#waiters.size === 0) this.#join();
    this.#waiters.set(id, waiter);
    if (request.timeoutMs > 0) {
      waiter.deadlineMs = Date.now() + request.timeoutMs;
      this.#withTimeout++;
      this.#arm(waiter);
    }
    return promise;
  }

  /**
   * CLIENT UNBLOCK: ends client `id`'s wait as a timeout (the nil reply)
   * or with Redis's `-UNBLOCKED` error. False if it is not blocked.
   */
  unblock(id: number, asError: boolean): boolean {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined) return false;
    this.#finish(waiter, asError ? { kind: "error", error: unblockedByClient() } : TIMED_OUT);
    return true;
  }

  /** Client `id`'s connection closed: its wait ends without a reply. */
  drop(id: number): void {
    const waiter = this.#waiters.get(id);
    if (waiter !== undefined) this.#finish(waiter, DROPPED);
  }

  /**
   * The server turns replica: every blocked client gets Redis's
   * `-UNBLOCKED ... (master -> replica?)` and is closed after it (Redis's
   * `disconnectAllBlockedClients`), since its keys now follow a master.
   */
  unblockAllForRoleChange(): void {
    for (const waiter of [...this.#waiters.values()]) {
      waiter.ctx.session.closeAfterReply = true;
      this.#finish(waiter, { kind: "error", error: unblockedByRole() });
    }
  }

  /** See {@link KeyChangeListener.touch}: a key that comes into existence is ready. */
  touch(db: number, key: string, exists: () => boolean): void {
    const queue = this.#queues.get(db)?.get(key);
    if (queue === undefined) return;
    const present = exists();
    if ((present && !queue.present) || queue.everyChange > 0) this.#signal(queue);
    queue.present = present;
  }

  /**
   * Marks `key` of database `db` ready although it existed before: a
   * stream that got an entry (Redis's `signalKeyAsReady` from XADD), or
   * that lost its key or group (XREADGROUP's waiters then get an error).
   */
  signalKey(db: number, key: string): void {
    const queue = this.#queues.get(db)?.get(key);
    if (queue !== undefined) this.#signal(queue);
  }

  /**
   * See {@link KeyChangeListener.flushed}: FLUSHDB, FLUSHALL and SWAPDB.
   * After SWAPDB any waited key may hold a value: each is looked at by the
   * next serve (Redis's `scanDatabaseForReadyKeys`).
   */
  flushed(db: number): void {
    const keys = this.#queues.get(db);
    if (keys === undefined) return;
    for (let at = 0; at < keys.positions; at++) {
      const queue = keys.valueAt(at);
      if (queue === undefined) continue;
      queue.present = false;
      this.#signal(queue);
    }
  }

  /**
   * Serves the clients blocked on the keys that became ready (Redis's
   * `handleClientsBlockedOnKeys`), keys that the serving makes ready
   * included. Never throws: a client whose serve fails gets the error.
   */
  serveReady(): void {
    if (this.#serving || this.#store.loading) return;
    this.#serving = true;
    try {
      while (this.#ready.length > 0) {
        const ready = this.#ready;
        this.#ready = [];
        for (const queue of ready) {
          // Ready again from here on: a serve that re-creates the key signals it anew.
          queue.ready = false;
          if (queue.size > 0) this.#serveKey(queue);
        }
      }
    } finally {
      this.#serving = false;
    }
  }

  #signal(queue: KeyQueue): void {
    if (queue.ready) return;
    queue.ready = true;
    this.#ready.push(queue);
  }

  /**
   * Serves `queue`'s waiters of the type its key holds (and those served
   * at every change), in order, while it holds one.
   */
  #serveKey(queue: KeyQueue): void {
    const db = this.#store.database(queue.db);
    const value = db.value(queue.key);
    if (!(value instanceof Collection) && queue.everyChange === 0) return;
    const type = value instanceof Collection ? value.typeName : "";
    let node = queue.head;
    while (node !== undefined) {
      const waiter = node.waiter;
      let next = node.next;
      if (waiter.request.type === type || waiter.request.everyChange === true) {
        this.#serve(waiter, queue.key);
        // Emptied (and so deleted) by that pop: the rest wait on.
        if (value !== undefined && db.peek(queue.key) === undefined) return;
        // A serve ends only its own wait; should another's have ended, start over.
        if (next?.removed === true) next = queue.head;
      }
      node = next;
    }
  }

  /** Serves one waiter from `key` in a log group of its own, unless it has nothing for it. */
  #serve(waiter: Waiter, key: string): void {
    let outcome: BlockOutcome;
    this.#store.beginGroup();
    try {
      const reply = waiter.request.serve(waiter.ctx, key);
      if (reply === undefined) return;
      outcome = { kind: "served", reply };
    } catch (error) {
      outcome = { kind: "error", error };
    } finally {
      this.#store.endGroup();
    }
    this.#remove(waiter);
    waiter.resolve(outcome);
  }

  #finish(waiter: Waiter, outcome: BlockOutcome): void {
    this.#remove(waiter);
    waiter.resolve(outcome);
  }

  /** Takes `waiter` off its queues and timer. */
  #remove(waiter: Waiter): void {
    if (this.#waiters.get(waiter.ctx.session.id) !== waiter) return;
    this.#waiters.delete(waiter.ctx.session.id);
    if (this.#waiters.size === 0) this.#leave();
    for (const node of waiter.nodes) {
      const queue = node.queue;
      queue.unlink(node);
      if (queue.size === 0) {
        const keys = this.#queues.get(queue.db)!;
        keys.delete(queue.key);
        if (keys.size === 0) this.#queues.delete(queue.db);
      }
    }
    if (waiter.deadlineMs !== 0) {
      clearTimeout(waiter.timer);
      this.#withTimeout--;
    }
  }

  /**
   * Joins the store's key-change listener (the first client blocks): the
   * store tells both WATCH's and this registry of every change from now.
   */
  #join(): void {
    const own = this.#store.keyChanges;
    if (own === this) return;
    this.#joined = own;
    this.#store.keyChanges = own === undefined ? this : new BothListeners(own, this);
  }

  /** Gives the store its own listener back (the last client left). */
  #leave(): void {
    this.#store.keyChanges = this.#joined;
    this.#joined = undefined;
  }

  #arm(waiter: Waiter): void {
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(0, waiter.deadlineMs - Date.now()));
    waiter.timer = setTimeout(() => {
      if (Date.now() < waiter.deadlineMs) this.#arm(waiter);
      else this.#finish(waiter, TIMED_OUT);
    }, delayMs);
  }
}

const REGISTRIES = new WeakMap<Store, BlockedClients>();

/**
 * The blocked clients of `store` (made on first use): one registry per
 * store, shared by its executor and the blocking commands.
 *
 * @example
 * ```ts
 * blockedClients(ctx.store).isBlocked(ctx.session.id); // false while it runs
 * ```
 */
export function blockedClients(store: Store): BlockedClients {
  let registry = REGISTRIES.get(store);
  if (registry === undefined) REGISTRIES.set(store, registry = new BlockedClients(store));
  return registry;
}
