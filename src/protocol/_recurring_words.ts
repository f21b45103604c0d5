/**
 * Command names as strings made once: a request's first argument is one of
 * a few dozen words sent again and again. Decoding it to the same string
 * object each time saves making a new one, and — the larger part — lets the
 * executor's name lookup (a `Map` keyed by the name) use the hash V8 keeps
 * in the string instead of computing one for a fresh string per request.
 *
 * A direct-mapped cache: a word of at most {@link RECURRING_WORD_MAX_BYTES}
 * bytes is filed by a hash of its bytes in one of
 * {@link RECURRING_WORD_SLOTS} slots, checked byte for byte, and replaced on
 * a miss. Any bytes are decoded exactly; the cache only decides whether the
 * string is new.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("GET");
 * recurringWord(bytes, 0, 3) === recurringWord(bytes, 0, 3); // true: the same string
 * ```
 * @module
 */

import { bytesToBinary } from "../bytes/binary_string.ts";

/** Longer words are decoded afresh (command names are at most 20 bytes). */
export const RECURRING_WORD_MAX_BYTES = 24;
/** Slots of the cache (a power of two). */
export const RECURRING_WORD_SLOTS = 256;

const words: string[] = new Array<string>(RECURRING_WORD_SLOTS).fill("");

/**
 * `bytes[start, end)` as a binary string, the same string object as the
 * last time these bytes were decoded here unless another word took its slot.
 */
export function recurringWord(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length > RECURRING_WORD_MAX_BYTES || length === 0) return bytesToBinary(bytes, start, end);
  // Length, first, middle and last byte: command names differ there, cheaply.
  const slot = (length * 31 + bytes[start] * 7 + bytes[start + (length >> 1)] * 3 +
    bytes[end - 1]) & (RECURRING_WORD_SLOTS - 1);
  const cached = words[slot];
  if (cached.length === length) {
    let i = 0;
    while (i < length && cached.charCodeAt(i) === bytes[start + i]) i++;
    if (i === length) return cached;
  }
  const word = bytesToBinary(bytes, start, end);
  words[slot] = word;
  return word;
}
