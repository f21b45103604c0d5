/**
 * Request words as strings made once: a request's first argument is one
 * of a few dozen command names sent again and again, and many of its short
 * arguments recur too (`MAXLEN`, `~`, `*`, a queue's key, a small value).
 * Decoding such a word to the same string object each time saves making a
 * new one (and the garbage); for a command name — the larger part — it
 * lets the executor's name lookup (a `Map` keyed by the name) use the hash
 * V8 keeps in the string instead of computing one for a fresh string per
 * request.
 *
 * A direct-mapped cache: a word of at most `maxBytes` bytes is filed by a
 * hash of its bytes in one of `slots` slots, checked byte for byte, and
 * replaced on a miss. Any bytes are decoded exactly; the cache only
 * decides whether the string is new.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("GET");
 * COMMAND_NAMES.word(bytes, 0, 3) === COMMAND_NAMES.word(bytes, 0, 3); // true: the same string
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import { bytesToBinary } from "../bytes/binary_string.ts";

/**
 * One cache of recurring words (see the module doc).
 *
 * @example
 * ```ts
 * const words = new RecurringWords(8, 64);
 * words.word(new TextEncoder().encode("xxx"), 0, 3); // "xxx"
 * ```
 */
export class RecurringWords {
  readonly #words: string[];
  readonly #mask: number;

  /** A cache of `slots` (a power of two) words of at most `maxBytes` bytes; longer ones are decoded afresh. */
  constructor(readonly maxBytes: number, slots: number) {
    assert(slots > 0 && (slots & (slots - 1)) === 0, "recurring word slots: a power of two");
    this.#words = new Array<string>(slots).fill("");
    this.#mask = slots - 1;
  }

  /**
   * `bytes[start, end)` as a binary string, the same string object as the
   * last time these bytes were decoded here unless another word took its
   * slot.
   */
  word(bytes: Uint8Array, start: number, end: number): string {
    const length = end - start;
    if (length > this.maxBytes || length === 0) return bytesToBinary(bytes, start, end);
    // Length, first, middle and last byte: words differ there, cheaply.
    const slot = (length * 31 + bytes[start] * 7 + bytes[start + (length >> 1)] * 3 +
      bytes[end - 1]) & this.#mask;
    const cached = this.#words[slot];
    if (cached.length === length) {
      let i = 0;
      while (i < length && cached.charCodeAt(i) === bytes[start + i]) i++;
      if (i === length) return cached;
    }
    const word = bytesToBinary(bytes, start, end);
    this.#words[slot] = word;
    return word;
  }
}

/** Command names (at most 20 bytes; a request's first argument). */
export const COMMAND_NAMES = new RecurringWords(24, 256);

/**
 * A request's other arguments up to 8 bytes. Longer ones are mostly
 * distinct (keys and members with ids in them) and would cost the lookup
 * for nothing. XADD's eight arguments (`XADD s MAXLEN ~ 100000 * field
 * value`, six of them short): decoded in 256 -> 221 ns, SET's three in 130
 * -> 122 ns (in-process, alternating runs against the decoder without it).
 */
export const SHORT_ARGUMENTS = new RecurringWords(8, 256);
