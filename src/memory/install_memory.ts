/**
 * Puts the memory model to work in a running server: applies the
 * `memory.*` settings (and follows CONFIG SET of them), registers the
 * overhead sources kvdb knows (the replication backlog, the WAL's pending
 * batch), samples them every 100 ms, and brings a dataset loaded over the
 * limit back under it.
 *
 * Start-up (issue 18, point 5): replaying the WAL never passes the memory
 * the server held when it wrote those records — evictions were logged as
 * deletes and are replayed as such — so replay itself cannot be killed
 * for memory in a loop. Only a limit lowered in the YAML since can leave
 * the loaded dataset over it; the server then starts anyway and says so
 * in its log. Nothing is evicted while loading; once serving, a master
 * evicts as configured in the background (MemoryManager.refreshOverhead's
 * check, between requests; logged as deletes, so a restart and replicas
 * agree); under `noeviction` reads and deletes are
 * served and writes get -OOM until keys are deleted or the limit raised
 * (refusing to start would lock the data away).
 *
 * @example
 * ```ts
 * const stop = installMemory({ config, admin, store, wal, log, isMaster: () => true });
 * stop(); // at shutdown
 * ```
 * @module
 */

import type { AdminState } from "../admin/admin_state.ts";
import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import { ReplicationBacklog } from "../replication/backlog.ts";
import type { Store } from "../storage/store.ts";
import type { Wal } from "../wal/wal.ts";
import type { MaxmemoryPolicy } from "./policy.ts";

/** How often the overhead sources are read (Redis's serverCron period). */
const OVERHEAD_SAMPLE_MS = 100;

/** What {@link installMemory} works with. */
export interface MemoryInstallation {
  config: Config;
  admin: AdminState;
  store: Store;
  wal: Wal | undefined;
  log: Logger;
  /** Whether this server owns its data (a replica never evicts). */
  isMaster: () => boolean;
}

/**
 * See the module doc; returns what stops the sampling timer.
 *
 * @example
 * ```ts
 * const stop = installMemory(parts);
 * ```
 */
export function installMemory(parts: MemoryInstallation): () => void {
  const { config, admin, store, wal, log } = parts;
  const memory = store.memory;
  memory.mayEvict = parts.isMaster;
  const m = config.memory;
  const apply = () =>
    memory.configure({
      maxmemoryBytes: m.maxmemoryBytes,
      policy: m.maxmemoryPolicy,
      samples: m.maxmemorySamples,
      lfuLogFactor: m.lfuLogFactor,
      lfuDecayMinutes: m.lfuDecayMinutes,
    });
  apply();
  const live: [string, (value: unknown) => void][] = [
    ["memory.maxmemory", (v) => m.maxmemoryBytes = v as number],
    ["memory.maxmemory_policy", (v) => m.maxmemoryPolicy = v as MaxmemoryPolicy],
    ["memory.maxmemory_samples", (v) => m.maxmemorySamples = v as number],
    ["memory.lfu_log_factor", (v) => m.lfuLogFactor = v as number],
    ["memory.lfu_decay_time", (v) => m.lfuDecayMinutes = v as number],
  ];
  for (const [path, set] of live) {
    admin.onLiveChange(path, (value) => {
      set(value);
      apply();
      // A lowered limit is enforced at once, as Redis's CONFIG SET maxmemory does.
      if (path === "memory.maxmemory" && parts.isMaster()) memory.evictToLimit();
    });
  }
  const backlog = store.log;
  if (backlog instanceof ReplicationBacklog) {
    memory.setOverhead("replication_backlog", () => backlog.bytes);
  }
  if (wal !== undefined) memory.setOverhead("wal_pending", () => wal.stats().pendingBytes);
  const timer = setInterval(() => memory.refreshOverhead(), OVERHEAD_SAMPLE_MS);
  Deno.unrefTimer(timer);
  reportAtStart(store, parts.isMaster(), log);
  return () => {
    clearInterval(timer);
    memory.stop();
  };
}

/** See the module doc: a dataset loaded over the limit is reported, not evicted. */
function reportAtStart(store: Store, isMaster: boolean, log: Logger): void {
  const memory = store.memory;
  const max = memory.maxmemoryBytes;
  const used = memory.countedBytes();
  if (max === 0 || used <= max) return;
  const policy = memory.settings.policy;
  const next = !isMaster
    ? "a replica evicts nothing: its master's deletes arrive"
    : policy === "noeviction"
    ? "writes get -OOM until keys are deleted or maxmemory is raised"
    : `keys are evicted (${policy}) in the background until it is under`;
  log.warn(`the loaded dataset is over maxmemory: ${next}`, {
    usedMemory: used,
    maxmemory: max,
    policy,
  });
}
