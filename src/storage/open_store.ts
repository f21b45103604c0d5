/**
 * Builds the keyspace a config describes: the partitioned engine and, when
 * `wal.enabled`, the write-ahead log replayed into it.
 *
 * @example
 * ```ts
 * const { store, wal, close } = await openStore(config, log);
 * await close(); // flushes the WAL
 * ```
 * @module
 */

import type { FunctionLibraries } from "../scripting/function_libraries.ts";
import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import { type DamagedSnapshot, type Restored, restoreSnapshot } from "../snapshot/restore.ts";
import { lockDirectory } from "../wal/lock.ts";
import { Wal } from "../wal/wal.ts";
import { Engine } from "./engine.ts";
import { loadDurableState } from "./load_durable.ts";
import { type LogWriter, Store } from "./store.ts";

/** An open store and how to close it. */
export interface OpenStore {
  store: Store;
  /** The log, when enabled. */
  wal: Wal | undefined;
  /** The snapshot the keyspace was restored from, if any. */
  restored?: Restored;
  /** Flushes and closes the log; rejects if pending writes were not made durable. */
  close(): Promise<void>;
}

/**
 * Opens the engine (and its WAL, replaying it) for `config`.
 *
 * @example
 * ```ts
 * const { store } = await openStore(config, log);
 * ```
 */
export async function openStore(
  config: Config,
  log: Logger,
  options: {
    /** Puts a layer between the store and the WAL (replication's backlog). */
    wrapLog?: (wal: Wal) => LogWriter;
  } = {},
): Promise<OpenStore> {
  const engines = newEngines(config);
  // A replica hides expired keys but leaves deleting them to its master.
  const { replication } = config;
  const storeOptions = {
    expireKeys: !(replication.enabled && replication.replicaType === "slave"),
  };
  if (!config.wal.enabled) {
    return {
      store: new Store(engines, undefined, storeOptions),
      wal: undefined,
      close: () => Promise.resolve(),
    };
  }
  const replay = new Store(engines, undefined);
  const startedMs = performance.now();
  const dir = config.wal.dataDirectory;
  // The lock before anything is read: another process on this directory
  // would otherwise be loaded from while it writes.
  await Deno.mkdir(dir, { recursive: true });
  const lock = await lockDirectory(dir);
  // The newest valid snapshot, then every WAL record after its LSN.
  const damaged: DamagedSnapshot[] = [];
  let restored: Restored | undefined;
  let wal: Wal;
  try {
    restored = await restoreSnapshot(dir, replay, log, damaged);
    const fromLsn = (restored?.lsn ?? 0) + 1;
    wal = await Wal.open(
      {
        dir,
        maxSegmentBytes: config.wal.maxSegmentBytes,
        batchSize: config.wal.flushingBatchSize,
        batchTimeoutMs: config.wal.flushingBatchTimeoutMs,
        logger: log,
        requiredFromLsn: fromLsn,
        startAfterLsn: fromLsn - 1,
        lock,
      },
      (record) => {
        if (record.lsn >= fromLsn) replay.applyRecord(record);
      },
    );
  } catch (e) {
    closeQuietly(lock);
    throw damaged.length === 0 ? e : blameSnapshots(damaged, e);
  }
  if (restored !== undefined && wal.lastLsn < restored.lsn) {
    await wal.close();
    throw new Error(
      `the WAL in ${dir} ends at LSN ${wal.lastLsn}, before its snapshot's ` +
        `LSN ${restored.lsn}: the directory does not hold one history`,
    );
  }
  log.info("wal recovered", {
    dir,
    snapshotLsn: restored?.lsn ?? 0,
    records: wal.stats().recoveredRecords,
    lastLsn: wal.lastLsn,
    keys: replay.size,
    ms: Math.round(performance.now() - startedMs),
  });
  const logWriter = options.wrapLog ? options.wrapLog(wal) : wal;
  const reload = (fresh: Engine[], functions: FunctionLibraries) =>
    loadDurableState(config.wal.dataDirectory, fresh, log, wal.durableLsn, functions);
  // The replay may have swapped databases' engines (SWAPDB): take them as they are now.
  const replayed = Array.from({ length: replay.databaseCount }, (_, db) => replay.engineOf(db));
  return {
    store: new Store(replayed, logWriter, {
      ...storeOptions,
      reload,
      functions: replay.functions,
    }),
    wal,
    restored,
    close: () => wal.close(),
  };
}

/** One empty engine per database of `config`. */
function newEngines(config: Config): Engine[] {
  return Array.from(
    { length: config.engine.databases },
    () => new Engine(config.engine.partitions),
  );
}

/** Closes a lock the WAL may already have closed (it adopts it). */
function closeQuietly(lock: Deno.FsFile): void {
  try {
    lock.close();
  } catch {
    // Closed by Wal.open's own clean-up.
  }
}

/**
 * The start failed after damaged snapshots were passed over: say so first,
 * since the WAL was only asked to stand in for them.
 */
function blameSnapshots(damaged: DamagedSnapshot[], cause: unknown): Error {
  const list = damaged.map((d) => `${d.path} (LSN ${d.lsn}: ${d.error.reason}; now .damaged)`);
  const message = cause instanceof Error ? cause.message : String(cause);
  return new Error(
    `cannot restore the keyspace: damaged snapshot(s) ${list.join(", ")}, ` +
      `and the WAL cannot stand in for them: ${message}`,
    { cause },
  );
}
