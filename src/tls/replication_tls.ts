/**
 * How a replica dials its master when `tls.replication` is on: over TLS,
 * the master's certificate verified against `tls.ca_cert_file` (and its
 * name, the host dialled, against the certificate), presenting the
 * replica's own certificate and key when both are set (a master with
 * `tls.auth_clients` asks for one). Read at each dial, so CONFIG SET
 * tls-replication and new files take effect at the next connection.
 *
 * @example
 * ```ts
 * const options = replicationTls(config.tls); // undefined: plain TCP
 * ```
 * @module
 */

import type { Config } from "../config/config.ts";
import { readCaCertificates, readTlsMaterial } from "./tls_material.ts";

/** What `Deno.connectTls` gets beside the address. */
export interface ReplicationTlsOptions {
  caCerts: string[];
  cert?: string;
  key?: string;
}

/**
 * The TLS options of a replica's dial, or undefined when replication is
 * plain. Throws (the dial fails, is logged and retried) when a file cannot
 * be used.
 *
 * @example
 * ```ts
 * replicationTls({ ...config.tls, replication: true, caCertFile: "ca.crt" })!.caCerts.length; // 1
 * ```
 */
export function replicationTls(tls: Config["tls"]): ReplicationTlsOptions | undefined {
  if (!tls.replication) return undefined;
  // Deno.connectTls adds its caCerts to the built-in roots: without a CA
  // file the master must have a publicly trusted certificate.
  const caCerts = tls.caCertFile === "" ? [] : [readCaCertificates(tls.caCertFile)];
  if (tls.certFile === "" || tls.keyFile === "") return { caCerts };
  const { cert, key } = readTlsMaterial({ ...tls, caCertFile: "" });
  return { caCerts, cert, key };
}
