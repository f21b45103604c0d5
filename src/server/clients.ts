/**
 * The clients of a server: one {@link Client} per connection, in the order
 * they connected, in a {@link ClientRegistry} that CLIENT LIST / KILL,
 * MONITOR, CLIENT PAUSE and INFO read. A client is the registry's view of a
 * connection: its session, its addresses, its subscriptions, and a way to
 * send it output it did not ask for in a reply (pub/sub messages, MONITOR
 * lines) — which the connection sends at its next reply boundary, or at
 * once when it is idle.
 *
 * One registry per executor (both of a master's listeners share it).
 *
 * @example
 * ```ts
 * const clients = ClientRegistry.of(executor);
 * for (const client of clients.all()) console.log(client.id, client.addr);
 * ```
 * @module
 */

import type { Session } from "../executor/command_spec.ts";
import type { Executor } from "../executor/executor.ts";
import type { ReplyWriter } from "../protocol/reply_writer.ts";
import { updateRestricted } from "../pubsub/context.ts";
import { type MessageKind, type PubSub, type Subscriber, Subscriptions } from "../pubsub/pubsub.ts";
import { ClientPause, type CommandLookup } from "./client_pause.ts";
import { repliesHidden } from "./reply_mode.ts";
import { MonitorFeed } from "./monitor.ts";
import { ClientLimits, SWEEP_INTERVAL_MS } from "../clients/client_limits.ts";

/** What a client needs from its connection. */
export interface ClientIo {
  /**
   * A writer for output the client did not ask for in the current reply
   * (a message, a MONITOR line), placed at a reply boundary; undefined
   * once the connection is closed. Call {@link outOfBandDone} after.
   */
  outOfBand(): ReplyWriter | undefined;
  /** Ends out-of-band output: enforces the output limit, and sends it soon. */
  outOfBandDone(): void;
  /**
   * Applies the output limit of the client's class now: the sweep's call,
   * for a client stuck above a soft limit (it adds no output to be checked at).
   */
  checkLimits(nowMs: number): void;
  /** Closes the connection (its run loop ends and removes the client). */
  close(): void;
  /** Whether the connection is closed (by the server or the peer). */
  readonly closed: boolean;
  /** Bytes read and not yet executed (CLIENT LIST's qbuf). */
  readonly queryBytes: number;
  /** Size of the read buffer (qbuf + qbuf-free). */
  readonly readBufferBytes: number;
  /** Output not yet sent, in bytes (omem). */
  readonly outputBytes: number;
  /**
   * When the connection last made progress (a read or a write), Unix ms,
   * as seen at `nowMs`: progress since the last call counts as made at
   * `nowMs`. The server calls it every 100 ms, so the time is at most
   * that late (CLIENT LIST's idle is in whole seconds).
   */
  activeAt(nowMs: number): number;
  /** Taken over by replication: a replica's link (flag S, type replica). */
  readonly takenOver: boolean;
  /** Whether bytes are waiting to be sent (CLIENT LIST's events `rw`). */
  readonly writing: boolean;
  /**
   * The send of the replies before a command that replies later, while it
   * runs: that command's reply is written after it settles.
   */
  readonly sending: Promise<void> | undefined;
}

/**
 * One connected client.
 *
 * @example
 * ```ts
 * client.deliver("message", "news", "hello", undefined);
 * ```
 */
export class Client implements Subscriber {
  readonly subscriptions = new Subscriptions();
  readonly createdMs = Date.now();
  /** MONITOR was run: every command is sent to it as a line. */
  monitor = false;
  /** CLIENT NO-EVICT ON: never closed for `maxmemory-clients`. */
  noEvict = false;
  /** The server is closing it (CLIENT KILL, an output limit, client eviction). */
  killed = false;
  /** Its memory when last measured (src/clients/client_limits.ts). */
  memoryBytes = 0;
  /** MONITOR lines of its own command, sent after its reply ({@link sendDeferred}). */
  deferredLines: string[] = [];

  constructor(
    readonly registry: ClientRegistry,
    readonly session: Session,
    readonly io: ClientIo,
    /** The peer's `ip:port`. */
    readonly addr: string,
    /** The local `ip:port` it connected to. */
    readonly laddr: string,
  ) {}

  /** The client's id (CLIENT ID). */
  get id(): number {
    return this.session.id;
  }

  /** Subject to the pubsub class's output limit and exempt from the idle timeout. */
  get pubsubClass(): boolean {
    return this.session.subscriptions !== 0 || this.monitor;
  }

  /** See {@link Subscriber.deliver}. */
  deliver(kind: MessageKind, channel: string, message: string, pattern: string | undefined): void {
    const w = this.io.outOfBand();
    if (w === undefined) return;
    w.push(pattern === undefined ? 3 : 4);
    w.bulk(kind);
    if (pattern !== undefined) w.bulk(pattern);
    w.bulk(channel);
    w.bulk(message);
    this.io.outOfBandDone();
  }

  /**
   * A (un)subscribe confirmation: `kind`, the channel (nil: none left to
   * unsubscribe from) and the count. Sent as a push, so CLIENT REPLY OFF
   * does not hide it, as in Redis.
   */
  confirm(kind: string, channel: string | undefined, count: number): void {
    const w = this.io.outOfBand();
    if (w === undefined) return;
    w.push(3);
    w.bulk(kind);
    if (channel === undefined) w.nil();
    else w.bulk(channel);
    w.integer(count);
    this.io.outOfBandDone();
  }

  /** Sends the MONITOR lines held until its command's reply was written. */
  sendDeferred(): void {
    const lines = this.deferredLines;
    if (lines.length === 0) return;
    this.deferredLines = [];
    // Redis adds nothing after QUIT's reply; RESET ended the MONITOR; the
    // line is written after the command, so CLIENT REPLY OFF hides its own.
    if (this.session.closeAfterReply || !this.monitor || repliesHidden(this.session)) return;
    for (const line of lines) {
      const w = this.io.outOfBand();
      if (w === undefined) return;
      w.status(line);
      this.io.outOfBandDone();
    }
  }

  /** Records a subscription change in the session (RESP2's restricted mode). */
  subscriptionsChanged(): void {
    this.session.subscriptions = this.subscriptions.total;
    updateRestricted(this.session);
  }
}

const REGISTRIES = new WeakMap<Executor, ClientRegistry>();

/**
 * The memory of every client of `executor`'s listeners (buffers and a
 * fixed overhead each, as CLIENT LIST's tot-mem), measured at most 100 ms
 * ago; 0 when it serves none. What `used_memory` counts for clients.
 *
 * @example
 * ```ts
 * const used = datasetBytes + clientMemoryTotalBytes(executor);
 * ```
 */
export function clientMemoryTotalBytes(executor: Executor): number {
  return REGISTRIES.get(executor)?.limits.totalMemoryBytes ?? 0;
}

/**
 * Every client of an executor's listeners.
 *
 * @example
 * ```ts
 * ClientRegistry.of(executor).size; // connected clients
 * ```
 */
export class ClientRegistry {
  readonly #clients = new Map<number, Client>();
  readonly pubsub: PubSub;
  readonly monitors: MonitorFeed;
  readonly pause: ClientPause;
  /** Output, input and memory limits of these clients (src/clients). */
  readonly limits: ClientLimits;
  /** Clients closed for passing their output limit since start. */
  outputLimitDisconnections = 0;
  /** Clients closed by CLIENT KILL since start. */
  killed = 0;
  /** Listeners serving these clients: the limits' sweep runs while there is one. */
  #listeners = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  /** Every client, as often as it is iterated (an iterator would be used up). */
  readonly #every: Iterable<Client> = { [Symbol.iterator]: () => this.#clients.values() };

  constructor(readonly executor: Executor, readonly lookup: CommandLookup) {
    this.pubsub = executor.pubsub;
    this.monitors = new MonitorFeed(executor);
    this.pause = new ClientPause(executor, lookup);
    this.limits = new ClientLimits(executor.admin, executor.pubsub);
  }

  /** A listener starts serving these clients: the limits' sweep runs. */
  retain(): void {
    if (this.#listeners++ > 0) return;
    this.#sweeper = setInterval(() => this.limits.sweep(this.#every), SWEEP_INTERVAL_MS);
    Deno.unrefTimer(this.#sweeper);
  }

  /** A listener stopped: the sweep stops with the last. */
  release(): void {
    if (this.#listeners === 0 || --this.#listeners > 0) return;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /**
   * Measures `client`'s memory again and applies `maxmemory-clients` (a
   * connection whose buffers grew).
   */
  measure(client: Client): void {
    this.limits.measure(client, this.#every);
  }

  /** The registry of `executor`'s clients (made on first use). */
  static of(executor: Executor, lookup: CommandLookup): ClientRegistry {
    let registry = REGISTRIES.get(executor);
    if (registry === undefined) {
      REGISTRIES.set(executor, registry = new ClientRegistry(executor, lookup));
    }
    return registry;
  }

  /** Registers a new connection's client. */
  add(client: Client): void {
    this.#clients.set(client.id, client);
  }

  /** Forgets a closed connection's client: its subscriptions and MONITOR go with it. */
  remove(client: Client): void {
    if (!this.#clients.delete(client.id)) return;
    this.limits.forget(client);
    this.pubsub.dropAll(client);
    if (client.monitor) this.monitors.remove(client);
  }

  /** The client with id `id`. */
  get(id: number): Client | undefined {
    return this.#clients.get(id);
  }

  /** Every client, oldest first. */
  all(): IterableIterator<Client> {
    return this.#clients.values();
  }

  /** Clients connected. */
  get size(): number {
    return this.#clients.size;
  }

  /** Subscribed clients (INFO clients' pubsub_clients). */
  get pubsubClients(): number {
    let n = 0;
    for (const client of this.#clients.values()) if (client.subscriptions.total > 0) n++;
    return n;
  }
}
