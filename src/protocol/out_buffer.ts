/**
 * A growable byte buffer for one connection's replies.
 *
 * Replies to a whole read batch are gathered here and sent with one write.
 * Each connection owns its own: a shared buffer could be overwritten while
 * a write from it is still pending.
 *
 * Large replies are not copied in: {@link OutBuffer.reference} keeps a
 * reference to a value's bytes (or binary string), and
 * {@link OutBuffer.produce} one to a {@link ByteSource} that makes its bytes
 * when they are sent. The buffer is then a list of segments — its own bytes
 * and the referenced ones, in order — and {@link OutBuffer.writeTo} sends them
 * in bounded slices. An `MGET` of a hundred 16 MiB values holds a hundred
 * references, not 1.6 GB of copies.
 *
 * @example
 * ```ts
 * const out = new OutBuffer(1024);
 * out.ascii("OK\n");
 * out.view(); // the 3 bytes to send
 * ```
 * @module
 */

import { writeBinary } from "../bytes/binary_string.ts";
import { copyBytes } from "../bytes/copy_bytes.ts";
import { writeDecimal } from "../bytes/decimal.ts";
import { type ByteWriter, writeAll } from "../bytes/io.ts";

/**
 * Bytes made on demand, when they are sent (e.g. a large value quoted for
 * the text protocol). Each call of `chunks` starts from the beginning.
 *
 * @example
 * ```ts
 * const source: ByteSource = {
 *   byteLength: 2,
 *   *chunks() { yield new Uint8Array([0x4f, 0x4b]); },
 * };
 * ```
 */
export interface ByteSource {
  /** Exactly how many bytes the chunks add up to. */
  readonly byteLength: number;
  /** The bytes in order, each chunk at most `maxBytes`, valid until the next is taken. */
  chunks(maxBytes: number): Iterable<Uint8Array>;
}

/** Data kept by reference: bytes, a binary string, or bytes made on demand. */
type Referenced = Uint8Array | string | ByteSource;

/**
 * Values from this size on are referenced rather than copied by the reply
 * writers: below it a copy is cheaper than a segment (and the bytes of a
 * batch of small replies go out in one write).
 */
export const REFERENCE_MIN_BYTES = 64 * 1024;

/** Bytes one write call sends at most when the caller names no bound. */
const DEFAULT_MAX_WRITE_BYTES = 1024 * 1024;

/** The longest {@link OutBuffer.numberLine}: prefix, sign, 16 digits, CRLF. */
const NUMBER_LINE_MAX_BYTES = 20;

/**
 * Append-only bytes with amortised growth, plus references to large data;
 * {@link OutBuffer.reset} reuses the memory.
 *
 * @example
 * ```ts
 * const out = new OutBuffer();
 * out.binary("\x00\xff");
 * out.length; // 2
 * ```
 */
export class OutBuffer {
  #bytes: Uint8Array;
  /** Own bytes written (the referenced ones are not in `#bytes`). */
  #length = 0;
  /** What {@link view} returned last (a view from offset 0 of `#bytes`). */
  #lastView: Uint8Array = new Uint8Array(0);
  readonly #initialBytes: number;
  /** Referenced data, in order; `#refAt[i]` is the own-byte offset it follows. */
  readonly #refs: Referenced[] = [];
  readonly #refAt: number[] = [];
  /** Total bytes of `#refs`. */
  #refBytes = 0;

  constructor(initialBytes = 16 * 1024) {
    // Growth doubles the capacity, so it must start above zero.
    this.#initialBytes = Math.max(64, initialBytes);
    this.#bytes = new Uint8Array(this.#initialBytes);
  }

  /** Bytes written since the last reset, referenced ones included. */
  get length(): number {
    return this.#length + this.#refBytes;
  }

  /** Of {@link length}, the bytes held by reference (not copied in). */
  get referencedBytes(): number {
    return this.#refBytes;
  }

  /**
   * The written bytes; valid until the next write or reset. With references
   * this is a new array holding a copy of everything: for tests and the
   * in-process REPL, not for sending (use {@link writeTo}).
   */
  view(): Uint8Array {
    if (this.#refs.length === 0) {
      // The last view again when it is the same bytes (a client sending one
      // command gets replies of one size: "+OK"): no view per reply batch.
      const last = this.#lastView;
      if (last.length === this.#length && last.buffer === this.#bytes.buffer) return last;
      return this.#lastView = this.#bytes.subarray(0, this.#length);
    }
    const all = new Uint8Array(this.length);
    let at = 0;
    this.#forEachSegment((segment) => {
      all.set(segment, at);
      at += segment.length;
    }, DEFAULT_MAX_WRITE_BYTES);
    return all;
  }

  /** Empties the buffer; shrinks it back if a huge reply grew it. */
  reset(): void {
    this.#length = 0;
    if (this.#refs.length > 0) {
      this.#refs.length = 0;
      this.#refAt.length = 0;
      this.#refBytes = 0;
    }
    if (this.#bytes.length > 64 * this.#initialBytes) {
      this.#bytes = new Uint8Array(this.#initialBytes);
    }
  }

  /** Drops everything written after `length` (to undo a partial reply). */
  truncate(length: number): void {
    if (length < 0 || length > this.length || !Number.isInteger(length)) {
      throw new RangeError(`truncate to ${length} of ${this.length}`);
    }
    while (this.#refs.length > 0) {
      const last = this.#refs.length - 1;
      const ref = this.#refs[last];
      const refLength = byteLengthOf(ref);
      const refStart = this.#refAt[last] + this.#refBytes - refLength;
      if (length >= refStart + refLength) break;
      this.#refs.pop();
      this.#refAt.pop();
      this.#refBytes -= refLength;
      this.#length = refStart - this.#refBytes;
      if (length > refStart) {
        // The cut falls inside this reference: keep its head.
        const keep = length - refStart;
        if (typeof ref === "string") this.reference(ref.slice(0, keep));
        else if (ref instanceof Uint8Array) this.reference(ref.subarray(0, keep));
        else {
          for (const chunk of ref.chunks(DEFAULT_MAX_WRITE_BYTES)) {
            const n = Math.min(chunk.length, length - this.length);
            this.bytes(chunk.subarray(0, n));
            if (this.length === length) break;
          }
        }
        return;
      }
    }
    this.#length = length - this.#refBytes;
  }

  /** Makes room for `extra` more own bytes. */
  reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#bytes.length) return;
    let capacity = this.#bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }

  /** Appends raw bytes (copied). */
  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.#bytes.set(data, this.#length);
    this.#length += data.length;
  }

  /** Appends `data[start, end)` (copied). */
  bytesRange(data: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.reserve(n);
    copyBytes(data, start, end, this.#bytes, this.#length);
    this.#length += n;
  }

  /** Appends one byte. */
  byte(value: number): void {
    this.reserve(1);
    this.#bytes[this.#length++] = value;
  }

  /**
   * Appends the line `<prefix><value>\r\n` for a safe integer `value`
   * (a RESP integer, length or count), its digits written in place: no
   * string, one reserve. In-process, LPUSH onto a list of millions (a
   * 7-digit reply): 5.8% of the command's time went to writing the digits
   * a byte call each.
   */
  numberLine(prefix: number, value: number): void {
    this.reserve(NUMBER_LINE_MAX_BYTES);
    const bytes = this.#bytes;
    bytes[this.#length] = prefix;
    let at = writeDecimal(value, bytes, this.#length + 1);
    bytes[at++] = 0x0d;
    bytes[at++] = 0x0a;
    this.#length = at;
  }

  /** Appends a binary string (one byte per char). */
  binary(s: string): void {
    this.reserve(s.length);
    this.#length = writeBinary(s, this.#bytes, this.#length);
  }

  /** Appends ASCII text; the same as {@link binary} for 7-bit strings. */
  ascii(s: string): void {
    this.binary(s);
  }

  /** Appends text as UTF-8 (for messages that may quote user input). */
  text(s: string): void {
    this.bytes(new TextEncoder().encode(s));
  }

  /**
   * Appends bytes or a binary string by reference, without copying: the
   * caller guarantees they do not change until the buffer is sent or reset.
   */
  reference(data: Uint8Array | string): void {
    if (data.length === 0) return;
    this.#refs.push(data);
    this.#refAt.push(this.#length);
    this.#refBytes += data.length;
  }

  /** Appends bytes that `source` makes when they are sent. */
  produce(source: ByteSource): void {
    if (source.byteLength === 0) return;
    this.#refs.push(source);
    this.#refAt.push(this.#length);
    this.#refBytes += source.byteLength;
  }

  /**
   * Sends everything in order, at most `maxWriteBytes` per write call,
   * awaiting each (so other work runs between them). Does not reset.
   */
  async writeTo(writer: ByteWriter, maxWriteBytes = DEFAULT_MAX_WRITE_BYTES): Promise<void> {
    const refs = this.#refs;
    let own = 0;
    for (let i = 0; i <= refs.length; i++) {
      const ownEnd = i < refs.length ? this.#refAt[i] : this.#length;
      // Own bytes may pass the bound too (many mid-size values).
      while (own < ownEnd) {
        const to = Math.min(ownEnd, own + maxWriteBytes);
        await writeAll(writer, this.#bytes.subarray(own, to));
        own = to;
      }
      if (i === refs.length) break;
      for (const chunk of chunksOf(refs[i], maxWriteBytes)) await writeAll(writer, chunk);
    }
  }

  /** Calls `f` with each segment's bytes in order (chunks of at most `maxBytes`). */
  #forEachSegment(f: (bytes: Uint8Array) => void, maxBytes: number): void {
    let own = 0;
    for (let i = 0; i < this.#refs.length; i++) {
      f(this.#bytes.subarray(own, this.#refAt[i]));
      own = this.#refAt[i];
      for (const chunk of chunksOf(this.#refs[i], maxBytes)) f(chunk);
    }
    f(this.#bytes.subarray(own, this.#length));
  }
}

function byteLengthOf(data: Referenced): number {
  return typeof data === "string" || data instanceof Uint8Array ? data.length : data.byteLength;
}

/** The bytes of referenced data in chunks of at most `maxBytes`. */
function* chunksOf(data: Referenced, maxBytes: number): Iterable<Uint8Array> {
  if (data instanceof Uint8Array) {
    for (let at = 0; at < data.length; at += maxBytes) {
      yield data.subarray(at, Math.min(data.length, at + maxBytes));
    }
  } else if (typeof data === "string") {
    // One scratch buffer per send, reused for every chunk: the string's
    // bytes never exist whole a second time.
    const scratch = new Uint8Array(Math.min(maxBytes, data.length));
    for (let at = 0; at < data.length; at += maxBytes) {
      const n = Math.min(maxBytes, data.length - at);
      for (let i = 0; i < n; i++) scratch[i] = data.charCodeAt(at + i);
      yield scratch.subarray(0, n);
    }
  } else {
    yield* data.chunks(maxBytes);
  }
}
