import assert from "node:assert/strict";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from "../storage/store.ts";
import {
  ENTRY_OVERHEAD_BYTES,
  le,
  MAX_BLOCK_BYTES,
  parseSnapshotName,
  SNAPSHOT_BLOCK_TARGET_BYTES,
  SNAPSHOT_HEADER_BYTES,
  snapshotName,
  SnapshotWriter,
} from "./snapshot_file.ts";
import { loadSnapshot, readSnapshotHeader, SnapshotCorruptError } from "./snapshot_reader.ts";

const REPLID = "0123456789abcdef0123456789abcdef01234567";

type Entry = [string, string, number];

function sampleEntries(count: number): Entry[] {
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const key = i % 13 === 0 ? `bin\x00\xff\r\n${i}` : `key:${i}`;
    const value = i % 17 === 0 ? "x".repeat(100_000) : `value-${i}-${"v".repeat(i % 50)}`;
    entries.push([key, value, i % 3 === 0 ? 1_800_000_000_000 + i : 0]);
  }
  return entries;
}

async function write(dir: string, entries: Entry[], lsn = 42): Promise<string> {
  const writer = await SnapshotWriter.create(dir, lsn, REPLID, 1_700_000_000_000);
  for (const [k, v, e] of entries) {
    writer.add(0, k, v, e);
    await writer.flush();
  }
  return (await writer.finish()).path;
}

async function load(path: string): Promise<Entry[]> {
  const out: Entry[] = [];
  await loadSnapshot(path, (_db, k, v, e) => out.push([k, v, e]));
  return out;
}

Deno.test("a snapshot round-trips every entry, binary keys and expiry times included", async () => {
  const dir = await Deno.makeTempDir();
  const entries = sampleEntries(3000);
  const path = await write(dir, entries);
  assert.equal(path, join(dir, snapshotName(42)));
  assert.deepEqual(await load(path), entries);
  assert.deepEqual(await readSnapshotHeader(path), {
    lsn: 42,
    keys: 3000,
    createdMs: 1_700_000_000_000,
    version: 3,
    replid: REPLID,
  });
  // No temporary file is left behind.
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [snapshotName(42)]);
});

Deno.test("an empty keyspace is a valid snapshot", async () => {
  const dir = await Deno.makeTempDir();
  const path = await write(dir, [], 1);
  assert.deepEqual(await load(path), []);
  assert.equal((await readSnapshotHeader(path)).keys, 0);
});

Deno.test("names sort by LSN and parse back", () => {
  assert.equal(parseSnapshotName(snapshotName(123)), 123);
  assert.equal(parseSnapshotName("snapshot-12.snap"), undefined);
  assert.ok(snapshotName(9) < snapshotName(10));
});

Deno.test("any flipped byte, cut or extra byte is a SnapshotCorruptError", async () => {
  const dir = await Deno.makeTempDir();
  const path = await write(dir, sampleEntries(200));
  const good = await Deno.readFile(path);
  const damaged = join(dir, "damaged.snap");
  const cases: [string, Uint8Array][] = [];
  for (let i = 0; i < good.length; i += Math.max(1, Math.floor(good.length / 97))) {
    const copy = good.slice();
    copy[i] ^= 0x10;
    cases.push([`flip at ${i}`, copy]);
  }
  for (const cut of [10, SNAPSHOT_HEADER_BYTES + 3, Math.floor(good.length / 2), good.length - 1]) {
    cases.push([`cut to ${cut}`, good.slice(0, cut)]);
  }
  cases.push(["extra byte", new Uint8Array([...good, 0])]);
  for (const [what, bytes] of cases) {
    await Deno.writeFile(damaged, bytes);
    await assert.rejects(load(damaged), SnapshotCorruptError, what);
  }
});

Deno.test("blocks from another snapshot are noticed (chained checksums)", async () => {
  const dir = await Deno.makeTempDir();
  const a = await Deno.readFile(await write(dir, sampleEntries(50), 10));
  const b = await Deno.readFile(await write(dir, sampleEntries(50), 11));
  // Same entries, different LSN: b's blocks spliced behind a's header.
  const spliced = new Uint8Array(a.length);
  spliced.set(a.subarray(0, SNAPSHOT_HEADER_BYTES));
  spliced.set(b.subarray(SNAPSHOT_HEADER_BYTES), SNAPSHOT_HEADER_BYTES);
  const path = join(dir, "spliced.snap");
  await Deno.writeFile(path, spliced);
  await assert.rejects(load(path), SnapshotCorruptError);
});

Deno.test("an aborted snapshot leaves nothing", async () => {
  const dir = await Deno.makeTempDir();
  const writer = await SnapshotWriter.create(dir, 5, "", 0);
  writer.add(0, "k", "v", 0);
  await writer.abort();
  assert.deepEqual([...Deno.readDirSync(dir)], []);
});

/** The body sizes of a snapshot file's blocks, in order. */
function blockSizes(file: Uint8Array): number[] {
  const sizes: number[] = [];
  for (let at = SNAPSHOT_HEADER_BYTES;;) {
    const size = le.u32(file, at);
    if (size === 0) return sizes;
    sizes.push(size);
    at += 8 + size;
  }
}

Deno.test("a block closes before an entry would take it past its size, whatever is added between flushes", async () => {
  const dir = await Deno.makeTempDir();
  // 100 values of 1 MiB and small ones among them, added without a flush
  // (the old writer made one block of all of them: over MAX_BLOCK_BYTES).
  const entries: Entry[] = [];
  for (let i = 0; i < 300; i++) {
    entries.push([`key${i}`, i % 3 === 0 ? String(i % 10).repeat(1024 * 1024) : `small${i}`, 0]);
  }
  const writer = await SnapshotWriter.create(dir, 7, "", 0);
  for (const [k, v, e] of entries) writer.add(0, k, v, e);
  const { path } = await writer.finish();
  assert.deepEqual(await load(path), entries);
  const largest = ENTRY_OVERHEAD_BYTES + "key000".length + 1024 * 1024;
  for (const size of blockSizes(await Deno.readFile(path))) {
    assert.ok(size <= Math.max(SNAPSHOT_BLOCK_TARGET_BYTES, largest), `a block of ${size} bytes`);
  }
});

Deno.test("the largest entry the limits admit is written and read back (a block of its own)", async () => {
  const dir = await Deno.makeTempDir();
  const key = "k".repeat(MAX_KEY_BYTES);
  const value = "v".repeat(MAX_VALUE_BYTES);
  const writer = await SnapshotWriter.create(dir, 9, "", 0);
  writer.add(0, "before", "x", 0);
  writer.add(0, key, value, 1_800_000_000_000);
  writer.add(0, "after", "y", 0);
  await writer.flush();
  const { path } = await writer.finish();
  let seen = 0;
  await loadSnapshot(path, (_db, k, v, e) => {
    if (seen === 1) {
      assert.ok(k === key && v === value && e === 1_800_000_000_000, "the large entry");
    }
    seen++;
  });
  assert.equal(seen, 3);
  assert.deepEqual(blockSizes(await Deno.readFile(path)), [
    ENTRY_OVERHEAD_BYTES + "before".length + 1,
    ENTRY_OVERHEAD_BYTES + MAX_KEY_BYTES + MAX_VALUE_BYTES,
    ENTRY_OVERHEAD_BYTES + "after".length + 1,
  ]);
  assert.ok(ENTRY_OVERHEAD_BYTES + MAX_KEY_BYTES + MAX_VALUE_BYTES <= MAX_BLOCK_BYTES);
});

Deno.test("an entry over the block limit is refused before anything is buffered", async () => {
  const dir = await Deno.makeTempDir();
  const writer = await SnapshotWriter.create(dir, 3, "", 0);
  assert.throws(() => writer.add(0, "k", "v".repeat(MAX_BLOCK_BYTES), 0), RangeError);
  assert.equal(writer.keys, 0);
  await writer.abort();
});

Deno.test("the reader refuses a block size over MAX_BLOCK_BYTES (a damaged size cannot make it allocate more)", async () => {
  const dir = await Deno.makeTempDir();
  const path = await write(dir, sampleEntries(3));
  const bytes = await Deno.readFile(path);
  le.putU32(bytes, SNAPSHOT_HEADER_BYTES, MAX_BLOCK_BYTES + 1);
  await Deno.writeFile(path, bytes);
  await assert.rejects(load(path), /block size \d+ is impossible/);
});

/**
 * Rewrites a snapshot file as format version `version`: the version field,
 * the header CRC, and the block CRC chain seeded from the header.
 */
function asVersion(bytes: Uint8Array, version: number): void {
  bytes[4] = version & 0xff;
  bytes[5] = version >> 8;
  le.putU32(bytes, 60, crc32(bytes.subarray(0, 60)));
  let crc = crc32(bytes.subarray(0, 16));
  let at = SNAPSHOT_HEADER_BYTES;
  for (;;) {
    const size = le.u32(bytes, at);
    if (size === 0) {
      const count = new Uint8Array(8);
      count.set(bytes.subarray(16, 24));
      le.putU32(bytes, at + 4, crc32(count, crc));
      return;
    }
    crc = crc32(bytes.subarray(at + 8, at + 8 + size), crc);
    le.putU32(bytes, at + 4, crc);
    at += 8 + size;
  }
}

Deno.test("typed entries (hash chunks) round-trip in version 3; a version 2 file still reads, and holds only strings", async () => {
  const dir = await Deno.makeTempDir();
  const writer = await SnapshotWriter.create(dir, 7, REPLID, 1_700_000_000_000);
  writer.add(0, "s", "string", 0);
  writer.add(1, "h", "\x01\x00\x00\x00f\x01\x00\x00\x00v", 1_800_000_000_000, 1);
  const { path } = await writer.finish();
  const seen: [number, string, string, number, number][] = [];
  const header = await loadSnapshot(path, (db, k, v, e, type) => seen.push([db, k, v, e, type]));
  assert.equal(header.version, 3);
  assert.deepEqual(seen, [
    [0, "s", "string", 0, 0],
    [1, "h", "\x01\x00\x00\x00f\x01\x00\x00\x00v", 1_800_000_000_000, 1],
  ]);

  // The same bytes as a version 2 file: its type byte 1 is unknown there.
  const bytes = await Deno.readFile(path);
  asVersion(bytes, 2);
  await Deno.writeFile(path, bytes);
  await assert.rejects(load(path), /entry of type 1, unknown to this kvdb/);

  // A version 2 file of strings (what kvdb wrote before) reads as it did.
  const old = await write(dir, sampleEntries(50), 9);
  const oldBytes = await Deno.readFile(old);
  asVersion(oldBytes, 2);
  await Deno.writeFile(old, oldBytes);
  assert.equal((await readSnapshotHeader(old)).version, 2);
  assert.deepEqual(await load(old), sampleEntries(50));

  // A type this kvdb does not know is refused in any version.
  const unknown = await SnapshotWriter.create(dir, 11, REPLID, 0);
  unknown.add(0, "x", "", 0, 99);
  const unknownPath = (await unknown.finish()).path;
  await assert.rejects(load(unknownPath), /entry of type 99/);
});
