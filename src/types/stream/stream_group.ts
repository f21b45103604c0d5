/**
 * A stream's consumer groups: each group's last delivered ID and read
 * counter, its pending entries list (PEL: entries delivered and not yet
 * acknowledged, each with its owner, delivery time and count) and its
 * consumers, each with its own PEL and its seen time — Redis 7.0's
 * `streamCG`, `streamNACK` and `streamConsumer`.
 *
 * PELs are sorted arrays of IDs (binary-searched; XREADGROUP appends at
 * the end, the common case) beside a map of the pending entries.
 *
 * @example
 * ```ts
 * const group = new StreamGroup(MIN_ID, -1);
 * group.setPending(id, "alice", Date.now(), 1);
 * group.consumers.get("alice")!.pending.size; // 1
 * ```
 * @module
 */

/** The read counter of a group whose position is not known (Redis's SCG_INVALID_ENTRIES_READ). */
export const ENTRIES_READ_UNKNOWN = -1;

/**
 * A set of IDs kept in order.
 *
 * @example
 * ```ts
 * const ids = new SortedIds();
 * ids.add(b); ids.add(a);
 * ids.at(0) === a; // true
 * ```
 */
export class SortedIds {
  #ids: string[] = [];

  get size(): number {
    return this.#ids.length;
  }

  /** The position of the first ID at or after `id`. */
  lowerBound(id: string): number {
    const ids = this.#ids;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  at(i: number): string {
    return this.#ids[i];
  }

  has(id: string): boolean {
    const i = this.lowerBound(id);
    return i < this.#ids.length && this.#ids[i] === id;
  }

  /** Adds `id`; false if held already. */
  add(id: string): boolean {
    const ids = this.#ids;
    if (ids.length === 0 || ids[ids.length - 1] < id) {
      ids.push(id);
      return true;
    }
    const i = this.lowerBound(id);
    if (ids[i] === id) return false;
    ids.splice(i, 0, id);
    return true;
  }

  /** Removes `id`; false if not held. */
  delete(id: string): boolean {
    const i = this.lowerBound(id);
    if (i >= this.#ids.length || this.#ids[i] !== id) return false;
    this.#ids.splice(i, 1);
    return true;
  }
}

/** One pending entry. */
export interface PendingEntry {
  consumer: string;
  deliveryTimeMs: number;
  deliveryCount: number;
}

/** A consumer of a group. */
export class StreamConsumer {
  readonly pending = new SortedIds();
  constructor(public seenTimeMs: number) {}
}

/**
 * A consumer group (see the module doc).
 *
 * @example
 * ```ts
 * new StreamGroup(MIN_ID, 0).pending.size; // 0
 * ```
 */
export class StreamGroup {
  /** The group's PEL, in ID order. */
  readonly pending = new SortedIds();
  /** The pending entries by ID. */
  readonly entries = new Map<string, PendingEntry>();
  readonly consumers = new Map<string, StreamConsumer>();

  constructor(public lastId: string, public entriesRead: number) {}

  /** The consumer `name`, made (seen at `nowMs`) if missing. */
  consumer(name: string, nowMs: number): StreamConsumer {
    let consumer = this.consumers.get(name);
    if (consumer === undefined) this.consumers.set(name, consumer = new StreamConsumer(nowMs));
    return consumer;
  }

  /**
   * Makes `id` pending for `consumer` (made if missing), moving it from its
   * previous owner's PEL if another's.
   */
  setPending(id: string, consumer: string, deliveryTimeMs: number, deliveryCount: number): void {
    const current = this.entries.get(id);
    if (current !== undefined) {
      if (current.consumer !== consumer) {
        this.consumers.get(current.consumer)?.pending.delete(id);
      }
      current.consumer = consumer;
      current.deliveryTimeMs = deliveryTimeMs;
      current.deliveryCount = deliveryCount;
    } else {
      this.entries.set(id, { consumer, deliveryTimeMs, deliveryCount });
      this.pending.add(id);
    }
    this.consumer(consumer, deliveryTimeMs).pending.add(id);
  }

  /** Acknowledges `id`: off the group's and its owner's PEL. False if not pending. */
  deletePending(id: string): boolean {
    const current = this.entries.get(id);
    if (current === undefined) return false;
    this.entries.delete(id);
    this.pending.delete(id);
    this.consumers.get(current.consumer)?.pending.delete(id);
    return true;
  }

  /** Deletes consumer `name` and its pending entries; how many it had (-1: no such consumer). */
  deleteConsumer(name: string): number {
    const consumer = this.consumers.get(name);
    if (consumer === undefined) return -1;
    const count = consumer.pending.size;
    for (let i = 0; i < count; i++) {
      const id = consumer.pending.at(i);
      this.entries.delete(id);
      this.pending.delete(id);
    }
    this.consumers.delete(name);
    return count;
  }

  /** An independent copy. */
  clone(): StreamGroup {
    const copy = new StreamGroup(this.lastId, this.entriesRead);
    for (const [name, consumer] of this.consumers) {
      copy.consumers.set(name, new StreamConsumer(consumer.seenTimeMs));
    }
    for (let i = 0; i < this.pending.size; i++) {
      const id = this.pending.at(i);
      const e = this.entries.get(id)!;
      copy.setPending(id, e.consumer, e.deliveryTimeMs, e.deliveryCount);
    }
    return copy;
  }
}
