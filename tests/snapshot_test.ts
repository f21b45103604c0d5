/**
 * Snapshots through the real server: bounded disk under overwrites,
 * restart from snapshot + WAL after SIGKILL, fallback from a damaged
 * snapshot, crashes while a snapshot is written, SAVE/BGSAVE, INFO, and
 * `kvdb wal check` on snapshots.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  delay,
  runKvdb,
  ServerProcess,
  setUntilGone,
  type TcpClient,
  walConfig,
} from "./_helpers.ts";

/**
 * The log directory's files and sizes. The server may compact while this
 * lists: a file removed between the listing and its stat is left out.
 */
function files(dir: string): { name: string; size: number }[] {
  const listed: { name: string; size: number }[] = [];
  for (const e of Deno.readDirSync(join(dir, "wal"))) {
    if (!e.isFile || e.name === "LOCK") continue;
    try {
      listed.push({ name: e.name, size: Deno.statSync(join(dir, "wal", e.name)).size });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return listed.sort((a, b) => a.name.localeCompare(b.name));
}

/** `count` SETs of `<prefix><i>` to `value`, each answered OK, then a SAVE answered OK. */
async function setThenSave(
  client: TcpClient,
  prefix: string,
  count: number,
  value: string,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    assert.equal(await client.command(`SET ${prefix}${i} ${value}`), "OK");
  }
  assert.equal(await client.command("SAVE"), "OK");
}

async function info(server: ServerProcess, field: string): Promise<string> {
  const client = await server.connect();
  try {
    await client.send("INFO persistence\n");
    const line = (await client.readLine())!;
    // The text protocol shows INFO's bulk quoted, with \r\n escaped.
    const match = new RegExp(`${field}:([^\\\\]*)`).exec(line);
    if (!match) throw new Error(`no ${field} in ${line}`);
    return match[1];
  } finally {
    client.close();
  }
}

Deno.test("overwriting 500 keys 40 times keeps the directory small; SIGKILL restart is exact", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir, { max_segment_size: "256KB" }); // snapshots every 1 MB (auto)
  const server = await ServerProcess.start(config);
  const client = await server.connect();
  const expected = new Map<string, string>();
  let written = 0;
  for (let round = 0; round < 40; round++) {
    let batch = "";
    for (let k = 0; k < 500; k++) {
      const value = `r${round}-${"x".repeat(400)}`;
      batch += `SET key${k} ${value}\n`;
      expected.set(`key${k}`, value);
      written += 420;
    }
    await client.send(batch);
    for (const reply of await client.readLines(500)) assert.equal(reply, "OK");
    await delay(30); // let the threshold timer see the log grow
  }
  // Compaction follows each snapshot: wait for the directory to settle,
  // with no snapshot under way (one finishing between two listings leaves
  // three until its compaction runs).
  let bytes = Infinity;
  let listing = files(dir);
  for (let waited = 0; waited < 15_000; waited += 200) {
    const idle = await info(server, "rdb_bgsave_in_progress") === "0";
    listing = files(dir);
    bytes = listing.reduce((n, f) => n + f.size, 0);
    const settled = idle && bytes < 3_500_000 &&
      listing.filter((f) => f.name.endsWith(".snap")).length <= 2 &&
      listing.filter((f) => f.name.endsWith(".wal")).length <= 12 &&
      await info(server, "rdb_bgsave_in_progress") === "0";
    if (settled) break;
    await delay(200);
  }
  const snapshots = listing.filter((f) => f.name.endsWith(".snap"));
  const segments = listing.filter((f) => f.name.endsWith(".wal"));
  assert.ok(written > 8_000_000, "the log grew well past the bound");
  assert.ok(snapshots.length >= 1 && snapshots.length <= 2, JSON.stringify(listing));
  assert.ok(segments.length <= 12, `${segments.length} segments`);
  assert.ok(bytes < 3_500_000, `directory holds ${bytes} bytes`);
  assert.notEqual(await info(server, "snapshot_last_lsn"), "0");
  client.close();
  await server.stop("SIGKILL");

  const restarted = await ServerProcess.start(config, { dir, port: server.port });
  const check = await restarted.connect();
  try {
    let batch = "";
    for (const key of expected.keys()) batch += `GET ${key}\n`;
    await check.send(batch);
    const replies = await check.readLines(expected.size);
    [...expected.values()].forEach((value, i) => assert.equal(replies[i], value));
    assert.ok(restarted.logs.some((l) => l.includes("snapshot loaded")));
  } finally {
    check.close();
    await restarted.stop();
  }
});

Deno.test("SAVE and BGSAVE; a damaged newest snapshot falls back to the previous one and the WAL", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir);
  const server = await ServerProcess.start(config);
  const client = await server.connect();
  assert.equal(await client.command("SET a 1"), "OK");
  assert.equal(await client.command("SAVE"), "OK");
  assert.equal(await client.command("SET b 2"), "OK");
  assert.equal(await client.command("BGSAVE"), "Background saving started");
  for (let i = 0; i < 100 && files(dir).filter((f) => f.name.endsWith(".snap")).length < 2; i++) {
    await delay(50);
  }
  assert.equal(await client.command("SET c 3"), "OK");
  assert.equal(await client.command("DEL a"), "OK");
  client.close();
  await server.stop();

  const snapshots = files(dir).filter((f) => f.name.endsWith(".snap"));
  assert.equal(snapshots.length, 2);
  const newest = join(dir, "wal", snapshots[1].name);
  const bytes = await Deno.readFile(newest);
  bytes[bytes.length - 20] ^= 0xff;
  await Deno.writeFile(newest, bytes);

  const check = await runKvdb(["wal", "check", "--dir", join(dir, "wal")]);
  assert.equal(check.code, 1);
  assert.match(check.stdout, new RegExp(`DAMAGE snapshot: .*${snapshots[1].name}`));

  const restarted = await ServerProcess.start(config, { dir, port: server.port });
  const c = await restarted.connect();
  try {
    assert.equal(await c.command("GET a"), "ERROR: key not found");
    assert.equal(await c.command("GET b"), "2");
    assert.equal(await c.command("GET c"), "3");
    assert.ok(
      restarted.logs.some((l) => l.includes("snapshot damaged")),
      restarted.logs.join("\n"),
    );
  } finally {
    c.close();
    await restarted.stop();
  }
});

Deno.test("no usable state is a clear error, never an empty start", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir, { max_segment_size: "4KiB", snapshot_threshold: "64KiB" });
  const server = await ServerProcess.start(config);
  const client = await server.connect();
  await setThenSave(client, "k", 200, "v".repeat(60));
  await setThenSave(client, "j", 200, "v".repeat(60));
  client.close();
  await server.stop();
  // Compaction removed the first segments; now break both snapshots.
  for (const f of files(dir).filter((f) => f.name.endsWith(".snap"))) {
    await Deno.writeFile(join(dir, "wal", f.name), new Uint8Array(10));
  }
  const started = await ServerProcess.start(config, { dir, port: server.port }).then(
    () => "started",
    (e: Error) => e.message,
  );
  assert.match(started, /earlier segments are missing/);
});

Deno.test("crashes while snapshots are written never lose acknowledged writes", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir, { max_segment_size: "64KiB", snapshot_threshold: "64KiB" });
  const acked = new Map<string, string>();
  const unanswered = new Map<string, string>();
  let port: number | undefined;
  for (let round = 0; round < 3; round++) {
    const server = await ServerProcess.start(config, { dir, port });
    port = server.port;
    let stop = false;
    const writer = setUntilGone(
      server.port,
      (n) => [`k${n % 300}`, `r${round}n${n}`],
      acked,
      () => stop,
      unanswered,
    );
    const saver = (async () => {
      const client = await server.connect();
      while (!stop) {
        await client.send("BGSAVE\n");
        if ((await client.readLine(5000).catch(() => null)) === null) break;
        await delay(20);
      }
      client.close();
    })();
    await delay(300 + Math.random() * 700);
    server.child.kill("SIGKILL");
    await server.status;
    stop = true;
    await Promise.all([writer, saver]);
    await server.stop().catch(() => {});
  }
  const server = await ServerProcess.start(config, { dir, port });
  const client = await server.connect();
  try {
    for (const [key, value] of acked) {
      const got = await client.command(`GET ${key}`);
      // Keys are overwritten here: the one SET the kill cut off before its
      // OK may be what survived, and nothing else.
      if (got !== value) assert.equal(got, unanswered.get(key), key);
    }
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("damage in a segment that a snapshot covers does not stop the start", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir, { max_segment_size: "4KiB", snapshot_threshold: "1000GiB" });
  const server = await ServerProcess.start(config);
  const client = await server.connect();
  await setThenSave(client, "a", 150, "v".repeat(60));
  await setThenSave(client, "b", 150, "w".repeat(60));
  assert.equal(await client.command("SET last 1"), "OK");
  client.close();
  await server.stop();
  // The first remaining segment lies before the newest snapshot (it is the
  // fallback's): damage it.
  const first = files(dir).filter((f) => f.name.endsWith(".wal"))[0];
  const path = join(dir, "wal", first.name);
  const bytes = await Deno.readFile(path);
  bytes[100] ^= 0x55;
  await Deno.writeFile(path, bytes);
  const restarted = await ServerProcess.start(config, { dir, port: server.port });
  const c = await restarted.connect();
  try {
    assert.equal(await c.command("GET a0"), "v".repeat(60));
    assert.equal(await c.command("GET b149"), "w".repeat(60));
    assert.equal(await c.command("GET last"), "1");
  } finally {
    c.close();
    await restarted.stop();
  }
});
