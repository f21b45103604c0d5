/**
 * Lua 5.1's `tostring` as a C function of JavaScript's: numbers printed
 * with `%.14g` as 5.1 printed every number (5.4 says `5.0` for 10/2),
 * a value with a `__tostring` metamethod as what that returns (5.1's
 * `luaB_tostring`), anything else by `luaL_tolstring`.
 *
 * The VM prints the number itself: a float by Lua 5.4's own `%.14g`,
 * whose `.0` — added when the digits look like an integer — is cut off
 * again; an integer of fewer than 15 digits by `%lld`, the same digits
 * (15 and more: `%.14g` of it as a float, an exponent form). No string is
 * made in JavaScript. It replaces the prelude's Lua `tostring51` behind
 * `cfunction` (a protected call into Lua, then `format`): in-process, a
 * script calling it 40 times per EVALSHA, ns per call, 2 runs each:
 * `tostring(i)` 607–955 -> 202–233, `tostring('abc')` 280–486 -> 121–123.
 *
 * @example
 * ```ts
 * installTostring(vm); // on the table on top of the stack: t.tostring
 * // Lua: tostring(10 / 2) == '5'
 * ```
 * @module
 */

import { LUA_TNONE, LUA_TNUMBER, type LuaVm } from "./lua_vm.ts";

/** The integers `%lld` prints as `%.14g` does: fewer than 15 digits. */
const PLAIN_INTEGER_LIMIT = 1e14;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const MINUS = 0x2d;

/**
 * Sets `tostring` in the table on top of `vm`'s main stack (see the module doc).
 *
 * @example
 * ```ts
 * installTostring(vm); // then, in the prelude: _G.tostring = kv.tostring
 * ```
 */
export function installTostring(vm: LuaVm): void {
  const { C } = vm;
  const tostringName = vm.name("__tostring");
  vm.setFunction(vm.L, "tostring", (l: number) => {
    const type = C._lua_type(l, 1);
    if (type !== LUA_TNUMBER) {
      if (type === LUA_TNONE) C._luaL_checkany(l, 1);
      // 5.1 returns what __tostring returns; 5.4 would make a number a string.
      if (C._luaL_callmeta(l, 1, tostringName) !== 0) return 1;
      C._luaL_tolstring(l, 1, 0);
      return 1;
    }
    if (C._lua_isinteger(l, 1) !== 0) {
      const value = C._lua_tonumberx(l, 1, 0);
      if (value > -PLAIN_INTEGER_LIMIT && value < PLAIN_INTEGER_LIMIT) {
        C._lua_pushvalue(l, 1);
        C._lua_tolstring(l, -1, 0);
        return 1;
      }
      C._lua_pushnumber(l, value);
    } else {
      C._lua_pushvalue(l, 1);
    }
    const at = vm.stringAt(l, -1); // the copy, now the float's text
    const length = vm.stringLength;
    if (looksIntegral(vm.heapU8, at, length)) C._lua_pushlstring(l, at, length - 2);
    return 1;
  });
}

/** Whether `text` is `-?[0-9]+\.0`: digits 5.4 gave a `.0` that `%.14g` never writes. */
function looksIntegral(heap: Uint8Array, at: number, length: number): boolean {
  if (length < 3 || heap[at + length - 1] !== ZERO || heap[at + length - 2] !== DOT) return false;
  const end = at + length - 2;
  for (let i = heap[at] === MINUS ? at + 1 : at; i < end; i++) {
    if (heap[i] < ZERO || heap[i] > NINE) return false;
  }
  return true;
}
