/**
 * Replies as the client sees them: RESP2 and RESP3 types read off the wire
 * (or the lines of a text-protocol server), parsed incrementally so a reply
 * of any size arriving in any number of reads is read once.
 *
 * Strings are binary strings (one char per byte). Doubles and big numbers
 * keep the server's digits, as redis-cli shows them. RESP3 attributes are
 * read and dropped (no kvdb or Redis 7.0 reply carries one a person needs).
 *
 * @example
 * ```ts
 * const parser = new ReplyParser("resp");
 * parser.push(new TextEncoder().encode("*2\r\n:1\r\n$1\r\na\r\n"));
 * parser.next(); // { type: "array", items: [{ type: "integer", value: 1n }, { type: "bulk", value: "a" }] }
 * ```
 * @module
 */

import { bytesToBinary } from "../bytes/binary_string.ts";

/** Kinds of aggregate reply: their elements follow them. */
export type AggregateType = "array" | "set" | "push" | "map";

/** One reply. A map's `items` are its keys and values in turn. */
export type Reply =
  | { readonly type: "status"; readonly value: string }
  /**
   * `value` is the error line (`ERR message`); `text` the text protocol's
   * wording, for errors the client itself found in a request.
   */
  | { readonly type: "error"; readonly value: string; readonly text?: string }
  | { readonly type: "integer"; readonly value: bigint }
  | { readonly type: "bulk"; readonly value: string }
  | { readonly type: "verbatim"; readonly format: string; readonly value: string }
  | { readonly type: "double"; readonly value: string }
  | { readonly type: "bignum"; readonly value: string }
  | { readonly type: "boolean"; readonly value: boolean }
  | { readonly type: "nil" }
  | { readonly type: AggregateType; readonly items: Reply[] }
  /** A reply line of a text-protocol server (no types to show). */
  | { readonly type: "line"; readonly value: string };

/** Longest string or header line accepted (above kvdb's 64 MiB values and Redis's 512 MB). */
export const MAX_REPLY_STRING_BYTES = 1024 * 1024 * 1024;
/** Deepest nesting accepted, so bad bytes cannot build unbounded structure. */
export const MAX_REPLY_DEPTH = 128;

/**
 * The server sent bytes that are not a reply.
 *
 * @example
 * ```ts
 * throw new ReplyProtocolError("bad length x");
 * ```
 */
export class ReplyProtocolError extends Error {}

const CR = 0x0d;
const LF = 0x0a;
/** {@link ReplyParser}'s marker for an aggregate header just read. */
const OPENED = Symbol("opened");

interface Open {
  readonly type: AggregateType | "attribute";
  readonly items: Reply[];
  /** Elements still due (a map or attribute: keys and values). */
  remaining: number;
}

/**
 * Reads replies from bytes as they arrive: {@link push} bytes, then take
 * each complete reply with {@link next}. In `text` mode every line is one
 * reply of type `line`.
 *
 * @example
 * ```ts
 * const p = new ReplyParser("text");
 * p.push(new TextEncoder().encode("OK\n"));
 * p.next(); // { type: "line", value: "OK" }
 * ```
 */
export class ReplyParser {
  readonly #mode: "resp" | "text";
  #buffer = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  /** Aggregates being filled, innermost last. */
  readonly #open: Open[] = [];

  constructor(mode: "resp" | "text") {
    this.#mode = mode;
  }

  /** Appends received bytes. */
  push(bytes: Uint8Array): void {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end + bytes.length > this.#buffer.length) this.#makeRoom(bytes.length);
    this.#buffer.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  /**
   * The next complete reply, or undefined until more bytes arrive. Throws
   * {@link ReplyProtocolError} on bytes that are not a reply.
   */
  next(): Reply | undefined {
    while (true) {
      const value = this.#mode === "text" ? this.#textLine() : this.#element();
      if (value === undefined) return undefined;
      if (value === OPENED) continue;
      const done = this.#add(value);
      if (done !== undefined) return done;
    }
  }

  /** Adds a finished element to the open aggregates; returns a finished top-level reply. */
  #add(value: Reply): Reply | undefined {
    let finished = value;
    while (true) {
      const top = this.#open[this.#open.length - 1];
      if (top === undefined) return finished;
      top.items.push(finished);
      if (--top.remaining > 0) return undefined;
      this.#open.pop();
      // An attribute only annotates what follows: it is no element of its parent.
      if (top.type === "attribute") return undefined;
      finished = { type: top.type, items: top.items };
    }
  }

  #textLine(): Reply | undefined {
    const line = this.#line();
    if (line === undefined) return undefined;
    return { type: "line", value: line };
  }

  /**
   * Reads one element: a scalar or empty aggregate (a Reply), an aggregate
   * header ({@link OPENED}: its elements come next), or undefined when
   * incomplete (nothing consumed).
   */
  #element(): Reply | typeof OPENED | undefined {
    if (this.#start >= this.#end) return undefined;
    const kind = this.#buffer[this.#start];
    const mark = this.#start;
    this.#start++;
    const line = this.#line();
    if (line === undefined) {
      this.#start = mark;
      return undefined;
    }
    switch (kind) {
      case 0x2b: // +
        return { type: "status", value: line };
      case 0x2d: // -
        return { type: "error", value: line };
      case 0x3a: // :
        return { type: "integer", value: this.#integer(line) };
      case 0x2c: // ,
        return { type: "double", value: line };
      case 0x28: // (
        if (!/^-?[0-9]+$/.test(line)) throw new ReplyProtocolError(`bad big number ${line}`);
        return { type: "bignum", value: line };
      case 0x23: // #
        if (line !== "t" && line !== "f") throw new ReplyProtocolError(`bad boolean ${line}`);
        return { type: "boolean", value: line === "t" };
      case 0x5f: // _
        return { type: "nil" };
      case 0x24: // $
      case 0x21: // ! (blob error)
      case 0x3d: { // = (verbatim)
        const length = this.#length(line);
        if (length < 0) return { type: "nil" };
        if (this.#end - this.#start < length + 2) {
          this.#start = mark;
          return undefined;
        }
        const at = this.#start;
        if (this.#buffer[at + length] !== CR || this.#buffer[at + length + 1] !== LF) {
          throw new ReplyProtocolError("string not followed by CRLF");
        }
        this.#start += length + 2;
        const value = bytesToBinary(this.#buffer, at, at + length);
        if (kind === 0x24) return { type: "bulk", value };
        if (kind === 0x21) return { type: "error", value };
        if (length < 4 || value[3] !== ":") throw new ReplyProtocolError("bad verbatim string");
        return { type: "verbatim", format: value.slice(0, 3), value: value.slice(4) };
      }
      case 0x2a: // *
      case 0x7e: // ~
      case 0x3e: // >
      case 0x25: // %
      case 0x7c: { // | (attribute)
        const count = this.#length(line);
        if (count < 0) return { type: "nil" };
        const type = AGGREGATES[kind];
        const elements = type === "map" || type === "attribute" ? 2 * count : count;
        if (elements === 0) return type === "attribute" ? OPENED : { type, items: [] };
        if (this.#open.length >= MAX_REPLY_DEPTH) {
          throw new ReplyProtocolError(`reply nested deeper than ${MAX_REPLY_DEPTH}`);
        }
        this.#open.push({ type, items: [], remaining: elements });
        return OPENED;
      }
      default:
        throw new ReplyProtocolError(
          `unexpected byte 0x${kind.toString(16).padStart(2, "0")} where a reply starts`,
        );
    }
  }

  /** The line at `#start` up to CRLF (LF in text mode), consumed; undefined if incomplete. */
  #line(): string | undefined {
    const from = this.#start;
    const i = this.#buffer.subarray(from, this.#end).indexOf(LF);
    if (i < 0) {
      if (this.#end - from > MAX_REPLY_STRING_BYTES) {
        throw new ReplyProtocolError(`reply line longer than ${MAX_REPLY_STRING_BYTES} bytes`);
      }
      return undefined;
    }
    let lineEnd = from + i;
    if (lineEnd > from && this.#buffer[lineEnd - 1] === CR) lineEnd--;
    else if (this.#mode === "resp") throw new ReplyProtocolError("line not ended by CRLF");
    this.#start = from + i + 1;
    return bytesToBinary(this.#buffer, from, lineEnd);
  }

  #integer(line: string): bigint {
    if (!/^-?[0-9]+$/.test(line)) throw new ReplyProtocolError(`bad integer ${line}`);
    return BigInt(line);
  }

  /** A string length or element count; -1 for RESP2's nulls. */
  #length(line: string): number {
    if (line === "-1") return -1;
    if (!/^[0-9]{1,10}$/.test(line)) throw new ReplyProtocolError(`bad length ${line}`);
    const n = Number(line);
    if (n > MAX_REPLY_STRING_BYTES) {
      throw new ReplyProtocolError(`length ${n} over ${MAX_REPLY_STRING_BYTES}`);
    }
    return n;
  }

  /** Room for `extra` more bytes: drops what was read, grows if still short. */
  #makeRoom(extra: number): void {
    const used = this.#end - this.#start;
    const needed = used + extra;
    if (needed > MAX_REPLY_STRING_BYTES + 64 * 1024) {
      throw new ReplyProtocolError(`reply larger than ${MAX_REPLY_STRING_BYTES} bytes`);
    }
    let size = this.#buffer.length;
    while (size < needed) size *= 2;
    if (size === this.#buffer.length) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
    } else {
      const grown = new Uint8Array(size);
      grown.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = grown;
    }
    this.#start = 0;
    this.#end = used;
  }
}

const AGGREGATES: Record<number, AggregateType | "attribute"> = {
  0x2a: "array",
  0x7e: "set",
  0x3e: "push",
  0x25: "map",
  0x7c: "attribute",
};
