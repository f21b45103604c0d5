/**
 * DUMP and RESTORE of collections (issue 16): kvdb writes Redis 7.0's RDB
 * formats (hash listpack 16 and hash 4, list quicklist2 18, set intset 11
 * and set 2, zset listpack 17 and zset2 5), so a value whose encoding is
 * deterministic (everything but a hash table's order) DUMPs to
 * redis-server's exact bytes, and payloads travel both ways between kvdb
 * and redis-server 7.0.15 with the same contents and encodings.
 * Malformed collection payloads get Redis's "Bad data format".
 */

import assert from "node:assert/strict";
import { differentialTest, DiffPair, STANDARD_RULES, type StepLike } from "./_differential.ts";
import { freePort, RespClient, RespError, RespStatus, ServerProcess } from "./_helpers.ts";
import { encodeDumpValue } from "../src/keyspace/dump_payload.ts";
import { bytesToBinary } from "../src/bytes/binary_string.ts";
import { RDB_TYPE, type RdbValue } from "../src/keyspace/rdb/rdb_value.ts";
import { encodeListpack } from "../src/keyspace/rdb/listpack.ts";
import { ByteWriter } from "../src/keyspace/rdb/byte_writer.ts";
import { writeRdbLength, writeRdbString } from "../src/keyspace/rdb/rdb_string.ts";
import { crc64 } from "../src/bytes/crc64.ts";

/** A payload of a raw body (type byte and all), with a valid trailer. */
function payload(body: Uint8Array): string {
  const out = new Uint8Array(body.length + 10);
  out.set(body);
  out[body.length] = 10;
  const crc = crc64(out, 0n, 0, body.length + 2);
  for (let i = 0; i < 8; i++) out[body.length + 2 + i] = Number((crc >> BigInt(8 * i)) & 0xffn);
  return bytesToBinary(out);
}

function body(build: (out: ByteWriter) => void): Uint8Array {
  const out = new ByteWriter();
  build(out);
  return out.finish();
}

const COMPRESSIBLE = "abcabcabcabcabcabcabcabcabcabcabcabc";

const CASES: Record<string, StepLike[]> = {
  "DUMP of listpack hashes: Redis's bytes": [
    ["HSET", "h1", "a", "1", "b", "2", "c", "hello"],
    ["DUMP", "h1"],
    ["HSET", "h2", "f1", "a".repeat(40), "f2", "a".repeat(28)],
    ["DUMP", "h2"],
    ["HSET", "h3", "-1", "0", "127", "128", "4095", "-4096", "32767", "-32768", "8388607", "x"],
    ["HSET", "h3", "2147483647", "-2147483648", "9223372036854775807", "-9223372036854775808"],
    ["HSET", "h3", "9223372036854775808", "007", "", "\x00\xff\r\n", "+5", "-0"],
    ["DUMP", "h3"],
    ["HSET", "h4", "k", COMPRESSIBLE, "k2", COMPRESSIBLE + "xyzxyzxyzxyz", "k3", "x".repeat(63)],
    ["DUMP", "h4"],
    ["HSET", "h5", "f", "x".repeat(64)],
    ["DUMP", "h5"],
    ["HDEL", "h1", "b"],
    ["HSET", "h1", "a", "changed", "z", "new"],
    ["DUMP", "h1"],
  ],
  "DUMP of lists, intsets and listpack sorted sets: Redis's bytes": [
    ["RPUSH", "l1", "a", "b", "1", "2", "300", "-5", "70000"],
    ["DUMP", "l1"],
    ["LPUSH", "l1", "x".repeat(100), COMPRESSIBLE],
    ["DUMP", "l1"],
    ["RPUSH", "l2", ...Array.from({ length: 3000 }, (_, i) => `element-${i}`)],
    ["DUMP", "l2"],
    ["RPUSH", "l3", ...Array.from({ length: 600 }, (_, i) => `${i * 7919}`)],
    ["DUMP", "l3"],
    ["SADD", "s1", "1", "2", "3", "-100", "100000"],
    ["DUMP", "s1"],
    ["SADD", "s2", "9223372036854775807", "-9223372036854775808", "0"],
    ["DUMP", "s2"],
    ["SADD", "s3", ...Array.from({ length: 512 }, (_, i) => `${i * 3}`)],
    ["DUMP", "s3"],
    ["ZADD", "z1", "1", "a", "2.5", "b", "-3", "c", "0.1", "d", "inf", "e", "-inf", "f"],
    ["DUMP", "z1"],
    ["ZADD", "z2", "1e300", "big", "-0", "negzero", "3.14159", "pi", "12345678901", "int"],
    ["DUMP", "z2"],
    ["ZADD", "z3", ...Array.from({ length: 128 }, (_, i) => [`${i / 3}`, `m${i}`]).flat()],
    ["DUMP", "z3"],
    ["ZADD", "z4", ...Array.from({ length: 200 }, (_, i) => [`${i}`, `member-${i}`]).flat()],
    ["OBJECT", "ENCODING", "z4"],
    ["DUMP", "z4"],
  ],
  "RESTORE of lists, sets and sorted sets: contents and encodings": [
    ["RESTORE", "l", "0", payload(encodeDumpValue({ kind: "list", items: ["a", "1", "b"] }, -2))],
    ["LRANGE", "l", "0", "-1"],
    ["OBJECT", "ENCODING", "l"],
    [
      "RESTORE",
      "s",
      "0",
      payload(encodeDumpValue({ kind: "set", members: ["3", "1"], compact: true }, -2)),
    ],
    ["SMEMBERS", "s"],
    ["OBJECT", "ENCODING", "s"],
    [
      "RESTORE",
      "s2",
      "0",
      payload(encodeDumpValue({ kind: "set", members: ["3", "1"], compact: false }, -2)),
    ],
    ["OBJECT", "ENCODING", "s2"],
    [
      "RESTORE",
      "s3",
      "0",
      payload(encodeDumpValue({ kind: "set", members: ["a", "1"], compact: false }, -2)),
    ],
    ["OBJECT", "ENCODING", "s3"],
    ["SISMEMBER", "s3", "a"],
    [
      "RESTORE",
      "z",
      "0",
      payload(encodeDumpValue({ kind: "zset", entries: [["a", 1], ["b", 2]], compact: false }, -2)),
    ],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["OBJECT", "ENCODING", "z"],
    ["RESTORE", "bad", "0", payload(encodeDumpValue({ kind: "list", items: [] }, -2))],
    [
      "RESTORE",
      "bad",
      "0",
      payload(encodeDumpValue({ kind: "set", members: [], compact: true }, -2)),
    ],
    [
      "RESTORE",
      "bad",
      "0",
      payload(encodeDumpValue({ kind: "set", members: ["a", "a"], compact: false }, -2)),
    ],
    [
      "RESTORE",
      "bad",
      "0",
      payload(encodeDumpValue({ kind: "zset", entries: [], compact: true }, -2)),
    ],
    [
      "RESTORE",
      "bad",
      "0",
      payload(encodeDumpValue({ kind: "zset", entries: [["a", NaN]], compact: false }, -2)),
    ],
    ["EXISTS", "bad"],
  ],
  "RESTORE of hashes: contents, encodings and errors": [
    ["HSET", "src", "a", "1", "b", "two"],
    [
      "RESTORE",
      "dst",
      "0",
      payload(encodeDumpValue({
        kind: "hash",
        pairs: [["a", "1"], ["b", "two"]],
        compact: true,
      }, -2)),
    ],
    ["HGETALL", "dst"],
    ["OBJECT", "ENCODING", "dst"],
    [
      "RESTORE",
      "dst",
      "0",
      payload(encodeDumpValue({
        kind: "hash",
        pairs: [["x", "y"]],
        compact: false,
      }, -2)),
    ],
    [
      "RESTORE",
      "dst",
      "0",
      payload(encodeDumpValue({
        kind: "hash",
        pairs: [["x", "y"]],
        compact: false,
      }, -2)),
      "REPLACE",
    ],
    ["HGETALL", "dst"],
    // A hash-table payload of small fields is a listpack in both servers.
    ["OBJECT", "ENCODING", "dst"],
    [
      "RESTORE",
      "ttl",
      "5000",
      payload(encodeDumpValue({
        kind: "hash",
        pairs: [["f", "v"]],
        compact: true,
      }, -2)),
    ],
    ["PTTL", "ttl"],
    ["TYPE", "ttl"],
    // Empty hashes, in both encodings.
    [
      "RESTORE",
      "bad",
      "0",
      payload(encodeDumpValue({ kind: "hash", pairs: [], compact: true }, -2)),
    ],
    ["RESTORE", "bad", "0", payload(body((o) => writeRdbLength(o.u8(RDB_TYPE.HASH), 0)))],
    // A listpack cut short.
    [
      "RESTORE",
      "bad",
      "0",
      payload(body((o) => {
        const lp = encodeListpack(["a", "b"]);
        writeRdbString(o.u8(RDB_TYPE.HASH_LISTPACK), lp.subarray(0, lp.length - 1));
      })),
    ],
    // A count larger than the fields there.
    [
      "RESTORE",
      "bad",
      "0",
      payload(body((o) => {
        writeRdbLength(o.u8(RDB_TYPE.HASH), 3);
        writeRdbString(writeRdbString(o, "f"), "v");
      })),
    ],
    // An unknown type.
    ["RESTORE", "bad", "0", payload(new Uint8Array([99, 0]))],
    ["EXISTS", "bad"],
  ],
};

differentialTest(
  "differential: DUMP and RESTORE of collections, kvdb vs redis-server 7.0",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
    await t.step(
      "list, set and sorted-set payloads travel both ways with the same contents",
      async () => {
        const kvdb = await RespClient.connect(pair.subject.port);
        const redis = await RespClient.connect(pair.reference.port);
        const cases: { make: string[]; read: string[] }[] = [
          { make: ["RPUSH", "K", "a", "1", "-2", "\x00\xff"], read: ["LRANGE", "K", "0", "-1"] },
          {
            make: ["RPUSH", "K", ...Array.from({ length: 20000 }, (_, i) => `e${i % 97}-${i}`)],
            read: ["LRANGE", "K", "0", "-1"],
          },
          { make: ["RPUSH", "K", "x".repeat(20000), "y"], read: ["LRANGE", "K", "0", "-1"] },
          { make: ["SADD", "K", "1", "5", "-7"], read: ["SMEMBERS", "K"] },
          { make: ["SADD", "K", "a", "5"], read: ["SMEMBERS", "K"] },
          {
            make: ["SADD", "K", ...Array.from({ length: 1000 }, (_, i) => `${i}`)],
            read: ["SMEMBERS", "K"],
          },
          {
            make: ["ZADD", "K", "1", "a", "-2.5", "b", "inf", "c"],
            read: ["ZRANGE", "K", "0", "-1", "WITHSCORES"],
          },
          {
            make: [
              "ZADD",
              "K",
              ...Array.from({ length: 500 }, (_, i) => [`${i * 0.37}`, `m${i}`]).flat(),
            ],
            read: ["ZRANGE", "K", "0", "-1", "WITHSCORES"],
          },
        ];
        try {
          for (const [i, { make, read }] of cases.entries()) {
            for (
              const [from, to, names] of [[redis, kvdb, "redis→kvdb"], [
                kvdb,
                redis,
                "kvdb→redis",
              ]] as const
            ) {
              const src = `src${i}`;
              const dst = `dst${i}`;
              await from.call("DEL", src);
              await from.call(...make.map((a) => a === "K" ? src : a));
              const dumped = await from.call("DUMP", src) as string;
              const restored = await to.call("RESTORE", dst, "0", dumped, "REPLACE");
              assert.deepEqual(restored, new RespStatus("OK"), `case #${i} ${names}`);
              const want = await from.call(...read.map((a) => a === "K" ? src : a)) as string[];
              const got = await to.call(...read.map((a) => a === "K" ? dst : a)) as string[];
              const norm = (xs: string[]) => make[0] === "SADD" ? [...xs].sort() : xs;
              assert.deepEqual(norm(got), norm(want), `case #${i} ${names}`);
              assert.equal(
                await to.call("OBJECT", "ENCODING", dst),
                await from.call("OBJECT", "ENCODING", src),
                `case #${i} ${names}: encoding`,
              );
            }
          }
        } finally {
          kvdb.close();
          redis.close();
        }
      },
    );
    await t.step("hash payloads travel both ways with the same contents", async () => {
      const kvdb = await RespClient.connect(pair.subject.port);
      const redis = await RespClient.connect(pair.reference.port);
      try {
        const many: string[] = [];
        for (let i = 0; i < 2000; i++) many.push(`field:${i}`, i % 3 === 0 ? `${i}` : `value-${i}`);
        const hashes: string[][] = [
          ["a", "1"],
          ["f", "x".repeat(65)],
          ["bin\x00", "\x00\xff\r\n".repeat(300), "n", "-12345"],
          many.slice(0, 1024),
          many,
        ];
        for (const [i, fields] of hashes.entries()) {
          for (
            const [from, to, names] of [[redis, kvdb, "redis→kvdb"], [
              kvdb,
              redis,
              "kvdb→redis",
            ]] as const
          ) {
            await from.call("DEL", `src${i}`);
            await from.call("HSET", `src${i}`, ...fields);
            const dumped = await from.call("DUMP", `src${i}`) as string;
            const restored = await to.call("RESTORE", `dst${i}`, "0", dumped, "REPLACE");
            assert.deepEqual(restored, new RespStatus("OK"), `hash #${i} ${names}`);
            const want = await from.call("HGETALL", `src${i}`) as string[];
            const got = await to.call("HGETALL", `dst${i}`) as string[];
            assert.deepEqual(pairs(got), pairs(want), `hash #${i} ${names}`);
            assert.equal(
              await to.call("OBJECT", "ENCODING", `dst${i}`),
              await from.call("OBJECT", "ENCODING", `src${i}`),
              `hash #${i} ${names}: encoding`,
            );
          }
        }
      } finally {
        kvdb.close();
        redis.close();
      }
    });
  },
);

/** Field/value pairs sorted by field (a hash table's order is its own). */
function pairs(flat: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

Deno.test("RESTORE refuses hash payloads Redis (without sanitize-dump-payload) loads corrupt: a field twice, an odd listpack", async () => {
  const server = await ServerProcess.start();
  const kvdb = await RespClient.connect(server.port);
  try {
    const corrupt = [
      encodeDumpValue({ kind: "hash", pairs: [["f", "1"], ["f", "2"]], compact: false }, -2),
      encodeDumpValue({ kind: "hash", pairs: [["f", "1"], ["f", "2"]], compact: true }, -2),
      body((o) => writeRdbString(o.u8(RDB_TYPE.HASH_LISTPACK), encodeListpack(["a", "b", "c"]))),
    ];
    for (const [i, bytes] of corrupt.entries()) {
      const reply = await kvdb.call(
        "RESTORE",
        "d",
        "0",
        payload(bytes.subarray(0, bytes.length - (i < 2 ? 10 : 0))),
      );
      assert.ok(reply instanceof RespError, `payload #${i}: ${JSON.stringify(reply)}`);
      assert.equal(reply.text, "ERR Bad data format", `payload #${i}`);
    }
    assert.equal(await kvdb.call("EXISTS", "d"), 0);
  } finally {
    kvdb.close();
    await server.stop();
  }
});

Deno.test("RESTOREd collections and SORT ... STORE lists survive SIGKILL (WAL replay) and reach a replica", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-restore-durable-" });
  const network = { max_message_size: "1MiB" };
  const masterConfig = {
    network,
    wal: { enabled: true, data_directory: `${dir}/master` },
    replication: {
      enabled: true,
      replica_type: "master",
      master_address: `127.0.0.1:${freePort()}`,
      sync_interval: "100ms",
    },
  };
  let master = await ServerProcess.start(masterConfig);
  const replica = await ServerProcess.start({
    network,
    wal: { enabled: true, data_directory: `${dir}/replica` },
    replication: {
      enabled: true,
      replica_type: "slave",
      master_address: `127.0.0.1:${master.port}`,
      sync_interval: "100ms",
    },
  });
  let c = await RespClient.connect(master.port);
  const r = await RespClient.connect(replica.port);
  const many = Array.from({ length: 3000 }, (_, i) => `${(i * 7919) % 3001}`);
  const values: [string, RdbValue][] = [
    ["h", { kind: "hash", pairs: [["a", "1"], ["b", "x".repeat(100)]], compact: false }],
    ["l", { kind: "list", items: many }],
    ["s", { kind: "set", members: ["1", "-5", "300"], compact: true }],
    ["sw", { kind: "set", members: ["a", "b", "1"], compact: false }],
    ["z", { kind: "zset", entries: [["m", -1.5], ["n", 2], ["o", Infinity]], compact: true }],
  ];
  const snapshot = async (client: RespClient) =>
    JSON.stringify([
      await client.call("HGETALL", "h"),
      await client.call("LRANGE", "l", "0", "-1"),
      // SORT is a write command (STORE): a replica refuses it, as Redis's does.
      await client.call("SORT_RO", "s"),
      await client.call("SORT_RO", "sw", "ALPHA"),
      await client.call("ZRANGE", "z", "0", "-1", "WITHSCORES"),
      await client.call("LRANGE", "sorted", "0", "-1"),
      await client.call("LRANGE", "got", "0", "-1"),
      await client.call("PTTL", "l") as number > 0,
    ]);
  try {
    for (const [key, value] of values) {
      const bytes = encodeDumpValue(value, -2);
      const ttl = key === "l" ? "100000" : "0";
      assert.deepEqual(
        await c.call("RESTORE", key, ttl, bytesToBinary(bytes)),
        new RespStatus("OK"),
      );
    }
    assert.equal(await c.call("SORT", "l", "STORE", "sorted"), 3000);
    assert.equal(
      await c.call("SORT", "s", "BY", "nosort", "GET", "#", "GET", "h", "STORE", "got"),
      6,
    );
    const expected = await snapshot(c);
    let seen = "";
    for (let waited = 0; waited < 20_000 && seen !== expected; waited += 200) {
      seen = await snapshot(r);
      if (seen !== expected) await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(seen, expected, "the replica holds what was restored and stored");
    c.close();
    await master.stop("SIGKILL");
    master = await ServerProcess.start(masterConfig, { dir: master.dir, port: master.port });
    c = await RespClient.connect(master.port);
    assert.equal(await snapshot(c), expected, "the restarted master holds it all");
  } finally {
    c.close();
    r.close();
    await replica.stop("SIGKILL");
    await master.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});
