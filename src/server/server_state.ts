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
import type { RunningReplication } from "../replication/replication.ts";
import type { Snapshotter } from "../snapshot/snapshotter.ts";
import type { Wal } from "../wal/wal.ts";
import type { Server } from "./server.ts";

/** kvdb's own version, reported by INFO. */
export const KVDB_VERSION = "0.1.0";

/** The parts a server's state is read from (looked up when asked). */
export interface ServerParts {
  config: Config;
  role: "master" | "slave";
  /** The client listener first. */
  servers: () => readonly Server[];
  wal: Wal | undefined;
  replication: () => RunningReplication | undefined;
  snapshotter: () => Snapshotter | undefined;
  /** Configuration and statistics (src/admin). */
  admin: AdminState;
}

const SLAVE_STATES = {
  connecting: "connecting",
  syncing: "sync",
  streaming: "connected",
  down: "connect",
  stopped: "connect",
} as const;

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

  function replicationInfo(): InfoFields {
    const running = parts.replication();
    const wal = parts.wal;
    if (running?.role === "slave") {
      const status = running.slaveStatus()!;
      const master = config.replication.masterAddress;
      return [
        ["role", "slave"],
        ["master_host", master.hostname],
        ["master_port", master.port],
        [
          "master_link_status",
          status.state === "streaming" || status.state === "syncing" ? "up" : "down",
        ],
        [
          "master_last_io_seconds_ago",
          status.lastHeardMs ? Math.floor((Date.now() - status.lastHeardMs) / 1000) : -1,
        ],
        ["master_sync_in_progress", status.state === "syncing" ? 1 : 0],
        ["slave_repl_offset", status.appliedLsn],
        ["master_repl_offset", status.masterLsn],
        ["slave_read_only", 1],
      ];
    }
    const replicas = running?.master?.replicas() ?? [];
    const fields: InfoFields = [["role", "master"], ["connected_slaves", replicas.length]];
    replicas.forEach((r, i) => {
      const [ip, port] = [
        r.address.slice(0, r.address.lastIndexOf(":")),
        r.address.slice(r.address.lastIndexOf(":") + 1),
      ];
      fields.push([`slave${i}`, `ip=${ip},port=${port},state=online,offset=${r.ackLsn},lag=0`]);
    });
    if (running?.master) fields.push(["master_replid", running.master.replid]);
    fields.push(["master_repl_offset", wal?.durableLsn ?? 0]);
    return fields;
  }

  return {
    role: parts.role,
    startedMs,
    connectedClients: clients,
    totalConnections: () => parts.servers()[0]?.acceptedCount ?? 0,
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
            ["blocked_clients", 0],
            ["tracking_clients", 0],
          ];
        case "persistence":
          return persistence();
        case "replication":
          return replicationInfo();
      }
    },
    replyRole(w) {
      const running = parts.replication();
      if (running?.role === "slave") {
        const status = running.slaveStatus()!;
        const master = config.replication.masterAddress;
        w.array(5);
        w.bulk("slave");
        w.bulk(master.hostname);
        w.integer(master.port);
        w.bulk(SLAVE_STATES[status.state]);
        w.integer(status.appliedLsn);
        return;
      }
      const replicas = running?.master?.replicas() ?? [];
      w.array(3);
      w.bulk("master");
      w.integer(parts.wal?.durableLsn ?? 0);
      w.array(replicas.length);
      for (const r of replicas) {
        const colon = r.address.lastIndexOf(":");
        w.array(3);
        w.bulk(r.address.slice(0, colon));
        w.bulk(r.address.slice(colon + 1));
        w.bulk(String(r.ackLsn));
      }
    },
    snapshots: () => parts.snapshotter(),
    admin: parts.admin,
  };
}
