/**
 * Sets through the WAL, snapshots and replication (issue 16 point 2): a
 * seeded sequence of set writes (SADD, SREM to empty, SPOP with and
 * without a count — random, so only the logged effects can make the
 * copies agree —, SMOVE, the *STORE commands, RENAME, COPY, MOVE, expiry,
 * a string written over a set, transactions) and a set of 60 000 members
 * (snapshots write it in chunks, SPOP takes from it) runs on a master with
 * a replica, snapshots taken meanwhile; then a replica that joins late
 * (full resynchronisation from a snapshot), the replica and the master
 * restarted from SIGKILL all hold, type by type, exactly what the master
 * held.
 */

import assert from "node:assert/strict";
import { Rng } from "./_generate.ts";
import { replicatedConfigs, type RespClient } from "./_helpers.ts";
import { ReplicatedPair } from "./_replicated_pair.ts";
import { dumpDatabases } from "./_key_dump.ts";

const DATABASES = 2;
const BIG_MEMBERS = 60_000;

/** Every database's keys, type by type (see tests/_key_dump.ts). */
function dump(client: RespClient): Promise<string> {
  return dumpDatabases(client, DATABASES);
}

function step(r: Rng): string[][] {
  const db = String(r.int(0, DATABASES - 1));
  const key = `s${r.int(0, 7)}`;
  const other = `s${r.int(0, 7)}`;
  const member = () => r.pick([`m${r.int(0, 30)}`, String(r.int(-5, 40))]);
  const select = ["SELECT", db];
  switch (r.int(0, 15)) {
    case 0:
    case 1:
    case 2:
      return [select, ["SADD", key, member(), member(), member()]];
    case 3:
      return [select, ["SREM", key, member(), member()]];
    case 4:
      return [select, ["SPOP", key]];
    case 5:
      return [select, ["SPOP", key, String(r.int(1, 12))]];
    case 6:
      return [select, ["SMOVE", key, other, member()]];
    case 7:
      return [select, [
        r.pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]),
        other,
        key,
        `s${r.int(0, 7)}`,
      ]];
    case 8:
      return [select, ["RENAME", key, other]];
    case 9:
      return [select, ["COPY", key, other, "DB", String(r.int(0, 1)), "REPLACE"]];
    case 10:
      return [select, ["MOVE", key, String(r.int(0, DATABASES - 1))]];
    case 11:
      return [select, ["EXPIRE", key, "1000"]];
    case 12:
      return r.int(0, 4) === 0 ? [select, ["SET", key, "plain"]] : [select, ["DEL", key]];
    case 13:
      // Many integers: past the intset's limit now and then.
      return [select, ["SADD", key, ...Array.from({ length: 100 }, () => String(r.int(0, 2000)))]];
    default:
      return [["MULTI"], select, ["SADD", key, member()], ["SPOP", key], ["EXEC"]];
  }
}

Deno.test("sets survive snapshots, SIGKILL and replication (SPOP included), and a late replica resynchronises", async () => {
  const dir = await Deno.makeTempDir();
  const { master: masterConfig, replica: replicaConfig } = replicatedConfigs(dir, {
    common: {
      engine: { databases: DATABASES, partitions: 2 },
      network: { max_message_size: "4MiB" },
    },
    wal: {
      max_segment_size: "256KiB",
      snapshot_threshold: "512KiB",
    },
  });
  const pair = await ReplicatedPair.start(masterConfig, replicaConfig);
  const { client } = pair;
  try {
    const rng = new Rng(16);
    for (let i = 0; i < 1200; i++) {
      await client.pipeline(step(rng));
      if (i === 600) {
        // A big set, written in batches, while the sequence goes on.
        await client.call("SELECT", "0");
        for (let at = 0; at < BIG_MEMBERS; at += 5000) {
          const args = ["SADD", "big"];
          for (let m = at; m < at + 5000; m++) args.push(`member:${m}:${"p".repeat(20)}`);
          await client.call(...args);
        }
      }
    }
    await client.call("SELECT", "0");
    assert.equal(await client.call("SREM", "big", "member:7:" + "p".repeat(20)), 1);
    assert.equal((await client.call("SPOP", "big", "1000") as string[]).length, 1000);
    for (let i = 0; i < 100; i++) await client.call("SPOP", "big");
    assert.equal(await client.call("SCARD", "big"), BIG_MEMBERS - 1101);
    assert.equal(await client.call("OBJECT", "ENCODING", "big"), "hashtable");
    // A big set copied, renamed and moved: logged member by member, one group each.
    assert.equal(await client.call("COPY", "big", "bigcopy"), 1);
    assert.equal(
      (await client.call("RENAME", "bigcopy", "bigmoved") as { text: string }).text,
      "OK",
    );
    assert.equal(await client.call("MOVE", "bigmoved", "1"), 1);
    assert.equal(typeof await client.call("SPOP", "big"), "string");
    await pair.checkEverywhere(dump, "set", 20_000);
  } finally {
    await pair.stop();
  }
});
