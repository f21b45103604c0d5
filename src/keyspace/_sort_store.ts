/**
 * SORT ... STORE's glue to the list type: the sorted elements as a new
 * list value. (Until the list type is merged, no sortable type exists, so
 * nothing non-empty is ever stored.)
 *
 * @example
 * ```ts
 * ctx.db.put("dest", sortedList(["a", "b"]), 0);
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import type { Collection } from "../types/collection.ts";

/** A list holding `items` in order. */
export function sortedList(items: readonly string[]): Collection {
  assert(items.length === 0, "no sortable type exists before the list type");
  throw new Error("unreachable");
}
