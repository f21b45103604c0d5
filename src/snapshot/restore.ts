/**
 * Start-up from snapshots: load the newest valid snapshot in a WAL
 * directory; a damaged one is reported and the previous one tried (the WAL
 * kept since that one covers the difference). Entries of a snapshot that
 * fails midway are dropped before the next is tried.
 *
 * @example
 * ```ts
 * const restored = await restoreSnapshot(dir, engine, log);
 * const fromLsn = (restored?.lsn ?? 0) + 1; // replay the WAL from here
 * ```
 * @module
 */

import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import type { Engine } from "../storage/engine.ts";
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
 * Loads the newest valid snapshot of `dir` into `engine` (which must be
 * empty); undefined when there is none or none is valid.
 *
 * @example
 * ```ts
 * await restoreSnapshot("/data/wal", new Engine(16), log);
 * ```
 */
export async function restoreSnapshot(
  dir: string,
  engine: Engine,
  log: Logger,
): Promise<Restored | undefined> {
  let skipped = 0;
  for (const snapshot of await listSnapshots(dir)) {
    try {
      const header = await loadSnapshot(
        snapshot.path,
        (key, value, expiresAtMs) => engine.set(key, value, expiresAtMs),
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
      engine.clear();
      skipped++;
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
