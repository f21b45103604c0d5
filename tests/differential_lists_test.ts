/**
 * kvdb against redis-server 7.0 on the list group (issue 16): every
 * non-blocking list command with hand-written edge cases (negative and
 * out-of-range indexes, empty results, huge counts, wrong types, arity,
 * Redis's order of argument checks), TYPE, OBJECT ENCODING, SCAN TYPE,
 * keyspace commands on a list, keyspace notifications, and seeded random
 * sequences; replies compared byte for byte in RESP2 and RESP3.
 */

import {
  differentialTest,
  DiffPair,
  type Rng,
  STANDARD_RULES,
  type StepLike,
  type Template,
  template,
} from "./_differential.ts";

const I64_MAX = "9223372036854775807";
const I64_MIN = "-9223372036854775808";
const BIN = "\x00\x01\r\n\xff\xfe";
const BIG = "z".repeat(5000);

/** RPUSH of `n` numbered elements to `key` (a big list: several nodes). */
function fill(key: string, n: number, prefix = "e"): string[] {
  const args = ["RPUSH", key];
  for (let i = 0; i < n; i++) args.push(`${prefix}${i % 7}`);
  return args;
}

const CASES: Record<string, StepLike[]> = {
  "LPUSH, RPUSH, LPUSHX, RPUSHX, LLEN, LRANGE": [
    ["LPUSH", "l", "a"],
    ["LPUSH", "l", "b", "c"],
    ["RPUSH", "l", "d", "e", "f"],
    ["LRANGE", "l", "0", "-1"],
    ["LLEN", "l"],
    ["LLEN", "nokey"],
    ["LPUSHX", "nokey", "a"],
    ["RPUSHX", "nokey", "a", "b"],
    ["EXISTS", "nokey"],
    ["LPUSHX", "l", "x", "y"],
    ["RPUSHX", "l", "z"],
    ["LRANGE", "l", "0", "-1"],
    ["LPUSH", "l"],
    ["RPUSHX", "l"],
    ["RPUSH", "bin", BIN, "", BIN],
    ["LRANGE", "bin", "0", "-1"],
    ["TYPE", "l"],
    ["OBJECT", "ENCODING", "l"],
    ["RPUSH", "big", BIG, "a"],
    ["OBJECT", "ENCODING", "big"],
    ["LRANGE", "big", "-1", "-1"],
  ],
  "LRANGE indexes": [
    fill("l", 300),
    ["LRANGE", "l", "0", "0"],
    ["LRANGE", "l", "-1", "-1"],
    ["LRANGE", "l", "-3", "-1"],
    ["LRANGE", "l", "-1000", "2"],
    ["LRANGE", "l", "5", "3"],
    ["LRANGE", "l", "299", "1000"],
    ["LRANGE", "l", "300", "1000"],
    ["LRANGE", "l", "120", "140"],
    ["LRANGE", "l", "250", "-20"],
    ["LRANGE", "l", "0", I64_MAX],
    ["LRANGE", "l", I64_MIN, "1"],
    ["LRANGE", "l", "a", "1"],
    ["LRANGE", "l", "1", "1.5"],
    ["LRANGE", "l", "01", "1"],
    ["LRANGE", "l", "-0", "1"],
    ["LRANGE", "l", "9223372036854775808", "1"],
    ["LRANGE", "nokey", "0", "-1"],
    ["LRANGE", "nokey", "a", "-1"],
    ["LRANGE", "l", "0"],
  ],
  "LINDEX and LSET": [
    fill("l", 200),
    ["LINDEX", "l", "0"],
    ["LINDEX", "l", "-1"],
    ["LINDEX", "l", "130"],
    ["LINDEX", "l", "-130"],
    ["LINDEX", "l", "200"],
    ["LINDEX", "l", "-201"],
    ["LINDEX", "l", "x"],
    ["LINDEX", "nokey", "x"],
    ["LINDEX", "nokey", "0"],
    ["LSET", "l", "0", "first"],
    ["LSET", "l", "-1", "last"],
    ["LSET", "l", "150", "mid"],
    ["LSET", "l", "200", "x"],
    ["LSET", "l", "-201", "x"],
    ["LSET", "l", "x", "x"],
    ["LSET", "nokey", "0", "x"],
    ["LSET", "nokey", "x", "x"],
    ["LINDEX", "l", "150"],
    ["LRANGE", "l", "0", "2"],
    ["LRANGE", "l", "-2", "-1"],
  ],
  "LPOP and RPOP with and without counts": [
    ["RPUSH", "l", "a", "b", "c", "d", "e"],
    ["LPOP", "l"],
    ["RPOP", "l"],
    ["LPOP", "l", "0"],
    ["LPOP", "l", "2"],
    ["RPOP", "l", "5"],
    ["EXISTS", "l"],
    ["LPOP", "l"],
    ["LPOP", "l", "1"],
    ["LPOP", "l", "0"],
    ["RPOP", "l", "0"],
    ["LPOP", "l", "-1"],
    ["LPOP", "l", "x"],
    ["RPUSH", "l", "a", "b"],
    ["LPOP", "l", "-1"],
    ["LPOP", "l", I64_MAX],
    ["LPOP", "l", "1", "2"],
    fill("big", 500),
    ["RPOP", "big", "130"],
    ["LPOP", "big", "140"],
    ["LLEN", "big"],
    ["LRANGE", "big", "0", "3"],
    ["RPOP", "big", "1000"],
    ["EXISTS", "big"],
  ],
  "LINSERT": [
    ["RPUSH", "l", "a", "b", "c"],
    ["LINSERT", "l", "BEFORE", "b", "x"],
    ["LINSERT", "l", "after", "c", "y"],
    ["LINSERT", "l", "before", "a", "z"],
    ["LINSERT", "l", "after", "nope", "y"],
    ["LINSERT", "l", "middle", "a", "y"],
    ["LINSERT", "nokey", "before", "a", "y"],
    ["LINSERT", "nokey", "middle", "a", "y"],
    ["LRANGE", "l", "0", "-1"],
    fill("big", 256),
    ["LINSERT", "big", "BEFORE", "e3", "ins"],
    ["LSET", "big", "128", "pivot"],
    ["LINSERT", "big", "AFTER", "pivot", "ins2"],
    ["LINSERT", "big", "BEFORE", "pivot", "ins3"],
    ["LRANGE", "big", "125", "135"],
    ["LLEN", "big"],
    ["LINSERT", "l", "before", "a"],
  ],
  "LREM": [
    ["RPUSH", "l", "a", "b", "a", "c", "a", "b"],
    ["LREM", "l", "1", "a"],
    ["LRANGE", "l", "0", "-1"],
    ["LREM", "l", "-1", "b"],
    ["LRANGE", "l", "0", "-1"],
    ["LREM", "l", "0", "a"],
    ["LRANGE", "l", "0", "-1"],
    ["LREM", "l", "5", "nope"],
    ["LREM", "l", "x", "a"],
    ["LREM", "nokey", "x", "a"],
    ["LREM", "nokey", "1", "a"],
    ["LREM", "l", I64_MIN, "b"],
    ["LREM", "l", "0", "c"],
    ["EXISTS", "l"],
    fill("big", 600),
    ["LREM", "big", "100", "e3"],
    ["LREM", "big", "-50", "e4"],
    ["LREM", "big", "0", "e5"],
    ["LLEN", "big"],
    ["LRANGE", "big", "0", "20"],
    ["LRANGE", "big", "-20", "-1"],
  ],
  "LTRIM": [
    fill("l", 300),
    ["LTRIM", "l", "10", "-10"],
    ["LLEN", "l"],
    ["LRANGE", "l", "0", "2"],
    ["LTRIM", "l", "-5", "1000"],
    ["LRANGE", "l", "0", "-1"],
    ["LTRIM", "l", "0", "-1"],
    ["LTRIM", "l", "3", "1"],
    ["EXISTS", "l"],
    ["LTRIM", "nokey", "0", "1"],
    ["LTRIM", "nokey", "a", "1"],
    ["RPUSH", "l", "a", "b"],
    ["LTRIM", "l", "0", "x"],
    ["LTRIM", "l", "5", "10"],
    ["EXISTS", "l"],
    ["RPUSH", "l", "a", "b", "c"],
    ["LTRIM", "l", I64_MIN, I64_MAX],
    ["LRANGE", "l", "0", "-1"],
  ],
  "LPOS": [
    ["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"],
    ["LPOS", "l", "c"],
    ["LPOS", "l", "c", "RANK", "2"],
    ["LPOS", "l", "c", "RANK", "-1"],
    ["LPOS", "l", "c", "RANK", "-2"],
    ["LPOS", "l", "c", "RANK", "10"],
    ["LPOS", "l", "c", "COUNT", "0"],
    ["LPOS", "l", "c", "COUNT", "2"],
    ["LPOS", "l", "c", "COUNT", "2", "RANK", "-1"],
    ["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"],
    ["LPOS", "l", "c", "MAXLEN", "2"],
    ["LPOS", "l", "c", "RANK", "2", "MAXLEN", "7"],
    ["LPOS", "l", "x"],
    ["LPOS", "l", "x", "COUNT", "3"],
    ["LPOS", "l", "c", "RANK", "0"],
    ["LPOS", "l", "c", "RANK", "x"],
    ["LPOS", "l", "c", "RANK", I64_MIN],
    ["LPOS", "l", "c", "RANK", I64_MIN, "COUNT", "2"],
    ["LPOS", "l", "c", "RANK", I64_MAX],
    ["LPOS", "l", "c", "COUNT", "-1"],
    ["LPOS", "l", "c", "COUNT", "x"],
    ["LPOS", "l", "c", "MAXLEN", "-1"],
    ["LPOS", "l", "c", "FOO", "1"],
    ["LPOS", "l", "c", "RANK"],
    ["LPOS", "nokey", "c"],
    ["LPOS", "nokey", "c", "COUNT", "0"],
    ["LPOS", "nokey", "c", "RANK", "0"],
    ["LPOS", "l"],
  ],
  "LMOVE and RPOPLPUSH": [
    ["RPUSH", "s", "a", "b", "c"],
    ["LMOVE", "s", "d", "LEFT", "RIGHT"],
    ["LMOVE", "s", "d", "right", "left"],
    ["LRANGE", "d", "0", "-1"],
    ["LMOVE", "s", "s", "LEFT", "RIGHT"],
    ["LRANGE", "s", "0", "-1"],
    ["LMOVE", "s", "s", "LEFT", "LEFT"],
    ["LMOVE", "s", "d", "UP", "LEFT"],
    ["LMOVE", "s", "d", "LEFT", "DOWN"],
    ["LMOVE", "nokey", "d", "LEFT", "LEFT"],
    ["SET", "str", "v"],
    ["LMOVE", "nokey", "str", "LEFT", "LEFT"],
    ["LMOVE", "s", "str", "LEFT", "LEFT"],
    ["LMOVE", "str", "d", "LEFT", "LEFT"],
    ["LRANGE", "s", "0", "-1"],
    ["RPOPLPUSH", "s", "d"],
    ["RPOPLPUSH", "s", "d"],
    ["EXISTS", "s"],
    ["RPOPLPUSH", "s", "d"],
    ["RPOPLPUSH", "d", "d"],
    ["LRANGE", "d", "0", "-1"],
    ["RPOPLPUSH", "d", "str"],
    ["RPOPLPUSH", "d"],
    ["LMOVE", "d", "e", "LEFT"],
  ],
  "LMPOP": [
    ["RPUSH", "a", "1", "2", "3"],
    ["RPUSH", "b", "x", "y"],
    ["LMPOP", "2", "nokey", "a", "LEFT"],
    ["LMPOP", "2", "nokey", "a", "RIGHT", "COUNT", "5"],
    ["LMPOP", "2", "a", "b", "left", "count", "1"],
    ["LMPOP", "1", "nokey", "LEFT"],
    ["LMPOP", "0", "a", "LEFT"],
    ["LMPOP", "-1", "a", "LEFT"],
    ["LMPOP", "x", "a", "LEFT"],
    ["LMPOP", "3", "a", "b", "LEFT"],
    ["LMPOP", "1", "b", "MIDDLE"],
    ["LMPOP", "1", "b", "LEFT", "COUNT", "0"],
    ["LMPOP", "1", "b", "LEFT", "COUNT", "x"],
    ["LMPOP", "1", "b", "LEFT", "COUNT", "1", "COUNT", "1"],
    ["LMPOP", "1", "b", "LEFT", "FOO"],
    ["LMPOP", "1", "b", "LEFT", "COUNT"],
    ["SET", "str", "v"],
    ["LMPOP", "2", "str", "b", "LEFT"],
    ["LMPOP", "2", "b", "str", "LEFT", "COUNT", I64_MAX],
    ["LMPOP", "2", "b", "str", "LEFT"],
    ["LMPOP", "1"],
    ["LMPOP", "1", "b"],
  ],
  "WRONGTYPE both ways, and keyspace commands on a list": [
    ["SET", "str", "v"],
    ["LPUSH", "str", "a"],
    ["RPUSHX", "str", "a"],
    ["LPOP", "str"],
    ["RPOP", "str", "2"],
    ["LLEN", "str"],
    ["LRANGE", "str", "0", "-1"],
    ["LINDEX", "str", "0"],
    ["LSET", "str", "0", "x"],
    ["LINSERT", "str", "BEFORE", "a", "b"],
    ["LREM", "str", "0", "a"],
    ["LTRIM", "str", "0", "1"],
    ["LPOS", "str", "a"],
    ["RPUSH", "l", "a", "b"],
    ["GET", "l"],
    ["APPEND", "l", "x"],
    ["INCR", "l"],
    ["HSET", "l", "f", "v"],
    ["TYPE", "l"],
    ["OBJECT", "ENCODING", "l"],
    ["SCAN", "0", "TYPE", "list", "COUNT", "1000"],
    ["RENAME", "l", "l2"],
    ["LRANGE", "l2", "0", "-1"],
    ["COPY", "l2", "l3"],
    ["RPUSH", "l3", "c"],
    ["LRANGE", "l2", "0", "-1"],
    ["LRANGE", "l3", "0", "-1"],
    ["MOVE", "l3", "1"],
    ["SELECT", "1"],
    ["LRANGE", "l3", "0", "-1"],
    ["SELECT", "0"],
    ["EXPIRE", "l2", "100"],
    ["RPUSH", "l2", "d"],
    ["TTL", "l2"],
    ["DEL", "l2"],
    ["SET", "l2", "plain"],
    ["TYPE", "l2"],
  ],
};

const KEYS = ["l1", "l2", "s"];
const ELEMENTS = ["a", "b", "c", "", BIN, "10", "a"];
const INDEXES = ["0", "1", "-1", "2", "-2", "5", "-10", "100", I64_MAX, I64_MIN, "x"];

function key(r: Rng): string {
  return r.pick(KEYS);
}

function element(r: Rng): string {
  return r.pick(ELEMENTS);
}

function side(r: Rng): string {
  return r.pick(["LEFT", "RIGHT", "left"]);
}

const TEMPLATES: Template<StepLike>[] = [
  template(4, (r) => ["LPUSH", key(r), element(r)]),
  template(4, (r) => ["RPUSH", key(r), element(r), element(r), element(r)]),
  template(1, (r) => ["LPUSHX", key(r), element(r)]),
  template(1, (r) => ["RPUSHX", key(r), element(r)]),
  template(2, (r) => ["LPOP", key(r), ...r.pick([[], ["1"], ["3"], ["0"]])]),
  template(2, (r) => ["RPOP", key(r), ...r.pick([[], ["2"], ["100"]])]),
  template(2, (r) => ["LLEN", key(r)]),
  template(3, (r) => ["LRANGE", key(r), r.pick(INDEXES), r.pick(INDEXES)]),
  template(2, (r) => ["LINDEX", key(r), r.pick(INDEXES)]),
  template(2, (r) => ["LSET", key(r), r.pick(INDEXES), element(r)]),
  template(2, (r) => ["LINSERT", key(r), r.pick(["BEFORE", "AFTER"]), element(r), element(r)]),
  template(2, (r) => ["LREM", key(r), r.pick(["0", "1", "-1", "2"]), element(r)]),
  template(1, (r) => ["LTRIM", key(r), r.pick(INDEXES), r.pick(INDEXES)]),
  template(
    2,
    (r) => ["LPOS", key(r), element(r), ...r.pick([[], ["RANK", "-1"], ["COUNT", "0"]])],
  ),
  template(2, (r) => ["LMOVE", key(r), key(r), side(r), side(r)]),
  template(1, (r) => ["RPOPLPUSH", key(r), key(r)]),
  template(1, (r) => ["LMPOP", "2", key(r), key(r), side(r), "COUNT", r.pick(["1", "2"])]),
  template(1, (r) => ["SET", "s", element(r)]),
  template(1, (r) => ["TYPE", key(r)]),
  template(1, (r) => ["DEL", key(r)]),
  template(1, (r) => ["RENAME", key(r), key(r)]),
];

differentialTest(
  "differential: list commands, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
    for (const seed of [1, 2, 3, 4]) {
      const resp3 = seed % 2 === 0;
      await t.step(`random sequence, seed ${seed} (RESP${resp3 ? 3 : 2})`, async () => {
        await pair.diffRandom({
          seed,
          length: 1500,
          templates: TEMPLATES,
          rules: STANDARD_RULES,
          resp3,
        });
      });
    }
  },
);

type Arg = string | Uint8Array;

/**
 * Keyspace notifications of the list commands (`KEAnm` on both servers):
 * every event, its order and channel must be Redis's.
 */
function listEvents(resp3: boolean): StepLike[] {
  const read = (conn: number, n: number): StepLike =>
    resp3 ? { conn, replies: 0, pushes: n } : { conn, replies: n };
  const listen = (conn: number, pattern: string): StepLike =>
    resp3
      ? { conn, args: ["PSUBSCRIBE", pattern], replies: 0, pushes: 1 }
      : { conn, args: ["PSUBSCRIBE", pattern] };
  const ev = (n: number, ...args: Arg[]): StepLike[] =>
    n === 0 ? [{ args }] : [{ args }, read(1, n), read(2, n)];
  return [
    listen(1, "__keyevent@*__:*"),
    listen(2, "__keyspace@*__:*"),
    ...ev(2, "RPUSH", "l", "a", "b", "c", "d"),
    ...ev(1, "LPUSH", "l", "z"),
    ...ev(1, "LPUSHX", "l", "y"),
    ...ev(0, "RPUSHX", "nokey", "y"),
    ...ev(1, "LPOP", "l"),
    ...ev(1, "RPOP", "l", "2"),
    ...ev(0, "LPOP", "l", "0"),
    ...ev(1, "LSET", "l", "0", "q"),
    ...ev(1, "LINSERT", "l", "BEFORE", "q", "p"),
    ...ev(0, "LINSERT", "l", "BEFORE", "nope", "p"),
    ...ev(1, "LREM", "l", "0", "p"),
    ...ev(0, "LREM", "l", "0", "nope"),
    ...ev(1, "LTRIM", "l", "0", "-1"),
    ...ev(3, "LMOVE", "l", "m", "LEFT", "RIGHT"),
    ...ev(3, "RPOPLPUSH", "m", "l"),
    ...ev(2, "LMOVE", "l", "l", "LEFT", "RIGHT"),
    ...ev(2, "RPUSH", "n", "1"),
    ...ev(2, "LMPOP", "2", "nokey", "n", "LEFT"),
    ...ev(2, "RPUSH", "n", "1"),
    ...ev(2, "LTRIM", "n", "5", "6"),
    ...ev(2, "RPUSH", "n", "1"),
    ...ev(2, "LREM", "n", "1", "1"),
    ...ev(2, "RPUSH", "n", "1"),
    ...ev(2, "RPOP", "n", "5"),
    ...ev(1, "LRANGE", "nokey", "0", "1"),
    ...ev(1, "LLEN", "nokey"),
    ...ev(1, "DEL", "l"),
  ];
}

differentialTest(
  "differential: list keyspace notifications, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () =>
    DiffPair.kvdbVsRedis({
      kvdb: { pubsub: { notify_keyspace_events: "KEAnm" } },
      redis: ["--notify-keyspace-events", "KEAnm"],
    }),
  async (t, pair) => {
    for (const resp3 of [false, true]) {
      const label = `list events (RESP${resp3 ? 3 : 2})`;
      await t.step(label, async () => {
        await pair.diff(listEvents(resp3), { label, resp3 });
      });
    }
  },
);
