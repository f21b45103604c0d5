/**
 * How stream writes wake clients blocked in XREAD and XREADGROUP: a new
 * entry makes the key ready for `blocking/blocked_clients.ts`, which
 * serves its stream waiters after the command, as Redis's
 * `signalKeyAsReady` does.
 *
 * @example
 * ```ts
 * signalStreamReady(ctx, key); // after XADD
 * ```
 * @module
 */

import type { CommandContext } from "../../executor/command_spec.ts";
import { blockedClients } from "../../blocking/blocked_clients.ts";

/**
 * Tells the blocked clients that the stream at `key` changed in a way a
 * waiter may care about (cheap when nobody is blocked).
 *
 * @example
 * ```ts
 * signalStreamReady(ctx, "s");
 * ```
 */
export function signalStreamReady(ctx: CommandContext, key: string): void {
  const blocked = blockedClients(ctx.store);
  if (blocked.size > 0) blocked.signalKey(ctx.db.index, key);
}
