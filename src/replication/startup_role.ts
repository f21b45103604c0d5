/**
 * The role a server starts in: its YAML's (`replication.enabled`,
 * `replica_type`, `master_address`), unless a run-time `REPLICAOF` chose
 * another since and the YAML's replication keys are still what they were
 * then — so a server Sentinel promoted or re-pointed keeps that role after a
 * restart, and an operator who edits the YAML (or a `CONFIG REWRITE`,
 * which writes the run-time role into it) decides again.
 *
 * @example
 * ```ts
 * const choice = await startupRole(config);
 * choice.role; // "master" | "slave"
 * ```
 * @module
 */

import { join } from "node:path";
import { type Config, formatAddress, parseAddress } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import { lockDirectory } from "../wal/lock.ts";
import { isSnapshotFileName, parseSegmentName, syncDir } from "../wal/segment.ts";
import type { RoleChoice } from "./controller.ts";
import { loadIdentity, type YamlReplication } from "./replication_identity.ts";

/** The YAML replication keys a role is chosen from. */
export function yamlReplication(config: Config): YamlReplication {
  const r = config.replication;
  return {
    enabled: r.enabled,
    replicaType: r.replicaType,
    masterAddress: formatAddress(r.masterAddress),
  };
}

/** The role and master to start with, and why. */
export async function startupRole(config: Config): Promise<RoleChoice & { why: string }> {
  const yaml = yamlReplication(config);
  const identity = config.wal.enabled ? await loadIdentity(config.wal.dataDirectory) : undefined;
  const chosen = identity?.replicaof;
  if (
    identity !== undefined && chosen !== undefined &&
    JSON.stringify(chosen) === JSON.stringify(yaml)
  ) {
    if (identity.role === "slave" && identity.master !== "") {
      return { role: "slave", master: parseAddress(identity.master), why: "REPLICAOF" };
    }
    if (identity.role === "master") return { role: "master", why: "REPLICAOF NO ONE" };
  }
  return yaml.enabled && yaml.replicaType === "slave"
    ? { role: "slave", master: config.replication.masterAddress, why: "config" }
    : { role: "master", why: "config" };
}

/**
 * Before a replica opens its store: a data directory without a history is
 * new, or was interrupted in a full resynchronisation (the id is cleared
 * first), or was written by a kvdb that kept no identity. Either way a full
 * resynchronisation follows, so it starts empty rather than serve a partial
 * log or a snapshot of an unknown history.
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
  const identity = await loadIdentity(dir);
  // A replica's history, or a master's (whose handshake decides whether it
  // continues or is sent everything again): kept.
  if (identity !== undefined && identity.replid !== "") return;
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
