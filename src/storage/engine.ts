/**
 * The in-memory keyspace: `partitions` independent maps, chosen by a hash of
 * the key.
 *
 * In a single-threaded runtime partitions buy no parallelism; they bound
 * work that must walk the keyspace (snapshots, expiry scans, compaction) to
 * one partition at a time. Keys and values are binary strings (see
 * `bytes/binary_string.ts`).
 *
 * @example
 * ```ts
 * const engine = new Engine(16);
 * engine.set("user1", "John");
 * engine.get("user1"); // "John"
 * engine.delete("user1"); // true
 * ```
 * @module
 */

import { partitionIndex } from "./hash.ts";

/**
 * A partitioned map of binary-string keys to binary-string values.
 *
 * @example
 * ```ts
 * const engine = new Engine(4);
 * engine.set("k", "v");
 * engine.size; // 1
 * ```
 */
export class Engine {
  readonly #partitions: Map<string, string>[];

  constructor(partitions: number) {
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
    }
    this.#partitions = Array.from({ length: partitions }, () => new Map());
  }

  /** How many partitions the keyspace has. */
  get partitionCount(): number {
    return this.#partitions.length;
  }

  /** The value of `key`, or `undefined`. */
  get(key: string): string | undefined {
    return this.#partitionFor(key).get(key);
  }

  /** Sets `key` to `value`. */
  set(key: string, value: string): void {
    this.#partitionFor(key).set(key, value);
  }

  /** Removes `key`; whether it existed. */
  delete(key: string): boolean {
    return this.#partitionFor(key).delete(key);
  }

  /** Keys held, over all partitions. */
  get size(): number {
    let total = 0;
    for (const partition of this.#partitions) total += partition.size;
    return total;
  }

  /** Removes every key. */
  clear(): void {
    for (const partition of this.#partitions) partition.clear();
  }

  /**
   * The entries of one partition, for work done a partition at a time.
   * The map is live: callers must not hold it across writes they do not own.
   */
  partition(index: number): ReadonlyMap<string, string> {
    return this.#partitions[index];
  }

  #partitionFor(key: string): Map<string, string> {
    return this.#partitions[partitionIndex(key, this.#partitions.length)];
  }
}
