/**
 * Redis 7 function libraries through the WAL, snapshots and replication
 * (issue 19 point 2): libraries loaded, replaced, deleted and flushed on a
 * master reach its replica, a late replica (from a snapshot), and survive
 * SIGKILL and restart of both — and so do the keys their functions wrote.
 * FUNCTION DUMP payloads move between kvdb and redis-server 7.0 both ways,
 * with RESTORE's FLUSH, APPEND and REPLACE. FUNCTION KILL stops a busy
 * function, and SCRIPT KILL refuses to (and the other way round), with
 * Redis's texts.
 */

import assert from "node:assert/strict";
import {
  replicatedConfigs,
  RespClient,
  RespError,
  RespStatus,
  ServerProcess,
  withServer,
} from "./_helpers.ts";
import { ReplicatedPair } from "./_replicated_pair.ts";
import { dumpDatabases } from "./_key_dump.ts";
import { RedisServer } from "./_diff_servers.ts";

/** A library whose functions write keys from their arguments, and read. */
function counterLibrary(name: string, version: number): string {
  return `#!lua name=${name}
redis.register_function('${name}_incr', function(keys, args)
  local n = redis.call('INCRBY', keys[1], ${version})
  redis.call('SET', keys[2], args[1] .. ':' .. n .. ':' .. math.random(1000))
  return n
end)
redis.register_function{function_name='${name}_get', callback=function(keys, args)
  return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='v${version}'}`;
}

/** The libraries (names, code, functions, flags) and the keys, as one comparable text. */
async function dump(client: RespClient): Promise<string> {
  const list = await client.call("FUNCTION", "LIST", "WITHCODE") as unknown[][];
  const libraries = list.map((l) => JSON.stringify(l)).sort();
  const keys = await dumpDatabases(client, 1);
  return [...libraries, keys].join("\n");
}

Deno.test("function libraries replicate, survive SIGKILL and restart, and reach a late replica", async () => {
  const dir = await Deno.makeTempDir();
  const { master, replica } = replicatedConfigs(dir, {
    common: { engine: { databases: 1, partitions: 2 } },
    wal: { max_segment_size: "64KiB", snapshot_threshold: "64KiB" },
  });
  const pair = await ReplicatedPair.start(master, replica);
  try {
    const c = pair.client;
    assert.equal(await c.call("FUNCTION", "LOAD", counterLibrary("a", 1)), "a");
    assert.equal(await c.call("FUNCTION", "LOAD", counterLibrary("b", 1)), "b");
    assert.equal(await c.call("FUNCTION", "LOAD", counterLibrary("gone", 1)), "gone");
    assert.ok(await c.call("FUNCTION", "FLUSH") instanceof RespStatus);
    assert.equal(await c.call("FUNCTION", "LOAD", counterLibrary("a", 1)), "a");
    assert.equal(await c.call("FUNCTION", "LOAD", counterLibrary("b", 1)), "b");
    assert.equal(await c.call("FUNCTION", "LOAD", counterLibrary("c", 1)), "c");
    for (let i = 0; i < 600; i++) {
      const lib = ["a", "b", "c"][i % 3];
      const replies = await c.pipeline([
        ["FCALL", `${lib}_incr`, "2", `n${i % 7}`, `s${i % 11}`, "x".repeat(300 + i % 90)],
        ["FCALL_RO", `${lib}_get`, "1", `n${i % 7}`],
      ]);
      assert.equal(typeof replies[0], "number", String(replies[0]));
      if (i === 200) {
        // After snapshots were taken: replaced (REPLACE), deleted, a new one.
        assert.equal(await c.call("FUNCTION", "LOAD", "REPLACE", counterLibrary("b", 5)), "b");
        assert.ok(await c.call("FUNCTION", "DELETE", "c") instanceof RespStatus);
        assert.equal(await c.call("FUNCTION", "LOAD", counterLibrary("c", 3)), "c");
        assert.equal(await c.call("FUNCTION", "LOAD", counterLibrary("d", 1)), "d");
        assert.ok(await c.call("FUNCTION", "DELETE", "d") instanceof RespStatus);
      }
    }
    const text = await dump(c);
    assert.match(text, /"description","v5"/);
    assert.doesNotMatch(text, /"gone"|"d"/);
    await pair.checkEverywhere(dump, "string");
    // The restarted master runs the functions it recovered.
    assert.equal(typeof await pair.client.call("FCALL", "b_incr", "2", "n0", "s0", "y"), "number");
    // A replica refuses FUNCTION LOAD as any write.
    const refused = await pair.replicaClient.call("FUNCTION", "LOAD", counterLibrary("e", 1));
    assert.ok(refused instanceof RespError && refused.text.startsWith("READONLY"), String(refused));
  } finally {
    await pair.stop();
  }
});

Deno.test("FUNCTION DUMP payloads move between kvdb and redis-server both ways; RESTORE policies", async () => {
  const redis = await RedisServer.start();
  try {
    await withServer({}, async (server) => {
      const k = await RespClient.connect(server.port);
      const r = await RespClient.connect(redis.port);
      try {
        await k.call("FUNCTION", "LOAD", counterLibrary("fromkvdb", 1));
        await r.call("FUNCTION", "LOAD", counterLibrary("fromredis", 1));
        const kvdbPayload = await k.call("FUNCTION", "DUMP") as string;
        const redisPayload = await r.call("FUNCTION", "DUMP") as string;
        assert.ok(await r.call("FUNCTION", "RESTORE", kvdbPayload) instanceof RespStatus);
        assert.ok(await k.call("FUNCTION", "RESTORE", redisPayload) instanceof RespStatus);
        for (const c of [k, r]) {
          assert.equal(await c.call("FCALL", "fromkvdb_incr", "2", "n", "s", "a"), 1);
          assert.equal(await c.call("FCALL", "fromredis_incr", "2", "n", "s", "a"), 2);
        }
        // APPEND (the default) refuses a library that exists; REPLACE takes it; FLUSH first empties.
        const appended = await k.call("FUNCTION", "RESTORE", redisPayload);
        assert.ok(appended instanceof RespError, String(appended));
        assert.equal(appended.text, "ERR Library fromredis already exists");
        assert.equal(
          (await r.call("FUNCTION", "RESTORE", redisPayload) as RespError).text,
          appended.text,
        );
        assert.ok(
          await k.call("FUNCTION", "RESTORE", redisPayload, "REPLACE") instanceof RespStatus,
        );
        assert.ok(await k.call("FUNCTION", "RESTORE", redisPayload, "FLUSH") instanceof RespStatus);
        const names = (await k.call("FUNCTION", "LIST") as unknown[][]).map((l) => l[1]);
        assert.deepEqual(names, ["fromredis"]);
        const corrupt = redisPayload.slice(0, -1) +
          String.fromCharCode(redisPayload.charCodeAt(redisPayload.length - 1) ^ 1);
        assert.equal(
          (await k.call("FUNCTION", "RESTORE", corrupt) as RespError).text,
          (await r.call("FUNCTION", "RESTORE", corrupt) as RespError).text,
        );
      } finally {
        k.close();
        r.close();
      }
    });
  } finally {
    await redis.stop();
  }
});

Deno.test("FUNCTION KILL stops a busy function; SCRIPT KILL refuses it, and FUNCTION KILL a script", async () => {
  await withServer({ scripting: { busy_reply_threshold: 100 } }, async (server) => {
    const a = await RespClient.connect(server.port);
    const b = await RespClient.connect(server.port);
    try {
      await a.call(
        "FUNCTION",
        "LOAD",
        "#!lua name=spin\nredis.register_function('spin', function() while true do end end)",
      );
      const spinning = a.call("FCALL", "spin", "0");
      await new Promise((r) => setTimeout(r, 300));
      const busy = await b.call("GET", "k") as RespError;
      assert.equal(
        busy.text,
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
      );
      assert.equal(
        (await b.call("SCRIPT", "KILL") as RespError).text,
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
      );
      const stats = await b.call("FUNCTION", "STATS") as unknown[];
      assert.equal((stats[1] as unknown[])[1], "spin", JSON.stringify(stats));
      assert.ok(await b.call("FUNCTION", "KILL") instanceof RespStatus);
      const killed = await spinning as RespError;
      assert.match(killed.text, /^ERR Script killed by user with FUNCTION KILL\.\.\./);
      assert.equal(await b.call("PING") instanceof RespStatus, true);

      const script = a.call("EVAL", "while true do end", "0");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(
        (await b.call("FUNCTION", "KILL") as RespError).text,
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
      );
      assert.ok(await b.call("SCRIPT", "KILL") instanceof RespStatus);
      assert.match((await script as RespError).text, /SCRIPT KILL/);
    } finally {
      a.close();
      b.close();
    }
  });
});

// ServerProcess is imported for its type in withServer's callback.
void ServerProcess;
