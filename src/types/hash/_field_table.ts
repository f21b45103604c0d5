/**
 * The fields of a hashtable-encoded hash: each at a position that stays
 * its own while it is held (holes are reused by later fields), so that
 * positions are stable cursors (HSCAN, snapshot chunks), with its value at
 * the same position in `FieldValues`.
 *
 * The fields' bytes live off the JavaScript heap, in a {@link MemberArena}
 * (as a set's and a sorted set's members do), found through a
 * {@link SlotTable} of [seeded hash, position + 1]: a hash of millions of
 * fields kept as strings was millions of heap objects for the garbage
 * collector to mark. A read makes a string; a lookup compares the bytes
 * in place.
 *
 * @example
 * ```ts
 * const fields = new FieldTable();
 * fields.place("f"); // -1: added at position 0
 * fields.place("f"); // 0: held at position 0
 * fields.keyAt(0); // "f"
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";
import { MemberArena } from "../member_arena.ts";
import { NOT_FOUND, SlotTable } from "../slot_table.ts";
import { type PrefetchableIndex, stringHash } from "../string_map.ts";

const INITIAL_SLOTS = 16;
/** Positions a hash's fields may take (its offsets are one Int32 pages array). */
const MAX_POSITIONS = 1 << 26;

/**
 * A hash's fields by stable position (see the module doc).
 *
 * @example
 * ```ts
 * const fields = new FieldTable();
 * fields.place("a");
 * fields.positionOf("a"); // 0
 * fields.delete("a"); // true
 * fields.keyAt(0); // undefined: a hole
 * ```
 */
export class FieldTable implements PrefetchableIndex {
  readonly #fields = new MemberArena();
  readonly #table = new SlotTable(INITIAL_SLOTS, 3 / 4, false);
  /** Positions ever used: `[0, positions)`, live ones and holes. */
  #positions = 0;
  /** Holes, reused first. */
  readonly #free: number[] = [];
  /** The fields' bytes, summed (MEMORY USAGE). */
  #fieldBytes = 0;

  /** Fields held. */
  get size(): number {
    return this.#table.size;
  }

  /** Positions ever used, `[0, positions)`: live ones and holes. */
  get positions(): number {
    return this.#positions;
  }

  /** The fields' bytes, summed. */
  get fieldBytes(): number {
    return this.#fieldBytes;
  }

  /** The position of `field`, or -1. */
  positionOf(field: string): number {
    const at = this.#find(field, stringHash(field));
    return at === NOT_FOUND ? -1 : this.#table.entryAt(at) - 1;
  }

  /** Whether `field` is held. */
  has(field: string): boolean {
    return this.#find(field, stringHash(field)) !== NOT_FOUND;
  }

  /**
   * The position of `field`, adding it if absent: -(position + 1) when
   * added (one lookup for "add if absent, else find it").
   */
  place(field: string): number {
    const hash = stringHash(field);
    const found = this.#find(field, hash);
    if (found !== NOT_FOUND) return this.#table.entryAt(found) - 1;
    const at = this.#free.length > 0 ? this.#free.pop()! : this.#positions++;
    assert(at < MAX_POSITIONS, "a hash holds at most 2^26 field positions");
    this.#fields.reserve(at + 1);
    this.#fields.add(at, field);
    this.#fieldBytes += field.length;
    this.#table.add(hash, at + 1);
    return -at - 1;
  }

  /** Removes `field`; whether it was held. */
  delete(field: string): boolean {
    const found = this.#find(field, stringHash(field));
    if (found === NOT_FOUND) return false;
    const at = this.#table.entryAt(found) - 1;
    this.#table.removeAt(found);
    this.#fields.delete(at);
    this.#fieldBytes -= field.length;
    this.#free.push(at);
    return true;
  }

  /** The field at position `at` (< {@link positions}), or undefined for a hole. */
  keyAt(at: number): string | undefined {
    return this.#fields.held(at) ? this.#fields.get(at) : undefined;
  }

  /** See {@link PrefetchableIndex}. */
  get prefetchSlots(): SlotTable {
    return this.#table;
  }

  /** See {@link PrefetchableIndex}. */
  get prefetchKeys(): MemberArena {
    return this.#fields;
  }

  /** The location of `field` (whose hash is `hash`) in the slot table, or {@link NOT_FOUND}. */
  #find(field: string, hash: number): number {
    return this.#fields.locate(this.#table, field, hash);
  }
}
