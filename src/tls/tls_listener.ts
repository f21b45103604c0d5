/**
 * TLS listeners that hand out `Deno.Conn`s, so the server's one accept
 * loop and connection loop serve TLS clients as they serve plain ones.
 *
 * Two backends, chosen by whether client certificates are asked for
 * (measured: README "TLS"):
 * - `Deno.listenTls` (rustls in Deno's core): the fast one, but it has no
 *   option to request or verify a client certificate;
 * - `node:tls` `createServer({ requestCert, rejectUnauthorized, ca })`,
 *   which does verify client certificates against the CA; its sockets are
 *   wrapped as `Deno.Conn` ({@link NodeTlsConn}). `tls-auth-clients
 *   optional` is `rejectUnauthorized: false`, then a client is refused when
 *   it presented a certificate that did not verify (one without is served).
 *
 * @example
 * ```ts
 * const listener = await listenTls({ hostname: "127.0.0.1", port: 6380 }, material, false);
 * const conn = await listener.accept();
 * ```
 * @module
 */

import * as tls from "node:tls";
import type { Address } from "../config/config.ts";
import type { TlsMaterial } from "./tls_material.ts";
import { NodeTlsConn } from "./node_tls_conn.ts";

/** What the server's accept loop needs from a listener. */
export interface Acceptor {
  readonly addr: Deno.NetAddr;
  /** The next connection; rejects with `Deno.errors.BadResource` once closed. */
  accept(): Promise<Deno.Conn>;
  close(): void;
}

/** Accepted `node:tls` connections waiting for `accept()` at most. */
const MAX_PENDING_ACCEPTS = 128;

/**
 * Whether kvdb asks TLS clients for a certificate (`tls.auth_clients`):
 * `true` requires one the CA signed, `"optional"` asks, `false` does not.
 *
 * @example
 * ```ts
 * const mode: AuthClients = config.tls.authClients; // "optional"
 * ```
 */
export type AuthClients = boolean | "optional";

/**
 * Why a client that completed an `optional` handshake is refused: it
 * presented a certificate the CA did not sign (Redis's OpenSSL fails that
 * handshake; node:tls can only close after it). Undefined: serve it.
 */
function optionalRefusal(socket: tls.TLSSocket): string | undefined {
  if (socket.authorized) return undefined;
  // An empty object when the client sent no certificate.
  const presented = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
  if (!presented) return undefined;
  return `client certificate refused: ${socket.authorizationError ?? "not verified"}`;
}

/**
 * A `node:tls` server that asks for a client certificate and verifies it
 * against the CA, seen as an {@link Acceptor}.
 */
class NodeTlsAcceptor implements Acceptor {
  readonly addr: Deno.NetAddr;
  readonly #server: tls.Server;
  readonly #pending: NodeTlsConn[] = [];
  #waiter: ((conn: Deno.Conn | undefined) => void) | undefined;
  #closed = false;

  constructor(
    server: tls.Server,
    addr: Deno.NetAddr,
    optional: boolean,
    onRefused: (error: Error) => void,
  ) {
    this.#server = server;
    this.addr = addr;
    server.on("secureConnection", (socket: tls.TLSSocket) => {
      const refusal = optional ? optionalRefusal(socket) : undefined;
      if (refusal !== undefined) {
        // Before any byte it sent is read: nothing is served.
        socket.destroy();
        onRefused(new Error(refusal));
        return;
      }
      const conn = new NodeTlsConn(socket);
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter) waiter(conn as unknown as Deno.Conn);
      else if (this.#pending.length < MAX_PENDING_ACCEPTS) this.#pending.push(conn);
      else socket.destroy();
    });
  }

  accept(): Promise<Deno.Conn> {
    const next = this.#pending.shift();
    if (next) return Promise.resolve(next as unknown as Deno.Conn);
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("listener closed"));
    return new Promise((resolve, reject) => {
      this.#waiter = (conn) =>
        conn ? resolve(conn) : reject(new Deno.errors.BadResource("listener closed"));
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const conn of this.#pending.splice(0)) conn[Symbol.dispose]();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(undefined);
  }
}

/**
 * Listens for TLS clients on `address`. With `authClients` true every
 * client must present a certificate signed by `material.ca`; the handshake
 * of one that does not fails and it never reaches `accept()`. With
 * `"optional"` a client without a certificate is served, one with a
 * certificate the CA did not sign is closed before it is read.
 *
 * @example
 * ```ts
 * const listener = await listenTls(address, material, config.tls.authClients);
 * ```
 */
export async function listenTls(
  address: Address,
  material: TlsMaterial,
  authClients: AuthClients,
  onHandshakeError?: (error: Error) => void,
): Promise<Acceptor> {
  if (authClients === false) {
    const listener = Deno.listenTls({
      hostname: address.hostname,
      port: address.port,
      cert: material.cert,
      key: material.key,
    });
    return listener as unknown as Acceptor;
  }
  if (material.ca === undefined) throw new Error("tls-auth-clients needs tls-ca-cert-file");
  const server = tls.createServer({
    cert: material.cert,
    key: material.key,
    ca: material.ca,
    requestCert: true,
    rejectUnauthorized: authClients === true,
  });
  server.on("tlsClientError", (e: Error) => onHandshakeError?.(e));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as { address: string; port: number };
  return new NodeTlsAcceptor(
    server,
    { transport: "tcp", hostname: bound.address, port: bound.port },
    authClients === "optional",
    (e) => onHandshakeError?.(e),
  );
}
