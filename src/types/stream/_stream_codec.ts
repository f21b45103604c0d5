/**
 * The byte layouts a stream's records and snapshot chunks share: a
 * string as a 4-byte little-endian length and its bytes, a number as
 * such a string of its decimal digits, an ID as its 16 bytes; and an
 * entry's field-value pairs packed into one string the same way (one
 * string per entry in memory instead of two per pair).
 *
 * @example
 * ```ts
 * const packed = packFields(["XADD", "k", "*", "f", "v"], 3);
 * const r = new ByteReader(packed);
 * r.str(); // "f"
 * ```
 * @module
 */

import { bytesToBinary } from "../../bytes/binary_string.ts";
import { ScratchBytes } from "../../bytes/scratch_bytes.ts";
import { ID_BYTES } from "./stream_id.ts";

/**
 * `n` (below 2^32) as 4 little-endian bytes.
 *
 * @example
 * ```ts
 * u32le(1); // "\x01\0\0\0"
 * ```
 */
export function u32le(n: number): string {
  return String.fromCharCode(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
}

/**
 * `s` with its length before it.
 *
 * @example
 * ```ts
 * str("ab"); // "\x02\0\0\0ab"
 * ```
 */
export function str(s: string): string {
  return u32le(s.length) + s;
}

/**
 * A safe integer (negative too) as a {@link str} of its digits.
 *
 * @example
 * ```ts
 * num(-1); // "\x02\0\0\0-1"
 * ```
 */
export function num(n: number): string {
  return str(String(n));
}

/**
 * The field-value pairs `args[from..]` packed as one string of
 * length-prefixed parts.
 *
 * @example
 * ```ts
 * packFields(["f", "v"], 0); // "\x01\0\0\0f\x01\0\0\0v"
 * ```
 */
export function packFields(args: readonly string[], from: number): string {
  let length = 0;
  for (let i = from; i < args.length; i++) length += 4 + args[i].length;
  if (length > PACK_SCRATCH_MAX_BYTES) {
    let out = "";
    for (let i = from; i < args.length; i++) out += u32le(args[i].length) + args[i];
    return out;
  }
  const out = scratch.atLeast(length);
  // One flat string: a rope of small pieces would cost more to keep and to read.
  return bytesToBinary(out, 0, writePackedFields(out, 0, args, from));
}

/**
 * Writes `parts[from..]` packed as {@link packFields} packs them (each a
 * u32le length and its bytes) into `out` at `at`, which has room; returns
 * the offset after them.
 *
 * @example
 * ```ts
 * writePackedFields(new Uint8Array(10), 0, ["f", "v"], 0); // 10
 * ```
 */
export function writePackedFields(
  out: Uint8Array,
  at: number,
  parts: readonly string[],
  from: number,
): number {
  for (let i = from; i < parts.length; i++) {
    const part = parts[i];
    const n = part.length;
    out[at] = n & 0xff;
    out[at + 1] = (n >>> 8) & 0xff;
    out[at + 2] = (n >>> 16) & 0xff;
    out[at + 3] = n >>> 24;
    at += 4;
    for (let j = 0; j < n; j++) out[at + j] = part.charCodeAt(j);
    at += n;
  }
  return at;
}

/** Entries packed through the scratch buffer at most (bigger ones are concatenated). */
const PACK_SCRATCH_MAX_BYTES = 64 * 1024;
const scratch = new ScratchBytes();

/**
 * Reads the layouts above from a binary string; throws a RangeError on
 * bytes that end too soon (a damaged record or chunk).
 *
 * @example
 * ```ts
 * new ByteReader(num(5)).num(); // 5
 * ```
 */
export class ByteReader {
  at: number;
  constructor(readonly s: string, at = 0) {
    this.at = at;
  }

  get done(): boolean {
    return this.at >= this.s.length;
  }

  #need(n: number): void {
    if (this.at + n > this.s.length) throw new RangeError("stream bytes end too soon");
  }

  u8(): number {
    this.#need(1);
    return this.s.charCodeAt(this.at++);
  }

  u32(): number {
    this.#need(4);
    const s = this.s;
    const at = this.at;
    this.at += 4;
    return (s.charCodeAt(at) | (s.charCodeAt(at + 1) << 8) | (s.charCodeAt(at + 2) << 16) |
      (s.charCodeAt(at + 3) << 24)) >>> 0;
  }

  str(): string {
    const length = this.u32();
    this.#need(length);
    const value = this.s.substring(this.at, this.at + length);
    this.at += length;
    return value;
  }

  num(): number {
    const n = Number(this.str());
    if (!Number.isSafeInteger(n)) throw new RangeError("a stream number is damaged");
    return n;
  }

  id(): string {
    this.#need(ID_BYTES);
    const value = this.s.substring(this.at, this.at + ID_BYTES);
    this.at += ID_BYTES;
    return value;
  }

  /** The rest of the string. */
  rest(): string {
    const value = this.s.substring(this.at);
    this.at = this.s.length;
    return value;
  }
}

/**
 * The parts of a packed entry (see {@link packFields}).
 *
 * @example
 * ```ts
 * unpackFields(packFields(["f", "v"], 0)); // ["f", "v"]
 * ```
 */
export function unpackFields(packed: string): string[] {
  const parts: string[] = [];
  const r = new ByteReader(packed);
  while (!r.done) parts.push(r.str());
  return parts;
}
