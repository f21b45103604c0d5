/**
 * The prototype's RESP subset: multibulk requests (`*N\r\n$len\r\n...`) as
 * redis-benchmark sends them, parsed in place into argument offsets (no
 * strings), and a growable reply buffer. Inline commands are not parsed.
 *
 * @example
 * ```ts
 * const request = new Request();
 * const bytes = new TextEncoder().encode("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
 * request.parse(bytes, 0, bytes.length); // the end of the request: bytes.length
 * request.argc; // 2
 * ```
 * @module
 */

/** Arguments one request may have (GET 2, SET 3; more is refused). */
export const MAX_ARGS = 8;
/** Bytes one argument may have. */
export const MAX_ARG_BYTES = 1 << 20;
/** The parse result for a request that is not all there yet. */
export const INCOMPLETE = -1;
/** The parse result for bytes that are not a request of this subset. */
export const MALFORMED = -2;

const CR = 13;
const STAR = 42;
const DOLLAR = 36;

/** The offsets of one parsed request's arguments. */
export class Request {
  argc = 0;
  readonly starts = new Int32Array(MAX_ARGS);
  readonly ends = new Int32Array(MAX_ARGS);

  /**
   * Parses the request at `from` in `bytes[..to]`: its end, or
   * {@link INCOMPLETE}, or {@link MALFORMED}.
   */
  parse(bytes: Uint8Array, from: number, to: number): number {
    if (from >= to) return INCOMPLETE;
    if (bytes[from] !== STAR) return MALFORMED;
    let at = from + 1;
    let argc = 0;
    while (at < to && bytes[at] !== CR) argc = argc * 10 + bytes[at++] - 48;
    if (at + 1 >= to) return INCOMPLETE;
    if (argc < 1 || argc > MAX_ARGS) return MALFORMED;
    at += 2;
    for (let i = 0; i < argc; i++) {
      if (at >= to) return INCOMPLETE;
      if (bytes[at] !== DOLLAR) return MALFORMED;
      at++;
      let length = 0;
      while (at < to && bytes[at] !== CR) length = length * 10 + bytes[at++] - 48;
      if (length > MAX_ARG_BYTES) return MALFORMED;
      at += 2;
      this.starts[i] = at;
      this.ends[i] = at + length;
      at += length + 2;
      if (at > to) return INCOMPLETE;
    }
    this.argc = argc;
    return at;
  }

  /** Whether argument 0 is `name` (upper-case ASCII), ignoring case. */
  isCommand(bytes: Uint8Array, name: Uint8Array): boolean {
    const start = this.starts[0];
    if (this.ends[0] - start !== name.length) return false;
    for (let i = 0; i < name.length; i++) {
      if ((bytes[start + i] & 0xdf) !== name[i]) return false;
    }
    return true;
  }
}

/** A growable byte buffer replies are written into. */
export class Replies {
  bytes = new Uint8Array(64 * 1024);
  length = 0;

  /** Makes room for `count` more bytes. */
  reserve(count: number): void {
    if (this.length + count <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + count) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** Appends `reply` as it is. */
  write(reply: Uint8Array): void {
    this.reserve(reply.length);
    this.bytes.set(reply, this.length);
    this.length += reply.length;
  }

  /** Appends the header of a bulk string of `length` bytes (`$length\r\n`). */
  writeBulkHeader(length: number): void {
    this.reserve(16);
    const bytes = this.bytes;
    bytes[this.length++] = DOLLAR;
    let divisor = 1;
    while (divisor * 10 <= length) divisor *= 10;
    for (; divisor >= 1; divisor = Math.floor(divisor / 10)) {
      bytes[this.length++] = 48 + Math.floor(length / divisor) % 10;
    }
    bytes[this.length++] = CR;
    bytes[this.length++] = 10;
  }
}

const encoder = new TextEncoder();
/** Replies and command names as bytes. */
export const OK = encoder.encode("+OK\r\n");
export const PONG = encoder.encode("+PONG\r\n");
export const NIL = encoder.encode("$-1\r\n");
export const CRLF = encoder.encode("\r\n");
export const EMPTY_ARRAY = encoder.encode("*0\r\n");
export const UNKNOWN = encoder.encode(
  "-ERR unknown command (the prototype has GET, SET, PING)\r\n",
);
export const WRONG_ARITY = encoder.encode("-ERR wrong number of arguments\r\n");
export const FULL = encoder.encode("-ERR prototype table full\r\n");
export const GET = encoder.encode("GET");
export const SET = encoder.encode("SET");
export const PING = encoder.encode("PING");
export const CONFIG = encoder.encode("CONFIG");
