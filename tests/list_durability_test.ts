/**
 * Lists through the WAL, snapshots and replication (issue 16 point 2): a
 * seeded sequence of list writes (pushes, pops with counts, LSET, LINSERT,
 * LREM, LTRIM, LMOVE and RPOPLPUSH between keys and databases' lists,
 * LMPOP, RENAME, COPY, MOVE, expiry, a string over a list, transactions)
 * and a big list (snapshots write it in chunks) that keeps changing while
 * snapshots are written, on a master with a replica; then a replica that
 * joins late (full resynchronisation from a snapshot), the replica and the
 * master restarted from SIGKILL all hold exactly what the master held.
 * List records are not idempotent: a record replayed over a snapshot image
 * that already holds it would push twice — what snapshots being the state
 * at their LSN exactly prevents.
 */

import assert from "node:assert/strict";
import { Rng } from "./_generate.ts";
import { replicatedConfigs, RespClient } from "./_helpers.ts";
import { ReplicatedPair } from "./_replicated_pair.ts";
import { dumpDatabases } from "./_key_dump.ts";

const DATABASES = 2;
const BIG_ELEMENTS = 60_000;

/** Every database's keys, type by type (see tests/_key_dump.ts). */
function dump(client: RespClient): Promise<string> {
  return dumpDatabases(client, DATABASES);
}

function step(r: Rng): string[][] {
  const db = String(r.int(0, DATABASES - 1));
  const key = `l${r.int(0, 7)}`;
  const other = `l${r.int(0, 7)}`;
  const element = `v${r.int(0, 30)}`;
  const side = () => r.pick(["LEFT", "RIGHT"]);
  switch (r.int(0, 15)) {
    case 0:
    case 1:
      return [["SELECT", db], ["RPUSH", key, element, `w${r.int(0, 5)}`, "x"]];
    case 2:
      return [["SELECT", db], ["LPUSH", key, element, "z".repeat(r.int(0, 300))]];
    case 3:
      return [["SELECT", db], [r.pick(["LPOP", "RPOP"]), key, String(r.int(1, 3))]];
    case 4:
      return [["SELECT", db], ["LSET", key, String(r.int(-3, 3)), element]];
    case 5:
      return [["SELECT", db], ["LINSERT", key, r.pick(["BEFORE", "AFTER"]), "x", element]];
    case 6:
      return [["SELECT", db], ["LREM", key, String(r.int(-2, 2)), "x"]];
    case 7:
      return [["SELECT", db], ["LTRIM", key, String(r.int(0, 2)), String(r.int(-3, 10))]];
    case 8:
      return [["SELECT", db], ["LMOVE", key, other, side(), side()]];
    case 9:
      return [["SELECT", db], ["RPOPLPUSH", key, other]];
    case 10:
      return [["SELECT", db], ["LMPOP", "2", key, other, side(), "COUNT", "2"]];
    case 11:
      return [["SELECT", db], ["RENAME", key, other]];
    case 12:
      return [["SELECT", db], ["COPY", key, other, "DB", String(r.int(0, 1)), "REPLACE"]];
    case 13:
      return [["SELECT", db], r.int(0, 1) === 0 ? ["MOVE", key, "1"] : ["EXPIRE", key, "1000"]];
    case 14:
      return r.int(0, 4) === 0 ? [["SELECT", db], ["SET", key, "plain"]] : [["SELECT", db], [
        "DEL",
        key,
      ]];
    default:
      return [["MULTI"], ["SELECT", db], ["RPUSH", key, "t"], ["LPOP", other], ["EXEC"]];
  }
}

Deno.test("lists survive snapshots taken while they change, SIGKILL and replication, and a late replica resynchronises", async () => {
  const dir = await Deno.makeTempDir();
  const { master: masterConfig, replica: replicaConfig } = replicatedConfigs(dir, {
    common: {
      engine: { databases: DATABASES, partitions: 2 },
      network: { max_message_size: "4MiB" },
    },
    wal: {
      max_segment_size: "256KiB",
      // Only BGSAVE snapshots, all taken while the big list changes: the
      // restart and the late replica start from one of those.
      snapshot_threshold: "1GiB",
    },
  });
  const pair = await ReplicatedPair.start(masterConfig, replicaConfig);
  const { client, master } = pair;
  const bigClient = await RespClient.connect(pair.master.port);
  try {
    // A big list, in batches.
    for (let at = 0; at < BIG_ELEMENTS; at += 5000) {
      const args = ["RPUSH", "big"];
      for (let i = at; i < at + 5000; i++) args.push(`element:${i}:${"p".repeat(20)}`);
      await bigClient.call(...args);
    }
    // The big list changes at both ends and in the middle while snapshots are written.
    let writing = true;
    let bigWrites = 0;
    const bigWriter = (async () => {
      for (let i = 0; writing; i++) {
        await bigClient.pipeline([
          ["LPUSH", "big", `head${i}`],
          ["RPOP", "big"],
          ["RPUSH", "big", `tail${i}`, `tail${i}b`],
          ["LPOP", "big", "2"],
          ["LSET", "big", String(i % 1000), `set${i}`],
          ["LINSERT", "big", "AFTER", `set${i}`, `ins${i}`],
        ]);
        bigWrites++;
        if (i % 20 === 0) await bigClient.call("BGSAVE");
      }
    })();
    const rng = new Rng(16);
    for (let i = 0; i < 1500; i++) await client.pipeline(step(rng));
    writing = false;
    await bigWriter;
    assert.ok(bigWrites > 10, `the big list changed during the run (${bigWrites} rounds)`);
    await client.call("SELECT", "0");
    // A big list copied, renamed and moved: logged element by element, one group each.
    const copied = await client.call("COPY", "big", "bigcopy");
    assert.equal(
      copied,
      1,
      JSON.stringify(copied) +
        master.logs.filter((l) => /error|warn/i.test(l)).slice(-5).join("\n"),
    );
    assert.equal(
      (await client.call("RENAME", "bigcopy", "bigmoved") as { text: string }).text,
      "OK",
    );
    assert.equal(await client.call("MOVE", "bigmoved", "1"), 1);
    assert.equal(await client.call("LREM", "big", "0", "element:50000:" + "p".repeat(20)), 1);
    await pair.checkEverywhere(dump, "list", 30_000);
  } finally {
    bigClient.close();
    await pair.stop();
  }
});
