/**
 * DUMP/RESTORE's glue between the collection types and RDB's plain-array
 * values (`rdb/rdb_value.ts`), through each type's public API: which
 * Redis encoding a value is written in (its OBJECT ENCODING), and a value
 * rebuilt from a payload (the type then picks its own encoding by the
 * thresholds, as Redis converts a loaded value that exceeds them).
 *
 * @example
 * ```ts
 * const rdb = toRdbValue(hash); // { kind: "hash", pairs, compact: true }
 * fromRdbValue(rdb); // a HashValue equal to hash (lists, sets, sorted sets alike)
 * ```
 * @module
 */

import type { Collection, KeyValue } from "../types/collection.ts";
import { HashValue } from "../types/hash/hash.ts";
import { ListValue } from "../types/list/list.ts";
import { SetValue } from "../types/set/set.ts";
import { ZsetValue } from "../types/zset/zset.ts";
import { StreamValue } from "../types/stream/stream.ts";
import type { RdbValue } from "./rdb/rdb_value.ts";

/**
 * A collection as plain arrays, or undefined for a type DUMP cannot write.
 *
 * @example
 * ```ts
 * toRdbValue(new HashValue()); // { kind: "hash", pairs: [], compact: true }
 * ```
 */
export function toRdbValue(value: Collection): RdbValue | undefined {
  if (value instanceof HashValue) {
    return { kind: "hash", pairs: value.entries(), compact: value.encoding() === "listpack" };
  }
  if (value instanceof ListValue) return { kind: "list", items: value.toArray() };
  if (value instanceof SetValue) {
    return { kind: "set", members: value.members(), compact: value.encoding() === "intset" };
  }
  if (value instanceof ZsetValue) {
    return { kind: "zset", entries: value.entries(), compact: value.encoding() === "listpack" };
  }
  if (value instanceof StreamValue) return { kind: "stream", stream: value };
  return undefined;
}

/**
 * The key value a decoded payload holds.
 *
 * @example
 * ```ts
 * fromRdbValue({ kind: "string", value: "x" }); // "x"
 * ```
 */
export function fromRdbValue(rdb: RdbValue): KeyValue {
  switch (rdb.kind) {
    case "string":
      return rdb.value;
    case "hash": {
      const hash = new HashValue();
      for (const [field, value] of rdb.pairs) hash.set(field, value);
      return hash;
    }
    case "list": {
      const list = new ListValue();
      for (const item of rdb.items) list.pushRight(item);
      return list;
    }
    case "set":
      return SetValue.of(rdb.members);
    case "zset": {
      const zset = new ZsetValue();
      for (const [member, score] of rdb.entries) zset.set(member, score);
      return zset;
    }
    case "stream":
      return rdb.stream;
  }
}
