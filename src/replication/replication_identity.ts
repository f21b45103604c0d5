/**
 * Which history a data directory holds, and whom it follows, kept in
 * `REPLICATION` beside the WAL segments (JSON):
 *
 * | field | meaning |
 * |---|---|
 * | `replid` | the history the log belongs to (40 hex digits); `""` for a replica with none yet (new, or midway through a full resynchronisation) |
 * | `role` | `master` or `slave`, as the server last ran |
 * | `replid2`, `secondLsn` | a promoted replica's previous history, and the last LSN it holds of it: replicas of that history continue from there (Redis's PSYNC2 second id); `""`/-1 when none |
 * | `master` | a replica's master, `host:port` |
 * | `unverified` | a master turned replica that has not yet caught up with its new master: its data may hold writes the new master never had, so it serves none until then |
 * | `replicaof` | set when `REPLICAOF`/`SLAVEOF` chose the role at run time: the YAML replication keys as they were then, so that the choice holds across restarts until someone edits them (see `startup_role.ts`) |
 *
 * A master makes a fresh random id when its directory has none, or when the
 * directory last belonged to a replica that was not promoted by REPLICAOF
 * NO ONE (its history may since diverge from the master it copied). A
 * replica sends the id it holds; a master that neither has it as its own
 * id nor as its second one means another history, and the replica
 * resynchronises fully. The file is replaced atomically (write to a
 * temporary file, fsync, rename, fsync the directory).
 *
 * @example
 * ```ts
 * const { replid } = await masterIdentity("/data/wal", wal.lastLsn);
 * await saveIdentity("/data/wal", { ...NO_IDENTITY, replid, role: "slave" });
 * ```
 * @module
 */

import { join } from "node:path";
import { syncDir } from "../wal/segment.ts";

const FILE = "REPLICATION";
const REPLID = /^[0-9a-f]{40}$/;

/** The YAML replication keys a run-time REPLICAOF was made against. */
export interface YamlReplication {
  enabled: boolean;
  replicaType: "master" | "slave";
  masterAddress: string;
}

/** What `REPLICATION` holds. */
export interface ReplicationIdentity {
  /** 40 hex digits, or "" for a replica that holds no history yet. */
  replid: string;
  /** The role of the server that wrote it. */
  role: "master" | "slave";
  /** The history before a promotion ("" when none). */
  replid2: string;
  /** The last LSN of `replid2`'s history held here (-1 when none). */
  secondLsn: number;
  /** A replica's master, `host:port` ("" for a master). */
  master: string;
  /** Set when REPLICAOF chose the role: the YAML keys then. */
  replicaof: YamlReplication | undefined;
  /** A demoted master not yet caught up with its new master (serves no data). */
  unverified: boolean;
}

/** An identity with nothing in it, to spread from. */
export const NO_IDENTITY: ReplicationIdentity = {
  replid: "",
  role: "master",
  replid2: "",
  secondLsn: -1,
  master: "",
  replicaof: undefined,
  unverified: false,
};

/** A fresh random replication id (40 hex digits, as Redis's). */
export function newReplicationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function parseYaml(v: unknown): YamlReplication | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (
    typeof o.enabled !== "boolean" || (o.replicaType !== "master" && o.replicaType !== "slave") ||
    typeof o.masterAddress !== "string"
  ) return undefined;
  return { enabled: o.enabled, replicaType: o.replicaType, masterAddress: o.masterAddress };
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
    const p = JSON.parse(text);
    if (
      typeof p.replid !== "string" || (p.replid !== "" && !REPLID.test(p.replid)) ||
      (p.role !== "master" && p.role !== "slave")
    ) return undefined;
    const replid2 = typeof p.replid2 === "string" && REPLID.test(p.replid2) ? p.replid2 : "";
    return {
      replid: p.replid,
      role: p.role,
      replid2,
      secondLsn: replid2 !== "" && Number.isSafeInteger(p.secondLsn) ? p.secondLsn : -1,
      master: typeof p.master === "string" ? p.master : "",
      replicaof: parseYaml(p.replicaof),
      unverified: p.unverified === true,
    };
  } catch {
    return undefined; // unreadable: as if absent
  }
}

/**
 * Replaces `dir/REPLICATION` atomically and durably.
 *
 * @example
 * ```ts
 * await saveIdentity(dir, { ...NO_IDENTITY, replid, role: "master" });
 * ```
 */
export function saveIdentity(dir: string, identity: ReplicationIdentity): Promise<void> {
  // One write at a time per directory, in call order: two writers of the
  // one temporary file would rename it from under each other.
  const saved = (saving.get(dir) ?? Promise.resolve()).then(() => writeIdentity(dir, identity));
  const tail = saved.catch(() => {});
  saving.set(dir, tail);
  tail.then(() => {
    if (saving.get(dir) === tail) saving.delete(dir);
  });
  return saved;
}

/** The write in progress (or last) per directory. */
const saving = new Map<string, Promise<void>>();

async function writeIdentity(dir: string, identity: ReplicationIdentity): Promise<void> {
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
 * The identity a master serves under: its own if the directory holds a
 * master's (or a promoted replica's) history, else a new id (saved before
 * use). `replicaof` is kept as found.
 *
 * @example
 * ```ts
 * const { replid } = await masterIdentity(config.wal.dataDirectory, wal.lastLsn);
 * ```
 */
export async function masterIdentity(
  dir: string,
  lastLsn: number,
): Promise<ReplicationIdentity> {
  const identity = await loadIdentity(dir);
  if (identity?.role === "master" && identity.replid !== "") return identity;
  // A replica turned master by its YAML: its copy of the old history stays
  // a prefix other replicas of that history can continue from.
  const previous = identity?.role === "slave" && identity.replid !== "" ? identity.replid : "";
  const fresh: ReplicationIdentity = {
    ...NO_IDENTITY,
    replid: newReplicationId(),
    role: "master",
    replid2: previous,
    secondLsn: previous === "" ? -1 : lastLsn,
    replicaof: identity?.replicaof,
  };
  await saveIdentity(dir, fresh);
  return fresh;
}
