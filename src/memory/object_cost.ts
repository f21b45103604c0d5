/**
 * What a value held as an object (a string past the inline limit, a
 * collection too big to pack) is charged in `used_memory`: the same
 * estimate MEMORY USAGE gives with its default SAMPLES (its mean per
 * element reused over a few changes: `collectionChargeBytes`), so it costs
 * O(samples) however big the collection, and can be taken again after
 * each change in place.
 *
 * @example
 * ```ts
 * objectCostBytes(BigString.fromBinary("x".repeat(10_000))); // ~10 KB
 * ```
 * @module
 */

import { collectionChargeBytes } from "../admin/_collection_memory.ts";
import { Collection } from "../types/collection.ts";
import { BigString } from "../types/string/big_string.ts";

/** A BigString's own fields and chunk bookkeeping beside its bytes. */
const BIG_STRING_OVERHEAD_BYTES = 64;

/**
 * See the module doc; 0 for an object of no known kind.
 *
 * @example
 * ```ts
 * objectCostBytes(hash); // ~ MEMORY USAGE's estimate
 * ```
 */
export function objectCostBytes(value: object): number {
  if (value instanceof BigString) return BIG_STRING_OVERHEAD_BYTES + value.length;
  if (value instanceof Collection) return collectionChargeBytes(value);
  return 0;
}
