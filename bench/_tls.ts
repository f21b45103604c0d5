/**
 * `deno task bench --only tls`: SET and GET at 50 clients over TLS,
 * kvdb's `tls.port` against redis-server's `--tls-port`, the same
 * openssl-made CA and server certificate, no client certificates
 * (`tls-auth-clients no` on both), alternating rounds; medians.
 *
 * @module
 */

import {
  type BenchResult,
  type BenchServer,
  freePort,
  medianResult,
  redisBenchmark,
  startKvdb,
  startRedis,
} from "./_servers.ts";
import { makeServerCerts } from "../tests/_tls_certs.ts";

/** One TLS row: its name and the medians. */
export interface TlsRow {
  name: string;
  kvdb: BenchResult;
  redis: BenchResult;
}

/**
 * Runs the TLS rows, `rounds` alternating rounds of `requests` each.
 *
 * @example
 * ```ts
 * const rows = await tlsRows(dir, 5, 200_000);
 * ```
 */
export async function tlsRows(dir: string, rounds: number, requests: number): Promise<TlsRow[]> {
  const certDir = `${dir}/tls`;
  await Deno.mkdir(certDir, { recursive: true });
  const files = await makeServerCerts(certDir);
  const kvdbTlsPort = freePort();
  const kvdb = await startKvdb(dir, {
    tls: { port: kvdbTlsPort, cert_file: files.cert, key_file: files.key, ca_cert_file: files.ca },
  });
  const redisTlsPort = freePort();
  const redis = await startRedis(dir, [
    "--tls-port",
    String(redisTlsPort),
    "--tls-cert-file",
    files.cert,
    "--tls-key-file",
    files.key,
    "--tls-ca-cert-file",
    files.ca,
    "--tls-auth-clients",
    "no",
  ]);
  const tlsPort = new Map<BenchServer, number>([[kvdb, kvdbTlsPort], [redis, redisTlsPort]]);
  const extraArgs = ["--tls", "--cacert", files.ca];
  const rows: TlsRow[] = [];
  try {
    for (const server of [kvdb, redis]) {
      for (const test of ["set", "get"] as const) {
        await redisBenchmark(server, test, {
          requests: requests / 4,
          clients: 50,
          pipeline: 1,
          port: tlsPort.get(server),
          extraArgs,
        });
      }
    }
    for (const test of ["set", "get"] as const) {
      const results: Record<string, BenchResult[]> = { kvdb: [], redis: [] };
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? [kvdb, redis] : [redis, kvdb];
        for (const server of order) {
          results[server.name].push(
            await redisBenchmark(server, test, {
              requests,
              clients: 50,
              pipeline: 1,
              port: tlsPort.get(server),
              extraArgs,
            }),
          );
        }
      }
      rows.push({
        name: `${test.toUpperCase()}, 50 clients, TLS`,
        kvdb: medianResult(results.kvdb),
        redis: medianResult(results.redis),
      });
    }
  } finally {
    await kvdb.stop();
    await redis.stop();
  }
  return rows;
}
