/**
 * A snapshot of lists is the state at its LSN exactly, although a client
 * keeps changing them while the snapshot walks: big lists (written in many
 * snapshot chunks, across several slices of the walk) and small ones (held
 * inline, crossing the inline limit) take pushes and pops at both ends,
 * LSET, LINSERT, LTRIM and LREM from a pipelining client during BGSAVE.
 * Each snapshot file is then read as it is and compared with the WAL's
 * records up to its LSN replayed from an empty keyspace: they must hold
 * the same lists, element for element. What keeps them equal is the
 * general point-in-time mechanism (`snapshot/_point_in_time.ts`): a list
 * the walk has not finished is saved before a write changes it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { snapshotName } from "../src/snapshot/snapshot_file.ts";
import { loadSnapshot } from "../src/snapshot/snapshot_reader.ts";
import { Engine } from "../src/storage/engine.ts";
import { Store } from "../src/storage/store.ts";
import { ListValue } from "../src/types/list/list.ts";
import { readRecords } from "../src/wal/reader.ts";
import { Rng } from "./_generate.ts";
import {
  delay,
  infoSection,
  RespClient,
  RespError,
  type RespReply,
  RespStatus,
  ServerProcess,
  walConfig,
} from "./_helpers.ts";

/** Big lists, each about 1.3 MB: some twenty snapshot chunks of 64 KiB. */
const BIG_LISTS = 4;
const BIG_ELEMENTS = 30_000;
/** Small lists, pushed and popped around the inline limit (128 elements). */
const SMALL_LISTS = 8;
const SNAPSHOTS = 3;

async function settled(client: RespClient, timeoutMs = 60_000): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const fields = await infoSection(client, "persistence");
    if (fields.get("rdb_bgsave_in_progress") === "0") return fields;
    if (Date.now() > deadline) throw new Error("snapshot still in progress");
    await delay(5);
  }
}

function checkReplies(replies: RespReply[], commands: string[][]): void {
  replies.forEach((reply, i) => {
    if (reply instanceof RespError) {
      throw new Error(`${commands[i].join(" ")}: ${reply.text}`);
    }
  });
}

/** One round of changes to every list: both ends, the middle, trims. */
function round(r: Rng, n: number): string[][] {
  const commands: string[][] = [];
  for (let b = 0; b < BIG_LISTS; b++) {
    const key = `big${b}`;
    const tag = `${n}.${b}`;
    const deep = String(r.int(0, BIG_ELEMENTS - 1));
    commands.push(
      ["LPUSH", key, `head${tag}`, `h${"x".repeat(r.int(0, 60))}`],
      ["RPUSH", key, `tail${tag}`, `t${"y".repeat(r.int(0, 60))}`],
      [r.pick(["LPOP", "RPOP"]), key],
      ["LSET", key, deep, `set${tag}`],
      ["LSET", key, String(-1 - r.int(0, 500)), `rset${tag}`],
      ["LINSERT", key, r.pick(["BEFORE", "AFTER"]), `set${tag}`, `ins${tag}`],
      ["LINSERT", key, "AFTER", `head${tag}`, `after-head${tag}`],
      ["LTRIM", key, String(r.int(0, 1)), String(-1 - r.int(0, 1))],
      ["LREM", key, "1", `ins${n - 3}.${b}`],
    );
  }
  for (let s = 0; s < 2; s++) {
    const key = `small${r.int(0, SMALL_LISTS - 1)}`;
    commands.push(
      r.int(0, 1) === 0
        ? ["RPUSH", key, ...Array.from({ length: r.int(1, 40) }, (_, i) => `s${n}:${i}`)]
        : [r.pick(["LPOP", "RPOP"]), key, String(r.int(1, 40))],
    );
  }
  return commands;
}

/** Database 0's lists, each as its elements. */
function lists(engine: Engine): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let p = 0; p < engine.partitionCount; p++) {
    const { values } = engine.partition(p);
    for (let i = values.nextEntry(0); i >= 0; i = values.nextEntry(i + 1)) {
      const key = values.keyAt(i);
      const value = engine.get(key, false);
      assert.ok(value instanceof ListValue, `${key} is a list`);
      out.set(key, value.toArray());
    }
  }
  return out;
}

function sameLists(actual: Map<string, string[]>, expected: Map<string, string[]>, what: string) {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${what}: the keys`);
  for (const [key, elements] of expected) {
    const got = actual.get(key)!;
    if (got.length !== elements.length || got.some((e, i) => e !== elements[i])) {
      const at = got.findIndex((e, i) => e !== elements[i]);
      assert.fail(
        `${what}: ${key} differs (length ${got.length}, expected ${elements.length}; ` +
          `first difference at ${at}: ${JSON.stringify(got[at])} != ${
            JSON.stringify(elements[at])
          })`,
      );
    }
  }
}

Deno.test("a snapshot of big lists changed by a client while it is written holds exactly the state at its LSN", async () => {
  const dir = await Deno.makeTempDir();
  const server = await ServerProcess.start({
    ...walConfig(dir, { snapshot_threshold: "1GiB" }),
    engine: { partitions: 2 },
    network: { max_message_size: "8MiB" },
  });
  const walDir = join(dir, "wal");
  const copies = await Deno.makeTempDir();
  const loader = await RespClient.connect(server.port);
  const writer = await RespClient.connect(server.port);
  const taken: { lsn: number; path: string; writesDuring: number }[] = [];
  let writing = true;
  let writes: Promise<void> | undefined;
  try {
    for (let b = 0; b < BIG_LISTS; b++) {
      for (let at = 0; at < BIG_ELEMENTS; at += 5000) {
        const args = ["RPUSH", `big${b}`];
        for (let i = at; i < at + 5000; i++) args.push(`element:${b}:${i}:${"p".repeat(i % 50)}`);
        assert.equal(await loader.call(...args), at + 5000);
      }
    }
    for (let s = 0; s < SMALL_LISTS; s++) {
      const args = ["RPUSH", `small${s}`];
      for (let i = 0; i < 100 + 10 * s; i++) args.push(`small:${s}:${i}`);
      await loader.call(...args);
    }

    // The writer pipelines rounds of changes without a pause; BGSAVE after
    // BGSAVE meanwhile.
    let rounds = 0;
    writes = (async () => {
      const r = new Rng(2027);
      for (let n = 0; writing; n++) {
        const commands = round(r, n);
        checkReplies(await writer.pipeline(commands), commands);
        rounds++;
      }
    })();
    for (let i = 0; i < SNAPSHOTS; i++) {
      await delay(30);
      const started = rounds;
      const reply = await loader.call("BGSAVE");
      assert.ok(reply instanceof RespStatus, JSON.stringify(reply));
      const fields = await settled(loader);
      assert.equal(
        fields.get("rdb_last_bgsave_status"),
        "ok",
        server.logs.filter((l) => /snapshot/.test(l)).slice(-3).join("\n"),
      );
      const lsn = Number(fields.get("snapshot_last_lsn"));
      const path = join(copies, snapshotName(lsn));
      await Deno.copyFile(join(walDir, snapshotName(lsn)), path);
      taken.push({ lsn, path, writesDuring: rounds - started });
    }
    writing = false;
    await writes;
  } finally {
    writing = false;
    await writes?.catch(() => {}); // its failure, if any, was thrown above
    loader.close();
    writer.close();
    await server.stop();
  }
  assert.ok(
    taken.every((t) => t.writesDuring > 0),
    `the lists changed while each snapshot was written: ${JSON.stringify(taken)}`,
  );

  // Each snapshot, read as it is, against the log up to its LSN replayed.
  for (const { lsn, path } of taken) {
    const image = new Engine(2);
    await loadSnapshot(path, (db, key, value, expiresAtMs, type) => {
      assert.equal(db, 0);
      image.load(key, value, expiresAtMs, type);
    });
    const atLsn = new Engine(2);
    const replay = new Store(atLsn, undefined, { expireKeys: false });
    for await (const record of readRecords(walDir, 1, { toLsn: lsn })) replay.applyRecord(record);
    const expected = lists(atLsn);
    for (let b = 0; b < BIG_LISTS; b++) {
      assert.ok(expected.get(`big${b}`)!.length > BIG_ELEMENTS, `big${b} stays big`);
    }
    sameLists(lists(image), expected, `the snapshot at LSN ${lsn}`);
  }
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(copies, { recursive: true });
});
