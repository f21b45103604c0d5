/**
 * Redis 7.0's logical read counters: how far a consumer group has read
 * (`entries-read`) and how far it lags, estimated from the stream's
 * counters (`streamEstimateDistanceFromFirstEverEntry`,
 * `streamRangeHasTombstones`, `streamReplyWithCGLag`) — exact where no
 * deletion could make them wrong, unknown (-1, replied as nil) otherwise.
 *
 * @example
 * ```ts
 * groupLag(stream, group); // 3, or undefined when not known
 * ```
 * @module
 */

import type { StreamValue } from "./stream.ts";
import { ENTRIES_READ_UNKNOWN, type StreamGroup } from "./stream_group.ts";
import { MAX_ID, MIN_ID } from "./stream_id.ts";

/** The first live entry's ID, or 0-0 when empty (Redis's `first_id`). */
export function firstId(stream: StreamValue): string {
  return stream.length === 0 ? MIN_ID : stream.edgeId(false)!;
}

/** The counter of the entry `id` (how many were added up to it), or -1 when unknown. */
export function estimateDistance(stream: StreamValue, id: string): number {
  if (stream.entriesAdded === 0) return 0;
  if (stream.length === 0 && id <= stream.lastId) return stream.entriesAdded;
  if (id === stream.lastId) return stream.entriesAdded;
  if (id > stream.lastId) return ENTRIES_READ_UNKNOWN;
  const first = firstId(stream);
  if (stream.maxDeletedId === MIN_ID || stream.maxDeletedId < first) {
    if (id < first) return stream.entriesAdded - stream.length;
    if (id === first) return stream.entriesAdded - stream.length + 1;
  }
  return ENTRIES_READ_UNKNOWN;
}

/** Whether a deleted entry may lie within [start, end] (end: the last possible ID). */
export function rangeHasTombstones(stream: StreamValue, start: string, end = MAX_ID): boolean {
  if (stream.length === 0 || stream.maxDeletedId === MIN_ID) return false;
  if (firstId(stream) > stream.maxDeletedId) return false;
  return start <= stream.maxDeletedId && stream.maxDeletedId <= end;
}

/** The group's lag (entries not yet read), or undefined when it cannot be known. */
export function groupLag(stream: StreamValue, group: StreamGroup): number | undefined {
  if (stream.entriesAdded === 0) return 0;
  if (
    group.entriesRead !== ENTRIES_READ_UNKNOWN && !rangeHasTombstones(stream, group.lastId)
  ) {
    return stream.entriesAdded - group.entriesRead;
  }
  const read = estimateDistance(stream, group.lastId);
  return read === ENTRIES_READ_UNKNOWN ? undefined : stream.entriesAdded - read;
}

/**
 * The group's read counter after it is delivered entry `id` (above its
 * last ID): counted on when valid, else estimated.
 */
export function entriesReadAfter(stream: StreamValue, entriesRead: number, id: string): number {
  if (entriesRead !== ENTRIES_READ_UNKNOWN && !rangeHasTombstones(stream, id)) {
    return entriesRead + 1;
  }
  if (stream.entriesAdded > 0) return estimateDistance(stream, id);
  return entriesRead;
}
