/**
 * Streams through the WAL, snapshots and replication (issue 19): a seeded
 * sequence of stream writes — XADD with explicit and automatic IDs and
 * MAXLEN/MINID trims (`=` and `~`), XDEL, XTRIM, XSETID, consumer groups
 * (CREATE, SETID, DESTROY, consumers made and deleted), XREADGROUP with and
 * without NOACK, XACK, XCLAIM, XAUTOCLAIM, RENAME/COPY/MOVE, expiry,
 * deletion, transactions — and a stream of 20 000 entries (snapshots write
 * it in chunks) run on a master with a replica while snapshots are taken;
 * then a late replica (full resynchronisation from a snapshot), the replica
 * and the master restarted from SIGKILL all hold exactly what the master
 * held: entries, counters (last ID, entries added, max deleted ID), node
 * count, and every group's position, read counter, pending entries with
 * their owners, delivery times and counts, and consumers' seen times
 * (XINFO STREAM FULL), and a later `~` trim removes the same entries.
 */

import assert from "node:assert/strict";
import { Rng } from "./_generate.ts";
import { replicatedConfigs, type RespClient } from "./_helpers.ts";
import { ReplicatedPair } from "./_replicated_pair.ts";
import { dumpDatabases } from "./_key_dump.ts";

const DATABASES = 2;
const BIG_ENTRIES = 20_000;

function dump(client: RespClient): Promise<string> {
  return dumpDatabases(client, DATABASES);
}

function step(r: Rng, clock: { ms: number }): string[][] {
  const db = String(r.int(0, DATABASES - 1));
  const key = `x${r.int(0, 5)}`;
  const other = `x${r.int(0, 5)}`;
  const group = `g${r.int(0, 2)}`;
  const consumer = `c${r.int(0, 3)}`;
  const on = (...command: string[]) => [["SELECT", db], command];
  const id = () => `${r.int(1, clock.ms)}-${r.int(0, 3)}`;
  switch (r.int(0, 17)) {
    case 0:
    case 1:
    case 2:
      clock.ms += r.int(0, 2);
      return on(
        "XADD",
        key,
        `${clock.ms}-*`,
        "f",
        String(r.int(0, 99)),
        "n",
        "v".repeat(r.int(0, 200)),
      );
    case 3:
      return on("XADD", key, "*", "a", "1");
    case 4:
      return on(
        "XADD",
        key,
        ...r.pick([["MAXLEN", "~", "30"], ["MAXLEN", "=", "50"], [
          "MINID",
          "~",
          String(clock.ms - 40),
        ]]),
        "*",
        "t",
        "1",
      );
    case 5:
      return on("XDEL", key, id(), id());
    case 6:
      return on("XTRIM", key, ...r.pick([["MAXLEN", "~", "20"], ["MINID", String(clock.ms - 60)]]));
    case 7:
      return on("XGROUP", "CREATE", key, group, r.pick(["0", "$"]), "MKSTREAM");
    case 8:
      return on("XGROUP", r.pick(["SETID", "DESTROY"]), key, group, ...(r.int(0, 1) ? ["0"] : []));
    case 9:
      return on("XGROUP", r.pick(["CREATECONSUMER", "DELCONSUMER"]), key, group, consumer);
    case 10:
    case 11:
      return on(
        "XREADGROUP",
        "GROUP",
        group,
        consumer,
        ...r.pick([[], ["NOACK"], ["COUNT", "3"]]),
        "STREAMS",
        key,
        r.pick([">", ">", "0"]),
      );
    case 12:
      return on("XACK", key, group, id(), id());
    case 13:
      return on(
        "XCLAIM",
        key,
        group,
        consumer,
        "0",
        id(),
        id(),
        ...r.pick([[], ["FORCE"], ["JUSTID"]]),
      );
    case 14:
      return on("XAUTOCLAIM", key, group, consumer, "0", "0", "COUNT", "5");
    case 15:
      return r.int(0, 2) === 0
        ? on("XSETID", key, `${clock.ms + 5}-0`, "ENTRIESADDED", "100000")
        : on(r.pick(["RENAME", "COPY"]), key, other);
    case 16:
      return r.int(0, 3) === 0 ? on("DEL", key) : on("MOVE", key, String(r.int(0, 1)));
    default:
      return [["MULTI"], ["SELECT", db], ["XADD", key, "*", "m", "1"], [
        "XTRIM",
        key,
        "MAXLEN",
        "5",
      ], [
        "EXEC",
      ]];
  }
}

Deno.test("streams and their consumer groups survive snapshots, SIGKILL and replication, and a late replica resynchronises", async () => {
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
    const rng = new Rng(19);
    const clock = { ms: 1000 };
    for (let i = 0; i < 800; i++) {
      await client.pipeline(step(rng, clock));
      if (i === 400) {
        await client.call("SELECT", "0");
        for (let at = 0; at < BIG_ENTRIES; at += 2000) {
          const commands: string[][] = [];
          for (let e = at; e < at + 2000; e++) {
            commands.push([
              "XADD",
              "big",
              `${e + 1}-0`,
              "field",
              `value:${e}`,
              "n",
              String(e % 97),
            ]);
          }
          await client.pipeline(commands);
        }
        await client.call("XGROUP", "CREATE", "big", "workers", "0");
        for (const c of ["w1", "w2", "w3"]) {
          await client.call(
            "XREADGROUP",
            "GROUP",
            "workers",
            c,
            "COUNT",
            "500",
            "STREAMS",
            "big",
            ">",
          );
        }
        await client.call("XACK", "big", "workers", "3-0", "600-0", "1200-0");
        await client.call("XDEL", "big", "10-0", "20-0", "15000-0");
      }
    }
    await client.call("SELECT", "0");
    assert.equal(await client.call("XLEN", "big"), BIG_ENTRIES - 3);
    const summary = await client.call("XPENDING", "big", "workers") as unknown[];
    assert.equal(summary[0], 1497);
    await pair.checkEverywhere(dump, "stream", 30_000);
    // The restarted master holds the same nodes: an approximate trim removes what it would have.
    await pair.client.call("SELECT", "0");
    // Whole nodes of 100 entries, the first holding 98 after two XDELs, up to ~'s
    // default LIMIT of 10 000 entries.
    assert.equal(await pair.client.call("XTRIM", "big", "MAXLEN", "~", "5000"), 9998);
  } finally {
    await pair.stop();
  }
});
