/**
 * `kvdb server`: loads the config, opens the store, serves clients until
 * SIGINT or SIGTERM, then shuts down gracefully and exits 0.
 *
 * @example
 * ```ts
 * Deno.exit(await serverMain(["--config", "configs/master.yaml"]));
 * ```
 * @module
 */

import { ConfigError, loadConfig } from "../config/config.ts";
import { Executor } from "../executor/executor.ts";
import { createLogger, type LogFields, type Logger } from "../log/logger.ts";
import { WalCorruptError } from "../wal/errors.ts";
import { Server } from "../server/server.ts";
import { openStore } from "../storage/open_store.ts";
import { EXIT_USAGE, parseFlags } from "./_flags.ts";

/** Usage of `kvdb server`. */
export const SERVER_USAGE = `usage: kvdb server [--config FILE]

Runs the kvdb server. Without --config it uses the embedded defaults
(127.0.0.1:3223, WAL and replication off).

  -c, --config FILE   YAML config file (see README: Configuration)
  -h, --help          show this help`;

/**
 * Runs the server; resolves to the process exit code.
 *
 * @example
 * ```ts
 * const code = await serverMain([]);
 * ```
 */
export async function serverMain(args: string[]): Promise<number> {
  const parsed = parseFlags(
    args,
    { config: { type: "string", short: "c" } },
    SERVER_USAGE,
  );
  if (typeof parsed === "number") return parsed;
  let config;
  let log: Logger;
  try {
    config = await loadConfig(parsed.values.config as string | undefined);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`kvdb: config error: ${e.message}`);
    return EXIT_USAGE;
  }
  try {
    log = createLogger(config.logging);
  } catch (e) {
    console.error(
      `kvdb: config error: logging.output = ${
        JSON.stringify(config.logging.output)
      }: cannot open: ${e instanceof Error ? e.message : e}`,
    );
    return EXIT_USAGE;
  }

  const stopped = new Promise<string>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, () => resolve(signal));
    }
  });

  let opened;
  try {
    opened = await openStore(config, log);
  } catch (e) {
    const fields: LogFields = { error: e instanceof Error ? e.message : String(e) };
    if (e instanceof WalCorruptError) {
      fields.hint = `inspect with 'kvdb wal check --dir ${config.wal.dataDirectory}', ` +
        `cut the log at the damage with 'kvdb wal repair --dir ${config.wal.dataDirectory}'`;
    }
    log.error("cannot open the store", fields);
    log.close();
    return 1;
  }
  const { replication } = config;
  const readOnly = replication.enabled && replication.replicaType === "slave";
  const executor = new Executor(opened.store, { readOnly });
  const server = new Server(config.network, executor, log);
  let address: string;
  try {
    address = server.listen();
  } catch (e) {
    log.error("cannot listen", {
      address: `${config.network.address.hostname}:${config.network.address.port}`,
      error: e instanceof Error ? e.message : String(e),
    });
    await opened.close();
    log.close();
    return 1;
  }
  log.info("kvdb server listening", {
    address,
    role: readOnly ? "slave" : "master",
    wal: config.wal.enabled,
    partitions: config.engine.partitions,
    pid: Deno.pid,
  });

  const signal = await stopped;
  log.info("shutting down", { signal });
  await server.shutdown();
  try {
    await opened.close();
  } catch (e) {
    log.error("the WAL could not flush on shutdown: writes not acknowledged may be lost", {
      error: e instanceof Error ? e.message : String(e),
    });
    log.close();
    return 1;
  }
  log.info("kvdb server stopped");
  log.close();
  return 0;
}
