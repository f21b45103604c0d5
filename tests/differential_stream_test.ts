/**
 * kvdb against redis-server 7.0 on the stream group (issue 19): XADD
 * (explicit, `ms-*` and automatic IDs, NOMKSTREAM, MAXLEN/MINID with `=`,
 * `~` and LIMIT), XRANGE/XREVRANGE (`-`, `+`, exclusive bounds, COUNT),
 * XLEN, XDEL, XTRIM, XSETID, TYPE/OBJECT ENCODING/WRONGTYPE, the
 * consumer-group commands and XINFO, with hand-written edge cases and
 * seeded random sequences; replies compared byte for byte in RESP2 and
 * RESP3.
 *
 * IDs are given explicitly wherever a reply shows them: an automatic ID is
 * the clock's, so those steps compare by shape. Idle times and delivery
 * times are the clock's too: replies that hold them compare by shape.
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
} from "./_differential.ts";

function shape(...args: string[]): StepLike {
  return { args, compare: shapeOnly };
}

const BIN = "\x00\x01\r\n\xff\xfe";
const U64 = "18446744073709551615";

/** `n` entries with IDs 1-1 .. n-1 (and a field the same each time, so nodes compress). */
function fill(key: string, n: number, from = 1, fields: string[] = ["f", "v"]): StepLike[] {
  const steps: StepLike[] = [];
  for (let i = from; i < from + n; i++) steps.push(["XADD", key, `${i}-1`, ...fields]);
  return steps;
}

const CASES: Record<string, StepLike[]> = {
  "XADD IDs and their errors": [
    ["XADD", "s", "1-1", "a", "1"],
    ["XADD", "s", "1-1", "a", "1"],
    ["XADD", "s", "1-0", "a", "1"],
    ["XADD", "s", "1-*", "a", "2"],
    ["XADD", "s", "1", "a", "2"],
    ["XADD", "s", "2", "a", "2"],
    ["XADD", "s", "2-*", "a", "3"],
    ["XADD", "s", "3-18446744073709551615", "a", "3"],
    ["XADD", "s", "3-*", "a", "3"],
    ["XADD", "s", "4-*", "a", "3"],
    ["XADD", "s", "0-0", "a", "1"],
    ["XADD", "new", "0-0", "a", "1"],
    ["XADD", "new", "0-*", "a", "1"],
    ["XADD", "new", "0-*", "a", "1"],
    ["XADD", "new", "0", "a", "1"],
    ["XADD", "s", "x", "a", "1"],
    ["XADD", "s", "1-x", "a", "1"],
    ["XADD", "s", "-1", "a", "1"],
    ["XADD", "s", "5--1", "a", "1"],
    ["XADD", "s", "", "a", "1"],
    ["XADD", "s", "*-1", "a", "1"],
    ["XADD", "s", "5-**", "a", "1"],
    ["XADD", "s", " 6", "a", "1"],
    ["XADD", "s", "+7-+1", "a", "1"],
    ["XADD", "s", "008-01", "a", "1"],
    ["XADD", "s", "9-1", "a"],
    ["XADD", "s", "9-1", "a", "1", "b"],
    ["XADD", "s", "9-1"],
    ["XADD", "s"],
    ["XADD", "s", "18446744073709551616-0", "a", "1"],
    ["XADD", "s", `${U64}-0`, "a", "1"],
    ["XADD", "s", `${U64}-*`, "a", "1"],
    ["XADD", "s", `${U64}-${U64}`, "a", "1"],
    ["XADD", "s", "*", "a", "1"],
    ["XADD", "s", `${U64}-*`, "a", "1"],
    ["XRANGE", "s", "-", "+"],
    ["XLEN", "s"],
    ["XADD", "b", "1-1", BIN, BIN, "", "", "f", "x".repeat(300)],
    ["XRANGE", "b", "-", "+"],
    ["XADD", "dup", "1-1", "f", "1", "f", "2"],
    ["XRANGE", "dup", "-", "+"],
    shape("XADD", "auto", "*", "a", "1"),
    shape("XADD", "auto", "*", "a", "1"),
    ["XLEN", "auto"],
  ],
  "NOMKSTREAM, MAXLEN and MINID on XADD": [
    ["XADD", "none", "NOMKSTREAM", "1-1", "a", "1"],
    ["EXISTS", "none"],
    ["XADD", "s", "1-1", "a", "1"],
    ["XADD", "s", "NOMKSTREAM", "2-1", "a", "1"],
    ["XADD", "s", "nomkstream", "MAXLEN", "1", "3-1", "a", "1"],
    ["XRANGE", "s", "-", "+"],
    ["XADD", "s", "MAXLEN", "=", "2", "4-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "~", "0", "5-1", "a", "1"],
    ["XLEN", "s"],
    ["XADD", "s", "MINID", "5", "6-1", "a", "1"],
    ["XRANGE", "s", "-", "+"],
    ["XADD", "s", "MINID", "=", "7", "7-1", "a", "1"],
    ["XADD", "s", "MINID", "~", "100", "8-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "-1", "9-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "x", "9-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "1", "MINID", "1", "9-1", "a", "1"],
    ["XADD", "s", "MINID", "x", "9-1", "a", "1"],
    ["XADD", "s", "MINID", "-", "9-1", "a", "1"],
    ["XADD", "s", "LIMIT", "5", "9-1", "a", "1"],
    ["XADD", "s", "LIMIT", "0", "9-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "1", "LIMIT", "5", "9-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "9-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "5", "9-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "0", "10-1", "a", "1"],
    ["XADD", "s", "MAXLEN"],
    ["XADD", "s", "MAXLEN", "1"],
    ["XADD", "s", "MAXLEN", "1", "*"],
    ["XADD", "s", "MAXLEN", "~"],
    ["XADD", "s", "MAXLEN", "~", "*", "a", "1"],
    ["XRANGE", "s", "-", "+"],
  ],
  "approximate trimming keeps Redis's node boundaries": [
    ...fill("s", 250),
    ["XTRIM", "s", "MAXLEN", "~", "120"],
    ["XLEN", "s"],
    ["XTRIM", "s", "MAXLEN", "~", "10", "LIMIT", "50"],
    ["XTRIM", "s", "MAXLEN", "~", "10", "LIMIT", "100"],
    ["XLEN", "s"],
    ["XTRIM", "s", "MAXLEN", "45"],
    ["XRANGE", "s", "-", "+", "COUNT", "2"],
    ["XTRIM", "s", "MINID", "~", "230"],
    ["XTRIM", "s", "MINID", "230"],
    ["XRANGE", "s", "-", "+", "COUNT", "2"],
    // Bigger entries: nodes end at 4096 bytes before 100 entries.
    ...fill("big", 120, 1, ["field", "v".repeat(100), "n", "12345"]),
    ["XTRIM", "big", "MAXLEN", "~", "60"],
    ["XLEN", "big"],
    // Changing fields (no compression), integers and long strings.
    ...fill("mix", 40, 1, ["a", "1"]),
    ...fill("mix", 40, 41, ["b", "-70000", "c", "x".repeat(70)]),
    ...fill("mix", 40, 81, ["a", "9223372036854775807", "d", "y".repeat(5000)]),
    ["XTRIM", "mix", "MAXLEN", "~", "50"],
    ["XLEN", "mix"],
    ["XTRIM", "mix", "MAXLEN", "~", "0"],
    ["XLEN", "mix"],
    // Tombstones count toward a node's entries.
    ...fill("t", 100),
    ["XDEL", "t", "5-1", "6-1", "7-1"],
    ...fill("t", 5, 101),
    ["XTRIM", "t", "MAXLEN", "~", "5"],
    ["XLEN", "t"],
    // Seq deltas below the master entry's and huge ms.
    ["XADD", "h", "5-100", "a", "1"],
    ["XADD", "h", "6-1", "a", "1"],
    ["XADD", "h", `${U64}-0`, "a", "1"],
    ["XTRIM", "h", "MAXLEN", "~", "0"],
    ["XLEN", "h"],
  ],
  "XRANGE and XREVRANGE": [
    ...fill("s", 12),
    ["XADD", "s", "12-5", "g", "h"],
    ["XRANGE", "s", "-", "+"],
    ["XRANGE", "s", "3", "5"],
    ["XRANGE", "s", "3-1", "5-0"],
    ["XRANGE", "s", "(3-1", "(5-1"],
    ["XRANGE", "s", "(3", "+"],
    ["XRANGE", "s", "-", "(1-1"],
    ["XRANGE", "s", "(-", "+"],
    ["XRANGE", "s", "-", "(+"],
    ["XRANGE", "s", "(", "+"],
    ["XRANGE", "s", "(0-0", "+", "COUNT", "1"],
    ["XRANGE", "s", "-", `(0-0`],
    ["XRANGE", "s", `(${U64}-${U64}`, "+"],
    ["XRANGE", "s", "12", "12"],
    ["XRANGE", "s", "5", "3"],
    ["XRANGE", "s", "-", "+", "COUNT", "3"],
    ["XRANGE", "s", "-", "+", "COUNT", "0"],
    ["XRANGE", "s", "-", "+", "COUNT", "-5"],
    ["XRANGE", "s", "-", "+", "COUNT", "x"],
    ["XRANGE", "s", "-", "+", "COUNT"],
    ["XRANGE", "s", "-", "+", "LIMIT", "1"],
    ["XRANGE", "s", "-", "+", "COUNT", "2", "COUNT", "4"],
    ["XRANGE", "s", "x", "+"],
    ["XRANGE", "s", "-", "y"],
    ["XRANGE", "nokey", "-", "+"],
    ["XRANGE", "nokey", "-", "+", "COUNT", "0"],
    ["XREVRANGE", "s", "+", "-"],
    ["XREVRANGE", "s", "5", "3"],
    ["XREVRANGE", "s", "(5", "(3"],
    ["XREVRANGE", "s", "+", "-", "COUNT", "2"],
    ["XREVRANGE", "s", "-", "+"],
    ["XREVRANGE", "s", "12-4", "-"],
    ["XREVRANGE", "s", "(12-5", "-", "COUNT", "1"],
    ["XDEL", "s", "12-5", "11-1", "3-1"],
    ["XREVRANGE", "s", "+", "-", "COUNT", "3"],
    ["XRANGE", "s", "2-1", "4-1"],
  ],
  "XDEL, XLEN and XTRIM": [
    ...fill("s", 5),
    ["XDEL", "s", "1-1", "1-1", "9-9", "2"],
    ["XDEL", "s", "2-1"],
    ["XDEL", "s", "x"],
    ["XDEL", "s", "3-1", "x"],
    ["XDEL", "s", "-"],
    ["XDEL", "nokey", "1-1"],
    ["XDEL", "nokey", "x"],
    ["XLEN", "s"],
    ["XLEN", "nokey"],
    ["XDEL", "s", "3-1", "4-1", "5-1"],
    ["XLEN", "s"],
    ["EXISTS", "s"],
    ["TYPE", "s"],
    ["XRANGE", "s", "-", "+"],
    ["XADD", "s", "5-1", "a", "1"],
    ["XADD", "s", "6-1", "a", "1"],
    ...fill("t", 10),
    ["XTRIM", "t", "MAXLEN", "5"],
    ["XTRIM", "t", "MAXLEN", "=", "4"],
    ["XTRIM", "t", "MINID", "8"],
    ["XTRIM", "t", "MINID", "=", "8-1"],
    ["XTRIM", "t", "MAXLEN", "100"],
    ["XTRIM", "t", "MINID", "0"],
    ["XTRIM", "t", "MAXLEN", "0"],
    ["XLEN", "t"],
    ["XTRIM", "t"],
    ["XTRIM", "t", "MAXLEN"],
    ["XTRIM", "t", "FOO", "1"],
    ["XTRIM", "t", "MAXLEN", "1", "FOO"],
    ["XTRIM", "t", "LIMIT", "1"],
    ["XTRIM", "t", "MAXLEN", "1", "LIMIT", "1"],
    ["XTRIM", "t", "MAXLEN", "~", "1", "LIMIT", "1"],
    ["XTRIM", "t", "MAXLEN", "~"],
    ["XTRIM", "t", "MAXLEN", "-1"],
    ["XTRIM", "t", "MINID", "x"],
    ["XTRIM", "t", "MINID", "+"],
    ["XTRIM", "nokey", "MAXLEN", "1"],
    ["XTRIM", "nokey", "MAXLEN", "x"],
  ],
  "XSETID": [
    ["XSETID", "nokey", "1-1"],
    ...fill("s", 3),
    ["XSETID", "s", "2-1"],
    ["XSETID", "s", "3-1"],
    ["XADD", "s", "3-1", "a", "1"],
    ["XSETID", "s", "10-1"],
    ["XADD", "s", "10-1", "a", "1"],
    ["XADD", "s", "10-*", "a", "1"],
    ["XSETID", "s", "11-1", "ENTRIESADDED", "2"],
    ["XSETID", "s", "11-1", "ENTRIESADDED", "-1"],
    ["XSETID", "s", "11-1", "ENTRIESADDED", "x"],
    ["XSETID", "s", "11-1", "ENTRIESADDED", "10", "MAXDELETEDID", "12-0"],
    ["XSETID", "s", "11-1", "ENTRIESADDED", "10", "MAXDELETEDID", "5-0"],
    ["XSETID", "s", "11-1", "MAXDELETEDID", "3-0"],
    ["XSETID", "s", "11-1", "FOO", "3-0"],
    ["XSETID", "s", "11-1", "ENTRIESADDED"],
    ["XSETID", "s", "-"],
    ["XSETID", "s", "x"],
    ["XSETID", "s", "20"],
    ["XADD", "s", "20-*", "a", "1"],
    ["XDEL", "s", "20-1"],
    ["XSETID", "s", "0-1"],
    ["XDEL", "s", "1-1", "2-1", "3-1", "10-1", "10-2"],
    ["XLEN", "s"],
    ["XSETID", "s", "1-0"],
    ["XSETID", "s", "30-0"],
    ["XADD", "s", "30-*", "a", "1"],
    ["XSETID", "s", `${U64}-${U64}`],
    ["XADD", "s", "*", "a", "1"],
    ["XADD", "s", `${U64}-*`, "a", "1"],
  ],
  "TYPE, OBJECT ENCODING, WRONGTYPE and keyspace commands": [
    ["XADD", "s", "1-1", "a", "1"],
    ["TYPE", "s"],
    ["OBJECT", "ENCODING", "s"],
    ["SET", "str", "x"],
    ["LPUSH", "list", "x"],
    ["XADD", "str", "1-1", "a", "1"],
    ["XRANGE", "str", "-", "+"],
    ["XREVRANGE", "list", "+", "-"],
    ["XLEN", "str"],
    ["XDEL", "str", "1-1"],
    ["XTRIM", "str", "MAXLEN", "1"],
    ["XSETID", "str", "1-1"],
    ["GET", "s"],
    ["LPUSH", "s", "x"],
    ["HSET", "s", "f", "v"],
    ["RENAME", "s", "s2"],
    ["XRANGE", "s2", "-", "+"],
    ["COPY", "s2", "s3"],
    ["XADD", "s3", "2-1", "b", "2"],
    ["XRANGE", "s3", "-", "+"],
    ["XRANGE", "s2", "-", "+"],
    ["EXPIRE", "s3", "100"],
    ["TTL", "s3"],
    ["DEL", "s2", "s3"],
    ["EXISTS", "s2", "s3"],
    ["XADD", "e", "1-1", "a", "1"],
    ["XDEL", "e", "1-1"],
    ["TYPE", "e"],
    ["EXISTS", "e"],
    ["XADD", "e", "1-1", "a", "1"],
    ["SORT", "e"],
  ],
};

const KEYS = ["s1", "s2", "str"];
const FIELDS = ["a", "b", "", "123", BIN];

function key(r: Rng): string {
  return r.pick(KEYS);
}

/** IDs from a small space, so explicit adds collide, grow and fail in turn. */
function id(r: Rng): string {
  const ms = r.int(0, 40);
  return r.pick([`${ms}-${r.int(0, 3)}`, `${ms}`, `${ms}-*`, "-", "+", `(${ms}`, "x"]);
}

const TEMPLATES: Template<StepLike>[] = [
  template(8, (r) => {
    const pairs: string[] = [];
    for (let i = r.int(1, 3); i > 0; i--) pairs.push(r.pick(FIELDS), r.pick(FIELDS));
    return ["XADD", key(r), id(r), ...pairs];
  }),
  template(3, (r) => [
    "XADD",
    key(r),
    ...r.pick([[], ["NOMKSTREAM"]]),
    ...r.pick([
      ["MAXLEN", String(r.int(0, 8))],
      ["MAXLEN", "~", String(r.int(0, 8))],
      ["MINID", `${r.int(0, 40)}`],
      ["MINID", "=", `${r.int(0, 40)}-1`],
      ["MAXLEN", "~", "2", "LIMIT", String(r.int(0, 3))],
    ]),
    `${r.int(0, 45)}-${r.int(0, 2)}`,
    "a",
    "1",
  ]),
  template(3, (r) => [
    r.pick(["XRANGE", "XREVRANGE"]),
    key(r),
    id(r),
    id(r),
    ...r.pick([[], ["COUNT", String(r.int(-1, 4))]]),
  ]),
  template(2, (r) => ["XDEL", key(r), id(r), id(r)]),
  template(1, (r) => ["XLEN", key(r)]),
  template(2, (r) => [
    "XTRIM",
    key(r),
    ...r.pick([
      ["MAXLEN", String(r.int(0, 8))],
      ["MAXLEN", "=", String(r.int(0, 8))],
      ["MINID", id(r)],
      ["MAXLEN", "~", String(r.int(0, 3))],
    ]),
  ]),
  template(1, (r) => [
    "XSETID",
    key(r),
    id(r),
    ...r.pick([[], ["ENTRIESADDED", String(r.int(0, 30))], ["MAXDELETEDID", id(r)]]),
  ]),
  template(1, (r) => ["SET", "str", r.pick(FIELDS)]),
  template(1, (r) => [r.pick(["TYPE", "EXISTS"]), key(r)]),
  template(1, (r) => ["DEL", key(r)]),
];

differentialTest(
  "differential: stream commands, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
    await pair.diffSeeds(t, [1, 2, 3, 4], {
      templates: TEMPLATES,
      length: 1500,
      rules: STANDARD_RULES,
    });
  },
);
