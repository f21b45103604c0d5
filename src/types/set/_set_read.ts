/**
 * How the set commands read a set: the object, or a small one held inline
 * read in its packed bytes (`PackedSet`), never unpacked for a read.
 *
 * @example
 * ```ts
 * const set = setMembers(ctx, "tags");
 * set?.has("red");
 * ```
 * @module
 */

import type { CommandContext } from "../../executor/command_spec.ts";
import { noteRead } from "../../keyspace/lookup.ts";
import type { PackedView } from "../../storage/engine.ts";
import { WrongTypeError } from "../collection.ts";
import { PackedSet } from "./_packed_set.ts";
import { SetValue, SNAPSHOT_TYPE_SET } from "./set.ts";

/** What a command that reads a set reads: the object, or the bytes of one held inline. */
export type SetMembers = SetValue | PackedSet;

/**
 * The set at `key` for a command that reads it: one held inline is read in
 * its packed bytes, not unpacked (valid until the keyspace next changes).
 * A hit or a miss counted when `read`, before the type check (as Redis's
 * lookupKeyRead); WRONGTYPE for another type.
 */
export function setMembers(ctx: CommandContext, key: string, read = true): SetMembers | undefined {
  const value = ctx.db.valueOrPacked(key, SNAPSHOT_TYPE_SET);
  if (read) noteRead(ctx, key, value !== undefined);
  if (value === undefined || value instanceof SetValue) return value;
  if (value === ctx.db.engine.packedView) return new PackedSet(value as PackedView);
  throw new WrongTypeError();
}
