/**
 * Every type through SIGKILL and replication (issue 16, "how it is
 * judged"): clients stream writes to strings, hashes, lists, sets and
 * sorted sets of their own keys — adds, removals, pops, increments — to a
 * master with a replica, one request at a time, while the master is
 * SIGKILLed. Each client's operations are a fixed sequence, so the state
 * its first n operations make is known: after the restart each client's
 * keys hold, type by type, the state of its answered operations (or of one
 * more: the request in flight may have become durable without its reply),
 * and the replica and the restarted master then hold the same dataset.
 */

import assert from "node:assert/strict";
import {
  converges,
  delay,
  replicatedConfigs,
  RespClient,
  RespError,
  ServerProcess,
} from "./_helpers.ts";
import { keyContents } from "./_key_dump.ts";

const CLIENTS = 6;
const ROUNDS = 2;

/** The n-th operation of client `c`: a command over the client's own keys. */
function operation(c: number, n: number): string[] {
  const k = (name: string) => `c${c}:${name}`;
  switch (n % 10) {
    case 0:
      return ["RPUSH", k("list"), `e${n}`, `e${n}b`];
    case 1:
      return ["SADD", k("set"), String(n), `m${n}`];
    case 2:
      return ["ZADD", k("zset"), String(n % 7), `m${n}`];
    case 3:
      return ["HSET", k("hash"), `f${n % 13}`, `v${n}`];
    case 4:
      return ["INCRBY", k("counter"), String(n)];
    case 5:
      return ["LPOP", k("list")];
    case 6:
      return ["SREM", k("set"), String(n - 5)];
    case 7:
      return ["ZINCRBY", k("zset"), "1.5", `m${n - 5}`];
    case 8:
      return ["HDEL", k("hash"), `f${(n + 3) % 13}`];
    default:
      return ["ZPOPMIN", k("zset")];
  }
}

/** A client's keys after its first `count` operations, as `dump` writes them. */
function model(c: number, count: number): string {
  const list: string[] = [];
  const set = new Set<string>();
  const zset = new Map<string, number>();
  const hash = new Map<string, string>();
  let counter = 0;
  for (let n = 0; n < count; n++) {
    const op = operation(c, n);
    switch (op[0]) {
      case "RPUSH":
        list.push(op[2], op[3]);
        break;
      case "SADD":
        set.add(op[2]).add(op[3]);
        break;
      case "ZADD":
        zset.set(op[3], Number(op[2]));
        break;
      case "HSET":
        hash.set(op[2], op[3]);
        break;
      case "INCRBY":
        counter += Number(op[2]);
        break;
      case "LPOP":
        list.shift();
        break;
      case "SREM":
        set.delete(op[2]);
        break;
      case "ZINCRBY":
        zset.set(op[3], (zset.get(op[3]) ?? 0) + Number(op[2]));
        break;
      case "HDEL":
        hash.delete(op[2]);
        break;
      case "ZPOPMIN": {
        const first = rankOrder(zset)[0];
        if (first !== undefined) zset.delete(first[0]);
        break;
      }
    }
  }
  const lines: string[] = [];
  const k = (name: string) => JSON.stringify(`c${c}:${name}`);
  if (count > 4) lines.push(`${k("counter")} string ${JSON.stringify(counter)}`);
  if (hash.size > 0) {
    const pairs = [...hash].map(([f, v]) => `${f}=${v}`).sort();
    lines.push(`${k("hash")} hash ${JSON.stringify(pairs)}`);
  }
  if (list.length > 0) lines.push(`${k("list")} list ${JSON.stringify(list)}`);
  if (set.size > 0) lines.push(`${k("set")} set ${JSON.stringify([...set].sort())}`);
  if (zset.size > 0) {
    const flat = rankOrder(zset).flatMap(([m, s]) => [m, String(s)]);
    lines.push(`${k("zset")} zset ${JSON.stringify(flat)}`);
  }
  return lines.sort().join("\n");
}

/** A sorted set's members by rank: score, then member bytes. */
function rankOrder(zset: Map<string, number>): [string, number][] {
  return [...zset].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Each key matching `pattern`, by name: its type and contents (sets and hashes sorted). */
async function dump(client: RespClient, pattern: string): Promise<string> {
  const keys = (await client.call("KEYS", pattern) as string[]).sort();
  const lines: string[] = [];
  for (const key of keys) {
    const type = String((await client.call("TYPE", key) as { text: string }).text);
    let contents = await keyContents(client, key, type);
    // The model counts in numbers.
    if (typeof contents === "string" && /^-?\d+$/.test(contents)) contents = Number(contents);
    lines.push(`${JSON.stringify(key)} ${type} ${JSON.stringify(contents)}`);
  }
  return lines.sort().join("\n");
}

/**
 * Streams client `c`'s operations from `from` until the server goes away:
 * the count answered, and an error reply if one came (none should).
 */
async function stream(
  port: number,
  c: number,
  from: number,
): Promise<{ answered: number; refused?: string }> {
  let answered = from;
  let connection: RespClient;
  try {
    connection = await RespClient.connect(port);
  } catch {
    return { answered };
  }
  try {
    for (let n = from;; n++) {
      const reply = await connection.call(...operation(c, n));
      if (reply instanceof RespError) {
        return { answered, refused: `${operation(c, n).join(" ")}: ${reply.text}` };
      }
      answered = n + 1;
    }
  } catch {
    // The server was killed mid-stream.
  } finally {
    connection.close();
  }
  return { answered };
}

Deno.test("SIGKILL under a mixed-type load: the restarted master and its replica hold every answered write, type by type", async () => {
  const dir = await Deno.makeTempDir();
  const { master: masterConfig, replica: replicaConfig } = replicatedConfigs(dir, {
    common: { network: { max_message_size: "1MiB" } },
    wal: { max_segment_size: "128KiB", snapshot_threshold: "256KiB" },
  });
  let master = await ServerProcess.start(masterConfig);
  const replica = await ServerProcess.start(replicaConfig("replica", master.port));
  const replicaClient = await RespClient.connect(replica.port);
  let client: RespClient | undefined;
  // Operations each client has had answered, and where its next stream starts.
  const answered = new Array<number>(CLIENTS).fill(0);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const streams = answered.map((from, c) => stream(master.port, c, from));
      await delay(1500 + round * 500);
      await master.stop("SIGKILL");
      const results = await Promise.all(streams);
      assert.deepEqual(results.filter((r) => r.refused !== undefined), [], "no write refused");
      const counts = results.map((r) => r.answered);
      master = await ServerProcess.start(masterConfig, { dir: master.dir, port: master.port });
      client = await RespClient.connect(master.port);
      for (let c = 0; c < CLIENTS; c++) {
        assert.ok(counts[c] > answered[c] + 20, `client ${c} made progress in round ${round}`);
        const seen = await dump(client, `c${c}:*`);
        // The request in flight at the kill may be durable without its reply.
        const inFlight = model(c, counts[c] + 1);
        assert.ok(
          seen === model(c, counts[c]) || seen === inFlight,
          `client ${c} after round ${round} (${counts[c]} answered):\n` +
            `seen:\n${seen}\nexpected:\n${model(c, counts[c])}`,
        );
        // The next round continues from what the server holds.
        answered[c] = seen === model(c, counts[c]) ? counts[c] : counts[c] + 1;
      }
      const expected = await dump(client, "*");
      await converges(
        () => dump(replicaClient, "*"),
        expected,
        `round ${round}: the replica holds what the master holds`,
      );
      client.close();
      client = undefined;
    }
  } finally {
    client?.close();
    replicaClient.close();
    await replica.stop("SIGKILL");
    await master.stop("SIGKILL");
  }
});
