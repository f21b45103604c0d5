/**
 * Renders replies in the Redis protocol, RESP2 or RESP3 (as the
 * connection's {@link ProtocolVersion} says at each reply).
 *
 * | reply | RESP2 | RESP3 |
 * |---|---|---|
 * | status | `+OK\r\n` | same |
 * | error | `-<code> <message>\r\n`, e.g. `-ERR unknown command` | same |
 * | integer | `:<n>\r\n` | same |
 * | bulk | `$<length>\r\n<bytes>\r\n` (from 64 KiB on, the bytes are referenced, not copied) | same |
 * | nil, nilArray | `$-1\r\n`, `*-1\r\n` | `_\r\n` |
 * | array | `*<count>\r\n` and then `count` replies | same |
 * | map | `*<2 × count>\r\n` | `%<count>\r\n` |
 * | set | `*<count>\r\n` | `~<count>\r\n` |
 * | push | `*<count>\r\n` | `><count>\r\n` |
 * | double | bulk of `%.17g` / `inf` / `-inf` / `nan` | `,<same>\r\n` |
 * | bigNumber | bulk of the digits | `(<digits>\r\n` |
 * | verbatim | bulk of the text | `=<length>\r\n<fmt>:<text>\r\n` |
 * | boolean | `:1\r\n` / `:0\r\n` | `#t\r\n` / `#f\r\n` |
 *
 * Status and error lines cannot hold `\r` or `\n`; each is replaced by a
 * blank, as Redis does. Texts are binary strings; one holding a char above
 * 0xFF is taken as ordinary text and sent as UTF-8.
 *
 * @example
 * ```ts
 * const out = new OutBuffer();
 * const w = new RespReplyWriter(out);
 * w.begin(undefined, 3);
 * w.status("OK"); // out holds "+OK\r\n"
 * ```
 * @module
 */

import { textToBinary } from "../bytes/binary_string.ts";
import { formatDouble } from "./double_format.ts";
import { type OutBuffer, REFERENCE_MIN_BYTES } from "./out_buffer.ts";
import type { CommandError, ProtocolVersion, ReplyWriter, TextRendering } from "./reply_writer.ts";

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const PLUS = 0x2b;
const MINUS = 0x2d;
const COLON = 0x3a;
const DOLLAR = 0x24;
const STAR = 0x2a;
const ZERO = 0x30;

/** Lengths, counts and integers below this are written from tables. */
const TABLE_SIZE = 1024;
/** Least integer reply in the table (TTL answers -2 and -1). */
const TABLE_MIN_INTEGER = -2;

const PERCENT = 0x25;
const TILDE = 0x7e;
const GREATER = 0x3e;
const COMMA = 0x2c;
const LPAREN = 0x28;
const EQUALS = 0x3d;

const OK_REPLY = "+OK\r\n";
const NIL_REPLY = "$-1\r\n";
const NIL_ARRAY_REPLY = "*-1\r\n";
const NULL_REPLY = "_\r\n";

/** A connection that has not said HELLO 3. */
const RESP2: ProtocolVersion = { protocol: 2 };

function headers(prefix: string, from: number): string[] {
  const table: string[] = [];
  for (let n = from; n < TABLE_SIZE; n++) table.push(`${prefix}${n}\r\n`);
  return table;
}

// Binary strings, not byte arrays: copying a short string char by char
// beats TypedArray.set on a few bytes.
const INTEGER_REPLIES = headers(":", TABLE_MIN_INTEGER);
const BULK_HEADERS = headers("$", 0);
const ARRAY_HEADERS = headers("*", 0);

/**
 * A {@link ReplyWriter} for RESP2 into a connection's {@link OutBuffer}.
 *
 * @example
 * ```ts
 * const w = new RespReplyWriter(new OutBuffer());
 * w.begin(undefined, 2);
 * w.nil(); // "$-1\r\n"
 * ```
 */
export class RespReplyWriter implements ReplyWriter {
  readonly #out: OutBuffer;
  readonly #version: ProtocolVersion;
  /** Digits of a number, least significant first. */
  readonly #digits = new Uint8Array(24);

  /**
   * Replies are appended to `out`, which the connection sends and resets,
   * in the RESP version `version` holds at each reply (the session's).
   */
  constructor(out: OutBuffer, version: ProtocolVersion = RESP2) {
    this.#out = out;
    this.#version = version;
  }

  /** RESP has one rendering, so the text protocol's hints are ignored. */
  begin(_rendering: TextRendering | undefined, _argc: number): void {}

  status(text: string): void {
    if (text === "OK") {
      this.#out.binary(OK_REPLY);
      return;
    }
    this.#out.byte(PLUS);
    this.#line(text);
    this.#crlf();
  }

  error(error: CommandError): void {
    this.#out.byte(MINUS);
    this.#line(error.code);
    if (error.message !== "") {
      this.#out.byte(SPACE);
      this.#line(error.message);
    }
    this.#crlf();
  }

  integer(value: number | bigint): void {
    if (typeof value === "bigint") {
      this.#out.byte(COLON);
      this.#out.ascii(value.toString());
      this.#crlf();
      return;
    }
    if (value >= TABLE_MIN_INTEGER && value < TABLE_SIZE && Number.isInteger(value)) {
      this.#out.binary(INTEGER_REPLIES[value - TABLE_MIN_INTEGER]);
      return;
    }
    this.#number(COLON, value);
  }

  bulk(value: string): void {
    const length = value.length;
    if (length < TABLE_SIZE) this.#out.binary(BULK_HEADERS[length]);
    else this.#number(DOLLAR, length);
    if (length < REFERENCE_MIN_BYTES) this.#out.binary(value);
    else this.#out.reference(value);
    this.#crlf();
  }

  bulkBytes(value: Uint8Array): void {
    const length = value.length;
    if (length < TABLE_SIZE) this.#out.binary(BULK_HEADERS[length]);
    else this.#number(DOLLAR, length);
    if (length < REFERENCE_MIN_BYTES) this.#out.bytes(value);
    else this.#out.reference(value);
    this.#crlf();
  }

  bulkRange(bytes: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (length < TABLE_SIZE) this.#out.binary(BULK_HEADERS[length]);
    else this.#number(DOLLAR, length);
    this.#out.bytesRange(bytes, start, end);
    this.#crlf();
  }

  nil(): void {
    this.#out.binary(this.#version.protocol === 3 ? NULL_REPLY : NIL_REPLY);
  }

  nilArray(): void {
    this.#out.binary(this.#version.protocol === 3 ? NULL_REPLY : NIL_ARRAY_REPLY);
  }

  array(count: number): void {
    if (count >= 0 && count < TABLE_SIZE) this.#out.binary(ARRAY_HEADERS[count]);
    else this.#number(STAR, count);
  }

  map(count: number): void {
    if (this.#version.protocol === 3) this.#number(PERCENT, count);
    else this.array(2 * count);
  }

  set(count: number): void {
    if (this.#version.protocol === 3) this.#number(TILDE, count);
    else this.array(count);
  }

  push(count: number): void {
    if (this.#version.protocol === 3) this.#number(GREATER, count);
    else this.array(count);
  }

  double(value: number): void {
    // An int32 (the usual score) as its digits, no string made: what
    // formatDouble gives it. In-process, 128k distinct scores: 22 ns a
    // score against 32–47 ns (a reply of many, ZRANGE ... WITHSCORES).
    if ((value | 0) === value && value !== -0x80000000 && !Object.is(value, -0)) {
      const out = this.#out;
      const negative = value < 0;
      const n = this.#int32Digits(negative ? -value : value);
      if (this.#version.protocol === 3) out.byte(COMMA);
      else out.binary(BULK_HEADERS[n + (negative ? 1 : 0)]);
      if (negative) out.byte(MINUS);
      const digits = this.#digits;
      for (let i = n; i > 0;) out.byte(digits[--i]);
      this.#crlf();
      return;
    }
    const text = formatDouble(value);
    if (this.#version.protocol !== 3) return this.bulk(text);
    this.#out.byte(COMMA);
    this.#out.ascii(text);
    this.#crlf();
  }

  bigNumber(value: bigint | string): void {
    const text = typeof value === "bigint" ? value.toString() : value;
    if (!/^-?[0-9]+$/.test(text)) throw new RangeError(`not a big number: ${text}`);
    if (this.#version.protocol !== 3) return this.bulk(text);
    this.#out.byte(LPAREN);
    this.#out.ascii(text);
    this.#crlf();
  }

  verbatim(format: string, text: string): void {
    if (format.length !== 3) throw new RangeError(`verbatim format must be 3 chars: ${format}`);
    if (this.#version.protocol !== 3) return this.bulk(text);
    this.#number(EQUALS, text.length + 4);
    this.#out.binary(format);
    this.#out.byte(COLON);
    if (text.length < REFERENCE_MIN_BYTES) this.#out.binary(text);
    else this.#out.reference(text);
    this.#crlf();
  }

  boolean(value: boolean): void {
    if (this.#version.protocol !== 3) return this.integer(value ? 1 : 0);
    this.#out.binary(value ? "#t\r\n" : "#f\r\n");
  }

  #crlf(): void {
    this.#out.byte(CR);
    this.#out.byte(LF);
  }

  /** Writes `<prefix><value>\r\n` without making a string of the digits. */
  #number(prefix: number, value: number): void {
    if (Number.isSafeInteger(value)) return this.#out.numberLine(prefix, value);
    // Past 2^53 every double is an integer; BigInt spells it exactly.
    if (!Number.isInteger(value)) throw new RangeError(`not an integer reply: ${value}`);
    this.#out.byte(prefix);
    this.#out.ascii(BigInt(value).toString());
    this.#crlf();
  }

  /**
   * Puts the decimal digits of `value` (0 ≤ value ≤ 2^31 - 1) in
   * `#digits`, last digit first; how many. Int32 arithmetic: no double
   * division.
   */
  #int32Digits(value: number): number {
    const digits = this.#digits;
    let n = 0;
    let v = value | 0;
    do {
      const q = (v / 10) | 0;
      digits[n++] = ZERO + v - q * 10;
      v = q;
    } while (v > 0);
    return n;
  }

  /** Writes a status or error text, which must stay on its line. */
  #line(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === CR || c === LF || c > 0xff) {
        this.#out.binary(oneLine(text));
        return;
      }
    }
    this.#out.binary(text);
  }
}

/** `text` with CR and LF blanked, as a binary string. */
function oneLine(text: string): string {
  let line = "";
  let wide = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) wide = true;
    line += c === CR || c === LF ? " " : text[i];
  }
  return wide ? textToBinary(line) : line;
}
