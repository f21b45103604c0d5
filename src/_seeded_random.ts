/**
 * A seeded pseudo-random generator for tests (mulberry32): the same
 * sequence every run, so a failure repeats.
 *
 * @example
 * ```ts
 * const random = seededRandom(7);
 * random(); // a number in [0, 1), the same for seed 7 every time
 * ```
 * @module
 */

/**
 * Numbers in [0, 1) from `seed`.
 *
 * @example
 * ```ts
 * const next = seededRandom(1);
 * Math.floor(next() * 6); // a die roll
 * ```
 */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
