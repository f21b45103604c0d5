/**
 * Databases through restarts, snapshots and replication (issue 14 point 2):
 * a seeded sequence of SELECT, SET, MOVE, SWAPDB, FLUSHDB and MULTI/EXEC
 * runs on a master with a replica, snapshots taken meanwhile; then the
 * replica and the master restarted from SIGKILL hold, database by
 * database, exactly what the master held.
 */

import assert from "node:assert/strict";
import { converges, replicatedConfigs, RespClient, ServerProcess } from "./_helpers.ts";
import { Rng } from "./_generate.ts";

const DATABASES = 4;

/** Every database's keys, values and whether each has a time to live. */
async function dump(client: RespClient): Promise<string> {
  const out: string[] = [];
  for (let db = 0; db < DATABASES; db++) {
    await client.call("SELECT", String(db));
    const keys = (await client.call("KEYS", "*") as string[]).sort();
    for (const key of keys) {
      const [value, ttl] = await client.pipeline([["GET", key], ["PTTL", key]]);
      out.push(`${db} ${JSON.stringify(key)} ${JSON.stringify(value)} ${(ttl as number) > 0}`);
    }
  }
  return out.join("\n");
}

function step(r: Rng): string[][] {
  const db = String(r.int(0, DATABASES - 1));
  const key = `k${r.int(0, 9)}`;
  switch (r.int(0, 7)) {
    case 0:
      return [["SELECT", db], ["SET", key, `v${r.int(0, 99)}`]];
    case 1:
      return [["SELECT", db], ["SET", key, "x".repeat(r.int(0, 9000)), "EX", "1000"]];
    case 2:
      return [["SELECT", db], ["MOVE", key, String(r.int(0, DATABASES - 1))]];
    case 3:
      return [["SWAPDB", db, String(r.int(0, DATABASES - 1))]];
    case 4:
      return r.int(0, 9) === 0 ? [["SELECT", db], ["FLUSHDB"]] : [["SELECT", db], ["DEL", key]];
    case 5:
      return [["SELECT", db], ["APPEND", key, "+"]];
    case 6:
      return [["MULTI"], ["SELECT", db], ["SET", key, "t"], ["SELECT", "0"], ["INCR", "n"], [
        "EXEC",
      ]];
    default:
      return [["SELECT", db], ["SETBIT", key, String(r.int(0, 100)), "1"]];
  }
}

Deno.test("databases stay apart through snapshots, SIGKILL and replication", async () => {
  const dir = await Deno.makeTempDir();
  const { master: masterConfig, replica: replicaConfig } = replicatedConfigs(dir, {
    common: {
      engine: { databases: DATABASES, partitions: 2 },
      network: { max_message_size: "1MiB" },
    },
    wal: { max_segment_size: "64KiB", snapshot_threshold: "128KiB" },
  });
  let master = await ServerProcess.start(masterConfig);
  const replica = await ServerProcess.start(replicaConfig("replica", master.port));
  let client = await RespClient.connect(master.port);
  const replicaClient = await RespClient.connect(replica.port);
  try {
    const rng = new Rng(5);
    for (let i = 0; i < 1500; i++) await client.pipeline(step(rng));
    const expected = await dump(client);
    assert.ok(expected.split("\n").length > 10, "enough keys to compare");
    await converges(
      () => dump(replicaClient),
      expected,
      "the replica holds every database as the master does",
    );
    client.close();
    await master.stop("SIGKILL");
    master = await ServerProcess.start(masterConfig, { dir: master.dir, port: master.port });
    client = await RespClient.connect(master.port);
    assert.equal(await dump(client), expected, "the restarted master holds every database");
  } finally {
    client.close();
    replicaClient.close();
    await replica.stop("SIGKILL");
    await master.stop("SIGKILL");
  }
});
