/**
 * The growth rule of kvdb's byte arenas (the key table's, a big hash's
 * values, a big sorted set's members): values are appended, an overwrite
 * that outgrows its room leaves dead bytes behind, and when the arena is
 * full it is compacted — its live bytes copied once — if at least half of it
 * is dead (or growing up to the limit would not fit the request), else
 * grown; either way to twice what it then holds. With a smaller `spare`
 * (the key table's 1/2) it is compacted sooner and grown by less, to 1 +
 * spare times what it holds: less memory held for more copying (each
 * compaction copies the live bytes once per `spare` of them written).
 *
 * @example
 * ```ts
 * arenaGrowth(1000, 600, 100, 1 << 30, 1024); // { capacity: 1024, compact: true }
 * ```
 * @module
 */

/**
 * How an arena with `usedBytes` in use (`deadBytes` of them dead) makes room
 * for `bytes` more, within `maxBytes` and no smaller than `minBytes`, a
 * compaction leaving `spare` (in (0, 1]) of the live bytes free;
 * undefined if even its live bytes and `bytes` would pass `maxBytes`.
 *
 * @example
 * ```ts
 * arenaGrowth(1000, 0, 100, 1 << 30, 1024); // { capacity: 2200, compact: false }
 * ```
 */
export function arenaGrowth(
  usedBytes: number,
  deadBytes: number,
  bytes: number,
  maxBytes: number,
  minBytes: number,
  spare = 1,
): { capacity: number; compact: boolean } | undefined {
  const live = usedBytes - deadBytes;
  if (live + bytes > maxBytes) return undefined;
  // Dead as large a share of the arena as `spare` leaves after a compaction.
  const compact = deadBytes * (1 + spare) >= usedBytes * spare || usedBytes + bytes > maxBytes;
  const capacity = Math.min(
    maxBytes,
    Math.max(
      minBytes,
      roundUp8((compact ? live + bytes : usedBytes + bytes) * (1 + spare)),
    ),
  );
  return { capacity, compact };
}

function roundUp8(bytes: number): number {
  return Math.ceil(bytes / 8) * 8;
}
