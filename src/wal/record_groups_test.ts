import assert from "node:assert/strict";
import { join } from "node:path";
import { frameOffsets, openCollect, recordingLogger, tempDir, walOptions } from "./_test_util.ts";
import { readRecords } from "./reader.ts";
import { WalFlag, WalOp, type WalRecord } from "./record.ts";
import { RecordGroups } from "./record_groups.ts";
import { checkWal } from "./check.ts";
import { Wal } from "./wal.ts";

const FIRST = "0000000000000001.wal";

/** Appends `groups` (each a list of keys) as groups, committing once. */
async function writeGroups(wal: Wal, groups: string[][]): Promise<void> {
  for (const keys of groups) {
    wal.beginGroup();
    for (const key of keys) wal.append(WalOp.Set, 0, key, `v-${key}`, 0);
    wal.endGroup();
  }
  await wal.commit();
}

Deno.test("a group's records carry Continues but the last; a lone record none", async () => {
  await using dir = await tempDir();
  const wal = await Wal.open(walOptions(dir.path), () => {});
  await writeGroups(wal, [["a"], ["b", "c", "d"], ["e"]]);
  // Nested groups count as one.
  wal.beginGroup();
  wal.append(WalOp.Del, 0, "a", "", 0);
  wal.beginGroup();
  wal.append(WalOp.Del, 0, "b", "", 0);
  wal.endGroup();
  wal.append(WalOp.Del, 0, "c", "", 0);
  wal.endGroup();
  await wal.commit();
  await wal.close();
  const flags: number[] = [];
  for await (const r of readRecords(dir.path, 1)) flags.push(r.flags ?? 0);
  const C = WalFlag.Continues;
  assert.deepEqual(flags, [0, C, C, 0, 0, C, C, 0]);
  // The patched records still verify (their CRCs were recomputed) and replay.
  const { wal: again, records } = await openCollect(walOptions(dir.path));
  assert.equal(records.length, 8);
  await again.close();
});

Deno.test("recovery cuts a trailing group the log does not hold whole, and applies none of it", async () => {
  for (const keep of [1, 2, 3]) {
    await using dir = await tempDir();
    const wal = await Wal.open(walOptions(dir.path), () => {});
    await writeGroups(wal, [["a"], ["b", "c"], ["d", "e", "f", "g"]]);
    await wal.close();
    // Cut exactly after `keep` records of the last group: every record left
    // verifies; only the flags say the group is not whole.
    const path = join(dir.path, FIRST);
    const frames = await frameOffsets(path);
    const cutAt = frames[3 + keep];
    await Deno.truncate(path, cutAt);
    const logger = recordingLogger();
    const { wal: recovered, records } = await openCollect(walOptions(dir.path, { logger }));
    assert.deepEqual(records.map((r) => r.key), ["a", "b", "c"], `kept ${keep} of 4`);
    assert.equal(recovered.lastLsn, 3);
    assert.ok(
      logger.lines.some((l) => l.level === "warn" && l.message.includes("incomplete group")),
      JSON.stringify(logger.lines),
    );
    // Appends continue after the last whole group, on its chain.
    assert.equal(recovered.append(WalOp.Set, 0, "h", "v", 0), 4);
    await recovered.close();
    const { wal: again, records: all } = await openCollect(walOptions(dir.path));
    assert.deepEqual(all.map((r) => r.key), ["a", "b", "c", "h"]);
    await again.close();
  }
});

Deno.test("no flush starts inside a group, and a group never spans segments", async () => {
  await using dir = await tempDir();
  // Batches of 2 records, segments of ~1 KiB: a group of 30 would cross both.
  const wal = await Wal.open(
    walOptions(dir.path, { batchSize: 2, maxSegmentBytes: 1024 }),
    () => {},
  );
  await writeGroups(wal, [["x", "y"], Array.from({ length: 30 }, (_, i) => `k${i}`), ["z"]]);
  await wal.close();
  const records: WalRecord[] = [];
  for await (const r of readRecords(dir.path, 1)) records.push({ ...r });
  assert.equal(records.length, 33);
  const segments: number[] = [];
  for await (const e of Deno.readDir(dir.path)) {
    if (e.name.endsWith(".wal")) segments.push(Number(e.name.slice(0, 16)));
  }
  segments.sort((a, b) => a - b);
  // No segment starts inside the group of 30 (LSNs 3..32).
  for (const first of segments) assert.ok(first <= 3 || first >= 33, `segment at ${first}`);
});

Deno.test("RecordGroups applies whole groups in order and holds an unfinished one", () => {
  const applied: number[] = [];
  const groups = new RecordGroups((r) => applied.push(r.lsn));
  const record = (lsn: number, flags = 0): WalRecord => ({
    lsn,
    op: WalOp.Set,
    db: 0,
    key: "k",
    value: "v",
    expiresAtMs: 0,
    flags,
  });
  groups.push(record(1));
  groups.push(record(2, WalFlag.Continues));
  assert.deepEqual(applied, [1]);
  groups.push(record(3, WalFlag.Continues));
  groups.push(record(4));
  assert.deepEqual(applied, [1, 2, 3, 4]);
  groups.push(record(5, WalFlag.Continues));
  assert.equal(groups.held, 1);
  assert.equal(groups.heldFromLsn, 5);
  groups.discard();
  assert.equal(groups.held, 0);
  assert.deepEqual(applied, [1, 2, 3, 4]);
});

Deno.test("wal check reports a trailing incomplete group as harmless (a start cuts it)", async () => {
  await using dir = await tempDir();
  const wal = await Wal.open(walOptions(dir.path), () => {});
  await writeGroups(wal, [["a"], ["b", "c", "d"]]);
  await wal.close();
  const path = join(dir.path, FIRST);
  await Deno.truncate(path, (await frameOffsets(path))[3]);
  const report = await checkWal(dir.path);
  const tail = report.damage.filter((d) => d.kind === "torn-tail");
  assert.equal(tail.length, 1, JSON.stringify(report.damage));
  assert.match(tail[0].reason, /incomplete group of 2 records/);
});
