/**
 * The collection types by their snapshot entry type byte: what a snapshot
 * loader needs to rebuild a key of any type. A new type (list, set, sorted
 * set) adds its constructor here.
 *
 * @example
 * ```ts
 * newCollection(SNAPSHOT_TYPE_HASH); // an empty HashValue
 * ```
 * @module
 */

import type { Collection } from "./collection.ts";
import { HashValue, SNAPSHOT_TYPE_HASH } from "./hash/hash.ts";
import { ListValue, SNAPSHOT_TYPE_LIST } from "./list/list.ts";
import { SetValue, SNAPSHOT_TYPE_SET } from "./set/set.ts";
import { SNAPSHOT_TYPE_ZSET, ZsetValue } from "./zset/zset.ts";
import { SNAPSHOT_TYPE_STREAM, StreamValue } from "./stream/stream.ts";

const CONSTRUCTORS: ReadonlyMap<number, () => Collection> = new Map<number, () => Collection>([
  [SNAPSHOT_TYPE_HASH, () => new HashValue()],
  [SNAPSHOT_TYPE_LIST, (): Collection => new ListValue()],
  [SNAPSHOT_TYPE_SET, (): Collection => new SetValue()],
  [SNAPSHOT_TYPE_ZSET, () => new ZsetValue()],
  [SNAPSHOT_TYPE_STREAM, () => new StreamValue()],
]);

/** Readers of {@link Collection.packed} bytes, by type (the snapshot entry type). */
const UNPACKERS: ReadonlyMap<number, (packed: string) => Collection> = new Map<
  number,
  (packed: string) => Collection
>([
  [SNAPSHOT_TYPE_HASH, (packed: string) => HashValue.unpack(packed)],
  [SNAPSHOT_TYPE_LIST, (packed: string): Collection => ListValue.unpack(packed)],
  [SNAPSHOT_TYPE_SET, (packed: string): Collection => SetValue.unpack(packed)],
  [SNAPSHOT_TYPE_ZSET, (packed: string) => ZsetValue.unpack(packed)],
]);

/**
 * The collection of type `type` held inline as `packed` (see
 * {@link Collection.packed}): a fresh object each time.
 *
 * @example
 * ```ts
 * unpackCollection(1, new HashValue().packed()!).length; // 0
 * ```
 */
export function unpackCollection(type: number, packed: string): Collection {
  const unpack = UNPACKERS.get(type);
  if (unpack === undefined) throw new RangeError(`inline collection type ${type} is unknown`);
  return unpack(packed);
}

/** The names TYPE answers, by snapshot entry type. */
const TYPE_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [0, "string"],
  ...[...CONSTRUCTORS].map(([type, make]): [number, string] => [type, make().typeName]),
]);

/**
 * The name TYPE answers for a value of snapshot entry type `type` (0: a
 * string).
 *
 * @example
 * ```ts
 * typeName(SNAPSHOT_TYPE_ZSET); // "zset"
 * ```
 */
export function typeName(type: number): string {
  const name = TYPE_NAMES.get(type);
  if (name === undefined) throw new RangeError(`snapshot entry type ${type} is unknown`);
  return name;
}

/**
 * Whether `type` is a collection's snapshot entry type (0, a string, is not).
 *
 * @example
 * ```ts
 * isSnapshotType(1); // true: a hash
 * ```
 */
export function isSnapshotType(type: number): boolean {
  return CONSTRUCTORS.has(type);
}

/**
 * An empty collection of snapshot entry type `type`.
 *
 * @example
 * ```ts
 * newCollection(1).typeName; // "hash"
 * ```
 */
export function newCollection(type: number): Collection {
  const make = CONSTRUCTORS.get(type);
  if (make === undefined) throw new RangeError(`snapshot entry type ${type} is unknown`);
  return make();
}
