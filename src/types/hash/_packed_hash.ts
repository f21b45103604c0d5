/**
 * A small hash where the key table holds it inline, read in its packed
 * bytes ({@link PackedHash}) and rid of a field there
 * ({@link removePackedField}); its writes already edit the bytes in place
 * (`hash.ts`, `setPackedField`). HGET, HMGET, HEXISTS, HLEN, HINCRBY and
 * HDEL on a small hash then scan its entries where they lie, and HGETALL,
 * HKEYS and HVALS reply from them, where each unpacked a `HashValue` (the
 * bytes copied into a string) first.
 *
 * Layout, as `hash.ts` writes it: each field and then its value, each as
 * its length (one byte) and its bytes, in the order the fields came.
 *
 * @example
 * ```ts
 * const view = engine.packed("session", SNAPSHOT_TYPE_HASH);
 * if (view !== undefined) new PackedHash(view).get("user");
 * ```
 * @module
 */

import { PackedReader } from "../_packed_reader.ts";
import { binaryEquals, bytesToBinary } from "../../bytes/binary_string.ts";
import type { Engine } from "../../storage/engine.ts";
import type { ReplyWriter } from "../../protocol/reply_writer.ts";
import { SNAPSHOT_TYPE_HASH } from "./hash.ts";

/**
 * Where the entry of `field` starts in the entries [`at`, `end`), or -1.
 * Fields of one length often differ only at the end: the last byte is
 * compared before the rest.
 */
function findField(bytes: Uint8Array, at: number, end: number, field: string): number {
  const length = field.length;
  const last = length === 0 ? 0 : field.charCodeAt(length - 1);
  while (at < end) {
    const n = bytes[at];
    if (n === length && (n === 0 || bytes[at + n] === last) && binaryEquals(bytes, at + 1, field)) {
      return at;
    }
    at += 1 + n;
    at += 1 + bytes[at];
  }
  return -1;
}

/**
 * A hash held inline, read where its bytes lie. Valid until the keyspace
 * next changes: read first, then write.
 *
 * @example
 * ```ts
 * new PackedHash(view).has("user"); // true
 * ```
 */
export class PackedHash extends PackedReader {
  #length = -1;

  /** Its fields. */
  get length(): number {
    if (this.#length < 0) {
      const bytes = this.bytes;
      let count = 0;
      for (let at = this.start; at < this.end; count++) {
        at += 1 + bytes[at];
        at += 1 + bytes[at];
      }
      this.#length = count;
    }
    return this.#length;
  }

  /** The value of `field`, or undefined. */
  get(field: string): string | undefined {
    const at = findField(this.bytes, this.start, this.end, field);
    if (at < 0) return undefined;
    const valueAt = at + 1 + field.length;
    return bytesToBinary(this.bytes, valueAt + 1, valueAt + 1 + this.bytes[valueAt]);
  }

  /** Whether `field` is in it. */
  has(field: string): boolean {
    return findField(this.bytes, this.start, this.end, field) >= 0;
  }

  /** What OBJECT ENCODING answers for it. */
  encoding(): string {
    return "listpack";
  }

  /** Positions for cursors and random picks: its fields' places in order (no holes). */
  get positions(): number {
    return this.length;
  }

  /** The field at position `at`, or undefined past the end. */
  fieldAt(at: number): string | undefined {
    const bytes = this.bytes;
    let i = 0;
    for (let p = this.start; p < this.end; i++) {
      if (i === at) return bytesToBinary(bytes, p + 1, p + 1 + bytes[p]);
      p += 1 + bytes[p];
      p += 1 + bytes[p];
    }
    return undefined;
  }

  /** Calls `visit` for each field and value in order; stops when it returns false. */
  forEach(visit: (field: string, value: string) => boolean | void): void {
    const bytes = this.bytes;
    for (let at = this.start; at < this.end;) {
      const valueAt = at + 1 + bytes[at];
      const next = valueAt + 1 + bytes[valueAt];
      const field = bytesToBinary(bytes, at + 1, valueAt);
      if (visit(field, bytesToBinary(bytes, valueAt + 1, next)) === false) return;
      at = next;
    }
  }

  /** Every field with its value, in order. */
  entries(): [string, string][] {
    const out: [string, string][] = [];
    this.forEach((field, value) => {
      out.push([field, value]);
    });
    return out;
  }

  /**
   * Writes each field, each value, or both (field then value), as bulk
   * replies straight from the bytes, in the order the fields came.
   */
  writeEntries(w: ReplyWriter, fields: boolean, values: boolean): void {
    const bytes = this.bytes;
    for (let at = this.start; at < this.end;) {
      const valueAt = at + 1 + bytes[at];
      if (fields) w.bulkRange(bytes, at + 1, valueAt);
      const next = valueAt + 1 + bytes[valueAt];
      if (values) w.bulkRange(bytes, valueAt + 1, next);
      at = next;
    }
  }
}

/**
 * Removes `field` from the hash at `key` where it is held inline, in its
 * packed bytes (the key with its last field): 1 if it was held, 0 if not;
 * -1, changing nothing, where the hash is not held inline. `view`: its
 * packed bytes if just looked up (`Engine.getOrPacked`).
 */
export function removePackedField(
  engine: Engine,
  key: string,
  field: string,
  view = engine.packed(key, SNAPSHOT_TYPE_HASH, false),
): number {
  if (view === undefined) return -1;
  const { bytes, start, length } = view;
  const at = findField(bytes, start, start + length, field);
  if (at < 0) return 0;
  const valueAt = at + 1 + field.length;
  const end = valueAt + 1 + bytes[valueAt];
  engine.cutPacked(key, at - start, end - start);
  return 1;
}
