/**
 * A growable byte buffer for the RDB encoders: bytes, little-endian
 * integers, binary strings.
 *
 * @example
 * ```ts
 * const out = new ByteWriter();
 * out.u8(1);
 * out.u32le(7);
 * out.finish().length; // 5
 * ```
 * @module
 */

/**
 * See the module doc.
 *
 * @example
 * ```ts
 * new ByteWriter().binary("ab").finish(); // Uint8Array [97, 98]
 * ```
 */
export class ByteWriter {
  #bytes = new Uint8Array(64);
  #length = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  #room(n: number): void {
    if (this.#length + n <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + n));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }

  u8(value: number): this {
    this.#room(1);
    this.#bytes[this.#length++] = value & 0xff;
    return this;
  }

  /** `width` bytes of a two's-complement integer, little-endian. */
  intLE(value: bigint, width: number): this {
    this.#room(width);
    let v = BigInt.asUintN(width * 8, value);
    for (let i = 0; i < width; i++) {
      this.#bytes[this.#length++] = Number(v & 0xffn);
      v >>= 8n;
    }
    return this;
  }

  u32le(value: number): this {
    return this.intLE(BigInt(value), 4);
  }

  u32be(value: number): this {
    this.#room(4);
    new DataView(this.#bytes.buffer).setUint32(this.#length, value);
    this.#length += 4;
    return this;
  }

  /** A double's 8 bytes, little-endian (RDB's binary double). */
  f64le(value: number): this {
    this.#room(8);
    new DataView(this.#bytes.buffer).setFloat64(this.#length, value, true);
    this.#length += 8;
    return this;
  }

  /** A binary string's bytes (char codes 0..255). */
  binary(s: string): this {
    this.#room(s.length);
    for (let i = 0; i < s.length; i++) this.#bytes[this.#length++] = s.charCodeAt(i);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#room(b.length);
    this.#bytes.set(b, this.#length);
    this.#length += b.length;
    return this;
  }

  /** Overwrites 4 bytes at `at` with `value`, little-endian (a header filled in last). */
  patchU32le(at: number, value: number): void {
    new DataView(this.#bytes.buffer).setUint32(at, value, true);
  }

  /** The bytes written (a view: the writer is not used again). */
  finish(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }
}
