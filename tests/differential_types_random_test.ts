/**
 * kvdb against redis-server 7.0 across all five types at once (issue 16,
 * "a seeded random sequence over all four types"): a few keys, each written
 * by commands of every type, so most steps meet a key of another type
 * (WRONGTYPE), an emptied collection (the key goes), or a conversion
 * between encodings; keyspace commands (TYPE, OBJECT ENCODING, RENAME,
 * COPY, MOVE, SWAPDB, EXPIRE, DEL, SORT) move values between keys and
 * databases. (Lexicographic ranges, whose answer Redis leaves unspecified
 * for members of different scores, are left to differential_zsets_test.)
 * Replies are compared byte for byte in RESP2 and RESP3, except
 * those whose order is a hash table's (compared as multisets) and random
 * picks (compared by shape).
 */

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

const KEYS = ["k1", "k2", "k3", "k4"];
/** Integers (intsets, numeric SORT), words, a long value (past the listpack limits), bytes. */
const ELEMENTS = ["1", "2", "3", "-7", "10", "a", "b", "c", "zz", "", "\x00\r\n", "v".repeat(70)];
const SCORES = ["0", "1", "-1", "2.5", "1e3", "+inf", "-inf", "3"];
const INDEXES = ["0", "1", "-1", "-2", "2", "5", "-100", "100"];
const RANGES = [
  ["-inf", "+inf"],
  ["(0", "3"],
  ["1", "(2.5"],
  ["+inf", "-inf"],
  ["x", "1"],
];

function key(r: Rng): string {
  return r.pick(KEYS);
}

function element(r: Rng): string {
  return r.pick(ELEMENTS);
}

/** Compared as a multiset: the order is a hash table's. */
function anyOrder(...args: string[]): StepLike {
  return { args, compare: unordered };
}

/** Compared by shape: a random pick. */
function shape(...args: string[]): StepLike {
  return { args, compare: shapeOnly };
}

const TEMPLATES: Template<StepLike>[] = [
  // Strings.
  template(2, (r) => ["SET", key(r), element(r)]),
  template(1, (r) => ["GET", key(r)]),
  template(1, (r) => ["APPEND", key(r), element(r)]),
  template(1, (r) => ["INCR", key(r)]),
  // Hashes.
  template(3, (r) => ["HSET", key(r), element(r), element(r)]),
  template(1, (r) => ["HDEL", key(r), element(r)]),
  template(1, (r) => ["HGET", key(r), element(r)]),
  template(1, (r) => anyOrder("HGETALL", key(r))),
  template(1, (r) => ["HINCRBY", key(r), element(r), r.pick(["1", "-2"])]),
  template(1, (r) => ["HLEN", key(r)]),
  // Lists.
  template(3, (r) => [r.pick(["LPUSH", "RPUSH"]), key(r), element(r), element(r)]),
  template(1, (r) => [r.pick(["LPUSHX", "RPUSHX"]), key(r), element(r)]),
  template(2, (r) => [r.pick(["LPOP", "RPOP"]), key(r), ...r.pick([[], ["2"], ["0"]])]),
  template(2, (r) => ["LRANGE", key(r), r.pick(INDEXES), r.pick(INDEXES)]),
  template(1, (r) => ["LINDEX", key(r), r.pick(INDEXES)]),
  template(1, (r) => ["LSET", key(r), r.pick(INDEXES), element(r)]),
  template(1, (r) => ["LINSERT", key(r), r.pick(["BEFORE", "AFTER"]), element(r), element(r)]),
  template(1, (r) => ["LREM", key(r), r.pick(["0", "1", "-1", "2"]), element(r)]),
  template(1, (r) => ["LTRIM", key(r), r.pick(INDEXES), r.pick(INDEXES)]),
  template(1, (r) => ["LPOS", key(r), element(r), ...r.pick([[], ["RANK", "-1"], ["COUNT", "0"]])]),
  template(1, (r) => [
    "LMOVE",
    key(r),
    key(r),
    r.pick(["LEFT", "RIGHT"]),
    r.pick(["LEFT", "RIGHT"]),
  ]),
  template(1, (r) => ["LMPOP", "2", key(r), key(r), r.pick(["LEFT", "RIGHT"]), "COUNT", "2"]),
  template(1, (r) => ["LLEN", key(r)]),
  // Sets.
  template(3, (r) => ["SADD", key(r), element(r), element(r)]),
  template(1, (r) => ["SREM", key(r), element(r)]),
  template(1, (r) => ["SISMEMBER", key(r), element(r)]),
  template(1, (r) => ["SMISMEMBER", key(r), element(r), element(r)]),
  template(1, (r) => anyOrder("SMEMBERS", key(r))),
  template(1, (r) => ["SCARD", key(r)]),
  template(1, (r) => ["SMOVE", key(r), key(r), element(r)]),
  template(1, (r) => anyOrder(r.pick(["SINTER", "SUNION", "SDIFF"]), key(r), key(r))),
  template(
    1,
    (r) => [r.pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), key(r), key(r), key(r)],
  ),
  template(1, (r) => ["SINTERCARD", "2", key(r), key(r)]),
  // Every member: a random pick would leave the two servers' sets apart.
  template(1, (r) => anyOrder("SPOP", key(r), "100")),
  template(1, (r) => shape("SRANDMEMBER", key(r), r.pick(["2", "-3"]))),
  // Sorted sets.
  template(3, (r) => ["ZADD", key(r), r.pick(SCORES), element(r)]),
  template(
    1,
    (r) => ["ZADD", key(r), r.pick(["NX", "XX", "GT", "LT", "CH"]), r.pick(SCORES), element(r)],
  ),
  template(1, (r) => ["ZINCRBY", key(r), r.pick(SCORES), element(r)]),
  template(1, (r) => ["ZREM", key(r), element(r)]),
  template(1, (r) => ["ZSCORE", key(r), element(r)]),
  template(1, (r) => ["ZRANK", key(r), element(r)]),
  template(2, (r) => ["ZRANGE", key(r), r.pick(INDEXES), r.pick(INDEXES), "WITHSCORES"]),
  template(1, (r) => ["ZRANGE", key(r), ...r.pick(RANGES), "BYSCORE", ...r.pick([[], ["REV"]])]),
  template(1, (r) => ["ZCOUNT", key(r), ...r.pick(RANGES)]),
  template(1, (r) => [r.pick(["ZPOPMIN", "ZPOPMAX"]), key(r), ...r.pick([[], ["2"]])]),
  template(1, (r) => ["ZMPOP", "2", key(r), key(r), r.pick(["MIN", "MAX"])]),
  template(1, (r) => [
    r.pick(["ZUNIONSTORE", "ZINTERSTORE"]),
    key(r),
    "2",
    key(r),
    key(r),
    ...r.pick([[], ["AGGREGATE", "MAX"], ["WEIGHTS", "2", "0.5"]]),
  ]),
  template(1, (r) => ["ZDIFF", "2", key(r), key(r), "WITHSCORES"]),
  template(1, (r) => ["ZCARD", key(r)]),
  // Every type at once.
  template(2, (r) => ["TYPE", key(r)]),
  template(2, (r) => ["OBJECT", "ENCODING", key(r)]),
  template(1, (r) => ["DEL", key(r)]),
  template(1, (r) => ["UNLINK", key(r)]),
  template(1, (r) => ["EXISTS", key(r), key(r)]),
  template(1, (r) => ["RENAME", key(r), key(r)]),
  template(1, (r) => ["COPY", key(r), key(r), ...r.pick([[], ["REPLACE"]])]),
  template(1, (r) => ["MOVE", key(r), "1"]),
  template(1, () => ["SWAPDB", "0", "1"]),
  template(1, (r) => ["EXPIRE", key(r), r.pick(["100", "0", "-1"])]),
  template(1, (r) => ["TTL", key(r)]),
  template(1, (r) => ["PERSIST", key(r)]),
  template(1, (r) => ["SORT", key(r), ...r.pick([[], ["ALPHA"], ["DESC", "LIMIT", "0", "3"]])]),
  template(1, () => ["KEYS", "*"]),
  template(1, () => ["DBSIZE"]),
];

differentialTest(
  "differential: all types at once, seeded random sequences, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffSeeds(t, [161, 162, 163, 164, 165, 166], {
      length: 1500,
      templates: TEMPLATES,
      rules: STANDARD_RULES,
    });
  },
);
