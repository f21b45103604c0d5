/**
 * The loop the appliers of sets, sorted sets and hashes share to edit a
 * collection held inline element by element (`_packed_set.ts`,
 * `_packed_zset.ts`, `_packed_hash.ts`): as far as each edit can be made
 * in the packed bytes; the caller takes the rest through the collection's
 * object.
 *
 * @example
 * ```ts
 * const done = editPacked(engine, "s", members, members.length, view, removePackedMember);
 * if (done < members.length) applyTheRest(members.slice(done));
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import type { Engine, PackedView } from "../storage/engine.ts";

/**
 * An edit of one element of a collection held inline: ≥ 0 when made in
 * its bytes, -1 (nothing changed) where it cannot be made there. `view`:
 * the packed bytes if just looked up (else it looks them up).
 */
export type PackedEdit = (
  engine: Engine,
  key: string,
  element: string,
  view?: PackedView,
) => number;

/**
 * Applies `edit` to `elements[i]` for i = 0 .. `count` - 1 while it can be
 * made in the packed bytes, the first with `view` (the bytes just looked
 * up); how many it applied.
 */
export function editPacked(
  engine: Engine,
  key: string,
  elements: readonly string[],
  count: number,
  view: PackedView,
  edit: PackedEdit,
): number {
  assert(count <= elements.length, "an in-place edit takes elements there are");
  let i = 0;
  while (i < count && edit(engine, key, elements[i], i === 0 ? view : undefined) >= 0) i++;
  return i;
}
