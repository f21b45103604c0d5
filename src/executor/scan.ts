/**
 * SCAN's walk. A cursor is a position in the keyspace, not a handle the
 * server keeps: partition `p`, entry index `i`, encoded as
 * `p · 2^32 + i` (0 starts a walk and ends one). Entry indices are stable
 * for a key's whole life (see `storage/key_table.ts`), so a key present
 * for a whole walk is returned exactly once, whatever is added, deleted or
 * overwritten meanwhile — SCAN's guarantee — and a cursor can be kept for
 * any time, as in Redis. Keys added or removed during the walk may or may
 * not be returned. A cursor past the end of the keyspace ends the walk.
 *
 * @example
 * ```ts
 * let cursor = 0;
 * do cursor = scan(engine, cursor, 10, (key) => keys.push(key));
 * while (cursor !== 0);
 * ```
 * @module
 */

import type { Engine } from "../storage/engine.ts";

const PARTITION_STRIDE = 2 ** 32;

/**
 * Visits up to `count` keys from `cursor` (0: a new walk); returns the
 * cursor to continue from, 0 when the walk is complete.
 *
 * @example
 * ```ts
 * const next = scan(engine, 0, 100, (key) => console.log(key));
 * ```
 */
export function scan(
  engine: Engine,
  cursor: number,
  count: number,
  visit: (key: string) => void,
): number {
  let partition = Math.floor(cursor / PARTITION_STRIDE);
  let entry = cursor % PARTITION_STRIDE;
  for (let seen = 0; seen < count;) {
    if (partition >= engine.partitionCount) return 0;
    const table = engine.partition(partition).values;
    entry = table.nextEntry(entry);
    if (entry < 0) {
      partition++;
      entry = 0;
      continue;
    }
    visit(table.keyAt(entry));
    entry++;
    seen++;
  }
  return partition >= engine.partitionCount ? 0 : partition * PARTITION_STRIDE + entry;
}
