/**
 * Redis's conversion rules between replies and Lua values, both ways
 * (Redis 7.0's script_lua.c): a command's reply handed to Lua by
 * `redis.call`, and a script's return value sent to the client.
 *
 * Reply → Lua (RESP2, the default): integer → number, bulk → string,
 * nil → false, status → `{ok=...}`, error → `{err=...}`, array → table;
 * after `redis.setresp(3)` also map → `{map={...}}`, set → `{set={k=true}}`,
 * double → `{double=n}`, boolean → boolean, null → nil, big number →
 * `{big_number="..."}`, verbatim → `{verbatim_string={format=,string=}}`.
 *
 * Lua → reply: number → integer (truncated), string → bulk, true → 1
 * (RESP3 script: boolean), false → nil (RESP3 script: boolean), tables
 * with `err`/`ok`/`double`/`big_number`/`map`/`set`/`verbatim_string`
 * fields → those replies, other tables → arrays up to their first nil.
 *
 * @example
 * ```ts
 * pushCaptured(vm, L, "v", 2); // Lua sees the string "v"
 * ```
 * @module
 */

import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import type { Captured } from "./reply_capture.ts";
import {
  LUA_TBOOLEAN,
  LUA_TNIL,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  type LuaVm,
} from "./lua_vm.ts";

/** Nesting of reply tables a script may return (Redis: Lua's stack limit). */
export const MAX_REPLY_DEPTH = 1000;

/** An error reply from its wire text (`ERR message` → code ERR). */
export function errorFromText(text: string): CommandError {
  const space = text.indexOf(" ");
  const code = space < 0 ? text : text.slice(0, space);
  const message = space < 0 ? "" : text.slice(space + 1);
  return new CommandError(code, message, text);
}

/** The wire text of an error reply (`ERR message`). */
export function errorText(error: CommandError): string {
  return error.message === "" ? error.code : `${error.code} ${error.message}`;
}

/** Pushes `{field=value}` (a string value). */
function pushTagged(vm: LuaVm, L: number, field: string, value: string): void {
  const C = vm.C;
  C._lua_createtable(L, 0, 1);
  vm.pushString(L, value);
  C._lua_setfield(L, -2, vm.name(field));
}

/** Pushes a reply as Lua sees it, by the script's protocol (`redis.setresp`). */
export function pushCaptured(vm: LuaVm, L: number, value: Captured, resp: 2 | 3): void {
  const C = vm.C;
  // A scalar takes one slot, which every caller has (a C function gets
  // LUA_MINSTACK; a table's pushes checked for theirs): no check for the
  // common reply (a crossing into wasm per redis.call).
  if (typeof value === "string") return vm.pushString(L, value);
  if (typeof value === "number") {
    return Number.isSafeInteger(value)
      ? C._lua_pushinteger(L, BigInt(value))
      : C._lua_pushnumber(L, value);
  }
  if (typeof value === "bigint") return C._lua_pushinteger(L, value);
  if (value === null) return resp === 2 ? C._lua_pushboolean(L, 0) : C._lua_pushnil(L);
  if (value.kind === "bytes") return vm.pushBytes(L, value.data, value.length);
  C._lua_checkstack(L, 4);
  switch (value.kind) {
    case "status":
      return pushTagged(vm, L, "ok", value.text);
    case "error":
      return pushTagged(vm, L, "err", errorText(value.error));
    case "array":
    case "push":
      return pushArray(vm, L, value.items, resp);
    case "set":
      if (resp === 2) return pushArray(vm, L, value.items, resp);
      C._lua_createtable(L, 0, 1);
      C._lua_createtable(L, 0, value.items.length);
      for (const item of value.items) {
        pushCaptured(vm, L, item, resp);
        C._lua_pushboolean(L, 1);
        C._lua_rawset(L, -3);
      }
      C._lua_setfield(L, -2, vm.name("set"));
      return;
    case "map":
      if (resp === 2) return pushArray(vm, L, value.items, resp);
      C._lua_createtable(L, 0, 1);
      C._lua_createtable(L, 0, value.items.length / 2);
      for (let i = 0; i < value.items.length; i += 2) {
        pushCaptured(vm, L, value.items[i], resp);
        pushCaptured(vm, L, value.items[i + 1], resp);
        C._lua_rawset(L, -3);
      }
      C._lua_setfield(L, -2, vm.name("map"));
      return;
    case "double":
      if (resp === 2) return vm.pushString(L, formatDouble(value.value));
      C._lua_createtable(L, 0, 1);
      C._lua_pushnumber(L, value.value);
      C._lua_setfield(L, -2, vm.name("double"));
      return;
    case "big":
      return resp === 2
        ? vm.pushString(L, value.text)
        : pushTagged(vm, L, "big_number", value.text);
    case "verbatim":
      if (resp === 2) return vm.pushString(L, value.text);
      C._lua_createtable(L, 0, 1);
      C._lua_createtable(L, 0, 2);
      vm.pushString(L, value.format);
      C._lua_setfield(L, -2, vm.name("format"));
      vm.pushString(L, value.text);
      C._lua_setfield(L, -2, vm.name("string"));
      C._lua_setfield(L, -2, vm.name("verbatim_string"));
      return;
    case "boolean":
      return resp === 2
        ? C._lua_pushinteger(L, value.value ? 1n : 0n)
        : C._lua_pushboolean(L, value.value ? 1 : 0);
  }
}

function pushArray(vm: LuaVm, L: number, items: Captured[], resp: 2 | 3): void {
  const C = vm.C;
  C._lua_createtable(L, items.length, 0);
  for (let i = 0; i < items.length; i++) {
    pushCaptured(vm, L, items[i], resp);
    C._lua_rawseti(L, -2, BigInt(i + 1));
  }
}

/** RESP2's rendering of a double (Redis 7.0: `%.17g`). */
function formatDouble(value: number): string {
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (Number.isNaN(value)) return "nan";
  return String(value);
}

/**
 * The field `name` of the table at `index` pushed, read raw as Redis reads
 * a reply's fields (no __index: a script's metamethod would run outside
 * any protected call, and its error abort the VM); returns its type. A
 * table without a metatable is read by lua_getfield, the same lookup in
 * one call.
 */
function field(vm: LuaVm, L: number, index: number, name: string, raw: boolean): number {
  if (!raw) return vm.C._lua_getfield(L, index, vm.name(name));
  vm.C._lua_pushlstring(L, vm.name(name), name.length);
  return vm.C._lua_rawget(L, index);
}

/** A Lua number as Redis replies it: an integer, truncated toward zero. */
function writeNumber(vm: LuaVm, L: number, index: number, w: ReplyWriter): void {
  const C = vm.C;
  if (C._lua_isinteger(L, index)) {
    const n = C._lua_tointegerx(L, index, 0);
    return w.integer(n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : n);
  }
  const d = C._lua_tonumberx(L, index, 0);
  const t = Math.trunc(d);
  if (Number.isSafeInteger(t)) return w.integer(t);
  // Beyond 2^53 (or not finite): C's (long long) cast, clamped as x86 does for NaN/inf.
  if (!Number.isFinite(t) || Math.abs(t) >= 2 ** 63) return w.integer(-(2n ** 63n));
  w.integer(BigInt(t));
}

/**
 * Writes the Lua value at `index` (absolute) as a reply. `resp`: the
 * script's protocol (booleans), as Redis's `luaReplyToRedisReply`.
 */
export function writeLuaValue(
  vm: LuaVm,
  L: number,
  index: number,
  w: ReplyWriter,
  resp: 2 | 3,
  depth = 0,
): void {
  const C = vm.C;
  const type = C._lua_type(L, index);
  switch (type) {
    case LUA_TSTRING: {
      // Straight from the wasm heap: no JS string made and encoded again
      // (with the other changes of its commit: in-process EVALSHA, CPU time, min of 15 rounds x 100k, 2.5-2.7 -> 2.1-2.3 µs).
      const at = vm.stringAt(L, index);
      return w.bulkRange(vm.heapU8, at, at + vm.stringLength);
    }
    case LUA_TBOOLEAN: {
      const on = C._lua_toboolean(L, index) !== 0;
      if (resp === 3) return w.boolean(on);
      return on ? w.integer(1) : w.nil();
    }
    case LUA_TNUMBER:
      return writeNumber(vm, L, index, w);
    case LUA_TTABLE:
      break;
    default:
      return w.nil();
  }
  if (depth >= MAX_REPLY_DEPTH || C._lua_checkstack(L, 4) === 0) {
    const message = "reached lua stack limit";
    return w.error(new CommandError("ERR", message, message));
  }
  const top = C._lua_gettop(L);
  let raw = false;
  if (C._lua_getmetatable(L, index) !== 0) {
    raw = true;
    C._lua_settop(L, top);
  }
  try {
    if (field(vm, L, index, "err", raw) === LUA_TSTRING) {
      return w.error(errorFromText(vm.toString(L, -1)!));
    }
    C._lua_settop(L, top);
    if (field(vm, L, index, "ok", raw) === LUA_TSTRING) return w.status(vm.toString(L, -1)!);
    C._lua_settop(L, top);
    if (field(vm, L, index, "double", raw) === LUA_TNUMBER) {
      return w.double(C._lua_tonumberx(L, -1, 0));
    }
    C._lua_settop(L, top);
    if (field(vm, L, index, "big_number", raw) === LUA_TSTRING) {
      return w.bigNumber(vm.toString(L, -1)!);
    }
    C._lua_settop(L, top);
    if (field(vm, L, index, "map", raw) === LUA_TTABLE) {
      const map = top + 1;
      const count = countPairs(vm, L, map);
      w.map(count);
      C._lua_pushnil(L);
      while (C._lua_next(L, map) !== 0) {
        writeLuaValue(vm, L, top + 2, w, resp, depth + 1);
        writeLuaValue(vm, L, top + 3, w, resp, depth + 1);
        C._lua_settop(L, top + 2);
      }
      return;
    }
    C._lua_settop(L, top);
    if (field(vm, L, index, "set", raw) === LUA_TTABLE) {
      const set = top + 1;
      w.set(countPairs(vm, L, set));
      C._lua_pushnil(L);
      while (C._lua_next(L, set) !== 0) {
        writeLuaValue(vm, L, top + 2, w, resp, depth + 1);
        C._lua_settop(L, top + 2);
      }
      return;
    }
    C._lua_settop(L, top);
    if (field(vm, L, index, "verbatim_string", raw) === LUA_TTABLE) {
      field(vm, L, top + 1, "format", true);
      field(vm, L, top + 1, "string", true);
      const format = vm.toString(L, top + 2) ?? "txt";
      return w.verbatim(format, vm.toString(L, top + 3) ?? "");
    }
    C._lua_settop(L, top);
    let count = 0;
    while (C._lua_rawgeti(L, index, BigInt(count + 1)) !== LUA_TNIL) {
      count++;
      C._lua_settop(L, top);
    }
    C._lua_settop(L, top);
    w.array(count);
    for (let i = 1; i <= count; i++) {
      C._lua_rawgeti(L, index, BigInt(i));
      writeLuaValue(vm, L, top + 1, w, resp, depth + 1);
      C._lua_settop(L, top);
    }
  } finally {
    C._lua_settop(L, top);
  }
}

function countPairs(vm: LuaVm, L: number, table: number): number {
  const C = vm.C;
  let count = 0;
  C._lua_pushnil(L);
  while (C._lua_next(L, table) !== 0) {
    count++;
    C._lua_settop(L, -2);
  }
  return count;
}
