/**
 * Request framing and argument splitting for the text protocol.
 *
 * One request per line, ended by `\n` (a `\r` before it is dropped).
 * Arguments are separated by blanks (space, tab). An argument that starts
 * with `"` runs to the matching `"` and takes the escapes `\"`, `\\`, `\n`,
 * `\r`, `\t`, `\a`, `\b`, `\xHH` (any other `\c` is `c`); one that starts
 * with `'` runs to the matching `'` and takes only `\'`. A closing quote must
 * end the argument. Everything else is taken byte for byte, so unquoted
 * arguments may hold any byte but blanks and newlines.
 *
 * A line longer than `maxMessageBytes` is answered with one error and
 * skipped through its newline, however many reads it spans, without ever
 * holding more than `maxMessageBytes` of it.
 *
 * @example
 * ```ts
 * const decoder = new TextRequestDecoder(4096);
 * const line = new TextEncoder().encode('SET k "a b"\n');
 * decoder.decode(line, 0, line.length); // 12 bytes used
 * decoder.args; // ["SET", "k", "a b"]
 * ```
 * @module
 */

import { bytesToBinary } from "../bytes/binary_string.ts";
import { CommandError } from "./reply_writer.ts";
import { UNAUTHENTICATED_MAX_BYTES } from "./_unauthenticated.ts";

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;

const ESCAPES: Record<number, number> = {
  0x6e: 0x0a, // n
  0x72: 0x0d, // r
  0x74: 0x09, // t
  0x61: 0x07, // a
  0x62: 0x08, // b
};

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** A request line that cannot be split into arguments. */
function syntaxError(what: string): CommandError {
  return new CommandError(
    "ERR",
    `Protocol error: ${what}`,
    `syntax error: ${what}`,
  );
}

/** Unescaped bytes of quoted arguments up to this size are built here. */
const SCRATCH_BYTES = 4096;
const scratch = new Uint8Array(SCRATCH_BYTES);
/** Where the quoted argument {@link readQuoted} just read ended (after its quote). */
let quotedEnd = 0;

/**
 * Reads the quoted argument whose text starts at `from` (after the opening
 * `quote`): its unescaped value, or undefined if it is never closed. Sets
 * `quotedEnd`. Linear in the argument's length and within one copy of it:
 * an argument with no escapes is taken straight from the line; one with
 * escapes is unescaped into a byte buffer first (escapes only shrink).
 */
function readQuoted(
  bytes: Uint8Array,
  from: number,
  end: number,
  quote: number,
): string | undefined {
  let i = from;
  while (i < end && bytes[i] !== quote && bytes[i] !== BACKSLASH) i++;
  if (i >= end) return undefined;
  if (bytes[i] === quote) {
    quotedEnd = i + 1;
    return bytesToBinary(bytes, from, i);
  }
  // Escapes: unescape into a buffer, copying the plain run before them.
  const room = end - from;
  const out = room <= SCRATCH_BYTES ? scratch : new Uint8Array(room);
  out.set(bytes.subarray(from, i));
  let n = i - from;
  while (i < end) {
    const c = bytes[i];
    if (c === quote) {
      quotedEnd = i + 1;
      return bytesToBinary(out, 0, n);
    }
    if (c === BACKSLASH && i + 1 < end) {
      const next = bytes[i + 1];
      if (quote === SQUOTE) {
        if (next === SQUOTE) {
          out[n++] = SQUOTE;
          i += 2;
        } else {
          out[n++] = BACKSLASH;
          i++;
        }
        continue;
      }
      const hi = i + 3 < end && next === 0x78 ? hexValue(bytes[i + 2]) : -1;
      const lo = hi >= 0 ? hexValue(bytes[i + 3]) : -1;
      if (lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 4;
      } else {
        out[n++] = ESCAPES[next] ?? next;
        i += 2;
      }
      continue;
    }
    out[n++] = c;
    i++;
  }
  return undefined;
}

/**
 * Splits one request line (without its terminator) into binary-string
 * arguments; throws a {@link CommandError} on unbalanced quotes.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("GET  key");
 * splitTextArguments(bytes, 0, bytes.length); // ["GET", "key"]
 * ```
 */
export function splitTextArguments(
  bytes: Uint8Array,
  start: number,
  end: number,
): string[] {
  const args: string[] = [];
  let i = start;
  while (true) {
    while (i < end && isBlank(bytes[i])) i++;
    if (i >= end) return args;
    const quote = bytes[i];
    if (quote !== DQUOTE && quote !== SQUOTE) {
      const from = i;
      while (i < end && !isBlank(bytes[i])) i++;
      args.push(bytesToBinary(bytes, from, i));
      continue;
    }
    const quoted = readQuoted(bytes, i + 1, end, quote);
    if (quoted === undefined) throw syntaxError("unbalanced quotes in request");
    i = quotedEnd;
    if (i < end && !isBlank(bytes[i])) {
      throw syntaxError("closing quote must be followed by a blank");
    }
    args.push(quoted);
  }
}

/**
 * Incremental decoder of text-protocol requests, one per connection.
 *
 * After {@link decode} returns a positive count, exactly one of `args`
 * (a request), `error` (a reply to send) is set, or neither (bytes of an
 * oversized line were skipped). A return of 0 means the line is not
 * complete: call again with the same unconsumed bytes from `start` (moved
 * if need be) followed by more; the decoder remembers how far it searched.
 *
 * @example
 * ```ts
 * const d = new TextRequestDecoder(64);
 * const b = new TextEncoder().encode("PING\nGET");
 * d.decode(b, 0, b.length); // 5, d.args = ["PING"]
 * d.decode(b, 5, b.length); // 0: "GET" waits for its newline
 * ```
 */
export class TextRequestDecoder {
  /** Arguments of the request just decoded. */
  args: string[] | undefined;
  /** Error reply for the bytes just consumed. */
  error: CommandError | undefined;
  /** Never set: every text-protocol error leaves the connection usable. */
  readonly fatal = false;
  /** See {@link RequestDecoder.unauthenticated}: lines then end at 16 KiB. */
  unauthenticated = false;
  readonly #maxMessageBytes: number;
  #discarding = false;
  /** Bytes from the start of the pending line known to hold no newline. */
  #searchedBytes = 0;

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /**
   * The most bytes of one request this decoder ever needs buffered: the
   * request, its `\r\n`, and one byte to tell that it is too long.
   */
  get maxBufferedBytes(): number {
    return this.#maxMessageBytes + 3;
  }

  /** True while an oversized line is being skipped: a request under way. */
  get midRequest(): boolean {
    return this.#discarding;
  }

  /** Decodes at most one request from `bytes[start, end)`; bytes used. */
  decode(bytes: Uint8Array, start: number, end: number): number {
    this.args = undefined;
    this.error = undefined;
    // A long line arrives over many reads: look for its newline only in
    // the bytes not yet searched, or every read would rescan it (quadratic).
    const searched = Math.min(this.#searchedBytes, end - start);
    const found = bytes.subarray(start + searched, end).indexOf(LF);
    const newline = found < 0 ? -1 : searched + found;
    this.#searchedBytes = newline < 0 ? end - start : 0;
    if (this.#discarding) {
      this.#searchedBytes = 0;
      if (newline < 0) return end - start;
      this.#discarding = false;
      return newline + 1;
    }
    if (newline < 0) {
      if (end - start <= this.#limitBytes() + 1) return 0;
      this.#searchedBytes = 0;
      this.#discarding = true;
      this.error = this.#tooLarge();
      return end - start;
    }
    let lineEnd = start + newline;
    if (lineEnd > start && bytes[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd - start > this.#limitBytes()) {
      this.error = this.#tooLarge();
      return newline + 1;
    }
    try {
      this.args = splitTextArguments(bytes, start, lineEnd);
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      this.error = e;
    }
    return newline + 1;
  }

  #limitBytes(): number {
    return this.unauthenticated
      ? Math.min(this.#maxMessageBytes, UNAUTHENTICATED_MAX_BYTES)
      : this.#maxMessageBytes;
  }

  #tooLarge(): CommandError {
    const limit = this.#limitBytes() === this.#maxMessageBytes
      ? `${this.#maxMessageBytes} bytes (network.max_message_size)`
      : `${UNAUTHENTICATED_MAX_BYTES} bytes (before AUTH)`;
    return new CommandError(
      "ERR",
      `Protocol error: request larger than ${limit}`,
      `request too large: over ${limit}; discarded`,
    );
  }
}
