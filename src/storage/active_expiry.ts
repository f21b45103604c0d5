/**
 * Background expiry: every `intervalMs`, one bounded slice of
 * {@link Store.expireSome} deletes (and logs) keys whose time has passed,
 * so memory does not fill with dead keys nobody reads. Each slice checks at
 * most a fixed number of keys, so the event loop is never held for long.
 *
 * @example
 * ```ts
 * const stop = startActiveExpiry(store, log);
 * stop(); // at shutdown
 * ```
 * @module
 */

import type { Logger } from "../log/logger.ts";
import type { Store } from "./store.ts";

/** How often a slice runs. */
export const ACTIVE_EXPIRY_INTERVAL_MS = 100;

/**
 * Starts background expiry; returns the function that stops it.
 *
 * @example
 * ```ts
 * const stop = startActiveExpiry(store, log, 50);
 * ```
 */
export function startActiveExpiry(
  store: Store,
  log: Logger,
  intervalMs = ACTIVE_EXPIRY_INTERVAL_MS,
): () => void {
  const timer = setInterval(() => {
    let deleted: number;
    try {
      deleted = store.expireSome();
    } catch (e) {
      // A failed log refuses the deletes: keys stay hidden until restart.
      log.debug("active expiry skipped", { error: e instanceof Error ? e.message : String(e) });
      return;
    }
    // The deletes are logged; nobody waits on them, but their undo entries
    // are released only by a commit.
    if (deleted > 0) store.commit().catch(() => {});
  }, intervalMs);
  return () => clearInterval(timer);
}
