/**
 * Rebuilds a keyspace from what is durable in a WAL directory — the newest
 * valid snapshot, then every log record after it — while the server runs:
 * how memory is put right after the log failed (see `store.ts`). Start-up
 * does the same through `open_store.ts` (with recovery's checks on top).
 *
 * @example
 * ```ts
 * const fresh = [new Engine(16)];
 * await loadDurableState(dir, fresh, log, wal.durableLsn);
 * ```
 * @module
 */

import type { Logger } from "../log/logger.ts";
import { restoreSnapshot } from "../snapshot/restore.ts";
import { readRecords } from "../wal/reader.ts";
import { RecordGroups } from "../wal/record_groups.ts";
import type { Engine } from "./engine.ts";
import { applyChange, EngineList } from "./store.ts";
import { FunctionLibraries } from "../scripting/function_libraries.ts";

/**
 * Fills the empty `engine` with the state of `dir` up to `toLsn` (the log's
 * durable end). Throws if the files cannot be read back.
 *
 * @example
 * ```ts
 * await loadDurableState("/data/wal", [new Engine(16)], log, 42);
 * ```
 */
export async function loadDurableState(
  dir: string,
  engines: Engine[],
  log: Logger,
  toLsn: number,
  functions: FunctionLibraries = new FunctionLibraries(),
): Promise<void> {
  const startedMs = performance.now();
  log.warn("reloading the keyspace from disk: memory may hold writes the log did not keep", {
    dir,
    toLsn,
  });
  try {
    const keyspaces = new EngineList(engines, functions);
    const restored = await restoreSnapshot(dir, keyspaces, log);
    const fromLsn = (restored?.lsn ?? 0) + 1;
    let records = 0;
    const groups = new RecordGroups((record) => applyChange(keyspaces, record));
    if (fromLsn <= toLsn) {
      for await (const record of readRecords(dir, fromLsn, { toLsn })) {
        groups.push(record);
        records++;
      }
    }
    log.warn("keyspace reloaded from disk", {
      snapshotLsn: restored?.lsn ?? 0,
      records,
      keys: engines.reduce((n, e) => n + e.size, 0),
      ms: Math.round(performance.now() - startedMs),
    });
  } catch (e) {
    log.error("cannot reload the keyspace from disk: refusing every command until restart", {
      dir,
      error: e instanceof Error ? e.message : String(e),
    });
    throw e;
  }
}
