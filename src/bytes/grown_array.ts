/**
 * Growing a typed array without paying for its spare capacity.
 *
 * Why not `ArrayBuffer.prototype.transfer(newByteLength)`: in Deno 2.9 (V8
 * 15) the grown buffer is resident in full at once, its new tail included,
 * while a fresh `new Uint8Array(n)` gets zero pages from the system that
 * cost nothing until written. Measured (`Deno.memoryUsage().rss`): a buffer
 * transferred from 100 to 200 MiB added 200 MiB; the key table's arenas,
 * grown by half each time, kept their whole capacity resident — 219 MiB
 * for 1M keys of 125 bytes whose tables need ~160.
 *
 * @example
 * ```ts
 * let arena = new Uint8Array(1024);
 * arena = grownArray(arena, 4096, 100); // the first 100 bytes copied; the old array freed
 * ```
 * @module
 */

import { assert } from "../_assert.ts";

/** The typed arrays {@link grownArray} grows. */
export type GrowableArray = Uint8Array | Int32Array | Uint32Array | Float64Array;

/**
 * A new array of `array`'s kind, `length` elements long, holding
 * `array`'s first `keep` elements (all of them unless said) and zeros
 * after; `array` is detached, its memory freed now rather than at a
 * garbage collection.
 *
 * @example
 * ```ts
 * let times = new Float64Array(8);
 * times = grownArray(times, 16); // times.length === 16
 * ```
 */
export function grownArray<T extends GrowableArray>(
  array: T,
  length: number,
  keep = array.length,
): T {
  assert(keep <= array.length && keep <= length, "a grown array keeps what both can hold");
  const grown = new (array.constructor as new (length: number) => T)(length);
  grown.set(keep === array.length ? array : array.subarray(0, keep));
  (array.buffer as ArrayBuffer).transfer(0);
  return grown;
}
