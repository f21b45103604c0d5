/**
 * Request framing for RESP2, the Redis protocol, as Redis reads requests.
 *
 * A request is a multibulk: `*<count>\r\n` then `count` bulk strings, each
 * `$<length>\r\n<length bytes>\r\n`. Lengths are decimal as Redis's
 * `string2ll` takes them: an optional `-`, no `+`, no leading zeros, no
 * blanks. `*0` and any negative count are empty requests, consumed silently.
 *
 *     *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n
 *
 * A request whose first byte is not `*` is an inline command, one line ended
 * by `\n` (a `\r` before it is dropped), split into arguments exactly as
 * Redis's `sdssplitargs` does ({@link splitInlineArguments}). A line with no
 * arguments (empty, blanks only) is consumed silently.
 *
 * Lines are found as Redis finds them: a length line runs to its first
 * `\r`, an inline line to its first `\n`, and a NUL before either hides it
 * (Redis searches with C's `strchr`), so the request waits for more bytes
 * until too many are buffered.
 *
 * Limits, all in bytes on the wire, `max` being `maxMessageBytes`:
 *
 * | what | limit | error (`ERR Protocol error: ...`) |
 * |---|---|---|
 * | whole multibulk request, `*` to its last `\r\n` | `max` | `invalid multibulk length` once the count alone cannot fit (each bulk takes at least 6 bytes, `$0\r\n\r\n`), `invalid bulk length` once a bulk cannot |
 * | count | 1024³ args (`MAX_MULTIBULK_ARGS`) | `invalid multibulk length` |
 * | `*` line, `\r\n` included | min(64 KiB, `max`) | `too big mbulk count string` |
 * | `$` line, `\r\n` included | min(64 KiB, what is left of `max`) | `too big bulk count string` |
 * | inline line, `\n` excluded | min(64 KiB, `max`) | `too big inline request` |
 *
 * 64 KiB is Redis's `PROTO_INLINE_MAX_SIZE`, applied as Redis applies it
 * to bytes that trickle in (Redis reads 16 KiB at a time and may accept a
 * longer line whose end arrives in the read that passes 64 KiB; here the
 * answer never depends on how the bytes were split). Redis's own limits
 * beyond these (512 MB bulks, INT_MAX arguments) are above any `max`. Other errors,
 * in Redis's words: `invalid multibulk length` and `invalid bulk length`
 * (not a number, a negative bulk length), `expected '$', got 'x'`,
 * `unbalanced quotes in request`. Two checks Redis lacks: a length line's
 * `\r` must be followed by `\n` (else the length is invalid), and bulk data
 * must be followed by `\r\n` (`expected CRLF after bulk data`); Redis skips
 * those bytes unread, which would silently misframe every later request.
 *
 * While `unauthenticated` is set (a password is required and the client
 * has not given it) two more, Redis's: a count over 10 (`unauthenticated
 * multibulk length`) and a bulk over 16 KiB (`unauthenticated bulk length`).
 *
 * Every error is fatal, as in Redis: the connection answers it and closes.
 *
 * @example
 * ```ts
 * const decoder = new RespRequestDecoder(4096);
 * const bytes = new TextEncoder().encode("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
 * decoder.decode(bytes, 0, bytes.length); // 20 bytes used
 * decoder.args; // ["GET", "k"]
 * ```
 * @module
 */

import { bytesToBinary } from "../bytes/binary_string.ts";
import { COMMAND_NAMES, SHORT_ARGUMENTS } from "./_recurring_words.ts";
import { CommandError } from "./reply_writer.ts";
import { splitInlineArguments } from "./inline_split.ts";
import { UNAUTHENTICATED_MAX_ARGS, UNAUTHENTICATED_MAX_BYTES } from "./_unauthenticated.ts";

const LF = 0x0a;
const CR = 0x0d;
const STAR = 0x2a;
const DOLLAR = 0x24;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const NUL = 0x00;

/**
 * Most arguments in one multibulk request. Redis 7 allows up to INT_MAX;
 * under any `maxMessageBytes` the size limit bites long before either.
 */
const MAX_MULTIBULK_ARGS = 1024 * 1024 * 1024;
/** Longest `*`, `$` or inline line in bytes: Redis's `PROTO_INLINE_MAX_SIZE`. */
const MAX_LINE_BYTES = 64 * 1024;
/** Fewest bytes one bulk takes on the wire: `$0\r\n\r\n`. */
const MIN_BULK_WIRE_BYTES = 6;
/** Beyond this many digits a length no longer fits a double exactly. */
const MAX_EXACT_DIGITS = 15;
/** Digits of 2^63, the magnitude of the least int64 (Redis's lengths are int64). */
const INT64_MIN_DIGITS = "9223372036854775808";

/** Results of reading a length line. */
const LINE_OK = 0;
const LINE_MORE = 1;
const LINE_TOO_BIG = 2;

/** A bulk's length line less its digits: `$`, CR, LF. */
const BULK_PREFIX_BYTES = 3;

/**
 * The length in a bulk's length line at `pos` when it is the common kind
 * (`$`, one to three digits without a leading zero, CRLF, all before
 * `end`); -1 for any other line, which {@link RespRequestDecoder}'s general
 * line reader then takes, errors included. The general reader is a call
 * with the checks every malformed line needs; this path was ~9% of an
 * in-process pipelined RPUSH's profile less.
 */
function shortBulkLength(bytes: Uint8Array, pos: number, end: number): number {
  if (pos + 4 >= end || bytes[pos] !== DOLLAR) return -1;
  let c = bytes[pos + 1];
  if (c < ZERO || c > NINE) return -1;
  let value = c - ZERO;
  let i = pos + 2;
  c = bytes[i];
  if (c >= ZERO && c <= NINE && value !== 0) {
    value = value * 10 + c - ZERO;
    c = bytes[++i];
    if (c >= ZERO && c <= NINE) {
      value = value * 10 + c - ZERO;
      c = bytes[++i];
    }
  }
  return c === CR && i + 1 < end && bytes[i + 1] === LF ? value : -1;
}

/**
 * Incremental decoder of RESP2 requests, one per connection.
 *
 * After {@link decode} returns a positive count, `args` holds a request, or
 * `error` a reply to send (then `fatal` is true: send it and close), or
 * neither (an empty request was skipped). A return of 0 means the request
 * is incomplete; call again with the same unconsumed bytes from `start`
 * (moved if need be) followed by more. The decoder remembers how far it got
 * in them, so a request arriving over many reads is parsed once.
 *
 * @example
 * ```ts
 * const d = new RespRequestDecoder(64);
 * const b = new TextEncoder().encode("*1\r\n$4\r\nPING\r\n*1\r\n$3\r\nGE");
 * d.decode(b, 0, b.length); // 14, d.args = ["PING"]
 * d.decode(b, 14, b.length); // 0: the second request is not complete
 * ```
 */
export class RespRequestDecoder {
  /** Arguments of the request just decoded. */
  args: string[] | undefined;
  /** Error reply for the bytes just consumed. */
  error: CommandError | undefined;
  /** True with `error`: the connection must be closed after the reply. */
  fatal = false;
  /** See {@link RequestDecoder.unauthenticated}. */
  unauthenticated = false;
  readonly #maxMessageBytes: number;
  /** Arguments so far of a multibulk request not yet complete. */
  #partial: string[] | undefined;
  /** Argument count of the `#partial` request. */
  #count = 0;
  /** Arguments of the `#partial` request decoded so far. */
  #have = 0;
  /** Where to resume in the `#partial` request, from its first byte. */
  #resumeAt = 0;
  /** Value of the length line just read; NaN if it is not a valid int64. */
  #lineValue = 0;
  /** Offset just after the length line just read. */
  #lineNext = 0;

  /** `maxMessageBytes`: the largest request, in bytes on the wire. */
  constructor(maxMessageBytes: number) {
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1) {
      throw new RangeError(`maxMessageBytes must be a positive integer: ${maxMessageBytes}`);
    }
    this.#maxMessageBytes = maxMessageBytes;
  }

  /**
   * The most bytes of one request this decoder ever needs buffered: the
   * largest request and one byte to tell that it is too large. Given that
   * many, {@link decode} never returns 0.
   */
  get maxBufferedBytes(): number {
    return this.#maxMessageBytes + 1;
  }

  /**
   * Always false: an incomplete request is never consumed (its bytes stay
   * with the caller until it is whole), and one too large is an error.
   */
  get midRequest(): boolean {
    return false;
  }

  /**
   * Decodes at most one request from `bytes[start, end)`; bytes used. After
   * a fatal error it uses all of them: decode no further.
   */
  decode(bytes: Uint8Array, start: number, end: number): number {
    this.args = undefined;
    this.error = undefined;
    this.fatal = false;
    if (this.#partial !== undefined) return this.#bulks(bytes, start, end);
    if (start >= end) return 0;
    if (bytes[start] !== STAR) return this.#inline(bytes, start, end);

    const max = this.#maxMessageBytes;
    const status = this.#readLine(bytes, start, end, Math.min(MAX_LINE_BYTES, max));
    if (status === LINE_MORE) return 0;
    if (status === LINE_TOO_BIG) {
      return this.#fail("too big mbulk count string", start, end);
    }
    const count = this.#lineValue;
    const next = this.#lineNext;
    if (
      !(count <= MAX_MULTIBULK_ARGS) ||
      next - start + MIN_BULK_WIRE_BYTES * count > max
    ) {
      return this.#fail("invalid multibulk length", start, end);
    }
    if (this.unauthenticated && count > UNAUTHENTICATED_MAX_ARGS) {
      return this.#fail("unauthenticated multibulk length", start, end);
    }
    if (count <= 0) return next - start;
    this.#partial = argumentArray(count);
    this.#count = count;
    this.#have = 0;
    this.#resumeAt = next - start;
    return this.#bulks(bytes, start, end);
  }

  /** Reads the bulks of the `#partial` request, resuming where it stopped. */
  #bulks(bytes: Uint8Array, start: number, end: number): number {
    const args = this.#partial!;
    const count = this.#count;
    const limit = start + this.#maxMessageBytes;
    let pos = start + this.#resumeAt;
    let have = this.#have;
    while (have < count) {
      if (pos >= end) break;
      // The line must also fit `limit`: where it may not, the general reader decides.
      let length = shortBulkLength(bytes, pos, Math.min(end, limit));
      let dataStart = pos + BULK_PREFIX_BYTES + (length < 10 ? 1 : length < 100 ? 2 : 3);
      if (length < 0) {
        const status = this.#readLine(bytes, pos, end, Math.min(MAX_LINE_BYTES, limit - pos));
        if (status === LINE_MORE) break;
        if (status === LINE_TOO_BIG) {
          return this.#fail("too big bulk count string", start, end);
        }
        if (bytes[pos] !== DOLLAR) {
          const got = String.fromCharCode(bytes[pos]);
          return this.#fail(`expected '$', got '${got}'`, start, end);
        }
        length = this.#lineValue;
        dataStart = this.#lineNext;
      }
      const dataEnd = dataStart + length;
      // Rejecting a length the request cannot hold, before its data
      // arrives, keeps the buffer within maxBufferedBytes.
      const still = count - have - 1;
      if (!(length >= 0) || dataEnd + 2 + MIN_BULK_WIRE_BYTES * still > limit) {
        return this.#fail("invalid bulk length", start, end);
      }
      if (this.unauthenticated && length > UNAUTHENTICATED_MAX_BYTES) {
        return this.#fail("unauthenticated bulk length", start, end);
      }
      if (
        (dataEnd < end && bytes[dataEnd] !== CR) ||
        (dataEnd + 1 < end && bytes[dataEnd + 1] !== LF)
      ) {
        return this.#fail("expected CRLF after bulk data", start, end);
      }
      if (dataEnd + 2 > end) break;
      // Recurring words made once: see _recurring_words.ts.
      args[have] = have === 0
        ? COMMAND_NAMES.word(bytes, dataStart, dataEnd)
        : length <= SHORT_ARGUMENTS.maxBytes
        ? SHORT_ARGUMENTS.word(bytes, dataStart, dataEnd)
        : bytesToBinary(bytes, dataStart, dataEnd);
      have++;
      pos = dataEnd + 2;
    }
    if (have < count) {
      this.#have = have;
      this.#resumeAt = pos - start;
      return 0;
    }
    this.#partial = undefined;
    this.args = args;
    return pos - start;
  }

  /**
   * Reads the length line at `pos` (`*` or `$` and a number, the prefix not
   * checked), at most `maxLineBytes` long with its `\r\n`. On LINE_OK sets
   * `#lineValue` and `#lineNext`. As Redis does, the line ends at the first
   * `\r`, whatever precedes it, so a malformed number is only reported once
   * its line is complete; and a NUL hides any `\r` after it (Redis looks
   * with C's `strchr`), so such a line is never complete.
   */
  #readLine(bytes: Uint8Array, pos: number, end: number, maxLineBytes: number): number {
    let i = pos + 1;
    const negative = i < end && bytes[i] === MINUS;
    if (negative) i++;
    const digits = i;
    let value = 0;
    while (i < end) {
      const c = bytes[i];
      if (c < ZERO || c > NINE) break;
      value = value * 10 + (c - ZERO);
      i++;
    }
    if (i < end && bytes[i] === CR && i - pos + 2 <= maxLineBytes && bytes[pos] !== CR) {
      if (i + 1 >= end) return LINE_MORE;
      this.#lineNext = i + 2;
      const n = i - digits;
      if (
        bytes[i + 1] !== LF || n === 0 ||
        (bytes[digits] === ZERO && (n > 1 || negative))
      ) {
        value = NaN;
      } else if (negative && n > MAX_EXACT_DIGITS && !fitsInt64Negative(bytes, digits, n)) {
        value = NaN;
      }
      // A positive length past MAX_EXACT_DIGITS is over every limit, int64
      // or not, so its inexact value is as good as exact.
      this.#lineValue = negative ? -value : value;
      return LINE_OK;
    }
    // Not a plain number: find where the line ends to know what to report.
    if (bytes[pos] === CR) i = pos;
    const scanEnd = Math.min(end, pos + maxLineBytes - 1);
    while (i < scanEnd && bytes[i] !== CR && bytes[i] !== NUL) i++;
    if (i >= scanEnd || bytes[i] === NUL) {
      return end >= pos + maxLineBytes - 1 ? LINE_TOO_BIG : LINE_MORE;
    }
    if (i + 1 >= end) return LINE_MORE;
    this.#lineValue = NaN;
    this.#lineNext = i + 2;
    return LINE_OK;
  }

  /**
   * An inline command, as Redis reads one: the line ends at the first `\n`
   * (a `\r` before it is dropped); a NUL before it hides it, as C's
   * `strchr` stops there, so the request waits until it is too big.
   */
  #inline(bytes: Uint8Array, start: number, end: number): number {
    const maxLine = Math.min(MAX_LINE_BYTES, this.#maxMessageBytes);
    const window = bytes.subarray(start, Math.min(end, start + maxLine + 1));
    let found = window.indexOf(LF);
    if (found > 0 && window.subarray(0, found).indexOf(NUL) >= 0) found = -1;
    if (found < 0) {
      return end - start > maxLine ? this.#fail("too big inline request", start, end) : 0;
    }
    let lineEnd = start + found;
    if (lineEnd > start && bytes[lineEnd - 1] === CR) lineEnd--;
    const args = splitInlineArguments(bytes, start, lineEnd);
    if (args === undefined) return this.#fail("unbalanced quotes in request", start, end);
    if (args.length > 0) this.args = args;
    return found + 1;
  }

  #fail(what: string, start: number, end: number): number {
    this.#partial = undefined;
    this.error = new CommandError("ERR", `Protocol error: ${what}`);
    this.fatal = true;
    return end - start;
  }
}

/** Requests of at most this many arguments get an array of their exact size. */
const EXACT_ARRAY_MAX_ARGS = 16;
/** Packed arrays of "" of each size up to {@link EXACT_ARRAY_MAX_ARGS}, to copy. */
const ARGUMENT_TEMPLATES: string[][] = Array.from({ length: EXACT_ARRAY_MAX_ARGS + 1 }, (_, n) => {
  const template: string[] = [];
  for (let i = 0; i < n; i++) template.push("");
  return template;
});

/**
 * An array for a request's `count` arguments, filled by index. Pushed onto
 * `[]`, a 3-argument request's array had room for 17 (V8's growth step):
 * 36% of the bytes a pipelined LPUSH allocated (sampling heap profile); a
 * copy of a template is exactly its size, and packed.
 */
function argumentArray(count: number): string[] {
  return count <= EXACT_ARRAY_MAX_ARGS ? ARGUMENT_TEMPLATES[count].slice() : [];
}

/** Whether the `n` digits at `from` are at most 2^63 (a negative int64). */
function fitsInt64Negative(bytes: Uint8Array, from: number, n: number): boolean {
  if (n !== INT64_MIN_DIGITS.length) return n < INT64_MIN_DIGITS.length;
  for (let k = 0; k < n; k++) {
    const d = bytes[from + k] - INT64_MIN_DIGITS.charCodeAt(k);
    if (d !== 0) return d < 0;
  }
  return true;
}
