/**
 * Which history a data directory holds: the replication id of the master
 * whose log it is, kept in `REPLICATION` beside the WAL segments.
 *
 * A master makes a fresh random id when its directory has none, or when the
 * directory last belonged to a replica (its history may since diverge from
 * the master it copied). A replica stores the id of the master it follows;
 * a master with another id means another history, and the replica
 * resynchronises fully. The file is replaced atomically (write to a
 * temporary file, fsync, rename, fsync the directory).
 *
 * @example
 * ```ts
 * const id = await masterReplicationId("/data/wal");
 * await saveIdentity("/data/wal", { replid: id, role: "slave" });
 * ```
 * @module
 */

import { join } from "node:path";
import { syncDir } from "../wal/segment.ts";

const FILE = "REPLICATION";

/** What `REPLICATION` holds. */
export interface ReplicationIdentity {
  /** 40 hex digits. */
  replid: string;
  /** The role of the server that wrote it. */
  role: "master" | "slave";
}

/** A fresh random replication id (40 hex digits, as Redis's). */
export function newReplicationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Reads `dir/REPLICATION`; undefined when absent. A damaged file is
 * treated as absent (the worst outcome is one full resynchronisation).
 *
 * @example
 * ```ts
 * const identity = await loadIdentity(dir);
 * ```
 */
export async function loadIdentity(dir: string): Promise<ReplicationIdentity | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, FILE));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  try {
    const parsed = JSON.parse(text);
    if (
      typeof parsed.replid === "string" && /^[0-9a-f]{40}$/.test(parsed.replid) &&
      (parsed.role === "master" || parsed.role === "slave")
    ) return { replid: parsed.replid, role: parsed.role };
  } catch {
    // Unreadable: as if absent.
  }
  return undefined;
}

/**
 * Replaces `dir/REPLICATION` atomically and durably.
 *
 * @example
 * ```ts
 * await saveIdentity(dir, { replid, role: "master" });
 * ```
 */
export async function saveIdentity(dir: string, identity: ReplicationIdentity): Promise<void> {
  const tmp = join(dir, `${FILE}.tmp`);
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    await file.write(new TextEncoder().encode(JSON.stringify(identity) + "\n"));
    await file.syncData();
  } finally {
    file.close();
  }
  await Deno.rename(tmp, join(dir, FILE));
  await syncDir(dir);
}

/**
 * The id a master serves under: its own if the directory has one, else a
 * new one (saved before use).
 *
 * @example
 * ```ts
 * const replid = await masterReplicationId(config.wal.dataDirectory);
 * ```
 */
export async function masterReplicationId(dir: string): Promise<string> {
  const identity = await loadIdentity(dir);
  if (identity?.role === "master") return identity.replid;
  const replid = newReplicationId();
  await saveIdentity(dir, { replid, role: "master" });
  return replid;
}

/**
 * Removes `dir/REPLICATION` durably (before a replica discards its log, so
 * that a crash midway leaves a directory that resynchronises fully).
 *
 * @example
 * ```ts
 * await clearIdentity(dir);
 * ```
 */
export async function clearIdentity(dir: string): Promise<void> {
  try {
    await Deno.remove(join(dir, FILE));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    return;
  }
  await syncDir(dir);
}
