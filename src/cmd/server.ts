/**
 * `kvdb server`: loads the config, opens the store, serves clients until
 * SIGINT or SIGTERM (or another stop signal: see _signals.ts), then shuts
 * down gracefully and exits 0.
 *
 * @example
 * ```ts
 * Deno.exit(await serverMain(["--config", "configs/master.yaml"]));
 * ```
 * @module
 */

import { ConfigError, formatAddress, loadConfigValues } from "../config/config.ts";
import { AdminState } from "../admin/admin_state.ts";
import { loadCpuClock } from "../admin/info.ts";
import { adjustableLogger } from "../admin/adjustable_logger.ts";
import { ReplicationController, replicationLogLayer } from "../replication/controller.ts";
import {
  prepareReplicaDirectory,
  startupRole,
  yamlReplication,
} from "../replication/startup_role.ts";
import { serverState } from "../server/server_state.ts";
import { Snapshotter } from "../snapshot/snapshotter.ts";
import { startActiveExpiry } from "../storage/active_expiry.ts";
import { setAccessClock } from "../storage/key_table.ts";
import { Executor } from "../executor/executor.ts";
import { installMemory } from "../memory/install_memory.ts";
import { clientMemoryTotalBytes } from "../server/clients.ts";
import { noReplicas } from "../executor/errors.ts";
import { createLogger, type LogFields, type Logger } from "../log/logger.ts";
import { WalCorruptError } from "../wal/errors.ts";
import { Server } from "../server/server.ts";
import { openStore } from "../storage/open_store.ts";
import { EXIT_USAGE, parseFlags } from "./_flags.ts";
import { watchSignals } from "./_signals.ts";
import { TlsService } from "../tls/tls_service.ts";
import { readCaCertificates, readTlsMaterial, TlsFileError } from "../tls/tls_material.ts";
import { abandonRunningScript } from "../scripting/script_engine.ts";

/** INFO cpu's clock is loaded this long after the server listens (see info.ts loadCpuClock). */
const CPU_CLOCK_DELAY_MS = 2000;
/** How often the WAL written since the last snapshot is compared with the threshold. */
const SNAPSHOT_CHECK_MS = 100;

/** `path` made absolute (CONFIG REWRITE writes it, INFO shows it), as Redis shows its config file. */
async function absolutePath(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  }
}

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
  const flags = parseFlags(args, { config: { type: "string", short: "c" } }, SERVER_USAGE);
  if (typeof flags === "number") return flags;
  const configPath = flags.values.config as string | undefined;
  let loaded;
  try {
    loaded = await loadConfigValues(configPath);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`kvdb: config error: ${e.message}`);
    return EXIT_USAGE;
  }
  const { config, values } = loaded;
  try {
    // Bad TLS files stop the start as a bad key does, naming the file.
    if (config.tls.port !== 0) readTlsMaterial(config.tls);
    if (config.tls.replication && config.tls.caCertFile !== "") {
      readCaCertificates(config.tls.caCertFile);
    }
  } catch (e) {
    if (!(e instanceof TlsFileError)) throw e;
    console.error(`kvdb: config error: ${configPath ?? "default config"}: ${e.message}`);
    return EXIT_USAGE;
  }
  let log: Logger;
  try {
    // The level can change at run time (CONFIG SET loglevel): the file
    // logger passes everything, the wrapper filters.
    log = adjustableLogger(
      createLogger({ level: "debug", output: config.logging.output }),
      config.logging.level,
    );
  } catch (e) {
    console.error(
      `kvdb: config error: logging.output = ${
        JSON.stringify(config.logging.output)
      }: cannot open: ${e instanceof Error ? e.message : e}`,
    );
    return EXIT_USAGE;
  }

  const stopped = watchSignals(log);

  let opened;
  const yaml = yamlReplication(config);
  let startRole;
  try {
    startRole = await startupRole(config);
    if (startRole.role === "slave") {
      await prepareReplicaDirectory(config.wal.dataDirectory, log);
    }
    opened = await openStore(config, log, {
      wrapLog: config.wal.enabled ? replicationLogLayer() : undefined,
    });
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
  const readOnly = startRole.role === "slave";
  const servers: Server[] = [];
  let running: ReplicationController | undefined;
  const admin = new AdminState({
    config,
    values,
    configPath: configPath === undefined ? undefined : await absolutePath(configPath),
    log,
  });
  // The snapshotter reads these two from its options each time: CONFIG SET
  // changes them in place.
  const snapshotOptions = opened.wal
    ? {
      store: opened.store,
      wal: opened.wal,
      thresholdBytes: config.wal.snapshotThresholdBytes,
      compact: true,
      replid: () => running?.replid ?? "",
      log,
      retainFromLsn: () => running?.master?.retainFromLsn(),
      restored: opened.restored,
      retentionBytes: replication.retentionBytes,
    }
    : undefined;
  const snapshotter = snapshotOptions ? new Snapshotter(snapshotOptions) : undefined;
  if (snapshotOptions) {
    admin.onLiveChange("wal.snapshot_threshold", () => {
      snapshotOptions.thresholdBytes = config.wal.snapshotThresholdBytes;
    });
    admin.onLiveChange("replication.retention_size", () => {
      snapshotOptions.retentionBytes = config.replication.retentionBytes;
    });
  }
  try {
    await snapshotter?.removeLeftovers();
  } catch (e) {
    // A `.snap.tmp` that cannot be removed (a read-only directory): say
    // which and why, and stop, rather than end in a stack trace.
    log.error("cannot remove an unfinished snapshot", {
      dir: config.wal.dataDirectory,
      error: e instanceof Error ? e.message : String(e),
    });
    await opened.close().catch(() => {});
    log.close();
    return 1;
  }
  const state = serverState({
    config,
    servers: () => servers,
    wal: opened.wal,
    replication: () => running,
    snapshotter: () => snapshotter,
    admin,
  });
  const executor = new Executor(opened.store, { readOnly, server: state });
  executor.pubsub.configure(config.pubsub);
  for (
    const key of [
      "notify_keyspace_events",
      "output_buffer_hard_limit",
      "output_buffer_soft_limit",
      "output_buffer_soft_seconds",
    ]
  ) {
    admin.onLiveChange(`pubsub.${key}`, () => executor.pubsub.configure(config.pubsub));
  }
  try {
    if (opened.wal !== undefined) {
      const store = opened.store;
      running = new ReplicationController({
        config,
        store,
        wal: opened.wal,
        log,
        snapshotter,
        yaml,
        applyRole: (role) => {
          executor.readOnly = role === "slave";
          store.expireKeys = role === "master";
        },
        recordRole: (choice) => admin.recordReplication(choice),
        holdData: (held) => {
          executor.holdData = held;
        },
      });
      await running.start(startRole);
      const controller = running;
      const gateWrites = () => {
        const r = config.replication;
        executor.writeGate = r.minReplicasToWrite === 0
          ? undefined
          : () =>
            controller.goodReplicas(r.minReplicasMaxLagMs) < r.minReplicasToWrite
              ? noReplicas()
              : undefined;
      };
      gateWrites();
      admin.onLiveChange("replication.min_replicas_to_write", gateWrites);
      if (startRole.why !== "config") {
        log.info("replication role from the last REPLICAOF (the YAML keys are unchanged since)", {
          role: startRole.role,
          ...(startRole.master ? { master: formatAddress(startRole.master) } : {}),
        });
      }
    }
  } catch (e) {
    log.error("cannot start replication", { error: e instanceof Error ? e.message : String(e) });
    await opened.close().catch(() => {});
    log.close();
    return 1;
  }
  // maxmemory and eviction (src/memory): a replica never evicts.
  const stopMemory = installMemory({
    config,
    admin,
    store: opened.store,
    wal: opened.wal,
    log,
    isMaster: () => !executor.readOnly,
  });
  // Connection buffers count in used_memory (src/clients measures them).
  opened.store.memory.setOverhead("clients", () => clientMemoryTotalBytes(executor));
  const takeovers = running?.takeovers ?? new Map();
  servers.push(new Server({ network: config.network, takeovers }, executor, log));
  const replicationAddress = replication.masterAddress;
  if (
    replication.enabled && replication.replicaType === "master" && running?.role === "master" &&
    formatAddress(replicationAddress) !== formatAddress(config.network.address)
  ) {
    servers.push(
      new Server(
        {
          network: { ...config.network, address: replicationAddress },
          takeovers,
          takeoverOnly: true,
        },
        executor,
        log,
      ),
    );
  }
  const addresses: string[] = [];
  const tls = new TlsService(servers[0], config, log);
  /** What a start that cannot listen undoes before exiting. */
  const stopAfterFailedStart = async () => {
    for (const server of servers) await server.shutdown();
    await running?.stop();
    await opened.close().catch(() => {});
    log.close();
  };
  // network.address's port 0: no plain listener, TLS only (Redis's `port
  // 0`; the config refuses it without a TLS port).
  const plainOff = config.network.address.port === 0;
  try {
    for (const server of servers) {
      addresses.push(server === servers[0] && plainOff ? "none" : server.listen());
    }
  } catch (e) {
    log.error("cannot listen", {
      address: formatAddress(
        servers[addresses.length] === servers[0] ? config.network.address : replicationAddress,
      ),
      error: e instanceof Error ? e.message : String(e),
    });
    await stopAfterFailedStart();
    return 1;
  }
  try {
    await tls.start();
  } catch (e) {
    log.error("cannot listen for TLS clients", {
      port: config.tls.port,
      error: e instanceof Error ? e.message : String(e),
    });
    await stopAfterFailedStart();
    return 1;
  }
  // CONFIG SET tls-*: the parameter table checked the values together
  // (files, port); the listener restarts once with all of them, after the
  // SET applied its last key (a new certificate with its new key), and
  // tls-replication is read at each dial.
  let restartQueued = false;
  const restartTls = () => {
    if (restartQueued) return;
    restartQueued = true;
    queueMicrotask(() => {
      restartQueued = false;
      tls.apply(config.tls);
    });
  };
  const tlsFields: Record<string, keyof typeof config.tls> = {
    "tls.port": "port",
    "tls.cert_file": "certFile",
    "tls.key_file": "keyFile",
    "tls.ca_cert_file": "caCertFile",
    "tls.auth_clients": "authClients",
    "tls.replication": "replication",
  };
  for (const [path, field] of Object.entries(tlsFields)) {
    admin.onLiveChange(path, (value) => {
      (config.tls as Record<string, unknown>)[field] = value;
      if (field !== "replication") restartTls();
    });
  }
  log.info("kvdb server listening", {
    address: addresses[0],
    ...(tls.address ? { tlsAddress: tls.address } : {}),
    ...(addresses[1] ? { replicationAddress: addresses[1] } : {}),
    role: running?.role ?? "master",
    wal: config.wal.enabled,
    replication: replication.enabled,
    partitions: config.engine.partitions,
    pid: Deno.pid,
  });

  // A replica's store expires nothing (store.expireKeys): its master's DELs do.
  const stopExpiry = startActiveExpiry(opened.store, log);
  const snapshotTimer = setInterval(() => {
    // The clock keys are stamped with as they are used (OBJECT IDLETIME, LRU).
    setAccessClock(Date.now());
    snapshotter?.maybeStart();
  }, SNAPSHOT_CHECK_MS);
  admin.startSampling(() => executor.stats.commandsProcessed);
  const cpuClockTimer = setTimeout(() => loadCpuClock().catch(() => {}), CPU_CLOCK_DELAY_MS);
  let requestStop: (reason: string) => void = () => {};
  const shutdownCommand = new Promise<string>((resolve) => requestStop = resolve);
  admin.shutdownHandler = async (request) => {
    if (request.save === "save") {
      if (snapshotter === undefined) {
        if (!request.force) return "SHUTDOWN SAVE needs a snapshot, and snapshots need the WAL";
      } else {
        admin.shutdownPending = true;
        try {
          await snapshotter.saveNow();
        } catch (e) {
          const reason = `the snapshot failed: ${e instanceof Error ? e.message : e}`;
          if (!request.force) {
            admin.shutdownPending = false;
            return reason;
          }
          log.warn("SHUTDOWN FORCE: stopping although the snapshot failed", { error: reason });
        }
        if (!admin.shutdownPending) return "aborted by SHUTDOWN ABORT";
      }
    }
    admin.shutdownPending = true;
    requestStop("SHUTDOWN");
    return undefined;
  };

  const signal = await Promise.race([stopped, shutdownCommand]);
  log.info("shutting down", { signal });
  // A script past busy-reply-threshold is not waited for (Redis exits at
  // once): its unacknowledged writes are left out of the log.
  if (abandonRunningScript(opened.store)) log.warn("shutdown stopped a running script");
  admin.stopSampling();
  clearTimeout(cpuClockTimer);
  stopExpiry();
  stopMemory();
  clearInterval(snapshotTimer);
  await running?.stop();
  await tls.stop();
  for (const server of servers) await server.shutdown();
  await snapshotter?.settle();
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
