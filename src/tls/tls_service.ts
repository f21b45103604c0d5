/**
 * The server's TLS listener as the running config says: started at start
 * when `tls.port` is set, and started, stopped, moved or re-read (new
 * certificate files, client authentication turned on) when CONFIG SET
 * changes a `tls-*` parameter. A change that cannot be applied (a busy
 * port, a bad certificate file) is refused and the listener already
 * running stays as it was.
 *
 * @example
 * ```ts
 * const tls = new TlsService(server, config, log);
 * await tls.start();
 * await tls.apply({ ...config.tls, port: 6390 }); // CONFIG SET tls-port 6390
 * ```
 * @module
 */

import { type Config, formatAddress } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import type { Server } from "../server/server.ts";
import { type Acceptor, listenTls } from "./tls_listener.ts";
import { readTlsMaterial } from "./tls_material.ts";

/** The settings a TLS listener is made from. */
export type TlsSettings = Config["tls"];

/**
 * Runs the TLS listener of one server.
 *
 * @example
 * ```ts
 * await new TlsService(server, config, log).start();
 * ```
 */
export class TlsService {
  readonly #server: Server;
  readonly #config: Config;
  readonly #log: Logger;
  #stop: (() => Promise<void>) | undefined;
  #address = "";
  /** Changes are applied one after another. */
  #queue: Promise<void> = Promise.resolve();

  constructor(server: Server, config: Config, log: Logger) {
    this.#server = server;
    this.#config = config;
    this.#log = log;
  }

  /** The bound TLS `host:port`, "" when off. */
  get address(): string {
    return this.#address;
  }

  /** Starts the listener the config asks for; throws when it cannot (bad files, busy port). */
  async start(): Promise<void> {
    await this.#listen(this.#config.tls);
  }

  /**
   * Restarts the listener with `settings` (CONFIG SET checked them: see
   * config_parameters.ts checkTls): the old one stops accepting first (its
   * connections stay). A failure now (the port taken in between) is logged.
   */
  apply(settings: TlsSettings): Promise<void> {
    const copy = { ...settings };
    this.#queue = this.#queue.then(async () => {
      await this.#stopListening();
      try {
        await this.#listen(copy);
      } catch (e) {
        this.#log.error("cannot start the TLS listener", {
          port: copy.port,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    });
    return this.#queue;
  }

  /** Stops accepting TLS clients. */
  async stop(): Promise<void> {
    await this.#queue;
    await this.#stopListening();
  }

  async #stopListening(): Promise<void> {
    const stop = this.#stop;
    this.#stop = undefined;
    this.#address = "";
    await stop?.();
  }

  async #listen(settings: TlsSettings): Promise<void> {
    if (settings.port === 0) return;
    const material = readTlsMaterial(settings);
    const acceptor: Acceptor = await listenTls(
      { hostname: this.#config.network.address.hostname, port: settings.port },
      material,
      settings.authClients,
      (e) => this.#log.debug("TLS handshake failed", { error: e.message }),
    );
    this.#stop = this.#server.serve(acceptor);
    this.#address = formatAddress({ hostname: acceptor.addr.hostname, port: acceptor.addr.port });
    this.#log.info("TLS listener started", {
      address: this.#address,
      authClients: settings.authClients,
    });
  }
}
