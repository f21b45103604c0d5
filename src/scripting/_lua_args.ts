/**
 * Argument checks and errors for the C-style libraries kvdb writes in TS
 * (cjson, cmsgpack, struct), worded as Lua 5.1's lauxlib words them so
 * scripts see Redis's texts: `user_script:1: bad argument #1 to 'pack'
 * (string expected, got nil)`.
 *
 * @example
 * ```ts
 * const fmt = checkString(vm, L, 1);
 * ```
 * @module
 */

import { LUA_TNUMBER, LUA_TSTRING, type LuaVm } from "./lua_vm.ts";
import { formatG } from "./_number_format.ts";

/** Lua 5.1's type names by tag (light userdata shows as "userdata"). */
const TYPE_NAMES = [
  "nil",
  "boolean",
  "userdata",
  "number",
  "string",
  "table",
  "function",
  "userdata",
  "thread",
];

/** The type name of the value at `index`, "no value" past the top (luaL_typename). */
export function typeName(vm: LuaVm, L: number, index: number): string {
  if (index > vm.C._lua_gettop(L)) return "no value";
  return TYPE_NAMES[vm.C._lua_type(L, index)] ?? "?";
}

/** `chunk:line: ` of the Lua code that called the running JS function (luaL_where(L, 1)). */
function where(vm: LuaVm, L: number): string {
  vm.C._luaL_where(L, 1);
  const text = vm.toString(L, -1) ?? "";
  vm.C._lua_settop(L, -2);
  return text;
}

/** Raises `message` with the caller's position, as luaL_error does (never returns). */
export function luaError(vm: LuaVm, L: number, message: string): never {
  vm.raise(L, where(vm, L) + message);
  throw new Error("unreachable: lua_error returned");
}

/**
 * luaL_argerror: `bad argument #n to 'name' (message)`, the name as the
 * call shows it (`'?'` through `pcall`), with the caller's position.
 */
export function argError(vm: LuaVm, L: number, n: number, message: string): never {
  vm.pushString(L, message);
  // The message stays on the stack (alive) while luaL_argerror formats it.
  vm.C._luaL_argerror(L, n, vm.C._lua_tolstring(L, -1, 0));
  throw new Error("unreachable: luaL_argerror returned");
}

/**
 * luaL_checklstring: a string, a number printed as Lua 5.1 printed every
 * number (`%.14g`: 5.0 is "5", where 5.4 says "5.0"), else an argument
 * error.
 */
export function checkString(vm: LuaVm, L: number, n: number): string {
  const type = vm.C._lua_type(L, n);
  if (n <= vm.C._lua_gettop(L)) {
    if (type === LUA_TSTRING) return vm.toString(L, n)!;
    if (type === LUA_TNUMBER) return formatG(vm.C._lua_tonumberx(L, n, 0), 14);
  }
  return argError(vm, L, n, `string expected, got ${typeName(vm, L, n)}`);
}

/** luaL_checknumber: a number (numeric strings converted), else an argument error. */
export function checkNumber(vm: LuaVm, L: number, n: number): number {
  const isnum = vm.scratchInt();
  const value = vm.C._lua_tonumberx(L, n, isnum);
  if (n <= vm.C._lua_gettop(L) && vm.C.HEAP32[isnum >> 2] !== 0) return value;
  return argError(vm, L, n, `number expected, got ${typeName(vm, L, n)}`);
}

/** luaL_optinteger: the number at `n` truncated, or `fallback` when absent or nil. */
export function optInteger(vm: LuaVm, L: number, n: number, fallback: number): number {
  if (vm.C._lua_type(L, n) <= 0 || n > vm.C._lua_gettop(L)) return fallback;
  return Math.trunc(checkNumber(vm, L, n));
}

/**
 * Pushes a number as Redis's Lua 5.1 would show it: an integral value as a
 * Lua 5.4 integer (so `tostring` prints `3`, not `3.0`), others as floats.
 */
export function pushNumber(vm: LuaVm, L: number, value: number): void {
  if (Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER) {
    vm.C._lua_pushinteger(L, BigInt(value));
  } else {
    vm.C._lua_pushnumber(L, value);
  }
}
