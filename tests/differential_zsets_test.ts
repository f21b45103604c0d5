/**
 * kvdb against redis-server 7.0 on the sorted-set group (issue 16): every
 * non-blocking sorted-set command with hand-written edge cases (scores
 * inf/-inf, exclusive bounds, lexicographic ranges, negative and
 * out-of-range indexes, empty results, huge counts, option conflicts,
 * WRONGTYPE, arity), OBJECT ENCODING through the listpack → skiplist
 * conversions, keyspace commands on a sorted set, keyspace notifications,
 * and seeded random sequences; replies compared byte for byte in RESP2 and
 * RESP3.
 *
 * A sorted set's order is defined (score, then member bytes), so nearly
 * every reply is compared exactly. ZSCAN of a skiplist (Redis's dict
 * order) compares as a multiset; random picks compare by shape, their
 * properties are checked against kvdb alone at the end.
 */

import {
  type Comparator,
  differentialTest,
  DiffPair,
  normalized,
  type RespValue,
  type Rng,
  shapeOnly,
  STANDARD_RULES,
  type StepLike,
  type Template,
  template,
} from "./_differential.ts";
import { type EventSteps, keyspaceEventsTest } from "./_keyspace_events.ts";
import assert from "node:assert/strict";
import { RespClient, ServerProcess } from "./_helpers.ts";

const BIN = "\x00\x01\r\n\xff\xfe";
const LONG = "x".repeat(65);
const EDGE = "y".repeat(64);

/**
 * A SCAN-family reply compared with its member/score pairs as a multiset
 * (a skiplist's ZSCAN order is Redis's dict order); the cursor exactly.
 */
const scanPairs: Comparator = normalized("scanPairs", (f) => {
  const v = f.value as RespValue;
  if (v.type !== "array" || v.items.length !== 2) return JSON.stringify(v);
  const [cursor, found] = v.items;
  if (found.type !== "array") return JSON.stringify(v);
  const pairs: string[] = [];
  for (let i = 0; i < found.items.length; i += 2) {
    pairs.push(JSON.stringify([found.items[i], found.items[i + 1]]));
  }
  return JSON.stringify(cursor) + pairs.sort().join(",");
});

function anyOrder(...args: string[]): StepLike {
  return { args, compare: scanPairs };
}

function shape(...args: string[]): StepLike {
  return { args, compare: shapeOnly };
}

const many: string[] = [];
for (let i = 0; i < 129; i++) many.push(String(i % 7), `m${i}`);

/**
 * The reads of ranges, ranks and counts, for a sorted set at the listpack
 * limit and past it. Lex ranges read `tied`, whose scores are equal: over
 * mixed scores Redis's answer depends on its skiplist's random levels.
 */
const RANGE_READS: string[][] = [
  ["ZRANGE", "big", "0", "9", "WITHSCORES"],
  ["ZRANGE", "big", "-5", "-1", "REV", "WITHSCORES"],
  ["ZREVRANGE", "big", "0", "200"],
  ["ZRANGE", "big", "(2", "5", "BYSCORE", "LIMIT", "3", "7", "WITHSCORES"],
  ["ZRANGE", "big", "5", "(2", "BYSCORE", "REV", "LIMIT", "2", "-1"],
  ["ZRANGEBYSCORE", "big", "-inf", "+inf", "LIMIT", "120", "50"],
  ["ZREVRANGEBYSCORE", "big", "3", "3", "WITHSCORES"],
  ["ZRANK", "big", "m0"],
  ["ZRANK", "big", "m127"],
  ["ZREVRANK", "big", "m64"],
  ["ZRANK", "big", "none"],
  ["ZCOUNT", "big", "(1", "4"],
  ["ZCOUNT", "big", "-inf", "(0"],
  ["ZRANGEBYLEX", "tied", "-", "+", "LIMIT", "0", "3"],
  ["ZREVRANGEBYLEX", "tied", "+", "[m5", "LIMIT", "1", "4"],
  ["ZRANGE", "tied", "[m3", "(m4", "BYLEX"],
  ["ZLEXCOUNT", "tied", "[m1", "(m2"],
  ["OBJECT", "ENCODING", "big"],
  ["OBJECT", "ENCODING", "tied"],
];

const tied = many.map((word, i) => i % 2 === 0 ? "0" : word);

const CASES: Record<string, StepLike[]> = {
  "ranges, ranks and counts of a sorted set held inline (128 members) and of a skiplist (129)": [
    ["ZADD", "big", ...many.slice(0, 256)],
    ["ZADD", "tied", ...tied.slice(0, 256)],
    ...RANGE_READS,
    ["ZRANGESTORE", "big", "big", "0", "-1", "REV"],
    ["ZRANGE", "big", "0", "3", "WITHSCORES"],
    ["ZADD", "big", ...many.slice(256)],
    ["ZADD", "tied", ...tied.slice(256)],
    ...RANGE_READS,
  ],
  "ZADD options, replies and errors": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    ["ZADD", "z", "1", "a"],
    ["ZADD", "z", "CH", "5", "a", "6", "d"],
    ["ZADD", "z", "NX", "10", "a", "11", "e"],
    ["ZADD", "z", "XX", "10", "a", "11", "f"],
    ["ZADD", "z", "XX", "CH", "20", "a", "11", "f"],
    ["ZADD", "z", "GT", "CH", "1", "a", "30", "b"],
    ["ZADD", "z", "LT", "CH", "1", "a", "30", "c"],
    ["ZADD", "z", "GT", "LT", "1", "a"],
    ["ZADD", "z", "NX", "XX", "1", "a"],
    ["ZADD", "z", "NX", "GT", "1", "a"],
    ["ZADD", "z", "INCR", "1", "a", "2", "b"],
    ["ZADD", "z", "INCR", "5", "a"],
    ["ZADD", "z", "INCR", "NX", "5", "a"],
    ["ZADD", "z", "INCR", "XX", "5", "nope"],
    ["ZADD", "z", "INCR", "GT", "-5", "a"],
    ["ZADD", "z", "INCR", "LT", "-5", "a"],
    ["ZADD", "z", "1"],
    ["ZADD", "z", "1", "a", "2"],
    ["ZADD", "z"],
    ["ZADD", "z", "NX"],
    ["ZADD", "z", "x", "a"],
    ["ZADD", "z", "nan", "a"],
    ["ZADD", "z", "1e400", "a"],
    ["ZADD", "z", " 1", "a"],
    ["ZADD", "z", "1 ", "a"],
    ["ZADD", "z", "", "a"],
    ["ZADD", "z", "1", "a", "x", "b"],
    ["ZADD", "z", "inf", "i", "-inf", "ni", "+inf", "pi", "-0", "nz", "0x10", "hex", "1e-5", "s"],
    ["ZADD", "z", "1.1", "f1", ".5", "f2", "5.", "f3", "1E3", "f4", "-1.5e-3", "f5"],
    ["ZADD", "z", "4e-320", "sub", "1e-400", "under"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZADD", "z", "INCR", "-inf", "i"],
    ["ZINCRBY", "z", "-inf", "i"],
    ["ZINCRBY", "z", "inf", "i"],
    ["ZINCRBY", "z", "1", "new"],
    ["ZINCRBY", "z", "x", "new"],
    ["ZINCRBY", "z", "1"],
    ["ZINCRBY", "z", "0.1", "new"],
    ["ZINCRBY", "z", "0.2", "new"],
    ["ZSCORE", "z", "new"],
    ["ZADD", "nokey", "XX", "1", "a"],
    ["ZADD", "nokey", "XX", "INCR", "1", "a"],
    ["EXISTS", "nokey"],
    ["ZADD", "z", "1", "a", "2", "a", "3", "a"],
    ["ZADD", "z", "CH", "1", "a", "2", "a", "2", "a"],
    ["ZSCORE", "z", "a"],
    ["ZADD", "z", "nx", "ch", "xx", "1", "a"],
    ["ZADD", "bin", "1", BIN, "1", "", "-1", "\xff"],
    ["ZRANGE", "bin", "0", "-1", "WITHSCORES"],
    ["ZADD", "zz", "0", "a", "-0", "b"],
    ["ZADD", "zz", "-0", "a"],
    ["ZSCORE", "zz", "a"],
    ["ZSCORE", "zz", "b"],
    ["ZRANGE", "zz", "0", "-1", "WITHSCORES"],
  ],
  "ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "3", "d"],
    ["ZREM", "z", "a", "a", "x"],
    ["ZREM", "z", "x"],
    ["ZREM", "nokey", "x"],
    ["ZREM", "z"],
    ["ZCARD", "z"],
    ["ZCARD", "nokey"],
    ["ZCARD"],
    ["ZSCORE", "z", "b"],
    ["ZSCORE", "z", "x"],
    ["ZSCORE", "nokey", "x"],
    ["ZMSCORE", "z", "b", "x", "c"],
    ["ZMSCORE", "nokey", "b", "x"],
    ["ZMSCORE", "z"],
    ["ZRANK", "z", "b"],
    ["ZRANK", "z", "d"],
    ["ZRANK", "z", "x"],
    ["ZRANK", "nokey", "x"],
    ["ZREVRANK", "z", "b"],
    ["ZREVRANK", "z", "d"],
    ["ZREVRANK", "z", "x"],
    ["ZRANK", "z", "b", "WITHSCORE"],
    ["ZREM", "z", "b", "c", "d"],
    ["EXISTS", "z"],
  ],
  "ZCOUNT and ZLEXCOUNT": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "-inf", "ninf", "inf", "pinf"],
    ["ZCOUNT", "z", "-inf", "+inf"],
    ["ZCOUNT", "z", "(1", "3"],
    ["ZCOUNT", "z", "(1", "(3"],
    ["ZCOUNT", "z", "3", "1"],
    ["ZCOUNT", "z", "(2", "(2"],
    ["ZCOUNT", "z", "2", "2"],
    ["ZCOUNT", "z", "(-inf", "(inf"],
    ["ZCOUNT", "z", "x", "1"],
    ["ZCOUNT", "z", "1", "nan"],
    ["ZCOUNT", "z", " 1", "1e400"],
    ["ZCOUNT", "z", "", "("],
    ["ZCOUNT", "z", "((1", "2"],
    ["ZCOUNT", "z", "1 ", "2"],
    ["ZCOUNT", "nokey", "0", "1"],
    ["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", ""],
    ["ZLEXCOUNT", "l", "-", "+"],
    ["ZLEXCOUNT", "l", "[b", "[d"],
    ["ZLEXCOUNT", "l", "(b", "(d"],
    ["ZLEXCOUNT", "l", "[d", "[b"],
    ["ZLEXCOUNT", "l", "(b", "(b"],
    ["ZLEXCOUNT", "l", "[b", "[b"],
    ["ZLEXCOUNT", "l", "+", "-"],
    ["ZLEXCOUNT", "l", "-", "-"],
    ["ZLEXCOUNT", "l", "[", "+"],
    ["ZLEXCOUNT", "l", "(", "+"],
    ["ZLEXCOUNT", "l", "b", "+"],
    ["ZLEXCOUNT", "l", "-a", "+"],
    ["ZLEXCOUNT", "l", "", "+"],
    ["ZLEXCOUNT", "nokey", "-", "+"],
    ["ZLEXCOUNT", "nokey", "x", "+"],
  ],
  "ZRANGE by rank, REV, WITHSCORES and errors": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
    ["ZRANGE", "z", "0", "-1"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZRANGE", "z", "1", "2", "withscores"],
    ["ZRANGE", "z", "-2", "-1"],
    ["ZRANGE", "z", "-100", "100"],
    ["ZRANGE", "z", "3", "1"],
    ["ZRANGE", "z", "5", "10"],
    ["ZRANGE", "z", "0", "0", "REV"],
    ["ZRANGE", "z", "1", "3", "REV", "WITHSCORES"],
    ["ZRANGE", "z", "-9223372036854775808", "9223372036854775807"],
    ["ZRANGE", "z", "0", "9223372036854775808"],
    ["ZRANGE", "z", "a", "1"],
    ["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"],
    ["ZRANGE", "z", "0", "1", "LIMIT", "0", "-1"],
    ["ZRANGE", "z", "0", "1", "LIMIT", "0"],
    ["ZRANGE", "z", "0", "1", "REV", "REV"],
    ["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"],
    ["ZRANGE", "z", "0", "1", "FOO"],
    ["ZRANGE", "nokey", "0", "-1"],
    ["ZRANGE", "nokey", "x", "-1"],
    ["ZREVRANGE", "z", "0", "-1"],
    ["ZREVRANGE", "z", "0", "1", "WITHSCORES"],
    ["ZREVRANGE", "z", "0", "1", "REV"],
    ["ZREVRANGE", "z", "0", "1", "BYSCORE"],
    ["ZRANGE", "z", "0"],
  ],
  "ZRANGE BYSCORE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, LIMIT": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "-inf", "n", "inf", "p"],
    ["ZRANGE", "z", "-inf", "+inf", "BYSCORE"],
    ["ZRANGE", "z", "(1", "(4", "BYSCORE", "WITHSCORES"],
    ["ZRANGE", "z", "(4", "(1", "BYSCORE", "REV"],
    ["ZRANGE", "z", "1", "4", "BYSCORE", "REV"],
    ["ZRANGE", "z", "4", "1", "BYSCORE", "REV", "WITHSCORES"],
    ["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "1", "2"],
    ["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "1", "-1"],
    ["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "-1", "2"],
    ["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "0", "0"],
    ["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "7", "2"],
    ["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "6", "2"],
    ["ZRANGE", "z", "inf", "-inf", "BYSCORE", "REV", "LIMIT", "2", "3", "WITHSCORES"],
    ["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "x", "2"],
    ["ZRANGE", "z", "x", "inf", "BYSCORE"],
    ["ZRANGEBYSCORE", "z", "2", "4"],
    ["ZRANGEBYSCORE", "z", "2", "4", "WITHSCORES", "LIMIT", "1", "5"],
    ["ZRANGEBYSCORE", "z", "2", "4", "BYSCORE"],
    ["ZRANGEBYSCORE", "z", "2", "4", "REV"],
    ["ZRANGEBYSCORE", "z", "4", "2"],
    ["ZRANGEBYSCORE", "z", "(2", "(2"],
    ["ZREVRANGEBYSCORE", "z", "4", "2"],
    ["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", "0", "3"],
    ["ZREVRANGEBYSCORE", "z", "2", "4"],
    ["ZREVRANGEBYSCORE", "z", "(4", "(2"],
    ["ZRANGEBYSCORE", "nokey", "0", "1"],
    ["ZRANGEBYSCORE", "z", "0"],
    ["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "1"],
  ],
  "ZRANGE BYLEX, ZRANGEBYLEX, ZREVRANGEBYLEX": [
    ["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f", "0", "g"],
    ["ZRANGE", "l", "-", "+", "BYLEX"],
    ["ZRANGE", "l", "[b", "(e", "BYLEX"],
    ["ZRANGE", "l", "(e", "[b", "BYLEX", "REV"],
    ["ZRANGE", "l", "+", "-", "BYLEX", "REV", "LIMIT", "1", "2"],
    ["ZRANGE", "l", "-", "+", "BYLEX", "WITHSCORES"],
    ["ZRANGE", "l", "-", "+", "BYLEX", "LIMIT", "2", "-1"],
    ["ZRANGE", "l", "a", "+", "BYLEX"],
    ["ZRANGEBYLEX", "l", "-", "[c"],
    ["ZRANGEBYLEX", "l", "(c", "+", "LIMIT", "1", "2"],
    ["ZRANGEBYLEX", "l", "(c", "+", "WITHSCORES"],
    ["ZRANGEBYLEX", "l", "+", "-"],
    ["ZRANGEBYLEX", "l", "[aa", "[cc"],
    ["ZREVRANGEBYLEX", "l", "+", "-"],
    ["ZREVRANGEBYLEX", "l", "[e", "(b", "LIMIT", "0", "2"],
    ["ZREVRANGEBYLEX", "l", "-", "+"],
    ["ZRANGEBYLEX", "nokey", "-", "+"],
    ["ZRANGEBYLEX", "l", "-"],
  ],
  "ZRANGESTORE": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    ["ZRANGESTORE", "d", "z", "0", "1"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["ZRANGESTORE", "d", "z", "(1", "+inf", "BYSCORE", "LIMIT", "1", "5"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["ZRANGESTORE", "d", "z", "[d", "-", "BYLEX", "REV"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["ZRANGESTORE", "d", "z", "5", "10"],
    ["EXISTS", "d"],
    ["ZRANGESTORE", "d", "nokey", "0", "-1"],
    ["SET", "s", "x"],
    ["ZRANGESTORE", "s", "z", "0", "-1"],
    ["TYPE", "s"],
    ["ZRANGESTORE", "d", "s", "0", "-1"],
    ["ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"],
    ["ZRANGESTORE", "d", "z", "0"],
    ["SET", "e", "v", "EX", "100"],
    ["ZRANGESTORE", "e", "z", "0", "0"],
    ["TTL", "e"],
    ["OBJECT", "ENCODING", "e"],
  ],
  "ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
    ["ZREMRANGEBYRANK", "z", "0", "0"],
    ["ZREMRANGEBYRANK", "z", "-1", "-1"],
    ["ZREMRANGEBYRANK", "z", "5", "10"],
    ["ZREMRANGEBYRANK", "z", "2", "1"],
    ["ZREMRANGEBYRANK", "z", "x", "1"],
    ["ZRANGE", "z", "0", "-1"],
    ["ZREMRANGEBYSCORE", "z", "(2", "3"],
    ["ZREMRANGEBYSCORE", "z", "x", "3"],
    ["ZREMRANGEBYSCORE", "z", "10", "20"],
    ["ZRANGE", "z", "0", "-1"],
    ["ZREMRANGEBYRANK", "z", "-100", "100"],
    ["EXISTS", "z"],
    ["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d"],
    ["ZREMRANGEBYLEX", "l", "(a", "[c"],
    ["ZREMRANGEBYLEX", "l", "x", "[c"],
    ["ZRANGE", "l", "0", "-1"],
    ["ZREMRANGEBYLEX", "l", "-", "+"],
    ["EXISTS", "l"],
    ["ZREMRANGEBYRANK", "nokey", "0", "1"],
    ["ZREMRANGEBYSCORE", "nokey", "0", "1"],
    ["ZREMRANGEBYLEX", "nokey", "-", "+"],
  ],
  "ZPOPMIN, ZPOPMAX, ZMPOP": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
    ["ZPOPMIN", "z"],
    ["ZPOPMAX", "z"],
    ["ZPOPMIN", "z", "2"],
    ["ZPOPMIN", "z", "0"],
    ["ZPOPMIN", "z", "-1"],
    ["ZPOPMIN", "z", "x"],
    ["ZPOPMIN", "z", "1", "2"],
    ["ZPOPMAX", "z", "100"],
    ["EXISTS", "z"],
    ["ZPOPMIN", "z"],
    ["ZPOPMIN", "z", "3"],
    ["ZPOPMAX", "nokey", "0"],
    ["ZADD", "z1", "1", "a", "2", "b"],
    ["ZADD", "z2", "3", "c", "4", "d"],
    ["ZMPOP", "2", "nokey", "z1", "MIN"],
    ["ZMPOP", "2", "nokey", "z1", "max", "COUNT", "10"],
    ["ZMPOP", "3", "nokey", "z1", "z2", "MAX", "COUNT", "1"],
    ["ZMPOP", "1", "nokey", "MIN"],
    ["ZMPOP", "0", "z2", "MIN"],
    ["ZMPOP", "-1", "z2", "MIN"],
    ["ZMPOP", "x", "z2", "MIN"],
    ["ZMPOP", "1", "z2"],
    ["ZMPOP", "1", "z2", "MID"],
    ["ZMPOP", "1", "z2", "MIN", "COUNT"],
    ["ZMPOP", "1", "z2", "MIN", "COUNT", "0"],
    ["ZMPOP", "1", "z2", "MIN", "COUNT", "x"],
    ["ZMPOP", "1", "z2", "MIN", "COUNT", "1", "COUNT", "1"],
    ["ZMPOP", "1", "z2", "MIN", "FOO"],
    ["ZMPOP", "5", "z2", "MIN"],
    ["SET", "s", "x"],
    ["ZMPOP", "2", "s", "z2", "MIN"],
    ["ZMPOP", "2", "nokey", "s", "MIN"],
    ["ZPOPMIN", "s"],
    ["ZPOPMIN", "s", "0"],
  ],
  "ZRANDMEMBER deterministic cases": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    ["ZRANDMEMBER", "nokey"],
    ["ZRANDMEMBER", "nokey", "5"],
    ["ZRANDMEMBER", "z", "0"],
    ["ZRANDMEMBER", "z", "3"],
    ["ZRANDMEMBER", "z", "100", "WITHSCORES"],
    ["ZRANDMEMBER", "z", "9223372036854775807"],
    ["ZRANDMEMBER", "z", "-9223372036854775808"],
    ["ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"],
    ["ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"],
    ["ZRANDMEMBER", "z", "x"],
    ["ZRANDMEMBER", "z", "1", "FOO"],
    ["ZRANDMEMBER", "z", "1", "WITHSCORES", "x"],
    shape("ZRANDMEMBER", "z"),
    shape("ZRANDMEMBER", "z", "2"),
    shape("ZRANDMEMBER", "z", "-5", "WITHSCORES"),
    shape("ZRANDMEMBER", "z", "2", "WITHSCORES"),
    ["SET", "s", "x"],
    ["ZRANDMEMBER", "s"],
    ["ZRANDMEMBER", "s", "1"],
  ],
  "ZUNION, ZINTER, ZDIFF and their STOREs": [
    ["ZADD", "z1", "1", "a", "2", "b", "3", "c"],
    ["ZADD", "z2", "10", "b", "20", "c", "30", "d"],
    ["ZADD", "zi", "inf", "a", "-inf", "b"],
    ["ZUNION", "2", "z1", "z2"],
    ["ZUNION", "2", "z1", "z2", "WITHSCORES"],
    ["ZUNION", "2", "z1", "z2", "WEIGHTS", "2", "0.5", "WITHSCORES"],
    ["ZUNION", "2", "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES"],
    ["ZUNION", "2", "z1", "z2", "AGGREGATE", "max", "WITHSCORES"],
    ["ZUNION", "3", "z1", "z2", "nokey", "WITHSCORES"],
    ["ZUNION", "2", "z1", "zi", "WITHSCORES"],
    ["ZUNION", "2", "zi", "zi", "WITHSCORES"],
    ["ZUNION", "2", "zi", "z1", "WEIGHTS", "0", "1", "WITHSCORES"],
    ["ZUNION", "2", "z1", "z2", "WEIGHTS", "1"],
    ["ZUNION", "2", "z1", "z2", "WEIGHTS", "1", "x"],
    ["ZUNION", "2", "z1", "z2", "AGGREGATE", "AVG"],
    ["ZUNION", "2", "z1", "z2", "AGGREGATE"],
    ["ZUNION", "0", "z1"],
    ["ZUNION", "-1", "z1"],
    ["ZUNION", "x", "z1"],
    ["ZUNION", "3", "z1", "z2"],
    ["ZUNION", "2", "z1", "z2", "FOO"],
    ["ZINTER", "2", "z1", "z2", "WITHSCORES"],
    ["ZINTER", "2", "z1", "z2", "WEIGHTS", "1", "-1", "AGGREGATE", "SUM", "WITHSCORES"],
    ["ZINTER", "2", "z1", "zi", "WEIGHTS", "0", "0", "WITHSCORES"],
    ["ZINTER", "2", "zi", "zi", "WITHSCORES"],
    ["ZINTER", "2", "z1", "nokey"],
    ["ZINTER", "1", "z1", "AGGREGATE", "MAX", "WITHSCORES"],
    ["ZDIFF", "2", "z1", "z2"],
    ["ZDIFF", "2", "z1", "z2", "WITHSCORES"],
    ["ZDIFF", "1", "z1", "WITHSCORES"],
    ["ZDIFF", "2", "nokey", "z1"],
    ["ZDIFF", "2", "z1", "z2", "WEIGHTS", "1", "1"],
    ["ZDIFF", "2", "z1", "z2", "AGGREGATE", "MIN"],
    ["ZUNIONSTORE", "d", "2", "z1", "z2"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["ZUNIONSTORE", "d", "2", "z1", "z2", "WITHSCORES"],
    ["ZINTERSTORE", "d", "2", "z1", "z2", "AGGREGATE", "MAX"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["ZINTERSTORE", "d", "2", "z1", "nokey"],
    ["EXISTS", "d"],
    ["ZDIFFSTORE", "d", "2", "z2", "z1"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["ZDIFFSTORE", "d", "1", "nokey"],
    ["EXISTS", "d"],
    ["ZUNIONSTORE", "z1", "2", "z1", "z2"],
    ["ZRANGE", "z1", "0", "-1", "WITHSCORES"],
    ["ZUNIONSTORE", "d", "0", "z1"],
    ["ZINTERSTORE", "d", "0", "z1"],
    ["ZDIFFSTORE", "d", "0", "z1"],
    ["ZDIFF", "0", "z1"],
    ["ZINTER", "0", "z1"],
    ["SET", "s", "x"],
    ["ZUNION", "2", "z1", "s"],
    ["ZUNIONSTORE", "s", "1", "z2"],
    ["TYPE", "s"],
    ["ZINTERCARD", "2", "z1", "z2"],
    ["ZINTERCARD", "2", "z1", "z2", "LIMIT", "1"],
    ["ZINTERCARD", "2", "z1", "z2", "LIMIT", "0"],
    ["ZINTERCARD", "2", "z1", "z2", "LIMIT", "-1"],
    ["ZINTERCARD", "2", "z1", "z2", "LIMIT", "x"],
    ["ZINTERCARD", "2", "z1", "z2", "WITHSCORES"],
    ["ZINTERCARD", "0", "z1"],
    ["ZINTERCARD", "3", "z1"],
    ["ZINTERCARD", "2", "z1", "nokey"],
    ["ZINTERCARD", "1", "s"],
  ],
  "ZSCAN": [
    ["ZADD", "z", "1", "a", "2.5", "b", "-inf", "c", "1e20", "d"],
    ["ZSCAN", "z", "0"],
    ["ZSCAN", "z", "0", "MATCH", "a*"],
    ["ZSCAN", "z", "0", "COUNT", "1"],
    ["ZSCAN", "z", "0", "COUNT", "0"],
    ["ZSCAN", "z", "0", "COUNT", "x"],
    ["ZSCAN", "z", "x"],
    ["ZSCAN", "z", "0", "FOO", "1"],
    ["ZSCAN", "z", "0", "MATCH"],
    ["ZSCAN", "nokey", "0"],
    ["ZADD", "big", ...many],
    anyOrder("ZSCAN", "big", "0", "COUNT", "1000"),
    ["SET", "s", "x"],
    ["ZSCAN", "s", "0"],
  ],
  "encodings: listpack → skiplist and back on store": [
    ["ZADD", "z", ...many.slice(0, 256)],
    ["OBJECT", "ENCODING", "z"],
    ["ZADD", "z", "1", "m128"],
    ["OBJECT", "ENCODING", "z"],
    ["ZREM", "z", "m128", "m127"],
    ["OBJECT", "ENCODING", "z"],
    ["ZADD", "e", "1", EDGE],
    ["OBJECT", "ENCODING", "e"],
    ["ZADD", "e", "1", LONG],
    ["OBJECT", "ENCODING", "e"],
    ["ZADD", "e2", "1", LONG],
    ["OBJECT", "ENCODING", "e2"],
    ["ZRANGESTORE", "d", "z", "0", "5"],
    ["OBJECT", "ENCODING", "d"],
    ["ZRANGESTORE", "d", "z", "0", "-1"],
    ["OBJECT", "ENCODING", "d"],
    ["ZUNIONSTORE", "u", "1", "e"],
    ["OBJECT", "ENCODING", "u"],
    ["ZUNIONSTORE", "u", "1", "z"],
    ["OBJECT", "ENCODING", "u"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZRANGE", "z", "10", "20", "REV", "WITHSCORES"],
    ["ZRANGE", "z", "(1", "5", "BYSCORE", "LIMIT", "3", "7", "WITHSCORES"],
    ["ZRANGE", "z", "5", "(1", "BYSCORE", "REV", "LIMIT", "3", "7"],
    ["ZCOUNT", "z", "2", "4"],
    ["ZRANK", "z", "m50"],
    ["ZREVRANK", "z", "m50"],
    ["ZPOPMIN", "z", "3"],
    ["ZPOPMAX", "z", "3"],
    ["ZREMRANGEBYRANK", "z", "10", "20"],
    ["ZREMRANGEBYSCORE", "z", "3", "(4"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZCARD", "z"],
  ],
  "WRONGTYPE, TYPE and keyspace commands": [
    ["SET", "s", "x"],
    ["ZADD", "s", "1", "a"],
    ["ZINCRBY", "s", "1", "a"],
    ["ZREM", "s", "a"],
    ["ZCARD", "s"],
    ["ZSCORE", "s", "a"],
    ["ZMSCORE", "s", "a"],
    ["ZRANK", "s", "a"],
    ["ZCOUNT", "s", "0", "1"],
    ["ZLEXCOUNT", "s", "-", "+"],
    ["ZRANGE", "s", "0", "1"],
    ["ZRANGEBYSCORE", "s", "0", "1"],
    ["ZRANGEBYLEX", "s", "-", "+"],
    ["ZREMRANGEBYRANK", "s", "0", "1"],
    ["ZRANGE", "s", "x", "1"],
    ["ZADD", "z", "1", "a"],
    ["GET", "z"],
    ["HGET", "z", "a"],
    ["APPEND", "z", "x"],
    ["TYPE", "z"],
    ["OBJECT", "ENCODING", "z"],
    ["EXPIRE", "z", "100"],
    ["TTL", "z"],
    ["RENAME", "z", "z2"],
    ["ZRANGE", "z2", "0", "-1", "WITHSCORES"],
    ["COPY", "z2", "z3"],
    ["ZADD", "z3", "2", "b"],
    ["ZRANGE", "z2", "0", "-1"],
    ["ZRANGE", "z3", "0", "-1"],
    ["MOVE", "z3", "1"],
    ["SELECT", "1"],
    ["ZRANGE", "z3", "0", "-1", "WITHSCORES"],
    ["SELECT", "0"],
    ["SCAN", "0", "TYPE", "zset", "COUNT", "1000"],
    ["DEL", "z2"],
    ["EXISTS", "z2"],
  ],
};

const KEYS = ["z1", "z2", "s"];
const MEMBERS = ["a", "b", "c", "d", "e", "", BIN, "zz"];
const SCORES = ["0", "1", "-1", "2.5", "-inf", "+inf", "1e3", "(1", "x", "0.1", "-0"];
const BOUNDS = ["-inf", "+inf", "0", "1", "(1", "2.5", "(2.5", "-1", "x"];
const LEX = ["-", "+", "[a", "(a", "[c", "(d", "[", "x"];
const RANKS = ["0", "1", "-1", "-2", "2", "100", "-100"];

function key(r: Rng): string {
  return r.pick(KEYS);
}

function member(r: Rng): string {
  return r.pick(MEMBERS);
}

const TEMPLATES: Template<StepLike>[] = [
  template(5, (r) => ["ZADD", key(r), r.pick(SCORES), member(r)]),
  template(3, (r) => ["ZADD", key(r), r.pick(SCORES), member(r), r.pick(SCORES), member(r)]),
  template(3, (r) => [
    "ZADD",
    key(r),
    ...r.pick([["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["XX", "GT"], ["INCR"], ["GT", "CH"]]),
    r.pick(SCORES),
    member(r),
  ]),
  template(2, (r) => ["ZINCRBY", key(r), r.pick(SCORES), member(r)]),
  template(3, (r) => ["ZREM", key(r), member(r), ...r.pick([[], [member(r)]])]),
  template(1, (r) => ["ZCARD", key(r)]),
  template(2, (r) => ["ZSCORE", key(r), member(r)]),
  template(1, (r) => ["ZMSCORE", key(r), member(r), member(r)]),
  template(2, (r) => [r.pick(["ZRANK", "ZREVRANK"]), key(r), member(r)]),
  template(2, (r) => ["ZCOUNT", key(r), r.pick(BOUNDS), r.pick(BOUNDS)]),
  template(3, (r) => [
    "ZRANGE",
    key(r),
    r.pick(RANKS),
    r.pick(RANKS),
    ...r.pick([[], ["REV"], ["WITHSCORES"], ["REV", "WITHSCORES"]]),
  ]),
  template(2, (r) => [
    "ZRANGE",
    key(r),
    r.pick(BOUNDS),
    r.pick(BOUNDS),
    "BYSCORE",
    ...r.pick([[], ["REV"], ["WITHSCORES"], ["LIMIT", "1", "2"], ["REV", "LIMIT", "0", "-1"]]),
  ]),
  template(1, (r) => [
    r.pick(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]),
    key(r),
    r.pick(BOUNDS),
    r.pick(BOUNDS),
    ...r.pick([[], ["WITHSCORES"], ["LIMIT", "1", "1"]]),
  ]),
  template(1, (r) => ["ZREVRANGE", key(r), r.pick(RANKS), r.pick(RANKS), "WITHSCORES"]),
  template(1, (r) => ["ZRANGESTORE", key(r), key(r), r.pick(RANKS), r.pick(RANKS)]),
  template(1, (r) => ["ZREMRANGEBYRANK", key(r), r.pick(RANKS), r.pick(RANKS)]),
  template(1, (r) => ["ZREMRANGEBYSCORE", key(r), r.pick(BOUNDS), r.pick(BOUNDS)]),
  template(
    2,
    (r) => [r.pick(["ZPOPMIN", "ZPOPMAX"]), key(r), ...r.pick([[], ["1"], ["2"], ["0"]])],
  ),
  template(1, (r) => ["ZMPOP", "2", key(r), key(r), r.pick(["MIN", "MAX"]), "COUNT", "2"]),
  template(1, (r) => [
    r.pick(["ZUNION", "ZINTER", "ZDIFF"]),
    "2",
    key(r),
    key(r),
    "WITHSCORES",
  ]),
  template(1, (r) => [
    r.pick(["ZUNIONSTORE", "ZINTERSTORE"]),
    key(r),
    "2",
    key(r),
    key(r),
    "WEIGHTS",
    r.pick(["1", "2", "-1", "0"]),
    "1",
    "AGGREGATE",
    r.pick(["SUM", "MIN", "MAX"]),
  ]),
  template(1, (r) => ["ZINTERCARD", "2", key(r), key(r)]),
  template(1, (r) => ["ZRANDMEMBER", key(r), r.pick(["0", "100", "-0"]), "WITHSCORES"]),
  template(1, (r) => ["ZSCAN", key(r), "0", ...r.pick([[], ["MATCH", "a*"]])]),
  template(1, (r) => ["SET", "s", r.pick(SCORES)]),
  template(1, (r) => ["TYPE", key(r)]),
  template(1, (r) => ["OBJECT", "ENCODING", key(r)]),
  template(1, (r) => ["DEL", key(r)]),
];

/** Lexicographic commands over one key whose scores are all 0 (Redis's precondition). */
const LEX_TEMPLATES: Template<StepLike>[] = [
  template(4, (r) => ["ZADD", "l", "0", member(r)]),
  template(2, (r) => ["ZREM", "l", member(r)]),
  template(2, (r) => ["ZLEXCOUNT", "l", r.pick(LEX), r.pick(LEX)]),
  template(2, (r) => [
    "ZRANGE",
    "l",
    r.pick(LEX),
    r.pick(LEX),
    "BYLEX",
    ...r.pick([[], ["REV"], ["LIMIT", "1", "2"]]),
  ]),
  template(1, (r) => [r.pick(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), "l", r.pick(LEX), r.pick(LEX)]),
  template(1, (r) => ["ZREMRANGEBYLEX", "l", r.pick(LEX), r.pick(LEX)]),
];

/** Operations on sorted sets past the listpack limits (skiplist encoding, and back on store). */
const BIG_KEYS = ["b1", "b2"];
function bigMember(r: Rng): string {
  return `m${r.int(0, 199)}`;
}
const BIG_SCORES = ["0", "1", "2", "-1.5", "1e3", "-inf", "inf", "3.25"];
const BIG_TEMPLATES: Template<StepLike>[] = [
  template(1, (r) => {
    const pairs: string[] = [];
    for (let i = 0; i < 130; i++) pairs.push(r.pick(BIG_SCORES), bigMember(r));
    return ["ZADD", r.pick(BIG_KEYS), ...pairs];
  }),
  template(4, (r) => ["ZADD", r.pick(BIG_KEYS), r.pick(BIG_SCORES), bigMember(r)]),
  template(2, (r) => ["ZINCRBY", r.pick(BIG_KEYS), r.pick(BIG_SCORES), bigMember(r)]),
  template(3, (r) => ["ZREM", r.pick(BIG_KEYS), bigMember(r), bigMember(r)]),
  template(2, (r) => ["ZSCORE", r.pick(BIG_KEYS), bigMember(r)]),
  template(2, (r) => [r.pick(["ZRANK", "ZREVRANK"]), r.pick(BIG_KEYS), bigMember(r)]),
  template(2, (r) => ["ZCOUNT", r.pick(BIG_KEYS), r.pick(BOUNDS), r.pick(BOUNDS)]),
  template(3, (r) => [
    "ZRANGE",
    r.pick(BIG_KEYS),
    r.pick(RANKS),
    r.pick(RANKS),
    ...r.pick([[], ["REV"], ["WITHSCORES"], ["REV", "WITHSCORES"]]),
  ]),
  template(3, (r) => [
    "ZRANGE",
    r.pick(BIG_KEYS),
    r.pick(BOUNDS),
    r.pick(BOUNDS),
    "BYSCORE",
    ...r.pick([["WITHSCORES"], ["LIMIT", "3", "5"], ["REV", "LIMIT", "2", "4"]]),
  ]),
  template(1, (r) => ["ZREMRANGEBYRANK", r.pick(BIG_KEYS), r.pick(RANKS), r.pick(RANKS)]),
  template(1, (r) => ["ZREMRANGEBYSCORE", r.pick(BIG_KEYS), r.pick(BOUNDS), r.pick(BOUNDS)]),
  template(2, (r) => [r.pick(["ZPOPMIN", "ZPOPMAX"]), r.pick(BIG_KEYS), r.pick(["1", "5"])]),
  template(1, (r) => ["ZRANGESTORE", "d", r.pick(BIG_KEYS), r.pick(RANKS), r.pick(RANKS)]),
  template(1, (r) => [
    r.pick(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]),
    "d",
    "2",
    "b1",
    "b2",
  ]),
  template(1, (r) => [r.pick(["ZUNION", "ZINTER", "ZDIFF"]), "2", "b1", "b2", "WITHSCORES"]),
  template(1, () => ["ZINTERCARD", "2", "b1", "b2", "LIMIT", "10"]),
  template(1, (r) => ["ZCARD", r.pick([...BIG_KEYS, "d"])]),
  template(1, (r) => ["OBJECT", "ENCODING", r.pick([...BIG_KEYS, "d"])]),
  template(1, (r) => ["ZRANDMEMBER", r.pick(BIG_KEYS), "1000", "WITHSCORES"]),
  template(1, (r) => anyOrder("ZSCAN", r.pick(BIG_KEYS), "0", "COUNT", "1000")),
];

differentialTest(
  "differential: sorted-set commands, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const resp3 = seed % 2 === 0;
      await t.step(`random sequence, seed ${seed} (RESP${resp3 ? 3 : 2})`, async () => {
        await pair.diffRandom({
          seed,
          length: 1500,
          templates: seed <= 2
            ? TEMPLATES
            : seed <= 4
            ? [...TEMPLATES, ...LEX_TEMPLATES]
            : BIG_TEMPLATES,
          rules: STANDARD_RULES,
          resp3,
        });
      });
    }
  },
);

type Arg = string | Uint8Array;

/** Keyspace notifications of the sorted-set commands (`KEAnm` on both servers). */
function zsetEvents(e: EventSteps): StepLike[] {
  return [
    ...e.listeners(),
    ...e.ev(2, "ZADD", "z", "1", "a", "2", "b", "3", "c"),
    ...e.ev(1, "ZADD", "z", "5", "a"),
    ...e.ev(0, "ZADD", "z", "5", "a"),
    ...e.ev(0, "ZADD", "z", "NX", "6", "a"),
    ...e.ev(1, "ZINCRBY", "z", "1", "a"),
    ...e.ev(2, "ZINCRBY", "z9", "1", "a"),
    ...e.ev(2, "ZREM", "z9", "a"),
    ...e.ev(0, "ZREM", "z", "nope"),
    ...e.ev(1, "ZREM", "z", "a"),
    ...e.ev(1, "ZPOPMIN", "z"),
    ...e.ev(0, "ZPOPMIN", "z", "0"),
    ...e.ev(2, "ZPOPMAX", "z", "5"),
    ...e.ev(2, "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"),
    ...e.ev(1, "ZMPOP", "1", "z", "MIN"),
    ...e.ev(1, "ZREMRANGEBYRANK", "z", "0", "0"),
    ...e.ev(1, "ZREMRANGEBYSCORE", "z", "3", "3"),
    ...e.ev(0, "ZREMRANGEBYSCORE", "z", "30", "30"),
    ...e.ev(2, "ZRANGESTORE", "d", "z", "0", "-1"),
    ...e.ev(1, "ZRANGESTORE", "d", "z", "0", "-1"),
    ...e.ev(1, "ZRANGESTORE", "d", "nokey", "0", "-1"),
    ...e.ev(2, "ZUNIONSTORE", "u", "1", "z"),
    ...e.ev(1, "ZINTERSTORE", "u", "1", "z"),
    ...e.ev(1, "ZDIFFSTORE", "u", "2", "z", "z"),
    ...e.ev(0, "ZDIFFSTORE", "u", "2", "z", "z"),
    ...e.ev(2, "ZREMRANGEBYLEX", "z", "-", "+"),
    ...e.ev(1, "ZRANGE", "nokey", "0", "1"),
  ];
}

keyspaceEventsTest(
  "differential: sorted-set keyspace notifications, kvdb vs redis-server 7.0, RESP2 and RESP3",
  "zset events",
  zsetEvents,
);

/**
 * ZRANDMEMBER's random answers by their properties, on kvdb alone (Redis's
 * picks are random too): distinct members of the set when the count is
 * positive, repeats allowed and exactly |count| when negative, scores that
 * are the members' own, in both encodings (RESP3's pairs: the shape steps above).
 */
Deno.test("ZRANDMEMBER: random picks are members with their scores, distinct for a positive count", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "1MiB" } });
  const client = await RespClient.connect(server.port);
  try {
    for (const [key, size] of [["small", 5], ["big", 300]] as const) {
      const scores = new Map<string, string>();
      const args = ["ZADD", key];
      for (let i = 0; i < size; i++) {
        scores.set(`m${i}`, String(i * 1.5));
        args.push(String(i * 1.5), `m${i}`);
      }
      await client.call(...args);
      for (let round = 0; round < 20; round++) {
        const one = await client.call("ZRANDMEMBER", key) as string;
        assert.ok(scores.has(one), one);
        const some = await client.call("ZRANDMEMBER", key, "3") as string[];
        assert.equal(some.length, 3);
        assert.equal(new Set(some).size, 3, `distinct: ${some}`);
        for (const m of some) assert.ok(scores.has(m), m);
        const flat = await client.call("ZRANDMEMBER", key, "-7", "WITHSCORES") as string[];
        assert.equal(flat.length, 14);
        for (let i = 0; i < flat.length; i += 2) assert.equal(scores.get(flat[i]), flat[i + 1]);
      }
      // Repeats: far more picks than members, every pick a member.
      const many = await client.call("ZRANDMEMBER", key, String(-size * 4)) as string[];
      assert.equal(many.length, size * 4);
      assert.ok(many.every((m) => scores.has(m)));
      assert.ok(new Set(many).size > 1, "not always the same member");
    }
  } finally {
    client.close();
    await server.stop();
  }
});
