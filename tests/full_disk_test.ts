/**
 * A full disk (issue 13 point 7): a write answered "write failed, not
 * durable" must not come back after a restart, and memory must agree with
 * the disk meanwhile. Runs the real server on a real, tiny tmpfs (the test
 * mounts one: it needs root, as CI has).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { RespClient, RespError, RespStatus, ServerProcess, walConfig } from "./_helpers.ts";

const OK = new RespStatus("OK");

/** Mounts a tmpfs of `size` (mount(8) syntax) at a new temp dir; returns it and its unmount. */
async function tinyDisk(size: string): Promise<{ dir: string; unmount: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-full-" });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stderr: "piped",
  }).output();
  if (!mount.success) {
    throw new Error(
      `cannot mount a tmpfs (this test needs root): ${new TextDecoder().decode(mount.stderr)}`,
    );
  }
  return {
    dir,
    unmount: async () => {
      await new Deno.Command("umount", { args: ["-l", dir] }).output();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

function isOk(reply: unknown): boolean {
  return reply instanceof RespStatus && reply.text === "OK";
}

Deno.test("full disk: writes refused as not durable never come back; memory matches the disk", async () => {
  const disk = await tinyDisk("3m");
  const config = {
    network: { max_message_size: "4MiB" },
    ...walConfig(disk.dir, { max_segment_size: "1MiB", snapshot_threshold: "1024GiB" }),
  };
  let server = await ServerProcess.start(config);
  let client = await RespClient.connect(server.port);
  const acked = new Map<string, string>();
  const refused = new Set<string>();
  try {
    // One at a time, then pipelined batches, until the disk refuses.
    for (let i = 0; refused.size === 0 && i < 5000; i++) {
      const key = `k${i}`;
      const value = `${i}:`.padEnd(2000, "v");
      if (i % 2 === 0) {
        const reply = await client.call("SET", key, value);
        if (isOk(reply)) acked.set(key, value);
        else refused.add(key);
      } else {
        const batch = Array.from({ length: 10 }, (_, j) => [`${key}.${j}`, `${value}${j}`]);
        const replies = await client.pipeline(batch.map(([k, v]) => ["SET", k, v]));
        replies.forEach((reply, j) => {
          if (isOk(reply)) acked.set(batch[j][0], batch[j][1]);
          else refused.add(batch[j][0]);
        });
      }
    }
    assert.ok(refused.size > 0, "the disk never filled up");
    assert.ok(acked.size > 100, `only ${acked.size} writes fit`);
    const failure = await client.call("SET", "after", "x");
    assert.ok(
      failure instanceof RespError && /write failed, not durable/.test(failure.text),
      String(failure instanceof RespError ? failure.text : failure),
    );
    // A FLUSHALL refused too: nothing goes.
    assert.ok(await client.call("FLUSHALL") instanceof RespError);
    // Memory is what the disk holds: every acknowledged write, no refused one.
    for (const [key, value] of acked) assert.equal(await client.call("GET", key), value, key);
    for (const key of refused) assert.equal(await client.call("GET", key), null, key);
    assert.equal(await client.call("DBSIZE"), acked.size);
    assert.ok(server.logs.some((l) => l.includes("WAL WRITE FAILED")));
    assert.ok(server.logs.some((l) => l.includes("keyspace reloaded from disk")));
    client.close();
    await server.stop("SIGKILL");

    // After a restart (on the same full disk): the same.
    server = await ServerProcess.start(config, { dir: server.dir, port: server.port });
    client = await RespClient.connect(server.port);
    assert.equal(await client.call("DBSIZE"), acked.size);
    for (const [key, value] of acked) assert.equal(await client.call("GET", key), value, key);
    for (const key of refused) assert.equal(await client.call("GET", key), null, key);
  } finally {
    client.close();
    await server.stop("SIGKILL");
    await disk.unmount();
  }
});

Deno.test("full disk: a FLUSHALL in the batch that fails leaves every key, before and after restart", async () => {
  const disk = await tinyDisk("3m");
  const config = {
    network: { max_message_size: "4MiB" },
    ...walConfig(disk.dir, { max_segment_size: "1MiB", snapshot_threshold: "1024GiB" }),
  };
  let server = await ServerProcess.start(config);
  let client = await RespClient.connect(server.port);
  try {
    for (let i = 0; i < 50; i++) assert.deepEqual(await client.call("SET", `k${i}`, `v${i}`), OK);
    // Fill the disk, then a batch whose bytes cross the preallocated zeros
    // (a value of 1.5 MiB) with a FLUSHALL in it.
    const filler = await Deno.open(join(disk.dir, "filler"), { write: true, create: true });
    const chunk = new Uint8Array(64 * 1024);
    try {
      while (true) await filler.write(chunk);
    } catch {
      // Full.
    } finally {
      filler.close();
    }
    const replies = await client.pipeline([
      ["SET", "huge", "h".repeat(1536 * 1024)],
      ["FLUSHALL"],
      ["SET", "k0", "changed"],
    ]);
    for (const reply of replies) assert.ok(reply instanceof RespError, JSON.stringify(reply));
    assert.equal(await client.call("DBSIZE"), 50);
    assert.equal(await client.call("GET", "k0"), "v0");
    assert.equal(await client.call("GET", "huge"), null);
    client.close();
    await server.stop("SIGKILL");
    server = await ServerProcess.start(config, { dir: server.dir, port: server.port });
    client = await RespClient.connect(server.port);
    assert.equal(await client.call("DBSIZE"), 50);
    assert.equal(await client.call("GET", "k0"), "v0");
    assert.equal(await client.call("GET", "huge"), null);
  } finally {
    client.close();
    await server.stop("SIGKILL");
    await disk.unmount();
  }
});
