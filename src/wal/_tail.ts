/**
 * Tells a torn tail from corruption in the last segment.
 *
 * A crash can leave anything after the last fsynced record: a frame cut
 * short, zeros, stale or random bytes. One write+fsync is in flight at a
 * time, so only the last write can be torn. Segments are preallocated and
 * written in place, so a torn write may have reached the disk in any
 * subset of its sectors: valid records of it can follow one that is
 * missing, but the missing sectors read as the preallocated zeros. So a
 * bad frame starts a torn tail if no verifiable record follows it
 * ({@link findLaterRecord}), or if everything after it fits in one write
 * and holds a sector of zeros ({@link isTornWrite}). Otherwise it is
 * damage in the middle of the log, and cutting there would silently drop
 * acknowledged writes.
 *
 * @module
 */

import { readU32, readU53 } from "./_bytes.ts";
import { checkFrame, crcMatches } from "./decoder.ts";
import { RECORD_HEADER_BYTES } from "./encoder.ts";

/** Disks write whole sectors; an unwritten one reads as the preallocated zeros. */
const SECTOR_BYTES = 512;

/**
 * Looks in `bytes` (the file from a bad frame to its end) for a record that
 * must have been written after the bad frame; returns its offset in
 * `bytes`, or -1 if there is none (the bad frame starts a torn tail).
 *
 * A candidate at 8-aligned offset y is a well-formed frame whose LSN could
 * follow `lastGoodLsn` within the bytes skipped (every frame is ≥ 32
 * bytes). It counts as verified if either
 * - the next frame is well-formed, has the next LSN, and its CRC checks
 *   when seeded with the candidate's stored CRC (the chain proves both), or
 * - its own CRC checks when seeded with the stored CRC of some frame start
 *   before it (its predecessor's CRC field survives most damage), or with
 *   one of `extraSeeds` (for a damaged segment header: the seed the first
 *   record must have).
 *
 * Limitation, by design: if the damage also destroyed the predecessor's CRC
 * field and only one record follows, that record cannot be verified and is
 * cut with the tail. Random bytes pass the well-formedness checks (zero
 * reserved bytes, known op, LSN window, zero padding) about once in 2^40.
 *
 * Cost: linear in `bytes` for the scan, plus, for a candidate without a
 * successor, one CRC per earlier 8-byte position; only damaged logs pay it.
 *
 * @example
 * ```ts
 * const torn = findLaterRecord(readTailSync(path, offset), lastGoodLsn) < 0;
 * ```
 */
export function findLaterRecord(
  bytes: Uint8Array,
  lastGoodLsn: number,
  extraSeeds: readonly number[] = [],
): number {
  const end = bytes.length;
  for (let y = 8; y + RECORD_HEADER_BYTES <= end; y += 8) {
    const frame = checkFrame(bytes, y, end);
    if (frame <= 0) continue;
    const lsn = readU53(bytes, y + 8);
    if (lsn <= lastGoodLsn || lsn > lastGoodLsn + 1 + y / RECORD_HEADER_BYTES) continue;
    const next = y + frame;
    if (
      checkFrame(bytes, next, end) > 0 && readU53(bytes, next + 8) === lsn + 1 &&
      crcMatches(bytes, next, readU32(bytes, y + 4))
    ) {
      return y;
    }
    for (let z = y - 8; z >= 0; z -= 8) {
      if (crcMatches(bytes, y, readU32(bytes, z + 4))) return y;
    }
    for (const seed of extraSeeds) {
      if (crcMatches(bytes, y, seed)) return y;
    }
  }
  return -1;
}

/**
 * Whether `bytes` (the file from a bad frame at `fileOffset` to its end)
 * look like the last write torn by a crash over preallocated zeros: every
 * non-zero byte lies within `maxWriteBytes` of the bad frame, and among
 * them a sector — or the part of one from the bad frame on — is all zeros,
 * a piece of that write that never reached the disk.
 *
 * @example
 * ```ts
 * isTornWrite(readTailSync(path, offset), offset, 2 << 20);
 * ```
 */
export function isTornWrite(bytes: Uint8Array, fileOffset: number, maxWriteBytes: number): boolean {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end === 0 || end > maxWriteBytes) return false;
  // The first piece runs from the bad frame to the next sector boundary.
  let from = 0;
  let to = SECTOR_BYTES - (fileOffset % SECTOR_BYTES);
  while (to <= end) {
    let zero = true;
    for (let i = from; i < to; i++) {
      if (bytes[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) return true;
    from = to;
    to += SECTOR_BYTES;
  }
  return false;
}
