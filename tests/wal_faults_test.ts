/**
 * The WAL faults of issue 13, each injected on real files under a real
 * server process: a zeroed sector in the last segment (1), a removed or
 * replaced LOCK (2), a crash at each step of segment creation right after
 * a snapshot (10), damage a snapshot covers and what check/repair make of
 * it (12), both snapshots damaged and a leftover `.snap.tmp` in a
 * read-only directory (8).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { runKvdb, ServerProcess, type TcpClient, walConfig } from "./_helpers.ts";

const SEGMENT_HEADER_BYTES = 32;

/** Segment files of `dir/wal`, by name. */
function segmentFiles(dir: string): { name: string; path: string; size: number }[] {
  return [...Deno.readDirSync(join(dir, "wal"))]
    .filter((e) => e.isFile && e.name.endsWith(".wal"))
    .map((e) => {
      const path = join(dir, "wal", e.name);
      return { name: e.name, path, size: Deno.statSync(path).size };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function snapshotFiles(dir: string): string[] {
  return [...Deno.readDirSync(join(dir, "wal"))]
    .filter((e) => e.isFile && /^snapshot-\d+\.snap$/.test(e.name))
    .map((e) => e.name)
    .sort();
}

function backupDirs(dir: string): string[] {
  return [...Deno.readDirSync(join(dir, "wal"))]
    .filter((e) => e.isDirectory && e.name.startsWith("repair-backup-"))
    .map((e) => join(dir, "wal", e.name));
}

/** Frame offsets of a segment, walking the length fields. */
function frameOffsets(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let at = SEGMENT_HEADER_BYTES; at + 8 <= bytes.length;) {
    const body = view.getUint32(at, true);
    if (body === 0) break;
    out.push(at);
    at += 8 + Math.ceil(body / 8) * 8;
  }
  return out;
}

/** Pipelines `count` SETs `<prefix><i>` = value(i), checking every OK. */
async function fill(
  client: TcpClient,
  prefix: string,
  count: number,
  value: (i: number) => string,
): Promise<void> {
  const step = 500;
  for (let from = 0; from < count; from += step) {
    const n = Math.min(step, count - from);
    let batch = "";
    for (let i = from; i < from + n; i++) batch += `SET ${prefix}${i} ${value(i)}\n`;
    await client.send(batch);
    for (const reply of await client.readLines(n)) assert.equal(reply, "OK");
  }
}

/** GETs `<prefix><i>` for every i < count; returns how many had value(i). */
async function countPresent(
  client: TcpClient,
  prefix: string,
  count: number,
  value: (i: number) => string,
): Promise<number> {
  let batch = "";
  for (let i = 0; i < count; i++) batch += `GET ${prefix}${i}\n`;
  await client.send(batch);
  const replies = await client.readLines(count);
  return replies.filter((r, i) => r === value(i)).length;
}

/** Starts a server expecting it to refuse; returns its log. */
async function expectRefused(
  config: Record<string, Record<string, unknown>>,
  dir: string,
): Promise<string> {
  return await ServerProcess.start(config, { dir }).then(
    async (server) => {
      await server.stop();
      return assert.fail("the server started");
    },
    (e: Error) => e.message,
  );
}

const value = (i: number) => `value-${i}-${"x".repeat(60)}`;

Deno.test("1: a zeroed sector in the middle of the last segment stops the start and cuts nothing", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir);
  const first = await ServerProcess.start(config);
  const client = await first.connect();
  await fill(client, "k", 5000, value);
  client.close();
  await first.stop();
  const [segment] = segmentFiles(dir);
  assert.ok(segment.size > 300_000, `${segment.size} bytes`);
  const bytes = await Deno.readFile(segment.path);
  const damaged = bytes.slice();
  damaged.fill(0, 4096, 4608);
  await Deno.writeFile(segment.path, damaged);
  const frameAt = frameOffsets(bytes).findLast((o) => o <= 4096)!;

  const refused = await expectRefused(config, dir);
  assert.match(refused, new RegExp(`${segment.name} at byte offset ${frameAt}`));
  assert.match(refused, /follows the damage/);
  assert.deepEqual(await Deno.readFile(segment.path), damaged, "nothing was cut");
  assert.deepEqual(backupDirs(dir), []);

  const check = await runKvdb(["wal", "check", "--dir", join(dir, "wal")]);
  assert.equal(check.code, 1);
  assert.match(check.stdout, /the server cannot start/);
  assert.match(
    check.stdout,
    new RegExp(`DAMAGE corrupt: .*${segment.name} at byte offset ${frameAt}`),
  );

  // The operator decides: repair cuts there, keeping every byte it cuts.
  const repair = await runKvdb(["wal", "repair", "--dir", join(dir, "wal")]);
  assert.equal(repair.code, 0, repair.stdout + repair.stderr);
  const [backup] = backupDirs(dir);
  assert.deepEqual(
    await Deno.readFile(join(backup, `${segment.name}.cut-at-${frameAt}`)),
    damaged.subarray(frameAt),
  );
  const kept = frameOffsets(bytes).filter((o) => o < frameAt).length;
  const second = await ServerProcess.start(config, { dir, port: first.port });
  const check2 = await second.connect();
  try {
    assert.equal(await countPresent(check2, "k", 5000, value), kept);
  } finally {
    check2.close();
    await second.stop();
  }
});

Deno.test("1: a torn last write (the file cut short, or its last sectors unwritten) is cut, with a copy kept", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir);
  const first = await ServerProcess.start(config);
  const client = await first.connect();
  await fill(client, "k", 300, value);
  client.close();
  await first.stop();
  const [segment] = segmentFiles(dir);
  const bytes = await Deno.readFile(segment.path);
  const offsets = frameOffsets(bytes);
  const last = offsets[offsets.length - 1];
  for (const torn of ["cut short", "sectors unwritten"] as const) {
    // The last record's write reached the disk only in part.
    const image = torn === "cut short" ? bytes.slice(0, last + 40) : (() => {
      const b = new Uint8Array(bytes.length + 4096);
      b.set(bytes);
      b.fill(0, Math.ceil((last + 40) / 512) * 512);
      return b;
    })();
    await Deno.writeFile(segment.path, image);
    for (const b of backupDirs(dir)) await Deno.remove(b, { recursive: true });
    const server = await ServerProcess.start(config, { dir, port: first.port });
    const c = await server.connect();
    try {
      assert.equal(await countPresent(c, "k", 300, value), 299, torn);
      assert.ok(server.logs.some((l) => /WARN .*truncating torn tail/.test(l)), torn);
    } finally {
      c.close();
      await server.stop();
    }
    const [backup] = backupDirs(dir);
    assert.ok(backup !== undefined, `${torn}: no copy of the cut bytes was kept`);
    const copy = await Deno.readFile(join(backup, `${segment.name}.cut-at-${last}`));
    const expected = image.subarray(last);
    let end = expected.length;
    while (end > 0 && expected[end - 1] === 0) end--;
    assert.deepEqual(copy, expected.subarray(0, end), torn);
    await Deno.writeFile(segment.path, bytes);
  }
});

Deno.test("2: removing or replacing LOCK never lets a second process on the directory", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir);
  const first = await ServerProcess.start(config);
  const client = await first.connect();
  try {
    await fill(client, "one", 200, value);
    const walDir = join(dir, "wal");
    // A snapshot file a second server would load (and set aside as damaged)
    // if it read anything before taking the lock.
    const bait = join(walDir, "snapshot-0000000000999999.snap");
    await Deno.writeFile(bait, new Uint8Array(100).fill(7));
    const attempts = [
      ["LOCK removed", () => Deno.remove(join(walDir, "LOCK"))],
      ["LOCK replaced", () => Deno.writeTextFile(join(walDir, "LOCK"), "1\n")],
    ] as const;
    for (const [what, act] of attempts) {
      await act();
      const secondDir = await Deno.makeTempDir();
      const refused = await expectRefused(config, secondDir);
      assert.match(refused, /in use by another kvdb process/, what);
      await Deno.stat(bait); // not renamed .damaged: nothing was loaded
      const cliConfig = join(secondDir, "cli.yaml");
      await Deno.writeTextFile(cliConfig, `wal:\n  enabled: true\n  data_directory: ${walDir}\n`);
      const cli = await runKvdb(["cli", "--config", cliConfig], { stdin: "SET two 2\n" });
      assert.equal(cli.code, 1, what);
      assert.match(cli.stderr, /in use by another kvdb process/, what);
      const repair = await runKvdb(["wal", "repair", "--dir", walDir]);
      assert.equal(repair.code, 1, what);
      assert.match(repair.stderr, /in use by another kvdb process/, what);
    }
    await Deno.remove(bait);
    await fill(client, "more", 10, value);
  } finally {
    client.close();
    await first.stop();
  }
  const again = await ServerProcess.start(config, { dir, port: first.port });
  const c = await again.connect();
  try {
    assert.equal(await countPresent(c, "one", 200, value), 200);
    assert.equal(await countPresent(c, "more", 10, value), 10);
    assert.equal(await c.command("GET two"), "ERROR: key not found");
  } finally {
    c.close();
    await again.stop();
  }
});

Deno.test("10: a crash at each step of segment creation after a snapshot at a segment's end: recovered, the chain holds", async () => {
  const base = await Deno.makeTempDir();
  const config = walConfig(base, { max_segment_size: "4KiB", snapshot_threshold: "1000GiB" });
  const first = await ServerProcess.start(config);
  const client = await first.connect();
  await fill(client, "k", 100, value);
  assert.equal(await client.command("SAVE"), "OK");
  client.close();
  await first.stop();
  assert.deepEqual(snapshotFiles(base), ["snapshot-0000000000000100.snap"]);
  const header = (await Deno.readFile(segmentFiles(base).at(-1)!.path)).slice(0, 32);
  // The next segment's header as the writer would have written it (first
  // LSN 101; the seed does not matter for a header that never got whole).
  const next = new Uint8Array(32);
  next.set(header);
  new DataView(next.buffer).setUint32(8, 101, true);
  const states: [string, Uint8Array][] = [
    ["created empty", new Uint8Array(0)],
    ["preallocated zeros, no header", new Uint8Array(1024 * 1024 + 32)],
    ["header cut short", next.slice(0, 12)],
    [
      "header prefix over zeros",
      (() => {
        const b = new Uint8Array(4096);
        b.set(next.subarray(0, 8));
        return b;
      })(),
    ],
  ];
  for (const [state, torn] of states) {
    const dir = await Deno.makeTempDir();
    await Deno.mkdir(join(dir, "wal"));
    for (const e of Deno.readDirSync(join(base, "wal"))) {
      if (e.isFile && e.name !== "LOCK") {
        await Deno.copyFile(join(base, "wal", e.name), join(dir, "wal", e.name));
      }
    }
    await Deno.writeFile(join(dir, "wal", "0000000000000101.wal"), torn);
    const cfg = walConfig(dir, { max_segment_size: "4KiB", snapshot_threshold: "1000GiB" });
    const server = await ServerProcess.start(cfg, { dir });
    const c = await server.connect();
    try {
      assert.equal(await countPresent(c, "k", 100, value), 100, state);
      await fill(c, "after", 20, value);
    } finally {
      c.close();
      await server.stop();
    }
    const check = await runKvdb(["wal", "check", "--dir", join(dir, "wal")]);
    assert.equal(check.code, 0, `${state}:\n${check.stdout}`);
    // The snapshot lost: the start falls back to the whole WAL, chained.
    const snap = join(dir, "wal", "snapshot-0000000000000100.snap");
    const snapBytes = await Deno.readFile(snap);
    snapBytes[snapBytes.length - 10] ^= 0xff;
    await Deno.writeFile(snap, snapBytes);
    const fallback = await ServerProcess.start(cfg, { dir, port: server.port });
    const f = await fallback.connect();
    try {
      assert.equal(await countPresent(f, "k", 100, value), 100, state);
      assert.equal(await countPresent(f, "after", 20, value), 20, state);
    } finally {
      f.close();
      await fallback.stop();
    }
    const after = await runKvdb(["wal", "check", "--dir", join(dir, "wal")]);
    assert.doesNotMatch(after.stdout, /CRC chain broken/, state);
    assert.match(after.stdout, /the server can start/, state);
  }
});

Deno.test("10: a log whose chain restarted at 0 after a covered segment (the old fault) starts; repair sets the covered part aside", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir, { max_segment_size: "4KiB", snapshot_threshold: "1000GiB" });
  const first = await ServerProcess.start(config);
  const client = await first.connect();
  await fill(client, "k", 100, value);
  assert.equal(await client.command("SAVE"), "OK");
  client.close();
  await first.stop();
  // What the old recovery made of a torn segment creation: a new segment
  // at LSN 101 seeded with CRC 0 instead of the previous record's CRC.
  const header = new Uint8Array(32);
  const view = new DataView(header.buffer);
  view.setUint32(0, 0x4c41574b, true);
  view.setUint16(4, 1, true);
  view.setUint16(6, 32, true);
  view.setUint32(8, 101, true);
  view.setUint32(28, crc32(header.subarray(0, 28)), true);
  await Deno.writeFile(join(dir, "wal", "0000000000000101.wal"), header);
  const before = segmentFiles(dir).map((s) => s.name);

  const server = await ServerProcess.start(config, { dir, port: first.port });
  const c = await server.connect();
  try {
    await fill(c, "after", 20, value);
  } finally {
    c.close();
    await server.stop();
  }
  const check = await runKvdb(["wal", "check", "--dir", join(dir, "wal")]);
  assert.equal(check.code, 1);
  assert.match(check.stdout, /DAMAGE covered: .*0000000000000101\.wal at byte offset 16/);
  assert.match(check.stdout, /damaged, but the server can start/);
  const repair = await runKvdb(["wal", "repair", "--dir", join(dir, "wal")]);
  assert.equal(repair.code, 0, repair.stdout + repair.stderr);
  assert.match(repair.stdout, /the log is clean/);
  assert.deepEqual(segmentFiles(dir).map((s) => s.name), ["0000000000000101.wal"]);
  assert.equal(before.length > 1, true);
  const again = await ServerProcess.start(config, { dir, port: first.port });
  const a = await again.connect();
  try {
    assert.equal(await countPresent(a, "k", 100, value), 100);
    assert.equal(await countPresent(a, "after", 20, value), 20);
  } finally {
    a.close();
    await again.stop();
  }
});

Deno.test("12: damage a snapshot covers costs nothing: check says the server starts, repair moves only covered segments", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir, { max_segment_size: "4KiB", snapshot_threshold: "1000GiB" });
  const first = await ServerProcess.start(config);
  const client = await first.connect();
  await fill(client, "a", 150, value);
  assert.equal(await client.command("SAVE"), "OK");
  await fill(client, "b", 100, value);
  assert.equal(await client.command("SAVE"), "OK");
  await fill(client, "c", 10, value);
  client.close();
  await first.stop();
  const snapshots = snapshotFiles(dir);
  assert.equal(snapshots.at(-1), "snapshot-0000000000000250.snap");
  const segments = segmentFiles(dir);
  const needed = segments.findLastIndex((s) => Number(s.name.slice(0, 16)) <= 251);
  assert.ok(needed >= 1, "a segment the newest snapshot covers");
  const victim = segments[0];
  const bytes = await Deno.readFile(victim.path);
  bytes[frameOffsets(bytes)[1] + 40] ^= 0x55;
  await Deno.writeFile(victim.path, bytes);

  const check = await runKvdb(["wal", "check", "--dir", join(dir, "wal")]);
  assert.equal(check.code, 1);
  assert.match(check.stdout, new RegExp(`DAMAGE covered: .*${victim.name}`));
  assert.match(check.stdout, /damaged, but the server can start/);

  const repair = await runKvdb(["wal", "repair", "--dir", join(dir, "wal")]);
  assert.equal(repair.code, 0, repair.stdout + repair.stderr);
  assert.match(repair.stdout, /cut: nothing the server needs/);
  assert.match(
    repair.stdout,
    new RegExp(`moved: 1 segment\\(s\\) the snapshot covers .*${victim.name}`),
  );
  assert.match(repair.stdout, /the log is clean/);
  assert.deepEqual(snapshotFiles(dir), snapshots, "no snapshot moved");
  assert.deepEqual(segmentFiles(dir).map((s) => s.name), segments.slice(1).map((s) => s.name));

  const server = await ServerProcess.start(config, { dir, port: first.port });
  const c = await server.connect();
  try {
    assert.equal(await countPresent(c, "a", 150, value), 150);
    assert.equal(await countPresent(c, "b", 100, value), 100);
    assert.equal(await countPresent(c, "c", 10, value), 10);
  } finally {
    c.close();
    await server.stop();
  }
});

Deno.test("12: damage before the snapshot's LSN inside the first segment a start needs does not stop it", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir, { max_segment_size: "64KiB", snapshot_threshold: "1000GiB" });
  const first = await ServerProcess.start(config);
  const client = await first.connect();
  await fill(client, "a", 100, value);
  assert.equal(await client.command("SAVE"), "OK");
  await fill(client, "b", 20, value);
  client.close();
  await first.stop();
  const [segment] = segmentFiles(dir);
  assert.equal(segmentFiles(dir).length, 1);
  const bytes = await Deno.readFile(segment.path);
  bytes[frameOffsets(bytes)[50] + 40] ^= 0x55; // record 51: the snapshot (LSN 100) covers it
  await Deno.writeFile(segment.path, bytes);

  const check = await runKvdb(["wal", "check", "--dir", join(dir, "wal")]);
  assert.equal(check.code, 1);
  assert.match(check.stdout, /DAMAGE covered: .*reads on from LSN 101/);
  assert.match(check.stdout, /damaged, but the server can start/);
  const server = await ServerProcess.start(config, { dir, port: first.port });
  const c = await server.connect();
  try {
    assert.equal(await countPresent(c, "a", 100, value), 100);
    assert.equal(await countPresent(c, "b", 20, value), 20);
    assert.equal(await c.command("SET c 1"), "OK");
  } finally {
    c.close();
    await server.stop();
  }
});

Deno.test("8: both snapshots damaged: the start names them, and check fails while the server cannot start", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir, { max_segment_size: "4KiB", snapshot_threshold: "64KiB" });
  const first = await ServerProcess.start(config);
  const client = await first.connect();
  await fill(client, "k", 200, value);
  assert.equal(await client.command("SAVE"), "OK");
  await fill(client, "j", 200, value);
  assert.equal(await client.command("SAVE"), "OK");
  client.close();
  await first.stop();
  const snapshots = snapshotFiles(dir);
  assert.equal(snapshots.length, 2);
  for (const name of snapshots) await Deno.writeFile(join(dir, "wal", name), new Uint8Array(10));

  const refused = await expectRefused(config, dir);
  for (const name of snapshots) assert.match(refused, new RegExp(name));
  assert.match(refused, /damaged snapshot/);
  assert.match(refused, /earlier segments are missing/);

  const check = await runKvdb(["wal", "check", "--dir", join(dir, "wal")]);
  assert.equal(check.code, 1, check.stdout);
  assert.match(check.stdout, /the server cannot start/);
  assert.match(check.stdout, /DAMAGE missing: .*earlier segments are missing/);
  for (const name of snapshots) assert.match(check.stdout, new RegExp(`${name}\\.damaged`));
  const repair = await runKvdb(["wal", "repair", "--dir", join(dir, "wal")]);
  assert.equal(repair.code, 1);
  assert.match(repair.stdout, /cannot repair/);
});

Deno.test("8: a leftover .snap.tmp in a read-only directory is a clear error, not a stack trace", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir);
  const first = await ServerProcess.start(config);
  const client = await first.connect();
  await fill(client, "k", 10, value);
  client.close();
  await first.stop();
  const walDir = join(dir, "wal");
  await Deno.writeFile(join(walDir, "snapshot-0000000000000010.snap.tmp"), new Uint8Array(64));
  // Read-only: no file can be created or removed in it. Root ignores the
  // mode bits, so it gets the immutable attribute as well.
  await Deno.chmod(walDir, 0o555);
  const root = await Deno.writeTextFile(join(walDir, "probe"), "").then(() => true, () => false);
  if (root) {
    await Deno.remove(join(walDir, "probe"));
    const chattr = await new Deno.Command("chattr", { args: ["+i", walDir] }).output();
    assert.ok(chattr.success, "the directory could not be made read-only");
  }
  try {
    const refused = await expectRefused(config, dir);
    assert.match(refused, /WAL directory .* is not writable/);
    assert.doesNotMatch(refused, /^\s+at /m, "no stack trace");
  } finally {
    if (root) await new Deno.Command("chattr", { args: ["-i", walDir] }).output();
    await Deno.chmod(walDir, 0o755);
  }
});

Deno.test("8: a leftover .snap.tmp that cannot be removed stops the start with a clear error", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir);
  const first = await ServerProcess.start(config);
  await first.stop();
  const leftover = join(dir, "wal", "snapshot-0000000000000010.snap.tmp");
  await Deno.writeFile(leftover, new Uint8Array(64));
  // An immutable file in a writable directory: the lock is taken, the removal fails.
  const chattr = await new Deno.Command("chattr", { args: ["+i", leftover] }).output();
  assert.ok(chattr.success, "chattr +i (this test needs root, as CI has)");
  try {
    const refused = await expectRefused(config, dir);
    assert.match(refused, /cannot remove an unfinished snapshot/);
    assert.doesNotMatch(refused, /^\s+at /m, "no stack trace");
  } finally {
    await new Deno.Command("chattr", { args: ["-i", leftover] }).output();
  }
});
