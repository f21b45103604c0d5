/**
 * Snapshot faults from issue 13, injected on a real server: a key deleted
 * while a snapshot walks past it (a phantom `""` key after restart), values
 * too large for the old block limit (every snapshot failing), and a failing
 * snapshot retried with backoff and shown in INFO.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { snapshotName } from "../src/snapshot/snapshot_file.ts";
import { loadSnapshot } from "../src/snapshot/snapshot_reader.ts";
import {
  delay,
  RespClient,
  RespError,
  type RespReply,
  RespStatus,
  ServerProcess,
  walConfig,
} from "./_helpers.ts";

/** `INFO persistence` as a map of field to value. */
async function persistence(client: RespClient): Promise<Map<string, string>> {
  const text = await client.call("INFO", "persistence");
  assert.equal(typeof text, "string");
  const fields = new Map<string, string>();
  for (const line of (text as string).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** Waits until no snapshot is being taken. */
async function snapshotSettled(client: RespClient, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await persistence(client)).get("rdb_bgsave_in_progress") !== "0") {
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
    const snapshots = (async () => {
      while (deleting) {
        assert.equal(text(await loader.call("BGSAVE")), "Background saving started");
        await snapshotSettled(loader);
        const fields = await persistence(loader);
        assert.equal(fields.get("rdb_last_bgsave_status"), "ok");
        const name = snapshotName(Number(fields.get("snapshot_last_lsn")));
        await Deno.copyFile(join(dir, "wal", name), join(copies, name));
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
        for (let i = 0; i < mine.length; i += 500) {
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
      await loadSnapshot(join(copies, entry.name), (key, value) => {
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
