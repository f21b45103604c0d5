/**
 * Reads one segment synchronously in large chunks, verifying the header,
 * every frame, the CRC chain and LSN contiguity; shared by recovery and
 * `kvdb wal check`. Synchronous because recovery happens before the server
 * serves anything, and a read per chunk (not per record) keeps a million
 * records within the replay budget.
 *
 * @module
 */

import {
  bufferForFrame,
  DECODE_INCOMPLETE,
  DECODE_ZERO_FILL,
  type DecodedRecord,
  decodeRecord,
  describeDecodeResult,
  newDecodedRecord,
} from "./decoder.ts";
import { checkSegmentHeader, isHeaderProblem, type SegmentExpectation } from "./_header_check.ts";
import { WalFlag } from "./record.ts";
import { SEGMENT_HEADER_BYTES, type SegmentFile, type SegmentHeader } from "./segment.ts";

/**
 * Bytes read per chunk: large enough that read calls cost nothing per record.
 *
 * @example
 * ```ts
 * SCAN_CHUNK_BYTES; // 4 MiB
 * ```
 */
export const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

/** Records between progress callbacks. */
const PROGRESS_EVERY_RECORDS = 65536;

/**
 * Where and why a segment stops being trustworthy.
 *
 * @example
 * ```ts
 * if (scan.damage?.incomplete) console.log("cut short at", scan.damage.offset);
 * ```
 */
export interface SegmentDamage {
  offset: number;
  reason: string;
  /** The frame runs past the end of the file (a cut-short write). */
  incomplete: boolean;
  /** The header, not a record, is damaged (offset < SEGMENT_HEADER_BYTES). */
  inHeader: boolean;
}

/**
 * What a scan found in one segment.
 *
 * @example
 * ```ts
 * const { records, lastLsn, damage } = new SegmentScanner().scan(file, undefined, undefined);
 * ```
 */
export interface SegmentScan {
  file: SegmentFile;
  fileBytes: number;
  header: SegmentHeader | undefined;
  /** Good records, up to the damage if any. */
  records: number;
  /** LSN of the last good record; `header.firstLsn - 1` if none. */
  lastLsn: number;
  /** CRC of the last good record (the next record's seed). */
  lastCrc: number;
  /** Offset just after the last good record (0 if the header is bad). */
  goodBytes: number;
  /** Where reading records began: after the header, or where a scan was resumed. */
  fromBytes: number;
  /**
   * Just after the last good record that ends its group (WalFlag): where
   * the log ends if a trailing group is incomplete. Equal to `goodBytes`,
   * `lastLsn`, `lastCrc` when no group is open.
   */
  groupEnd: { bytes: number; lsn: number; crc: number };
  damage: SegmentDamage | undefined;
}

/**
 * Where to take up a scan past damage: the frame at `offset`, chained from
 * `seedCrc`, following `lastLsn` (see recovery's covered-damage resync).
 *
 * @example
 * ```ts
 * scanner.scan(file, undefined, apply, undefined, { offset: 4096, seedCrc, lastLsn: 99 });
 * ```
 */
export interface ScanResume {
  offset: number;
  seedCrc: number;
  lastLsn: number;
}

/**
 * Reads segments with one reused buffer. `record` is reused across calls
 * to `onRecord`: a callback must copy what it keeps (strings are immutable,
 * so keeping `record.key` is fine; keeping `record` is not).
 *
 * @example
 * ```ts
 * const scanner = new SegmentScanner();
 * const scan = scanner.scan(file, undefined, (r) => store.apply(r));
 * ```
 */
export class SegmentScanner {
  #buf = new Uint8Array(SCAN_CHUNK_BYTES);
  readonly record: DecodedRecord = newDecodedRecord();

  /**
   * Scans `file`. With `expect`, the header must continue the previous
   * segment, else the scan reports damage before delivering any record.
   * `onProgress` gets the file offset reached, every 64Ki records. With
   * `stopAfterLsn`, the scan ends right after that record (`goodBytes` is
   * where the next one starts).
   */
  scan(
    file: SegmentFile,
    expect: SegmentExpectation | undefined,
    onRecord: ((record: DecodedRecord) => void) | undefined,
    onProgress?: (offset: number) => void,
    resume?: ScanResume,
    stopAfterLsn = Infinity,
  ): SegmentScan {
    const handle = Deno.openSync(file.path, { read: true });
    try {
      return this.#scan(handle, file, expect, onRecord, onProgress, resume, stopAfterLsn);
    } finally {
      handle.close();
    }
  }

  #scan(
    handle: Deno.FsFile,
    file: SegmentFile,
    expect: SegmentExpectation | undefined,
    onRecord: ((record: DecodedRecord) => void) | undefined,
    onProgress: ((offset: number) => void) | undefined,
    resume: ScanResume | undefined,
    stopAfterLsn: number,
  ): SegmentScan {
    let fileBytes = handle.statSync().size;
    const result: SegmentScan = {
      file,
      fileBytes,
      header: undefined,
      records: 0,
      lastLsn: 0,
      lastCrc: 0,
      goodBytes: 0,
      fromBytes: 0,
      groupEnd: { bytes: 0, lsn: 0, crc: 0 },
      damage: undefined,
    };
    const damage = (offset: number, reason: string, incomplete = false) => {
      result.damage = {
        offset,
        reason,
        incomplete,
        inHeader: offset < SEGMENT_HEADER_BYTES,
      };
      return result;
    };

    let end = readFully(handle, this.#buf, 0, Math.min(SEGMENT_HEADER_BYTES, fileBytes));
    const header = checkSegmentHeader(this.#buf.subarray(0, end), file, expect);
    if (isHeaderProblem(header)) {
      return damage(header.offset, header.reason, end < SEGMENT_HEADER_BYTES);
    }
    result.header = header;
    result.lastLsn = resume?.lastLsn ?? header.firstLsn - 1;
    result.lastCrc = resume?.seedCrc ?? header.seedCrc;
    result.goodBytes = resume?.offset ?? SEGMENT_HEADER_BYTES;
    result.fromBytes = result.goodBytes;
    const groupEnd = result.groupEnd;
    groupEnd.bytes = result.goodBytes;
    groupEnd.lsn = result.lastLsn;
    groupEnd.crc = result.lastCrc;

    const record = this.record;
    let buf: Uint8Array = this.#buf;
    let base = result.goodBytes; // file offset of buf[0]
    let start = 0; // next frame in buf
    end = 0; // valid bytes in buf
    let seed = result.lastCrc;
    let lsn = result.lastLsn;
    if (base > 0) handle.seekSync(base, Deno.SeekMode.Start);
    let records = 0;
    while (true) {
      const code = decodeRecord(buf, start, end, seed, record);
      if (code > 0) {
        if (record.lsn !== lsn + 1) {
          result.records = records;
          result.lastLsn = lsn;
          result.lastCrc = seed;
          result.goodBytes = base + start;
          return damage(base + start, `LSN ${record.lsn} where ${lsn + 1} was expected`);
        }
        lsn = record.lsn;
        seed = record.crc;
        start += code;
        records++;
        if ((record.flags & WalFlag.Continues) === 0) {
          groupEnd.bytes = base + start;
          groupEnd.lsn = lsn;
          groupEnd.crc = seed;
        }
        if (onRecord !== undefined) onRecord(record);
        if (onProgress !== undefined && records % PROGRESS_EVERY_RECORDS === 0) {
          onProgress(base + start);
        }
        if (lsn === stopAfterLsn) {
          // Asked to stop here (a log cut after this record).
          result.records = records;
          result.lastLsn = lsn;
          result.lastCrc = seed;
          result.goodBytes = base + start;
          return result;
        }
        continue;
      }
      result.records = records;
      result.lastLsn = lsn;
      result.lastCrc = seed;
      result.goodBytes = base + start;
      if (code === DECODE_ZERO_FILL) {
        // The preallocated, unwritten rest: the end, if nothing follows.
        const data = findNonZero(handle, buf, start, end, base, fileBytes);
        if (data < 0) return result;
        return damage(
          base + start,
          `zero-filled bytes where record LSN ${lsn + 1} was expected, then data at offset ${data}`,
        );
      }
      if (code !== DECODE_INCOMPLETE) {
        return damage(base + start, `${describeDecodeResult(code)} (record LSN ${lsn + 1})`);
      }
      if (base + end >= fileBytes) {
        if (start === end) return result;
        return damage(
          base + start,
          `record LSN ${lsn + 1} cut short: ${end - start} bytes at end of file`,
          true,
        );
      }
      // Refill: keep the partial frame, make room for it whole, read on.
      buf.copyWithin(0, start, end);
      end -= start;
      base += start;
      start = 0;
      buf = bufferForFrame(buf, end);
      const n = readFully(handle, buf, end, Math.min(buf.length, fileBytes - base));
      // A file that shrank under us ends here; the next pass reports it.
      if (n === 0) result.fileBytes = fileBytes = base + end;
      end += n;
    }
  }
}

/**
 * The file offset of the first non-zero byte from `buf[start]` (file offset
 * `base + start`) to the end of the file, or -1. Reads on through `buf`.
 */
function findNonZero(
  handle: Deno.FsFile,
  buf: Uint8Array,
  start: number,
  end: number,
  base: number,
  fileBytes: number,
): number {
  for (;;) {
    for (let i = start; i < end; i++) if (buf[i] !== 0) return base + i;
    base += end;
    if (base >= fileBytes) return -1;
    start = 0;
    end = readFully(handle, buf, 0, Math.min(buf.length, fileBytes - base));
    if (end === 0) return -1;
  }
}

/**
 * Reads into `buf[from, to)` until full or end of file; returns the bytes read.
 *
 * @example
 * ```ts
 * const n = readFully(handle, buf, 0, 32); // < 32 only at end of file
 * ```
 */
export function readFully(
  handle: Deno.FsFile,
  buf: Uint8Array,
  from: number,
  to: number,
): number {
  let at = from;
  while (at < to) {
    const n = handle.readSync(buf.subarray(at, to));
    if (n === null || n === 0) break;
    at += n;
  }
  return at - from;
}

/**
 * Reads `[from, end of file)` of `path` whole. Only for damaged tails (the
 * bytes after a bad record), which a segment's size bounds.
 *
 * @example
 * ```ts
 * const tail = readTailSync(path, damage.offset);
 * ```
 */
export function readTailSync(path: string, from: number): Uint8Array {
  const handle = Deno.openSync(path, { read: true });
  try {
    const size = handle.statSync().size;
    const out = new Uint8Array(Math.max(0, size - from));
    handle.seekSync(from, Deno.SeekMode.Start);
    const n = readFully(handle, out, 0, out.length);
    return out.subarray(0, n);
  } finally {
    handle.close();
  }
}
