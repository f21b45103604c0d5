/**
 * Two listeners for the store's key changes as one (the store holds one):
 * WATCH's registry and the blocked clients'. Each is told only while it
 * listens, so with nobody watching or blocked a write still pays one
 * counter test.
 *
 * @example
 * ```ts
 * store.keyChanges = new BothListeners(watches, blockedClients(store));
 * ```
 * @module
 */

import type { KeyChangeListener } from "../storage/store.ts";

/**
 * Tells both listeners of every change.
 *
 * @example
 * ```ts
 * new BothListeners(a, b).size; // a.size + b.size
 * ```
 */
export class BothListeners implements KeyChangeListener {
  constructor(readonly first: KeyChangeListener, readonly second: KeyChangeListener) {}

  /** See {@link KeyChangeListener.size}. */
  get size(): number {
    return this.first.size + this.second.size;
  }

  /** See {@link KeyChangeListener.touch}. */
  touch(db: number, key: string, exists: () => boolean): void {
    if (this.first.size > 0) this.first.touch(db, key, exists);
    if (this.second.size > 0) this.second.touch(db, key, exists);
  }

  /** See {@link KeyChangeListener.flushed}. */
  flushed(db: number, exists: (key: string) => boolean): void {
    if (this.first.size > 0) this.first.flushed(db, exists);
    if (this.second.size > 0) this.second.flushed(db, exists);
  }
}
