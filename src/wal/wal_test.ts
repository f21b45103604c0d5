import assert from "node:assert/strict";
import { join } from "node:path";
import {
  frameOffsets,
  openCollect,
  recordingLogger,
  replayToMap,
  segmentNames,
  tempDir,
  walOptions,
} from "./_test_util.ts";
import { WalClosedError, WalFailedError } from "./errors.ts";
import { frameBytes } from "./encoder.ts";
import { WalOp } from "./record.ts";
import { parseSegmentName, SEGMENT_HEADER_BYTES } from "./segment.ts";
import { Wal } from "./wal.ts";

Deno.test("appended records replay in order after reopen", async () => {
  await using dir = await tempDir();
  const options = walOptions(dir.path);
  const { wal, records } = await openCollect(options);
  assert.equal(records.length, 0);
  assert.equal(wal.append(WalOp.Set, 0, "a", "1", 0), 1);
  assert.equal(wal.append(WalOp.Set, 0, "b\x00\xff\n", "\x00\n\xff", 123), 2);
  assert.equal(wal.append(WalOp.PExpireAt, 0, "a", "", 456), 3);
  assert.equal(wal.append(WalOp.Del, 0, "a", "", 0), 4);
  assert.equal(wal.append(WalOp.FlushAll, 0, "", "", 0), 5);
  assert.equal(wal.append(WalOp.Set, 0, "c", "3", 0), 6);
  await wal.commit();
  assert.equal(wal.durableLsn, 6);
  await wal.close();

  const reopened = await openCollect(walOptions(dir.path));
  assert.deepEqual(reopened.records.map((r) => [r.lsn, r.op, r.key, r.value, r.expiresAtMs]), [
    [1, WalOp.Set, "a", "1", 0],
    [2, WalOp.Set, "b\x00\xff\n", "\x00\n\xff", 123],
    [3, WalOp.PExpireAt, "a", "", 456],
    [4, WalOp.Del, "a", "", 0],
    [5, WalOp.FlushAll, "", "", 0],
    [6, WalOp.Set, "c", "3", 0],
  ]);
  assert.equal(reopened.wal.lastLsn, 6);
  assert.equal(reopened.wal.append(WalOp.Set, 0, "d", "4", 0), 7);
  await reopened.wal.close();
});

Deno.test("group commit: many appends, one commit, few fsyncs", async () => {
  await using dir = await tempDir();
  const { wal } = await openCollect(walOptions(dir.path, { batchSize: 100 }));
  for (let i = 0; i < 1000; i++) wal.append(WalOp.Set, 0, `k${i}`, "v", 0);
  await wal.commit();
  assert.equal(wal.durableLsn, 1000);
  const stats = wal.stats();
  assert.equal(stats.pendingRecords, 0);
  assert.ok(stats.fsyncs <= 11, `fsyncs ${stats.fsyncs}`);
  assert.ok(stats.bytesWritten >= 1000 * frameBytes(2, 1));
  await wal.close();
});

Deno.test("group commit: concurrent committers share fsyncs", async () => {
  await using dir = await tempDir();
  const { wal } = await openCollect(walOptions(dir.path, { batchSize: 1000 }));
  const acked: number[] = [];
  await Promise.all(Array.from({ length: 50 }, async (_, c) => {
    for (let i = 0; i < 20; i++) {
      const lsn = wal.append(WalOp.Set, 0, `c${c}`, `${i}`, 0);
      await wal.commit();
      assert.ok(wal.durableLsn >= lsn);
      acked.push(lsn);
    }
  }));
  assert.equal(acked.length, 1000);
  assert.ok(wal.stats().fsyncs < 200, `fsyncs ${wal.stats().fsyncs}`);
  await wal.close();
});

Deno.test("a lone append+commit does not wait for batchTimeoutMs", async () => {
  await using dir = await tempDir();
  const { wal } = await openCollect(
    walOptions(dir.path, { batchSize: 1000, batchTimeoutMs: 5000 }),
  );
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    wal.append(WalOp.Set, 0, "k", `${round}`, 0);
    await wal.commit();
    const ms = performance.now() - started;
    assert.ok(ms < 1000, `commit took ${ms} ms`);
  }
  await wal.close();
});

Deno.test("a full batch starts its write at once, without waiting for the idle tick", async () => {
  await using dir = await tempDir();
  const { wal } = await openCollect(walOptions(dir.path, { batchSize: 10, batchTimeoutMs: 5000 }));
  for (let i = 0; i < 10; i++) wal.append(WalOp.Set, 0, "k", "v", 0);
  assert.equal(wal.stats().pendingBytes, 0); // handed to the writer synchronously
  await wal.commit();
  await wal.close();
});

Deno.test("commit with nothing pending resolves at once", async () => {
  await using dir = await tempDir();
  const { wal } = await openCollect(walOptions(dir.path));
  await wal.commit();
  wal.append(WalOp.Set, 0, "k", "v", 0);
  await wal.commit();
  await wal.commit();
  await wal.close();
});

Deno.test("rotation keeps every segment within maxSegmentBytes", async () => {
  await using dir = await tempDir();
  const maxSegmentBytes = 4096;
  const { wal } = await openCollect(walOptions(dir.path, { maxSegmentBytes, batchSize: 37 }));
  const expected = new Map<string, string>();
  for (let i = 0; i < 600; i++) {
    const value = "x".repeat(i % 200);
    wal.append(WalOp.Set, 0, `key${i % 50}`, value, 0);
    expected.set(`key${i % 50}`, value);
    if (i % 97 === 0) await wal.commit();
  }
  await wal.close();
  const names = await segmentNames(dir.path);
  assert.ok(names.length > 10, `${names.length} segments`);
  let lsn = 1;
  for (const name of names) {
    const path = join(dir.path, name);
    const size = (await Deno.stat(path)).size;
    assert.ok(size <= maxSegmentBytes, `${name} has ${size} bytes`);
    assert.equal(parseSegmentName(name), lsn, "named after its first LSN");
    lsn += (await frameOffsets(path)).length;
  }
  assert.equal(lsn, 601);
  const { wal: reopened, records } = await openCollect(walOptions(dir.path, { maxSegmentBytes }));
  assert.deepEqual(replayToMap(records), expected);
  await reopened.close();
});

Deno.test("a record larger than maxSegmentBytes gets a segment of its own", async () => {
  await using dir = await tempDir();
  const { wal } = await openCollect(walOptions(dir.path, { maxSegmentBytes: 1024 }));
  wal.append(WalOp.Set, 0, "small", "1", 0);
  wal.append(WalOp.Set, 0, "big", "B".repeat(5000), 0);
  wal.append(WalOp.Set, 0, "small", "2", 0);
  await wal.close();
  const names = await segmentNames(dir.path);
  assert.deepEqual(names.map(parseSegmentName), [1, 2, 3]);
  assert.ok((await Deno.stat(join(dir.path, names[1]))).size > 5000);
  const { wal: reopened, records } = await openCollect(
    walOptions(dir.path, { maxSegmentBytes: 1024 }),
  );
  assert.equal(records[1].value.length, 5000);
  await reopened.close();
});

Deno.test("more than 10 segments across more than 10 reopens: last write wins", async () => {
  await using dir = await tempDir();
  const options = () => walOptions(dir.path, { maxSegmentBytes: 1024, batchSize: 7 });
  for (let cycle = 1; cycle <= 12; cycle++) {
    const { wal, records } = await openCollect(options());
    if (cycle > 1) assert.equal(replayToMap(records).get("k"), `value-${cycle - 1}`);
    for (let i = 0; i < 30; i++) wal.append(WalOp.Set, 0, `filler${i}`, "f".repeat(20), 0);
    wal.append(WalOp.Set, 0, "k", `value-${cycle}`, 0);
    await wal.commit();
    await wal.close();
  }
  const names = await segmentNames(dir.path);
  assert.ok(names.length > 10, `${names.length} segments`);
  const { wal, records } = await openCollect(options());
  assert.equal(replayToMap(records).get("k"), "value-12");
  assert.deepEqual(records.map((r) => r.lsn), Array.from({ length: 12 * 31 }, (_, i) => i + 1));
  await wal.close();
});

Deno.test("reopening never creates an empty segment", async () => {
  await using dir = await tempDir();
  for (let i = 0; i < 5; i++) await (await openCollect(walOptions(dir.path))).wal.close();
  assert.deepEqual(await segmentNames(dir.path), []);
  const { wal } = await openCollect(walOptions(dir.path));
  wal.append(WalOp.Set, 0, "k", "v", 0);
  await wal.close();
  for (let i = 0; i < 5; i++) {
    const { wal } = await openCollect(walOptions(dir.path));
    if (i % 2 === 0) wal.append(WalOp.Set, 0, "k", `${i}`, 0);
    await wal.close();
  }
  assert.deepEqual(await segmentNames(dir.path), ["0000000000000001.wal"]);
});

Deno.test("close flushes what was appended without a commit", async () => {
  await using dir = await tempDir();
  const { wal } = await openCollect(
    walOptions(dir.path, { batchTimeoutMs: 5000, batchSize: 1000 }),
  );
  const pending = wal.commit(); // nothing yet: resolves
  wal.append(WalOp.Set, 0, "a", "1", 0);
  const waiting = wal.commit();
  await wal.close();
  await pending;
  await waiting;
  assert.throws(() => wal.append(WalOp.Set, 0, "b", "2", 0), WalClosedError);
  const { wal: reopened, records } = await openCollect(walOptions(dir.path));
  assert.equal(records.length, 1);
  await reopened.close();
});

Deno.test("an invalid entry throws without consuming an LSN", async () => {
  await using dir = await tempDir();
  const { wal } = await openCollect(walOptions(dir.path));
  assert.throws(() => wal.append(WalOp.Del, 0, "k", "value", 0), RangeError);
  assert.throws(() => wal.append(WalOp.Set, 0, "k", "\u20ac", 0), RangeError);
  assert.throws(() => wal.append(99, 0, "k", "", 0), RangeError);
  assert.equal(wal.append(WalOp.Set, 0, "k", "v", 0), 1);
  await wal.close();
  const { wal: reopened, records } = await openCollect(walOptions(dir.path));
  assert.equal(records.length, 1);
  await reopened.close();
});

Deno.test("appendAt: a replica logs the master's LSNs", async () => {
  await using dir = await tempDir();
  const { wal } = await openCollect(walOptions(dir.path));
  assert.equal(wal.appendAt(1000, WalOp.Set, 0, "k", "v", 0), 1000); // empty log: any start
  assert.equal(wal.appendAt(1001, WalOp.Del, 0, "k", "", 0), 1001);
  assert.throws(() => wal.appendAt(1003, WalOp.Del, 0, "k", "", 0), RangeError);
  assert.throws(() => wal.appendAt(1001, WalOp.Del, 0, "k", "", 0), RangeError);
  await wal.close();
  assert.deepEqual(await segmentNames(dir.path), ["0000000000001000.wal"]);
  const { wal: reopened, records } = await openCollect(walOptions(dir.path));
  assert.deepEqual(records.map((r) => r.lsn), [1000, 1001]);
  assert.equal(reopened.append(WalOp.FlushAll, 0, "", "", 0), 1002);
  await reopened.close();
});

Deno.test("invalid options are rejected", async () => {
  await using dir = await tempDir();
  for (
    const bad of [{ maxSegmentBytes: 10 }, { batchSize: 0 }, { batchSize: 1.5 }, {
      batchTimeoutMs: -1,
    }]
  ) {
    await assert.rejects(Wal.open(walOptions(dir.path, bad), () => {}), RangeError);
  }
});

Deno.test("failure: a segment that cannot be created fails the WAL for good", async () => {
  await using dir = await tempDir();
  const walDir = join(dir.path, "wal");
  const logger = recordingLogger();
  const { wal } = await openCollect(walOptions(walDir, { maxSegmentBytes: 1024, logger }));
  wal.append(WalOp.Set, 0, "k", "v", 0);
  await wal.commit();
  // Remove the directory for real: the next rotation cannot create its file.
  await Deno.remove(walDir, { recursive: true });
  wal.append(WalOp.Set, 0, "big", "x".repeat(2000), 0);
  await assert.rejects(wal.commit(), WalFailedError);
  assert.ok(wal.failure instanceof WalFailedError);
  assert.equal(wal.durableLsn, 1);
  assert.throws(() => wal.append(WalOp.Set, 0, "k", "v", 0), WalFailedError);
  await assert.rejects(wal.commit(), WalFailedError);
  assert.ok(logger.lines.some((l) => l.level === "error" && /WAL WRITE FAILED/.test(l.message)));
  await assert.rejects(wal.close(), WalFailedError);
});

Deno.test("failure: the first segment cannot be created", async () => {
  await using dir = await tempDir();
  const walDir = join(dir.path, "wal");
  const { wal } = await openCollect(walOptions(walDir));
  await Deno.remove(walDir, { recursive: true });
  const lsn = wal.append(WalOp.Set, 0, "k", "v", 0);
  assert.equal(lsn, 1);
  const second = wal.commit();
  await assert.rejects(second, WalFailedError);
  assert.throws(() => wal.append(WalOp.Set, 0, "k", "v", 0), WalFailedError);
  await assert.rejects(wal.close(), WalFailedError);
});

Deno.test("the header and frames land where the layout says", async () => {
  await using dir = await tempDir();
  const { wal } = await openCollect(walOptions(dir.path));
  wal.append(WalOp.Set, 0, "k", "v", 0);
  wal.append(WalOp.Set, 0, "key2", "value2", 0);
  await wal.close();
  const path = join(dir.path, "0000000000000001.wal");
  assert.deepEqual(await frameOffsets(path), [
    SEGMENT_HEADER_BYTES,
    SEGMENT_HEADER_BYTES + frameBytes(1, 1),
  ]);
  assert.equal(
    (await Deno.stat(path)).size,
    SEGMENT_HEADER_BYTES + frameBytes(1, 1) + frameBytes(4, 6),
  );
});

Deno.test("onDurable fires as durableLsn advances; discardAll empties the log for appendAt", async () => {
  await using dir = await tempDir();
  const { wal } = await openCollect(walOptions(dir.path));
  const seen: number[] = [];
  const stop = wal.onDurable(() => seen.push(wal.durableLsn));
  wal.append(WalOp.Set, 0, "a", "1", 0);
  await wal.commit();
  wal.append(WalOp.Set, 0, "b", "2", 0);
  await wal.commit();
  assert.deepEqual(seen, [1, 2]);
  stop();
  wal.append(WalOp.Set, 0, "c", "3", 0);
  await wal.discardAll();
  assert.equal(wal.lastLsn, 0);
  assert.deepEqual(await segmentNames(dir.path), []);
  assert.equal(wal.appendAt(7, WalOp.Set, 0, "x", "y", 0), 7);
  await wal.commit();
  await wal.close();
  const { wal: reopened, records } = await openCollect(walOptions(dir.path));
  assert.deepEqual(records.map((r) => [r.lsn, r.key]), [[7, "x"]]);
  assert.equal(reopened.lastLsn, 7);
  await reopened.close();
});
