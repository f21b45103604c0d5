/**
 * The YAML keys behind the encoding thresholds (`engine.hash_max_listpack_entries`...)
 * joined to the live {@link ENCODING_LIMITS} the types read: applied at
 * start and on each CONFIG SET, so a change applies to the next write (as
 * in Redis, existing values keep their encoding until they change).
 *
 * @example
 * ```ts
 * applyEncodingLimit("engine.hash_max_listpack_entries", 4); // true
 * ENCODING_LIMITS.hashMaxListpackEntries; // 4
 * ```
 * @module
 */

import { ENCODING_LIMITS } from "../types/encoding_limits.ts";

type LimitName = keyof typeof ENCODING_LIMITS;

const BY_PATH: ReadonlyMap<string, LimitName> = new Map<string, LimitName>([
  ["engine.hash_max_listpack_entries", "hashMaxListpackEntries"],
  ["engine.hash_max_listpack_value", "hashMaxListpackValue"],
  ["engine.list_max_listpack_size", "listMaxListpackSize"],
  ["engine.list_compress_depth", "listCompressDepth"],
  ["engine.set_max_intset_entries", "setMaxIntsetEntries"],
  ["engine.zset_max_listpack_entries", "zsetMaxListpackEntries"],
  ["engine.zset_max_listpack_value", "zsetMaxListpackValue"],
]);

/** The lazyfree switches (`engine.lazyfree_*`): accepted live, nothing to apply. */
const LAZYFREE_KEYS: ReadonlySet<string> = new Set([
  "engine.lazyfree_lazy_eviction",
  "engine.lazyfree_lazy_expire",
  "engine.lazyfree_lazy_server_del",
  "engine.lazyfree_lazy_user_del",
  "engine.lazyfree_lazy_user_flush",
  "engine.replica_lazy_flush",
]);

/**
 * Sets the threshold of YAML key `path` to `value` (a lazyfree switch
 * needs nothing set); false if `path` is neither.
 *
 * @example
 * ```ts
 * applyEncodingLimit("network.max_connections", 10); // false
 * ```
 */
export function applyEncodingLimit(path: string, value: unknown): boolean {
  // The lazyfree switches change nothing: kvdb always frees as Redis's lazy free does.
  if (LAZYFREE_KEYS.has(path)) return true;
  const name = BY_PATH.get(path);
  if (name === undefined) return false;
  ENCODING_LIMITS[name] = value as number;
  return true;
}

/**
 * Applies every threshold in `values` (the running YAML values, by path).
 *
 * @example
 * ```ts
 * applyEncodingLimits(admin.values);
 * ```
 */
export function applyEncodingLimits(values: ReadonlyMap<string, unknown>): void {
  for (const path of BY_PATH.keys()) {
    const value = values.get(path);
    if (typeof value === "number") applyEncodingLimit(path, value);
  }
}
