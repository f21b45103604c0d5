/**
 * What the REPL talks to: a kvdb server over TCP (`kvdb client`) or an
 * engine in this process (`kvdb cli`). Both take requests as arguments and
 * give typed replies (RESP2 or RESP3, as the session's `HELLO` chose), so
 * the REPL shows them alike.
 *
 * @example
 * ```ts
 * const [reply] = await session.run([["GET", "k"]]);
 * ```
 * @module
 */

import type { Reply } from "./reply.ts";

/** A source of replies. */
export interface ReplSession {
  /**
   * The longest request line the far end takes (its `max_message_size`),
   * in bytes; `Infinity` when it does not say.
   */
  readonly maxRequestBytes: number;
  /**
   * Runs requests (binary-string arguments) in order and returns one reply
   * per request. Rejects when the session is unusable (the server went
   * away); the message says why.
   */
  run(requests: readonly (readonly string[])[]): Promise<Reply[]>;
  /**
   * Replies that arrived unasked (RESP3 push messages) since the last call,
   * to show before the next replies.
   */
  takePushes(): Reply[];
  /**
   * Sends one request whose replies keep coming (SUBSCRIBE, MONITOR) and
   * hands each to `onReply` until an error reply, the connection's end or
   * `signal`. Absent where nothing else can send (the in-process engine).
   */
  stream?(
    args: readonly string[],
    onReply: (reply: Reply) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void>;
  /** Releases the connection or the local engine (flushing its WAL). */
  close(): Promise<void>;
}
