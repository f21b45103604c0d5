/**
 * MEMORY USAGE's estimate of a collection's bytes with Redis's SAMPLES:
 * a large collection is estimated from `samples` of its elements times its
 * length (0: every element), as Redis's objectComputeSize does, so the
 * command stays O(samples) on a collection of millions. Per type, through
 * its public API; a type without a sampler is measured whole.
 *
 * @example
 * ```ts
 * collectionMemoryBytes(hash, 5); // ~ hash.memoryBytes(), from 5 fields
 * ```
 * @module
 */

import type { Collection } from "../types/collection.ts";
import { HashValue } from "../types/hash/hash.ts";

/** Redis's default MEMORY USAGE SAMPLES (OBJ_COMPUTE_SIZE_DEF_SAMPLES). */
export const DEFAULT_MEMORY_SAMPLES = 5;

/** What a hash table costs besides its fields, and each field (as `HashValue.memoryBytes`). */
const TABLE_BYTES = 64;
const FIELD_BYTES = 64;

/**
 * See the module doc. `samples` <= 0 measures every element.
 *
 * @example
 * ```ts
 * collectionMemoryBytes(hash, 0) === hash.memoryBytes(); // true
 * ```
 */
export function collectionMemoryBytes(value: Collection, samples: number): number {
  if (samples <= 0 || value.length <= samples) return value.memoryBytes();
  if (value instanceof HashValue && value.encoding() === "hashtable") {
    let bytes = 0;
    let seen = 0;
    // Evenly spread positions (the first ones are the oldest fields, not typical).
    const positions = value.positions;
    for (let i = 0; i < samples; i++) {
      for (let at = Math.floor((i * positions) / samples); at < positions; at++) {
        const field = value.fieldAt(at);
        if (field === undefined) continue;
        bytes += FIELD_BYTES + field.length + (value.get(field)?.length ?? 0);
        seen++;
        break;
      }
    }
    if (seen === 0) return value.memoryBytes();
    return TABLE_BYTES + Math.round((bytes / seen) * value.length);
  }
  return value.memoryBytes();
}
