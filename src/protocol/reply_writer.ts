/**
 * The reply types every command answers with, independent of the wire.
 *
 * Commands call a {@link ReplyWriter}; each protocol implements it and
 * renders straight into the connection's output buffer, so no reply objects
 * are built. The types are Redis's RESP3 types; RESP2 and the text protocol
 * render each as Redis does in RESP2 (the text protocol on one line).
 *
 * @example
 * ```ts
 * function get(w: ReplyWriter, value: string | undefined) {
 *   if (value === undefined) w.nil();
 *   else w.bulk(value);
 * }
 * ```
 * @module
 */

/**
 * How the text protocol renders a command's replies where it departs from
 * the generic rendering (the original's replies, kept for good).
 */
export interface TextRendering {
  /** Line for a nil reply instead of `(nil)`, e.g. `ERROR: key not found`. */
  nil?: string;
  /** Line for an integer reply, given the request's argument count. */
  integer?: (value: number, argc: number) => string;
}

/**
 * An error reply: the Redis form (`code`, `message`) and the text protocol's
 * wording (`text`, shown after `ERROR: `).
 *
 * @example
 * ```ts
 * new CommandError("ERR", "syntax error", "syntax error");
 * ```
 */
export class CommandError extends Error {
  constructor(
    /** Redis error code: ERR, WRONGTYPE, READONLY, ... */
    readonly code: string,
    /** Redis message after the code. */
    message: string,
    /** Text-protocol wording after `ERROR: `. */
    readonly text: string = message,
  ) {
    super(message);
  }
}

/**
 * Which RESP version a connection speaks (HELLO changes it): the writer
 * reads it at each reply, so HELLO's own reply is in the new version.
 */
export interface ProtocolVersion {
  readonly protocol: 2 | 3;
}

/**
 * Where a command writes its reply. Exactly one top-level reply per request;
 * an array, map, set or push header is followed by that many replies (a
 * map: twice that many, key and value).
 *
 * Each protocol renders every type: RESP3 natively; RESP2 as Redis renders
 * it there (a map as a flat array, a double as a bulk string, a boolean as
 * an integer, ...); the text protocol on one line.
 *
 * @example
 * ```ts
 * w.begin(undefined, 1);
 * w.status("PONG");
 * ```
 */
export interface ReplyWriter {
  /** Starts the reply to one request (`rendering` may be undefined). */
  begin(rendering: TextRendering | undefined, argc: number): void;
  /** A status reply (`+OK`). */
  status(text: string): void;
  /** An error reply. */
  error(error: CommandError): void;
  /** An integer reply (a bigint for 64-bit values beyond ±2^53). */
  integer(value: number | bigint): void;
  /** A bulk string reply holding a binary string. */
  bulk(value: string): void;
  /**
   * A bulk string reply of these bytes. The caller guarantees they do not
   * change until the reply is sent: large ones are sent from where they
   * are, not copied.
   */
  bulkBytes(value: Uint8Array): void;
  /**
   * A bulk string reply of `bytes[start, end)`, copied now (the bytes may
   * change after): a value kept as bytes is sent without a string made.
   */
  bulkRange(bytes: Uint8Array, start: number, end: number): void;
  /** The nil bulk reply: RESP2 `$-1`, RESP3 `_`. */
  nil(): void;
  /** The nil array reply: RESP2 `*-1`, RESP3 `_`. */
  nilArray(): void;
  /** An array header: `count` replies follow. */
  array(count: number): void;
  /** A map header: `count` key/value pairs follow. RESP2: an array of 2 × count. */
  map(count: number): void;
  /** A set header: `count` replies follow. RESP2: an array. */
  set(count: number): void;
  /** A push header (pub/sub messages): `count` replies follow. RESP2: an array. */
  push(count: number): void;
  /**
   * A double, formatted as Redis 7.0 does (`%.17g`, `inf`, `-inf`, `nan`).
   * RESP3 `,`; RESP2 a bulk string.
   */
  double(value: number): void;
  /** A big number (decimal digits, maybe a leading `-`). RESP3 `(`; RESP2 a bulk string. */
  bigNumber(value: bigint | string): void;
  /** A verbatim string; `format` is 3 chars (`txt`, `mkd`). RESP3 `=`; RESP2 a bulk string of `text`. */
  verbatim(format: string, text: string): void;
  /** A boolean. RESP3 `#t`/`#f`; RESP2 the integer 1 or 0. */
  boolean(value: boolean): void;
}
