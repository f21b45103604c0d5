/**
 * WATCH: which clients watch which keys, and the mark a change leaves.
 *
 * The store calls {@link WatchRegistry.touch} for every key it changes and
 * {@link WatchRegistry.flushed} when it empties a database, so no write path
 * can forget a watcher; a watcher's EXEC then fails (replies nil). As in
 * Redis 7, a key that was already expired when watched is not "changed" by
 * the deletion of its expired remains, and a key that expires between WATCH
 * and EXEC counts as changed (EXEC checks that itself: see
 * `commands.ts`).
 *
 * @example
 * ```ts
 * const registry = new WatchRegistry();
 * const watcher = newWatcher();
 * registry.watch(watcher, 0, "k", false);
 * registry.touch(0, "k", () => true);
 * watcher.dirty; // true
 * ```
 * @module
 */

import { StringMap } from "../types/string_map.ts";

/** One client's WATCH state. */
export interface Watcher {
  /** A watched key changed: the next EXEC fails. */
  dirty: boolean;
  /** The keys it watches. */
  readonly keys: WatchedKey[];
}

/** One watched key of one client. */
export interface WatchedKey {
  readonly watcher: Watcher;
  readonly db: number;
  readonly key: string;
  /** The key was (logically) expired when watched. */
  expired: boolean;
}

/**
 * A fresh, empty WATCH state for a client.
 *
 * @example
 * ```ts
 * session.watcher = newWatcher();
 * ```
 */
export function newWatcher(): Watcher {
  return { dirty: false, keys: [] };
}

/**
 * Watched keys by database and key.
 *
 * @example
 * ```ts
 * registry.unwatchAll(watcher); // after EXEC, DISCARD, UNWATCH or a disconnect
 * ```
 */
export class WatchRegistry {
  /**
   * Watchers by database and key: a {@link StringMap}, as every write asks
   * it for its key while anyone watches (a Map lookup internalizes the
   * request's key string in V8 15: see `blocking/blocked_clients.ts`).
   */
  readonly #byDb = new Map<number, StringMap<Set<WatchedKey>>>();
  #size = 0;

  /** Watched keys across all clients (0: the store skips its bookkeeping). */
  get size(): number {
    return this.#size;
  }

  /** Starts watching `key` of database `db` (a key watched twice is watched once). */
  watch(watcher: Watcher, db: number, key: string, expired: boolean): void {
    if (watcher.keys.some((w) => w.db === db && w.key === key)) return;
    let keys = this.#byDb.get(db);
    if (keys === undefined) this.#byDb.set(db, keys = new StringMap());
    let watching = keys.get(key);
    if (watching === undefined) keys.set(key, watching = new Set());
    const watched: WatchedKey = { watcher, db, key, expired };
    watching.add(watched);
    watcher.keys.push(watched);
    this.#size++;
  }

  /** Forgets every key `watcher` watches and clears its mark. */
  unwatchAll(watcher: Watcher): void {
    for (const watched of watcher.keys) {
      const keys = this.#byDb.get(watched.db)!;
      const watching = keys.get(watched.key)!;
      watching.delete(watched);
      if (watching.size === 0) keys.delete(watched.key);
      if (keys.size === 0) this.#byDb.delete(watched.db);
      this.#size--;
    }
    watcher.keys.length = 0;
    watcher.dirty = false;
  }

  /**
   * `key` of `db` changed (or was deleted; `exists` says whether it still
   * is in the keyspace, expired or not): marks its watchers.
   */
  touch(db: number, key: string, exists: () => boolean): void {
    const watching = this.#byDb.get(db)?.get(key);
    if (watching === undefined) return;
    for (const watched of watching) {
      // The deletion of a key already expired when watched changes nothing.
      if (watched.expired && !exists()) {
        watched.expired = false;
        continue;
      }
      watched.watcher.dirty = true;
    }
  }

  /**
   * Database `db` is being emptied: marks the watchers of the keys that
   * `exists` says it holds (a watched key that was not there is unchanged).
   */
  flushed(db: number, exists: (key: string) => boolean): void {
    const keys = this.#byDb.get(db);
    if (keys === undefined) return;
    for (let at = 0; at < keys.positions; at++) {
      const key = keys.keyAt(at);
      const watching = keys.valueAt(at);
      if (key === undefined || watching === undefined || !exists(key)) continue;
      for (const watched of watching) watched.watcher.dirty = true;
    }
  }
}
