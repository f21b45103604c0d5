/**
 * Sorted sets through the WAL, snapshots and replication (issue 16 point
 * 2): a seeded sequence of sorted-set writes (ZADD with options, ZINCRBY by
 * fractions — the log holds the resulting score —, ZREM to empty, pops,
 * ZMPOP, the ZREMRANGEBY*s, ZRANGESTORE and the STORE algebra, RENAME,
 * COPY, MOVE, expiry, a string written over a sorted set, transactions)
 * and a sorted set of 60 000 members (snapshots write it in chunks) runs
 * on a master with a replica, snapshots taken meanwhile; then a replica
 * that joins late (full resynchronisation from a snapshot), the replica and
 * the master restarted from SIGKILL all hold, type by type, exactly what
 * the master held (members in order with their scores, as replied).
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

const SCORES = ["0", "1", "-2.5", "0.1", "1e10", "-inf", "inf", "3.333333333333333"];

function step(r: Rng): string[][] {
  const db = String(r.int(0, DATABASES - 1));
  const key = `z${r.int(0, 7)}`;
  const other = `z${r.int(0, 7)}`;
  const member = `m${r.int(0, 20)}`;
  const on = (...command: string[]) => [["SELECT", db], command];
  switch (r.int(0, 15)) {
    case 0:
    case 1:
      return on("ZADD", key, r.pick(SCORES), member, r.pick(SCORES), `n${r.int(0, 5)}`);
    case 2:
      // Past the listpack's limits now and then.
      return on("ZADD", key, r.pick(SCORES), "w".repeat(r.int(0, 100)));
    case 3:
      return on("ZADD", key, r.pick(["NX", "XX", "GT", "LT"]), "CH", r.pick(SCORES), member);
    case 4:
      return on("ZINCRBY", key, r.pick(["0.1", "-0.7", "3"]), member);
    case 5:
      return on("ZREM", key, member, `n${r.int(0, 5)}`);
    case 6:
      return on(r.pick(["ZPOPMIN", "ZPOPMAX"]), key, String(r.int(1, 3)));
    case 7:
      return on("ZMPOP", "2", key, other, r.pick(["MIN", "MAX"]), "COUNT", "2");
    case 8:
      return on(
        ...r.pick([
          ["ZREMRANGEBYSCORE", key, "(0", "1"],
          ["ZREMRANGEBYRANK", key, "0", "1"],
          ["ZREMRANGEBYLEX", key, "[m1", "(m3"],
        ]),
      );
    case 9:
      return on("ZRANGESTORE", other, key, "0", String(r.int(-3, 5)));
    case 10:
      return on(
        r.pick(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]),
        other,
        "2",
        key,
        `z${r.int(0, 7)}`,
      );
    case 11:
      return on("RENAME", key, other);
    case 12:
      return on("COPY", key, other, "DB", String(r.int(0, 1)), "REPLACE");
    case 13:
      return r.int(0, 1) === 0
        ? on("MOVE", key, String(r.int(0, DATABASES - 1)))
        : on("EXPIRE", key, "1000");
    case 14:
      return r.int(0, 4) === 0 ? on("SET", key, "plain") : on("DEL", key);
    default:
      return [["MULTI"], ["SELECT", db], ["ZADD", key, "5", member], ["ZPOPMIN", key], ["EXEC"]];
  }
}

Deno.test("sorted sets survive snapshots, SIGKILL and replication, and a late replica resynchronises", async () => {
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
        // A big sorted set, written in batches, while the sequence goes on.
        await client.call("SELECT", "0");
        for (let at = 0; at < BIG_MEMBERS; at += 5000) {
          const args = ["ZADD", "big"];
          for (let m = at; m < at + 5000; m++) args.push(String(m % 977 / 7), `member:${m}`);
          await client.call(...args);
        }
      }
    }
    await client.call("SELECT", "0");
    assert.equal(await client.call("ZREM", "big", "member:7", "member:70"), 2);
    assert.equal(await client.call("ZCARD", "big"), BIG_MEMBERS - 2);
    assert.equal(await client.call("OBJECT", "ENCODING", "big"), "skiplist");
    // ZINCRBY logs the resulting score: 9/7 + 0.1, as replied, after every restart below.
    const incremented = await client.call("ZINCRBY", "big", "0.1", "member:9");
    assert.equal(incremented, "1.3857142857142859");
    // A big sorted set copied, renamed and moved: logged member by member, one group each.
    assert.equal(await client.call("COPY", "big", "bigcopy"), 1);
    assert.equal(
      (await client.call("RENAME", "bigcopy", "bigmoved") as { text: string }).text,
      "OK",
    );
    assert.equal(await client.call("MOVE", "bigmoved", "1"), 1);
    assert.equal(
      await client.call("ZPOPMIN", "big", "100").then((r) => (r as string[]).length),
      200,
    );
    await pair.checkEverywhere(dump, "zset", 20_000);
  } finally {
    await pair.stop();
  }
});
