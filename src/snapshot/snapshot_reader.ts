/**
 * Reads and verifies snapshot files (layout in snapshot_file.ts): the
 * header's CRC, every block's chained CRC, the end record and the key
 * count. Damage is a {@link SnapshotCorruptError} naming the file and the
 * byte offset, never a partial keyspace taken for a whole one: a caller
 * that loads entries as they come must drop them when this throws.
 *
 * @example
 * ```ts
 * const header = await loadSnapshot(path, (db, key, value, expiresAtMs) => engines[db].set(key, value, expiresAtMs));
 * ```
 * @module
 */

import { SNAPSHOT_TYPE_FUNCTION_LIBRARY } from "../scripting/function_libraries.ts";
import { isSnapshotType } from "../types/registry.ts";
import { crc32 } from "node:zlib";
import { bytesToBinary } from "../bytes/binary_string.ts";
import {
  chainSeed,
  ENTRY_OVERHEAD_BYTES,
  ENTRY_OVERHEAD_BYTES_V1,
  le,
  MAX_BLOCK_BYTES,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_HEADER_BYTES,
  SNAPSHOT_MAGIC,
  type SnapshotHeader,
} from "./snapshot_file.ts";

/** A snapshot file that is not what it must be. */
export class SnapshotCorruptError extends Error {
  constructor(readonly file: string, readonly offset: number, readonly reason: string) {
    super(`snapshot corrupt: ${file} at byte offset ${offset}: ${reason}`);
    this.name = "SnapshotCorruptError";
  }
}

/** Reads exactly `length` bytes at the file's position, or fewer at its end. */
async function readUpTo(file: Deno.FsFile, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await file.read(out.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got === length ? out : out.subarray(0, got);
}

function parseHeader(path: string, bytes: Uint8Array): SnapshotHeader {
  const fail = (reason: string) => new SnapshotCorruptError(path, 0, reason);
  if (bytes.length < SNAPSHOT_HEADER_BYTES) throw fail("shorter than its header");
  if (bytesToBinary(bytes, 0, 4) !== SNAPSHOT_MAGIC) throw fail("not a kvdb snapshot (bad magic)");
  if (le.u32(bytes, 60) !== crc32(bytes.subarray(0, 60))) throw fail("header checksum mismatch");
  const version = bytes[4] | (bytes[5] << 8);
  if (version < 1 || version > SNAPSHOT_FORMAT_VERSION) {
    throw fail(`format version ${version}; this kvdb reads 1 to ${SNAPSHOT_FORMAT_VERSION}`);
  }
  if ((bytes[6] | (bytes[7] << 8)) !== SNAPSHOT_HEADER_BYTES) throw fail("unexpected header size");
  const replidBytes = bytes.subarray(32, 52);
  const replid = replidBytes.every((b) => b === 0)
    ? ""
    : Array.from(replidBytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return {
    version,
    lsn: le.u64(bytes, 8),
    keys: le.u64(bytes, 16),
    createdMs: le.u64(bytes, 24),
    replid,
  };
}

/**
 * Reads a snapshot's header only (checked against its CRC).
 *
 * @example
 * ```ts
 * (await readSnapshotHeader(path)).lsn;
 * ```
 */
export async function readSnapshotHeader(path: string): Promise<SnapshotHeader> {
  const file = await Deno.open(path, { read: true });
  try {
    return parseHeader(path, await readUpTo(file, SNAPSHOT_HEADER_BYTES));
  } finally {
    file.close();
  }
}

/**
 * Verifies the whole file and hands each entry to `onEntry` as it is read
 * (after its block's CRC checked). Resolves to the header; throws
 * {@link SnapshotCorruptError} on any damage.
 *
 * @example
 * ```ts
 * await loadSnapshot(path, () => {}); // verify only
 * ```
 */
export async function loadSnapshot(
  path: string,
  onEntry: (db: number, key: string, value: string, expiresAtMs: number, type: number) => void,
): Promise<SnapshotHeader> {
  const file = await Deno.open(path, { read: true });
  try {
    const headerBytes = await readUpTo(file, SNAPSHOT_HEADER_BYTES);
    const header = parseHeader(path, headerBytes);
    const overhead = header.version === 1 ? ENTRY_OVERHEAD_BYTES_V1 : ENTRY_OVERHEAD_BYTES;
    let crc = chainSeed(headerBytes);
    let offset = SNAPSHOT_HEADER_BYTES;
    let keys = 0;
    while (true) {
      const head = await readUpTo(file, 8);
      if (head.length < 8) {
        throw new SnapshotCorruptError(path, offset, "ends before its end record");
      }
      const size = le.u32(head, 0);
      if (size === 0) {
        const count = new Uint8Array(8);
        le.putU64(count, 0, keys);
        if (le.u32(head, 4) !== crc32(count, crc)) {
          throw new SnapshotCorruptError(path, offset, "end record checksum mismatch");
        }
        if (keys !== header.keys) {
          throw new SnapshotCorruptError(
            path,
            offset,
            `holds ${keys} keys, header says ${header.keys}`,
          );
        }
        const rest = await readUpTo(file, 1);
        if (rest.length > 0) {
          throw new SnapshotCorruptError(path, offset + 8, "bytes after the end");
        }
        return header;
      }
      if (size > MAX_BLOCK_BYTES) {
        throw new SnapshotCorruptError(path, offset, `block size ${size} is impossible`);
      }
      const body = await readUpTo(file, size);
      if (body.length < size) throw new SnapshotCorruptError(path, offset, "block cut short");
      crc = crc32(body, crc);
      if (le.u32(head, 4) !== crc) {
        throw new SnapshotCorruptError(path, offset, "block checksum mismatch");
      }
      for (let at = 0; at < size;) {
        if (at + overhead > size) {
          throw new SnapshotCorruptError(path, offset + 8 + at, "entry cut short");
        }
        const keyBytes = le.u32(body, at);
        const valueBytes = le.u32(body, at + 4);
        const expiresAtMs = le.u64(body, at + 8);
        const db = overhead === ENTRY_OVERHEAD_BYTES ? body[at + 16] | (body[at + 17] << 8) : 0;
        const type = overhead === ENTRY_OVERHEAD_BYTES ? body[at + 18] : 0;
        // Version 2 knew only strings; version 3 adds the collection types.
        const known = type === 0 ||
          (header.version >= 3 &&
            (isSnapshotType(type) || type === SNAPSHOT_TYPE_FUNCTION_LIBRARY));
        if (overhead === ENTRY_OVERHEAD_BYTES && (!known || body[at + 19] !== 0)) {
          throw new SnapshotCorruptError(
            path,
            offset + 8 + at,
            `entry of type ${body[at + 18]}, unknown to this kvdb`,
          );
        }
        const keyStart = at + overhead;
        const end = keyStart + keyBytes + valueBytes;
        if (end > size) {
          throw new SnapshotCorruptError(path, offset + 8 + at, "entry overruns block");
        }
        onEntry(
          db,
          bytesToBinary(body, keyStart, keyStart + keyBytes),
          bytesToBinary(body, keyStart + keyBytes, end),
          expiresAtMs,
          type,
        );
        keys++;
        at = end;
      }
      offset += 8 + size;
    }
  } finally {
    file.close();
  }
}
