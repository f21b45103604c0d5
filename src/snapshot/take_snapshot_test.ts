import assert from "node:assert/strict";
import { createLogger } from "../log/logger.ts";
import { Engine } from "../storage/engine.ts";
import { Store } from "../storage/store.ts";
import { readRecords } from "../wal/reader.ts";
import { Wal } from "../wal/wal.ts";
import { walOptions } from "../wal/_test_util.ts";
import { loadSnapshot } from "./snapshot_reader.ts";
import { takeSnapshot } from "./take_snapshot.ts";
import { applyHashSets, type HashValue } from "../types/hash/hash.ts";
import { WalOp } from "../wal/record.ts";

const log = createLogger({ level: "warn", output: "stderr" });

function contents(engine: Engine): Map<string, [string, number]> {
  const out = new Map<string, [string, number]>();
  for (let p = 0; p < engine.partitionCount; p++) {
    const { values } = engine.partition(p);
    for (let i = values.nextEntry(0); i >= 0; i = values.nextEntry(i + 1)) {
      out.set(values.keyAt(i), [values.valueAt(i), values.expiryAt(i)]);
    }
  }
  return out;
}

Deno.test("a snapshot is the state at its LSN, and with the WAL after it the state at its end, writes during the walk included", async () => {
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
            store.database(0).setExpiry(`k${i}`, Date.now() + 60_000 + i);
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
  await loadSnapshot(result.path, (_db, k, v, e) => restored.set(k, v, e));
  assert.deepEqual(
    contents(restored),
    await stateAt(dir, result.lsn, 8),
    "the snapshot is the state at its LSN",
  );
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
  // Handled from the start: the walk notices at its next slice, maybe before discardAll resolves.
  const rejected = assert.rejects(taking, /discarded during the snapshot/);
  await new Promise((r) => setTimeout(r, 5));
  await store.discardAll();
  await rejected;
  assert.deepEqual(
    [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("snapshot-")),
    [],
    "no snapshot of a half-walked history",
  );
  await wal.close();
});

/** What a mutation between two slices may use. */
interface Between {
  store: Store;
  /** The key the walk would read next (in partition order), or undefined at a partition's end. */
  next: string | undefined;
  /** A key the walk has read in this partition, if any is still there. */
  behind: string | undefined;
  /** A counter for fresh names. */
  round: number;
  /** Moves the store's clock. */
  setClock(ms: number): void;
}

const T0 = 1_800_000_000_000;

/** Mutations that free, move or reuse the entry a walk stands on. */
const MUTATIONS: Record<string, (b: Between) => void> = {
  "DEL of the next key": ({ store, next }) => {
    if (next !== undefined) store.delete(next);
  },
  "expiry of the next key (active expiry deletes it)": ({ store, next, setClock }) => {
    if (next === undefined) return;
    setClock(store.engine.expiresAt(next));
    assert.ok(store.expireSome() > 0, "the next key expired");
  },
  "overwrite of the next key that moves its bytes": ({ store, next, round }) => {
    if (next !== undefined) store.set(next, `moved${round}:${"m".repeat(200 + round)}`);
  },
  "DEL of the next key and a new key reusing its entry": ({ store, next, round }) => {
    if (next === undefined) return;
    store.delete(next);
    store.set(`reused${round}`, `fresh${round}`);
  },
  "DEL of the next key, a new key in its entry, the old key back elsewhere": (
    { store, next, round },
  ) => {
    if (next === undefined) return;
    const value = store.get(next)!;
    store.delete(next);
    store.set(`reused${round}`, `fresh${round}`);
    store.set(next, `${value}+back`);
  },
  "a key already read, deleted and written again ahead of the walk (read twice)": (
    { store, next, behind, round },
  ) => {
    if (behind === undefined || next === undefined) return;
    store.delete(behind);
    store.set(`reused${round}`, `fresh${round}`); // takes the entry behind the walk
    store.delete(next);
    store.set(behind, `again${round}`); // takes the next entry, ahead of the walk
  },
  "FLUSHALL, then new keys": ({ store, round }) => {
    store.flushAll();
    for (let i = 0; i < 25; i++) store.set(`afterflush${round}:${i}`, `f${i}`);
  },
};

/** What the final state must show for a mutation to have been exercised. */
const EXERCISED: Record<string, (keys: string[]) => boolean> = {
  "DEL of the next key and a new key reusing its entry": (keys) =>
    keys.some((k) => k.startsWith("reused")),
  "a key already read, deleted and written again ahead of the walk (read twice)": (keys) =>
    keys.some((k) => k.startsWith("reused")),
};

/**
 * The state at `lsn`: the log's records up to it, replayed from nothing —
 * what a snapshot taken at `lsn` must hold exactly.
 */
async function stateAt(dir: string, lsn: number, partitions: number) {
  const engine = new Engine(partitions);
  const replay = new Store(engine, undefined, { expireKeys: false });
  for await (const record of readRecords(dir, 1)) {
    if (record.lsn > lsn) break;
    replay.applyRecord(record);
  }
  return contents(engine);
}

/** Every key and its raw entry (expired ones included): what a restore must rebuild. */
function rawContents(engine: Engine): Map<string, [string, number]> {
  return contents(engine);
}

for (const partitions of [1, 4]) {
  for (const [name, mutate] of Object.entries(MUTATIONS)) {
    Deno.test(`a walk never reads a freed entry: ${name} at every slice boundary (${partitions} partition(s))`, async () => {
      const dir = await Deno.makeTempDir();
      const wal = await Wal.open(walOptions(dir, { logger: log }), () => {});
      let clockMs = T0;
      const store = new Store(new Engine(partitions), wal, {
        expireKeys: true,
        nowMs: () => clockMs,
      });
      // Every (key, value) ever written: a snapshot may hold nothing else.
      const written = new Set<string>();
      const track = (key: string, value: string) => written.add(`${key}\x00${value}`);
      const set = store.set.bind(store);
      store.set = (key: string, value: string, expiresAtMs = 0) => {
        track(key, value);
        set(key, value, expiresAtMs);
      };
      for (let i = 0; i < 300; i++) store.set(`k${i}`, `v${i}`, T0 + 1000 + i);
      await store.commit();

      let round = 0;
      const result = await takeSnapshot(store, {
        dir,
        replid: "",
        log,
        sliceKeys: 7,
        testHooks: {
          afterSlice: (partition, position) => {
            const { values } = store.engine.partition(partition);
            const entry = values.nextEntry(position);
            const first = values.nextEntry(0);
            mutate({
              store,
              next: entry < 0 ? undefined : values.keyAt(entry),
              behind: first >= 0 && first < position ? values.keyAt(first) : undefined,
              round: round++,
              setClock: (ms) => clockMs = ms,
            });
          },
        },
      });
      assert.ok(round > 1, "the walk was interrupted between slices");
      await store.commit();
      const expected = rawContents(store.engine);
      await wal.close();

      const inSnapshot: [string, string][] = [];
      const restored = new Engine(partitions);
      await loadSnapshot(result.path, (_db, k, v, e) => {
        inSnapshot.push([k, v]);
        restored.set(k, v, e);
      });
      for (const [k, v] of inSnapshot) {
        assert.ok(
          written.has(`${k}\x00${v}`),
          `the snapshot holds ${JSON.stringify(k)} → ${JSON.stringify(v)}, never written`,
        );
      }
      assert.equal(new Set(inSnapshot.map(([k]) => k)).size, inSnapshot.length, "no key twice");
      assert.deepEqual(
        rawContents(restored),
        await stateAt(dir, result.lsn, partitions),
        "the snapshot is the state at its LSN",
      );
      const check = EXERCISED[name];
      if (check) assert.ok(check([...expected.keys()]), "the case happened");
      const replay = new Store(restored, undefined, { expireKeys: false });
      for await (const record of readRecords(dir, result.lsn + 1)) replay.applyRecord(record);
      assert.deepEqual(rawContents(restored), expected);
      await Deno.remove(dir, { recursive: true });
    });
  }
}

Deno.test("values of 1 MiB and more: the snapshot succeeds, a slice ends once it copied SLICE_BYTES", async () => {
  const dir = await Deno.makeTempDir();
  const wal = await Wal.open(
    walOptions(dir, { logger: log, maxSegmentBytes: 256 * 1024 * 1024 }),
    () => {},
  );
  const store = new Store(new Engine(1), wal, { expireKeys: false });
  // 84 MiB in one partition: the old walk put a slice's entries in one block (over 80 MiB).
  for (let i = 0; i < 84; i++) store.set(`big${i}`, String(i % 10).repeat(1024 * 1024));
  for (let i = 0; i < 1000; i++) store.set(`small${i}`, `s${i}`);
  await store.commit();
  const expected = contents(store.engine);
  let slices = 0;
  const result = await takeSnapshot(store, {
    dir,
    replid: "",
    log,
    testHooks: { afterSlice: () => slices++ },
  });
  await wal.close();
  assert.equal(result.keys, 1084);
  assert.ok(slices >= 84, `${slices} slices: one per large value at least`);
  const restored = new Engine(1);
  await loadSnapshot(result.path, (_db, k, v, e) => restored.set(k, v, e));
  assert.deepEqual(contents(restored), expected);
  await Deno.remove(dir, { recursive: true });
});

for (const cause of ["the keyspace is discarded", "the signal aborts"]) {
  Deno.test(`a snapshot held right before its rename while ${cause} is never renamed into place`, async () => {
    const dir = await Deno.makeTempDir();
    const wal = await Wal.open(walOptions(dir, { logger: log }), () => {});
    const store = new Store(new Engine(2), wal, { expireKeys: false });
    for (let i = 0; i < 100; i++) store.set(`k${i}`, "v");
    await store.commit();
    const abort = new AbortController();
    let release = () => {};
    const held = new Promise<void>((resolve) => release = resolve);
    let reached = () => {};
    const atRename = new Promise<void>((resolve) => reached = resolve);
    const taking = takeSnapshot(store, {
      dir,
      replid: "",
      log,
      signal: abort.signal,
      testHooks: {
        beforeRename: () => {
          reached();
          return held;
        },
      },
    });
    const rejected = assert.rejects(taking, /snapshot abandoned/);
    await atRename;
    if (cause === "the signal aborts") abort.abort("a full resynchronisation");
    else await store.discardAll();
    release();
    await rejected;
    assert.deepEqual(
      [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("snapshot-")),
      [],
      "neither the snapshot nor its temporary file",
    );
    await wal.close();
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("SWAPDB, APPEND and SETRANGE as a snapshot starts or walks: snapshot + replay restore every database", async () => {
  // Writes begin after 0..7 turns of the event loop: some land between the
  // snapshot's first commit and its walk (where a SWAPDB was once both in
  // the engines walked and replayed after the LSN, swapping databases back).
  for (let startTurns = 0; startTurns < 8; startTurns++) {
    const dir = await Deno.makeTempDir();
    const wal = await Wal.open(walOptions(dir, { logger: log }), () => {});
    const store = new Store([new Engine(4), new Engine(4), new Engine(4)], wal, {
      expireKeys: false,
    });
    for (let i = 0; i < 3_000; i++) store.database(i % 3).set(`k${i % 500}`, `v${i}`);
    await store.commit();
    let writing = true;
    const writer = (async () => {
      for (let t = 0; t < startTurns; t++) await new Promise((r) => setTimeout(r, 0));
      for (let round = 0; writing; round++) {
        store.swapDb(round % 3, (round + 1) % 3);
        const db = store.database(round % 3);
        db.setRange(`k${round % 500}`, db.get(`k${round % 500}`)?.length ?? 0, "+");
        db.setRange(`k${(round * 7) % 500}`, round % 11, "ab");
        await new Promise((r) => setTimeout(r, 0));
      }
    })();
    const result = await takeSnapshot(store, { dir, replid: "", log, sliceKeys: 50 });
    writing = false;
    await writer;
    await store.commit();
    const expected = [0, 1, 2].map((db) => contents(store.engineOf(db)));
    await wal.close();

    const restored = [new Engine(4), new Engine(4), new Engine(4)];
    const replay = new Store(restored, undefined, { expireKeys: false });
    await loadSnapshot(result.path, (db, k, v, e) => restored[db].set(k, v, e));
    for await (const record of readRecords(dir, result.lsn + 1)) replay.applyRecord(record);
    assert.deepEqual(
      [0, 1, 2].map((db) => contents(replay.engineOf(db))),
      expected,
      `writes starting after ${startTurns} turns`,
    );
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a collection written in chunks while it changes between slices: the snapshot is the state at its LSN", async () => {
  const dir = await Deno.makeTempDir();
  const wal = await Wal.open(walOptions(dir, { logger: log }), () => {});
  const store = new Store(new Engine(2), wal, { expireKeys: true });
  const db = store.database(0);
  const hset = (key: string, field: string, value: string) =>
    db.changeCollection(key, WalOp.HashSet, [field + value], [field.length], applyHashSets);
  // Big enough for many chunks (a chunk is about SNAPSHOT_BLOCK_TARGET_BYTES).
  for (let f = 0; f < 20_000; f++) hset("big", `f${f}`, `value-${f}-${"x".repeat(40)}`);
  for (let k = 0; k < 50; k++) hset(`small${k}`, "a", String(k));
  await store.commit();
  let round = 0;
  const result = await takeSnapshot(store, {
    dir,
    replid: "",
    log,
    sliceKeys: 3,
    testHooks: {
      afterSlice: () => {
        // The big hash and small ones change in place, are deleted and come back.
        hset("big", `f${round}`, `changed${round}`);
        hset("big", `new${round}`, "n");
        hset(`small${round % 50}`, "b", `r${round}`);
        if (round === 3) store.delete("small7");
        if (round === 5) hset("small7", "again", "1");
        round++;
      },
    },
  });
  assert.ok(round > 3, `the walk was interrupted between slices (${round})`);
  await store.commit();
  await wal.close();

  const hashes = (engine: Engine) => {
    const out = new Map<string, string>();
    for (let p = 0; p < engine.partitionCount; p++) {
      const { values } = engine.partition(p);
      for (let i = values.nextEntry(0); i >= 0; i = values.nextEntry(i + 1)) {
        const key = values.keyAt(i);
        const hash = engine.get(key, false) as HashValue;
        out.set(key, JSON.stringify(hash.entries().sort()));
      }
    }
    return out;
  };
  const restored = new Engine(2);
  await loadSnapshot(result.path, (_db, k, v, e, type) => restored.load(k, v, e, type));
  const atLsn = new Engine(2);
  const replay = new Store(atLsn, undefined, { expireKeys: false });
  for await (const record of readRecords(dir, 1)) {
    if (record.lsn > result.lsn) break;
    replay.applyRecord(record);
  }
  assert.deepEqual(hashes(restored), hashes(atLsn), "the snapshot is the state at its LSN");
  await Deno.remove(dir, { recursive: true });
});
