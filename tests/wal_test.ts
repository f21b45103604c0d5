/**
 * Durability through the real server: acknowledged writes survive SIGKILL,
 * torn tails are cut, damage stops the start until `kvdb wal repair`,
 * segments order by LSN across many restarts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { delay, runKvdb, ServerProcess, setUntilGone, TcpClient, walConfig } from "./_helpers.ts";

async function segments(dir: string): Promise<{ name: string; size: number }[]> {
  const out: { name: string; size: number }[] = [];
  for await (const entry of Deno.readDir(join(dir, "wal"))) {
    if (entry.name.endsWith(".wal")) {
      out.push({ name: entry.name, size: (await Deno.stat(join(dir, "wal", entry.name))).size });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

Deno.test("crash: every acknowledged write survives SIGKILL, over several crashes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-crash-" });
  const acked = new Map<string, string>();
  let port: number | undefined;
  for (let round = 0; round < 4; round++) {
    const server = await ServerProcess.start(walConfig(dir), { dir, port });
    port = server.port;
    // What earlier rounds acknowledged is all there.
    const checker = await server.connect();
    for (const [key, value] of acked) assert.equal(await checker.command(`GET ${key}`), value);
    checker.close();

    let stop = false;
    const writers = Array.from({ length: 20 }, (_, c) =>
      setUntilGone(
        server.port,
        (n) => [`r${round}:c${c}:${n}`, `v${n}-${"x".repeat(n % 50)}`],
        acked,
        () => stop,
      ));
    await delay(200 + Math.random() * 600);
    server.child.kill("SIGKILL");
    await server.status;
    stop = true;
    await Promise.all(writers);
    await server.stop().catch(() => {});
  }
  assert.ok(acked.size > 200, `only ${acked.size} writes acknowledged`);
  const server = await ServerProcess.start(walConfig(dir), { dir, port });
  const client = await server.connect();
  try {
    let batch = "";
    const keys = [...acked.keys()];
    for (const key of keys) batch += `GET ${key}\n`;
    await client.send(batch);
    const replies = await client.readLines(keys.length);
    keys.forEach((key, i) => assert.equal(replies[i], acked.get(key), key));
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("SIGTERM answers and flushes pending writes; binary values survive restart", async () => {
  const dir = await Deno.makeTempDir();
  const first = await ServerProcess.start(walConfig(dir));
  const client = await first.connect();
  assert.equal(await client.command('SET bin "\\x00\\xff\\n\\r\\x80 end"'), "OK");
  assert.equal(await client.command("SET gone x"), "OK");
  assert.equal(await client.command("DEL gone"), "OK");
  let batch = "";
  for (let i = 0; i < 300; i++) batch += `SET p${i} ${i}\n`;
  await client.send(batch);
  const exited = first.stop("SIGTERM");
  const replies: string[] = [];
  for (let l = await client.readLine(); l !== null; l = await client.readLine()) replies.push(l);
  assert.equal(await exited, 0);
  client.close();

  const second = await ServerProcess.start(walConfig(dir), { dir, port: first.port });
  const check = await second.connect();
  try {
    assert.equal(await check.command("GET bin"), '"\\x00\\xff\\n\\r\\x80 end"');
    assert.equal(await check.command("GET gone"), "ERROR: key not found");
    for (let i = 0; i < replies.length; i++) assert.equal(await check.command(`GET p${i}`), `${i}`);
  } finally {
    check.close();
    await second.stop();
  }
});

Deno.test("a lone client waits one fsync, not flushing_batch_timeout", async () => {
  const dir = await Deno.makeTempDir();
  const server = await ServerProcess.start(
    walConfig(dir, { flushing_batch_timeout: "5s", flushing_batch_size: 100 }),
  );
  const client = await server.connect();
  try {
    const started = performance.now();
    for (let i = 0; i < 5; i++) assert.equal(await client.command(`SET k${i} v`), "OK");
    assert.ok(performance.now() - started < 2500, "five lone writes did not wait for the timeout");
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("torn tail: garbage or a half record at the end is cut with a warning", async () => {
  for (const damage of ["garbage", "cut"] as const) {
    const dir = await Deno.makeTempDir();
    const first = await ServerProcess.start(walConfig(dir));
    const client = await first.connect();
    for (let i = 0; i < 50; i++) assert.equal(await client.command(`SET k${i} value${i}`), "OK");
    client.close();
    await first.stop();
    const [last] = (await segments(dir)).slice(-1);
    const path = join(dir, "wal", last.name);
    if (damage === "garbage") {
      await Deno.writeFile(path, crypto.getRandomValues(new Uint8Array(37)), { append: true });
    } else {
      await Deno.truncate(path, last.size - 5);
    }
    const second = await ServerProcess.start(walConfig(dir), { dir, port: first.port });
    const check = await second.connect();
    try {
      const keep = damage === "garbage" ? 50 : 49;
      for (let i = 0; i < keep; i++) assert.equal(await check.command(`GET k${i}`), `value${i}`);
      assert.ok(second.logs.some((l) => /WARN .*torn/i.test(l)), second.logs.join("\n"));
      // The log goes on after the cut.
      assert.equal(await check.command("SET after cut"), "OK");
    } finally {
      check.close();
      await second.stop();
    }
    const third = await ServerProcess.start(walConfig(dir), { dir, port: first.port });
    const again = await third.connect();
    assert.equal(await again.command("GET after"), "cut");
    again.close();
    await third.stop();
  }
});

Deno.test("damage in the middle stops the start; wal check reports it; wal repair fixes it", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir, { max_segment_size: "4KiB" });
  const first = await ServerProcess.start(config);
  const client = await first.connect();
  for (let i = 0; i < 200; i++) {
    assert.equal(await client.command(`SET key${i} ${"v".repeat(40)}`), "OK");
  }
  client.close();
  await first.stop();
  const all = await segments(dir);
  assert.ok(all.length >= 3);
  const victim = join(dir, "wal", all[0].name);
  const bytes = await Deno.readFile(victim);
  const offset = 200;
  bytes[offset] ^= 0x55;
  await Deno.writeFile(victim, bytes);

  const failed = await ServerProcess.start(config, { dir, port: first.port }).then(
    () => assert.fail("started on a damaged log"),
    (e: Error) => e.message,
  );
  assert.match(failed, new RegExp(all[0].name));
  assert.match(failed, /offset/);
  assert.match(failed, /kvdb wal repair/);

  const walDir = join(dir, "wal");
  const check = await runKvdb(["wal", "check", "--dir", walDir]);
  assert.equal(check.code, 1);
  assert.match(check.stdout + check.stderr, new RegExp(all[0].name));

  const repair = await runKvdb(["wal", "repair", "--dir", walDir]);
  assert.equal(repair.code, 0, repair.stdout + repair.stderr);
  assert.match(repair.stdout + repair.stderr, /backup/i);
  assert.equal((await runKvdb(["wal", "check", "--dir", walDir])).code, 0);

  const repaired = await ServerProcess.start(config, { dir, port: first.port });
  const after = await repaired.connect();
  try {
    assert.equal(await after.command("GET key0"), "v".repeat(40));
    assert.equal(await after.command("SET new 1"), "OK");
  } finally {
    after.close();
    await repaired.stop();
  }
});

Deno.test("more than 10 segments over more than 10 restarts: the last write wins", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir, { max_segment_size: "4KiB" });
  let port: number | undefined;
  for (let restart = 0; restart < 12; restart++) {
    const server = await ServerProcess.start(config, { dir, port });
    port = server.port;
    const client = await server.connect();
    if (restart > 0) assert.equal(await client.command("GET k"), `value-${restart - 1}`);
    let batch = "";
    for (let i = 0; i < 30; i++) batch += `SET filler${i} ${"f".repeat(100)}\n`;
    await client.send(batch);
    await client.readLines(30);
    assert.equal(await client.command(`SET k value-${restart}`), "OK");
    client.close();
    await server.stop(restart % 2 === 0 ? "SIGKILL" : "SIGTERM");
  }
  const all = await segments(dir);
  assert.ok(all.length > 10, `${all.length} segments`);
  for (const s of all) assert.ok(s.size <= 4096, `${s.name} is ${s.size} bytes`);
  const server = await ServerProcess.start(config, { dir, port });
  const client = await server.connect();
  assert.equal(await client.command("GET k"), "value-11");
  client.close();
  await server.stop();
});

Deno.test("one process per data directory", async () => {
  const dir = await Deno.makeTempDir();
  const server = await ServerProcess.start(walConfig(dir));
  try {
    const second = await ServerProcess.start(walConfig(dir), { dir }).then(
      () => "started",
      (e: Error) => e.message,
    );
    assert.match(second, /in use by another kvdb process/);
    const cli = await runKvdb(["cli", "--config", server.configPath], { stdin: "GET a\n" });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /in use by another kvdb process/);
  } finally {
    await server.stop();
  }
});

Deno.test("cli: local sessions are durable through the same WAL", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "config.yaml");
  await Deno.writeTextFile(path, `wal:\n  enabled: true\n  data_directory: ${join(dir, "wal")}\n`);
  const first = await runKvdb(["cli", "--config", path], { stdin: "SET a 1\nSET b 2\nDEL b\n" });
  assert.equal(first.stdout, "OK\nOK\nOK\n");
  const second = await runKvdb(["cli", "--config", path], { stdin: "GET a\nGET b\n" });
  assert.equal(second.stdout, "1\nERROR: key not found\n");
  // A server on the same directory sees the cli's writes.
  const server = await ServerProcess.start({
    wal: { enabled: true, data_directory: join(dir, "wal") },
  });
  const client: TcpClient = await server.connect();
  assert.equal(await client.command("GET a"), "1");
  client.close();
  await server.stop();
});

Deno.test("a failed WAL refuses writes until restart, and reads go on", async () => {
  const dir = await Deno.makeTempDir();
  const server = await ServerProcess.start(walConfig(dir, { max_segment_size: "4KiB" }));
  const client = await server.connect();
  try {
    assert.equal(await client.command("SET kept 1"), "OK");
    // Squat on the names of the next segments: the rotation that needs one
    // fails for real (the WAL creates segments exclusively).
    for (let lsn = 2; lsn < 400; lsn++) {
      await Deno.writeFile(
        join(dir, "wal", `${String(lsn).padStart(16, "0")}.wal`),
        new Uint8Array(1),
      );
    }
    let failed = "";
    for (let i = 0; i < 300 && !failed; i++) {
      const reply = await client.command(`SET k${i} ${"v".repeat(100)}`);
      if (reply !== "OK") failed = reply;
    }
    assert.match(failed, /^ERROR: write failed, not durable/);
    assert.match(await client.command("SET after failure"), /^ERROR: write failed/);
    assert.equal(await client.command("GET kept"), "1");
    assert.equal(await client.command("PING"), "PONG");
    assert.equal(await client.command("GET after"), "ERROR: key not found");
    assert.ok(server.logs.some((l) => l.includes("WAL WRITE FAILED")), server.logs.join("\n"));
  } finally {
    client.close();
    await server.stop("SIGKILL");
  }
});

Deno.test("a log that lost its first segment refuses to start", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir, { max_segment_size: "4KiB" });
  const first = await ServerProcess.start(config);
  const client = await first.connect();
  for (let i = 0; i < 100; i++) {
    assert.equal(await client.command(`SET k${i} ${"v".repeat(60)}`), "OK");
  }
  client.close();
  await first.stop();
  const all = await segments(dir);
  assert.ok(all.length >= 2);
  await Deno.remove(join(dir, "wal", all[0].name));
  const failed = await ServerProcess.start(config, { dir, port: first.port }).then(
    () => assert.fail("started without the log's first segment"),
    (e: Error) => e.message,
  );
  assert.match(failed, /earlier segments are missing/);
});
