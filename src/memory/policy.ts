/**
 * Redis 7.0's eight `maxmemory-policy` values and what each means for
 * eviction: which keys may go (all, or only those with an expiry time) and
 * how candidates are ranked (least recently used, least frequently used,
 * nearest expiry, or at random).
 *
 * @example
 * ```ts
 * policyTraits("volatile-lfu"); // { volatileOnly: true, rank: "lfu" }
 * ```
 * @module
 */

/** The policies, as Redis lists them in its CONFIG SET error. */
export const MAXMEMORY_POLICIES = [
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "noeviction",
] as const;

/** One of {@link MAXMEMORY_POLICIES}. */
export type MaxmemoryPolicy = typeof MAXMEMORY_POLICIES[number];

/** How a policy ranks eviction candidates; `none` evicts nothing. */
export type EvictionRank = "lru" | "lfu" | "ttl" | "random" | "none";

/** What a policy means for eviction. */
export interface PolicyTraits {
  /** Only keys with an expiry time may be evicted. */
  volatileOnly: boolean;
  rank: EvictionRank;
}

/**
 * The traits of `policy`.
 *
 * @example
 * ```ts
 * policyTraits("allkeys-lru").rank; // "lru"
 * ```
 */
export function policyTraits(policy: MaxmemoryPolicy): PolicyTraits {
  if (policy === "noeviction") return { volatileOnly: false, rank: "none" };
  const [scope, rank] = policy.split("-") as ["volatile" | "allkeys", EvictionRank];
  return { volatileOnly: scope === "volatile", rank };
}
