/**
 * Keyspace commands (issue 14 point 4) against redis-server 7.0: RENAME,
 * RENAMENX, COPY, RANDOMKEY, UNLINK, TOUCH, EXPIRETIME, PEXPIRETIME,
 * OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ, SORT/SORT_RO on what kvdb holds,
 * and a seeded random sequence over them and the string commands.
 */

import {
  differentialTest,
  DiffPair,
  type Rng,
  STANDARD_RULES,
  type StepLike,
  type Template,
  template,
  ttlWithin,
} from "./_differential.ts";

/** Relative expiries land a few ms apart on the two servers: a second either way. */
const RULES = { ...STANDARD_RULES, EXPIRETIME: ttlWithin(1), PEXPIRETIME: ttlWithin(1000) };

const FAR_S = "4102444800";

const CASES: Record<string, StepLike[]> = {
  "RENAME and RENAMENX": [
    ["RENAME", "missing", "x"],
    ["RENAMENX", "missing", "x"],
    ["SET", "a", "1", "EX", "1000"],
    ["RENAME", "a", "b"],
    ["EXISTS", "a"],
    ["GET", "b"],
    ["TTL", "b"],
    ["SET", "c", "keep"],
    ["RENAMENX", "b", "c"],
    ["RENAMENX", "b", "d"],
    ["GET", "d"],
    ["RENAME", "d", "d"],
    ["RENAMENX", "d", "d"],
    ["SET", "e", "no ttl"],
    ["SET", "f", "had ttl", "EX", "100"],
    ["RENAME", "e", "f"],
    ["TTL", "f"],
    ["GET", "f"],
  ],
  "COPY": [
    ["COPY", "missing", "x"],
    ["SET", "s", "v", "EX", "1000"],
    ["COPY", "s", "t"],
    ["GET", "t"],
    ["TTL", "t"],
    ["COPY", "s", "t"],
    ["SET", "s", "v2"],
    ["COPY", "s", "t", "REPLACE"],
    ["GET", "t"],
    ["TTL", "t"],
    ["COPY", "s", "s"],
    ["COPY", "s", "s", "DB", "1"],
    ["SELECT", "1"],
    ["GET", "s"],
    ["SELECT", "0"],
    ["COPY", "s", "u", "DB", "16"],
    ["COPY", "s", "u", "DB", "x"],
    ["COPY", "s", "u", "DB"],
    ["COPY", "s", "u", "BOGUS"],
  ],
  "RANDOMKEY, UNLINK, TOUCH": [
    ["RANDOMKEY"],
    ["SET", "only", "1"],
    ["RANDOMKEY"],
    ["MSET", "a", "1", "b", "2"],
    ["TOUCH", "a", "b", "missing", "a"],
    ["UNLINK", "a", "missing", "b"],
    ["UNLINK", "a"],
    ["SET", "gone", "x", "PX", "1"],
    { args: ["RANDOMKEY"], sleepMs: 20 },
  ],
  "EXPIRETIME and PEXPIRETIME": [
    ["EXPIRETIME", "missing"],
    ["PEXPIRETIME", "missing"],
    ["SET", "k", "v"],
    ["EXPIRETIME", "k"],
    ["EXPIREAT", "k", FAR_S],
    ["EXPIRETIME", "k"],
    ["PEXPIRETIME", "k"],
    ["PEXPIREAT", "k", "4102444800123"],
    ["EXPIRETIME", "k"],
    ["PEXPIRETIME", "k"],
  ],
  "OBJECT ENCODING follows how the value was made": [
    ["OBJECT", "ENCODING", "missing"],
    ["SET", "int", "12345"],
    ["OBJECT", "ENCODING", "int"],
    ["SET", "neg", "-9223372036854775808"],
    ["OBJECT", "ENCODING", "neg"],
    ["SET", "lead", "0123"],
    ["OBJECT", "ENCODING", "lead"],
    ["SET", "short", "hello"],
    ["OBJECT", "ENCODING", "short"],
    ["SET", "e44", "x".repeat(44)],
    ["OBJECT", "ENCODING", "e44"],
    ["SET", "r45", "x".repeat(45)],
    ["OBJECT", "ENCODING", "r45"],
    ["APPEND", "short", "!"],
    ["OBJECT", "ENCODING", "short"],
    ["APPEND", "fresh", "12"],
    ["OBJECT", "ENCODING", "fresh"],
    ["SETRANGE", "sr", "0", "7"],
    ["OBJECT", "ENCODING", "sr"],
    ["SETBIT", "bits", "3", "1"],
    ["OBJECT", "ENCODING", "bits"],
    ["INCR", "n"],
    ["OBJECT", "ENCODING", "n"],
    ["INCRBYFLOAT", "f", "3"],
    ["GET", "f"],
    ["OBJECT", "ENCODING", "f"],
    ["BITOP", "OR", "op", "int"],
    ["OBJECT", "ENCODING", "op"],
    ["COPY", "short", "copied"],
    ["OBJECT", "ENCODING", "copied"],
    ["COPY", "n", "ncopy"],
    ["OBJECT", "ENCODING", "ncopy"],
    ["OBJECT", "REFCOUNT", "ncopy"],
    ["RENAME", "ncopy", "nrenamed"],
    ["OBJECT", "REFCOUNT", "nrenamed"],
    ["RENAME", "sr", "renamed"],
    ["OBJECT", "ENCODING", "renamed"],
    ["GETSET", "int", "99"],
    ["OBJECT", "ENCODING", "int"],
  ],
  "OBJECT REFCOUNT, IDLETIME, FREQ": [
    ["OBJECT", "REFCOUNT", "missing"],
    ["SET", "small", "9999"],
    ["OBJECT", "REFCOUNT", "small"],
    ["SET", "big", "10000"],
    ["OBJECT", "REFCOUNT", "big"],
    ["SET", "negative", "-1"],
    ["OBJECT", "REFCOUNT", "negative"],
    ["SET", "text", "abc"],
    ["OBJECT", "REFCOUNT", "text"],
    ["OBJECT", "IDLETIME", "text"],
    ["OBJECT", "IDLETIME", "missing"],
    ["OBJECT", "FREQ", "text"],
    ["OBJECT", "FREQ", "missing"],
    ["OBJECT", "NOPE", "text"],
    ["OBJECT", "ENCODING"],
  ],
  // A command bumps its key's LFU counter once, as Redis's lookup does (an
  // overwrite keeps the counter): with lfu-log-factor 0 a bump is +1.
  "OBJECT FREQ after writes of each type under allkeys-lfu": [
    ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu", "lfu-log-factor", "0"],
    ["SADD", "lfu:s", "a"],
    ["SADD", "lfu:s", "b", "c", "d"],
    ["OBJECT", "FREQ", "lfu:s"],
    ["ZADD", "lfu:z", "1", "a"],
    ["ZADD", "lfu:z", "2", "b", "3", "c"],
    ["OBJECT", "FREQ", "lfu:z"],
    ["RPUSH", "lfu:l", "a"],
    ["RPUSH", "lfu:l", "b", "c"],
    ["LPOP", "lfu:l"],
    ["OBJECT", "FREQ", "lfu:l"],
    // Values past Redis's shared integers (below 10000), whose one shared
    // object carries the counter of every key holding it.
    ["SET", "lfu:k", "v1"],
    ["APPEND", "lfu:k", "x"],
    ["GET", "lfu:k"],
    ["SET", "lfu:k", "v2"],
    ["OBJECT", "FREQ", "lfu:k"],
    ["SET", "lfu:n", "100000"],
    ["INCR", "lfu:n"],
    ["INCRBY", "lfu:n", "5"],
    ["OBJECT", "FREQ", "lfu:n"],
    ["CONFIG", "SET", "maxmemory-policy", "noeviction", "lfu-log-factor", "10"],
  ],
  "SORT and SORT_RO on strings and missing keys": [
    ["SORT", "missing"],
    ["SORT", "missing", "LIMIT", "0", "10", "DESC", "ALPHA", "BY", "w_*", "GET", "#", "GET", "o_*"],
    ["SET", "dest", "x"],
    ["SORT", "missing", "STORE", "dest"],
    ["EXISTS", "dest"],
    ["SET", "str", "v"],
    ["SORT", "str"],
    ["SORT", "str", "BOGUS"],
    ["SORT", "missing", "LIMIT", "x", "1"],
    ["SORT", "missing", "LIMIT", "1"],
    ["SORT_RO", "missing", "STORE", "dest"],
    ["SORT_RO", "str", "ALPHA"],
  ],
};

CASES["WAIT without replicas"] = [
  ["WAIT", "0", "0"],
  ["WAIT", "1", "10"],
  ["WAIT", "1", "-1"],
  ["WAIT", "x", "0"],
  ["WAIT", "0", "x"],
];

const KEYS = ["a", "b", "c", "d"];

function key(r: Rng): string {
  return r.pick(KEYS);
}

const TEMPLATES: Template<StepLike>[] = [
  template(3, (r) => ["SET", key(r), r.pick(["1", "v", "12345", "x".repeat(50), ""])]),
  template(1, (r) => ["SET", key(r), "t", "EX", r.pick(["100", "1000"])]),
  template(2, (r) => ["RENAME", key(r), key(r)]),
  template(2, (r) => ["RENAMENX", key(r), key(r)]),
  template(2, (r) => ["COPY", key(r), key(r), ...r.pick([[], ["REPLACE"]])]),
  template(1, (r) => ["UNLINK", key(r), key(r)]),
  template(1, (r) => ["TOUCH", key(r), key(r)]),
  template(1, (r) => ["APPEND", key(r), r.pick(["1", "z"])]),
  template(1, (r) => ["INCR", key(r)]),
  template(2, (r) => ["OBJECT", r.pick(["ENCODING", "REFCOUNT"]), key(r)]),
  template(1, (r) => ["EXPIRETIME", key(r)]),
  template(1, (r) => ["GET", key(r)]),
  template(1, (r) => ["EXISTS", key(r)]),
];

differentialTest(
  "differential: keyspace commands, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
    for (const seed of [1, 2]) {
      await t.step(`random sequence, seed ${seed}`, async () => {
        await pair.diffRandom({ seed, length: 1500, templates: TEMPLATES, rules: RULES });
      });
    }
  },
);
