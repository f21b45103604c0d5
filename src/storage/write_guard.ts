/**
 * A hook an {@link Engine} calls before it changes a key: what makes a
 * snapshot a point-in-time copy without stopping the server. While a
 * snapshot walks the keyspace, its guard sees every write first and saves
 * the key's state as of the snapshot's LSN (copy-before-write, per key) if
 * the walk has not read it yet; the walk then skips it. So a snapshot holds
 * exactly the state at its LSN, and any log record — one that depends on
 * the state before it (a list push or pop, a rename) included — replays
 * over it exactly.
 *
 * @example
 * ```ts
 * engine.setWriteGuard({ beforeWrite(key) { save(key); }, detached() {} });
 * ```
 * @module
 */

/**
 * Told of each change before it happens.
 *
 * @example
 * ```ts
 * const guard: WriteGuard = { beforeWrite: (key, hash, p) => {}, detached: () => {} };
 * ```
 */
export interface WriteGuard {
  /**
   * `key` (its hash and partition index given) is about to change: set,
   * deleted, its expiry or its collection's contents.
   */
  beforeWrite(key: string, hash: number, partition: number): void;
  /**
   * The engine emptied itself (FLUSHDB, FLUSHALL): it left its partitions,
   * untouched, to the guard's owner and took fresh ones; no more calls come.
   */
  detached(): void;
}
