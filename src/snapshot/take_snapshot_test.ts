import assert from "node:assert/strict";
import { createLogger } from "../log/logger.ts";
import { Engine } from "../storage/engine.ts";
import { Store } from "../storage/store.ts";
import { readRecords } from "../wal/reader.ts";
import { Wal } from "../wal/wal.ts";
import { walOptions } from "../wal/_test_util.ts";
import { loadSnapshot } from "./snapshot_reader.ts";
import { takeSnapshot } from "./take_snapshot.ts";

const log = createLogger({ level: "warn", output: "stderr" });

function contents(engine: Engine): Map<string, [string, number]> {
  const out = new Map<string, [string, number]>();
  for (let p = 0; p < engine.partitionCount; p++) {
    const { values, expires } = engine.partition(p);
    for (let i = values.nextEntry(0); i >= 0; i = values.nextEntry(i + 1)) {
      const k = values.keyAt(i);
      out.set(k, [values.valueAt(i), expires.get(k) ?? 0]);
    }
  }
  return out;
}

Deno.test("snapshot + the WAL after its LSN restore exactly the state at its end, writes during the walk included", async () => {
  const dir = await Deno.makeTempDir();
  const wal = await Wal.open(walOptions(dir, { logger: log }), () => {});
  const store = new Store(new Engine(8), wal, { expireKeys: true });
  for (let i = 0; i < 20_000; i++) {
    store.set(`k${i}`, `v${i}`, i % 5 === 0 ? Date.now() + 3_600_000 : 0);
  }
  await store.commit();

  // Writes of every kind, interleaved with the walk's slices.
  let writing = true;
  const writer = (async () => {
    for (let round = 0; writing; round++) {
      for (let j = 0; j < 50; j++) {
        const i = (round * 50 + j) * 7 % 25_000;
        switch (j % 4) {
          case 0:
            store.set(`k${i}`, `new${round}`);
            break;
          case 1:
            store.delete(`k${i}`);
            break;
          case 2:
            store.setExpiry(`k${i}`, Date.now() + 60_000 + i);
            break;
          default:
            store.set(`added${round}:${j}`, "x", Date.now() + 120_000);
        }
      }
      await new Promise((r) => setTimeout(r, 0));
    }
  })();
  const result = await takeSnapshot(store, { dir, replid: "", log, sliceKeys: 200 });
  writing = false;
  await writer;
  await store.commit();
  const expected = contents(store.engine);
  await wal.close();

  // Restore: the snapshot, then every record after its LSN.
  const restored = new Engine(8);
  const replay = new Store(restored, undefined, { expireKeys: false });
  await loadSnapshot(result.path, (k, v, e) => restored.set(k, v, e));
  let replayed = 0;
  for await (const record of readRecords(dir, result.lsn + 1)) {
    replay.applyRecord(record);
    replayed++;
  }
  assert.ok(replayed > 0, "writes happened during the walk");
  assert.deepEqual(contents(restored), expected);
});

Deno.test("a snapshot needs the WAL", async () => {
  const store = new Store(new Engine(1), undefined);
  await assert.rejects(
    takeSnapshot(store, { dir: "/nonexistent", replid: "", log }),
    /need the WAL/,
  );
});

Deno.test("a snapshot is abandoned when the keyspace is discarded during its walk", async () => {
  const dir = await Deno.makeTempDir();
  const wal = await Wal.open(walOptions(dir, { logger: log }), () => {});
  const store = new Store(new Engine(4), wal, { expireKeys: false });
  for (let i = 0; i < 5000; i++) store.set(`k${i}`, "v");
  await store.commit();
  const taking = takeSnapshot(store, { dir, replid: "", log, sliceKeys: 50 });
  await new Promise((r) => setTimeout(r, 5));
  await store.discardAll();
  await assert.rejects(taking, /discarded during the snapshot/);
  assert.deepEqual(
    [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("snapshot-")),
    [],
    "no snapshot of a half-walked history",
  );
  await wal.close();
});
