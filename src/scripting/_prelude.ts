/**
 * The Lua side of kvdb's scripting environment, run once in each new
 * state: Redis 7.0's `redis` library over the JS bridge `__kvdb` (taken
 * into locals, then removed), Lua 5.1 names Redis scripts use (`unpack`,
 * `table.getn`, `math.pow`, ...), the `bit` library, the sandbox (no `os`,
 * `io`, `load*`, `dofile`, `require`, `debug`), Redis's error handler, and
 * last the read-only global table with Redis's error texts.
 * @module
 */

/** Chunk name of kvdb's own code: the error handler skips its frames. */
export const PRELUDE_CHUNK = "=kvdb";

/** The prelude (see the module doc). */
export const PRELUDE = `
local kv = __kvdb
__kvdb = nil
local getinfo = debug.getinfo
local getregistry = debug.getregistry
local error, type, tostring, rawget, rawset = error, type, tostring, rawget, rawset
local select, setmetatable = select, setmetatable
local lua_pcall, lua_xpcall = pcall, xpcall

unpack = table.unpack
table.getn = function(t) return #t end
table.maxn = function(t)
  local n = 0
  for k in pairs(t) do if type(k) == 'number' and k > n then n = k end end
  return n
end
-- Lua 5.1 had one number type and printed every number with %.14g
-- (LUAI_NUMFFORMAT): tostring(10/2) was '5', 5.4 says '5.0'. tostring,
-- string.format's %s and %q, and table.concat print as 5.1 did; string.format's
-- integer conversions truncate a float as 5.1's C cast did (5.4 refuses
-- 3.5). The VM's own coercions ('..', string functions given a number)
-- cannot be reached from here: README's scripting section.
do
  -- The wrapped C functions keep their names as locals: their argument
  -- errors name them as Redis's do ('format', not a local's name); the
  -- wrappers are C functions to scripts (kv.cfunction: _c_wrapper.ts).
  local cfunction = kv.cfunction
  local tostring, format, concat, math_type = tostring, string.format, table.concat, math.type
  local tointeger, floor, ceil, find, unpack = math.tointeger, math.floor, math.ceil, string.find, table.unpack
  local function tostring51(...)
    local v = ...
    if math_type(v) then return format('%.14g', v) end
    local s = tostring(...)
    return s
  end
  _G.tostring = cfunction(tostring51)
  local INTEGER_CONVERSIONS = {d = true, i = true, o = true, u = true, x = true, X = true, c = true}
  string.format = cfunction(function(...)
    local f = ...
    local n = select('#', ...) - 1
    local any = false
    for k = 2, n + 1 do
      if math_type((select(k, ...))) then any = true break end
    end
    if not any or type(f) ~= 'string' then
      local s = format(...)
      return s
    end
    local args = {select(2, ...)}
    local k, pos = 0, 1
    while k < n do
      local s, e, conversion = find(f, '%%[-+ #0]*%d*%.?%d*(.)', pos)
      if not s then break end
      pos = e + 1
      if conversion ~= '%' then
        k = k + 1
        local v = args[k]
        if (conversion == 's' or conversion == 'q') and math_type(v) then
          args[k] = tostring51(v)
        elseif INTEGER_CONVERSIONS[conversion] and math_type(v) == 'float' then
          args[k] = tointeger(v >= 0 and floor(v) or ceil(v)) or v
        end
      end
    end
    local s = format(f, unpack(args, 1, n))
    return s
  end)
  table.concat = cfunction(function(...)
    local t, sep, i, j = ...
    if type(t) ~= 'table' then
      local s = concat(...)
      return s
    end
    local first, last = i or 1, j or #t
    local copy
    if type(first) ~= 'number' or type(last) ~= 'number' then first, last = 1, 0 end
    for k = first, last do
      local v = t[k]
      if math_type(v) == 'float' then
        copy = copy or {}
        copy[k] = tostring51(v)
      end
    end
    if copy then
      for k = first, last do
        if copy[k] == nil then copy[k] = t[k] end
      end
      t, i, j = copy, first, last
    end
    local s = concat(t, sep, i, j)
    return s
  end)
end
math.pow = function(a, b) return a ^ b end
math.mod = math.fmod
string.gfind = string.gmatch

local function tobit(x) x = math.floor(x) % 4294967296 if x >= 2147483648 then x = x - 4294967296 end return x end
local function u(x) return math.floor(x) & 0xffffffff end
bit = {
  tobit = tobit,
  tohex = function(x, n)
    n = n or 8
    local upper = n < 0
    if upper then n = -n end
    local s = string.format(upper and '%08X' or '%08x', u(x))
    return s:sub(-n)
  end,
  bnot = function(x) return tobit(~u(x)) end,
  band = function(...) local r = 0xffffffff for i = 1, select('#', ...) do r = r & u(select(i, ...)) end return tobit(r) end,
  bor = function(...) local r = 0 for i = 1, select('#', ...) do r = r | u(select(i, ...)) end return tobit(r) end,
  bxor = function(...) local r = 0 for i = 1, select('#', ...) do r = r ~ u(select(i, ...)) end return tobit(r) end,
  lshift = function(x, n) return tobit(u(x) << (n & 31)) end,
  rshift = function(x, n) return tobit(u(x) >> (n & 31)) end,
  arshift = function(x, n) return tobit(tobit(x) >> (n & 31) | (tobit(x) < 0 and ~(0xffffffff >> (n & 31)) or 0)) end,
  rol = function(x, n) n = n & 31 x = u(x) return tobit((x << n) | (x >> (32 - n))) end,
  ror = function(x, n) n = n & 31 x = u(x) return tobit((x >> n) | (x << (32 - n))) end,
  bswap = function(x) x = u(x) return tobit(((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >> 8) & 0xff00) | (x >> 24)) end,
}

redis = {
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = '7.0.15', REDIS_VERSION_NUM = 0x07000f,
}
redis.call = kv.call
redis.pcall = kv.pcall
-- Redis 7.0 hands a caught error reply to the script as its text.
local function caught(ok, ...)
  if ok then return ok, ... end
  local e = ...
  if type(e) == 'table' and type(e.err) == 'string' then return false, e.err end
  return false, ...
end
pcall = function(f, ...) return caught(lua_pcall(f, ...)) end
function redis.error_reply(e)
  if type(e) ~= 'string' then error('wrong number or type of arguments', 2) end
  return {err = e}
end
function redis.status_reply(s)
  if type(s) ~= 'string' then error('wrong number or type of arguments', 2) end
  return {ok = s}
end
redis.sha1hex = kv.sha1hex
redis.log = kv.log
redis.setresp = kv.setresp
function redis.set_repl(mode) return nil end
function redis.replicate_commands() return true end
function redis.breakpoint() return false end
function redis.debug() end

-- Redis 7.0's __redis__err__handler: where the error was raised, past C
-- functions and kvdb's own Lua.
local function tag(err, i)
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if i then
    err.source = i.source
    err.line = i.currentline
  end
  return err
end
__kvdb_error_handler = function(err)
  local level = 2
  local i = getinfo(level, 'Sl')
  while i and (i.what == 'C' or i.source == '${PRELUDE_CHUNK}') do
    level = level + 1
    i = getinfo(level, 'Sl')
  end
  return tag(err, i)
end

-- The same for a script's coroutine that failed (script_engine.ts): its
-- stack is kept until it is reset, so the error is placed afterwards, with
-- no xpcall in the coroutine.
__kvdb_where = function(co, err)
  local level = 0
  local i = getinfo(co, level, 'Sl')
  while i and (i.what == 'C' or i.source == '${PRELUDE_CHUNK}') do
    level = level + 1
    i = getinfo(co, level, 'Sl')
  end
  return tag(err, i)
end

os, io, package, require, dofile, loadfile, load, loadstring, debug, utf8, print =
  nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil

-- Read-only globals and libraries (Redis 7.0 marks these tables read-only):
-- _G keeps no fields of its own, so every assignment reaches __newindex;
-- reads fall through to the backing table (a table __index: no call).
-- raw[p] is the table behind the read-only proxy p, never handed to a
-- script (a writable table that outlives the call would let a script keep
-- state, and see KEYS and ARGV reused: script_engine.ts); shown[p] is what
-- getmetatable(p) returns, as Redis's read-only tables show their own.
local G, next, pairs, ipairs, getmetatable = _G, next, pairs, ipairs, getmetatable
local cfunction = kv.cfunction
local raw, shown = {}, {}
local function readonly() error('Attempt to modify a readonly table', 2) end
local next_
local function protect(t, meta)
  local p = setmetatable({}, {
    __index = t, __newindex = readonly, __metatable = false,
    __pairs = function(p) return next_, p, nil end, __len = function() return #t end,
  })
  raw[p], shown[p] = t, meta
  return p
end
local function missing(_, name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end
-- The raw functions see through the proxies and refuse to change them, as
-- Redis's do with its read-only tables (their message has no position);
-- their argument errors are Lua 5.1's, raised by the functions themselves.
local function modify() error('Attempt to modify a readonly table', 0) end
next_ = cfunction(function(...)
  local t, k = ...
  local r = raw[t]
  local key, value
  if r ~= nil then key, value = next(r, k) else key, value = next(...) end
  return key, value
end)
local rawset_ = cfunction(function(...)
  local t, k = ...
  if type(t) ~= 'table' or select('#', ...) < 3 then rawset(...) end
  if raw[t] ~= nil then modify() end
  if k == nil then error('table index is nil', 0) end
  if k ~= k then error('table index is NaN', 0) end
  rawset(...)
  return t
end)
local rawget_ = cfunction(function(...)
  local t, k = ...
  local r = raw[t]
  if r ~= nil and select('#', ...) >= 2 then return (rawget(r, k)) end
  local v = rawget(...)
  return v
end)
local getmetatable_ = cfunction(function(...)
  local t = ...
  if raw[t] ~= nil then return shown[t] end
  local m = getmetatable(...)
  return m
end)
local setmetatable_ = cfunction(function(...)
  local t, m = ...
  local kind = type(m)
  if select('#', ...) < 2 or (kind ~= 'nil' and kind ~= 'table') then
    if type(t) ~= 'table' then setmetatable(...) end
    error("bad argument #2 to 'setmetatable' (nil or table expected)")
  end
  if type(t) ~= 'table' then setmetatable(...) end
  if raw[t] ~= nil then modify() end
  local r = setmetatable(t, m)
  return r
end)
G.next, G.rawset, G.rawget, G.getmetatable, G.setmetatable =
  next_, rawset_, rawget_, getmetatable_, setmetatable_
local backing, names = {}, {}
for k, v in pairs(G) do names[#names + 1] = k backing[k] = v end
for i = 1, #names do rawset(G, names[i], nil) end
for _, lib in ipairs({'redis', 'cjson', 'cmsgpack', 'struct', 'bit', 'string', 'math', 'table', 'coroutine'}) do
  backing[lib] = protect(backing[lib])
end
-- Strings' metatable shows a read-only copy whose __index is the string
-- library's proxy; the real one keeps the raw library (method calls: one lookup).
local string_meta = getmetatable('')
string_meta.__metatable = protect({__index = backing.string})
setmetatable(backing, {
  __index = function(_, name)
    if name == 'loadstring' then return nil end
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end,
})
setmetatable(G, {
  __index = backing, __newindex = readonly, __metatable = false,
  __pairs = function(p) return next_, p, nil end,
})
-- The __index shown is a C function to scripts, as Redis's: a tail call to
-- it keeps the script's line in the error.
local shown_index = cfunction(function(_, name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'")
end)
raw[G], shown[G] = backing, protect({__index = shown_index})
-- KEYS and ARGV are set in the backing table from TS (script_engine.ts).
getregistry().__kvdb_globals = backing

-- Redis 7 functions: a library's code and its functions see their own
-- (read-only, empty) globals, whose reads fall through to the library API
-- (redis.register_function, redis.log) while FUNCTION LOAD runs the code,
-- and to the scripts' globals when FCALL runs a function.
local load_redis = setmetatable({
  register_function = kv.register_function, log = kv.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = '7.0.15', REDIS_VERSION_NUM = 0x07000f,
}, {__index = missing})
local load_api = setmetatable({redis = protect(load_redis)}, {__index = backing})
-- At run time: the scripts' globals without KEYS and ARGV (set later, per
-- EVAL), _G the functions' own globals (Redis runs functions in a Lua state
-- of their own: they never see an EVAL's KEYS).
local run_api = {}
for k, v in pairs(backing) do run_api[k] = v end
setmetatable(run_api, {__index = missing})
local function_meta = {
  __index = run_api, __newindex = readonly, __metatable = false,
  __pairs = function(p) return next_, p, nil end,
}
local function_env = setmetatable({}, function_meta)
run_api._G = function_env
raw[function_env], shown[function_env] = run_api, protect({__index = shown_index})
local registry = getregistry()
registry.__kvdb_function_env = function_env
registry.__kvdb_function_mode = function(loading)
  function_meta.__index = loading and load_api or run_api
end
`;
