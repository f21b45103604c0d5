/**
 * The certificate, key and CA a TLS listener or a TLS replica uses, read
 * from their files and checked before use: a missing, unreadable or
 * invalid file, or a key that is not the certificate's, is refused with a
 * message naming the file (kvdb then refuses to start, or CONFIG SET
 * refuses the value and changes nothing).
 *
 * @example
 * ```ts
 * const material = readTlsMaterial({ certFile: "tls/server.crt", keyFile: "tls/server.key", caCertFile: "tls/ca.crt" });
 * ```
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";

/** PEM texts, as `Deno.listenTls`/`Deno.connectTls` and `node:tls` take them. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** The CA's certificate(s); undefined when no CA file is set. */
  ca: string | undefined;
}

/** Which files to read ("" for a file not set). */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  caCertFile: string;
}

/** A TLS file that cannot be used, with the key naming it. */
export class TlsFileError extends Error {}

/** Largest certificate, key or CA file read (a CA bundle included). */
export const MAX_TLS_FILE_BYTES = 1024 * 1024;

function readPem(what: string, path: string): string {
  let text: string;
  try {
    const info = Deno.statSync(path);
    if (info.size > MAX_TLS_FILE_BYTES) {
      throw new Error(`larger than ${MAX_TLS_FILE_BYTES} bytes`);
    }
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new TlsFileError(
      `${what} ${JSON.stringify(path)}: cannot read: ${e instanceof Error ? e.message : e}`,
    );
  }
  return text;
}

function parseCertificates(what: string, path: string, text: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (blocks === null) {
    throw new TlsFileError(`${what} ${JSON.stringify(path)}: no PEM certificate in it`);
  }
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (e) {
      throw new TlsFileError(
        `${what} ${JSON.stringify(path)}: not a valid certificate: ${
          e instanceof Error ? e.message : e
        }`,
      );
    }
  });
}

function parseKey(path: string, key: string) {
  try {
    return createPrivateKey(key);
  } catch (e) {
    throw new TlsFileError(
      `tls.key_file ${JSON.stringify(path)}: not a valid private key: ${
        e instanceof Error ? e.message : e
      }`,
    );
  }
}

/**
 * Checks one file alone, by its key (`tls.cert_file`, `tls.key_file`,
 * `tls.ca_cert_file`): readable, and a certificate or a key as its key
 * says. An empty path passes (not set).
 *
 * @example
 * ```ts
 * checkTlsFile("tls.cert_file", "tls/server.crt");
 * ```
 */
export function checkTlsFile(key: string, path: string): void {
  if (path === "") return;
  const text = readPem(key, path);
  if (key === "tls.key_file") parseKey(path, text);
  else parseCertificates(key, path, text);
}

/**
 * Reads and checks the files: the certificate and key must both be set
 * and match; the CA file is optional (required by the callers that verify
 * a peer).
 *
 * @example
 * ```ts
 * readTlsMaterial({ certFile: "s.crt", keyFile: "s.key", caCertFile: "" }).ca; // undefined
 * ```
 */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  if (files.certFile === "") throw new TlsFileError("tls.cert_file (tls-cert-file) is not set");
  if (files.keyFile === "") throw new TlsFileError("tls.key_file (tls-key-file) is not set");
  const cert = readPem("tls.cert_file", files.certFile);
  const [leaf] = parseCertificates("tls.cert_file", files.certFile, cert);
  const key = readPem("tls.key_file", files.keyFile);
  const privateKey = parseKey(files.keyFile, key);
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsFileError(
      `tls.key_file ${JSON.stringify(files.keyFile)} is not the key of tls.cert_file ${
        JSON.stringify(files.certFile)
      }`,
    );
  }
  let ca: string | undefined;
  if (files.caCertFile !== "") {
    ca = readPem("tls.ca_cert_file", files.caCertFile);
    parseCertificates("tls.ca_cert_file", files.caCertFile, ca);
  }
  return { cert, key, ca };
}

/**
 * Reads and checks the CA file alone (a TLS replica verifying its master).
 *
 * @example
 * ```ts
 * const ca = readCaCertificates("tls/ca.crt");
 * ```
 */
export function readCaCertificates(caCertFile: string): string {
  if (caCertFile === "") {
    throw new TlsFileError("tls.ca_cert_file (tls-ca-cert-file) is not set");
  }
  const ca = readPem("tls.ca_cert_file", caCertFile);
  parseCertificates("tls.ca_cert_file", caCertFile, ca);
  return ca;
}
