/**
 * A byte buffer reused to build strings (a packed collection, a record):
 * one per module that builds them, grown by doubling, never shrunk.
 *
 * @example
 * ```ts
 * const scratch = new ScratchBytes();
 * const out = scratch.atLeast(10); // a Uint8Array of 1,024 bytes or more
 * ```
 * @module
 */

/** See the module doc. */
export class ScratchBytes {
  #bytes = new Uint8Array(1024);

  /** The buffer, grown to hold at least `length` bytes (its contents are not kept). */
  atLeast(length: number): Uint8Array {
    if (this.#bytes.length < length) {
      this.#bytes = new Uint8Array(Math.max(length, this.#bytes.length * 2));
    }
    return this.#bytes;
  }
}
