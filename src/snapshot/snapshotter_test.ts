import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../storage/engine.ts";
import { Store } from "../storage/store.ts";
import { recordingLogger, walOptions } from "../wal/_test_util.ts";
import { Wal } from "../wal/wal.ts";
import { snapshotName } from "./snapshot_file.ts";
import { SNAPSHOT_RETRY_MAX_MS, SNAPSHOT_RETRY_MIN_MS, Snapshotter } from "./snapshotter.ts";

/** A store of two partitions with its WAL in a new temporary directory. */
async function openStore() {
  const dir = await Deno.makeTempDir();
  const log = recordingLogger();
  const wal = await Wal.open(walOptions(dir, { logger: log }), () => {});
  const store = new Store(new Engine(2), wal, { expireKeys: false });
  return { dir, log, wal, store };
}

function field(snapshotter: Snapshotter, name: string): string | number | undefined {
  return snapshotter.info().find(([k]) => k === name)?.[1];
}

Deno.test("a failing snapshot is retried with capped exponential backoff, shown in INFO and logged once per failure", async () => {
  const { dir, log, wal, store } = await openStore();
  let clockMs = 1_000_000;
  const snapshotter = new Snapshotter({
    store,
    wal,
    thresholdBytes: 1,
    compact: true,
    replid: () => "",
    log,
    nowMs: () => clockMs,
  });
  store.set("k", "v"); // past the threshold
  await store.commit();
  // The fault: the snapshot's temporary file cannot be created (a directory has its name).
  const blocker = join(dir, `${snapshotName(wal.durableLsn)}.tmp`);
  await Deno.mkdir(blocker);

  const expectedBackoffs: number[] = [];
  for (let failure = 1; failure <= 9; failure++) {
    snapshotter.maybeStart();
    assert.ok(snapshotter.inProgress, `attempt ${failure} starts`);
    await snapshotter.settle();
    const backoffMs = Math.min(SNAPSHOT_RETRY_MAX_MS, SNAPSHOT_RETRY_MIN_MS * 2 ** (failure - 1));
    expectedBackoffs.push(backoffMs);
    assert.equal(field(snapshotter, "rdb_last_bgsave_status"), "err");
    assert.equal(field(snapshotter, "snapshot_consecutive_failures"), failure);
    assert.equal(field(snapshotter, "snapshot_next_retry_in_ms"), backoffMs);
    assert.match(String(field(snapshotter, "snapshot_last_error")), /directory/i);
    // Threshold checks during the backoff start nothing.
    const failedAtMs = clockMs;
    for (const intoMs of [0, 1, backoffMs - 1]) {
      clockMs = failedAtMs + intoMs;
      snapshotter.maybeStart();
      assert.ok(!snapshotter.inProgress, `no retry ${intoMs} ms into a ${backoffMs} ms backoff`);
    }
    clockMs = failedAtMs + backoffMs;
  }
  assert.equal(expectedBackoffs.at(-1), SNAPSHOT_RETRY_MAX_MS, "the backoff reached its cap");
  const failures = log.lines.filter((l) => l.level === "error");
  assert.equal(failures.length, 9, "one log line per failure");
  assert.deepEqual(failures.map((l) => l.fields.retryInMs), expectedBackoffs);

  // BGSAVE is not held back by the backoff; once the fault is gone it succeeds.
  await Deno.remove(blocker);
  clockMs -= 1; // still within the last backoff
  assert.ok(snapshotter.startInBackground());
  await snapshotter.settle();
  assert.equal(field(snapshotter, "rdb_last_bgsave_status"), "ok");
  assert.equal(field(snapshotter, "snapshot_consecutive_failures"), 0);
  assert.equal(field(snapshotter, "snapshot_next_retry_in_ms"), 0);
  assert.equal(field(snapshotter, "snapshot_failures"), 9);
  assert.ok(log.lines.some((l) => l.message === "snapshots succeed again"));
  await wal.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("suspend() cancels the snapshot being taken, waits for it, and refuses new ones until resumed", async () => {
  const { dir, log, wal, store } = await openStore();
  store.set("k", "v");
  await store.commit();
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  let holding = true;
  let reached = () => {};
  const atRename = new Promise<void>((resolve) => reached = resolve);
  const snapshotter = new Snapshotter({
    store,
    wal,
    thresholdBytes: 1,
    compact: true,
    replid: () => "",
    log,
    testHooks: {
      beforeRename: () => {
        if (!holding) return Promise.resolve();
        reached();
        return held;
      },
    },
  });
  const saving = snapshotter.save().then(() => "renamed", (e: Error) => e.message);
  await atRename; // complete on disk, about to be renamed
  let suspended = false;
  const suspending = snapshotter.suspend("test").then((resume) => {
    suspended = true;
    return resume;
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(!suspended, "suspend waits for the running snapshot");
  holding = false;
  release();
  const resume = await suspending;
  assert.match(await saving, /abandoned/);
  assert.equal(field(snapshotter, "rdb_last_bgsave_status"), "ok", "abandoned is not failed");
  assert.equal(field(snapshotter, "snapshot_suspended"), 1);
  assert.ok(!snapshotter.startInBackground());
  snapshotter.maybeStart();
  assert.ok(!snapshotter.inProgress);
  await assert.rejects(snapshotter.save(), /suspended/);
  assert.deepEqual([...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("snapshot-")), []);
  resume();
  resume(); // twice is once
  assert.equal(field(snapshotter, "snapshot_suspended"), 0);
  await snapshotter.save();
  assert.equal([...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".snap")).length, 1);
  await wal.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a snapshot of an unchanged state is not written again; a write or a new history makes a new one", async () => {
  const { dir, log, wal, store } = await openStore();
  let replid = "a".repeat(40);
  const snapshotter = new Snapshotter({
    store,
    wal,
    thresholdBytes: 1,
    compact: true,
    replid: () => replid,
    log,
  });
  store.set("k", "v");
  const first = await snapshotter.save();
  const inode = (await Deno.stat(first.path)).ino;
  const walked = () => log.lines.filter((l) => l.message === "snapshot written").length;
  assert.equal(walked(), 1);

  const again = await snapshotter.save();
  assert.equal(again.path, first.path);
  assert.equal(again.lsn, first.lsn);
  assert.equal(again.keys, 1);
  assert.equal(walked(), 1, "no second walk");
  assert.equal((await Deno.stat(first.path)).ino, inode, "the file was not replaced");
  assert.equal(field(snapshotter, "rdb_changes_since_last_save"), 0);

  replid = "b".repeat(40); // another history at the same LSN is another state
  const other = await snapshotter.save();
  assert.equal(walked(), 2);
  assert.notEqual((await Deno.stat(other.path)).ino, inode);

  store.set("k", "w");
  const changed = await snapshotter.save();
  assert.equal(walked(), 3);
  assert.equal(changed.lsn, first.lsn + 1);
  await wal.close();
  await Deno.remove(dir, { recursive: true });
});
