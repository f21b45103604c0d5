/**
 * Start-up from snapshots: load the newest valid snapshot in a WAL
 * directory; a damaged one is reported and the previous one tried (the WAL
 * kept since that one covers the difference). Entries of a snapshot that
 * fails midway are dropped before the next is tried.
 *
 * @example
 * ```ts
 * const restored = await restoreSnapshot(dir, store, log);
 * const fromLsn = (restored?.lsn ?? 0) + 1; // replay the WAL from here
 * ```
 * @module
 */

import { SNAPSHOT_TYPE_FUNCTION_LIBRARY } from "../scripting/function_libraries.ts";
import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import type { Keyspaces } from "../storage/store.ts";
import { parseSnapshotName } from "./snapshot_file.ts";
import { loadSnapshot, SnapshotCorruptError } from "./snapshot_reader.ts";

/** A snapshot file in a directory. */
export interface SnapshotFile {
  name: string;
  path: string;
  lsn: number;
}

/**
 * The snapshots in `dir`, newest (highest LSN) first.
 *
 * @example
 * ```ts
 * const [newest] = await listSnapshots(dir);
 * ```
 */
export async function listSnapshots(dir: string): Promise<SnapshotFile[]> {
  const out: SnapshotFile[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const lsn = entry.isFile ? parseSnapshotName(entry.name) : undefined;
      if (lsn !== undefined) out.push({ name: entry.name, path: join(dir, entry.name), lsn });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return out.sort((a, b) => b.lsn - a.lsn);
}

/** What was restored. */
export interface Restored {
  path: string;
  lsn: number;
  keys: number;
  createdMs: number;
  bytes: number;
  /** Damaged snapshots passed over. */
  skipped: number;
}

/**
 * Puts one snapshot entry where it belongs: a function library into the
 * libraries, anything else (a key) into its database's engine.
 *
 * @example
 * ```ts
 * loadSnapshotEntry(store, 0, "k", "v", 0, 0);
 * ```
 */
export function loadSnapshotEntry(
  keyspaces: Keyspaces,
  db: number,
  key: string,
  value: string,
  expiresAtMs: number,
  type: number,
): void {
  if (type === SNAPSHOT_TYPE_FUNCTION_LIBRARY) return keyspaces.functions.set(key, value);
  keyspaces.engineOf(db).load(key, value, expiresAtMs, type);
}

/**
 * A snapshot found damaged at start (and renamed `.damaged`).
 *
 * @example
 * ```ts
 * const damaged: DamagedSnapshot[] = [];
 * await restoreSnapshot(dir, store, log, damaged);
 * ```
 */
export interface DamagedSnapshot {
  /** Where it was (it is now `<path>.damaged`). */
  path: string;
  lsn: number;
  error: SnapshotCorruptError;
}

/**
 * Loads the newest valid snapshot of `dir` into `engine` (which must be
 * empty); undefined when there is none or none is valid. Each damaged one
 * passed over is renamed `.damaged` and, if given, pushed to `damaged`, so
 * that a start that then fails can name them.
 *
 * @example
 * ```ts
 * await restoreSnapshot("/data/wal", new EngineList([new Engine(16)]), log);
 * ```
 */
export async function restoreSnapshot(
  dir: string,
  keyspaces: Keyspaces,
  log: Logger,
  damaged: DamagedSnapshot[] = [],
): Promise<Restored | undefined> {
  let skipped = 0;
  for (const snapshot of await listSnapshots(dir)) {
    try {
      const header = await loadSnapshot(
        snapshot.path,
        (db, key, value, expiresAtMs, type) => {
          if (db >= keyspaces.databaseCount) {
            throw new SnapshotCorruptError(
              snapshot.path,
              0,
              `holds database ${db}; engine.databases is ${keyspaces.databaseCount}`,
            );
          }
          loadSnapshotEntry(keyspaces, db, key, value, expiresAtMs, type);
        },
      );
      if (header.lsn !== snapshot.lsn) {
        throw new SnapshotCorruptError(
          snapshot.path,
          8,
          `holds LSN ${header.lsn}, named ${snapshot.lsn}`,
        );
      }
      log.info("snapshot loaded", { file: snapshot.path, lsn: header.lsn, keys: header.keys });
      return {
        path: snapshot.path,
        lsn: header.lsn,
        keys: header.keys,
        createdMs: header.createdMs,
        bytes: (await Deno.stat(snapshot.path)).size,
        skipped,
      };
    } catch (e) {
      if (!(e instanceof SnapshotCorruptError)) throw e;
      for (let db = 0; db < keyspaces.databaseCount; db++) keyspaces.engineOf(db).clear();
      keyspaces.functions.clear();
      skipped++;
      damaged.push({ path: snapshot.path, lsn: snapshot.lsn, error: e });
      await setAsideDamaged(snapshot.path, e, log, "falling back to the previous one and the WAL");
    }
  }
  return undefined;
}

/**
 * Renames a damaged snapshot to `<name>.damaged`, kept for inspection but
 * never again taken for a snapshot, a fallback or a replica's copy, and
 * logs it with what happens `next`.
 *
 * @example
 * ```ts
 * await setAsideDamaged(path, error, log, "taking a new one");
 * ```
 */
export async function setAsideDamaged(
  path: string,
  error: SnapshotCorruptError,
  log: Logger,
  next: string,
): Promise<void> {
  await Deno.rename(path, `${path}.damaged`);
  log.warn(`snapshot damaged (renamed .damaged); ${next}`, { file: path, error: error.message });
}

/**
 * A snapshot file as `kvdb wal check` finds it: verified whole, or
 * damaged (where and why), or set aside at an earlier start (`.damaged`).
 *
 * @example
 * ```ts
 * const usable = (await verifySnapshots(dir)).find((s) => s.damage === undefined && !s.setAside);
 * ```
 */
export interface SnapshotReport {
  name: string;
  path: string;
  lsn: number;
  bytes: number;
  /** Keys it holds, when it verifies. */
  keys: number;
  /** Why a start would pass over it; `undefined` if it verifies. */
  damage: { offset: number; reason: string } | undefined;
  /** A `.damaged` file: set aside by a start, never loaded again. */
  setAside: boolean;
}

const SET_ASIDE = /^snapshot-(\d{16,})\.snap\.damaged$/;

/**
 * Every snapshot of `dir`, newest first, each read and verified exactly as
 * a start would load it (nothing is renamed or kept in memory), then the
 * set-aside `.damaged` ones.
 *
 * @example
 * ```ts
 * for (const s of await verifySnapshots(dir)) console.log(s.name, s.damage?.reason ?? "ok");
 * ```
 */
export async function verifySnapshots(dir: string): Promise<SnapshotReport[]> {
  const out: SnapshotReport[] = [];
  for (const snapshot of await listSnapshots(dir)) {
    const bytes = (await Deno.stat(snapshot.path)).size;
    const report: SnapshotReport = {
      ...snapshot,
      bytes,
      keys: 0,
      damage: undefined,
      setAside: false,
    };
    try {
      const header = await loadSnapshot(snapshot.path, () => {});
      if (header.lsn !== snapshot.lsn) {
        report.damage = { offset: 8, reason: `holds LSN ${header.lsn}, named ${snapshot.lsn}` };
      }
      report.keys = header.keys;
    } catch (e) {
      if (!(e instanceof SnapshotCorruptError)) throw e;
      report.damage = { offset: e.offset, reason: e.reason };
    }
    out.push(report);
  }
  const setAside: SnapshotReport[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const lsn = entry.isFile ? SET_ASIDE.exec(entry.name)?.[1] : undefined;
    if (lsn === undefined) continue;
    const path = join(dir, entry.name);
    setAside.push({
      name: entry.name,
      path,
      lsn: Number(lsn),
      bytes: (await Deno.stat(path)).size,
      keys: 0,
      damage: { offset: 0, reason: "set aside as damaged by an earlier start" },
      setAside: true,
    });
  }
  return [...out, ...setAside.sort((a, b) => b.lsn - a.lsn)];
}
