/**
 * Applies log records a whole group at a time (see {@link WalFlag}): the
 * records of a group that continues are held (copied: readers reuse their
 * record object) until its last record arrives, then handed on in order.
 * What is still held at the end is an incomplete group — a crash cut it, and
 * none of it was acknowledged — so it is never applied.
 *
 * @example
 * ```ts
 * const groups = new RecordGroups((r) => applyChange(engine, r));
 * for await (const record of readRecords(dir, 1)) groups.push(record);
 * groups.held; // records of a group the log does not hold whole
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import { WalFlag, type WalRecord } from "./record.ts";

/**
 * A group-at-a-time record applier.
 *
 * @example
 * ```ts
 * new RecordGroups(apply).push(record);
 * ```
 */
export class RecordGroups {
  readonly #apply: (record: WalRecord) => void;
  #held: WalRecord[] = [];

  constructor(apply: (record: WalRecord) => void) {
    this.#apply = apply;
  }

  /** Takes the next record in LSN order; applies its group once it is whole. */
  push(record: WalRecord): void {
    const continues = ((record.flags ?? 0) & WalFlag.Continues) !== 0;
    if (this.#held.length === 0 && !continues) {
      this.#apply(record); // the usual case: a group of one, nothing copied
      return;
    }
    assert(
      this.#held.length === 0 || this.#held[this.#held.length - 1].lsn + 1 === record.lsn,
      "a group's records are consecutive",
    );
    this.#held.push({ ...record });
    if (continues) return;
    const group = this.#held;
    this.#held = [];
    for (const held of group) this.#apply(held);
  }

  /** Records of the group that is not yet whole. */
  get held(): number {
    return this.#held.length;
  }

  /** LSN of the first record held (the incomplete group's start), or undefined. */
  get heldFromLsn(): number | undefined {
    return this.#held[0]?.lsn;
  }

  /** Drops the incomplete group. */
  discard(): void {
    this.#held = [];
  }
}
