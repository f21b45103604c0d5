/**
 * Numbers printed as Redis's Lua 5.1 prints them, against redis-server 7.0
 * byte for byte: `tostring` (`%.14g`: `tostring(10/2)` is "5", not 5.4's
 * "5.0"), `string.format`'s `%s`/`%q` of a number and its integer
 * conversions of a float (5.1 truncates, 5.4 refuses 3.5), `table.concat`
 * of floats, numbers given to `redis.call` (`%.17g` of the double), and
 * the argument errors of the functions kvdb wraps for this, which stay
 * Redis's (the script's line, the function's name) also in a tail call.
 * What the VM itself converts (`..`) cannot be changed: README.
 */

import { differentialTest, DiffPair, STANDARD_RULES, type StepLike } from "./_differential.ts";

const ARGUMENT_NUMBERS = "0.1, 1/3, 1e20, 1e21, 1e-7, 123456789012345678, 2^63, -0.0, 1e300, " +
  "5.0, 3.14159, 1e15, 1e16, 1e17, 2^53, 100/3, -1.5e-10, 9007199254740993, 12345, -7";

const CASES: Record<string, StepLike[]> = {
  "tostring prints numbers with %.14g": [
    ["EVAL", "return tostring(10/2)", "0"],
    [
      "EVAL",
      "return {tostring(1e15), tostring(123456789012345678), tostring(1/3), tostring(-1e-5), " +
      "tostring(2^31), tostring(7 / 7), tostring(math.huge), tostring(-math.huge), " +
      "tostring(-0.0), tostring(2^63), tostring(1e100), tostring(3), tostring(0.1)}",
      "0",
    ],
    ["EVAL", "return {tostring(nil), tostring(true), tostring('x'), type(tostring({}))}", "0"],
    ["EVAL", "local t = {} for i = 1, 3 do t[i] = tostring(i / 2) end return t", "0"],
    [
      "EVAL",
      "return {tostring(99999999999999), tostring(-99999999999999), tostring(100000000000000), " +
      "tostring(-100000000000000), tostring(123456789012345), tostring(0), tostring(-7), " +
      "tostring(0/0), tostring(-(0/0)), tostring(1e14), tostring(99999999999999.0), tostring(-1.0)}",
      "0",
    ],
    [
      "EVAL",
      "return tostring(setmetatable({}, {__tostring = function() return 'me' end}))",
      "0",
    ],
    ["EVAL", "return tostring(setmetatable({}, {__tostring = function() return 1 end}))", "0"],
    ["EVAL", "return {pcall(tostring)}", "0"],
  ],
  "string.format: %s and %q of numbers, integer conversions of floats": [
    ["EVAL", "return string.format('%s|%d|%5.1f|%x|%%|%s', 5.0, 7/2, 2.25, 255.0, 'a')", "0"],
    ["EVAL", "return string.format('%q', 2.0)", "0"],
    ["EVAL", "return string.format('%5s|%-5d|%c%c', 1.0, -2.7, 65.0, 66)", "0"],
    ["EVAL", "return string.format('%s %s', 1/0, 10/4)", "0"],
    ["EVAL", "return string.format('%.3f %g %e', 1/3, 0.5, 1e10)", "0"],
    [
      "EVAL",
      "return string.format('%d|%s|%s|%x|%5.1f|%c', 123456789012345, 99999999999999, " +
      "100000000000000, 255, 3, 65)",
      "0",
    ],
    ["EVAL", "return string.format('%s|%d|%s', -99999999999999, -100000000000000, 2^53)", "0"],
  ],
  "cjson, cmsgpack and struct given a number for a string print it as 5.1": [
    ["EVAL", "return {cjson.decode(5.0), cjson.decode(2^53), cjson.decode(-0.5)}", "0"],
    [
      "EVAL",
      "return {struct.pack('s', 2.0), struct.pack('s', 1e15), struct.unpack('c1', 7.0)}",
      "0",
    ],
    ["EVAL", "return {pcall(cmsgpack.unpack, 1.0)}", "0"],
  ],
  "table.concat of floats": [
    ["EVAL", "return table.concat({1.5, 2.0, 3}, ',')", "0"],
    ["EVAL", "return table.concat({1, 2.5, 3.0}, '-', 2)", "0"],
    ["EVAL", "return table.concat({'a', 4.0, 'b'})", "0"],
  ],
  "numbers given to redis.call: %.17g of the double": [
    [
      "EVAL",
      `local out = {} for _, v in ipairs({${ARGUMENT_NUMBERS}}) do ` +
      "out[#out + 1] = redis.call('ECHO', v) end return out",
      "0",
    ],
    ["EVAL", "return redis.call('INCRBYFLOAT', KEYS[1], 0.1)", "1", "f"],
    ["EVAL", "redis.call('SET', KEYS[1], 10/2) return redis.call('GET', KEYS[1])", "1", "g"],
  ],
  "the wrapped functions' errors stay Redis's, in tail calls too": [
    ["EVAL", "return tostring()", "0"],
    ["EVAL", "local s = tostring() return s", "0"],
    ["EVAL", "return string.format('%d', 'x')", "0"],
    ["EVAL", "local s = string.format('%d', 'x') return s", "0"],
    ["EVAL", "return string.format('%d %d', 1.5, 'x')", "0"],
    ["EVAL", "return string.format()", "0"],
    ["EVAL", "return table.concat({{}})", "0"],
    ["EVAL", "return table.concat({1.5, {}})", "0"],
    ["EVAL", "return table.concat(5)", "0"],
    ["EVAL", "return table.concat()", "0"],
    ["EVAL", "\n\nlocal x = 1\nreturn string.format('%d', {})", "0"],
  ],
};

differentialTest(
  "differential: Lua 5.1 number printing, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
  },
);
