/**
 * MEMORY USAGE's estimate of a collection's bytes with Redis's SAMPLES:
 * a large sorted set is estimated from `samples` of its elements times its
 * length (0: every element), as Redis's objectComputeSize does, so the
 * command stays O(samples) on a collection of millions. A big hash or set
 * keeps its byte counts and is measured whole, exactly, in O(1); the other
 * types and encodings are measured whole.
 *
 * @example
 * ```ts
 * collectionMemoryBytes(zset, 5); // ~ zset.memoryBytes(), from 5 members
 * ```
 * @module
 */

import type { Collection } from "../types/collection.ts";
import { ZsetValue } from "../types/zset/zset.ts";

/** Redis's default MEMORY USAGE SAMPLES (OBJ_COMPUTE_SIZE_DEF_SAMPLES). */
export const DEFAULT_MEMORY_SAMPLES = 5;

/** A big sorted set's own bytes and per-member bytes (as its memoryBytes). */
const ZSET_BYTES = 96;
const ZSET_MEMBER_BYTES = 48;

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
  // A hash and a set are measured whole: their tables keep their byte counts (O(1), exact).
  if (value instanceof ZsetValue) return value.encoding() === "skiplist" ? ZSET_BYTES : undefined;
  return undefined;
}

/**
 * The mean bytes per element of `samples` elements of a collection that
 * has a sampler ({@link sampledBase} is not undefined), or undefined if
 * every position sampled was a hole.
 */
function sampledMean(value: Collection, samples: number): number | undefined {
  if (value instanceof ZsetValue) {
    return sampleMean(value.positions, samples, (at) => {
      const member = value.memberAt(at);
      return member === undefined ? undefined : ZSET_MEMBER_BYTES + member.length;
    });
  }
  return undefined;
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
  const base = sampledBase(value);
  const mean = base === undefined ? undefined : sampledMean(value, samples);
  if (base === undefined || mean === undefined) return value.memoryBytes();
  return base + Math.round(mean * value.length);
}

/**
 * A charge is measured afresh after this many reuses of its mean, or once
 * the length moved by more than an eighth since: a collection's mean
 * element size drifts slowly, and measuring on every write cost 4-15% of
 * each collection write (in-process, redis-benchmark's request shapes:
 * ZADD 1903 → 1597 ns/op without it), and ~50% of a pipelined XADD into a
 * 100k-entry stream (summing its nodes).
 */
const CHARGE_REUSES = 16;

/** A collection's last charge measure (see {@link collectionChargeBytes}). */
interface ChargeSample {
  /** Bytes per element: sampled (beside a base), or the whole measure over the length. */
  meanBytes: number;
  /** Whether `meanBytes` came from a sampler (else from a whole measure). */
  sampled: boolean;
  length: number;
  reuses: number;
}

const chargeSamples = new WeakMap<Collection, ChargeSample>();

/**
 * The collection's charge in `used_memory`, taken after every change in
 * place: {@link collectionMemoryBytes} with Redis's default SAMPLES. Its
 * mean per element — sampled, or for a type whose whole measure walks
 * its elements (`memoryBytesWalks`: a stream, an intset) that measure over
 * its length — is reused for up to {@link CHARGE_REUSES} changes while the
 * length stays within an eighth (the base, a hash's value arena, is read
 * fresh each time).
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
  const sampled = base !== undefined;
  if (!sampled && !value.memoryBytesWalks) return value.memoryBytes();
  const last = chargeSamples.get(value);
  let meanBytes: number | undefined;
  if (
    last !== undefined && last.sampled === sampled && last.reuses < CHARGE_REUSES &&
    Math.abs(length - last.length) * 8 <= last.length
  ) {
    last.reuses++;
    meanBytes = last.meanBytes;
  } else {
    meanBytes = sampled ? sampledMean(value, DEFAULT_MEMORY_SAMPLES) : value.memoryBytes() / length;
    if (meanBytes === undefined) return value.memoryBytes();
    chargeSamples.set(value, { meanBytes, sampled, length, reuses: 0 });
  }
  return (base ?? 0) + Math.round(meanBytes * length);
}
