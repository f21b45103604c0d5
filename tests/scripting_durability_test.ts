/**
 * Lua scripts through the WAL, snapshots and replication (issue 19 point
 * 3): scripts whose writes depend on math.random, the clock (TIME) and
 * what they read run on a master with a replica; the log holds their
 * commands' effects, so the replica, a late replica (from a snapshot), and
 * the replica and master restarted after SIGKILL hold exactly what the
 * master held. And a script's memory is bounded: one that allocates past
 * the limit fails, and the server goes on serving scripts.
 */

import assert from "node:assert/strict";
import { Rng } from "./_generate.ts";
import { replicatedConfigs, RespClient, RespError, withServer } from "./_helpers.ts";
import { ReplicatedPair } from "./_replicated_pair.ts";
import { dumpDatabases } from "./_key_dump.ts";

const DATABASES = 2;

function dump(client: RespClient): Promise<string> {
  return dumpDatabases(client, DATABASES);
}

/** Writes that differ on every run: random numbers, the clock, a counter read back. */
const NONDETERMINISTIC = `
local n = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
redis.call('HSET', KEYS[2], 'f' .. (n % 13), t[1] .. '.' .. t[2] .. ':' .. math.random(1000000))
redis.call('RPUSH', KEYS[3], ARGV[1] .. ':' .. math.random())
if n % 5 == 0 then redis.call('LPOP', KEYS[3]) end
redis.call('SELECT', ARGV[2])
redis.call('SADD', 'set' .. (n % 3), string.rep('m', n % 50) .. n)
return n`;

/** A write, then a failing command: the write stays (a script is not rolled back). */
const HALF_FAILING = `
redis.call('SET', KEYS[1], ARGV[1])
return redis.call('INCR', KEYS[1])`;

Deno.test("a script's effects replicate, survive SIGKILL and restart, and reach a late replica", async () => {
  const dir = await Deno.makeTempDir();
  const { master: masterConfig, replica: replicaConfig } = replicatedConfigs(dir, {
    common: { engine: { databases: DATABASES, partitions: 2 } },
    wal: { max_segment_size: "64KiB", snapshot_threshold: "128KiB" },
  });
  const pair = await ReplicatedPair.start(masterConfig, replicaConfig);
  const { client } = pair;
  try {
    const sha = await client.call("SCRIPT", "LOAD", NONDETERMINISTIC) as string;
    const rng = new Rng(19);
    for (let i = 0; i < 1500; i++) {
      const k = rng.int(0, 5);
      const replies = await client.pipeline([
        ["EVALSHA", sha, "3", `n${k}`, `h${k}`, `l${k}`, "x".repeat(rng.int(0, 60)), String(k % 2)],
        ["EVAL", HALF_FAILING, "1", `s${k}`, `v${i}`],
      ]);
      assert.equal(typeof replies[0], "number", String(replies[0]));
      assert.ok(replies[1] instanceof RespError, String(replies[1]));
    }
    await client.call("SELECT", "0");
    await pair.checkEverywhere(dump, "hash");
  } finally {
    await pair.stop();
  }
});

Deno.test("a script's memory is bounded: past the limit it fails and the server serves on", async () => {
  await withServer({}, async (server) => {
    const client = await RespClient.connect(server.port);
    const huge = await client.call("EVAL", "return #string.rep('x', 1024 * 1024 * 1024)", "0");
    assert.ok(huge instanceof RespError, String(huge));
    assert.match(huge.text, /not enough memory/);
    const table = await client.call(
      "EVAL",
      "local t = {} for i = 1, 1e6 do t[i] = string.rep('x', 100000) .. i end return #t",
      "0",
    );
    assert.ok(table instanceof RespError, String(table));
    assert.match(table.text, /not enough memory/);
    assert.equal(await client.call("EVAL", "return redis.call('SET', 'k', 'v').ok", "0"), "OK");
    assert.equal(await client.call("GET", "k"), "v");
    client.close();
  });
});
