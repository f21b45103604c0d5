/**
 * The {@link ServerState} of an executor with no server around it: `kvdb
 * cli` and tests. One client, no replication, nothing to configure.
 *
 * @example
 * ```ts
 * const executor = new Executor(store, { readOnly: false, server: standaloneServerState("master") });
 * ```
 * @module
 */

import type { ServerState, SnapshotControl } from "./command_spec.ts";
import { REDIS_COMPATIBLE_VERSION } from "./commands/server.ts";

/**
 * A lone server's state.
 *
 * @example
 * ```ts
 * standaloneServerState("master").connectedClients(); // 1
 * ```
 */
export function standaloneServerState(
  role: "master" | "slave",
  snapshots?: SnapshotControl,
): ServerState {
  const startedMs = Date.now();
  return {
    role,
    startedMs,
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
    configParameters: () => ({}),
    snapshots: () => snapshots,
  };
}
