/**
 * What a server holds, type by type, as text two servers' answers can be
 * compared by: the durability and crash tests' view of a dataset.
 *
 * ```ts
 * assert.equal(await dumpDatabases(replica, 2), await dumpDatabases(master, 2));
 * ```
 *
 * @module
 */

import type { RespClient } from "./_helpers.ts";

/**
 * `key`'s contents for TYPE's answer `type`: a hash's `field=value` pairs
 * and a set's members sorted (their order is a hash table's), a list in
 * order, a sorted set by rank with scores, a stream's XINFO STREAM FULL
 * (entries, counters, groups, pending entries, consumers), a string's bytes.
 */
export async function keyContents(client: RespClient, key: string, type: string): Promise<unknown> {
  switch (type) {
    case "hash": {
      const flat = await client.call("HGETALL", key) as string[];
      const pairs: string[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push(`${flat[i]}=${flat[i + 1]}`);
      return pairs.sort();
    }
    case "list":
      return await client.call("LRANGE", key, "0", "-1");
    case "set":
      return (await client.call("SMEMBERS", key) as string[]).sort();
    case "zset":
      return await client.call("ZRANGE", key, "0", "-1", "WITHSCORES");
    case "stream":
      // Everything a stream holds: entries, counters, node count, groups with
      // their pending entries' owners, delivery times and counts, consumers' seen times.
      return await client.call("XINFO", "STREAM", key, "FULL", "COUNT", "0");
    default:
      return await client.call("GET", key);
  }
}

/**
 * Every key of databases 0 to `databases` - 1, sorted: a line each with
 * its database, name, type, contents and whether it expires.
 */
export async function dumpDatabases(client: RespClient, databases: number): Promise<string> {
  const out: string[] = [];
  for (let db = 0; db < databases; db++) {
    await client.call("SELECT", String(db));
    const keys = (await client.call("KEYS", "*") as string[]).sort();
    for (const key of keys) {
      const [status, ttl] = await client.pipeline([["TYPE", key], ["PTTL", key]]);
      const type = String((status as { text: string }).text);
      const contents = await keyContents(client, key, type);
      out.push(
        `${db} ${JSON.stringify(key)} ${type} ${JSON.stringify(contents)} ${(ttl as number) > 0}`,
      );
    }
  }
  return out.join("\n");
}
