/**
 * Hashes through the WAL, snapshots and replication (issue 16 point 2): a
 * seeded sequence of hash writes (HSET, HDEL to empty, HINCRBY,
 * HINCRBYFLOAT, RENAME, COPY, MOVE, expiry, a string written over a hash,
 * transactions) and a hash of 60 000 fields (snapshots write it in chunks)
 * runs on a master with a replica, snapshots taken meanwhile; then a
 * replica that joins late (full resynchronisation from a snapshot), the
 * replica and the master restarted from SIGKILL all hold, type by type,
 * exactly what the master held.
 */

import assert from "node:assert/strict";
import { Rng } from "./_generate.ts";
import { replicatedConfigs, type RespClient } from "./_helpers.ts";
import { ReplicatedPair } from "./_replicated_pair.ts";
import { dumpDatabases } from "./_key_dump.ts";

const DATABASES = 2;
const BIG_FIELDS = 60_000;

/** Every database's keys, type by type (see tests/_key_dump.ts). */
function dump(client: RespClient): Promise<string> {
  return dumpDatabases(client, DATABASES);
}

function step(r: Rng): string[][] {
  const db = String(r.int(0, DATABASES - 1));
  const key = `h${r.int(0, 7)}`;
  const field = `f${r.int(0, 20)}`;
  switch (r.int(0, 11)) {
    case 0:
    case 1:
      return [["SELECT", db], ["HSET", key, field, `v${r.int(0, 99)}`, `g${r.int(0, 5)}`, "x"]];
    case 2:
      // Past the listpack's limits now and then.
      return [["SELECT", db], ["HSET", key, field, "z".repeat(r.int(0, 100))]];
    case 3:
      return [["SELECT", db], ["HDEL", key, field, `g${r.int(0, 5)}`]];
    case 4:
      return [["SELECT", db], ["HINCRBY", key, `n${r.int(0, 3)}`, String(r.int(-5, 5))]];
    case 5:
      return [["SELECT", db], ["HINCRBYFLOAT", key, `d${r.int(0, 3)}`, "0.1"]];
    case 6:
      return [["SELECT", db], ["RENAME", key, `h${r.int(0, 7)}`]];
    case 7:
      return [["SELECT", db], [
        "COPY",
        key,
        `h${r.int(0, 7)}`,
        "DB",
        String(r.int(0, 1)),
        "REPLACE",
      ]];
    case 8:
      return [["SELECT", db], ["MOVE", key, String(r.int(0, DATABASES - 1))]];
    case 9:
      return [["SELECT", db], ["EXPIRE", key, "1000"]];
    case 10:
      return r.int(0, 4) === 0 ? [["SELECT", db], ["SET", key, "plain"]] : [["SELECT", db], [
        "DEL",
        key,
      ]];
    default:
      return [["MULTI"], ["SELECT", db], ["HSET", key, field, "t"], ["HDEL", key, "f0"], ["EXEC"]];
  }
}

Deno.test("hashes survive snapshots, SIGKILL and replication, and a late replica resynchronises", async () => {
  const dir = await Deno.makeTempDir();
  const { master: masterConfig, replica: replicaConfig } = replicatedConfigs(dir, {
    common: {
      engine: { databases: DATABASES, partitions: 2 },
      network: { max_message_size: "4MiB" },
    },
    wal: { max_segment_size: "256KiB", snapshot_threshold: "512KiB" },
  });
  const pair = await ReplicatedPair.start(masterConfig, replicaConfig);
  const { client } = pair;
  try {
    const rng = new Rng(16);
    for (let i = 0; i < 1200; i++) {
      await client.pipeline(step(rng));
      if (i === 600) {
        // A big hash, written in batches, while the sequence goes on.
        await client.call("SELECT", "0");
        for (let at = 0; at < BIG_FIELDS; at += 5000) {
          const args = ["HSET", "big"];
          for (let f = at; f < at + 5000; f++) {
            args.push(`field:${f}`, `value:${f}:${"p".repeat(20)}`);
          }
          await client.call(...args);
        }
      }
    }
    await client.call("SELECT", "0");
    assert.equal(await client.call("HDEL", "big", "field:7", "field:70"), 2);
    assert.equal(await client.call("HLEN", "big"), BIG_FIELDS - 2);
    assert.equal(await client.call("OBJECT", "ENCODING", "big"), "hashtable");
    // A big hash copied (logged field by field, one group), renamed and moved (one record each).
    assert.equal(await client.call("COPY", "big", "bigcopy"), 1);
    assert.equal(
      (await client.call("RENAME", "bigcopy", "bigmoved") as { text: string }).text,
      "OK",
    );
    assert.equal(await client.call("MOVE", "bigmoved", "1"), 1);
    assert.equal(await client.call("HDEL", "big", "field:8"), 1);
    await pair.checkEverywhere(dump, "hash");
  } finally {
    await pair.stop();
  }
});
