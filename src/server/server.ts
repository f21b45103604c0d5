/**
 * The TCP server: accepts clients on `network.address`, enforces
 * `max_connections`, `idle_timeout` and `request_timeout`, and shuts down gracefully — stop
 * accepting, let every connection answer what it has read, then return.
 *
 * @example
 * ```ts
 * const server = new Server({ network: config.network }, executor, log);
 * server.listen();
 * await server.shutdown(); // on SIGTERM
 * ```
 * @module
 */

import { type Config, formatAddress } from "../config/config.ts";
import type { Executor } from "../executor/executor.ts";
import type { Logger } from "../log/logger.ts";
import { Connection, type ConnectionServices, type Takeover } from "./connection.ts";
import { ClientRegistry } from "./clients.ts";
import { COMMANDS } from "../executor/commands.ts";
import { lookupRequest } from "../executor/command_table.ts";
import type { Acceptor } from "../tls/tls_listener.ts";

/** What a server listens on and for. */
export interface ServerOptions {
  network: Config["network"];
  /** Requests (upper-case command names) that take a connection over. */
  takeovers?: ReadonlyMap<string, Takeover>;
  /** Serve only the takeover requests (a replication-only listener). */
  takeoverOnly?: boolean;
  /** Name for log lines ("clients", "replication"). */
  name?: string;
}

/** Longest a graceful shutdown waits for connections to finish. */
const SHUTDOWN_GRACE_MS = 10_000;
/** Refused connections waiting at once to show their protocol. */
const MAX_PENDING_REFUSALS = 64;
/** How long a refused connection may take to send its first byte. */
const REFUSAL_WAIT_MS = 200;
/** Pause after a failed accept (e.g. out of file descriptors). */
const ACCEPT_RETRY_MS = 50;
/**
 * Longest time between two sweeps of the connections: how late an idle
 * time (CLIENT LIST's idle, `network.idle_timeout`) may see activity. Ten
 * wake-ups a second, and no clock read per request (see `Connection.activeAt`).
 */
const ACTIVITY_SWEEP_MS = 100;

/**
 * A listening kvdb server.
 *
 * @example
 * ```ts
 * const server = new Server({ network: config.network }, executor, log);
 * const address = server.listen(); // the bound address
 * ```
 */
export class Server {
  readonly #network: Config["network"];
  readonly #log: Logger;
  readonly #services: ConnectionServices;
  readonly #connections = new Set<Connection>();
  readonly #running = new Set<Promise<void>>();
  #listener: Deno.Listener | undefined;
  /** Listeners added beside the plain one (TLS), each with its accept loop. */
  readonly #extra = new Map<Acceptor, Promise<void>>();
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #closing = false;
  #accepted = 0;
  #acceptWarnedMs = 0;
  #pendingRefusals = 0;
  #accepting: Promise<void> | undefined;
  /** Whether this server keeps its clients' limit sweep running. */
  #sweepingLimits = false;

  constructor(options: ServerOptions, executor: Executor, log: Logger) {
    this.#network = options.network;
    this.#log = log;
    const takeovers = options.takeovers ?? new Map();
    this.#services = {
      executor,
      admin: executor.admin,
      log,
      maxMessageBytes: options.network.maxMessageBytes,
      protocolMode: options.network.protocol,
      closing: () => this.#closing,
      takeovers,
      takeoverNameLengths: new Set([...takeovers.keys()].map((name) => name.length)),
      takeoverOnly: options.takeoverOnly ?? false,
      clients: ClientRegistry.of(executor, (args) => lookupRequest(COMMANDS, args)),
    };
  }

  /** The clients of this server's executor (shared by its listeners). */
  get clients(): ClientRegistry {
    return this.#services.clients;
  }

  /** Binds and starts accepting; returns the bound `host:port`. */
  listen(): string {
    const listener = Deno.listen({
      hostname: this.#network.address.hostname,
      port: this.#network.address.port,
    });
    this.#listener = listener;
    const bound = listener.addr as Deno.NetAddr;
    const address = formatAddress({ hostname: bound.hostname, port: bound.port });
    this.#accepting = this.#acceptLoop(listener);
    this.#startSweeping();
    return address;
  }

  /**
   * Serves the connections `acceptor` accepts (a TLS listener) beside the
   * plain listener, with the same executor, limits and clients; returns
   * the function that stops it (connections it accepted stay).
   *
   * @example
   * ```ts
   * const stop = server.serve(await listenTls(address, material, false));
   * await stop(); // CONFIG SET tls-port 0
   * ```
   */
  serve(acceptor: Acceptor): () => Promise<void> {
    this.#extra.set(acceptor, this.#acceptLoop(acceptor));
    this.#startSweeping();
    return async () => {
      const accepting = this.#extra.get(acceptor);
      if (accepting === undefined) return;
      this.#extra.delete(acceptor);
      try {
        acceptor.close();
      } catch {
        // Already closed.
      }
      await accepting;
    };
  }

  #startSweeping(): void {
    if (!this.#sweepingLimits) {
      this.#sweepingLimits = true;
      this.clients.retain();
    }
    if (this.#sweepTimer !== undefined) return;
    const timeouts = [this.#network.idleTimeoutMs, this.#network.requestTimeoutMs]
      .filter((ms) => ms > 0);
    // A tenth of the shortest timeout (closed within 10% of it late), and
    // at most ACTIVITY_SWEEP_MS: the sweep also keeps the connections' idle
    // times (`activeAt`) within that of the truth.
    const sweepMs = Math.min(ACTIVITY_SWEEP_MS, Math.max(10, Math.min(...timeouts) / 10));
    this.#sweepTimer = setInterval(() => this.#sweep(), sweepMs);
  }

  /** Connections being served now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Connections accepted since start (refused ones included). */
  get acceptedCount(): number {
    return this.#accepted;
  }

  /**
   * Stops accepting, closes connections waiting for requests, lets the
   * others answer what they have read, and resolves when all are done.
   */
  async shutdown(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#sweepTimer);
    if (this.#sweepingLimits) {
      this.#sweepingLimits = false;
      this.clients.release();
    }
    try {
      this.#listener?.close();
    } catch {
      // Already closed.
    }
    for (const acceptor of this.#extra.keys()) {
      try {
        acceptor.close();
      } catch {
        // Already closed.
      }
    }
    await this.#accepting;
    await Promise.all(this.#extra.values());
    for (const connection of this.#connections) {
      if (connection.reading || connection.waiting || connection.takenOver) connection.close();
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_GRACE_MS);
    });
    await Promise.race([Promise.all(this.#running), grace]);
    clearTimeout(timer);
    for (const connection of this.#connections) connection.close();
  }

  async #acceptLoop(listener: Acceptor): Promise<void> {
    while (!this.#closing) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (this.#closing || e instanceof Deno.errors.BadResource) return;
        // A TLS client whose handshake failed (wrong CA, not TLS at all).
        if (e instanceof Deno.errors.InvalidData) continue;
        // A peer that reset before accept: its problem, not the server's.
        if (
          e instanceof Deno.errors.NotConnected || e instanceof Deno.errors.ConnectionReset ||
          e instanceof Deno.errors.ConnectionAborted
        ) continue;
        // Out of file descriptors or the like: back off, log once a second.
        const now = Date.now();
        if (now - this.#acceptWarnedMs >= 1000) {
          this.#log.warn("accept failed", { error: String(e) });
          this.#acceptWarnedMs = now;
        }
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      this.#admit(conn);
    }
  }

  #admit(conn: Deno.Conn): void {
    this.#accepted++;
    if (this.#connections.size >= this.#network.maxConnections) {
      this.#refuse(conn);
      return;
    }
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
    const connection = new Connection(conn, this.#services);
    this.#connections.add(connection);
    const running = connection.run().finally(() => {
      this.#connections.delete(connection);
      this.#running.delete(running);
    });
    this.#running.add(running);
  }

  /**
   * Tells an extra connection it is over `max_connections`, in its own
   * protocol when it speaks first (RESP clients get `-ERR ...`), then closes
   * it. At most `MAX_PENDING_REFUSALS` wait for that first byte at once; a
   * flood beyond that gets the text line at once.
   */
  #refuse(conn: Deno.Conn): void {
    const limit = this.#network.maxConnections;
    this.#services.admin.noteLimitClose("network.max_connections", { max: limit });
    const message = `max number of clients reached (network.max_connections = ${limit})`;
    const waitForFirstByte = this.#network.protocol === "auto" &&
      this.#pendingRefusals < MAX_PENDING_REFUSALS;
    this.#pendingRefusals += waitForFirstByte ? 1 : 0;
    (async () => {
      let first = -1;
      if (waitForFirstByte) {
        const byte = new Uint8Array(1);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const n = await Promise.race([
          conn.read(byte).catch(() => null),
          new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), REFUSAL_WAIT_MS)),
        ]);
        clearTimeout(timer);
        if (n === 1) first = byte[0];
      }
      const mode = this.#network.protocol;
      const resp = mode === "resp" || (mode === "auto" && first === 0x2a);
      const line = resp ? `-ERR ${message}\r\n` : `ERROR: ${message}\n`;
      await conn.write(new TextEncoder().encode(line)).catch(() => {});
    })().finally(() => {
      if (waitForFirstByte) this.#pendingRefusals--;
      try {
        conn.close();
      } catch {
        // The peer left first.
      }
    });
  }

  /** Notes each connection's activity, and closes those past a timeout. */
  #sweep(): void {
    const now = Date.now();
    const { idleTimeoutMs, requestTimeoutMs } = this.#network;
    for (const connection of this.#connections) {
      const activeMs = connection.activeAt(now);
      if (connection.takenOver) continue;
      // Subscribers, MONITOR clients and clients whose command waits (a
      // blocked BLPOP) wait for output, not requests: Redis exempts them too.
      if (
        idleTimeoutMs > 0 && activeMs < now - idleTimeoutMs &&
        !connection.client.pubsubClass && !connection.waiting
      ) {
        this.#services.admin.noteLimitClose("network.idle_timeout", { id: connection.client.id });
        connection.closeWithNotice(
          `ERROR: idle timeout: closing connection idle for over ${idleTimeoutMs}ms (network.idle_timeout)`,
        );
      } else if (
        requestTimeoutMs > 0 && connection.reading && connection.requestStartedMs > 0 &&
        connection.requestStartedMs < now - requestTimeoutMs
      ) {
        this.#services.admin.noteLimitClose("network.request_timeout", {
          id: connection.client.id,
        });
        connection.closeWithNotice(
          `ERROR: request timeout: closing connection whose request took over ${requestTimeoutMs}ms to arrive (network.request_timeout)`,
        );
      }
    }
  }
}
