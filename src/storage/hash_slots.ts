/**
 * The slot array of an open-addressing hash table with linear probing, as
 * the collections' string tables (`types/string_map.ts`) and a big set's
 * member table keep it (the key table keeps one word a slot: see
 * `storage/key_table.ts`): an `Int32Array` of `[hash, entry]`
 * pairs, entry 0 meaning empty, a power-of-two number of slots (`mask` + 1).
 * Deletions shift later entries of a probe run back, so no tombstones.
 *
 * @example
 * ```ts
 * slots = grownSlots(slots); // twice the slots, every pair re-placed
 * removeSlot(slots, slots.length / 2 - 1, at);
 * ```
 * @module
 */

/**
 * A slot array of twice as many slots holding every pair of `old`, each at
 * its home slot or the first empty one after it.
 *
 * @example
 * ```ts
 * const slots = grownSlots(new Int32Array(2 * 8)); // 16 empty slots
 * ```
 */
export function grownSlots(old: Int32Array): Int32Array<ArrayBuffer> {
  return resizedSlots(old, old.length); // old.length / 2 slots, twice that many
}

/**
 * A slot array of `slotCount` slots (a power of two, more than `old`'s
 * pairs) holding every pair of `old`: to grow, or to shrink a table that
 * emptied.
 *
 * @example
 * ```ts
 * const smaller = resizedSlots(slots, 16);
 * ```
 */
export function resizedSlots(old: Int32Array, slotCount: number): Int32Array<ArrayBuffer> {
  const slots = new Int32Array(2 * slotCount);
  const mask = slotCount - 1;
  for (let i = 0; i < old.length; i += 2) {
    if (old[i + 1] === 0) continue;
    let slot = old[i] & mask;
    while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    slots[2 * slot] = old[i];
    slots[2 * slot + 1] = old[i + 1];
  }
  return slots;
}

/**
 * Empties `slot` of `slots` (with `mask` + 1 slots), shifting back later
 * entries of its probe run.
 *
 * @example
 * ```ts
 * removeSlot(slots, mask, found);
 * ```
 */
export function removeSlot(slots: Int32Array, mask: number, slot: number): void {
  let hole = slot;
  let next = (hole + 1) & mask;
  while (slots[2 * next + 1] !== 0) {
    const home = slots[2 * next] & mask;
    // The entry at `next` may fill the hole unless its home lies
    // cyclically in (hole, next]: then it would become unreachable.
    const staysPut = hole <= next ? hole < home && home <= next : hole < home || home <= next;
    if (!staysPut) {
      slots[2 * hole] = slots[2 * next];
      slots[2 * hole + 1] = slots[2 * next + 1];
      hole = next;
    }
    next = (next + 1) & mask;
  }
  slots[2 * hole] = 0;
  slots[2 * hole + 1] = 0;
}
