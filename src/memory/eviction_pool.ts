/**
 * Redis's eviction pool (evict.c's EVPOOL_SIZE): the best candidates seen
 * by the sampling rounds so far, kept sorted by score, so each round adds
 * its few samples to what earlier rounds found and eviction approximates
 * true LRU/LFU/TTL order far better than the samples of one round would.
 * Fixed arrays; entries are checked for existence when taken (a key may
 * have been deleted or changed since it was sampled).
 *
 * @example
 * ```ts
 * const pool = new EvictionPool();
 * pool.offer(0, "k", 12);
 * pool.takeBest(); // { db: 0, key: "k" } (then gone from the pool)
 * ```
 * @module
 */

/** Candidates kept (Redis's EVPOOL_SIZE). */
export const EVICTION_POOL_SIZE = 16;

/**
 * See the module doc. A higher score evicts first (idle time, 255 minus
 * the LFU counter, or minus the expiry time).
 */
export class EvictionPool {
  readonly #keys: string[] = new Array(EVICTION_POOL_SIZE).fill("");
  readonly #dbs = new Int32Array(EVICTION_POOL_SIZE);
  readonly #scores = new Float64Array(EVICTION_POOL_SIZE);
  /** Entries in use: indices [0, #size), ascending by score. */
  #size = 0;

  /** Candidates held. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds `key` of database `db` with `score` if the pool has room or it
   * beats the worst held (a key already held keeps one place).
   */
  offer(db: number, key: string, score: number): void {
    const keys = this.#keys;
    const dbs = this.#dbs;
    const scores = this.#scores;
    for (let i = 0; i < this.#size; i++) {
      if (keys[i] === key && dbs[i] === db) {
        if (scores[i] === score) return;
        this.#removeAt(i);
        break;
      }
    }
    if (this.#size === EVICTION_POOL_SIZE) {
      if (score <= scores[0]) return;
      this.#removeAt(0);
    }
    let at = this.#size;
    while (at > 0 && scores[at - 1] > score) {
      keys[at] = keys[at - 1];
      dbs[at] = dbs[at - 1];
      scores[at] = scores[at - 1];
      at--;
    }
    keys[at] = key;
    dbs[at] = db;
    scores[at] = score;
    this.#size++;
  }

  /** The best candidate (highest score), removed from the pool; undefined when empty. */
  takeBest(): { db: number; key: string } | undefined {
    if (this.#size === 0) return undefined;
    const at = --this.#size;
    const taken = { db: this.#dbs[at], key: this.#keys[at] };
    this.#keys[at] = "";
    return taken;
  }

  /** Forgets every candidate (the policy changed: scores no longer compare). */
  clear(): void {
    this.#keys.fill("");
    this.#size = 0;
  }

  #removeAt(index: number): void {
    for (let i = index; i < this.#size - 1; i++) {
      this.#keys[i] = this.#keys[i + 1];
      this.#dbs[i] = this.#dbs[i + 1];
      this.#scores[i] = this.#scores[i + 1];
    }
    this.#size--;
    this.#keys[this.#size] = "";
  }
}
