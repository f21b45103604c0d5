/**
 * kvdb against redis-server 7.0 on the hash group (issue 16): every hash
 * command, the WRONGTYPE answers of string commands on a hash (and of
 * hash commands on a string), TYPE, OBJECT ENCODING through the listpack →
 * hashtable conversions, SCAN TYPE, keyspace commands on a hash, and a
 * seeded random sequence; replies compared byte for byte in RESP2 and
 * RESP3.
 *
 * Order: a listpack hash answers in insertion order in both servers, so
 * those replies are compared exactly; a hashtable's order is Redis's dict
 * order, which kvdb does not reproduce, so those steps compare as
 * multisets (`unordered`). Random picks compare by shape.
 */

import { type EventSteps, keyspaceEventsTest } from "./_keyspace_events.ts";
import {
  differentialTest,
  DiffPair,
  type Rng,
  shapeOnly,
  STANDARD_RULES,
  type StepLike,
  type Template,
  template,
  unordered,
} from "./_differential.ts";

const I64_MAX = "9223372036854775807";
const I64_MIN = "-9223372036854775808";
const BIN = "\x00\x01\r\n\xff\xfe";
const LONG = "x".repeat(65);
const EDGE = "y".repeat(64);

/** A step compared as a multiset (hashtable order). */
function anyOrder(...args: string[]): StepLike {
  return { args, compare: unordered };
}

/** A step compared by shape only (random picks). */
function shape(...args: string[]): StepLike {
  return { args, compare: shapeOnly };
}

const manyFields: string[] = [];
for (let i = 0; i < 513; i++) manyFields.push(`f${i}`, `${i}`);

const CASES: Record<string, StepLike[]> = {
  "HSET, HGET, HMGET, HLEN, HEXISTS, HSTRLEN": [
    ["HSET", "h", "a", "1", "b", "2"],
    ["HSET", "h", "a", "10", "c", "3"],
    ["HSET", "h", "a", "1", "a", "2"],
    ["HSET", "h", "x"],
    ["HSET", "h", "x", "1", "y"],
    ["HSET", "h"],
    ["HGET", "h", "a"],
    ["HGET", "h", "zz"],
    ["HGET", "nokey", "a"],
    ["HMGET", "h", "a", "zz", "b", "c"],
    ["HMGET", "nokey", "a", "b"],
    ["HLEN", "h"],
    ["HLEN", "nokey"],
    ["HEXISTS", "h", "a"],
    ["HEXISTS", "h", "zz"],
    ["HEXISTS", "nokey", "a"],
    ["HSTRLEN", "h", "a"],
    ["HSTRLEN", "h", "zz"],
    ["HSTRLEN", "nokey", "a"],
    ["HSET", "bin", BIN, BIN, "", ""],
    ["HGET", "bin", BIN],
    ["HGET", "bin", ""],
    ["HGETALL", "bin"],
    ["HKEYS", "h"],
    ["HVALS", "h"],
    ["HGETALL", "h"],
    ["HGETALL", "nokey"],
    ["HKEYS", "nokey"],
    ["HVALS", "nokey"],
    ["TYPE", "h"],
    ["OBJECT", "ENCODING", "h"],
  ],
  "HMSET and HSETNX": [
    ["HMSET", "h", "a", "1", "b", "2"],
    ["HMSET", "h", "a"],
    ["HMSET", "h", "a", "1", "b"],
    ["HGETALL", "h"],
    ["HSETNX", "h", "a", "9"],
    ["HSETNX", "h", "n", "9"],
    ["HSETNX", "new", "f", "v"],
    ["HSETNX", "h", "a"],
    ["HGETALL", "h"],
    ["HGETALL", "new"],
  ],
  "HDEL deletes the key with its last field": [
    ["HSET", "h", "a", "1", "b", "2", "c", "3"],
    ["HDEL", "h", "zz"],
    ["HDEL", "h", "a", "a", "zz"],
    ["HDEL", "h", "b", "c", "d"],
    ["EXISTS", "h"],
    ["TYPE", "h"],
    ["HDEL", "h", "a"],
    ["HDEL", "h"],
    ["SET", "s", "v"],
    ["HDEL", "s", "a"],
  ],
  "HINCRBY": [
    ["HINCRBY", "h", "n", "5"],
    ["HINCRBY", "h", "n", "-7"],
    ["HINCRBY", "h", "n", "x"],
    ["HINCRBY", "h", "n", "1.5"],
    ["HINCRBY", "h", "n", ""],
    ["HSET", "h", "s", "abc", "big", I64_MAX, "small", I64_MIN, "sp", " 1", "z", "007"],
    ["HINCRBY", "h", "s", "1"],
    ["HINCRBY", "h", "sp", "1"],
    ["HINCRBY", "h", "z", "1"],
    ["HINCRBY", "h", "big", "1"],
    ["HINCRBY", "h", "big", "0"],
    ["HINCRBY", "h", "small", "-1"],
    ["HINCRBY", "h", "small", I64_MAX],
    ["HINCRBY", "h", "n", I64_MIN],
    ["HGETALL", "h"],
    ["HINCRBY", "h", "n"],
    ["HINCRBY", "fresh", "f", "0"],
    ["HGETALL", "fresh"],
  ],
  "HINCRBYFLOAT": [
    ["HINCRBYFLOAT", "h", "f", "1.5"],
    ["HINCRBYFLOAT", "h", "f", "0.1"],
    ["HINCRBYFLOAT", "h", "f", "-1.6"],
    ["HINCRBYFLOAT", "h", "f", "1e3"],
    ["HINCRBYFLOAT", "h", "f", "abc"],
    ["HINCRBYFLOAT", "h", "f", "inf"],
    ["HINCRBYFLOAT", "h", "f", "-inf"],
    ["HINCRBYFLOAT", "h", "f", "nan"],
    ["HINCRBYFLOAT", "h", "f", ""],
    ["HSET", "h", "s", "abc", "i", "10", "e", "1.5e2", "x", "0x10"],
    ["HINCRBYFLOAT", "h", "s", "1"],
    ["HINCRBYFLOAT", "h", "i", "0.5"],
    ["HINCRBYFLOAT", "h", "e", "1"],
    ["HINCRBYFLOAT", "h", "x", "1"],
    ["HINCRBYFLOAT", "h", "big", "1.7e308"],
    ["HINCRBYFLOAT", "h", "big", "1.7e308"],
    ["HINCRBYFLOAT", "h", "big", "1.7e308"],
    anyOrder("HGETALL", "h"),
    ["OBJECT", "ENCODING", "h"],
  ],
  // A hash held inline is rewritten in its packed bytes (hash.ts's
  // setPackedField): values that shrink and grow at the start, middle and
  // end, growth past the entry's room and past inline size (4 KiB), an
  // expired hash, and counters whose length changes.
  "fields of a small hash rewritten in place": [
    ["HSET", "h", "a", "1", "bb", "22", "ccc", "333"],
    ["HSET", "h", "a", "one"],
    ["HGETALL", "h"],
    ["HSET", "h", "bb", ""],
    ["HGETALL", "h"],
    ["HSET", "h", "ccc", "x".repeat(64)],
    ["HGETALL", "h"],
    ["HSET", "h", "a", "", "bb", "two", "ccc", "3", "dddd", "4"],
    ["HGETALL", "h"],
    ["HSET", "h", BIN, BIN],
    ["HGET", "h", BIN],
    ["HDEL", "h", "bb"],
    ["HSET", "h", "bb", "back at the end"],
    ["HGETALL", "h"],
    ["OBJECT", "ENCODING", "h"],
    [
      "HSET",
      "grow",
      ...Array.from({ length: 30 }, (_, i) => [`field:${i}`, "v".repeat(60)]).flat(),
    ],
    ["OBJECT", "ENCODING", "grow"],
    [
      "HSET",
      "grow",
      ...Array.from({ length: 30 }, (_, i) => [`field:${i + 30}`, "v".repeat(60)])
        .flat(),
    ],
    ["HLEN", "grow"],
    ["OBJECT", "ENCODING", "grow"],
    ["HSET", "grow", "field:0", "w"],
    ["HSET", "grow", "field:59", "w".repeat(64)],
    ["HSET", "grow", "late", "z"],
    ["HGETALL", "grow"],
    ["OBJECT", "ENCODING", "grow"],
    ["HSET", "c", "n", "9"],
    ["HINCRBY", "c", "n", "1"],
    ["HINCRBY", "c", "n", "-20"],
    ["HINCRBYFLOAT", "c", "n", "0.5"],
    ["HSETNX", "c", "m", "1"],
    ["HSETNX", "c", "n", "1"],
    ["HGETALL", "c"],
    ["HSET", "gone", "a", "1"],
    ["PEXPIRE", "gone", "1"],
    { args: ["HSET", "gone", "b", "2"], sleepMs: 20 },
    ["HGETALL", "gone"],
    ["TTL", "gone"],
  ],
  // A command stamps its key once, as Redis's lookup does: with
  // lfu-log-factor 0 each stamp adds one to OBJECT FREQ.
  "OBJECT FREQ after hash writes under allkeys-lfu": [
    ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu", "lfu-log-factor", "0"],
    ["HSET", "f", "a", "1"],
    ["OBJECT", "FREQ", "f"],
    ["HSET", "f", "b", "2"],
    ["OBJECT", "FREQ", "f"],
    ["HSET", "f", "c", "3", "d", "4", "e", "5", "g", "6"],
    ["OBJECT", "FREQ", "f"],
    ["HINCRBY", "f", "a", "5"],
    ["OBJECT", "FREQ", "f"],
    ["HSETNX", "f", "z", "1"],
    ["OBJECT", "FREQ", "f"],
    ["CONFIG", "SET", "maxmemory-policy", "noeviction", "lfu-log-factor", "10"],
  ],
  "listpack to hashtable: 513 fields": [
    ["HSET", "h", ...manyFields.slice(0, 1024)],
    ["OBJECT", "ENCODING", "h"],
    ["HLEN", "h"],
    ["HSET", "h", "f512", "512"],
    ["OBJECT", "ENCODING", "h"],
    ["HLEN", "h"],
    ["HDEL", "h", "f0", "f1", "f2"],
    ["OBJECT", "ENCODING", "h"],
    ["HGET", "h", "f100"],
    anyOrder("HKEYS", "h"),
    anyOrder("HVALS", "h"),
    anyOrder("HGETALL", "h"),
    anyOrder("HRANDFIELD", "h", "1000"),
    anyOrder("HRANDFIELD", "h", "1000", "WITHVALUES"),
    shape("HRANDFIELD", "h", "5"),
    shape("HRANDFIELD", "h", "-5", "WITHVALUES"),
  ],
  "listpack to hashtable: long fields and values": [
    ["HSET", "v", "f", EDGE],
    ["OBJECT", "ENCODING", "v"],
    ["HSET", "v", EDGE, "1"],
    ["OBJECT", "ENCODING", "v"],
    ["HSET", "v", "g", LONG],
    ["OBJECT", "ENCODING", "v"],
    ["HSET", "k", LONG, "1"],
    ["OBJECT", "ENCODING", "k"],
    ["HSET", "n", "a", "1"],
    ["HSETNX", "n", "a", LONG],
    ["OBJECT", "ENCODING", "n"],
    ["HSET", "m", "a", "1"],
    ["HINCRBYFLOAT", "m", "a", "0.1"],
    ["OBJECT", "ENCODING", "m"],
    anyOrder("HGETALL", "v"),
  ],
  "HRANDFIELD": [
    ["HRANDFIELD", "nokey"],
    ["HRANDFIELD", "nokey", "3"],
    ["HRANDFIELD", "nokey", "-3", "WITHVALUES"],
    ["HSET", "h", "a", "1", "b", "2", "c", "3"],
    ["HRANDFIELD", "h", "0"],
    ["HRANDFIELD", "h", "3"],
    ["HRANDFIELD", "h", "10"],
    ["HRANDFIELD", "h", "3", "WITHVALUES"],
    ["HRANDFIELD", "h", "10", "WITHVALUES"],
    shape("HRANDFIELD", "h"),
    shape("HRANDFIELD", "h", "1"),
    shape("HRANDFIELD", "h", "2"),
    shape("HRANDFIELD", "h", "-5"),
    shape("HRANDFIELD", "h", "-5", "WITHVALUES"),
    shape("HRANDFIELD", "h", "2", "WITHVALUES"),
    ["HRANDFIELD", "h", "x"],
    ["HRANDFIELD", "h", "1", "WITHVALUE"],
    ["HRANDFIELD", "h", "1", "WITHVALUES", "x"],
    ["HRANDFIELD", "h", I64_MAX, "WITHVALUES"],
    ["HRANDFIELD", "h", I64_MIN],
    ["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"],
    ["SET", "s", "v"],
    ["HRANDFIELD", "s"],
    ["HRANDFIELD", "s", "1"],
  ],
  "HSCAN": [
    ["HSCAN", "nokey", "0"],
    ["HSET", "h", "a", "1", "b", "2", "ab", "3"],
    ["HSCAN", "h", "0"],
    ["HSCAN", "h", "0", "MATCH", "a*"],
    ["HSCAN", "h", "0", "COUNT", "1"],
    ["HSCAN", "h", "0", "COUNT", "0"],
    ["HSCAN", "h", "0", "COUNT", "x"],
    ["HSCAN", "h", "0", "MATCH"],
    ["HSCAN", "h", "0", "TYPE", "hash"],
    ["HSCAN", "h", "x"],
    ["HSCAN", "h", "-1"],
    ["HSCAN", "h", "18446744073709551616"],
    ["SET", "s", "v"],
    ["HSCAN", "s", "0"],
  ],
  "string commands on a hash answer WRONGTYPE": [
    ["HSET", "h", "f", "1"],
    ["GET", "h"],
    ["GETSET", "h", "v"],
    ["GETDEL", "h"],
    ["GETEX", "h"],
    ["GETRANGE", "h", "0", "1"],
    ["STRLEN", "h"],
    ["APPEND", "h", "x"],
    ["SETRANGE", "h", "0", "x"],
    ["INCR", "h"],
    ["DECRBY", "h", "2"],
    ["INCRBYFLOAT", "h", "1"],
    ["SETBIT", "h", "1", "1"],
    ["GETBIT", "h", "1"],
    ["BITCOUNT", "h"],
    ["BITPOS", "h", "1"],
    ["BITFIELD", "h", "GET", "u8", "0"],
    ["BITOP", "AND", "d", "h"],
    ["LCS", "h", "h"],
    ["SET", "h", "v", "GET"],
    ["SET", "h", "v", "NX"],
    ["SETNX", "h", "v"],
    ["MSETNX", "h", "v", "other", "v"],
    ["MGET", "h", "nokey"],
    ["SORT", "h"],
    ["TYPE", "h"],
    ["HGET", "h", "f"],
    ["SET", "h", "v", "XX"],
    ["TYPE", "h"],
    ["GET", "h"],
  ],
  "hash commands on a string answer WRONGTYPE": [
    ["SET", "s", "v"],
    ["HSET", "s", "f", "v"],
    ["HSETNX", "s", "f", "v"],
    ["HGET", "s", "f"],
    ["HMGET", "s", "f"],
    ["HLEN", "s"],
    ["HEXISTS", "s", "f"],
    ["HSTRLEN", "s", "f"],
    ["HKEYS", "s"],
    ["HVALS", "s"],
    ["HGETALL", "s"],
    ["HINCRBY", "s", "f", "1"],
    ["HINCRBYFLOAT", "s", "f", "1"],
    ["HMSET", "s", "f", "v"],
    ["GET", "s"],
  ],
  "keyspace commands on a hash": [
    ["HSET", "h", "a", "1", "b", "2"],
    ["SET", "s", "v"],
    ["EXISTS", "h", "s", "nokey"],
    ["EXPIRE", "h", "100"],
    ["TTL", "h"],
    ["HSET", "h", "c", "3"],
    ["TTL", "h"],
    ["PERSIST", "h"],
    ["TTL", "h"],
    ["RENAME", "h", "h2"],
    ["HGETALL", "h2"],
    ["TYPE", "h"],
    ["COPY", "h2", "h3"],
    ["HSET", "h3", "d", "4"],
    ["HGETALL", "h2"],
    ["HGETALL", "h3"],
    ["COPY", "h2", "s"],
    ["COPY", "h2", "s", "REPLACE"],
    ["TYPE", "s"],
    ["HGETALL", "s"],
    ["RENAMENX", "s", "h3"],
    ["RENAME", "h3", "s"],
    ["HGETALL", "s"],
    ["MOVE", "s", "1"],
    ["EXISTS", "s"],
    ["SELECT", "1"],
    ["HGETALL", "s"],
    ["TYPE", "s"],
    ["SELECT", "0"],
    ["OBJECT", "ENCODING", "h2"],
    ["OBJECT", "REFCOUNT", "h2"],
    ["SET", "str", "x"],
    ["SCAN", "0", "TYPE", "hash", "COUNT", "1000"],
    ["SCAN", "0", "TYPE", "string", "COUNT", "1000"],
    ["SCAN", "0", "TYPE", "HASH", "COUNT", "1000"],
    ["SCAN", "0", "TYPE", "list", "COUNT", "1000"],
    ["DEL", "h2", "str"],
    ["UNLINK", "s", "nokey"],
    ["PEXPIRE", "h2", "1"],
    ["HSET", "e", "f", "v"],
    ["PEXPIRE", "e", "30"],
    { args: ["HGET", "e", "f"], sleepMs: 100 },
    ["EXISTS", "e"],
    ["HSET", "e", "f", "v"],
    ["EXPIRE", "e", "-1"],
    ["EXISTS", "e"],
    ["SET", "over", "v"],
    ["HSET", "h", "f", "v"],
    ["SET", "h", "plain"],
    ["TYPE", "h"],
    ["GET", "h"],
  ],
};

const KEYS = ["h1", "h2", "s"];
const FIELDS = ["a", "b", "c", "d", "", BIN, "n"];
const VALUES = ["", "0", "1", "-5", "10.5", "foobar", BIN, "123456789", I64_MAX];

function key(r: Rng): string {
  return r.pick(KEYS);
}

function field(r: Rng): string {
  return r.pick(FIELDS);
}

const TEMPLATES: Template<StepLike>[] = [
  template(4, (r) => ["HSET", key(r), field(r), r.pick(VALUES)]),
  template(2, (r) => ["HSET", key(r), field(r), r.pick(VALUES), field(r), r.pick(VALUES)]),
  template(1, (r) => ["HMSET", key(r), field(r), r.pick(VALUES)]),
  template(2, (r) => ["HSETNX", key(r), field(r), r.pick(VALUES)]),
  template(3, (r) => ["HGET", key(r), field(r)]),
  template(1, (r) => ["HMGET", key(r), field(r), field(r)]),
  template(3, (r) => ["HDEL", key(r), field(r), ...r.pick([[], [field(r)]])]),
  template(1, (r) => ["HLEN", key(r)]),
  template(1, (r) => ["HSTRLEN", key(r), field(r)]),
  template(1, (r) => ["HEXISTS", key(r), field(r)]),
  template(1, (r) => ["HKEYS", key(r)]),
  template(1, (r) => ["HVALS", key(r)]),
  template(2, (r) => ["HGETALL", key(r)]),
  template(2, (r) => ["HINCRBY", key(r), field(r), r.pick(["1", "-3", "100", I64_MAX, "x"])]),
  template(2, (r) => ["HINCRBYFLOAT", key(r), field(r), r.pick(["1.5", "-0.25", "1e3", "x"])]),
  template(1, (r) => ["HRANDFIELD", key(r), r.pick(["0", "10", "100"]), "WITHVALUES"]),
  template(1, (r) => ["HSCAN", key(r), "0", ...r.pick([[], ["MATCH", "a*"], ["COUNT", "2"]])]),
  template(1, (r) => ["SET", "s", r.pick(VALUES)]),
  template(1, (r) => ["GET", key(r)]),
  template(1, (r) => ["TYPE", key(r)]),
  template(1, (r) => ["OBJECT", "ENCODING", key(r)]),
  template(1, (r) => ["DEL", key(r)]),
  template(1, (r) => ["COPY", key(r), key(r), "REPLACE"]),
  template(1, (r) => ["RENAME", key(r), key(r)]),
];

differentialTest(
  "differential: hash commands, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
    await pair.diffSeeds(t, [1, 2, 3, 4], {
      length: 1500,
      templates: TEMPLATES,
      rules: STANDARD_RULES,
    });
  },
);

type Arg = string | Uint8Array;

/**
 * Keyspace notifications of the hash commands (`KEAnm` on both servers):
 * one connection writes, two listen on `__keyevent@*__:*` and
 * `__keyspace@*__:*`; every event, its order and channel must be Redis's.
 */
function hashEvents(e: EventSteps): StepLike[] {
  return [
    ...e.listeners(),
    ...e.ev(2, "HSET", "h", "a", "1", "b", "2"),
    ...e.ev(1, "HSET", "h", "a", "3"),
    ...e.ev(1, "HMSET", "h", "c", "3"),
    ...e.ev(0, "HSETNX", "h", "a", "9"),
    ...e.ev(1, "HSETNX", "h", "n", "9"),
    ...e.ev(2, "HSETNX", "h2", "n", "9"),
    ...e.ev(2, "HINCRBY", "i", "f", "1"),
    ...e.ev(1, "HINCRBY", "i", "f", "1"),
    ...e.ev(0, "HINCRBY", "i", "f", "x"),
    ...e.ev(1, "HINCRBYFLOAT", "i", "g", "1.5"),
    ...e.ev(2, "HINCRBYFLOAT", "i2", "g", "1.5"),
    ...e.ev(0, "HDEL", "h", "zz"),
    ...e.ev(1, "HDEL", "h", "a", "zz"),
    ...e.ev(2, "HDEL", "h2", "n"),
    // A hash table (600 fields) losing half its fields, then the rest: `del` comes with the last only.
    ...e.ev(2, "HSET", "big", ...Array.from({ length: 600 }, (_, i) => [`f${i}`, "v"]).flat()),
    ...e.ev(1, "HDEL", "big", ...Array.from({ length: 300 }, (_, i) => `f${i}`)),
    ...e.ev(2, "HDEL", "big", ...Array.from({ length: 300 }, (_, i) => `f${300 + i}`)),
    ...e.ev(1, "HGET", "nokey", "f"),
    ...e.ev(0, "HGET", "h", "nofield"),
    ...e.ev(1, "HGETALL", "nokey"),
    ...e.ev(1, "EXPIRE", "h", "100"),
    ...e.ev(3, "RENAME", "h", "hr"),
    ...e.ev(2, "COPY", "hr", "hc"),
    ...e.ev(3, "MOVE", "hc", "1"),
    ...e.ev(1, "DEL", "hr"),
    ...e.ev(1, "UNLINK", "i"),
    ...e.ev(0, "HDEL", "nokey", "f"),
  ];
}

keyspaceEventsTest(
  "differential: hash keyspace notifications, kvdb vs redis-server 7.0, RESP2 and RESP3",
  "hash events",
  hashEvents,
);
