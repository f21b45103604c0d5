/**
 * kvdb against redis-server 7.0 on the set group (issue 16): every set
 * command, its errors and argument-parsing order, the WRONGTYPE answers of
 * string and hash commands on a set (and of set commands on a string),
 * TYPE, OBJECT ENCODING through the intset → hashtable conversions (and
 * SPOP's and SDIFF's re-encodings), SCAN TYPE, keyspace commands on a set,
 * keyspace notifications, and seeded random sequences; replies compared
 * byte for byte in RESP2 and RESP3.
 *
 * Order: an intset answers in ascending order in both servers, so those
 * replies are compared exactly; a hashtable's order is Redis's dict order,
 * which kvdb does not reproduce, so those steps compare as multisets
 * (`unordered`). Random picks (SRANDMEMBER, SPOP with a count smaller than
 * the set) compare by properties: reply type and size, distinctness, and
 * membership in the set.
 */

import {
  type Comparator,
  differentialTest,
  DiffPair,
  type Rng,
  scanAll,
  shapeOnly,
  STANDARD_RULES,
  type StepLike,
  type Template,
  template,
  unordered,
} from "./_differential.ts";
import { type EventSteps, keyspaceEventsTest } from "./_keyspace_events.ts";
import type { RespValue } from "./_resp_frames.ts";

const I64_MAX = "9223372036854775807";
const I64_MIN = "-9223372036854775808";
const BIN = "\x00\x01\r\n\xff\xfe";

/** A step compared as a multiset (hashtable order). */
function anyOrder(...args: string[]): StepLike {
  return { args, compare: unordered };
}

/** A step compared by shape only (a single random pick). */
function shape(...args: string[]): StepLike {
  return { args, compare: shapeOnly };
}

function items(v: RespValue): string[] | undefined {
  if (v.type !== "array" && v.type !== "set") return undefined;
  const out: string[] = [];
  for (const item of v.items) {
    if (item.type !== "bulk") return undefined;
    out.push(item.value);
  }
  return out;
}

/**
 * Random picks from `members`: both replies of the same aggregate type and
 * size, every element one of `members`, distinct when `distinct`.
 */
function picks(members: readonly string[], distinct: boolean): Comparator {
  const allowed = new Set(members);
  const valid = (v: RespValue) => {
    const got = items(v);
    if (got === undefined) return undefined;
    if (!got.every((m) => allowed.has(m))) return undefined;
    if (distinct && new Set(got).size !== got.length) return undefined;
    return got;
  };
  return {
    name: `picks(${distinct ? "distinct" : "repeats"})`,
    equal(a, b) {
      const [x, y] = [valid(a.value), valid(b.value)];
      return x !== undefined && y !== undefined && a.value.type === b.value.type &&
        x.length === y.length;
    },
  };
}

/** A random pick from `members` (SRANDMEMBER or SPOP of one): a bulk string among them. */
function onePick(members: readonly string[]): Comparator {
  const allowed = new Set(members);
  return {
    name: "onePick",
    equal(a, b) {
      return a.value.type === "bulk" && b.value.type === "bulk" &&
        allowed.has(a.value.value) && allowed.has(b.value.value);
    },
  };
}

function range(from: number, to: number, prefix = ""): string[] {
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(`${prefix}${i}`);
  return out;
}

const ABC = ["a", "b", "c", "d", "e"];

const CASES: Record<string, StepLike[]> = {
  "SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS": [
    ["SADD", "s", "c", "a", "b", "a"],
    ["SADD", "s", "a", "d"],
    ["SADD", "s"],
    ["SADD"],
    ["SCARD", "s"],
    ["SCARD", "nokey"],
    ["SCARD", "s", "x"],
    ["SISMEMBER", "s", "a"],
    ["SISMEMBER", "s", "zz"],
    ["SISMEMBER", "nokey", "a"],
    ["SISMEMBER", "s"],
    ["SMISMEMBER", "s", "a", "zz", "b", "a"],
    ["SMISMEMBER", "nokey", "a", "b"],
    ["SMISMEMBER", "s"],
    anyOrder("SMEMBERS", "s"),
    ["SMEMBERS", "nokey"],
    ["SMEMBERS", "s", "x"],
    ["SREM", "s", "zz"],
    ["SREM", "s", "a", "a", "zz"],
    ["SREM", "nokey", "a"],
    ["SREM", "s"],
    ["SREM", "s", "b", "c", "d"],
    ["EXISTS", "s"],
    ["TYPE", "s"],
    ["SADD", "bin", BIN, "", BIN],
    ["SISMEMBER", "bin", BIN],
    ["SISMEMBER", "bin", ""],
    anyOrder("SMEMBERS", "bin"),
    ["TYPE", "bin"],
    ["OBJECT", "ENCODING", "bin"],
  ],
  "intsets: ascending order, and what counts as an integer": [
    ["SADD", "i", "5", "-3", "100", "0", "-100", "7", I64_MAX, I64_MIN],
    ["OBJECT", "ENCODING", "i"],
    ["SMEMBERS", "i"],
    ["SISMEMBER", "i", "05"],
    ["SISMEMBER", "i", "+5"],
    ["SISMEMBER", "i", "5"],
    ["SMISMEMBER", "i", "-0", "0", "abc", "100"],
    ["SREM", "i", "007", "-3"],
    ["SMEMBERS", "i"],
    ["SADD", "z", "-0"],
    ["OBJECT", "ENCODING", "z"],
    ["SADD", "p", "+1"],
    ["OBJECT", "ENCODING", "p"],
    ["SADD", "o", "01"],
    ["OBJECT", "ENCODING", "o"],
    ["SADD", "big", "9223372036854775808"],
    ["OBJECT", "ENCODING", "big"],
    ["SADD", "sp", " 1"],
    ["OBJECT", "ENCODING", "sp"],
    ["SADD", "j", "3", "2", "1"],
    ["SADD", "j", "x"],
    ["OBJECT", "ENCODING", "j"],
    ["SREM", "j", "x"],
    ["OBJECT", "ENCODING", "j"],
    anyOrder("SMEMBERS", "j"),
    ["SADD", "k", "x", "1"],
    ["OBJECT", "ENCODING", "k"],
    ["SSCAN", "i", "0"],
    ["SSCAN", "i", "0", "MATCH", "1*"],
    ["SSCAN", "i", "0", "COUNT", "1"],
    ["SRANDMEMBER", "i", "100"],
    ["SUNION", "i", "nokey"],
    ["SINTER", "i", "i"],
  ],
  "intset to hashtable: 513 members": [
    ["SADD", "n", ...range(1, 512).reverse()],
    ["OBJECT", "ENCODING", "n"],
    ["SCARD", "n"],
    ["SMEMBERS", "n"],
    ["SADD", "n", "512"],
    ["OBJECT", "ENCODING", "n"],
    ["SADD", "n", "513"],
    ["OBJECT", "ENCODING", "n"],
    ["SREM", "n", ...range(1, 400)],
    ["OBJECT", "ENCODING", "n"],
    anyOrder("SMEMBERS", "n"),
    { args: ["SSCAN", "n", "0", "COUNT", "100000"], compare: scanAll },
    ["SADD", "m", ...range(1, 600)],
    ["OBJECT", "ENCODING", "m"],
    ["SADD", "h", ...range(1, 300, "member:")],
    ["OBJECT", "ENCODING", "h"],
    ["SCARD", "h"],
    ["SISMEMBER", "h", "member:77"],
    anyOrder("SMEMBERS", "h"),
    { args: ["SSCAN", "h", "0", "COUNT", "100000"], compare: scanAll },
    { args: ["SSCAN", "h", "0", "MATCH", "member:1?", "COUNT", "100000"], compare: scanAll },
    ["SADD", "long", "x".repeat(65), "1"],
    ["OBJECT", "ENCODING", "long"],
  ],
  "SRANDMEMBER": [
    ["SRANDMEMBER", "nokey"],
    ["SRANDMEMBER", "nokey", "3"],
    ["SRANDMEMBER", "nokey", "-3"],
    ["SRANDMEMBER", "nokey", "x"],
    ["SADD", "s", ...ABC],
    ["SADD", "i", "3", "1", "2"],
    ["SRANDMEMBER", "s", "0"],
    anyOrder("SRANDMEMBER", "s", "5"),
    anyOrder("SRANDMEMBER", "s", "100"),
    anyOrder("SRANDMEMBER", "s", I64_MAX),
    ["SRANDMEMBER", "i", "3"],
    ["SRANDMEMBER", "i", "4"],
    { args: ["SRANDMEMBER", "s"], compare: onePick(ABC) },
    { args: ["SRANDMEMBER", "s", "1"], compare: picks(ABC, true) },
    { args: ["SRANDMEMBER", "s", "2"], compare: picks(ABC, true) },
    { args: ["SRANDMEMBER", "s", "4"], compare: picks(ABC, true) },
    { args: ["SRANDMEMBER", "s", "-3"], compare: picks(ABC, false) },
    { args: ["SRANDMEMBER", "s", "-20"], compare: picks(ABC, false) },
    { args: ["SRANDMEMBER", "i", "-7"], compare: picks(["1", "2", "3"], false) },
    { args: ["SRANDMEMBER", "i", "2"], compare: picks(["1", "2", "3"], true) },
    ["SRANDMEMBER", "s", "x"],
    ["SRANDMEMBER", "s", "1.5"],
    ["SRANDMEMBER", "s", ""],
    ["SRANDMEMBER", "s", I64_MIN],
    ["SRANDMEMBER", "s", "1", "2"],
    ["SRANDMEMBER", "s", "x", "2"],
    ["SRANDMEMBER"],
    ["SET", "str", "v"],
    ["SRANDMEMBER", "str"],
    ["SRANDMEMBER", "str", "2"],
    ["SRANDMEMBER", "str", "x"],
  ],
  "SRANDMEMBER on a big hashtable": [
    ["SADD", "h", ...range(1, 1000, "m")],
    { args: ["SRANDMEMBER", "h", "10"], compare: picks(range(1, 1000, "m"), true) },
    { args: ["SRANDMEMBER", "h", "400"], compare: picks(range(1, 1000, "m"), true) },
    { args: ["SRANDMEMBER", "h", "999"], compare: picks(range(1, 1000, "m"), true) },
    { args: ["SRANDMEMBER", "h", "-2000"], compare: picks(range(1, 1000, "m"), false) },
    anyOrder("SRANDMEMBER", "h", "1000"),
    ["SCARD", "h"],
  ],
  "SPOP": [
    ["SPOP", "nokey"],
    ["SPOP", "nokey", "2"],
    ["SPOP", "nokey", "x"],
    ["SPOP", "nokey", "-1"],
    ["SADD", "one", "x"],
    ["SPOP", "one"],
    ["EXISTS", "one"],
    ["SADD", "one", "7"],
    ["SPOP", "one", "1"],
    ["EXISTS", "one"],
    ["SADD", "s", ...ABC],
    ["SPOP", "s", "0"],
    ["SPOP", "s", "-1"],
    ["SPOP", "s", "x"],
    ["SPOP", "s", "1.5"],
    ["SPOP", "s", "1", "2"],
    ["SPOP", "s", "x", "2"],
    { args: ["SPOP", "s"], compare: onePick(ABC) },
    ["SCARD", "s"],
    { args: ["SPOP", "s", "2"], compare: picks(ABC, true) },
    ["SCARD", "s"],
    { args: ["SPOP", "s", "2"], compare: picks(ABC, true) },
    ["EXISTS", "s"],
    ["SADD", "i", "5", "3", "9", "1"],
    ["SPOP", "i", "4"],
    ["EXISTS", "i"],
    ["SADD", "i", "5", "3", "9", "1"],
    ["SPOP", "i", I64_MAX],
    ["SADD", "i", "5", "3", "9", "1"],
    { args: ["SPOP", "i", "3"], compare: picks(["1", "3", "5", "9"], true) },
    ["SCARD", "i"],
    ["OBJECT", "ENCODING", "i"],
    // A hashtable of integers: the whole set comes back as a new set would hold it (ascending).
    ["SADD", "hi", "3", "x", "1", "2"],
    ["SREM", "hi", "x"],
    ["SPOP", "hi", "10"],
    ["SET", "str", "v"],
    ["SPOP", "str"],
    ["SPOP", "str", "1"],
    ["SPOP", "str", "x"],
  ],
  "SPOP that takes most of a set rebuilds it, encoded by what stays": [
    // A hashtable of integers: case 2 (few taken) keeps the hashtable...
    ["SADD", "s", ...range(1, 10), "x"],
    ["SREM", "s", "x"],
    ["OBJECT", "ENCODING", "s"],
    { args: ["SPOP", "s", "5"], compare: picks(range(1, 10), true) },
    ["OBJECT", "ENCODING", "s"],
    // ...case 3 (fewer than a fifth stay) makes a new set: an intset.
    ["SADD", "t", ...range(1, 10), "x"],
    ["SREM", "t", "x"],
    { args: ["SPOP", "t", "9"], compare: picks(range(1, 10), true) },
    ["OBJECT", "ENCODING", "t"],
    ["SCARD", "t"],
    ["SADD", "u", ...range(1, 600)],
    ["OBJECT", "ENCODING", "u"],
    { args: ["SPOP", "u", "590"], compare: picks(range(1, 600), true) },
    ["OBJECT", "ENCODING", "u"],
    ["SCARD", "u"],
    ["SADD", "w", ...range(1, 600, "w")],
    { args: ["SPOP", "w", "590"], compare: picks(range(1, 600, "w"), true) },
    ["OBJECT", "ENCODING", "w"],
    ["SCARD", "w"],
  ],
  "SMOVE": [
    ["SADD", "a", "1", "2", "x"],
    ["SADD", "b", "3"],
    ["SMOVE", "a", "b", "1"],
    ["SMOVE", "a", "b", "1"],
    ["SMOVE", "a", "b", "zz"],
    ["SMOVE", "nokey", "b", "1"],
    ["SMOVE", "a", "a", "2"],
    ["SMOVE", "a", "a", "zz"],
    ["SMOVE", "a", "new", "2"],
    ["OBJECT", "ENCODING", "new"],
    ["SMOVE", "a", "new2", "x"],
    ["OBJECT", "ENCODING", "new2"],
    ["EXISTS", "a"],
    ["SMEMBERS", "b"],
    ["OBJECT", "ENCODING", "b"],
    ["SADD", "c", "y"],
    ["SMOVE", "b", "c", "y"],
    ["SMOVE", "c", "b", "y"],
    ["OBJECT", "ENCODING", "b"],
    anyOrder("SMEMBERS", "b"),
    ["SET", "str", "v"],
    ["SMOVE", "str", "b", "1"],
    ["SMOVE", "b", "str", "1"],
    ["SMOVE", "nokey", "str", "1"],
    ["SMOVE", "b", "str", "nomember"],
    ["SMOVE", "str", "nokey", "1"],
    ["SMOVE", "a", "b"],
  ],
  "SINTER, SINTERCARD, SINTERSTORE": [
    ["SADD", "a", "1", "2", "3", "4", "5"],
    ["SADD", "b", "2", "3", "5", "7"],
    ["SADD", "c", "3", "5", "x"],
    ["SADD", "d", "y", "x", "z"],
    ["SINTER", "a", "b"],
    ["SINTER", "b", "a"],
    anyOrder("SINTER", "a", "b", "c"),
    ["SINTER", "a", "a"],
    ["SINTER", "a"],
    ["SINTER", "a", "nokey"],
    ["SINTER", "nokey", "a"],
    ["SINTER", "c", "d"],
    ["SINTER", "a", "d"],
    ["SINTERCARD", "2", "a", "b"],
    ["SINTERCARD", "3", "a", "b", "c"],
    ["SINTERCARD", "2", "a", "b", "LIMIT", "2"],
    ["SINTERCARD", "2", "a", "b", "limit", "0"],
    ["SINTERCARD", "2", "a", "b", "LIMIT", "100"],
    ["SINTERCARD", "1", "a"],
    ["SINTERCARD", "2", "a", "nokey"],
    ["SINTERCARD", "0", "a"],
    ["SINTERCARD", "-1", "a"],
    ["SINTERCARD", "x", "a"],
    ["SINTERCARD", I64_MAX, "a"],
    ["SINTERCARD", "3", "a", "b"],
    ["SINTERCARD", "2", "a", "b", "LIMIT"],
    ["SINTERCARD", "2", "a", "b", "LIMIT", "-1"],
    ["SINTERCARD", "2", "a", "b", "LIMIT", "x"],
    ["SINTERCARD", "2", "a", "b", "FOO", "1"],
    ["SINTERCARD", "1", "a", "b"],
    ["SINTERCARD", "1"],
    ["SINTERSTORE", "dst", "a", "b"],
    ["SMEMBERS", "dst"],
    ["OBJECT", "ENCODING", "dst"],
    ["SINTERSTORE", "dst", "c", "d"],
    ["SMEMBERS", "dst"],
    ["OBJECT", "ENCODING", "dst"],
    ["SINTERSTORE", "dst", "a", "nokey"],
    ["EXISTS", "dst"],
    ["SINTERSTORE", "a", "a", "b"],
    ["SMEMBERS", "a"],
    ["SET", "str", "v"],
    ["EXPIRE", "str", "100"],
    ["SINTERSTORE", "str", "b", "c"],
    ["TYPE", "str"],
    ["TTL", "str"],
    ["SINTER", "b", "str"],
    ["SINTER", "nokey", "str"],
    ["SINTERCARD", "2", "b", "str"],
    ["SINTERSTORE", "dst", "b", "str"],
  ],
  "SUNION, SUNIONSTORE": [
    ["SADD", "a", "3", "1", "2"],
    ["SADD", "b", "5", "1", "-4"],
    ["SADD", "c", "x", "1"],
    ["SUNION", "a", "b"],
    ["SUNION", "a", "nokey", "b"],
    ["SUNION", "nokey"],
    anyOrder("SUNION", "a", "c"),
    ["SUNIONSTORE", "dst", "a", "b"],
    ["SMEMBERS", "dst"],
    ["OBJECT", "ENCODING", "dst"],
    ["SUNIONSTORE", "dst", "a", "c"],
    anyOrder("SMEMBERS", "dst"),
    ["OBJECT", "ENCODING", "dst"],
    ["SUNIONSTORE", "dst", "nokey"],
    ["EXISTS", "dst"],
    ["SUNIONSTORE", "a", "a", "b"],
    ["SMEMBERS", "a"],
    ["SADD", "big1", ...range(1, 300)],
    ["SADD", "big2", ...range(250, 600)],
    ["SUNIONSTORE", "dst", "big1", "big2"],
    ["OBJECT", "ENCODING", "dst"],
    ["SCARD", "dst"],
    ["SET", "str", "v"],
    ["SUNION", "a", "str"],
    ["SUNIONSTORE", "dst", "a", "str"],
    ["SUNIONSTORE", "str", "a"],
    ["TYPE", "str"],
  ],
  "SDIFF, SDIFFSTORE, and the algorithm that decides a result's encoding": [
    ["SADD", "a", "1", "2", "3", "4", "5", "x"],
    ["SADD", "b", "2", "4"],
    ["SADD", "c", "5", "x"],
    ["SDIFF", "a", "b", "c"],
    anyOrder("SDIFF", "a", "b"),
    ["SDIFF", "a", "a"],
    ["SDIFF", "a", "b", "a"],
    ["SDIFF", "nokey", "a"],
    anyOrder("SDIFF", "a", "nokey"),
    ["SDIFF", "b"],
    ["SDIFFSTORE", "dst", "a", "b", "c"],
    ["SMEMBERS", "dst"],
    ["OBJECT", "ENCODING", "dst"],
    ["SDIFFSTORE", "dst", "b", "a"],
    ["EXISTS", "dst"],
    // Two sets: algorithm 1 (the survivors alone build the result: an intset).
    ["SADD", "s0", ...range(1, 600)],
    ["SADD", "s1", ...range(1, 100)],
    ["SADD", "s2", ...range(101, 150)],
    ["SDIFFSTORE", "d1", "s0", "s1"],
    ["OBJECT", "ENCODING", "d1"],
    ["SCARD", "d1"],
    // Three sets, the first big: algorithm 2 (the whole first set went in: a hashtable).
    anyOrder("SDIFF", "s0", "s1", "s2"),
    ["SDIFFSTORE", "d2", "s0", "s1", "s2"],
    ["OBJECT", "ENCODING", "d2"],
    ["SCARD", "d2"],
    ["SET", "str", "v"],
    ["SDIFF", "a", "str"],
    ["SDIFF", "nokey", "str"],
    ["SDIFFSTORE", "dst", "a", "str"],
  ],
  "SSCAN": [
    ["SSCAN", "nokey", "0"],
    ["SSCAN", "nokey", "x"],
    ["SSCAN", "nokey", "0", "COUNT", "x"],
    ["SADD", "s", "a", "b", "ab", "1"],
    { args: ["SSCAN", "s", "0"], compare: scanAll },
    { args: ["SSCAN", "s", "0", "MATCH", "a*"], compare: scanAll },
    { args: ["SSCAN", "s", "0", "COUNT", "1000"], compare: scanAll },
    ["SSCAN", "s", "0", "COUNT", "0"],
    ["SSCAN", "s", "0", "COUNT", "-1"],
    ["SSCAN", "s", "0", "COUNT", "x"],
    ["SSCAN", "s", "0", "MATCH"],
    ["SSCAN", "s", "0", "TYPE", "set"],
    ["SSCAN", "s", "0", "FOO", "1"],
    ["SSCAN", "s", "x"],
    { args: ["SSCAN", "s", "+0"], compare: scanAll },
    ["SSCAN", "s", "18446744073709551616"],
    ["SSCAN", "s"],
    ["SADD", "i", "10", "2", "33"],
    ["SSCAN", "i", "0", "MATCH", "*3*"],
    ["SSCAN", "i", "0", "COUNT", "1", "MATCH", "1*"],
    // Any cursor: an intset answers all of it at once.
    ["SSCAN", "i", "-1"],
    ["SSCAN", "i", "7"],
    ["SET", "str", "v"],
    ["SSCAN", "str", "0"],
    ["SSCAN", "str", "x"],
  ],
  "string and hash commands on a set answer WRONGTYPE": [
    ["SADD", "s", "1"],
    ["GET", "s"],
    ["APPEND", "s", "x"],
    ["INCR", "s"],
    ["STRLEN", "s"],
    ["SETRANGE", "s", "0", "x"],
    ["GETRANGE", "s", "0", "1"],
    ["BITCOUNT", "s"],
    ["HSET", "s", "f", "v"],
    ["HGET", "s", "f"],
    ["HGETALL", "s"],
    ["MGET", "s", "nokey"],
    ["TYPE", "s"],
    ["SET", "s", "v", "XX"],
    ["TYPE", "s"],
  ],
  "set commands on a string or a hash answer WRONGTYPE": [
    ["SET", "str", "v"],
    ["HSET", "h", "f", "v"],
    ["SADD", "str", "a"],
    ["SADD", "h", "a"],
    ["SREM", "str", "a"],
    ["SCARD", "str"],
    ["SISMEMBER", "h", "a"],
    ["SMISMEMBER", "str", "a"],
    ["SMEMBERS", "h"],
    ["SRANDMEMBER", "str"],
    ["SPOP", "h"],
    ["SSCAN", "h", "0"],
    ["SINTER", "h"],
    ["SUNION", "str"],
    ["SDIFF", "h"],
    ["GET", "str"],
  ],
  "keyspace commands on a set": [
    ["SADD", "s", "a", "b"],
    ["SADD", "i", "1", "2"],
    ["SET", "str", "v"],
    ["EXISTS", "s", "str", "nokey"],
    ["EXPIRE", "s", "100"],
    ["TTL", "s"],
    ["SADD", "s", "c"],
    ["TTL", "s"],
    ["PERSIST", "s"],
    ["TTL", "s"],
    ["RENAME", "s", "s2"],
    anyOrder("SMEMBERS", "s2"),
    ["COPY", "s2", "s3"],
    ["SADD", "s3", "d"],
    anyOrder("SMEMBERS", "s2"),
    anyOrder("SMEMBERS", "s3"),
    ["COPY", "i", "i2"],
    ["OBJECT", "ENCODING", "i2"],
    ["SMEMBERS", "i2"],
    ["SADD", "hi", "1", "x"],
    ["SREM", "hi", "x"],
    ["COPY", "hi", "hi2"],
    ["OBJECT", "ENCODING", "hi2"],
    ["RENAME", "hi2", "hi3"],
    ["OBJECT", "ENCODING", "hi3"],
    ["MOVE", "hi3", "1"],
    ["SELECT", "1"],
    ["OBJECT", "ENCODING", "hi3"],
    ["SMEMBERS", "hi3"],
    ["SELECT", "0"],
    ["TYPE", "s2"],
    ["OBJECT", "ENCODING", "s2"],
    { args: ["SCAN", "0", "TYPE", "set", "COUNT", "1000"], compare: scanAll },
    { args: ["SCAN", "0", "TYPE", "SET", "COUNT", "1000"], compare: scanAll },
    { args: ["SCAN", "0", "TYPE", "string", "COUNT", "1000"], compare: scanAll },
    ["DEL", "s2", "str"],
    ["UNLINK", "s3", "nokey"],
    ["SADD", "e", "x"],
    ["PEXPIRE", "e", "30"],
    { args: ["SISMEMBER", "e", "x"], sleepMs: 100 },
    ["EXISTS", "e"],
    ["SADD", "over", "x"],
    ["SET", "over", "plain"],
    ["TYPE", "over"],
  ],
};

const KEYS = ["s1", "s2", "s3", "str"];
const MEMBERS = ["a", "b", "c", "", BIN, "1", "2", "3", "-5", "10", I64_MAX, "01"];

function key(r: Rng): string {
  return r.pick(KEYS);
}

function member(r: Rng): string {
  return r.pick(MEMBERS);
}

function members(r: Rng, most: number): string[] {
  return Array.from({ length: r.int(1, most) }, () => member(r));
}

const TEMPLATES: Template<StepLike>[] = [
  template(6, (r) => ["SADD", key(r), ...members(r, 4)]),
  template(3, (r) => ["SREM", key(r), ...members(r, 3)]),
  template(2, (r) => ["SCARD", key(r)]),
  template(2, (r) => ["SISMEMBER", key(r), member(r)]),
  template(1, (r) => ["SMISMEMBER", key(r), ...members(r, 3)]),
  template(3, (r) => anyOrder("SMEMBERS", key(r))),
  template(1, (r) => anyOrder("SRANDMEMBER", key(r), r.pick(["0", "20", "100"]))),
  template(1, (r) => shape("SRANDMEMBER", key(r), r.pick(["x", "-3"]))),
  template(1, (r) => anyOrder("SPOP", key(r), r.pick(["0", "20", "x", "-1"]))),
  template(2, (r) => ["SMOVE", key(r), key(r), member(r)]),
  template(2, (r) => anyOrder("SINTER", key(r), key(r))),
  template(1, (r) => ["SINTERCARD", "2", key(r), key(r), "LIMIT", r.pick(["0", "1", "3"])]),
  template(2, (r) => anyOrder("SUNION", key(r), key(r))),
  template(2, (r) => anyOrder("SDIFF", key(r), key(r), key(r))),
  template(1, (r) => ["SINTERSTORE", key(r), key(r), key(r)]),
  template(1, (r) => ["SUNIONSTORE", key(r), key(r), key(r)]),
  template(1, (r) => ["SDIFFSTORE", key(r), key(r), key(r)]),
  template(1, (r) => ({ args: ["SSCAN", key(r), "0", "COUNT", "100"], compare: scanAll })),
  template(1, (r) => ["SET", "str", r.pick(MEMBERS)]),
  template(2, (r) => ["OBJECT", "ENCODING", key(r)]),
  template(1, (r) => ["TYPE", key(r)]),
  template(1, (r) => ["DEL", key(r)]),
  template(1, (r) => ["COPY", key(r), key(r), "REPLACE"]),
  template(1, (r) => ["RENAME", key(r), key(r)]),
];

differentialTest(
  "differential: set commands, kvdb vs redis-server 7.0, RESP2 and RESP3",
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
 * Keyspace notifications of the set commands (`KEAnm` on both servers):
 * one connection writes, two listen on `__keyevent@*__:*` and
 * `__keyspace@*__:*`; every event, its order and channel must be Redis's.
 */
function setEvents(e: EventSteps): StepLike[] {
  return [
    ...e.listeners(),
    ...e.ev(2, "SADD", "s", "a", "b", "c"),
    ...e.ev(1, "SADD", "s", "d", "a"),
    ...e.ev(0, "SADD", "s", "a"),
    ...e.ev(0, "SREM", "s", "zz"),
    ...e.ev(1, "SREM", "s", "d", "zz"),
    ...e.ev(0, "SREM", "nokey", "a"),
    ...e.ev(0, "SMOVE", "s", "t", "zz"),
    ...e.ev(3, "SMOVE", "s", "t", "a"),
    ...e.ev(2, "SMOVE", "s", "t", "b"),
    ...e.ev(1, "SMOVE", "t", "s", "b"),
    ...e.ev(2, "SADD", "one", "x"),
    ...e.ev(2, "SPOP", "one"),
    ...e.ev(0, "SPOP", "nokey"),
    ...e.ev(0, "SPOP", "s", "0"),
    ...e.evCompared(1, unordered, "SPOP", "t", "1"),
    ...e.evCompared(2, unordered, "SPOP", "t", "5"),
    ...e.ev(2, "SADD", "i", "1", "2", "3"),
    ...e.ev(2, "SADD", "j", "2", "3", "4"),
    ...e.ev(2, "SINTERSTORE", "d", "i", "j"),
    ...e.ev(1, "SUNIONSTORE", "d", "i", "j"),
    ...e.ev(1, "SDIFFSTORE", "d", "i", "j"),
    ...e.ev(1, "SDIFFSTORE", "d", "i", "i"),
    ...e.ev(0, "SDIFFSTORE", "d", "i", "i"),
    ...e.ev(1, "SINTER", "i", "nokey"),
    ...e.ev(1, "SMEMBERS", "nokey"),
    ...e.ev(1, "SISMEMBER", "nokey", "a"),
    ...e.ev(0, "SCARD", "i"),
    ...e.ev(3, "RENAME", "i", "k"),
    ...e.ev(1, "DEL", "k"),
  ];
}

keyspaceEventsTest(
  "differential: set keyspace notifications, kvdb vs redis-server 7.0, RESP2 and RESP3",
  "set events",
  setEvents,
);
