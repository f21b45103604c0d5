/**
 * CLIENT REPLY ON | OFF | SKIP, as Redis 7.0: OFF hides every reply until
 * ON; SKIP hides the next command's reply. CLIENT REPLY OFF and SKIP
 * reply nothing themselves, ON replies OK. Pub/sub messages and
 * (un)subscribe confirmations are pushes and are sent all the same;
 * MONITOR lines are replies and are hidden.
 *
 * The connection passes a {@link SuppressingWriter} instead of its writer
 * only while `session.replyFlags` is non-zero, so the common case costs
 * one test per request.
 *
 * @example
 * ```ts
 * session.replyFlags = REPLY_OFF;
 * const w = session.replyFlags === 0 ? writer : suppressing;
 * ```
 * @module
 */

import type { Session } from "../executor/command_spec.ts";
import type { CommandError, ReplyWriter, TextRendering } from "../protocol/reply_writer.ts";

/** CLIENT REPLY OFF: no replies. */
export const REPLY_OFF = 1;
/** The current command's reply is hidden (the one after CLIENT REPLY SKIP). */
export const REPLY_SKIP = 2;
/** CLIENT REPLY SKIP was run: the next command's reply is hidden. */
export const REPLY_SKIP_NEXT = 4;
/**
 * Output waits for the end of the current command (a MONITOR client's line
 * for its own command, which Redis writes after the reply).
 */
export const REPLY_DEFERRED = 8;

/** Whether replies written now are hidden. */
export function repliesHidden(session: Session): boolean {
  return (session.replyFlags & (REPLY_OFF | REPLY_SKIP)) !== 0;
}

/**
 * After each command (Redis's `resetClient`): a SKIP ends with the command
 * it hid, and a SKIP asked for now applies to the next command.
 */
export function afterCommand(session: Session): void {
  let flags = session.replyFlags & ~(REPLY_SKIP | REPLY_DEFERRED);
  if (flags & REPLY_SKIP_NEXT) flags = (flags & ~REPLY_SKIP_NEXT) | REPLY_SKIP;
  session.replyFlags = flags;
}

/**
 * A writer that forwards to the connection's only while the session's
 * replies are not hidden (checked at each call, so CLIENT REPLY ON's own
 * OK, written after it clears OFF, is sent).
 *
 * @example
 * ```ts
 * executor.execute(args, new SuppressingWriter(writer, session), session);
 * ```
 */
export class SuppressingWriter implements ReplyWriter {
  constructor(readonly inner: ReplyWriter, readonly session: Session) {}

  #on(): boolean {
    return (this.session.replyFlags & (REPLY_OFF | REPLY_SKIP)) === 0;
  }

  begin(rendering: TextRendering | undefined, argc: number): void {
    this.inner.begin(rendering, argc);
  }
  status(text: string): void {
    if (this.#on()) this.inner.status(text);
  }
  error(error: CommandError): void {
    if (this.#on()) this.inner.error(error);
  }
  integer(value: number | bigint): void {
    if (this.#on()) this.inner.integer(value);
  }
  bulk(value: string): void {
    if (this.#on()) this.inner.bulk(value);
  }
  bulkBytes(value: Uint8Array): void {
    if (this.#on()) this.inner.bulkBytes(value);
  }
  bulkRange(bytes: Uint8Array, start: number, end: number): void {
    if (this.#on()) this.inner.bulkRange(bytes, start, end);
  }
  nil(): void {
    if (this.#on()) this.inner.nil();
  }
  nilArray(): void {
    if (this.#on()) this.inner.nilArray();
  }
  array(count: number): void {
    if (this.#on()) this.inner.array(count);
  }
  map(count: number): void {
    if (this.#on()) this.inner.map(count);
  }
  set(count: number): void {
    if (this.#on()) this.inner.set(count);
  }
  push(count: number): void {
    if (this.#on()) this.inner.push(count);
  }
  double(value: number): void {
    if (this.#on()) this.inner.double(value);
  }
  bigNumber(value: bigint | string): void {
    if (this.#on()) this.inner.bigNumber(value);
  }
  verbatim(format: string, text: string): void {
    if (this.#on()) this.inner.verbatim(format, text);
  }
  boolean(value: boolean): void {
    if (this.#on()) this.inner.boolean(value);
  }
}
