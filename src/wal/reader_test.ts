import assert from "node:assert/strict";
import { join } from "node:path";
import {
  flipByte,
  frameOffsets,
  segmentNames,
  tempDir,
  walOptions,
  writeLog,
} from "./_test_util.ts";
import { WalCorruptError } from "./errors.ts";
import { readRecords } from "./reader.ts";
import { WalOp, type WalRecord } from "./record.ts";
import { Wal } from "./wal.ts";

async function collect(gen: AsyncGenerator<WalRecord>): Promise<WalRecord[]> {
  const out: WalRecord[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

Deno.test("readRecords yields records from an LSN across segments", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path, { maxSegmentBytes: 1024 }), 200, 30);
  assert.ok((await segmentNames(dir.path)).length > 5);
  const all = await collect(readRecords(dir.path, 1));
  assert.deepEqual(all.map((r) => r.lsn), Array.from({ length: 200 }, (_, i) => i + 1));
  assert.equal(all[41].key, "k42");
  assert.notEqual(all[0], all[1]); // fresh objects
  const middle = await collect(readRecords(dir.path, 77, { toLsn: 120 }));
  assert.deepEqual([middle[0].lsn, middle[middle.length - 1].lsn, middle.length], [77, 120, 44]);
  assert.deepEqual(await collect(readRecords(dir.path, 201)), []);
  assert.deepEqual(await collect(readRecords(dir.path, 5, { toLsn: 4 })), []);
});

Deno.test("readRecords: an LSN older than the log is an error", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path, { maxSegmentBytes: 1024 }), 100, 30);
  const names = await segmentNames(dir.path);
  await Deno.remove(join(dir.path, names[0]));
  await assert.rejects(collect(readRecords(dir.path, 1)), RangeError);
  const rest = await collect(readRecords(dir.path, Number(names[1].slice(0, 16))));
  assert.equal(rest[rest.length - 1].lsn, 100);
});

Deno.test("readRecords while the writer appends: bounded by durableLsn", async () => {
  await using dir = await tempDir();
  const wal = await Wal.open(
    walOptions(dir.path, { maxSegmentBytes: 2048, batchSize: 10 }),
    () => {},
  );
  let next = 1;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 25; i++) wal.append(WalOp.Set, 0, `k${round}-${i}`, "v".repeat(20), 0);
    const reading = collect(wal.records(next));
    await wal.commit();
    const got = await reading;
    if (got.length > 0) {
      assert.equal(got[0].lsn, next);
      next = got[got.length - 1].lsn + 1;
    }
  }
  await wal.commit();
  const rest = await collect(wal.records(next));
  assert.equal(rest[rest.length - 1].lsn, 250);
  await wal.close();
});

Deno.test("readRecords: a torn tail ends an unbounded read, fails a bounded one", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path), 10, 40);
  const path = join(dir.path, "0000000000000001.wal");
  const offsets = await frameOffsets(path);
  await Deno.truncate(path, offsets[9] + 20);
  assert.equal((await collect(readRecords(dir.path, 1))).length, 9);
  await assert.rejects(collect(readRecords(dir.path, 1, { toLsn: 10 })), WalCorruptError);
  assert.equal((await collect(readRecords(dir.path, 1, { toLsn: 9 }))).length, 9);
});

Deno.test("readRecords: damage before the last segment is an error", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path, { maxSegmentBytes: 1024 }), 100, 30);
  const names = await segmentNames(dir.path);
  const offsets = await frameOffsets(join(dir.path, names[0]));
  await flipByte(join(dir.path, names[0]), offsets[1] + 35);
  await assert.rejects(collect(readRecords(dir.path, 1)), (e: unknown) => {
    assert.ok(e instanceof WalCorruptError);
    assert.equal(e.offset, offsets[1]);
    return true;
  });
});

Deno.test("readRecords: zeros where durable records should be fail a bounded read; a clean end before toLsn too", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path), 20, 40);
  const path = join(dir.path, "0000000000000001.wal");
  const offsets = await frameOffsets(path);
  const zeroed = await Deno.readFile(path);
  zeroed.fill(0, offsets[9]);
  await Deno.writeFile(path, zeroed);
  // Unbounded: the preallocated-looking rest ends the read quietly.
  assert.equal((await collect(readRecords(dir.path, 1))).length, 9);
  await assert.rejects(collect(readRecords(dir.path, 1, { toLsn: 20 })), WalCorruptError);
  assert.equal((await collect(readRecords(dir.path, 1, { toLsn: 9 }))).length, 9);
  await Deno.truncate(path, offsets[9]);
  await assert.rejects(collect(readRecords(dir.path, 1, { toLsn: 20 })), WalCorruptError);
});
