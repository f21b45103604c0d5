/**
 * A growable byte buffer for one connection's replies.
 *
 * Replies to a whole read batch are gathered here and sent with one write.
 * Each connection owns its own: a shared buffer could be overwritten while
 * a write from it is still pending.
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

/**
 * Append-only bytes with amortised growth; {@link OutBuffer.reset} reuses
 * the memory.
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
  #length = 0;
  readonly #initialBytes: number;

  constructor(initialBytes = 16 * 1024) {
    // Growth doubles the capacity, so it must start above zero.
    this.#initialBytes = Math.max(64, initialBytes);
    this.#bytes = new Uint8Array(this.#initialBytes);
  }

  /** Bytes written since the last reset. */
  get length(): number {
    return this.#length;
  }

  /** The written bytes; valid until the next write or reset. */
  view(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  /** Empties the buffer; shrinks it back if a huge reply grew it. */
  reset(): void {
    this.#length = 0;
    if (this.#bytes.length > 64 * this.#initialBytes) {
      this.#bytes = new Uint8Array(this.#initialBytes);
    }
  }

  /** Drops everything written after `length` (to undo a partial reply). */
  truncate(length: number): void {
    if (length < 0 || length > this.#length) {
      throw new RangeError(`truncate to ${length} of ${this.#length}`);
    }
    this.#length = length;
  }

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#bytes.length) return;
    let capacity = this.#bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }

  /** Appends raw bytes. */
  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.#bytes.set(data, this.#length);
    this.#length += data.length;
  }

  /** Appends one byte. */
  byte(value: number): void {
    this.reserve(1);
    this.#bytes[this.#length++] = value;
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
}
