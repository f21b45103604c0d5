/**
 * Background expiry: every `intervalMs`, slices of {@link Store.expireSome}
 * delete (and log) keys whose time has passed, so memory does not fill with
 * dead keys nobody reads. As in Redis, a tick keeps taking slices while a
 * quarter or more of the keys a slice checked had expired — dead keys are
 * piling up — within a budget of a quarter of the interval, so the event
 * loop is never held for long and the reclaim rate follows the expiry rate.
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

/** How often a tick runs. */
export const ACTIVE_EXPIRY_INTERVAL_MS = 100;
/** Keys with an expiry time one slice checks. */
const SLICE_CHECKS = 2000;
/** Another slice follows while at least this share of the checked keys had expired. */
const KEEP_GOING_EXPIRED_SHARE = 0.25;
/** Share of the interval a tick may spend. */
const TICK_BUDGET_SHARE = 0.25;

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
  const budgetMs = intervalMs * TICK_BUDGET_SHARE;
  const timer = setInterval(() => {
    if (store.inGroup) return; // a yielded script's group: see Store.inGroup
    const startedMs = performance.now();
    let total = 0;
    try {
      while (true) {
        const deleted = store.expireSome(SLICE_CHECKS);
        total += deleted;
        if (deleted < SLICE_CHECKS * KEEP_GOING_EXPIRED_SHARE) break;
        if (performance.now() - startedMs >= budgetMs) break;
      }
    } catch (e) {
      // A failed log refuses the deletes: keys stay hidden until restart.
      log.debug("active expiry skipped", { error: e instanceof Error ? e.message : String(e) });
    }
    // The deletes are logged; nobody waits on them, but their undo entries
    // are released only by a commit.
    if (total > 0) store.commit().catch(() => {});
  }, intervalMs);
  return () => clearInterval(timer);
}
