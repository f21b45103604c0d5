import assert from "node:assert/strict";
import { join } from "node:path";
import {
  parseSnapshotName,
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
    writer.add(k, v, e);
    await writer.flush();
  }
  return (await writer.finish()).path;
}

async function load(path: string): Promise<Entry[]> {
  const out: Entry[] = [];
  await loadSnapshot(path, (k, v, e) => out.push([k, v, e]));
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
  writer.add("k", "v", 0);
  await writer.abort();
  assert.deepEqual([...Deno.readDirSync(dir)], []);
});
