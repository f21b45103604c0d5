/**
 * Tells a torn tail from corruption in the last segment.
 *
 * What a crash can leave, given how this WAL writes (`wal.ts`,
 * `_batch.ts`, `_durable_file.ts`): segments are preallocated with zeros;
 * a batch is one write + fdatasync, and the next one starts only after it
 * returned, so at most one write is ever in flight, and it starts at a
 * frame boundary after every durable byte. A crash during it (power loss,
 * or a kill mid-syscall) leaves, of that write only:
 * - a prefix of its bytes, the file possibly ending inside it (a write
 *   that extended the file), or
 * - some of its sectors written and others not: an unwritten one reads as
 *   the preallocated zeros — except where that write also grew the file,
 *   which a file system that does not zero new blocks after a crash
 *   (ext4 `data=writeback`) can fill with stale bytes.
 * It never leaves a whole record out of place, and nothing after the end
 * of the write but zeros.
 *
 * How long one write is: a batch is flushed once it reaches 1 MiB
 * (`WAL_BATCH_FLUSH_BYTES`) plus the record that took it there, the bound
 * recovery passes (`WAL_MAX_WRITE_BYTES`). A batch that fills while a
 * rotation awaits the new segment's creation can grow to the pending
 * limit (256 MiB) and go out as one write; rule 1 below still refuses
 * what such a write could leave with records in it, and rule 2 then errs
 * towards refusing, never towards cutting.
 *
 * So the damage at offset D is a torn tail only if all of these hold:
 * 1. no record follows: no well-formed frame with an LSN that could come
 *    after the last good one ({@link findLaterRecord}). A record after
 *    the damage proves the damage is in the middle of the log;
 * 2. every non-zero byte after D lies within one write of D
 *    (`maxWriteBytes`);
 * 3. the frame at D is not a whole record whose checksum verifies (a
 *    wrong LSN, a field no encoder writes): no torn write leaves one.
 * Within that, a frame cut short by the end of the file or holding a
 * sector of zeros is what a torn write over preallocated zeros looks like
 * ({@link TailVerdict} `unwritten`); other wrong bytes are what a crash
 * can leave where the file grew, and also what damage looks like — both
 * are cut, with a copy kept, and the log says which it was.
 *
 * Rule 1 also refuses a torn write whose later sectors reached the disk
 * with whole records in them while an earlier one did not (a power loss
 * can do that): those records cannot be told from acknowledged ones, so
 * the start stops and the operator decides (`kvdb wal repair` cuts there,
 * keeping a copy). Refusing costs a manual step; guessing wrong would
 * silently drop acknowledged writes.
 *
 * @module
 */

import { pad8, readU32, readU53 } from "./_bytes.ts";
import { checkFrame, crcMatches, DECODE_INCOMPLETE } from "./decoder.ts";
import { RECORD_BODY_FIXED_BYTES, RECORD_HEADER_BYTES, RECORD_MAX_BODY_BYTES } from "./encoder.ts";
import { decodeSegmentHeader, encodeSegmentHeader, SEGMENT_HEADER_BYTES } from "./segment.ts";

/**
 * Disks write whole sectors; an unwritten one reads as the preallocated zeros.
 *
 * @example
 * ```ts
 * SECTOR_BYTES; // 512
 * ```
 */
export const SECTOR_BYTES = 512;

/**
 * Looks in `bytes` (the file from a bad frame to its end) for a record
 * written after the bad frame: a well-formed frame at an 8-aligned offset
 * y ≥ 8 whose LSN could follow `lastGoodLsn` within the bytes skipped
 * (every frame is ≥ 32 bytes). Returns its offset in `bytes`, or -1.
 *
 * Well-formedness (length in range, known op, zero reserved bytes and
 * padding, LSN window) is the test, not the CRC: the frame before a
 * candidate may be destroyed, leaving no seed, yet a frame that decodes
 * there is a record all the same. Random bytes pass about once in 2^40;
 * a user value holding a WAL frame image would too, which stops the start
 * (refusing is the safe error).
 *
 * @example
 * ```ts
 * const torn = findLaterRecord(readTailSync(path, offset), lastGoodLsn) < 0;
 * ```
 */
export function findLaterRecord(bytes: Uint8Array, lastGoodLsn: number): number {
  const end = bytes.length;
  for (let y = 8; y + RECORD_HEADER_BYTES <= end; y += 8) {
    if (readU32(bytes, y) === 0) continue;
    if (checkFrame(bytes, y, end) <= 0) continue;
    const lsn = readU53(bytes, y + 8);
    if (lsn > lastGoodLsn && lsn <= lastGoodLsn + 1 + y / RECORD_HEADER_BYTES) return y;
  }
  return -1;
}

/**
 * How a torn tail looks: `unwritten` if its damaged frame is cut short by
 * the end of the file or holds a sector of zeros (the signature of a torn
 * write over preallocated zeros); `damaged` if its bytes are non-zero and
 * wrong — a crash during the write that extended the file can leave stale
 * blocks on file systems that do not zero them (ext4 `data=writeback`),
 * and so can plain damage: the log says which it cannot tell apart.
 *
 * @example
 * ```ts
 * const verdict: TailVerdict = { torn: true, unwritten: true };
 * ```
 */
export type TailVerdict =
  | { torn: true; unwritten: boolean }
  | { torn: false; reason: string };

/**
 * Whether the damage at the start of `tail` (the last segment from its
 * first bad frame, at file offset `fileOffset`, to its end) can be the
 * last write torn by a crash (see the module doc). `seedCrc` is the CRC
 * the bad frame should chain from; `lastGoodLsn` the LSN before it.
 *
 * @example
 * ```ts
 * const verdict = judgeTail(tail, scan.goodBytes, scan.lastLsn, scan.lastCrc, maxWrite);
 * if (verdict.torn) cutTail();
 * ```
 */
export function judgeTail(
  tail: Uint8Array,
  fileOffset: number,
  lastGoodLsn: number,
  seedCrc: number,
  maxWriteBytes: number,
): TailVerdict {
  const later = findLaterRecord(tail, lastGoodLsn);
  if (later >= 0) {
    return {
      torn: false,
      reason: `record LSN ${readU53(tail, later + 8)} at offset ${fileOffset + later} follows ` +
        "the damage, so it is in the middle of the log, not a torn write",
    };
  }
  const nonZeroEnd = endOfNonZero(tail);
  if (nonZeroEnd > maxWriteBytes) {
    return {
      torn: false,
      reason: `data runs to offset ${fileOffset + nonZeroEnd}, ${nonZeroEnd} bytes past the ` +
        `damage: more than the last write (at most ${maxWriteBytes} bytes) could have left`,
    };
  }
  const frame = checkFrame(tail, 0, tail.length);
  if (frame === DECODE_INCOMPLETE) return { torn: true, unwritten: true };
  if (frame > 0 && crcMatches(tail, 0, seedCrc)) {
    return {
      torn: false,
      reason: "a whole record with its checksum intact that does not belong here, " +
        "which no torn write leaves",
    };
  }
  const bodyBytes = tail.length >= 8 ? readU32(tail, 0) : 0;
  const frameEnd = frame > 0
    ? frame
    : bodyBytes >= RECORD_BODY_FIXED_BYTES && bodyBytes <= RECORD_MAX_BODY_BYTES
    ? Math.min(tail.length, 8 + pad8(bodyBytes))
    : Math.min(tail.length, 8);
  return { torn: true, unwritten: hasUnwrittenSector(tail, fileOffset, frameEnd) };
}

/**
 * Whether a damaged header of the LAST segment (`bytes`: the whole file,
 * `firstLsn`: its name's LSN) can be a segment creation torn by a crash.
 * A segment is created empty, then its header is written and fdatasynced
 * before any record is written to it, so a torn creation leaves no
 * record: the file is empty, or holds a prefix of the header, or zeros,
 * or (where the file grew) stale bytes — but never a header that decodes
 * (the damage is then a mismatch with its neighbours) and never a record.
 *
 * @example
 * ```ts
 * if (judgeHeader(Deno.readFileSync(path), 42, maxWrite).torn) removeSegment();
 * ```
 */
export function judgeHeader(
  bytes: Uint8Array,
  firstLsn: number,
  maxWriteBytes: number,
): TailVerdict {
  if (typeof decodeSegmentHeader(bytes) !== "string") {
    return { torn: false, reason: "the header is whole: it does not fit the segments around it" };
  }
  const later = findLaterRecord(bytes, firstLsn - 1);
  if (later >= 0) {
    return {
      torn: false,
      reason: `record LSN ${readU53(bytes, later + 8)} at offset ${later} follows the damaged ` +
        "header, so the segment was created and written: not a creation torn by a crash",
    };
  }
  const nonZeroEnd = endOfNonZero(bytes);
  if (nonZeroEnd > maxWriteBytes) {
    return {
      torn: false,
      reason: `data runs to offset ${nonZeroEnd}: more than a segment creation could have left`,
    };
  }
  const expected = encodeSegmentHeader({ firstLsn, seedCrc: 0 });
  let unwritten = nonZeroEnd <= SEGMENT_HEADER_BYTES;
  for (let i = 0; unwritten && i < nonZeroEnd; i++) {
    // The seed (16..20) and the header CRC (28..32) depend on the previous segment.
    const seedDependent = (i >= 16 && i < 20) || i >= 28;
    if (!seedDependent && bytes[i] !== expected[i] && bytes[i] !== 0) unwritten = false;
  }
  return { torn: true, unwritten };
}

/** Offset just after the last non-zero byte of `bytes` (0 if all zero). */
export function endOfNonZero(bytes: Uint8Array): number {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/**
 * Whether an aligned sector overlapping `tail[0, to)` reads as zeros from
 * the damage on, to its end or the end of the file: a piece of the write
 * that never reached the disk.
 */
function hasUnwrittenSector(tail: Uint8Array, fileOffset: number, to: number): boolean {
  let from = 0;
  while (from < to) {
    const sectorEnd = Math.min(
      tail.length,
      from + SECTOR_BYTES - ((fileOffset + from) % SECTOR_BYTES),
    );
    let zero = true;
    for (let i = from; i < sectorEnd; i++) {
      if (tail[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero && sectorEnd > from) return true;
    from = sectorEnd;
  }
  return false;
}

/**
 * Where the record with LSN `lsn` starts in `bytes` (a segment from a
 * damaged frame on), proven by its predecessor: a well-formed frame of LSN
 * `lsn - 1` ending exactly there whose stored CRC seeds a matching CRC of
 * the record. Returns its offset and that seed, or `undefined`. Lets a
 * start read on past damage in records a snapshot covers (the predecessor's
 * body may be the damaged part; its CRC field and the record are checked).
 *
 * @example
 * ```ts
 * const at = findChainedRecord(readTailSync(path, damage.offset), snapshotLsn + 1);
 * ```
 */
export function findChainedRecord(
  bytes: Uint8Array,
  lsn: number,
): { offset: number; seedCrc: number } | undefined {
  const end = bytes.length;
  for (let y = 8; y + RECORD_HEADER_BYTES <= end; y += 8) {
    if (readU32(bytes, y) === 0 || readU53(bytes, y + 8) !== lsn) continue;
    if (checkFrame(bytes, y, end) <= 0) continue;
    for (let z = y - 8; z >= 0; z -= 8) {
      if (readU32(bytes, z) === 0 || checkFrame(bytes, z, end) !== y - z) continue;
      if (readU53(bytes, z + 8) !== lsn - 1) continue;
      const seedCrc = readU32(bytes, z + 4);
      if (crcMatches(bytes, y, seedCrc)) return { offset: y, seedCrc };
    }
  }
  return undefined;
}
