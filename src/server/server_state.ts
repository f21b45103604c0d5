/**
 * What INFO, ROLE and CONFIG GET report about a running server: its
 * listeners' connections, its WAL, its replication, its config. One place
 * gathers them so the executor stays ignorant of the server's parts.
 *
 * @example
 * ```ts
 * const state = serverState({ config, role: "master", servers: () => servers, wal, replication });
 * const executor = new Executor(store, { readOnly: false, server: state });
 * ```
 * @module
 */

import type { Config } from "../config/config.ts";
import type { AdminState } from "../admin/admin_state.ts";
import type { InfoFields, ServerState } from "../executor/command_spec.ts";
import { REDIS_COMPATIBLE_VERSION } from "../executor/commands/server.ts";
import type { ReplicationController } from "../replication/controller.ts";
import {
  replicationInfo,
  type ReplicationView,
  replyRole,
} from "../replication/replication_info.ts";
import type { Snapshotter } from "../snapshot/snapshotter.ts";
import type { Wal } from "../wal/wal.ts";
import type { Server } from "./server.ts";

/** kvdb's own version, reported by INFO. */
export const KVDB_VERSION = "0.1.0";

/** The parts a server's state is read from (looked up when asked). */
export interface ServerParts {
  config: Config;
  /** The client listener first. */
  servers: () => readonly Server[];
  wal: Wal | undefined;
  /** Undefined without the WAL. */
  replication: () => ReplicationController | undefined;
  snapshotter: () => Snapshotter | undefined;
  /** Configuration and statistics (src/admin). */
  admin: AdminState;
}

/** A server without the WAL: a master with no history and no replicas. */
function standaloneView(durableLsn: number): ReplicationView {
  return {
    role: "master",
    masterHost: "",
    masterPort: 0,
    slave: undefined,
    replicas: [],
    replid: "",
    replid2: "",
    secondLsn: -1,
    durableLsn,
    priority: 100,
    backlogFirstLsn: undefined,
    backlogBytes: 0,
    nowMs: Date.now(),
  };
}

/**
 * A running server's {@link ServerState}.
 *
 * @example
 * ```ts
 * serverState(parts).info("persistence");
 * ```
 */
export function serverState(parts: ServerParts): ServerState {
  const startedMs = Date.now();
  const { config } = parts;
  const clients = () => parts.servers()[0]?.connectionCount ?? 0;
  const blocked = () => parts.servers()[0]?.clients.executor.blocking;
  const limits = () => parts.servers()[0]?.clients.limits;

  function persistence(): InfoFields {
    const wal = parts.wal;
    if (!wal) {
      // Nothing is saved: Redis's fields as a server that never saved.
      return [
        ["loading", 0],
        ["async_loading", 0],
        ["rdb_changes_since_last_save", 0],
        ["rdb_bgsave_in_progress", 0],
        ["rdb_last_save_time", Math.floor(startedMs / 1000)],
        ["rdb_last_bgsave_status", "ok"],
        ["aof_enabled", 0],
        ["aof_rewrite_in_progress", 0],
        ["aof_last_write_status", "ok"],
        ["wal_enabled", 0],
      ];
    }
    const stats = wal.stats();
    return [
      ["loading", 0],
      ["async_loading", 0],
      ["aof_enabled", 1],
      ["aof_rewrite_in_progress", 0],
      ["aof_last_write_status", wal.failure ? "err" : "ok"],
      ["wal_enabled", 1],
      ["wal_dir", wal.dir],
      ["wal_last_lsn", wal.lastLsn],
      ["wal_durable_lsn", wal.durableLsn],
      ["wal_segments", stats.segments],
      ["wal_bytes_written", stats.bytesWritten],
      ["wal_fsyncs", stats.fsyncs],
      ["wal_last_fsync_ms", stats.lastFsyncMs.toFixed(3)],
      ["wal_max_fsync_ms", stats.maxFsyncMs.toFixed(3)],
      ["wal_failed", wal.failure ? 1 : 0],
      ...(parts.snapshotter()?.info() ?? []),
    ];
  }

  return {
    get role() {
      return parts.replication()?.role ?? "master";
    },
    startedMs,
    connectedClients: clients,
    totalConnections: () => parts.servers().reduce((sum, s) => sum + s.acceptedCount, 0),
    info(section) {
      switch (section) {
        case "server": {
          const nowUsec = Math.floor((performance.timeOrigin + performance.now()) * 1000);
          const uptimeSec = Math.floor((Date.now() - startedMs) / 1000);
          return [
            ["redis_version", REDIS_COMPATIBLE_VERSION],
            ["kvdb_version", KVDB_VERSION],
            ["redis_mode", "standalone"],
            ["os", `${Deno.build.os} ${Deno.build.arch}`],
            ["arch_bits", 64],
            ["process_id", Deno.pid],
            ["process_supervised", "no"],
            ["run_id", parts.admin.runId],
            ["tcp_port", config.network.address.port],
            ["server_time_usec", nowUsec],
            ["uptime_in_seconds", uptimeSec],
            ["uptime_in_days", Math.floor(uptimeSec / 86_400)],
            ["executable", Deno.execPath()],
            ["config_file", parts.admin.configPath ?? ""],
            ["deno_version", Deno.version.deno],
          ];
        }
        case "clients":
          return [
            ["connected_clients", clients()],
            ["cluster_connections", 0],
            ["maxclients", config.network.maxConnections],
            ["client_recent_max_input_buffer", limits()?.recentMaxInputBytes ?? 0],
            ["client_recent_max_output_buffer", limits()?.recentMaxOutputBytes ?? 0],
            ["blocked_clients", blocked()?.count ?? 0],
            ["tracking_clients", 0],
            ["clients_in_timeout_table", blocked()?.withTimeout ?? 0],
          ];
        case "persistence":
          return persistence();
        case "replication": {
          const replication = parts.replication();
          return replication === undefined
            ? replicationInfo(standaloneView(parts.wal?.durableLsn ?? 0))
            : replicationInfo(replication.view());
        }
      }
    },
    replyRole(w) {
      const replication = parts.replication();
      replyRole(replication?.view() ?? standaloneView(0), w);
    },
    snapshots: () => parts.snapshotter(),
    replication: () => parts.replication(),
    admin: parts.admin,
  };
}
