/**
 * A stream's WAL records (ops 50–59, see `wal/record.ts`): what each
 * holds and how it is built. Each logs an effect with everything resolved
 * (XADD's ID, never `*`; whether the entry starts a node; the trim's
 * resolved limit; delivery times), so replay and replicas rebuild exactly
 * the master's stream, node boundaries included, whatever their clock or
 * `stream-node-*` settings.
 *
 * Layouts (`str` = 4-byte length and bytes, `num` = a `str` of decimal
 * digits, ID = 16 bytes; see `_stream_codec.ts`):
 *
 * - `StreamAdd`: 1 byte (1: starts a new node), ID, the packed pairs.
 *   Appends the entry, counts it as added, makes its ID the last.
 * - `StreamDel`: ID. Deletes the live entry (its node goes with its last).
 * - `StreamTrim`: 1 byte (1: `~`), num maxLen (-1: by ID), min ID, num limit.
 * - `StreamMeta`: last ID, num entries added, max deleted ID. Makes an
 *   empty stream where there is none (XGROUP CREATE MKSTREAM).
 * - `StreamGroupSet`: str group, last ID, num entries read (-1: unknown):
 *   makes or moves the group.
 * - `StreamGroupDel`: str group.
 * - `StreamConsumerSet`: str group, str consumer, num seen time (ms).
 * - `StreamConsumerDel`: str group, str consumer (its pending entries go).
 * - `StreamPendingSet`: str group, ID, str consumer, num delivery time,
 *   num delivery count: the entry is pending for that consumer.
 * - `StreamPendingDel`: str group, ID (XACK).
 *
 * @example
 * ```ts
 * ctx.db.changeCollection(key, WalOp.StreamDel, [delRecord(id)], [0], applyStreamRecords);
 * ```
 * @module
 */

import { num, str } from "./_stream_codec.ts";

/** `StreamAdd`'s value. */
export function addRecord(newNode: boolean, id: string, packed: string): string {
  return (newNode ? "\x01" : "\x00") + id + packed;
}

/** `StreamDel`'s value. */
export function delRecord(id: string): string {
  return id;
}

/** `StreamTrim`'s value. */
export function trimRecord(approx: boolean, maxLen: number, minId: string, limit: number): string {
  return (approx ? "\x01" : "\x00") + num(maxLen) + minId + num(limit);
}

/** `StreamMeta`'s value. */
export function metaRecord(lastId: string, entriesAdded: number, maxDeletedId: string): string {
  return lastId + num(entriesAdded) + maxDeletedId;
}

/** `StreamGroupSet`'s value. */
export function groupSetRecord(group: string, lastId: string, entriesRead: number): string {
  return str(group) + lastId + num(entriesRead);
}

/** `StreamGroupDel`'s value. */
export function groupDelRecord(group: string): string {
  return str(group);
}

/** `StreamConsumerSet`'s value. */
export function consumerSetRecord(group: string, consumer: string, seenTimeMs: number): string {
  return str(group) + str(consumer) + num(seenTimeMs);
}

/** `StreamConsumerDel`'s value. */
export function consumerDelRecord(group: string, consumer: string): string {
  return str(group) + str(consumer);
}

/** `StreamPendingSet`'s value. */
export function pendingSetRecord(
  group: string,
  id: string,
  consumer: string,
  deliveryTimeMs: number,
  deliveryCount: number,
): string {
  return str(group) + id + str(consumer) + num(deliveryTimeMs) + num(deliveryCount);
}

/** `StreamPendingDel`'s value. */
export function pendingDelRecord(group: string, id: string): string {
  return str(group) + id;
}
