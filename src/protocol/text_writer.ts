/**
 * Renders replies in the text protocol: one line per request.
 *
 * | reply | line |
 * |---|---|
 * | status | the text (`OK`, `PONG`) |
 * | error | `ERROR: <text>` |
 * | integer | its digits |
 * | bulk | the value, quoted with escapes when ambiguous (see text_quote.ts) |
 * | nil | `(nil)`, or the command's own line (GET: `ERROR: key not found`) |
 * | array | its elements on the one line, blank-separated, each written as a request argument would be (so the line splits back into them); nil elements as `(nil)`, nested arrays in `[ ]`, an empty array as `(empty array)` |
 * | map, set, push | as an array (a map: its keys and values in turn) |
 * | nil array | `(nil)` |
 * | double, big number | the number (`%.17g`, `inf`, `-inf`, `nan`; digits) |
 * | verbatim | as bulk |
 * | boolean | `1` or `0` |
 *
 * @example
 * ```ts
 * const out = new OutBuffer();
 * const w = new TextReplyWriter(out);
 * w.begin(undefined, 1);
 * w.status("OK"); // out holds "OK\n"
 * ```
 * @module
 */

import { bytesToBinary } from "../bytes/binary_string.ts";
import { formatDouble } from "./double_format.ts";
import { type OutBuffer, REFERENCE_MIN_BYTES } from "./out_buffer.ts";
import type { CommandError, ReplyWriter, TextRendering } from "./reply_writer.ts";
import {
  argumentNeedsQuotes,
  needsQuotesIn,
  quotedSource,
  renderTextArgument,
  renderTextValue,
} from "./text_quote.ts";

const LF = 0x0a;
const SPACE = 0x20;

/**
 * A {@link ReplyWriter} for the text protocol.
 *
 * @example
 * ```ts
 * const w = new TextReplyWriter(new OutBuffer());
 * w.begin({ nil: "ERROR: key not found" }, 2);
 * w.nil();
 * ```
 */
export class TextReplyWriter implements ReplyWriter {
  readonly #out: OutBuffer;
  #rendering: TextRendering | undefined;
  #argc = 0;
  /** Elements still due for each open array, innermost last. */
  readonly #pending: number[] = [];
  /** Whether the current array already holds an element (needs a blank). */
  #started = false;

  constructor(out: OutBuffer) {
    this.#out = out;
  }

  begin(rendering: TextRendering | undefined, argc: number): void {
    this.#rendering = rendering;
    this.#argc = argc;
    this.#pending.length = 0;
    this.#started = false;
  }

  status(text: string): void {
    this.#element(text);
  }

  error(error: CommandError): void {
    this.#element(
      this.#pending.length === 0 ? `ERROR: ${error.text}` : `(error) ${error.text}`,
    );
  }

  integer(value: number | bigint): void {
    const custom = this.#pending.length === 0
      ? this.#rendering?.integer?.(Number(value), this.#argc)
      : undefined;
    this.#element(custom ?? String(value));
  }

  bulk(value: string): void {
    if (value.length >= REFERENCE_MIN_BYTES) return this.#large(value);
    this.#element(
      this.#pending.length === 0 ? renderTextValue(value) : renderTextArgument(value),
    );
  }

  bulkBytes(value: Uint8Array): void {
    if (value.length >= REFERENCE_MIN_BYTES) return this.#large(value);
    this.bulk(bytesToBinary(value));
  }

  bulkRange(bytes: Uint8Array, start: number, end: number): void {
    this.bulk(bytesToBinary(bytes, start, end));
  }

  nil(): void {
    const custom = this.#pending.length === 0 ? this.#rendering?.nil : undefined;
    this.#element(custom ?? "(nil)");
  }

  nilArray(): void {
    this.#element("(nil)");
  }

  /** A map is shown as the array of its keys and values, as in RESP2. */
  map(count: number): void {
    this.array(2 * count);
  }

  set(count: number): void {
    this.array(count);
  }

  push(count: number): void {
    this.array(count);
  }

  double(value: number): void {
    this.#element(formatDouble(value));
  }

  bigNumber(value: bigint | string): void {
    this.#element(typeof value === "bigint" ? value.toString() : value);
  }

  verbatim(_format: string, text: string): void {
    this.bulk(text);
  }

  /** As in RESP2: 1 or 0. */
  boolean(value: boolean): void {
    this.#element(value ? "1" : "0");
  }

  array(count: number): void {
    const nested = this.#pending.length > 0;
    if (count === 0) {
      this.#element(nested ? "[]" : "(empty array)");
      return;
    }
    if (nested) {
      this.#separate();
      this.#out.ascii("[");
    }
    this.#pending.push(count);
    this.#started = false;
  }

  /** A large value: referenced, or quoted as it is sent; never copied here. */
  #large(value: string | Uint8Array): void {
    const quoted = this.#pending.length === 0 ? needsQuotesIn(value) : argumentNeedsQuotes(value);
    this.#separate();
    if (quoted) this.#out.produce(quotedSource(value));
    else this.#out.reference(value);
    this.#started = true;
    this.#close();
  }

  #separate(): void {
    if (this.#started) this.#out.byte(SPACE);
  }

  #element(rendered: string): void {
    this.#separate();
    this.#out.binary(rendered);
    this.#started = true;
    this.#close();
  }

  /** Counts one element done and closes every array that is now full. */
  #close(): void {
    while (this.#pending.length > 0) {
      const top = this.#pending.length - 1;
      if (--this.#pending[top] > 0) return;
      this.#pending.pop();
      if (this.#pending.length > 0) this.#out.ascii("]");
    }
    this.#out.byte(LF);
  }
}
