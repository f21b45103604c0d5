/**
 * Replication as the server runs it: on a master, the backlog between the
 * store and the WAL, the `REPLSYNC` takeover on the client port, and a
 * listener on `replication.master_address`; on a replica, the loop that
 * follows the master. One place decides which, from the config.
 *
 * @example
 * ```ts
 * const opened = await openStore(config, log, { wrapLog: replicationLogLayer(config) });
 * const replication = await startReplication(config, opened, log);
 * // ... serve, with replication.takeovers ...
 * await replication.stop();
 * ```
 * @module
 */

import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import type { Takeover } from "../server/connection.ts";
import type { OpenStore } from "../storage/open_store.ts";
import type { LogWriter } from "../storage/store.ts";
import type { Snapshotter } from "../snapshot/snapshotter.ts";
import type { Wal } from "../wal/wal.ts";
import { ReplicationBacklog } from "./backlog.ts";
import { ReplicationMaster } from "./master.ts";
import { join } from "node:path";
import { lockDirectory } from "../wal/lock.ts";
import { isSnapshotFileName, parseSegmentName, syncDir } from "../wal/segment.ts";
import { loadIdentity, masterReplicationId } from "./replication_identity.ts";
import { ReplicationSlave, type SlaveStatus } from "./slave.ts";

/** Keys and values a master keeps in memory for replicas that keep up. */
export const BACKLOG_BYTES = 16 * 1024 * 1024;

/** Replication's parts in a running server. */
export interface RunningReplication {
  role: "master" | "slave";
  /** `REPLSYNC` on the client port (masters). */
  takeovers: ReadonlyMap<string, Takeover>;
  master: ReplicationMaster | undefined;
  slave: ReplicationSlave | undefined;
  /** For ROLE and INFO. */
  slaveStatus(): SlaveStatus | undefined;
  stop(): Promise<void>;
}

function isMaster(config: Config): boolean {
  return config.replication.enabled && config.replication.replicaType === "master";
}

/**
 * The layer a master puts between its store and WAL (the backlog), or
 * undefined.
 *
 * @example
 * ```ts
 * await openStore(config, log, { wrapLog: replicationLogLayer(config) });
 * ```
 */
export function replicationLogLayer(config: Config): ((wal: Wal) => LogWriter) | undefined {
  return isMaster(config) ? (wal) => new ReplicationBacklog(wal, BACKLOG_BYTES) : undefined;
}

/**
 * Starts the replication the config asks for; undefined when disabled.
 *
 * @example
 * ```ts
 * const replication = await startReplication(config, opened, log);
 * ```
 */
export async function startReplication(
  config: Config,
  opened: OpenStore,
  log: Logger,
  snapshotter?: Snapshotter,
): Promise<RunningReplication | undefined> {
  const { replication } = config;
  if (!replication.enabled) return undefined;
  const wal = opened.wal;
  if (wal === undefined) throw new Error("replication needs the WAL (wal.enabled: true)");
  if (isMaster(config)) {
    const backlog = opened.store.log;
    if (!(backlog instanceof ReplicationBacklog)) {
      throw new Error("a master's store must write through the replication backlog");
    }
    const replid = await masterReplicationId(wal.dir);
    const master = new ReplicationMaster({
      wal,
      backlog,
      replid,
      syncIntervalMs: replication.syncIntervalMs,
      log,
      snapshotForResync: snapshotter && ((firstLsn) => snapshotter.forResync(firstLsn)),
    });
    log.info("replication: master", { replid, lsn: wal.durableLsn });
    return {
      role: "master",
      takeovers: new Map([["REPLSYNC", (conn, args, rest) => master.serve(conn, args, rest)]]),
      master,
      slave: undefined,
      slaveStatus: () => undefined,
      stop: () => {
        master.close();
        return Promise.resolve();
      },
    };
  }
  const slave = new ReplicationSlave({
    store: opened.store,
    wal,
    masterAddress: replication.masterAddress,
    syncIntervalMs: replication.syncIntervalMs,
    log,
    snapshots: snapshotter,
  });
  slave.start();
  return {
    role: "slave",
    takeovers: new Map(),
    master: undefined,
    slave,
    slaveStatus: () => slave.status(),
    stop: () => slave.stop(),
  };
}

/**
 * Before a replica opens its store: a data directory without a replica's
 * identity is new, or was interrupted in a full resynchronisation (the
 * identity is cleared first), or held another server's data. Either way a
 * full resynchronisation follows, so it starts empty rather than from a
 * partial log or a snapshot of another history.
 *
 * @example
 * ```ts
 * if (isReplica) await prepareReplicaDirectory(config.wal.dataDirectory, log);
 * ```
 */
export async function prepareReplicaDirectory(dir: string, log: Logger): Promise<void> {
  try {
    await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  if ((await loadIdentity(dir))?.role === "slave") return;
  const lock = await lockDirectory(dir);
  try {
    let removed = 0;
    for await (const entry of Deno.readDir(dir)) {
      if (
        entry.isFile &&
        (parseSegmentName(entry.name) !== undefined || isSnapshotFileName(entry.name))
      ) {
        await Deno.remove(join(dir, entry.name));
        removed++;
      }
    }
    if (removed > 0) {
      await syncDir(dir);
      log.warn("replica data directory without a replica's identity: starting empty", {
        dir,
        filesRemoved: removed,
      });
    }
  } finally {
    lock.close();
  }
}
