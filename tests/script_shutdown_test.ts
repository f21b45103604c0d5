/**
 * A script past busy-reply-threshold and the log (issue 19 point 3): the
 * server stops at once on SHUTDOWN NOSAVE (or SIGTERM) while a script is
 * busy, as Redis does, keeping every acknowledged write and none of the
 * script's unacknowledged ones (its records are one all-or-nothing group);
 * a busy script that writes, yields to the event loop and writes again
 * succeeds, and a SIGKILL in between keeps none of its writes.
 */

import assert from "node:assert/strict";
import {
  delay,
  RespClient,
  RespError,
  type RespStatus,
  ServerProcess,
  walConfig,
} from "./_helpers.ts";
import { Wal } from "../src/wal/wal.ts";
import { WalOp, type WalRecord } from "../src/wal/record.ts";
import { walOptions } from "../src/wal/_test_util.ts";

const THRESHOLD_MS = "200";
const PAST_THRESHOLD_MS = 600;
/** SHUTDOWN NOSAVE during a busy script: Redis exits at once; kvdb's grace was 10 s. */
const PROMPT_EXIT_MS = 2_000;
/** Writes, then loops forever (only SHUTDOWN NOSAVE or a signal stops it). */
const WRITE_THEN_LOOP = "redis.call('SET', 'partial', '1') while true do end";
/** Writes, runs past the threshold (yielding), writes again. */
const WRITE_WAIT_WRITE = "redis.call('SET', 'first', '1') local t0 = redis.call('TIME')[1] " +
  "while redis.call('TIME')[1] - t0 < 2 do end redis.call('SET', 'second', '2') return 'done'";

async function withWalDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-script-shutdown-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Starts kvdb with its WAL in `dir`, acknowledges a few writes, starts `script` on its own connection. */
async function startBusy(
  dir: string,
  script: string,
): Promise<{ server: ServerProcess; other: RespClient; running: Promise<unknown> }> {
  const server = await ServerProcess.start(walConfig(dir), { dir });
  const other = await RespClient.connect(server.port);
  const runner = await RespClient.connect(server.port);
  for (let i = 0; i < 20; i++) {
    assert.equal((await other.call("SET", `acked${i}`, String(i)) as RespStatus).text, "OK");
  }
  await other.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD_MS);
  const running = runner.call("EVAL", script, "0").catch((e) => e).finally(() => runner.close());
  await delay(PAST_THRESHOLD_MS);
  const busy = await other.call("GET", "acked0");
  assert.ok(busy instanceof RespError && busy.text.startsWith("BUSY"), String(busy));
  return { server, other, running };
}

/** Restarts on `dir` and checks the acknowledged writes are there and `absent` keys are not. */
async function checkRestart(dir: string, absent: string[]): Promise<void> {
  const server = await ServerProcess.start(walConfig(dir), { dir });
  const client = await RespClient.connect(server.port);
  try {
    for (let i = 0; i < 20; i++) assert.equal(await client.call("GET", `acked${i}`), String(i));
    for (const key of absent) assert.equal(await client.call("GET", key), null, key);
  } finally {
    client.close();
    await server.stop("SIGKILL");
  }
}

Deno.test("SHUTDOWN NOSAVE during a busy script that wrote exits at once, losing no acknowledged write", async () => {
  await withWalDir(async (dir) => {
    const { server, other, running } = await startBusy(dir, WRITE_THEN_LOOP);
    try {
      // As Redis: a SHUTDOWN that would save is refused while busy.
      const saving = await other.call("SHUTDOWN");
      assert.ok(saving instanceof RespError && saving.text.startsWith("BUSY"), String(saving));
      const startMs = performance.now();
      await other.call("SHUTDOWN", "NOSAVE").catch(() => undefined);
      const exit = await server.status;
      const tookMs = performance.now() - startMs;
      assert.equal(exit.success, true, `exit code ${exit.code}`);
      assert.ok(tookMs < PROMPT_EXIT_MS, `the server took ${Math.round(tookMs)} ms to exit`);
      // The script's client got no reply: its connection closed.
      assert.ok(!(typeof (await running) === "string"), "the abandoned script replied");
      assert.ok(
        server.logs.some((l) => l.includes("shutdown stopped a running script")),
        server.logs.join("\n"),
      );
    } finally {
      other.close();
      await server.stop("SIGKILL");
    }
    await checkRestart(dir, ["partial"]);
  });
});

Deno.test("SIGTERM during a busy script exits at once too", async () => {
  await withWalDir(async (dir) => {
    const { server, other, running } = await startBusy(dir, WRITE_THEN_LOOP);
    try {
      const startMs = performance.now();
      const code = await server.stop("SIGTERM");
      const tookMs = performance.now() - startMs;
      assert.equal(code, 0);
      assert.ok(tookMs < PROMPT_EXIT_MS, `the server took ${Math.round(tookMs)} ms to exit`);
      await running;
    } finally {
      other.close();
    }
    await checkRestart(dir, ["partial"]);
  });
});

Deno.test("a busy script writes, yields to the event loop and writes again, with the WAL", async () => {
  await withWalDir(async (dir) => {
    const { server, other, running } = await startBusy(dir, WRITE_WAIT_WRITE);
    try {
      assert.equal(await running, "done");
      assert.deepEqual(await other.call("MGET", "first", "second"), ["1", "2"]);
    } finally {
      other.close();
      await server.stop("SIGKILL");
    }
    const again = await ServerProcess.start(walConfig(dir), { dir });
    const client = await RespClient.connect(again.port);
    try {
      assert.deepEqual(await client.call("MGET", "first", "second"), ["1", "2"]);
    } finally {
      client.close();
      await again.stop("SIGKILL");
    }
  });
});

Deno.test("SIGKILL during a busy script that wrote keeps none of its writes", async () => {
  await withWalDir(async (dir) => {
    const { server, other, running } = await startBusy(dir, WRITE_WAIT_WRITE);
    try {
      // The script has written 'first' and yielded many times since.
      await server.stop("SIGKILL");
      await running;
    } finally {
      other.close();
    }
    await checkRestart(dir, ["first", "second"]);
  });
});

Deno.test("WAL: a group held open across turns lets earlier records out, and none of its own", async () => {
  await withWalDir(async (dir) => {
    const wal = await Wal.open(walOptions(dir), () => {});
    wal.append(WalOp.Set, 0, "before", "1", 0); // another client's write, same batch
    wal.beginGroup();
    wal.append(WalOp.Set, 0, "in-group", "1", 0);
    // Turns pass (a busy script yields): what came before the group becomes
    // durable and its waiters are answered; the group's record is not written.
    await wal.commit();
    await delay(50);
    assert.equal(wal.durableLsn, 1);
    wal.append(WalOp.Set, 0, "in-group-2", "1", 0);
    await delay(50);
    assert.equal(wal.durableLsn, 1);
    wal.endGroup();
    await wal.commit();
    assert.equal(wal.durableLsn, 3);
    // Abandoned (SHUTDOWN mid-script): the group is torn, recovery drops it.
    wal.beginGroup();
    wal.append(WalOp.Set, 0, "abandoned", "1", 0);
    wal.abandonGroup();
    assert.throws(() => wal.append(WalOp.Set, 0, "after", "1", 0));
    await wal.close();
    const replayed: WalRecord[] = [];
    const again = await Wal.open(walOptions(dir), (r) => replayed.push({ ...r }));
    await again.close();
    assert.deepEqual(replayed.map((r) => r.key), ["before", "in-group", "in-group-2"]);
  });
});
