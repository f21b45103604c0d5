/**
 * The encoding thresholds under CONFIG (issue 16): GET and SET of
 * hash-max-listpack-*, list-max-listpack-size, list-compress-depth,
 * set-max-intset-entries, zset-max-listpack-* and their ziplist aliases,
 * with Redis's syntax, ranges and error words, compared byte for byte with
 * redis-server 7.0 in RESP2 and RESP3; OBJECT ENCODING of hashes following
 * a changed hash-max-listpack-entries/value; and CONFIG REWRITE writing the
 * YAML keys that a restart reads back.
 */

import assert from "node:assert/strict";
import {
  differentialTest,
  DiffPair,
  STANDARD_RULES,
  type StepLike,
  unordered,
} from "./_differential.ts";
import { RespClient, RespStatus, ServerProcess, startWithConfigFile } from "./_helpers.ts";

const NAMES = [
  "hash-max-listpack-entries",
  "hash-max-listpack-value",
  "hash-max-ziplist-entries",
  "hash-max-ziplist-value",
  "list-max-listpack-size",
  "list-max-ziplist-size",
  "list-compress-depth",
  "set-max-intset-entries",
  "zset-max-listpack-entries",
  "zset-max-listpack-value",
  "zset-max-ziplist-entries",
  "zset-max-ziplist-value",
];

/** Every threshold back to redis-server's built-in default. */
const RESET: StepLike[] = [
  ["CONFIG", "SET", "hash-max-listpack-entries", "512", "hash-max-listpack-value", "64"],
  ["CONFIG", "SET", "list-max-listpack-size", "-2", "list-compress-depth", "0"],
  ["CONFIG", "SET", "set-max-intset-entries", "512"],
  ["CONFIG", "SET", "zset-max-listpack-entries", "128", "zset-max-listpack-value", "64"],
  ["FLUSHALL"],
];

const BAD_VALUES = [
  "-1",
  "abc",
  "1k",
  "1kb",
  "1K",
  "1.5",
  "1.5k",
  "010",
  "+5",
  " 5",
  "",
  "9223372036854775807",
  "9223372036854775808",
  "18446744073709551615",
  "99999999999999999999",
  "-9223372036854775809",
  "2147483647",
  "2147483648",
  "-2147483648",
  "-2147483649",
  "1gb",
  "kb",
  "0b",
  "3M",
];

/** A step compared as a multiset (CONFIG GET of several names). */
function anyOrder(...args: string[]): StepLike {
  return { args, compare: unordered };
}

const CASES: Record<string, StepLike[]> = {
  "CONFIG GET of the thresholds and aliases": [
    ...RESET,
    ...NAMES.map((name) => ["CONFIG", "GET", name]),
    ["CONFIG", "GET", "HASH-MAX-LISTPACK-ENTRIES"],
    // Several names: Redis answers in its dict's order.
    anyOrder("CONFIG", "GET", "hash-max-listpack-entries", "hash-max-ziplist-entries"),
    anyOrder("CONFIG", "GET", "list-compress-depth", "set-max-intset-entries"),
    anyOrder("CONFIG", "GET", "hash-*"),
    anyOrder("CONFIG", "GET", "zset-*"),
    anyOrder("CONFIG", "GET", "list-*"),
    anyOrder("CONFIG", "GET", "*intset*"),
  ],
  "CONFIG SET: values, syntax, ranges and errors": [
    ...RESET,
    ...NAMES.flatMap((name) =>
      BAD_VALUES
        // kvdb holds these as doubles: values past 2^53 are refused (Redis takes them).
        .filter((v) => v !== "9223372036854775807")
        .flatMap((value): StepLike[] => [
          ["CONFIG", "SET", name, value],
          ["CONFIG", "GET", name],
        ])
    ),
    ...RESET,
    ["CONFIG", "SET", "hash-max-ziplist-entries", "7"],
    ["CONFIG", "GET", "hash-max-listpack-entries"],
    ["CONFIG", "SET", "zset-max-ziplist-value", "2kb"],
    ["CONFIG", "GET", "zset-max-listpack-value"],
    ["CONFIG", "SET", "list-max-ziplist-size", "-5"],
    ["CONFIG", "GET", "list-max-listpack-size"],
    ["CONFIG", "SET", "list-max-listpack-size", "0"],
    ["CONFIG", "GET", "list-max-ziplist-size"],
    ["CONFIG", "SET", "hash-max-listpack-entries", "1", "hash-max-ziplist-entries", "2"],
    ["CONFIG", "GET", "hash-max-listpack-entries"],
    ["CONFIG", "SET", "hash-max-ziplist-entries", "2", "hash-max-listpack-entries", "1"],
    ["CONFIG", "GET", "hash-max-listpack-entries"],
    ["CONFIG", "SET", "hash-max-listpack-entries", "1", "HASH-max-listpack-entries", "2"],
    ["CONFIG", "SET", "hash-max-listpack-entries", "3", "set-max-intset-entries", "x"],
    ["CONFIG", "GET", "hash-max-listpack-entries"],
    ...RESET,
  ],
  "lazyfree switches: accepted and reported as Redis does": [
    anyOrder("CONFIG", "GET", "*lazy*"),
    ...[
      "lazyfree-lazy-eviction",
      "lazyfree-lazy-expire",
      "lazyfree-lazy-server-del",
      "lazyfree-lazy-user-del",
      "lazyfree-lazy-user-flush",
      "replica-lazy-flush",
      "slave-lazy-flush",
    ].flatMap((name): StepLike[] => [
      ["CONFIG", "SET", name, "YES"],
      ["CONFIG", "GET", name],
      ["CONFIG", "SET", name, "maybe"],
      ["CONFIG", "SET", name, "no"],
      ["CONFIG", "GET", name],
    ]),
  ],
  "OBJECT ENCODING of hashes after CONFIG SET hash-max-listpack-entries 4": [
    ...RESET,
    ["CONFIG", "SET", "hash-max-listpack-entries", "4"],
    ["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"],
    ["OBJECT", "ENCODING", "h"],
    ["HSET", "h", "e", "5"],
    ["OBJECT", "ENCODING", "h"],
    ["HSET", "small", "a", "1"],
    ["CONFIG", "SET", "hash-max-listpack-entries", "0"],
    ["OBJECT", "ENCODING", "small"],
    ["HSET", "small", "a", "2"],
    ["OBJECT", "ENCODING", "small"],
    ["HSET", "zero", "a", "1"],
    ["OBJECT", "ENCODING", "zero"],
    ["CONFIG", "SET", "hash-max-listpack-entries", "1000"],
    ["HSET", "big", ...Array.from({ length: 600 }, (_, i) => [`f${i}`, `${i}`]).flat()],
    ["OBJECT", "ENCODING", "big"],
    ["HLEN", "big"],
    ["HGET", "big", "f599"],
    ["CONFIG", "SET", "hash-max-listpack-entries", "512"],
    ["HSET", "big", "one", "more"],
    ["OBJECT", "ENCODING", "big"],
    ...RESET,
  ],
  "OBJECT ENCODING of hashes after CONFIG SET hash-max-listpack-value": [
    ...RESET,
    ["CONFIG", "SET", "hash-max-listpack-value", "4"],
    ["HSET", "h", "abcd", "1234"],
    ["OBJECT", "ENCODING", "h"],
    ["HSET", "h", "abcde", "1"],
    ["OBJECT", "ENCODING", "h"],
    ["HSET", "v", "a", "12345"],
    ["OBJECT", "ENCODING", "v"],
    ["CONFIG", "SET", "hash-max-listpack-value", "200"],
    ["HSET", "long", "f", "x".repeat(200)],
    ["OBJECT", "ENCODING", "long"],
    ["HSET", "long", "g", "x".repeat(201)],
    ["OBJECT", "ENCODING", "long"],
    ...RESET,
  ],
};

differentialTest(
  "differential: encoding thresholds under CONFIG, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
  },
);

function status(reply: unknown): string {
  return reply instanceof RespStatus ? reply.text : JSON.stringify(reply);
}

Deno.test("CONFIG REWRITE writes the encoding thresholds as engine.* YAML keys; a restart reads them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-encoding-rewrite-" });
  const probe = await ServerProcess.start();
  const port = probe.port;
  await probe.stop();
  const path = `${dir}/kvdb.yaml`;
  await Deno.writeTextFile(path, `# mine\nnetwork:\n  address: 127.0.0.1:${port}\n`);
  let server = await startWithConfigFile(path, dir, port);
  try {
    const c = await RespClient.connect(port);
    assert.equal(
      status(
        await c.call(
          "CONFIG",
          "SET",
          "hash-max-ziplist-entries",
          "4",
          "zset-max-listpack-value",
          "1kb",
          "list-max-listpack-size",
          "-3",
        ),
      ),
      "OK",
    );
    assert.equal(status(await c.call("CONFIG", "REWRITE")), "OK");
    c.close();
    const text = await Deno.readTextFile(path);
    assert.ok(text.includes("# mine"), text);
    assert.match(text, /hash_max_listpack_entries: 4\n/);
    assert.match(text, /zset_max_listpack_value: 1024\n/);
    assert.match(text, /list_max_listpack_size: -3\n/);
    assert.ok(!text.includes("set_max_intset_entries"), `defaults are not written:\n${text}`);
    await server.stop();
    server = await startWithConfigFile(path, dir, port);
    const again = await RespClient.connect(port);
    assert.deepEqual(await again.call("CONFIG", "GET", "hash-max-listpack-entries"), [
      "hash-max-listpack-entries",
      "4",
    ]);
    assert.deepEqual(await again.call("CONFIG", "GET", "zset-max-ziplist-value"), [
      "zset-max-ziplist-value",
      "1024",
    ]);
    // The restarted server encodes by the file's threshold.
    await again.call("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5");
    assert.equal(await again.call("OBJECT", "ENCODING", "h"), "hashtable");
    again.close();
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
