/**
 * Verifies a segment header against its file name and, when known, against
 * the segment before it. Shared by the sync scanner and the async reader.
 *
 * @module
 */

import { decodeSegmentHeader, type SegmentFile, type SegmentHeader } from "./segment.ts";

/**
 * Header fields the previous segment dictates.
 *
 * @example
 * ```ts
 * const expect: SegmentExpectation = { firstLsn: prev.lastLsn + 1, seedCrc: prev.lastCrc };
 * ```
 */
export interface SegmentExpectation {
  firstLsn: number;
  seedCrc: number;
}

/**
 * A header problem: where in the file, and what.
 *
 * @example
 * ```ts
 * const problem: HeaderProblem = { offset: 0, reason: "bad magic" };
 * ```
 */
export interface HeaderProblem {
  offset: number;
  reason: string;
}

/**
 * The header in `bytes`, or where and why it cannot be trusted.
 *
 * @example
 * ```ts
 * const h = checkSegmentHeader(bytes, file, undefined);
 * if (isHeaderProblem(h)) console.log(h.offset, h.reason);
 * ```
 */
export function checkSegmentHeader(
  bytes: Uint8Array,
  file: SegmentFile,
  expect: SegmentExpectation | undefined,
): SegmentHeader | HeaderProblem {
  const header = decodeSegmentHeader(bytes);
  if (typeof header === "string") return { offset: 0, reason: header };
  if (header.firstLsn !== file.firstLsn) {
    return {
      offset: 8,
      reason: `header says first LSN ${header.firstLsn} but the name says ${file.firstLsn}`,
    };
  }
  if (expect !== undefined && header.firstLsn !== expect.firstLsn) {
    return {
      offset: 8,
      reason: `segment starts at LSN ${header.firstLsn} but the previous segment ends at LSN ${
        expect.firstLsn - 1
      }`,
    };
  }
  if (expect !== undefined && header.seedCrc !== expect.seedCrc) {
    return {
      offset: 16,
      reason: "CRC chain broken: segment was not written after the previous one",
    };
  }
  return header;
}

/**
 * Whether `h` is a problem rather than a header.
 *
 * @example
 * ```ts
 * if (isHeaderProblem(h)) throw new Error(h.reason);
 * ```
 */
export function isHeaderProblem(h: SegmentHeader | HeaderProblem): h is HeaderProblem {
  return "reason" in h;
}
