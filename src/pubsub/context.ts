/**
 * What a subscribed or MONITORing session may run, as Redis 7.0 decides in
 * `processCommand`: a RESP2 connection with subscriptions only the
 * (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE commands, PING, QUIT and RESET (RESP3
 * ones anything: their messages are pushes beside the replies); a MONITOR
 * connection (a replica to Redis) nothing that reads or writes keys.
 *
 * The executor asks only while `session.restricted` is set.
 *
 * @example
 * ```ts
 * const refused = refusedInContext(spec, session); // a CommandError, or undefined
 * ```
 * @module
 */

import { COMMAND_FLAG_BITS, type CommandSpec, type Session } from "../executor/command_spec.ts";
import { CommandError } from "../protocol/reply_writer.ts";

const ALLOWED_WHEN_SUBSCRIBED: ReadonlySet<string> = new Set([
  "PING",
  "SUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "SUNSUBSCRIBE",
  "PSUBSCRIBE",
  "PUNSUBSCRIBE",
  "QUIT",
  "RESET",
]);

const KEYSPACE_FLAGS = COMMAND_FLAG_BITS.write | COMMAND_FLAG_BITS.readonly |
  COMMAND_FLAG_BITS.may_replicate;

/**
 * Redis's refusal of `spec` for `session` in its context, or undefined
 * when it may run. Called after the arity and READONLY checks, before
 * LOADING, as Redis orders them.
 *
 * @example
 * ```ts
 * if (session.restricted) refusedInContext(spec, session);
 * ```
 */
export function refusedInContext(spec: CommandSpec, session: Session): CommandError | undefined {
  if (
    session.subscriptions !== 0 && session.protocol === 2 &&
    !ALLOWED_WHEN_SUBSCRIBED.has(spec.name)
  ) {
    const message = `Can't execute '${spec.fullName}': only (P|S)SUBSCRIBE / ` +
      "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";
    return new CommandError("ERR", message, message);
  }
  if (session.client?.monitor === true && (spec.flags & KEYSPACE_FLAGS) !== 0) {
    return new CommandError(
      "ERR",
      "Replica can't interact with the keyspace",
      "a MONITOR connection cannot read or write keys",
    );
  }
  return undefined;
}

/**
 * Recomputes `session.restricted` after its subscriptions or MONITOR state
 * changed.
 *
 * @example
 * ```ts
 * session.subscriptions = client.subscriptions.total;
 * updateRestricted(session);
 * ```
 */
export function updateRestricted(session: Session): void {
  session.restricted = session.subscriptions !== 0 || session.client?.monitor === true;
}
