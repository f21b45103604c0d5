/**
 * What the REPL talks to: a kvdb server over TCP (`kvdb client`) or an
 * engine in this process (`kvdb cli`). Both take text-protocol request
 * lines and give one reply line each, so the REPL cannot tell them apart.
 *
 * @example
 * ```ts
 * const replies = await session.run([new TextEncoder().encode("GET k")]);
 * ```
 * @module
 */

/** A source of text-protocol replies. */
export interface ReplSession {
  /**
   * Runs request lines (each without its newline) in order and returns one
   * reply line (without newline) per request. Rejects when the session is
   * unusable (the server went away); the message says why.
   */
  run(lines: Uint8Array[]): Promise<Uint8Array[]>;
  /** Releases the connection or the local engine (flushing its WAL). */
  close(): Promise<void>;
}
