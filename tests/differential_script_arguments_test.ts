/**
 * The Lua libraries' argument checks and edge values, against redis-server
 * 7.0 byte for byte in RESP2 and RESP3: every function of `string`,
 * `table`, `math`, the base library, `bit`, `cjson`, `cmsgpack` and
 * `struct`, called through `pcall` with
 * each of a set of wrong argument lists (none, nil, a table, a string
 * where a number goes, extra arguments...), so that which argument is
 * refused first and the words of the error are Redis's Lua 5.1's (its gcc
 * checks a C call's arguments right to left: `math.pow()` names argument
 * 2); then values where Lua 5.4 and Redis's 5.1 libraries differ: LuaBitOp
 * rounds a float to the nearest integer (`bit.tobit(1.5)` is 2), 5.1's
 * `math.min`/`max` take numbers only, `unpack` a table only, `math.fmod`
 * of two doubles, `string.gmatch` no third argument.
 *
 * Left out, known: the parser's messages other than the token quoting are
 * 5.4's (`loadstring('x')`; README, scripting).
 */

import { differentialTest, DiffPair, STANDARD_RULES, type StepLike } from "./_differential.ts";

const LIBRARY_FUNCTIONS: Record<string, readonly string[]> = {
  string: [
    "byte",
    "char",
    "find",
    "format",
    "gmatch",
    "gsub",
    "len",
    "lower",
    "match",
    "rep",
    "reverse",
    "sub",
    "upper",
  ],
  table: ["concat", "insert", "remove", "sort", "getn", "foreach", "foreachi", "maxn", "setn"],
  math: [
    "abs",
    "acos",
    "asin",
    "atan",
    "atan2",
    "ceil",
    "cos",
    "cosh",
    "deg",
    "exp",
    "floor",
    "fmod",
    "frexp",
    "ldexp",
    "log",
    "log10",
    "max",
    "min",
    "modf",
    "pow",
    "rad",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
  ],
  base: [
    "assert",
    "error",
    "ipairs",
    "next",
    "pairs",
    "rawequal",
    "rawget",
    "rawset",
    "select",
    "setmetatable",
    "getmetatable",
    "tonumber",
    "tostring",
    "type",
    "unpack",
    "xpcall",
    "pcall",
  ],
  cjson: ["encode", "decode"],
  cmsgpack: ["pack", "unpack"],
  struct: ["pack", "unpack", "size"],
  bit: [
    "tobit",
    "tohex",
    "bnot",
    "band",
    "bor",
    "bxor",
    "lshift",
    "rshift",
    "arshift",
    "rol",
    "ror",
    "bswap",
  ],
};

/** Wrong argument lists, as Lua source. */
const WRONG_ARGUMENTS = ["", "{}", "nil", "'x'", "1, {}", "'x', {}", "{}, 1", "'x', 'y', {}"];

/**
 * EVAL of `pcall(call)` returning what pcall returned, each value made
 * printable (a table, a function: its type; an address in a string: `0x?`).
 */
function protectedCall(call: string): StepLike {
  return [
    "EVAL",
    `local r = {pcall(${call})} r[1] = tostring(r[1]) ` +
    "for i = 2, #r do local k = type(r[i]) " +
    "if k == 'string' then r[i] = (r[i]:gsub('0x%x+', '0x?')) " +
    "elseif k ~= 'number' then r[i] = k end end return r",
    "0",
  ];
}

function argumentErrors(library: string): StepLike[] {
  return LIBRARY_FUNCTIONS[library].flatMap((name) => {
    const f = library === "base" ? name : `${library}.${name}`;
    return WRONG_ARGUMENTS.map((args) => protectedCall(args === "" ? f : `${f}, ${args}`));
  });
}

/** EVAL of `function() return <e> end` under pcall, results printed by tostring. */
function values(...expressions: string[]): StepLike[] {
  return expressions.map((e) => protectedCall(`function() return ${e} end`));
}

const CASES: Record<string, StepLike[]> = {
  "string: argument errors": argumentErrors("string"),
  "table: argument errors": argumentErrors("table"),
  "math: argument errors": argumentErrors("math"),
  "base functions: argument errors": argumentErrors("base"),
  "bit: argument errors": argumentErrors("bit"),
  "cjson, cmsgpack and struct: argument errors": [
    ...argumentErrors("cjson"),
    ...argumentErrors("cmsgpack"),
    ...argumentErrors("struct"),
  ],
  "bit: LuaBitOp's rounding, shifts and hex": values(
    "bit.tobit(1.5)",
    "bit.tobit(2.5)",
    "bit.tobit(-1.5)",
    "bit.tobit(-2.5)",
    "bit.tobit(2^32 + 3)",
    "bit.tobit(2^31)",
    "bit.tobit(-2^31 - 1)",
    "bit.tobit(2^53)",
    "bit.tobit(2^60 + 5)",
    "bit.tobit(1/0)",
    "bit.tobit(0/0)",
    "bit.tobit('7.5')",
    "bit.tobit('0x10')",
    "bit.tohex(255)",
    "bit.tohex(255, 0)",
    "bit.tohex(255, -2)",
    "bit.tohex(255, 12)",
    "bit.tohex(-1)",
    "bit.tohex(-1, -8)",
    "bit.tohex(65535, 3.5)",
    "bit.bnot(0)",
    "bit.bnot(5.5)",
    "bit.band(7.6, 3)",
    "bit.band(-1, 0xff)",
    "bit.bor(1, 2, 4.5)",
    "bit.bxor(5, 3, 1)",
    "bit.band(1)",
    "bit.lshift(1, 31)",
    "bit.lshift(1, 32)",
    "bit.lshift(1, 33.5)",
    "bit.rshift(-1, 28)",
    "bit.arshift(-256, 4)",
    "bit.arshift(256, 4)",
    "bit.arshift(-1, 31)",
    "bit.rol(0x80000001, 1)",
    "bit.ror(1, 1)",
    "bit.rol(5, 0)",
    "bit.ror(5, 32)",
    "bit.bswap(0x12345678)",
    "bit.bswap(-1)",
  ),
  "math.min/max of numbers, fmod of doubles, unpack of tables, gmatch": values(
    "math.min(3, 1, 2)",
    "math.min('5', 3)",
    "math.min(1.5, 2)",
    "math.max(3, '10', 2)",
    "math.max(0/0, 1)",
    "math.min(1, 0/0)",
    "math.max(-0.0, 0)",
    "math.fmod(7, 3)",
    "math.fmod(-7, 3)",
    "math.fmod(1, 0)",
    "math.fmod(7.5, 2)",
    "math.pow(2, 10)",
    "math.atan2(1, 1)",
    "math.ldexp(1, 10)",
    "select('#', unpack({1, 2, 3}))",
    "unpack({1, 2, 3}, 2)",
    "unpack({1, 2, 3}, 2, 3)",
    "select('#', unpack({1, nil, 3}))",
    "select('#', unpack({}, 1, 3))",
    "unpack({1, 2, 3}, '2')",
    "select('#', unpack({1, 2}, 3))",
    "unpack({1, 2, 3}, 1.9, 2.9)",
    "unpack({}, 1, 1e8)",
    "table.concat({1, 2}, 3)",
    "table.concat({1, 2}, nil)",
    "type(string.gmatch('abc', '%a', 2))",
    "table.sort({}, nil)",
  ),
  "the wrapped functions' errors name them in a script's own call": [
    ["EVAL", "return cjson.encode()", "0"],
    ["EVAL", "local t = {} t.f = cjson.decode return t:f()", "0"],
    ["EVAL", "return struct.unpack('z', 'x')", "0"],
    ["EVAL", "return bit.band()", "0"],
    ["EVAL", "return math.pow(2)", "0"],
    ["EVAL", "return unpack('x')", "0"],
    ["EVAL", "local x = math.min() return x", "0"],
    ["EVAL", "table.sort({1, 2}, 3)", "0"],
  ],
};

differentialTest(
  "differential: the Lua libraries' argument checks and 5.1 values, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
  },
);
