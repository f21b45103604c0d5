/**
 * Snapshot faults from issue 13, injected on a real server: a key deleted
 * while a snapshot walks past it (a phantom `""` key after restart), values
 * too large for the old block limit (every snapshot failing), and a failing
 * snapshot retried with backoff and shown in INFO.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { stringify } from "yaml";
import { parseConfig } from "../src/config/config.ts";
import { ReplicationController, replicationLogLayer } from "../src/replication/controller.ts";
import { NO_IDENTITY, saveIdentity } from "../src/replication/replication_identity.ts";
import { yamlReplication } from "../src/replication/startup_role.ts";
import { listSnapshots } from "../src/snapshot/restore.ts";
import { Snapshotter } from "../src/snapshot/snapshotter.ts";
import { openStore } from "../src/storage/open_store.ts";
import { recordingLogger } from "../src/wal/_test_util.ts";
import { snapshotName } from "../src/snapshot/snapshot_file.ts";
import { loadSnapshot } from "../src/snapshot/snapshot_reader.ts";
import {
  delay,
  encodeRespCommand,
  freePort,
  infoSection,
  RespClient,
  RespError,
  type RespReply,
  RespStatus,
  ServerProcess,
  walConfig,
} from "./_helpers.ts";

/** Waits until no snapshot is being taken. */
async function snapshotSettled(client: RespClient, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await infoSection(client, "persistence")).get("rdb_bgsave_in_progress") !== "0") {
    if (Date.now() > deadline) throw new Error("snapshot still in progress");
    await delay(20);
  }
}

/** A status or error reply's text, anything else as JSON. */
function text(reply: RespReply): string {
  return reply instanceof RespStatus || reply instanceof RespError
    ? reply.text
    : JSON.stringify(reply);
}

function ok(replies: RespReply[]): void {
  for (const reply of replies) assert.equal(text(reply), "OK");
}

Deno.test('keys deleted while BGSAVE walks past them never come back (no phantom ""), after a restart either', async () => {
  const dir = await Deno.makeTempDir();
  const config = {
    ...walConfig(dir),
    engine: { partitions: 1 },
    network: { max_message_size: "1MB" },
  };
  const server = await ServerProcess.start(config);
  const keys = 200_000;
  const connections = 16;
  const copies = await Deno.makeTempDir();
  try {
    const loader = await RespClient.connect(server.port);
    for (let i = 0; i < keys; i += 250) {
      const mset: string[] = ["MSET"];
      for (let j = i; j < i + 250; j++) mset.push(`key:${j}`, `value:${j}`);
      ok([await loader.call(...mset)]);
    }
    assert.equal(await loader.call("DBSIZE"), keys);
    const clients = await Promise.all(
      Array.from({ length: connections }, () => RespClient.connect(server.port)),
    );

    // Snapshot after snapshot, each copied aside as it is written, while
    // 16 connections delete every key in random order.
    let deleting = true;
    let copied = 0;
    const snapshots = (async () => {
      while (deleting) {
        assert.equal(text(await loader.call("BGSAVE")), "Background saving started");
        await snapshotSettled(loader);
        const fields = await infoSection(loader, "persistence");
        assert.equal(fields.get("rdb_last_bgsave_status"), "ok");
        const name = snapshotName(Number(fields.get("snapshot_last_lsn")));
        await Deno.copyFile(join(dir, "wal", name), join(copies, name));
        copied++;
      }
    })();
    const order = Array.from({ length: keys }, (_, i) => i);
    for (let i = keys - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    await Promise.all(clients.map(async (client, c) => {
      try {
        const mine = order.filter((_, i) => i % connections === c);
        const half = Math.floor(mine.length / 1000) * 500;
        for (let i = 0; i < mine.length; i += 500) {
          // The second half waits for a first snapshot: whatever the
          // machine's speed, one snapshot is written while the first half
          // goes and the next while the second does.
          while (i === half && copied === 0) await new Promise((r) => setTimeout(r, 5));
          const batch = mine.slice(i, i + 500).map((k) => ["DEL", `key:${k}`]);
          for (const reply of await client.pipeline(batch)) assert.equal(reply, 1);
        }
      } finally {
        client.close();
      }
    }));
    deleting = false;
    await snapshots;
    assert.equal(await loader.call("DBSIZE"), 0);
    loader.close();

    // Every snapshot holds only keys that were written, with their values.
    let checked = 0;
    for (const entry of Deno.readDirSync(copies)) {
      await loadSnapshot(join(copies, entry.name), (_db, key, value) => {
        assert.match(key, /^key:\d+$/, `${entry.name} holds key ${JSON.stringify(key)}`);
        assert.equal(value, `value:${key.slice(4)}`);
      });
      checked++;
    }
    assert.ok(checked >= 2, `${checked} snapshots taken during the deletes`);
  } finally {
    await server.stop("SIGKILL");
  }

  const restarted = await ServerProcess.start(config, { dir, port: server.port });
  try {
    assert.ok(restarted.logs.some((l) => l.includes("snapshot loaded")), "started from a snapshot");
    const client = await RespClient.connect(restarted.port);
    assert.equal(await client.call("GET", ""), null);
    assert.equal(await client.call("DBSIZE"), 0);
    client.close();
  } finally {
    await restarted.stop();
  }
});

/**
 * GET of a large value as raw bytes (the test client's reply parser builds
 * strings a byte at a time: minutes for tens of MiB).
 */
async function getBytes(port: number, key: string): Promise<Uint8Array | null> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encodeRespCommand(["GET", key]));
    let got = new Uint8Array(0);
    const chunk = new Uint8Array(1 << 20);
    for (;;) {
      const lineEnd = got.indexOf(0x0a);
      if (lineEnd > 0) {
        const head = new TextDecoder().decode(got.subarray(0, lineEnd - 1));
        if (head === "$-1") return null;
        assert.match(head, /^\$\d+$/);
        const length = Number(head.slice(1));
        const start = lineEnd + 1;
        if (got.length >= start + length + 2) return got.slice(start, start + length);
      }
      const n = await conn.read(chunk);
      if (n === null) throw new Error("connection closed");
      const joined = new Uint8Array(got.length + n);
      joined.set(got);
      joined.set(chunk.subarray(0, n), got.length);
      got = joined;
    }
  } finally {
    conn.close();
  }
}

Deno.test("values of tens of MiB: SAVE succeeds, and a restart serves them from the snapshot", async () => {
  const dir = await Deno.makeTempDir();
  const config = {
    ...walConfig(dir, { max_segment_size: "128MB" }),
    engine: { partitions: 1 },
    network: { max_message_size: "40MiB" },
  };
  // 84 MiB in one partition: the old writer put them in one block, over its 80 MiB cap.
  const values = [28, 29, 27].map((mib, i) => {
    const value = new Uint8Array(mib << 20);
    for (let at = 0; at < value.length; at += 4096) value[at] = (at >> 12) + i;
    return value;
  });
  const server = await ServerProcess.start(config);
  try {
    const client = await RespClient.connect(server.port);
    for (const [i, value] of values.entries()) ok([await client.call("SET", `big${i}`, value)]);
    ok([await client.call("SET", "small", "s")]);
    assert.equal(text(await client.call("SAVE")), "OK");
    const fields = await infoSection(client, "persistence");
    assert.equal(fields.get("rdb_last_bgsave_status"), "ok");
    assert.equal(fields.get("snapshot_last_keys"), "4");
    client.close();
  } finally {
    await server.stop("SIGKILL");
  }
  const restarted = await ServerProcess.start(config, { dir, port: server.port });
  try {
    assert.ok(
      restarted.logs.some((l) => l.includes("snapshot loaded")),
      "started from the snapshot",
    );
    for (const [i, value] of values.entries()) {
      const got = await getBytes(restarted.port, `big${i}`);
      assert.ok(got !== null && got.length === value.length, `big${i} has its length`);
      assert.ok(got.every((b, at) => b === value[at]), `big${i} intact`);
    }
    const client = await RespClient.connect(restarted.port);
    assert.equal(await client.call("GET", "small"), "s");
    client.close();
  } finally {
    await restarted.stop();
  }
});

Deno.test("a failing automatic snapshot is retried after a backoff, not at every check; INFO and the log say so once", async () => {
  const dir = await Deno.makeTempDir();
  const server = await ServerProcess.start({
    ...walConfig(dir, { snapshot_threshold: "64KiB" }),
    network: { max_message_size: "1MB" },
  });
  try {
    // The fault: the first snapshot's temporary file cannot be created
    // (a directory has its name), so every attempt at LSN 1 fails.
    const blocker = join(dir, "wal", `${snapshotName(1)}.tmp`);
    await Deno.mkdir(blocker);
    const client = await RespClient.connect(server.port);
    ok([await client.call("SET", "k", "x".repeat(100_000))]); // LSN 1, past the threshold
    const failed = () => server.logs.filter((l) => l.includes("snapshot failed"));
    const deadline = Date.now() + 5_000;
    while (failed().length === 0 && Date.now() < deadline) await delay(20);
    assert.equal(failed().length, 1, "the first automatic snapshot failed");
    await delay(2_000); // twenty threshold checks, well within the 5 s backoff
    assert.equal(failed().length, 1, `no retry within the backoff:\n${failed().join("\n")}`);
    const fields = await infoSection(client, "persistence");
    assert.equal(fields.get("rdb_last_bgsave_status"), "err");
    assert.equal(fields.get("snapshot_failures"), "1");
    assert.equal(fields.get("snapshot_consecutive_failures"), "1");
    assert.match(fields.get("snapshot_last_error") ?? "", /directory/i);
    const retryInMs = Number(fields.get("snapshot_next_retry_in_ms"));
    assert.ok(retryInMs > 0 && retryInMs <= 5_000, `next retry in ${retryInMs} ms`);

    // Once the fault is gone, BGSAVE works at once (the backoff holds back only automatic ones).
    await Deno.remove(blocker);
    assert.equal(text(await client.call("BGSAVE")), "Background saving started");
    await snapshotSettled(client);
    const after = await infoSection(client, "persistence");
    assert.equal(after.get("rdb_last_bgsave_status"), "ok");
    assert.equal(after.get("snapshot_consecutive_failures"), "0");
    assert.equal(after.get("snapshot_next_retry_in_ms"), "0");
    assert.equal(after.get("snapshot_last_lsn"), "1");
    client.close();
  } finally {
    await server.stop();
  }
});

/** Polls `condition` every 20 ms until it holds. */
async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

Deno.test("a replica's snapshot held before its rename during a full resync is never renamed into place; a restart holds the master's data", async () => {
  // The new master: 100 writes, LSN 100.
  const master = await ServerProcess.start({
    ...walConfig(await Deno.makeTempDir()),
    replication: {
      enabled: true,
      replica_type: "master",
      master_address: `127.0.0.1:${freePort()}`,
      sync_interval: "200ms",
    },
  });
  const dir = await Deno.makeTempDir();
  const config = parseConfig(
    stringify({
      wal: { enabled: true, data_directory: join(dir, "wal") },
      replication: {
        enabled: true,
        replica_type: "slave",
        master_address: `127.0.0.1:${master.port}`,
        sync_interval: "200ms",
      },
    }),
    "test",
  );
  const log = recordingLogger();
  try {
    const client = await RespClient.connect(master.port);
    ok(await client.pipeline(Array.from({ length: 100 }, (_, i) => ["SET", `new:${i}`, `n${i}`])));
    client.close();

    // The replica holds another history (20 writes of an earlier master).
    const opened = await openStore(config, log, { wrapLog: replicationLogLayer() });
    for (let i = 0; i < 20; i++) opened.store.set(`old:${i}`, `o${i}`);
    await opened.store.commit();
    await saveIdentity(join(dir, "wal"), { ...NO_IDENTITY, replid: "a".repeat(40), role: "slave" });

    // A snapshot of it, complete and held right before its rename.
    let release = () => {};
    const held = new Promise<void>((resolve) => release = resolve);
    let reached = () => {};
    const atRename = new Promise<void>((resolve) => reached = resolve);
    const snapshotter = new Snapshotter({
      store: opened.store,
      wal: opened.wal!,
      thresholdBytes: Infinity,
      compact: true,
      replid: () => "",
      log,
      testHooks: {
        beforeRename: () => {
          reached();
          return held;
        },
      },
    });
    const saving = snapshotter.save().then(() => "renamed", (e: Error) => e.message);
    await atRename;

    // The full resync starts while the snapshot waits; give it time to
    // finish if it does not wait for the snapshot, then let the rename go.
    const running = new ReplicationController({
      config,
      store: opened.store,
      wal: opened.wal!,
      log,
      snapshotter,
      yaml: yamlReplication(config),
      applyRole: () => {},
      recordRole: () => {},
      holdData: () => {},
    });
    await running.start({ role: "slave", master: config.replication.masterAddress });
    await until(
      () => log.lines.some((l) => l.message.startsWith("full resynchronisation")),
      "the full resync",
    );
    await delay(1_000);
    release();
    assert.match(await saving, /abandoned/);
    await until(
      () => running.slaveStatus()?.state === "streaming" && opened.wal!.lastLsn >= 100,
      "the replica to catch up",
    );
    await running.stop();
    await snapshotter.settle();
    await opened.close();

    // No snapshot of the old history is in the directory ...
    for (const snapshot of await listSnapshots(join(dir, "wal"))) {
      await loadSnapshot(snapshot.path, (_db, key) => {
        assert.ok(key.startsWith("new:"), `${snapshot.name} holds ${key}`);
      });
    }
    // ... and a restart holds exactly the master's data.
    const reopened = await openStore(config, log);
    try {
      const keys: string[] = [];
      for (let p = 0; p < reopened.store.engine.partitionCount; p++) {
        keys.push(...reopened.store.engine.partition(p).values.keys());
      }
      assert.deepEqual(
        keys.sort(),
        Array.from({ length: 100 }, (_, i) => `new:${i}`).sort(),
      );
      for (let i = 0; i < 100; i++) assert.equal(reopened.store.get(`new:${i}`), `n${i}`);
    } finally {
      await reopened.close();
    }
  } finally {
    await master.stop();
  }
});
