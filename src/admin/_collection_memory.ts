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
import { HASH_FIELD_OVERHEAD_BYTES, HashValue } from "../types/hash/hash.ts";
import { SetValue } from "../types/set/set.ts";
import { ZsetValue } from "../types/zset/zset.ts";

/** Redis's default MEMORY USAGE SAMPLES (OBJ_COMPUTE_SIZE_DEF_SAMPLES). */
export const DEFAULT_MEMORY_SAMPLES = 5;

/** What a hash table costs besides its fields, and each field (as `HashValue.memoryBytes`). */
const TABLE_BYTES = 64;
/** A big set's and a big sorted set's own bytes and per-member bytes (as their memoryBytes). */
const SET_BYTES = 64;
const SET_MEMBER_BYTES = 48;
const ZSET_BYTES = 96;
const ZSET_MEMBER_BYTES = 48;

/**
 * `base` + the mean of `measure` over `samples` evenly spread positions
 * of `positions` (undefined: a hole, the next one is taken) times `length`.
 */
function sampled(
  base: number,
  length: number,
  positions: number,
  samples: number,
  measure: (at: number) => number | undefined,
): number | undefined {
  let bytes = 0;
  let seen = 0;
  // Evenly spread positions (the first ones are the oldest elements, not typical).
  for (let i = 0; i < samples; i++) {
    for (let at = Math.floor((i * positions) / samples); at < positions; at++) {
      const size = measure(at);
      if (size === undefined) continue;
      bytes += size;
      seen++;
      break;
    }
  }
  return seen === 0 ? undefined : base + Math.round((bytes / seen) * length);
}

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
  let estimate: number | undefined;
  if (value instanceof HashValue && value.encoding() === "hashtable") {
    // The values sit together in one arena whose size is known: only fields are sampled.
    const base = TABLE_BYTES + value.valueBytes;
    estimate = sampled(base, value.length, value.positions, samples, (at) => {
      const field = value.fieldAt(at);
      return field === undefined ? undefined : HASH_FIELD_OVERHEAD_BYTES + field.length;
    });
  } else if (value instanceof SetValue && value.encoding() === "hashtable") {
    estimate = sampled(
      SET_BYTES,
      value.length,
      value.length,
      samples,
      (at) => {
        // A member table may have holes below the count.
        const member = value.memberAt(at) as string | undefined;
        return member === undefined ? undefined : SET_MEMBER_BYTES + member.length;
      },
    );
  } else if (value instanceof ZsetValue && value.encoding() === "skiplist") {
    estimate = sampled(ZSET_BYTES, value.length, value.positions, samples, (at) => {
      const member = value.memberAt(at);
      return member === undefined ? undefined : ZSET_MEMBER_BYTES + member.length;
    });
  }
  if (estimate !== undefined) return estimate;
  return value.memoryBytes();
}
