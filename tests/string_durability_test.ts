/**
 * The string commands that log partial writes (APPEND, SETRANGE, SETBIT,
 * BITFIELD) and derived values (INCRBYFLOAT, BITOP) survive SIGKILL and
 * reach a replica exactly: a seeded random sequence runs on a master with a
 * replica, then the master's keyspace, the replica's, and the restarted
 * master's must be equal, value and time to live, key by key.
 */

import assert from "node:assert/strict";
import { delay, replicatedConfigs, RespClient, type RespReply, ServerProcess } from "./_helpers.ts";
import { Rng } from "./_generate.ts";

const SYNC_INTERVAL = "100ms";

/** Every key's value and whether it has a time to live. */
async function dump(client: RespClient): Promise<Map<string, string>> {
  const keys = await client.call("KEYS", "*") as string[];
  const out = new Map<string, string>();
  for (const key of keys.sort()) {
    const [value, ttl] = await client.pipeline([["GET", key], ["PTTL", key]]);
    out.set(key, `${JSON.stringify(value)} ttl:${(ttl as number) > 0 ? "yes" : ttl}`);
  }
  return out;
}

function randomCommand(r: Rng): string[] {
  const key = r.pick(["a", "b", "c", "d", "big"]);
  const value = r.pick(["", "x", "12", "3.5", "\x00\xff\r\n", "y".repeat(5000)]);
  const offset = r.pick(["0", "3", "17", "4095", "4100", "9000"]);
  switch (r.int(0, 9)) {
    case 0:
      return ["SET", key, value, ...(r.int(0, 2) === 0 ? ["EX", "1000"] : [])];
    case 1:
      return ["APPEND", key, value];
    case 2:
      return ["SETRANGE", key, offset, value];
    case 3:
      return ["SETBIT", key, r.pick(["0", "7", "100", "40000", "70000"]), r.pick(["0", "1"])];
    case 4:
      return ["BITFIELD", key, "INCRBY", r.pick(["i8", "u16", "i64"]), r.pick(["0", "#9"]), "37"];
    case 5:
      return ["INCRBYFLOAT", key, r.pick(["1.5", "-0.1", "1e3"])];
    case 6:
      return ["BITOP", r.pick(["AND", "OR", "XOR"]), key, r.pick(["a", "b"]), r.pick(["c", "d"])];
    case 7:
      return ["DEL", key];
    case 8:
      return ["SETEX", key, "1000", value];
    default:
      return ["GETSET", key, value];
  }
}

Deno.test("partial string writes survive SIGKILL and replicate exactly", async () => {
  const dir = await Deno.makeTempDir();
  const { master: masterConfig, replica: replicaConfig } = replicatedConfigs(dir, {
    common: { network: { max_message_size: "64MiB" } },
    wal: { max_segment_size: "64KiB", snapshot_threshold: "256KiB" },
    syncInterval: SYNC_INTERVAL,
  });
  let master = await ServerProcess.start(masterConfig);
  const replica = await ServerProcess.start(replicaConfig("replica", master.port));
  let client = await RespClient.connect(master.port);
  const replicaClient = await RespClient.connect(replica.port);
  try {
    const rng = new Rng(11);
    let errors = 0;
    for (let i = 0; i < 3000; i++) {
      const reply: RespReply = await client.call(...randomCommand(rng));
      if (
        reply !== null && typeof reply === "object" && "text" in reply && /^ERR/.test(reply.text)
      ) {
        errors++;
      }
    }
    assert.ok(errors < 1500, `${errors} of 3000 commands failed: the sequence tests little`);
    const before = await dump(client);
    assert.ok(before.size >= 3, "keys to compare");
    // The replica catches up...
    let replicaState = new Map<string, string>();
    for (let waited = 0; waited < 10_000; waited += 100) {
      replicaState = await dump(replicaClient);
      if (JSON.stringify([...replicaState]) === JSON.stringify([...before])) break;
      await delay(100);
    }
    assert.deepEqual([...replicaState], [...before], "the replica holds what the master does");
    // ...and the master comes back from SIGKILL with the same state.
    client.close();
    await master.stop("SIGKILL");
    master = await ServerProcess.start(masterConfig, { dir: master.dir, port: master.port });
    client = await RespClient.connect(master.port);
    assert.deepEqual([...await dump(client)], [...before], "the restarted master holds it all");
  } finally {
    client.close();
    replicaClient.close();
    await replica.stop("SIGKILL");
    await master.stop("SIGKILL");
  }
});
