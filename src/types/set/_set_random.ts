/**
 * Random picks from a set, with Redis 7.0's strategies where they decide
 * what is observable (SPOP's rebuild, SRANDMEMBER's cases): the members
 * themselves are random, so only their number, distinctness and membership
 * can match Redis.
 *
 * @example
 * ```ts
 * distinctRandomMembers(set, 3); // three different members
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";
import type { SetValue } from "./set.ts";

/** A random integer in [0, n). */
export function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}

/**
 * `count` distinct random positions of a set of `size` members (count ≤
 * size): by rejection while few are wanted, by a partial shuffle of every
 * position when most are (each pick then costs O(1) either way).
 */
export function distinctRandomPositions(size: number, count: number): number[] {
  assert(count <= size, "no more distinct positions than members");
  if (count * 3 > size) {
    const all = Array.from({ length: size }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + randomIndex(size - i);
      const picked = all[j];
      all[j] = all[i];
      all[i] = picked;
    }
    all.length = count;
    return all;
  }
  const seen = new Set<number>();
  const out: number[] = [];
  while (out.length < count) {
    const at = randomIndex(size);
    if (seen.has(at)) continue;
    seen.add(at);
    out.push(at);
  }
  return out;
}

/**
 * `count` distinct random members of `set` (count < its size). A packed
 * set is listed once rather than walked for each pick.
 */
export function distinctRandomMembers(
  set: Pick<SetValue, "length" | "indexed" | "memberAt" | "members">,
  count: number,
): string[] {
  const positions = distinctRandomPositions(set.length, count);
  if (set.indexed) return positions.map((at) => set.memberAt(at));
  const all = set.members();
  return positions.map((at) => all[at]);
}
