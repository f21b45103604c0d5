/**
 * Copies `from[start, end)` into `to` at `at`: a short range by hand, a
 * longer one with `set` (for a short range a subarray view costs more
 * than its copy). The caller guarantees room.
 *
 * @example
 * ```ts
 * const to = new Uint8Array(4);
 * copyBytes(new Uint8Array([1, 2, 3]), 1, 3, to, 0); // to: 2, 3, 0, 0
 * ```
 * @module
 */

/** Ranges up to this many bytes are copied by hand. */
const BY_HAND_MAX_BYTES = 32;

/** See the module doc. */
export function copyBytes(
  from: Uint8Array,
  start: number,
  end: number,
  to: Uint8Array,
  at: number,
): void {
  const n = end - start;
  if (n <= BY_HAND_MAX_BYTES) {
    for (let i = 0; i < n; i++) to[at + i] = from[start + i];
  } else {
    to.set(from.subarray(start, end), at);
  }
}
