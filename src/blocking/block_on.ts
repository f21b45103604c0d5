/**
 * How a blocking command waits: it registers its client with the store's
 * {@link BlockedClients} and replies when the wait ends — what the serve
 * popped, Redis's nil array at the timeout (RESP2 `*-1`, RESP3 `_`, for
 * every blocking list and sorted-set command), or the error. The reply is
 * written only once the connection has sent the replies before it (a
 * pipeline's earlier replies go out when the command blocks, as in Redis).
 *
 * @example
 * ```ts
 * if (ctx.session.inExec) return w.nilArray(); // MULTI never blocks
 * return blockOn(ctx, w, { keys, type: "list", timeoutMs, serve });
 * ```
 * @module
 */

import type { CommandContext } from "../executor/command_spec.ts";
import type { ReplyWriter } from "../protocol/reply_writer.ts";
import { blockedClients, type BlockRequest } from "./blocked_clients.ts";

/**
 * Blocks the client of `ctx` until `request` is served, times out or is
 * ended, then replies into `w` (nothing if the connection closed). Call
 * it synchronously from the handler: it copies `ctx` before the next
 * command reuses it.
 *
 * @example
 * ```ts
 * return blockOn(ctx, w, request); // the handler's promise
 * ```
 */
export async function blockOn(
  ctx: CommandContext,
  w: ReplyWriter,
  request: BlockRequest,
): Promise<void> {
  const session = ctx.session;
  const outcome = await blockedClients(ctx.store).block({ ...ctx }, request);
  const sending = session.client?.io.sending;
  if (sending !== undefined) await sending.catch(() => {});
  switch (outcome.kind) {
    case "served":
      return outcome.reply(w);
    case "timeout":
      return w.nilArray();
    case "error":
      throw outcome.error;
    case "dropped":
      return;
  }
}
