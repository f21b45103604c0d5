import assert from "node:assert/strict";
import { join } from "node:path";
import { walOptions } from "./_test_util.ts";
import { WalOp, type WalRecord } from "./record.ts";
import { listSegments } from "./segment.ts";
import { Wal } from "./wal.ts";

/** A log of `count` records over several small segments. */
async function logOf(dir: string, count: number): Promise<Wal> {
  const wal = await Wal.open(walOptions(dir, { maxSegmentBytes: 4096 }), () => {});
  for (let i = 1; i <= count; i++) wal.append(WalOp.Set, 0, `k${i}`, "v".repeat(40), 0);
  await wal.commit();
  return wal;
}

async function reopen(dir: string): Promise<{ wal: Wal; records: WalRecord[] }> {
  const records: WalRecord[] = [];
  const wal = await Wal.open(
    walOptions(dir, { maxSegmentBytes: 4096 }),
    (r) => records.push({ ...r }),
  );
  return { wal, records };
}

for (const cutAfter of [0, 1, 17, 42, 64, 199]) {
  Deno.test(`truncateAfter(${cutAfter}): the log ends there durably, the cut bytes are set aside, appending goes on`, async () => {
    const dir = await Deno.makeTempDir();
    const wal = await logOf(dir, 200);
    const before = (await listSegments(dir)).segments.length;
    assert.ok(before > 3, `${before} segments`);
    const backup = await wal.truncateAfter(cutAfter, "a test");
    assert.equal(wal.lastLsn, cutAfter);
    assert.equal(wal.durableLsn, cutAfter);
    assert.match(
      await Deno.readTextFile(join(backup, "DIVERGED.txt")),
      new RegExp(`after LSN ${cutAfter}`),
    );
    // The next record continues the chain (a reopen verifies every CRC).
    wal.append(WalOp.Set, 0, "after", "cut", 0);
    await wal.commit();
    await wal.close();
    const { wal: again, records } = await reopen(dir);
    try {
      assert.deepEqual(
        records.map((r) => r.key),
        [...Array.from({ length: cutAfter }, (_, i) => `k${i + 1}`), "after"],
      );
      assert.equal(records.at(-1)!.lsn, cutAfter + 1);
    } finally {
      await again.close();
    }
    // Every cut record is in the backup: segments moved whole, the rest copied.
    const aside = [...Deno.readDirSync(backup)].map((e) => e.name).filter((n) =>
      n !== "DIVERGED.txt"
    );
    assert.ok(aside.length > 0);
  });
}

Deno.test("truncateAfter at or past the end cuts nothing", async () => {
  const dir = await Deno.makeTempDir();
  const wal = await logOf(dir, 10);
  assert.equal(await wal.truncateAfter(10, "nothing"), "");
  assert.equal(wal.lastLsn, 10);
  await wal.close();
});
