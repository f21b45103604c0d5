/**
 * The thresholds that decide a collection's encoding (OBJECT ENCODING, and
 * when a small collection stops being held compactly): Redis's
 * `hash-max-listpack-*`, `list-max-listpack-size`, `set-max-intset-entries`
 * and `zset-max-listpack-*` parameters, with redis-server's built-in
 * defaults (what it runs with without a config file). One mutable object,
 * read by the types at each change and set by CONFIG SET, so a change
 * applies to the next write as in Redis (existing values are not
 * re-encoded until they change).
 *
 * @example
 * ```ts
 * if (fields > ENCODING_LIMITS.hashMaxListpackEntries) convertToTable();
 * ```
 * @module
 */

/**
 * The live encoding thresholds (see the module doc).
 *
 * @example
 * ```ts
 * ENCODING_LIMITS.zsetMaxListpackValue; // 64
 * ```
 */
export const ENCODING_LIMITS = {
  /** hash-max-listpack-entries: most fields of a listpack hash. */
  hashMaxListpackEntries: 512,
  /** hash-max-listpack-value: longest field or value (bytes) of a listpack hash. */
  hashMaxListpackValue: 64,
  /**
   * list-max-listpack-size: a positive count of elements per quicklist
   * node, or -1..-5 for 4, 8, 16, 32, 64 KiB per node.
   */
  listMaxListpackSize: -2,
  /** list-compress-depth: kvdb accepts and reports it; it compresses nothing. */
  listCompressDepth: 0,
  /** set-max-intset-entries: most members of an intset set. */
  setMaxIntsetEntries: 512,
  /** zset-max-listpack-entries: most members of a listpack sorted set. */
  zsetMaxListpackEntries: 128,
  /** zset-max-listpack-value: longest member (bytes) of a listpack sorted set. */
  zsetMaxListpackValue: 64,
};
