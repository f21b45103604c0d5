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

/** What one sampling found: a collection's base bytes and mean bytes per element. */
interface Sample {
  base: number;
  meanBytes: number;
}

/**
 * Samples `samples` evenly spread positions of `positions` with `measure`
 * (undefined: a hole, the next one is taken): the mean, or undefined if
 * every position was a hole.
 */
function sampleMean(
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
  return seen === 0 ? undefined : bytes / seen;
}

/**
 * A collection's bytes besides its sampled elements, for the types and
 * encodings with a sampler; undefined for the others (measured whole).
 */
function sampledBase(value: Collection): number | undefined {
  if (value instanceof HashValue) {
    // The values sit together in one arena whose size is known: only fields are sampled.
    return value.encoding() === "hashtable" ? TABLE_BYTES + value.valueBytes : undefined;
  }
  if (value instanceof SetValue) return value.isHashtable ? SET_BYTES : undefined;
  if (value instanceof ZsetValue) return value.encoding() === "skiplist" ? ZSET_BYTES : undefined;
  return undefined;
}

/** The sample of a type with a sampler, or undefined (measured whole). */
function sample(value: Collection, samples: number): Sample | undefined {
  const base = sampledBase(value);
  if (base === undefined) return undefined;
  let mean: number | undefined;
  if (value instanceof HashValue) {
    mean = sampleMean(value.positions, samples, (at) => {
      const field = value.fieldAt(at);
      return field === undefined ? undefined : HASH_FIELD_OVERHEAD_BYTES + field.length;
    });
  } else if (value instanceof SetValue) {
    mean = sampleMean(value.length, samples, (at) => {
      // A member table may have holes below the count.
      const member = value.memberAt(at) as string | undefined;
      return member === undefined ? undefined : SET_MEMBER_BYTES + member.length;
    });
  } else if (value instanceof ZsetValue) {
    mean = sampleMean(value.positions, samples, (at) => {
      const member = value.memberAt(at);
      return member === undefined ? undefined : ZSET_MEMBER_BYTES + member.length;
    });
  }
  return mean === undefined ? undefined : { base, meanBytes: mean };
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
  const found = sample(value, samples);
  return found === undefined
    ? value.memoryBytes()
    : found.base + Math.round(found.meanBytes * value.length);
}

/**
 * A charge is sampled afresh after this many reuses of its mean, or once
 * the length moved by more than an eighth since: a collection's mean
 * element size drifts slowly, and sampling on every write cost 4-15% of
 * each collection write (in-process, redis-benchmark's request shapes:
 * ZADD 1903 → 1597 ns/op without it).
 */
const CHARGE_REUSES = 16;

/** A collection's last charge sample (see {@link collectionChargeBytes}). */
interface ChargeSample {
  meanBytes: number;
  length: number;
  reuses: number;
}

const chargeSamples = new WeakMap<Collection, ChargeSample>();

/**
 * The collection's charge in `used_memory`, taken after every change in
 * place: {@link collectionMemoryBytes} with Redis's default SAMPLES, its
 * mean per element reused for up to {@link CHARGE_REUSES} changes while
 * the length stays within an eighth (the base — a hash's value arena — is
 * read fresh each time).
 *
 * @example
 * ```ts
 * collectionChargeBytes(hash); // ~ collectionMemoryBytes(hash, 5)
 * ```
 */
export function collectionChargeBytes(value: Collection): number {
  const length = value.length;
  if (length <= DEFAULT_MEMORY_SAMPLES) return value.memoryBytes();
  const base = sampledBase(value);
  if (base === undefined) return wholeChargeBytes(value, length);
  const last = chargeSamples.get(value);
  if (
    last !== undefined && last.reuses < CHARGE_REUSES &&
    Math.abs(length - last.length) * 8 <= last.length
  ) {
    last.reuses++;
    return base + Math.round(last.meanBytes * length);
  }
  const found = sample(value, DEFAULT_MEMORY_SAMPLES);
  if (found === undefined) return value.memoryBytes();
  chargeSamples.set(value, { meanBytes: found.meanBytes, length, reuses: 0 });
  return found.base + Math.round(found.meanBytes * length);
}

/**
 * The charge of a collection without a sampler: its whole measure, which
 * for one that walks its elements (a stream's nodes, an intset) is reused,
 * scaled by its length, as {@link collectionChargeBytes} reuses a mean
 * (measured: a stream of 100k entries under pipelined XADD spent ~50% of
 * its CPU summing its nodes after each entry).
 */
function wholeChargeBytes(value: Collection, length: number): number {
  if (!value.memoryBytesWalks) return value.memoryBytes();
  const last = chargeSamples.get(value);
  if (
    last !== undefined && last.reuses < CHARGE_REUSES &&
    Math.abs(length - last.length) * 8 <= last.length
  ) {
    last.reuses++;
    return Math.round(last.meanBytes * length);
  }
  const bytes = value.memoryBytes();
  chargeSamples.set(value, { meanBytes: bytes / length, length, reuses: 0 });
  return bytes;
}
