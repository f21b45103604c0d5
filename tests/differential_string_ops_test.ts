/**
 * kvdb against redis-server 7.0 on the rest of Redis's string and bitmap
 * groups (issue 14 point 3): SETEX, PSETEX, GETSET, GETRANGE, SUBSTR,
 * SETRANGE, INCRBYFLOAT, LCS, SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
 * BITFIELD, BITFIELD_RO — hand-written edge cases and seeded random
 * sequences, replies compared byte for byte.
 *
 * The reference runs with `proto-max-bulk-len 64mb`: kvdb's largest value
 * is 64 MiB, and the limit errors (SETRANGE, SETBIT offsets, LCS tables)
 * must be Redis's at that setting.
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

const CASES: Record<string, StepLike[]> = {
  "SETEX and PSETEX": [
    ["SETEX", "k", "100", "v"],
    ["GET", "k"],
    ["TTL", "k"],
    ["PSETEX", "p", "100000", "v"],
    ["PTTL", "p"],
    ["SETEX", "k", "0", "v"],
    ["SETEX", "k", "-1", "v"],
    ["SETEX", "k", "abc", "v"],
    ["PSETEX", "k", "0", "v"],
    ["SETEX", "k", I64_MAX, "v"],
    ["PSETEX", "k", I64_MAX, "v"],
    ["SETEX", "k", "10"],
    ["SETEX", "k", "10", "v", "x"],
  ],
  "GETSET drops the time to live": [
    ["GETSET", "k", "1"],
    ["SET", "k", "old", "EX", "100"],
    ["GETSET", "k", "new"],
    ["TTL", "k"],
    ["GET", "k"],
    ["GETSET", "k", BIN],
    ["GET", "k"],
  ],
  "GETRANGE and SUBSTR": [
    ["SET", "s", "Hello World"],
    ["GETRANGE", "s", "0", "4"],
    ["GETRANGE", "s", "-5", "-1"],
    ["GETRANGE", "s", "-1", "-5"],
    ["GETRANGE", "s", "5", "3"],
    ["GETRANGE", "s", "0", "-100"],
    ["GETRANGE", "s", "-100", "100"],
    ["GETRANGE", "s", "100", "200"],
    ["GETRANGE", "s", I64_MIN, I64_MAX],
    ["GETRANGE", "missing", "0", "-1"],
    ["GETRANGE", "s", "a", "1"],
    ["GETRANGE", "s", "0", "1.5"],
    ["SUBSTR", "s", "1", "3"],
    ["SET", "n", "12345"],
    ["GETRANGE", "n", "1", "2"],
    ["SET", "e", ""],
    ["GETRANGE", "e", "0", "0"],
  ],
  "SETRANGE": [
    ["SETRANGE", "k", "0", ""],
    ["EXISTS", "k"],
    ["SETRANGE", "k", "5", "abc"],
    ["GET", "k"],
    ["SETRANGE", "k", "1", "X"],
    ["GET", "k"],
    ["SETRANGE", "k", "0", ""],
    ["SETRANGE", "k", "-1", "x"],
    ["SETRANGE", "k", "abc", "x"],
    ["SETRANGE", "k", "67108863", "x"],
    ["STRLEN", "k"],
    ["SETRANGE", "k", "67108864", "x"],
    ["SETRANGE", "k", "67108860", "abcdefgh"],
    ["SETRANGE", "k", I64_MAX, "x"],
    ["SETRANGE", "k", "100", ""],
    ["SET", "t", "v", "EX", "100"],
    ["SETRANGE", "t", "3", "w"],
    ["TTL", "t"],
    ["SET", "n", "10"],
    ["SETRANGE", "n", "1", "5"],
    ["GET", "n"],
    ["INCR", "n"],
  ],
  "APPEND at the size limit": [
    ["SETRANGE", "big", "67108863", "x"],
    ["APPEND", "big", "y"],
    ["APPEND", "big", ""],
    ["APPEND", "new", ""],
    ["EXISTS", "new"],
  ],
  "INCRBYFLOAT": [
    ["INCRBYFLOAT", "f", "10.5"],
    ["INCRBYFLOAT", "f", "0.1"],
    ["SET", "g", "10.1"],
    ["INCRBYFLOAT", "g", "0.2"],
    ["INCRBYFLOAT", "g", "-10.3"],
    ["INCRBYFLOAT", "g", "5.0e3"],
    ["INCRBYFLOAT", "g", "2.0e-5"],
    ["INCRBYFLOAT", "g", "0x1p4"],
    ["INCRBYFLOAT", "g", "inf"],
    ["INCRBYFLOAT", "g", "-inf"],
    ["INCRBYFLOAT", "g", "nan"],
    ["INCRBYFLOAT", "g", " 1"],
    ["INCRBYFLOAT", "g", "1 "],
    ["INCRBYFLOAT", "g", ""],
    ["INCRBYFLOAT", "g", "1e5000"],
    ["INCRBYFLOAT", "g", "1e-5000"],
    ["INCRBYFLOAT", "g", "1e-4940"],
    ["INCRBYFLOAT", "g", "abc"],
    ["SET", "s", "abc"],
    ["INCRBYFLOAT", "s", "1"],
    ["SET", "i", I64_MAX],
    ["INCRBYFLOAT", "i", "1"],
    ["SET", "h", "1e4000"],
    ["INCRBYFLOAT", "h", "1"],
    ["SET", "t", "1", "EX", "100"],
    ["INCRBYFLOAT", "t", "1.5"],
    ["TTL", "t"],
    ["SET", "z", "-0.0"],
    ["INCRBYFLOAT", "z", "0"],
    ["INCRBYFLOAT", "z", "-0"],
  ],
  "LCS": [
    ["MSET", "a", "ohmytext", "b", "mynewtext"],
    ["LCS", "a", "b"],
    ["LCS", "a", "b", "LEN"],
    ["LCS", "a", "b", "IDX"],
    ["LCS", "a", "b", "IDX", "MINMATCHLEN", "4"],
    ["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
    ["LCS", "a", "b", "IDX", "WITHMATCHLEN"],
    ["LCS", "a", "b", "IDX", "MINMATCHLEN", "-3"],
    ["LCS", "a", "b", "LEN", "IDX"],
    ["LCS", "a", "b", "FOO"],
    ["LCS", "a", "b", "MINMATCHLEN"],
    ["LCS", "a", "b", "MINMATCHLEN", "x"],
    ["LCS", "a", "missing"],
    ["LCS", "missing", "other", "IDX"],
    ["SET", "c", "ABCBDAB"],
    ["SET", "d", "BDCABA"],
    ["LCS", "c", "d", "IDX", "WITHMATCHLEN"],
    ["LCS", "d", "c"],
    ["SET", "x", "x".repeat(5000)],
    ["SET", "y", "x".repeat(5000)],
    ["LCS", "x", "y", "LEN"],
  ],
  "SETBIT and GETBIT": [
    ["SETBIT", "b", "7", "1"],
    ["GET", "b"],
    ["SETBIT", "b", "7", "0"],
    ["SETBIT", "b", "0", "1"],
    ["GETBIT", "b", "0"],
    ["GETBIT", "b", "100"],
    ["GETBIT", "missing", "3"],
    ["SETBIT", "b", "100", "1"],
    ["STRLEN", "b"],
    ["SETBIT", "b", "1", "2"],
    ["SETBIT", "b", "1", "-1"],
    ["SETBIT", "b", "-1", "1"],
    ["SETBIT", "b", "x", "1"],
    ["SETBIT", "b", "536870911", "1"],
    ["SETBIT", "b", "536870912", "1"],
    ["GETBIT", "b", "536870912"],
    ["GETBIT", "b", "4294967296"],
    ["SET", "s", "`"],
    ["GETBIT", "s", "1"],
    ["GETBIT", "s", "2"],
    ["SETBIT", "s", "7", "1"],
    ["GET", "s"],
  ],
  "BITCOUNT": [
    ["SET", "m", "foobar"],
    ["BITCOUNT", "m"],
    ["BITCOUNT", "m", "0", "0"],
    ["BITCOUNT", "m", "1", "1"],
    ["BITCOUNT", "m", "1", "1", "BYTE"],
    ["BITCOUNT", "m", "5", "30", "BIT"],
    ["BITCOUNT", "m", "-2", "-1"],
    ["BITCOUNT", "m", "-1", "-2"],
    ["BITCOUNT", "m", "-100", "100"],
    ["BITCOUNT", "m", "0"],
    ["BITCOUNT", "m", "0", "1", "BITS"],
    ["BITCOUNT", "m", "a", "1"],
    ["BITCOUNT", "missing", "a", "b"],
    ["BITCOUNT", "m", "0", "-1", "BIT"],
    ["BITCOUNT", "m", "3", "3", "bit"],
    ["BITCOUNT", "m", "9", "14", "BIT"],
  ],
  "BITPOS": [
    ["SET", "m", "\xff\xf0\x00"],
    ["BITPOS", "m", "0"],
    ["BITPOS", "m", "1"],
    ["BITPOS", "m", "0", "2"],
    ["BITPOS", "m", "1", "2"],
    ["BITPOS", "m", "1", "0", "-1"],
    ["BITPOS", "m", "0", "0", "0"],
    ["BITPOS", "m", "0", "0", "1"],
    ["BITPOS", "m", "0", "7", "15", "BIT"],
    ["BITPOS", "m", "1", "7", "15", "BIT"],
    ["BITPOS", "m", "1", "13", "BIT"],
    ["BITPOS", "m", "0", "13", "BIT"],
    ["BITPOS", "m", "1", "-5", "-1", "BIT"],
    ["BITPOS", "m", "2"],
    ["BITPOS", "m", "x"],
    ["BITPOS", "missing", "0"],
    ["BITPOS", "missing", "1"],
    ["SET", "ones", "\xff\xff"],
    ["BITPOS", "ones", "0"],
    ["BITPOS", "ones", "0", "0", "-1"],
    ["BITPOS", "ones", "0", "0"],
    ["SET", "zeros", "\x00\x00"],
    ["BITPOS", "zeros", "1"],
    ["BITPOS", "zeros", "1", "3", "1"],
    ["BITPOS", "m", "1", "0", "1", "BYTES"],
  ],
  "BITOP": [
    ["SET", "a", "foof"],
    ["SET", "b", "abcdef"],
    ["BITOP", "AND", "d", "a", "b"],
    ["GET", "d"],
    ["BITOP", "or", "d", "a", "b"],
    ["GET", "d"],
    ["BITOP", "XOR", "d", "a", "b", "missing"],
    ["GET", "d"],
    ["BITOP", "NOT", "d", "a"],
    ["GET", "d"],
    ["BITOP", "NOT", "d", "a", "b"],
    ["BITOP", "NAND", "d", "a"],
    ["BITOP", "AND", "d", "missing", "other"],
    ["EXISTS", "d"],
    ["SET", "d", "x", "EX", "100"],
    ["BITOP", "OR", "d", "a"],
    ["TTL", "d"],
  ],
  "BITFIELD": [
    ["BITFIELD", "f", "SET", "i8", "0", "100", "GET", "i8", "0"],
    ["BITFIELD", "f", "INCRBY", "i8", "0", "100"],
    ["BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100"],
    ["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "100"],
    ["BITFIELD", "f", "OVERFLOW", "WRAP", "INCRBY", "u4", "#2", "17"],
    ["BITFIELD", "f", "SET", "u8", "0", "-1", "GET", "u8", "0"],
    ["BITFIELD", "f", "OVERFLOW", "SAT", "SET", "u8", "0", "300"],
    ["BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u8", "0", "300"],
    ["BITFIELD", "f", "SET", "i64", "3", I64_MIN, "INCRBY", "i64", "3", "-1"],
    ["BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "i64", "3", "-1"],
    ["BITFIELD", "f", "SET", "u63", "1", I64_MAX, "GET", "u63", "1"],
    ["BITFIELD", "f", "GET", "u64", "0"],
    ["BITFIELD", "f", "GET", "i65", "0"],
    ["BITFIELD", "f", "GET", "x8", "0"],
    ["BITFIELD", "f", "GET", "I8", "0"],
    ["BITFIELD", "f", "GET", "i0", "0"],
    ["BITFIELD", "f", "GET", "i8", "-1"],
    ["BITFIELD", "f", "GET", "i8"],
    ["BITFIELD", "f", "OVERFLOW", "BOUNCE"],
    ["BITFIELD", "f", "FOO", "i8", "0"],
    ["BITFIELD", "f"],
    ["BITFIELD", "g", "OVERFLOW", "FAIL", "SET", "u8", "#3", "999"],
    ["GET", "g"],
    ["BITFIELD", "f", "INCRBY", "u2", "100", "1", "GET", "u2", "100"],
    ["BITFIELD_RO", "f", "GET", "i8", "0", "GET", "u4", "#1"],
    ["BITFIELD_RO", "f", "SET", "i8", "0", "1"],
    ["BITFIELD_RO", "missing", "GET", "i8", "0"],
    ["GET", "f"],
  ],
};

const KEYS = ["a", "b", "c"];
const VALUES = ["", "0", "1", "-5", "10.5", "foobar", "\xff\xf0\x00\x0f", BIN, "123456789"];

function key(r: Rng): string {
  return r.pick(KEYS);
}

function index(r: Rng): string {
  return r.pick(["0", "1", "2", "-1", "-2", "3", "10", "-100", "5", "7"]);
}

const TEMPLATES: Template<StepLike>[] = [
  template(3, (r) => ["SET", key(r), r.pick(VALUES)]),
  template(2, (r) => ["GETRANGE", key(r), index(r), index(r)]),
  template(2, (r) => ["SETRANGE", key(r), r.pick(["0", "1", "3", "8"]), r.pick(VALUES)]),
  template(2, (r) => ["APPEND", key(r), r.pick(VALUES)]),
  template(
    2,
    (r) => ["SETBIT", key(r), r.pick(["0", "1", "7", "8", "15", "33"]), r.pick(["0", "1"])],
  ),
  template(2, (r) => ["GETBIT", key(r), r.pick(["0", "1", "7", "8", "15", "33", "100"])]),
  template(2, (r) =>
    r.pick([["BITCOUNT", key(r)], ["BITCOUNT", key(r), index(r), index(r)], [
      "BITCOUNT",
      key(r),
      index(r),
      index(r),
      r.pick(["BIT", "BYTE"]),
    ]])),
  template(3, (r) =>
    r.pick([
      ["BITPOS", key(r), r.pick(["0", "1"])],
      ["BITPOS", key(r), r.pick(["0", "1"]), index(r)],
      ["BITPOS", key(r), r.pick(["0", "1"]), index(r), index(r)],
      ["BITPOS", key(r), r.pick(["0", "1"]), index(r), index(r), r.pick(["BIT", "BYTE"])],
    ])),
  template(1, (r) => ["BITOP", r.pick(["AND", "OR", "XOR"]), key(r), key(r), key(r)]),
  template(1, (r) => ["BITOP", "NOT", key(r), key(r)]),
  template(2, (r) => ["INCRBYFLOAT", key(r), r.pick(["1.5", "-0.25", "1e3", "0.1", "3", "-7e-3"])]),
  template(1, (r) => ["LCS", key(r), key(r), ...r.pick([[], ["LEN"], ["IDX", "WITHMATCHLEN"]])]),
  template(2, (r) => {
    const type = r.pick(["i4", "u4", "i8", "u8", "i16", "u3", "i1", "u1", "i64", "u63"]);
    const offset = r.pick(["0", "3", "#1", "#2", "13"]);
    const op = r.pick([
      ["GET", type, offset],
      ["SET", type, offset, r.pick(["0", "1", "-1", "200", "-129", I64_MAX])],
      ["INCRBY", type, offset, r.pick(["1", "-1", "100", "-300", I64_MIN])],
    ]);
    const overflow = r.pick([[], ["OVERFLOW", "WRAP"], ["OVERFLOW", "SAT"], ["OVERFLOW", "FAIL"]]);
    return ["BITFIELD", key(r), ...overflow, ...op];
  }),
  template(1, (r) => ["GET", key(r)]),
  template(1, (r) => ["DEL", key(r)]),
];

differentialTest(
  "differential: string range, float and bitmap commands, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis({ redis: ["--proto-max-bulk-len", "64mb"] }),
  async (t, pair) => {
    for (const resp3 of [false, true]) {
      for (const [name, steps] of Object.entries(CASES)) {
        const label = `${name} (RESP${resp3 ? 3 : 2})`;
        await t.step(label, async () => {
          await pair.diff(steps, { rules: STANDARD_RULES, label, resp3 });
        });
      }
    }
    for (const seed of [1, 2, 3]) {
      const resp3 = seed === 3;
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
