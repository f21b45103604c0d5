/**
 * Stream nodes' buffers, reused: a node's table and arena (see
 * `_stream_node.ts`) come in power-of-two sizes and go back here when the
 * node leaves its stream (trimmed, or its last entry deleted), for the
 * next node to take. A bounded log under XADD with MAXLEN then makes and
 * drops a node every 100 entries without allocating: a fresh 2-4 KiB
 * buffer cost ~8 us here (~2.5 ns a byte: it is new memory each time),
 * ~16 us a node, ~14% of a pipelined XADD's server CPU (`--cpu-prof`).
 *
 * A buffer handed back must not be read again by its node: its contents
 * are the next taker's (a node's buffers are its own, never shared or
 * handed out, so a node that left its stream is simply dropped).
 *
 * @example
 * ```ts
 * const table = takeWords(100); // 128 words
 * giveWords(table);
 * ```
 * @module
 */

/** Buffers kept per size at most (what a stream's trims free before its next nodes take them). */
const KEPT_PER_SIZE = 64;
/** Largest buffer kept (bytes): bigger ones are rare, and left to the GC. */
const MAX_KEPT_BYTES = 64 * 1024;

const freeWords: Uint32Array[][] = [];
const freeBytes: Uint8Array[][] = [];

/** The power of two at or above `n` (n >= 1), as its exponent. */
function sizeClass(n: number): number {
  return n <= 1 ? 0 : 32 - Math.clz32(n - 1);
}

/**
 * A word buffer of at least `words` words (a power of two; its contents
 * are not cleared).
 *
 * @example
 * ```ts
 * takeWords(5).length; // 8
 * ```
 */
export function takeWords(words: number): Uint32Array {
  const c = sizeClass(words);
  return freeWords[c]?.pop() ?? new Uint32Array(2 ** c);
}

/**
 * A byte buffer of at least `bytes` bytes (a power of two; its contents
 * are not cleared).
 *
 * @example
 * ```ts
 * takeBytes(100).length; // 128
 * ```
 */
export function takeBytes(bytes: number): Uint8Array {
  const c = sizeClass(bytes);
  return freeBytes[c]?.pop() ?? new Uint8Array(2 ** c);
}

/**
 * Hands back a buffer {@link takeWords} made (kept if there is room).
 *
 * @example
 * ```ts
 * giveWords(takeWords(8));
 * ```
 */
export function giveWords(buffer: Uint32Array): void {
  give(freeWords, buffer, buffer.byteLength);
}

/**
 * Hands back a buffer {@link takeBytes} made (kept if there is room).
 *
 * @example
 * ```ts
 * giveBytes(takeBytes(8));
 * ```
 */
export function giveBytes(buffer: Uint8Array): void {
  give(freeBytes, buffer, buffer.byteLength);
}

function give<T extends Uint8Array | Uint32Array>(free: T[][], buffer: T, bytes: number): void {
  const length = buffer.length;
  // Only whole power-of-two buffers (not views, not the empty one) are kept.
  if (length === 0 || (length & (length - 1)) !== 0 || bytes > MAX_KEPT_BYTES) return;
  if (buffer.byteOffset !== 0 || buffer.buffer.byteLength !== bytes) return;
  const c = sizeClass(length);
  const list = free[c] ??= [];
  if (list.length < KEPT_PER_SIZE) list.push(buffer);
}
