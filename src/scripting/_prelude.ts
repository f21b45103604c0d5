/**
 * The Lua side of kvdb's scripting environment, run once in each new
 * state: Redis 7.0's `redis` library over the JS bridge `__kvdb` (taken
 * into locals, then removed), the standard libraries made Redis 7.0's Lua
 * 5.1 ones (5.1's functions that 5.4 dropped, `gcinfo`, `loadstring`,
 * `table.foreach`, `math.atan2` ...; 5.4's that 5.1 lacked removed; Redis's
 * `math.random`), the `bit` library, cjson's settings, the sandbox (no
 * `os`, `io`, `dofile`, `require`, `debug`), Redis's error handler, the
 * read-only global table with Redis's error texts, and the globals of
 * functions: the library API while FUNCTION LOAD runs a library's code,
 * the scripts' globals (but KEYS, ARGV) when FCALL runs a function.
 * Nothing here runs per script: what it adds costs only the calls to it.
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
local error, type, tostring, tonumber = error, type, tostring, tonumber
local rawget, rawset, rawlen, next = rawget, rawset, rawlen, next
local select, setmetatable = select, setmetatable
local lua_pcall, lua_xpcall, lua_load, lua_collectgarbage = pcall, xpcall, load, collectgarbage
local cfunction = kv.cfunction
local spack, sunpack = string.pack, string.unpack
local format, find, sub, byte, rep, match, gsub =
  string.format, string.find, string.sub, string.byte, string.rep, string.match, string.gsub
local floor, ceil, exp, log, atan, huge = math.floor, math.ceil, math.exp, math.log, math.atan, math.huge
local lua_pairs, lua_ipairs = pairs, ipairs
-- raw[p] is the table behind the read-only proxy p, next_ the next that
-- reads through it (the sandbox, below).
local raw, shown = {}, {}
local next_

-- Lua 5.1's argument errors. In a function kv.cfunction wraps, argerror
-- raises the text at the prelude's position and the wrapper raises it
-- again as luaL_argerror from the C function (_c_wrapper.ts): named as the
-- call names it ('?' through pcall), at the caller's line.
local function argerror(n, message)
  error(format("bad argument #%d to '?' (%s)", n, message), 2)
end
-- The same from a library function left in Lua (one calling the script's
-- functions, which must stay yieldable; or a cheap one): its name as
-- getinfo finds the call, the position its caller's.
local function argerror_lua(n, message)
  local i = getinfo(2, 'n')
  local name = i.name
  if i.namewhat == 'method' then
    n = n - 1
    if n == 0 then error(format("calling '%s' on bad self (%s)", name, message), 3) end
  end
  error(format("bad argument #%d to '%s' (%s)", n, name or '?', message), 3)
end
local function typename(n, ...)
  if select('#', ...) < n then return 'no value' end
  return type((select(n, ...)))
end
local function expected(n, what, ...)
  argerror(n, what .. ' expected, got ' .. typename(n, ...))
end
-- luaL_checknumber: a number or a numeric string.
local function checknumber(n, ...)
  local v = (select(n, ...))
  if type(v) == 'number' then return v end
  if type(v) == 'string' then
    local x = tonumber(v)
    if x then return x end
  end
  expected(n, 'number', ...)
end
-- C's (int) of a double as luaL_checkint makes it on Redis's x86-64 build:
-- truncated to 64 bits (out of range or NaN: the minimum), the low 32 kept.
local function toint(x)
  if not (x >= -2^63 and x < 2^63) then return 0 end
  local t = (x >= 0 and floor(x) or ceil(x)) & 0xffffffff
  if t >= 0x80000000 then t = t - 0x100000000 end
  return t
end
local function checkint(n, ...) return toint(checknumber(n, ...)) end
-- luaL_optint: argument n, or default when absent or nil.
local function optint(n, default, ...)
  if select('#', ...) < n or (select(n, ...)) == nil then return default end
  return checkint(n, ...)
end

-- Lua 5.1 had one number type and printed every number with %.14g
-- (LUAI_NUMFFORMAT): tostring(10/2) was '5', 5.4 says '5.0'. tostring,
-- string.format's %s and %q, and table.concat print as 5.1 did; string.format's
-- integer conversions truncate a float as 5.1's C cast did (5.4 refuses
-- 3.5), and its %q quotes as 5.1's (only the quote, backslash, newline,
-- CR and NUL escaped; 5.4 writes every control byte as \\ddd). The VM's
-- own coercions ('..', string functions given a number) cannot be reached
-- from here: README's scripting section. The wrappers are C functions to
-- scripts (kv.cfunction: _c_wrapper.ts).
local math_type, tointeger = math.type, math.tointeger
-- A C function of kvdb's (_tostring.ts).
local tostring51 = kv.tostring
-- 5.1's luaL_checkstring / luaL_optstring: argument i as a string, a
-- number printed as 5.1 prints it; anything else is refused.
local function optstring(i, default, ...)
  local v = (select(i, ...))
  local kind = type(v)
  if kind == 'string' then return v end
  if kind == 'number' then return tostring51(v) end
  if kind == 'nil' and default ~= nil then return default end
  expected(i, 'string', ...)
end
local function checkstring(i, ...)
  return optstring(i, nil, ...)
end
do
  local concat, unpack, char = table.concat, table.unpack, string.char
  _G.tostring = tostring51
  local INTEGER_CONVERSIONS = {d = true, i = true, o = true, u = true, x = true, X = true, c = true}
  local QUOTE, BACKSLASH = char(34), char(92)
  local QUOTED = {
    [QUOTE] = BACKSLASH .. QUOTE, [BACKSLASH] = BACKSLASH .. BACKSLASH,
    [char(10)] = BACKSLASH .. char(10), [char(13)] = BACKSLASH .. 'r', [char(0)] = BACKSLASH .. '000',
  }
  local TO_QUOTE = '[' .. char(34, 92, 10, 13, 0) .. ']'
  local function quote51(text)
    return QUOTE .. gsub(text, TO_QUOTE, QUOTED) .. QUOTE
  end
  string.format = cfunction(function(...)
    local f = ...
    local n = select('#', ...) - 1
    -- Integers of fewer than 15 digits print alike in 5.4 and 5.1 for
    -- every conversion: only floats and longer integers need the work
    -- below (in-process, string.format('%d', i) called 40 times by a
    -- script, ns per call: 1,420–1,762 -> 855–920).
    local any = false
    for k = 2, n + 1 do
      local v = (select(k, ...))
      local kind = math_type(v)
      if kind == 'float' or (kind and (v <= -1e14 or v >= 1e14)) then any = true break end
    end
    if type(f) ~= 'string' or not (any or find(f, '%q', 1, true)) then
      local s = format(...)
      return s
    end
    local args = {select(2, ...)}
    local k, pos = 0, 1
    -- The format with each %q made %s (its argument quoted here), if any.
    local quoting, from
    while k < n do
      local s, e, conversion = find(f, '%%[-+ #0]*%d*%.?%d*(.)', pos)
      if not s then break end
      pos = e + 1
      if conversion ~= '%' then
        k = k + 1
        local v = args[k]
        if conversion == 'q' then
          if math_type(v) then
            v = tostring51(v)
          elseif type(v) ~= 'string' then
            expected(k + 1, 'string', ...)
          end
          args[k] = quote51(v)
          quoting = (quoting or '') .. sub(f, from or 1, s - 1) .. '%s'
          from = e + 1
        elseif conversion == 's' and math_type(v) then
          args[k] = tostring51(v)
        elseif INTEGER_CONVERSIONS[conversion] and math_type(v) == 'float' then
          args[k] = tointeger(v >= 0 and floor(v) or ceil(v)) or v
        end
      end
    end
    if quoting then f = quoting .. sub(f, from) end
    local s = format(f, unpack(args, 1, n))
    return s
  end)
  table.concat = cfunction(function(...)
    local t, sep, i, j = ...
    if type(t) ~= 'table' then
      -- 5.1 reads the separator before it checks the table.
      if sep ~= nil and type(sep) ~= 'string' and type(sep) ~= 'number' then
        expected(2, 'string', ...)
      end
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

-- Lua 5.1's libraries as Redis 7.0 has them: 5.1's functions that 5.4
-- dropped, 5.4's that 5.1 lacked removed, and 5.1's behaviour where 5.4's
-- differs in what a script gets back (extra arguments 5.4 reads, numbers).
-- string: 5.4's pack, packsize, unpack removed; rep ignores 5.4's
-- separator, truncates a float count as 5.1 did, prints a number as 5.1.
string.pack, string.packsize, string.unpack = nil, nil, nil
-- gmatch and gsub as 5.1's, on 5.4's matcher: %g and %G are the letters
-- (5.2 made %g a class); an empty string may match where the last match
-- ended (5.4 skips it: 'hello':gsub('l*', '-') is 5.1's '-h-e--o-');
-- gmatch takes no third argument; gsub reads its replacement as 5.1's
-- add_s did ('%x' is 'x'), its count as luaL_optint (cut to 32 bits).
-- gsub's loop runs here, in Lua, unless 5.4's gives 5.1's answer (a
-- replacement string without '%', a pattern whose every match is a byte
-- or more): so a function or table making the replacements may yield
-- (the busy hook: a loop in it is served and killable, as in Redis).
-- Errors naming a capture index: _c_wrapper.ts. find and match are 5.4's
-- (README: a start past the end, %g).
do
  local concat, NUL = table.concat, string.char(0)
  local function escape51(c)
    if c == 'g' or c == 'G' then return c end
    return '%' .. c
  end
  local function pattern51(p)
    if find(p, '%g', 1, true) or find(p, '%G', 1, true) then p = gsub(p, '%%(.)', escape51) end
    return p
  end
  -- Whether every match of p is at least one byte: no quantifier that
  -- takes none, no position capture, no frontier, not only anchors.
  local function nonempty(p)
    return not find(p, '[*?%-]') and not find(p, '()', 1, true) and
      not find(p, '%f', 1, true) and find(p, '^%^?%$?$') == nil
  end
  -- Patterns 5.4's gmatch and gsub may take (no %g, every match a byte or
  -- more), by pattern: most scripts use a few literal ones. At most
  -- NATIVE_PATTERNS kept; then the cache starts again.
  local NATIVE_PATTERNS = 256
  local native_patterns, native_count = {}, 0
  local function native(p)
    local verdict = native_patterns[p]
    if verdict == nil then
      verdict = pattern51(p) == p and nonempty(p)
      if native_count >= NATIVE_PATTERNS then native_patterns, native_count = {}, 0 end
      native_patterns[p] = verdict
      native_count = native_count + 1
    end
    return verdict
  end
  local gmatch = string.gmatch
  string.gmatch = cfunction(function(...)
    local s, p = checkstring(1, ...), checkstring(2, ...)
    -- 5.4's iterator, where it is 5.1's and raises no error of 5.4's words
    -- (a capture index, %b) outside this wrapper.
    if native(p) and not find(p, '%%[%db]') then return gmatch(s, p) end
    p = pattern51(p)
    -- gmatch matches at each position: a leading '^' is the letter (find would anchor).
    if byte(p) == 94 then p = '%' .. p end
    local at, last = 1, #s + 1
    local function step(first, e, ...)
      if first == nil then
        at = last + 1
        return nil
      end
      -- After an empty match, on from the next position; else from its end.
      at = e < first and first + 1 or e + 1
      if select('#', ...) == 0 then return sub(s, first, e) end
      return ...
    end
    return cfunction(function()
      if at > last then return nil end
      return step(find(s, p, at))
    end)
  end)
  -- add_s: '%' and a digit is that capture (%0 the match), '%' and any
  -- other byte is the byte, a '%' at the end the NUL after the string.
  local function expand51(repl, whole, count, ...)
    local parts, at = {}, 1
    while true do
      local i = find(repl, '%', at, true)
      if i == nil then break end
      parts[#parts + 1] = sub(repl, at, i - 1)
      local c = byte(repl, i + 1)
      if c == nil then
        parts[#parts + 1] = NUL
      elseif c < 48 or c > 57 then
        parts[#parts + 1] = sub(repl, i + 1, i + 1)
      elseif c == 48 or (c == 49 and count == 0) then
        parts[#parts + 1] = whole
      elseif c - 48 > count then
        error('invalid capture index')
      else
        parts[#parts + 1] = tostring51((select(c - 48, ...)))
      end
      at = i + 2
    end
    parts[#parts + 1] = sub(repl, at)
    return concat(parts)
  end
  -- add_value, after 5.4's find: the match's bounds and its replacement
  -- (false or nil: the match itself); nothing when there is no match.
  -- kind 'constant': a replacement string without '%'. A capture is never
  -- nil: the first tells whether there are any.
  local function step51(kind, repl, s, first, e, ...)
    if first == nil then return nil end
    if kind == 'constant' then return first, e, repl end
    if kind == 'string' then return first, e, expand51(repl, sub(s, first, e), select('#', ...), ...) end
    local v
    if kind == 'function' then
      if (...) == nil then v = repl(sub(s, first, e)) else v = repl(...) end
    elseif (...) == nil then
      v = repl[sub(s, first, e)]
    else
      v = repl[(...)]
    end
    if not v then return first, e, sub(s, first, e) end
    local t = type(v)
    if t == 'number' then return first, e, tostring51(v) end
    if t ~= 'string' then error(format('invalid replacement value (a %s)', t)) end
    return first, e, v
  end
  -- gsub's loop, the arguments checked: kind is repl's type ('number'
  -- made 'string'), most the count.
  local function loop51(s, p, kind, repl, most)
    if kind == 'string' and not find(repl, '%', 1, true) then
      if native(p) then return gsub(s, p, repl, most) end
      kind = 'constant'
    end
    p = pattern51(p)
    local anchor = byte(p) == 94
    local parts, count, at, last = {}, 0, 1, #s
    while count < most do
      local first, e, value = step51(kind, repl, s, find(s, p, at))
      if first == nil then break end
      count = count + 1
      if first > at then parts[#parts + 1] = sub(s, at, first - 1) end
      parts[#parts + 1] = value
      if e >= first then
        at = e + 1
      elseif first <= last then
        parts[#parts + 1] = sub(s, first, first)
        at = first + 1
      else
        at = first
        break
      end
      if anchor then break end
    end
    parts[#parts + 1] = sub(s, at)
    return concat(parts), count
  end
  string.gsub = cfunction(function(...)
    local s, p, repl, most = ...
    local kind = type(repl)
    -- The common calls, their arguments known good without 5.1's checks.
    if most == nil and type(s) == 'string' and type(p) == 'string' and
      (kind == 'string' or kind == 'function' or kind == 'table')
    then
      return loop51(s, p, kind, repl, #s + 1)
    end
    -- 5.1's order: the count is read before the replacement's type is checked.
    s, p = checkstring(1, ...), checkstring(2, ...)
    most = optint(4, #s + 1, ...)
    if kind == 'number' then
      repl, kind = tostring51(repl), 'string'
    elseif kind ~= 'string' and kind ~= 'function' and kind ~= 'table' then
      argerror(3, 'string/function/table expected')
    end
    return loop51(s, p, kind, repl, most)
  end)
end
string.gfind = string.gmatch
string.rep = cfunction(function(...)
  local s = checkstring(1, ...)
  local r = rep(s, checkint(2, ...))
  return r
end)
-- table: 5.4's move, pack, unpack removed; 5.1's getn, maxn (raw, as
-- 5.1's: no __len; C functions: _c_wrapper.ts), foreach, foreachi and
-- setn. foreach and foreachi stay in Lua: they call the script's
-- function, which must be able to yield (the busy hook: script_engine.ts).
-- unpack and sort check their arguments as 5.1's did: unpack a table
-- only (5.4's takes anything with a length), its length raw (getn); sort's
-- comparator even when there is nothing to sort.
do
  local table_unpack, sort, getn = table.unpack, table.sort, kv.getn
  unpack = cfunction(function(...)
    local t = ...
    if type(t) ~= 'table' then expected(1, 'table', ...) end
    local first = optint(2, 1, ...)
    local last = optint(3, nil, ...) or getn(t)
    return table_unpack(t, first, last)
  end)
  -- 5.1's auxsort (ltablib.c): the same comparisons in the same order, so
  -- that elements a comparator ties end where Redis puts them (5.4's
  -- partition differs), and in Lua, so that a comparator may yield (the
  -- busy hook: a loop in it is served and killable). Elements are read
  -- and written as 5.4's sort does, through metamethods (5.1's raw access
  -- differs only for a table with __index or __newindex and holes; a
  -- function call each would double the cost). Without a comparator,
  -- 5.4's C sort: primitives that tie are equal.
  local function sort_error() error('invalid order function for sorting') end
  local function auxsort(t, lt, l, u)
    while l < u do
      local a, b = t[l], t[u]
      if lt(b, a) then t[l] = b; t[u] = a end
      if u - l == 1 then break end
      local i = (l + u) // 2
      a, b = t[i], t[l]
      if lt(a, b) then
        t[i] = b; t[l] = a
      else
        b = t[u]
        if lt(b, a) then t[i] = b; t[u] = a end
      end
      if u - l == 2 then break end
      local pivot = t[i]
      t[i] = t[u - 1]; t[u - 1] = pivot
      local j
      i, j = l, u - 1
      while true do
        i = i + 1
        a = t[i]
        while lt(a, pivot) do
          if i > u then sort_error() end
          i = i + 1
          a = t[i]
        end
        j = j - 1
        b = t[j]
        while lt(pivot, b) do
          if j < l then sort_error() end
          j = j - 1
          b = t[j]
        end
        if j < i then break end
        t[i] = b; t[j] = a
      end
      a, b = t[u - 1], t[i]
      t[u - 1] = b; t[i] = a
      if i - l < u - i then
        j, i, l = l, i - 1, i + 1
      else
        j, i, u = i + 1, u, i - 1
      end
      auxsort(t, lt, j, i)
    end
  end
  table.sort = cfunction(function(...)
    local t, f = ...
    if type(t) ~= 'table' then expected(1, 'table', ...) end
    if f == nil then return sort(t) end
    if type(f) ~= 'function' then expected(2, 'function', ...) end
    auxsort(t, f, 1, getn(t))
  end)
end
table.move, table.pack, table.unpack = nil, nil, nil
table.getn, table.maxn = kv.getn, kv.maxn
table.foreach = function(...)
  local t, f = ...
  if type(t) ~= 'table' then argerror_lua(1, 'table expected, got ' .. typename(1, ...)) end
  if type(f) ~= 'function' then argerror_lua(2, 'function expected, got ' .. typename(2, ...)) end
  for k, v in next, raw[t] or t do
    local r = f(k, v)
    if r ~= nil then return r end
  end
end
table.foreachi = function(...)
  local t, f = ...
  if type(t) ~= 'table' then argerror_lua(1, 'table expected, got ' .. typename(1, ...)) end
  if type(f) ~= 'function' then argerror_lua(2, 'function expected, got ' .. typename(2, ...)) end
  t = raw[t] or t
  for i = 1, rawlen(t) do
    local r = f(i, rawget(t, i))
    if r ~= nil then return r end
  end
end
table.setn = cfunction(function(...)
  if type((...)) ~= 'table' then expected(1, 'table', ...) end
  error("'setn' is obsolete")
end)
-- math: 5.4's maxinteger, mininteger, tointeger, type, ult removed; 5.1's
-- atan2, cosh, sinh, tanh, frexp, ldexp, log10, pow, mod; log and atan
-- take one argument; random and randomseed are Redis's (below).
do
  local abs, log2 = math.abs, function(x) return log(x, 2) end
  math.maxinteger, math.mininteger, math.tointeger, math.type, math.ult = nil, nil, nil, nil, nil
  math.log = cfunction(function(...)
    local r = log(checknumber(1, ...))
    return r
  end)
  math.log10 = cfunction(function(...)
    local r = log(checknumber(1, ...), 10)
    return r
  end)
  math.atan = cfunction(function(...)
    local r = atan(checknumber(1, ...))
    return r
  end)
  -- Two-argument functions check their second argument first: Redis's
  -- gcc evaluates C's call arguments right to left (atan2(luaL_checknumber
  -- (L, 1), luaL_checknumber(L, 2))).
  math.atan2 = cfunction(function(...)
    local x, y = checknumber(2, ...), checknumber(1, ...)
    local r = atan(y, x)
    return r
  end)
  math.pow = cfunction(function(...)
    local y, x = checknumber(2, ...), checknumber(1, ...)
    return x ^ y
  end)
  -- C's fmod of two doubles (5.4's integer fmod refuses a zero divisor).
  local fmod = math.fmod
  math.fmod = cfunction(function(...)
    local b, a = checknumber(2, ...), checknumber(1, ...)
    local r = fmod(a + 0.0, b + 0.0)
    return r
  end)
  math.mod = math.fmod
  -- 5.1's min and max: every argument a number (5.4 compares any values).
  local function extreme(before)
    return cfunction(function(...)
      local r = checknumber(1, ...)
      for i = 2, select('#', ...) do
        local d = checknumber(i, ...)
        if before(d, r) then r = d end
      end
      return r
    end)
  end
  math.min = extreme(function(a, b) return a < b end)
  math.max = extreme(function(a, b) return a > b end)
  -- 2^n exactly, n an integer in [-1074, 1023] (products of exact powers of 2).
  local function pow2(n)
    local r, b = 1.0, 2.0
    if n < 0 then n, b = -n, 0.5 end
    while n > 0 do
      if n & 1 == 1 then r = r * b end
      b = b * b
      n = n >> 1
    end
    return r
  end
  -- m * 2^e rounded once, as C's ldexp: the scaling is split so that no
  -- step but the last leaves the normal range.
  local function ldexp(m, e)
    if e > 1023 then
      m, e = m * pow2(1023), e - 1023
      if e > 1023 then
        m, e = m * pow2(1023), e - 1023
        if e > 1023 then e = 1023 end
      end
    elseif e < -1022 then
      m, e = m * pow2(-969), e + 969
      if e < -1022 then
        m, e = m * pow2(-969), e + 969
        if e < -1022 then e = -1022 end
      end
    end
    return m * pow2(e)
  end
  math.ldexp = cfunction(function(...)
    local e, m = checkint(2, ...), checknumber(1, ...)
    return ldexp(m, e)
  end)
  math.frexp = cfunction(function(...)
    local x = checknumber(1, ...)
    if x == 0 or x ~= x or x == huge or x == -huge then return x, 0 end
    local a, e = abs(x), 0
    if a < 2^-1022 then a, e = a * pow2(54), -54 end
    local k = floor(log2(a)) + 1
    a = ldexp(a, -k)
    while a >= 1 do a, k = a / 2, k + 1 end
    while a < 0.5 do a, k = a * 2, k - 1 end
    if x < 0 then a = -a end
    return a, k + e
  end)
  -- The hyperbolic functions, from exp and an expm1 of its own (5.4 has
  -- neither C's sinh, cosh, tanh nor expm1), by the formulas C libraries
  -- use: 1-2% of results differ from glibc's (Redis's) in their last bit,
  -- which tostring's %.14g shows rarely (about 1 in 1000).
  -- expm1 near 0 from its series (1/k! below), the x term added last.
  local INVERSE_FACTORIAL = {}
  do
    local f = 1
    for k = 1, 18 do
      f = f * k
      INVERSE_FACTORIAL[k] = 1 / f
    end
  end
  local function expm1(x)
    if x > 0.5 or x < -0.5 then return exp(x) - 1 end
    local p = 0
    for k = 18, 3, -1 do p = INVERSE_FACTORIAL[k] + x * p end
    local x2 = x * x
    return x + (x2 * 0.5 + x2 * x * p)
  end
  local LARGE = 709.78 -- past it exp overflows: exp(a / 2)^2 / 2
  math.sinh = cfunction(function(...)
    local x = checknumber(1, ...)
    local a = abs(x)
    local r
    if a < 22 then
      local t = expm1(a)
      if a < 1 then
        r = (2 * t - t * t / (t + 1)) / 2
      else
        r = (t + t / (t + 1)) / 2
      end
    elseif a < LARGE then
      r = exp(a) / 2
    else
      local h = exp(a / 2)
      r = (h / 2) * h
    end
    if x < 0 then return -r end
    return r
  end)
  math.cosh = cfunction(function(...)
    local a = abs(checknumber(1, ...))
    if a < 0.34657359027997264 then -- ln(2) / 2
      local t = expm1(a)
      local w = 1 + t
      return 1 + (t * t) / (w + w)
    elseif a < 22 then
      local t = exp(a)
      return t / 2 + 0.5 / t
    elseif a < LARGE then
      return exp(a) / 2
    end
    local h = exp(a / 2)
    return (h / 2) * h
  end)
  math.tanh = cfunction(function(...)
    local x = checknumber(1, ...)
    local a = abs(x)
    local r
    if a >= 22 then
      r = 1.0
    elseif a >= 1 then
      r = 1 - 2 / (expm1(2 * a) + 2)
    else
      local t = expm1(-2 * a)
      r = -t / (t + 2)
    end
    if x < 0 then return -r end
    return r
  end)
  -- Redis's math.random: its rand48 generator (the state shared by scripts
  -- and functions, seeded at start as Redis's is, never reseeded per call),
  -- a value in [0, 1) drawn before the arguments are checked, 5.1's ranges.
  local state = 0x1234ABCD330E
  math.random = cfunction(function(...)
    state = (0x5DEECE66D * state + 0xB) & 0xFFFFFFFFFFFF
    local r = ((state >> 17) % 0x7FFFFFFF) / 0x7FFFFFFF
    local n = select('#', ...)
    if n == 0 then return r end
    if n == 1 then
      local u = checkint(1, ...)
      if u < 1 then argerror(1, 'interval is empty') end
      return floor(r * u) + 1
    end
    if n == 2 then
      local l, u = checkint(1, ...), checkint(2, ...)
      if l > u then argerror(2, 'interval is empty') end
      return floor(r * toint(u - l + 1)) + l
    end
    error('wrong number of arguments')
  end)
  math.randomseed = cfunction(function(...)
    state = ((checkint(1, ...) & 0xFFFFFFFF) << 16) | 0x330E
  end)
end
-- coroutine: 5.4's close and isyieldable removed; create and wrap take Lua
-- functions only; running is nil outside a coroutine the script made
-- (scripts run in a coroutine of kvdb's, Redis's on the main thread).
do
  local create, running = coroutine.create, coroutine.running
  local made = setmetatable({}, {__mode = 'k'})
  local function body(...)
    local f = ...
    if type(f) ~= 'function' or getinfo(f, 'S').what == 'C' then argerror(1, 'Lua function expected') end
    return function(...)
      made[running()] = true
      return f(...)
    end
  end
  local resume, status, isyieldable, raw_yield =
    coroutine.resume, coroutine.status, coroutine.isyieldable, coroutine.yield
  local hook_yielded = kv.hook_yielded
  -- The engine's count hook, past the busy threshold, yields the thread
  -- it runs on so that the event loop can read SCRIPT KILL; in a
  -- coroutine the script made, that yield would reach the script as the
  -- coroutine's (resume returning true and nothing). Every resume goes
  -- through settle, which passes such a yield on to the thread that
  -- resumed (marked for its own resumer when it is a made coroutine too)
  -- and then resumes the coroutine again, so the script sees only its
  -- own yields. Across a C call that cannot yield, the coroutine is
  -- resumed at once (such a loop cannot be killed, as in the script's
  -- own thread).
  local function settle(co, ok, ...)
    if ok and select('#', ...) == 0 and hook_yielded() then
      if isyieldable() then
        if made[running()] then hook_yielded(true) end
        raw_yield()
      end
      return settle(co, resume(co))
    end
    return ok, ...
  end
  local function thread(co)
    if type(co) ~= 'thread' then argerror(1, 'coroutine expected') end
    return co
  end
  -- coroutine.wrap's function: a string error is raised with the caller's
  -- position in front, as Lua 5.1's auxwrap does (level 1 is this
  -- function's, which cfunction puts the caller's in place of).
  local function unwrap(ok, ...)
    if ok then return ... end
    local e = ...
    if type(e) == 'number' then e = tostring51(e) end
    error(e, type(e) == 'string' and 1 or 0)
  end
  coroutine.close, coroutine.isyieldable = nil, nil
  coroutine.create = cfunction(function(...)
    local co = create(body(...))
    return co
  end)
  coroutine.resume = cfunction(function(...)
    return settle(thread((...)), resume(...))
  end)
  coroutine.status = cfunction(function(...)
    return status(thread((...)))
  end)
  coroutine.wrap = cfunction(function(...)
    local co = create(body(...))
    return cfunction(function(...)
      return unwrap(settle(co, resume(co, ...)))
    end)
  end)
  coroutine.running = cfunction(function()
    local co = running()
    if made[co] then return co end
    return nil
  end)
  -- Redis's script is no coroutine: it cannot yield (kvdb's would yield
  -- to the engine).
  local yield = coroutine.yield
  coroutine.yield = function(...)
    if not made[running()] then error('attempt to yield across metamethod/C-call boundary', 0) end
    return yield(...)
  end
end

-- Base functions: 5.4's rawlen and warn removed; 5.1's gcinfo, load (a
-- reader function only) and loadstring; collectgarbage with 5.1's options;
-- pcall and xpcall take 5.1's arguments.
_VERSION = 'Lua 5.1'
do
  local GC_OPTIONS = {
    stop = true, restart = true, collect = true, count = true, step = true,
    setpause = true, setstepmul = true,
  }
  -- What setpause and setstepmul answer: 5.1's values (5.4 keeps its own,
  -- scaled, and starts with a step multiplier of 100, 5.1 of 200).
  local gc_shown = {setpause = 200, setstepmul = 200}
  collectgarbage = cfunction(function(...)
    -- Checked inline: a call deeper here could grow the stack between
    -- gcinfo() and collectgarbage('count'), which Redis shows equal.
    local option, arg = ...
    if option == nil then
      option = 'collect'
    else
      if type(option) ~= 'string' then option = checkstring(1, ...) end
      if not GC_OPTIONS[option] then argerror(1, "invalid option '" .. option .. "'") end
    end
    if arg == nil then arg = 0 else arg = checkint(2, ...) end
    local previous = gc_shown[option]
    if previous then
      gc_shown[option] = arg
      lua_collectgarbage(option, arg < 0 and 0 or arg > 1000 and 1000 or arg)
      return previous
    end
    local r = lua_collectgarbage(option, arg)
    return r
  end)
  gcinfo = cfunction(function()
    return floor(lua_collectgarbage('count'))
  end)
end
_G.rawlen, warn = nil, nil
-- The VM's runtime errors in 5.1's words: 'attempt to index local 'x' (a
-- nil value)', not 5.4's 'attempt to index a nil value (local 'x')'; 5.1
-- named no constant or for iterator.
local NAMED = {global = true, ['local'] = true, method = true, field = true, upvalue = true}
local function message51(e)
  local head, op, kind, what, name = match(e, "^(.-)attempt to (.-) a (%a+) value %(([%a ]+) '(.*)'%)$")
  if head == nil then return e end
  if NAMED[what] then return head .. 'attempt to ' .. op .. ' ' .. what .. " '" .. name .. "' (a " .. kind .. ' value)' end
  return head .. 'attempt to ' .. op .. ' a ' .. kind .. ' value'
end
-- Redis 7.0 hands a caught error reply to the script as its text.
local function caught(ok, ...)
  if ok then return ok, ... end
  local e = ...
  if type(e) == 'string' then return false, message51(e) end
  if type(e) == 'table' and type(e.err) == 'string' then return false, e.err end
  return false, ...
end
-- pairs and ipairs refuse what is no table, as 5.1's (5.4's take any
-- value); pairs ignores __pairs (5.1 had none), but for the read-only
-- proxies, whose fields next_ reads (below).
pairs = function(...)
  local t = ...
  if type(t) ~= 'table' then argerror_lua(1, 'table expected, got ' .. typename(1, ...)) end
  if raw[t] ~= nil then return next_, t, nil end
  return next, t, nil
end
ipairs = function(...)
  local t = ...
  if type(t) ~= 'table' then argerror_lua(1, 'table expected, got ' .. typename(1, ...)) end
  return lua_ipairs(t)
end
-- Redis's pcall calls what it is given, and nothing if given nothing.
pcall = function(...)
  if select('#', ...) == 0 then return false, 'attempt to call a boolean value' end
  return caught(lua_pcall(...))
end
-- A message handler that is no function fails as 5.1's did.
local function unhandled(ok, ...)
  if ok then return ok, ... end
  return false, 'error in error handling'
end
xpcall = function(...)
  local f, handler = ...
  if select('#', ...) < 2 then argerror_lua(2, 'value expected') end
  if type(handler) ~= 'function' then return unhandled(lua_pcall(f)) end
  return lua_xpcall(f, function(e)
    if type(e) == 'string' then e = message51(e) end
    return handler(e)
  end)
end
-- Redis 7.0's __redis__err__handler: where the error was raised, past C
-- functions and kvdb's own Lua.
local function tag(err, i)
  if type(err) == 'string' then
    err = {err = 'ERR ' .. message51(err)}
  elseif type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring51(err)}
  end
  if i then
    err.source = i.source
    err.line = i.currentline
  end
  return err
end
-- The innermost frame of the script's (neither C nor kvdb's Lua) that
-- called the function calling this one.
local function caller()
  local level = 3
  local i = getinfo(level, 'Sl')
  while i and (i.what == 'C' or i.source == '${PRELUDE_CHUNK}') do
    level = level + 1
    i = getinfo(level, 'Sl')
  end
  return i
end
local function error_handler(err)
  return tag(err, caller())
end
-- load and loadstring as 5.1's, for the globals 'env' (the scripts' or
-- the functions'): text only (a binary chunk fails as Redis's Lua fails
-- it, at its first byte), the chunk named as 5.1 names it.
local function loaders(env)
  -- 5.1 quoted every token in its parser's errors; 5.4 leaves <eof>, <name>... bare.
  local function parse_error(e)
    if type(e) ~= 'string' then return e end
    e = gsub(e, ' near <eof>$', " near '<eof>'")
    e = gsub(e, '^(.-:%d+: )<(%a+)> expected', "%1'<%2>' expected")
    return e
  end
  -- A binary chunk's error: the position 5.4 gives the name, 5.1's text.
  local SUFFIX = "unexpected symbol near '<\\\\1>'"
  local function binary(name)
    local _, e = lua_load('\\1', name, 't', env)
    return nil, sub(e, 1, #e - #SUFFIX) .. "unexpected symbol near 'char(27)'"
  end
  local loadstring = cfunction(function(...)
    local s = checkstring(1, ...)
    local name = optstring(2, s, ...)
    if byte(s, 1) == 27 then return binary(name) end
    local f, e = lua_load(s, name, 't', env)
    return f, parse_error(e)
  end)
  local load = cfunction(function(...)
    local reader = ...
    if type(reader) ~= 'function' then expected(1, 'function', ...) end
    local name = optstring(2, '=(load)', ...)
    -- The reader runs as Redis's runs (its Lua parses under the script's
    -- error handler): an error it raises, or a piece that is no string,
    -- comes back tagged by the handler, an error reply.
    local first = true
    local f, e = lua_load(function()
      local ok, piece = lua_xpcall(reader, error_handler)
      if not ok then error(piece, 0) end
      local kind = type(piece)
      if kind == 'number' then
        piece = tostring51(piece)
      elseif kind ~= 'string' and kind ~= 'nil' then
        local i = caller()
        local where = (i and i.currentline > 0) and (i.short_src .. ':' .. i.currentline .. ': ') or ''
        error(tag(where .. 'reader function must return a string', i), 0)
      end
      if first and piece ~= nil then
        first = false
        if byte(piece, 1) == 27 then
          local _, message = binary(name)
          error(message, 0)
        end
      end
      return piece
    end, name, 't', env)
    return f, parse_error(e)
  end)
  return load, loadstring
end

-- cjson's configuration functions, as lua-cjson 2.1.0 checks and answers
-- them (settings kept per module, as Redis keeps them between scripts).
-- kvdb's encoder and decoder (_cjson.ts) have lua-cjson's defaults built
-- in: encode_keep_buffer, which changes no output, takes any value; the
-- others refuse a value other than the default.
do
  local encode, decode = cjson.encode, cjson.decode
  local DEFAULTS = {
    sparse_convert = 0, sparse_ratio = 2, sparse_safe = 10, encode_max_depth = 1000,
    decode_max_depth = 1000, encode_number_precision = 14, encode_keep_buffer = 1,
    encode_invalid_numbers = 0, decode_invalid_numbers = 1,
  }
  local OFF_ON, OFF_ON_NULL = {'off', 'on'}, {'off', 'on', 'null'}
  local function configure(module)
    local settings = {}
    for k, v in next, DEFAULTS do settings[k] = v end
    local function set(name, value, api)
      if value ~= DEFAULTS[name] and name ~= 'encode_keep_buffer' then
        error("kvdb's cjson supports only the default " .. api .. ' setting')
      end
      settings[name] = value
    end
    local function args(max, ...)
      if select('#', ...) > max then argerror(max + 1, 'found too many arguments') end
    end
    local function integer(i, name, api, min, max, ...)
      if (select(i, ...)) ~= nil then
        local value = checkint(i, ...)
        if not (min <= value and value <= max) then
          argerror(1, format('expected integer between %d and %d', min, max))
        end
        set(name, value, api)
      end
      return settings[name]
    end
    local function enum(i, name, api, options, ...)
      local v = (select(i, ...))
      if v ~= nil then
        local value
        if type(v) == 'boolean' then
          value = v and 1 or 0
        else
          v = checkstring(i, ...)
          for k = 1, #options do
            if options[k] == v then value = k - 1 end
          end
          if value == nil then argerror(i, "invalid option '" .. v .. "'") end
        end
        set(name, value, api)
      end
      local value = settings[name]
      if value <= 1 then return value == 1 end
      return options[value + 1]
    end
    module.encode_sparse_array = cfunction(function(...)
      args(3, ...)
      return enum(1, 'sparse_convert', 'encode_sparse_array', OFF_ON, ...),
        integer(2, 'sparse_ratio', 'encode_sparse_array', 0, 0x7fffffff, ...),
        integer(3, 'sparse_safe', 'encode_sparse_array', 0, 0x7fffffff, ...)
    end)
    -- The functions of one setting: its checker and that checker's range or options.
    local SINGLE = {
      encode_max_depth = {integer, 1, 0x7fffffff},
      decode_max_depth = {integer, 1, 0x7fffffff},
      encode_number_precision = {integer, 1, 14},
      encode_keep_buffer = {enum, OFF_ON},
      encode_invalid_numbers = {enum, OFF_ON_NULL},
      decode_invalid_numbers = {enum, OFF_ON},
    }
    for api, spec in next, SINGLE do
      local check, a, b = spec[1], spec[2], spec[3]
      module[api] = cfunction(function(...)
        args(1, ...)
        if check == integer then return integer(1, api, api, a, b, ...) end
        return enum(1, api, api, a, ...)
      end)
    end
    return module
  end
  local null, name, version = cjson.null, cjson._NAME, cjson._VERSION
  -- cjson.new(): a module of its own (a plain table, its own functions and settings).
  local new
  local function module()
    return configure({
      encode = cfunction(function(...)
        local s = encode(...)
        return s
      end),
      decode = cfunction(function(...)
        local v = decode(...)
        return v
      end),
      null = null, _NAME = name, _VERSION = version, new = new(),
    })
  end
  new = function()
    return cfunction(module)
  end
  cjson.new = new()
  configure(cjson)
end
cmsgpack._COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo'
cmsgpack._DESCRIPTION = 'MessagePack C implementation for Lua'

-- bit: LuaBitOp as Redis has it. An argument becomes 32 bits as its C
-- code makes them: the double plus 2^52 + 2^51, whose low 32 bits are the
-- number rounded to an integer (ties to even) modulo 2^32, so 1.5 is 2;
-- arguments are read in its order (band/bor/bxor: the first, then the
-- last down to the second), each refused as luaL_checknumber refuses it.
do
  local MAGIC = 6755399441055744.0
  local function barg(n, ...)
    local b = sunpack('<I4', spack('<d', checknumber(n, ...) + MAGIC))
    return b
  end
  local function sbits(b)
    if b >= 0x80000000 then return b - 0x100000000 end
    return b
  end
  local function fold(op)
    return cfunction(function(...)
      local b = barg(1, ...)
      for i = select('#', ...), 2, -1 do b = op(b, barg(i, ...)) end
      return sbits(b)
    end)
  end
  local function shift(op)
    return cfunction(function(...)
      local b, n = barg(1, ...), barg(2, ...) & 31
      return sbits(op(b, n) & 0xffffffff)
    end)
  end
  bit = {
    tobit = cfunction(function(...) return sbits(barg(1, ...)) end),
    bnot = cfunction(function(...) return sbits(~barg(1, ...) & 0xffffffff) end),
    band = fold(function(a, b) return a & b end),
    bor = fold(function(a, b) return a | b end),
    bxor = fold(function(a, b) return a ~ b end),
    lshift = shift(function(b, n) return b << n end),
    rshift = shift(function(b, n) return b >> n end),
    arshift = shift(function(b, n) return sbits(b) // (1 << n) end),
    rol = shift(function(b, n) return (b << n) | (b >> (32 - n)) end),
    ror = shift(function(b, n) return (b >> n) | (b << (32 - n)) end),
    bswap = cfunction(function(...)
      local b = barg(1, ...)
      return sbits(((b & 0xff) << 24) | ((b & 0xff00) << 8) | ((b >> 8) & 0xff00) | (b >> 24))
    end),
    tohex = cfunction(function(...)
      local b = barg(1, ...)
      local n = select('#', ...) < 2 and 8 or sbits(barg(2, ...))
      local f = '%08x'
      if n < 0 then n, f = -n, '%08X' end
      if n > 8 then n = 8 end
      return sub(format(f, b), 9 - n)
    end),
  }
end

redis = {
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = '7.0.15', REDIS_VERSION_NUM = 0x07000f,
}
redis.call = kv.call
redis.pcall = kv.pcall
redis.acl_check_cmd = kv.acl_check_cmd
-- redis.error_reply and redis.status_reply answer bad arguments with an
-- error reply, not an error. error_reply's text is read as Redis reads an
-- error: up to a NUL byte (a C string), an optional '-', a first word as
-- the code (ERR when the text has no space), CR and LF trimmed off the
-- message's ends.
local BAD_REPLY_ARGUMENTS = 'ERR wrong number or type of arguments'
function redis.error_reply(...)
  local e = ...
  if select('#', ...) ~= 1 or type(e) ~= 'string' then return {err = BAD_REPLY_ARGUMENTS} end
  local nul = find(e, '\\0', 1, true)
  if nul then e = sub(e, 1, nul - 1) end
  if byte(e, 1) == 45 then e = sub(e, 2) end
  local code, message = 'ERR', e
  local space = find(e, ' ', 1, true)
  if space then code, message = sub(e, 1, space - 1), sub(e, space + 1) end
  message = match(message, '^[\\r\\n]*(.-)[\\r\\n]*$')
  return {err = code .. ' ' .. message}
end
function redis.status_reply(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then return {err = BAD_REPLY_ARGUMENTS} end
  return {ok = s}
end
redis.sha1hex = kv.arity(kv.sha1hex, 1, 'ERR wrong number of arguments')
redis.log = kv.log
redis.setresp = kv.arity(kv.setresp, 1, 'ERR redis.setresp() requires one argument.')
-- Effects are always what kvdb logs: set_repl only checks its argument.
redis.set_repl = cfunction(function(...)
  if select('#', ...) ~= 1 then error({err = 'ERR redis.set_repl() requires two arguments.'}) end
  local flags = ...
  flags = (type(flags) == 'number' or type(flags) == 'string') and tonumber(flags) or 0
  -- C's (int) of the double: out of int's range (or NaN) is INT_MIN, refused.
  if not (flags > -1 and flags < 4) then
    error({err = 'ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.'})
  end
end)
function redis.replicate_commands() return true end
function redis.breakpoint() return false end
function redis.debug() end
-- Functions (FCALL) get Redis's function API: no debugger, no replicate_commands.
local function_redis = {}
for k, v in next, redis do function_redis[k] = v end
function_redis.breakpoint, function_redis.debug, function_redis.replicate_commands = nil, nil, nil

__redis__err__handler = error_handler

-- The same for a script's coroutine that failed (script_engine.ts): its
-- stack is kept until it is reset, so the error is placed afterwards, with
-- no xpcall in the coroutine.
local function where(co, err)
  local level = 0
  local i = getinfo(co, level, 'Sl')
  while i and (i.what == 'C' or i.source == '${PRELUDE_CHUNK}') do
    level = level + 1
    i = getinfo(co, level, 'Sl')
  end
  return tag(err, i)
end
-- The engine reads these two with lua_getglobal from outside any Lua call
-- (script_engine.ts); to scripts they do not exist.
local hidden = {__kvdb_error_handler = error_handler, __kvdb_where = where}

os, io, package, require, dofile, loadfile, load, loadstring, debug, utf8, print =
  nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
local G = _G
load, loadstring = loaders(G)

-- Read-only globals and libraries (Redis 7.0 marks these tables read-only):
-- _G keeps no fields of its own, so every assignment reaches __newindex;
-- reads fall through to the backing table (a table __index: no call).
-- raw[p] is the table behind the read-only proxy p, never handed to a
-- script (a writable table that outlives the call would let a script keep
-- state, and see KEYS and ARGV reused: script_engine.ts); shown[p] is what
-- getmetatable(p) returns, as Redis's read-only tables show their own.
local pairs, ipairs, getmetatable = lua_pairs, lua_ipairs, getmetatable
local function readonly() error('Attempt to modify a readonly table', 2) end
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
    -- The engine's lookups have no Lua caller; a script's always has one.
    local h = hidden[name]
    if h ~= nil and getinfo(2, 'S') == nil then return h end
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
-- while FUNCTION LOAD runs the code (Redis's: the redis table with
-- register_function, log and the constants, nothing else), and to the
-- scripts' globals when FCALL runs a function (without KEYS, ARGV and
-- __redis__err__handler; Redis runs functions in a Lua state of their
-- own: they never see an EVAL's KEYS), with their own redis table.
local register_function = kv.register_function
local load_redis = setmetatable({
  register_function = function(...)
    if select('#', ...) == 1 and type((...)) ~= 'table' then
      error({err = 'ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).'})
    end
    return register_function(...)
  end,
  log = kv.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = '7.0.15', REDIS_VERSION_NUM = 0x07000f,
}, {__index = missing})
local load_api = setmetatable({redis = protect(load_redis)}, {__index = missing})
local run_api = {}
for k, v in pairs(backing) do run_api[k] = v end
run_api.__redis__err__handler = nil
run_api.redis = protect(function_redis)
setmetatable(run_api, {__index = missing})
local function_meta = {
  __index = run_api, __newindex = readonly, __metatable = false,
  __pairs = function(p) return next_, p, nil end,
}
local function_env = setmetatable({}, function_meta)
run_api._G = function_env
run_api.load, run_api.loadstring = loaders(function_env)
raw[function_env], shown[function_env] = run_api, protect({__index = shown_index})
local registry = getregistry()
registry.__kvdb_function_env = function_env
registry.__kvdb_function_mode = function(loading)
  function_meta.__index = loading and load_api or run_api
end
-- Libraries kvdb loaded before it refused what Redis refuses (their code
-- read the scripts' globals while loading) and holds in its log: they
-- load again, from the log only, with those globals (functions.ts).
registry.__kvdb_function_lenient = function(lenient)
  setmetatable(load_api, {__index = lenient and backing or missing})
end
-- Lua 5.4's luaL_argerror names a function it finds in package.loaded
-- ('string.rep'); Lua 5.1 said '?' when the call did not name it (pcall).
local loaded = registry._LOADED
for k in pairs(loaded) do loaded[k] = nil end
`;
