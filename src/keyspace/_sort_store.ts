/**
 * SORT ... STORE's glue to the list type: the sorted elements as a new
 * list value (the command stores it with `Database.put`, which logs it as
 * the list's rebuild records).
 *
 * @example
 * ```ts
 * ctx.db.put("dest", sortedList(["a", "b"]), 0);
 * ```
 * @module
 */

import type { Collection } from "../types/collection.ts";
import { ListValue } from "../types/list/list.ts";

/**
 * A list holding `items` in order.
 *
 * @example
 * ```ts
 * sortedList(["1", "2"]).length; // 2
 * ```
 */
export function sortedList(items: readonly string[]): Collection {
  const list = new ListValue();
  for (const item of items) list.pushRight(item);
  return list;
}
