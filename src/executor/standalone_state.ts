/**
 * The {@link ServerState} of an executor with no server around it: `kvdb
 * cli` and tests. One client, no replication; its configuration is the
 * defaults (CONFIG SET works on them; CONFIG REWRITE has no file).
 *
 * @example
 * ```ts
 * const executor = new Executor(store, { readOnly: false, server: standaloneServerState("master") });
 * ```
 * @module
 */

import type { ServerState, SnapshotControl } from "./command_spec.ts";
import { REDIS_COMPATIBLE_VERSION } from "./commands/server.ts";
import { AdminState } from "../admin/admin_state.ts";
import { configFromValues, configValues } from "../config/config.ts";
import { createLogger } from "../log/logger.ts";
import type { Logger } from "../log/logger.ts";

/**
 * A lone server's state; `log` receives what the executor logs (by default
 * errors only, to stderr).
 *
 * @example
 * ```ts
 * standaloneServerState("master").connectedClients(); // 1
 * ```
 */
export function standaloneServerState(
  role: "master" | "slave",
  snapshots?: SnapshotControl,
  log: Logger = createLogger({ level: "error", output: "stderr" }),
): ServerState {
  const startedMs = Date.now();
  const values = configValues({}, "defaults");
  const admin = new AdminState({ config: configFromValues(values, "defaults"), values, log });
  return {
    role,
    startedMs,
    admin,
    connectedClients: () => 1,
    totalConnections: () => 1,
    info: (section) =>
      section === "server"
        ? [["redis_version", REDIS_COMPATIBLE_VERSION], ["kvdb_mode", "local"], [
          "uptime_in_seconds",
          Math.floor((Date.now() - startedMs) / 1000),
        ]]
        : section === "replication"
        ? [["role", role === "slave" ? "slave" : "master"], ["connected_slaves", 0]]
        : section === "clients"
        ? [["connected_clients", 1]]
        : [],
    replyRole(w) {
      w.array(3);
      w.bulk("master");
      w.integer(0);
      w.array(0);
    },
    snapshots: () => snapshots,
    replication: () => undefined,
  };
}
