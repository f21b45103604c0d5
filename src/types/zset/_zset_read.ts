/**
 * How the sorted-set commands read a sorted set: the object, or a small one
 * held inline read in its packed bytes (`PackedZset`), never unpacked for
 * a read.
 *
 * @example
 * ```ts
 * const zset = readZset(ctx, "board");
 * zset?.rank("alice");
 * ```
 * @module
 */

import type { CommandContext } from "../../executor/command_spec.ts";
import { noteRead } from "../../keyspace/lookup.ts";
import { PackedZset } from "./_packed_zset.ts";
import { SNAPSHOT_TYPE_ZSET, type ZsetReader, ZsetValue } from "./zset.ts";

/**
 * The sorted set at `key` for a reading command: one held inline is read
 * in its packed bytes, not unpacked (valid until the keyspace next
 * changes: read first, then write). Counts a hit or a miss when `read`;
 * WRONGTYPE for another type.
 */
export function readZset(ctx: CommandContext, key: string, read = true): ZsetReader | undefined {
  const zset = ctx.db.collectionOrPacked(key, ZsetValue, SNAPSHOT_TYPE_ZSET);
  if (read) noteRead(ctx, key, zset !== undefined);
  return zset === undefined || zset instanceof ZsetValue ? zset : new PackedZset(zset);
}
