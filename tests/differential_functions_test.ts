/**
 * Redis 7 functions (issue 19 point 2) against redis-server 7.0, replies
 * compared byte for byte in RESP2 and RESP3: FUNCTION LOAD [REPLACE] |
 * DELETE | FLUSH | LIST [LIBRARYNAME] [WITHCODE] | DUMP | RESTORE | STATS |
 * KILL, FCALL and FCALL_RO, `redis.register_function` in both forms with
 * flags and descriptions, and the errors of each (bad metadata, compile
 * and registration errors, name clashes, read-only calls).
 *
 * Each case loads at most one library before listing, so FUNCTION LIST's
 * order (Redis: its hash table's) is the same on both sides.
 */

import { differentialTest, DiffPair, STANDARD_RULES, type StepLike } from "./_differential.ts";

const LIB = `#!lua name=mylib
local function get(keys, args) return redis.call('GET', keys[1]) end
redis.register_function('myget', get)
redis.register_function{function_name='myset', callback=function(keys, args)
  return redis.call('SET', keys[1], args[1]) end, description='sets a key'}
redis.register_function{function_name='ro', callback=function(keys, args) return args end,
  flags={'no-writes'}, description='echoes'}
redis.register_function{function_name='rowrite', callback=function(keys, args)
  return redis.call('SET', keys[1], 'x') end, flags={'no-writes', 'allow-oom'}}`;

const LIB2 = `#!lua name=mylib
redis.register_function('myget', function(keys, args) return 'v2:' .. redis.call('GET', keys[1]) end)`;

const ONE = `#!lua name=one
redis.register_function{function_name='only', callback=function(keys, args) return 1 end,
  flags={'no-writes'}, description='the only one'}`;

const OTHER = `#!lua name=other
redis.register_function('otherfn', function(keys, args) return #keys + #args end)`;

/** One library with a function: FUNCTION LOAD's argument. */
function lib(name: string, body: string): string {
  return `#!lua name=${name}\n${body}`;
}

/** Each case starts with no libraries on either side. */
function withFlush(steps: StepLike[]): StepLike[] {
  return [["FUNCTION", "FLUSH"], ...steps, ["FUNCTION", "FLUSH"]];
}

/** A library of one function `f` whose body is `body` (it gets `keys`, `args`). */
function fn(body: string): string {
  return lib("t", `redis.register_function('f', function(keys, args) ${body} end)`);
}

/** FCALL f once loaded from {@link fn}: 1 key, 1 argument. */
function callFn(body: string): StepLike[] {
  return [["FUNCTION", "LOAD", "REPLACE", fn(body)], ["FCALL", "f", "1", "a", "b"]];
}

const CASES: Record<string, StepLike[]> = {
  "sandbox: a function's globals are read-only, raw access included; keys and args are plain tables":
    withFlush([
      ...callFn("rawset(_G, 'x', 1)"),
      ...callFn("rawset(redis, 'x', 1)"),
      ...callFn("rawset(string, 'x', 1)"),
      ...callFn("setmetatable(_G, {})"),
      ...callFn("setmetatable(redis, {})"),
      ...callFn("return type(getmetatable(_G))"),
      ...callFn("return type(getmetatable(_G).__index)"),
      ...callFn("return getmetatable(_G).__index(_G, 'redis')"),
      ...callFn("rawset(getmetatable(_G), 'x', 1)"),
      ...callFn("redis.x = 1"),
      ...callFn("x = 1"),
      ...callFn("return type(_G)"),
      ...callFn("return tostring(_G == _G._G)"),
      ...callFn("return rawget(_G, 'redis') ~= nil"),
      ...callFn("return next(_G) ~= nil"),
      ...callFn("return type(KEYS)"),
      ...callFn("return type(_G.KEYS)"),
      ...callFn("return type(rawget(_G, 'KEYS'))"),
      ...callFn("return type(redis.register_function)"),
      ...callFn("local ok, e = pcall(rawset, _G, 'x', 1) return e"),
      ...callFn("rawset(getmetatable(''), 'x', 1)"),
      ...callFn("getmetatable('').x = 1"),
      ...callFn("keys[1] = 'z' return keys[1]"),
      ...callFn("rawset(keys, 1, 'q') return keys[1]"),
      ...callFn("setmetatable(keys, {}) return 1"),
      // A function's upvalues outlive the call: a keys table it kept is the old one.
      [
        "FUNCTION",
        "LOAD",
        "REPLACE",
        lib(
          "t",
          "local kept redis.register_function('f', function(keys, args) if kept == nil then kept = keys return 'first' end return kept[1] end)",
        ),
      ],
      ["FCALL", "f", "1", "one"],
      ["FCALL", "f", "1", "two"],
      ["EVAL", "return KEYS[1]", "1", "three"],
      ["FCALL", "f", "1", "four"],
    ]),
  "LOAD, FCALL, FCALL_RO, the state after": withFlush([
    ["FUNCTION", "LOAD", LIB],
    ["SET", "k", "v"],
    ["FCALL", "myget", "1", "k"],
    ["FCALL", "myset", "1", "k", "w"],
    ["GET", "k"],
    ["FCALL", "ro", "0", "a", "b"],
    ["FCALL_RO", "ro", "0", "a"],
    ["FCALL_RO", "myget", "1", "k"],
    ["FCALL", "rowrite", "1", "k"],
    ["GET", "k"],
    ["FCALL", "nosuch", "0"],
    ["FCALL", "myget", "2", "k"],
    ["FCALL", "myget", "-1"],
    ["FCALL", "myget", "x"],
    ["FUNCTION", "STATS"],
    ["FUNCTION", "DUMP"],
    // One function per library from here: FUNCTION LIST's order within a
    // library is Redis's hash table's.
    ["FUNCTION", "DELETE", "mylib"],
    ["FUNCTION", "LOAD", ONE],
    ["FUNCTION", "LIST"],
    ["FUNCTION", "LIST", "WITHCODE"],
    ["FUNCTION", "LIST", "LIBRARYNAME", "on*"],
    ["FUNCTION", "LIST", "LIBRARYNAME", "zz*"],
    ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "one"],
    ["FUNCTION", "LIST", "LIBRARYNAME"],
    ["FUNCTION", "LIST", "BOGUS"],
    ["FUNCTION", "STATS"],
    ["FUNCTION", "DUMP"],
  ]),
  "LOAD errors: metadata, compile, registration, clashes": withFlush([
    ["FUNCTION", "LOAD", "no shebang"],
    ["FUNCTION", "LOAD", "#!lua\nreturn 1"],
    ["FUNCTION", "LOAD", "#!lua name=x foo=bar\nreturn 1"],
    ["FUNCTION", "LOAD", "#!nosuch name=x\nreturn 1"],
    ["FUNCTION", "LOAD", "#!lua name=x-y\nreturn 1"],
    ["FUNCTION", "LOAD", lib("x", "return 1")],
    ["FUNCTION", "LOAD", lib("x", "local a = (")],
    ["FUNCTION", "LOAD", lib("x", "redis.register_function('f', function() end, 'bad')")],
    [
      "FUNCTION",
      "LOAD",
      lib(
        "x",
        "redis.register_function{function_name='f', callback=function() end, flags={'bad'}}",
      ),
    ],
    [
      "FUNCTION",
      "LOAD",
      lib("x", "redis.register_function{function_name='f', callback=function() end, foo=1}"),
    ],
    [
      "FUNCTION",
      "LOAD",
      lib(
        "x",
        "redis.register_function{function_name='f', callback=function() end, flags='no-writes'}",
      ),
    ],
    ["FUNCTION", "LOAD", lib("x", "redis.register_function('f', 'notfn')")],
    ["FUNCTION", "LOAD", lib("x", "redis.register_function('f-g', function() end)")],
    [
      "FUNCTION",
      "LOAD",
      lib(
        "x",
        "redis.register_function('f', function() end) redis.register_function('f', function() end)",
      ),
    ],
    ["FUNCTION", "LOAD", lib("x", "redis.call('ping')")],
    ["FUNCTION", "LOAD", lib("x", "redis.register_function('f', function() end) x = 1")],
    ["FUNCTION", "LOAD", lib("x", "while true do end")],
    ["FUNCTION", "LOAD", LIB],
    ["FUNCTION", "LOAD", LIB],
    ["FUNCTION", "LOAD", lib("y", "redis.register_function('myget', function() end)")],
    ["FUNCTION", "LOAD", "REPLACE", LIB2],
    ["SET", "k", "v"],
    ["FCALL", "myget", "1", "k"],
    ["FCALL", "myset", "1", "k", "z"],
    ["FUNCTION", "LOAD", "BOGUS", LIB2],
    ["FUNCTION", "STATS"],
  ]),
  "DELETE, FLUSH, DUMP and RESTORE": withFlush([
    ["FUNCTION", "LOAD", OTHER],
    ["FCALL", "otherfn", "2", "a", "b", "c"],
    ["FUNCTION", "DELETE", "nosuch"],
    ["FUNCTION", "DELETE", "other"],
    ["FCALL", "otherfn", "0"],
    ["FUNCTION", "LOAD", OTHER],
    ["FUNCTION", "FLUSH", "ASYNC"],
    ["FUNCTION", "FLUSH", "NOW"],
    ["FUNCTION", "LIST"],
    ["FUNCTION", "DUMP"],
    ["FUNCTION", "RESTORE", "bad"],
    ["FUNCTION", "LOAD", OTHER],
    ["FUNCTION", "DUMP"],
    ["FUNCTION", "RESTORE", "x", "BOGUS"],
    ["FUNCTION", "LIST"],
    ["FCALL", "otherfn", "1", "a"],
    ["FUNCTION", "KILL"],
    ["EVAL", "return redis.call('FUNCTION', 'LIST')", "0"],
    ["EVAL", "return redis.call('FCALL', 'otherfn', 0)", "0"],
  ]),
  "errors inside functions, and redis.* in a function": withFlush([
    [
      "FUNCTION",
      "LOAD",
      lib(
        "e",
        [
          "redis.register_function('err', function(keys, args) return redis.call('nosuch') end)",
          "redis.register_function('perr', function(keys, args) return redis.pcall('nosuch') end)",
          "redis.register_function('boom', function(keys, args)",
          "  error('boom') end)",
          "redis.register_function('glob', function(keys, args) return KEYS end)",
          "redis.register_function('setg', function(keys, args) zz = 1 end)",
          "redis.register_function('json', function(keys, args) return cjson.encode(args) end)",
          "redis.register_function('types', function(keys, args) return {type(keys), #args, redis.sha1hex('')} end)",
        ].join("\n"),
      ),
    ],
    ["FCALL", "err", "0"],
    ["FCALL", "perr", "0"],
    ["FCALL", "boom", "0"],
    ["FCALL", "glob", "0"],
    ["FCALL", "setg", "0"],
    ["FCALL", "json", "0", "a", "b"],
    ["FCALL", "types", "1", "k", "a"],
  ]),
};

differentialTest(
  "differential: Redis 7 functions, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
  },
);
