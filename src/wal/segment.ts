/**
 * Segment files: naming, the segment header, listing a WAL directory.
 *
 * A segment is named after its first LSN, zero-padded to 16 digits (every
 * LSN < 2^53 fits), so name order is LSN order: `0000000000000001.wal`.
 * Listing still sorts numerically, so a longer name cannot sort wrong.
 *
 * The header, 32 bytes, little-endian:
 *
 * | offset | size | field                                                 |
 * |-------:|-----:|-------------------------------------------------------|
 * |      0 |    4 | magic `KWAL`                                           |
 * |      4 |    2 | format version (1)                                     |
 * |      6 |    2 | header size (32)                                       |
 * |      8 |    8 | first LSN: low u32, high u32                           |
 * |     16 |    4 | seed CRC: the CRC of the record before this segment (0 if none) |
 * |     20 |    8 | reserved, zero                                         |
 * |     28 |    4 | CRC-32 of bytes [0, 28)                                |
 *
 * The seed lets a segment's CRC chain be verified on its own, so the chain
 * survives deleting older segments.
 *
 * @example
 * ```ts
 * segmentName(1); // "0000000000000001.wal"
 * parseSegmentName("0000000000000001.wal"); // 1
 * ```
 * @module
 */

import { crc32 } from "node:zlib";
import { join } from "node:path";
import { readU16, readU32, readU53, writeU16, writeU32, writeU53 } from "./_bytes.ts";
import { WAL_MAX_INTEGER } from "./record.ts";

/**
 * Size of the segment header; a multiple of 8 so frames stay 8-aligned.
 *
 * @example
 * ```ts
 * SEGMENT_HEADER_BYTES; // 32
 * ```
 */
export const SEGMENT_HEADER_BYTES = 32;

/**
 * `KWAL` read as a little-endian u32.
 *
 * @example
 * ```ts
 * SEGMENT_MAGIC === 0x4c41574b; // true
 * ```
 */
export const SEGMENT_MAGIC = 0x4c41574b;

/**
 * The segment format this code writes and reads.
 *
 * @example
 * ```ts
 * SEGMENT_FORMAT_VERSION; // 1
 * ```
 */
export const SEGMENT_FORMAT_VERSION = 1;

/**
 * Digits in a segment name: enough for any LSN below 2^53.
 *
 * @example
 * ```ts
 * segmentName(42).length === SEGMENT_NAME_DIGITS + 4; // true
 * ```
 */
export const SEGMENT_NAME_DIGITS = 16;

const SEGMENT_NAME = /^([0-9]{16,20})\.wal$/;
const BACKUP_DIR = /^repair-backup-/;
/**
 * Files of ours that are not segments: the lock holder's note (lock.ts) and
 * the replication identity (replication/replication_identity.ts).
 */
const OWN_FILES = new Set(["LOCK", "LOCK.tmp", "REPLICATION", "REPLICATION.tmp"]);
/** Snapshots (snapshot/snapshot_file.ts) and their temporary files. */
const SNAPSHOT_FILE = /^snapshot-\d{16,}\.snap(\.tmp|\.damaged|\.diverged)?$/;

/**
 * What a segment header says.
 *
 * @example
 * ```ts
 * const header: SegmentHeader = { firstLsn: 1, seedCrc: 0 };
 * ```
 */
export interface SegmentHeader {
  firstLsn: number;
  seedCrc: number;
}

/**
 * A segment file found in a WAL directory.
 *
 * @example
 * ```ts
 * const { segments } = await listSegments("/data/wal");
 * segments[0].firstLsn; // from the name
 * ```
 */
export interface SegmentFile {
  name: string;
  path: string;
  /** The first LSN, from the name (the header must agree). */
  firstLsn: number;
}

/**
 * File name of the segment whose first record has `firstLsn`.
 *
 * @example
 * ```ts
 * segmentName(101); // "0000000000000101.wal"
 * ```
 */
export function segmentName(firstLsn: number): string {
  if (!Number.isSafeInteger(firstLsn) || firstLsn < 1) {
    throw new RangeError(`segment first LSN must be a positive integer, got ${firstLsn}`);
  }
  return `${String(firstLsn).padStart(SEGMENT_NAME_DIGITS, "0")}.wal`;
}

/**
 * The first LSN a segment name encodes, or `undefined` if `name` is not a
 * segment name.
 *
 * @example
 * ```ts
 * parseSegmentName("0000000000000101.wal"); // 101
 * parseSegmentName("notes.txt"); // undefined
 * ```
 */
export function parseSegmentName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  if (match === null) return undefined;
  const lsn = Number(match[1]);
  if (!Number.isSafeInteger(lsn) || lsn < 1 || lsn > WAL_MAX_INTEGER) return undefined;
  return lsn;
}

/**
 * Whether `name` is a snapshot's file in a WAL directory (the snapshot, or
 * its temporary copy, or one set aside as damaged or as a replica's diverged
 * history), not a segment and not foreign.
 *
 * @example
 * ```ts
 * isSnapshotFileName("snapshot-0000000000000042.snap.tmp"); // true
 * ```
 */
export function isSnapshotFileName(name: string): boolean {
  return SNAPSHOT_FILE.test(name);
}

/**
 * The 32-byte header of a new segment.
 *
 * @example
 * ```ts
 * await file.write(encodeSegmentHeader({ firstLsn: 1, seedCrc: 0 }));
 * ```
 */
export function encodeSegmentHeader(header: SegmentHeader): Uint8Array {
  const out = new Uint8Array(SEGMENT_HEADER_BYTES);
  writeU32(out, 0, SEGMENT_MAGIC);
  writeU16(out, 4, SEGMENT_FORMAT_VERSION);
  writeU16(out, 6, SEGMENT_HEADER_BYTES);
  writeU53(out, 8, header.firstLsn);
  writeU32(out, 16, header.seedCrc);
  writeU32(out, 28, crc32(out.subarray(0, 28)));
  return out;
}

/**
 * Decodes a segment header from `bytes` (at least 32 bytes), or returns why
 * it is not one.
 *
 * @example
 * ```ts
 * const h = decodeSegmentHeader(bytes);
 * if (typeof h === "string") throw new Error(h);
 * ```
 */
export function decodeSegmentHeader(bytes: Uint8Array): SegmentHeader | string {
  if (bytes.length < SEGMENT_HEADER_BYTES) {
    return `segment header cut short (${bytes.length} of ${SEGMENT_HEADER_BYTES} bytes)`;
  }
  if (readU32(bytes, 0) !== SEGMENT_MAGIC) return "not a kvdb WAL segment (bad magic)";
  if (crc32(bytes.subarray(0, 28)) !== readU32(bytes, 28)) {
    return "segment header checksum mismatch";
  }
  const version = readU16(bytes, 4);
  if (version !== SEGMENT_FORMAT_VERSION) {
    return `unsupported segment format version ${version} (this kvdb reads ${SEGMENT_FORMAT_VERSION})`;
  }
  if (readU16(bytes, 6) !== SEGMENT_HEADER_BYTES) return "unexpected segment header size";
  const firstLsn = readU53(bytes, 8);
  if (firstLsn < 1) return "segment first LSN out of range";
  return { firstLsn, seedCrc: readU32(bytes, 16) };
}

/**
 * Segments of a WAL directory in LSN order, plus every entry that is not
 * ours. `repair-backup-*` directories (made by `kvdb wal repair`) and the
 * `LOCK` file are ours.
 *
 * @example
 * ```ts
 * const listing = await listSegments(dir);
 * if (listing.foreign.length > 0) throw new Error(`foreign files: ${listing.foreign}`);
 * ```
 */
export interface SegmentListing {
  segments: SegmentFile[];
  foreign: string[];
}

/**
 * Lists `dir` (which must exist): segments sorted numerically by first LSN,
 * and foreign entries by name.
 *
 * @example
 * ```ts
 * const { segments } = await listSegments("/data/wal");
 * ```
 */
export async function listSegments(dir: string): Promise<SegmentListing> {
  const segments: SegmentFile[] = [];
  const foreign: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const firstLsn = entry.isFile ? parseSegmentName(entry.name) : undefined;
    if (firstLsn !== undefined) {
      segments.push({ name: entry.name, path: join(dir, entry.name), firstLsn });
    } else if (
      !(entry.isDirectory && BACKUP_DIR.test(entry.name)) && !OWN_FILES.has(entry.name) &&
      !(entry.isFile && isSnapshotFileName(entry.name))
    ) {
      foreign.push(entry.name);
    }
  }
  segments.sort((a, b) => a.firstLsn - b.firstLsn);
  foreign.sort();
  for (let i = 1; i < segments.length; i++) {
    // Two names for one LSN ("01.wal" padded differently) would make the
    // order ambiguous; treat the second as not ours rather than guess.
    if (segments[i].firstLsn === segments[i - 1].firstLsn) {
      foreign.push(segments[i].name);
      segments.splice(i--, 1);
    }
  }
  return { segments, foreign };
}

/**
 * Fsyncs a directory, making file creations, renames and removals in it
 * durable (fsync of a file does not cover its directory entry).
 *
 * @example
 * ```ts
 * await Deno.writeFile(join(dir, "x"), bytes);
 * await syncDir(dir);
 * ```
 */
export async function syncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}
