/**
 * A string-keyed index for one command's own bookkeeping (SADD's members
 * seen, ZADD's scores set so far), reused from command to command and
 * emptied in O(1) by a generation stamp.
 *
 * Why not a `Map` or `Set` made per command: V8 15 internalizes a string
 * on its first Map lookup (~250 ns each for a request's fresh members, and
 * a string table that grows in pauses; see README "The keyspace"), and a
 * typed array made per command costs ~1–2 µs. Here a member costs one
 * JavaScript hash and a probe.
 *
 * @example
 * ```ts
 * const seen = new ScratchIndex();
 * seen.reset(3);
 * seen.set("a", 1);
 * seen.get("a"); // 1
 * seen.reset(3);
 * seen.get("a"); // undefined
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import { stringHash } from "./string_map.ts";

const INITIAL_SLOTS = 64;
/** Past this many slots, a reset for a much smaller command gives the room back. */
const MAX_KEPT_SLOTS = 4096;

/** See the module doc. */
export class ScratchIndex {
  #stamps = new Uint32Array(INITIAL_SLOTS);
  #hashes = new Int32Array(INITIAL_SLOTS);
  #keys: string[] = new Array(INITIAL_SLOTS).fill("");
  #values: number[] = new Array(INITIAL_SLOTS).fill(0);
  #mask = INITIAL_SLOTS - 1;
  /** The current generation: a slot is in use when its stamp equals it. */
  #generation = 1;
  #size = 0;

  /** Empties the index for a command that will add at most `keys` keys. */
  reset(keys: number): void {
    this.#size = 0;
    let wanted = INITIAL_SLOTS;
    while (keys * 2 > wanted) wanted *= 2;
    const slots = this.#mask + 1;
    if (wanted > slots || (slots > MAX_KEPT_SLOTS && wanted * 8 <= slots)) {
      this.#stamps = new Uint32Array(wanted);
      this.#hashes = new Int32Array(wanted);
      this.#keys = new Array(wanted).fill("");
      this.#values = new Array(wanted).fill(0);
      this.#mask = wanted - 1;
      this.#generation = 1;
      return;
    }
    this.#generation++;
    if (this.#generation === 0xffffffff) {
      this.#stamps.fill(0);
      this.#generation = 1;
    }
  }

  /** The value of `key`, or undefined. */
  get(key: string): number | undefined {
    const slot = this.#find(key, stringHash(key));
    return slot < 0 ? undefined : this.#values[slot];
  }

  /** Whether `key` is held. */
  has(key: string): boolean {
    return this.#find(key, stringHash(key)) >= 0;
  }

  /** Sets `key` to `value` (at most the `keys` given to {@link reset} distinct keys). */
  set(key: string, value = 0): void {
    const hash = stringHash(key);
    let slot = this.#find(key, hash);
    if (slot < 0) {
      assert((this.#size + 1) * 2 <= this.#mask + 1, "a scratch index holds what reset announced");
      slot = ~slot;
      this.#stamps[slot] = this.#generation;
      this.#hashes[slot] = hash;
      this.#keys[slot] = key;
      this.#size++;
    }
    this.#values[slot] = value;
  }

  /** The slot of `key`, or the complement of the free slot where it would go. */
  #find(key: string, hash: number): number {
    const generation = this.#generation;
    for (let slot = hash & this.#mask;; slot = (slot + 1) & this.#mask) {
      if (this.#stamps[slot] !== generation) return ~slot;
      if (this.#hashes[slot] === hash && this.#keys[slot] === key) return slot;
    }
  }
}

/** The index {@link distinctArgs} uses. */
const DISTINCT = new ScratchIndex();

/**
 * `args[from..]` without repeats, in the order first seen, keeping those
 * `keep` accepts: the elements a command acts on once each (SADD's new
 * members, HDEL's held fields), without a `Set` made per request.
 *
 * @example
 * ```ts
 * distinctArgs(["SREM", "s", "a", "b", "a"], 2, (m) => m !== "b"); // ["a"]
 * ```
 */
export function distinctArgs(
  args: readonly string[],
  from: number,
  keep: (arg: string) => boolean,
): string[] {
  DISTINCT.reset(args.length - from);
  const out: string[] = [];
  for (let i = from; i < args.length; i++) {
    const arg = args[i];
    if (DISTINCT.has(arg)) continue;
    DISTINCT.set(arg);
    if (keep(arg)) out.push(arg);
  }
  return out;
}
