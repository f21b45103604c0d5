/**
 * `cfunction(f)`: wraps a Lua function of kvdb's prelude in a C function,
 * so that it behaves as the C library function it replaces (the prelude's
 * Lua 5.1 `tostring`, `string.format`, `table.concat`): a script's tail call
 * to it keeps the script's frame (a Lua callee would replace it, and the
 * error would lose the script's line), and its errors name the script's
 * line as luaL_error would (`user_script:1: bad argument #2 to 'format'`),
 * not the prelude's.
 *
 * @example
 * ```ts
 * installCFunctionWrapper(vm); // on the table on top of the stack: t.cfunction
 * // Lua: string.format = kv.cfunction(function(f, ...) ... end)
 * ```
 * @module
 */

import { LUA_REGISTRYINDEX, LUA_TSTRING, type LuaVm } from "./lua_vm.ts";
import { PRELUDE_CHUNK } from "./_prelude.ts";

const LUA_MULTRET = -1;
/** lua_upvalueindex(1). */
const FIRST_UPVALUE = LUA_REGISTRYINDEX - 1;
/** An error raised in the prelude's code: `kvdb:<line>: ` (PRELUDE_CHUNK is "=kvdb"). */
const PRELUDE_POSITION = new RegExp(`^${PRELUDE_CHUNK.slice(1)}:\\d+: `);

/** Sets `cfunction` in the table on top of `vm`'s main stack (see the module doc). */
export function installCFunctionWrapper(vm: LuaVm): void {
  const { C } = vm;
  const call = C.addFunction((l: number) => {
    const n = C._lua_gettop(l);
    C._lua_pushvalue(l, FIRST_UPVALUE);
    C._lua_rotate(l, 1, 1);
    if (C._lua_pcallk(l, n, LUA_MULTRET, 0, 0, 0) === 0) return C._lua_gettop(l);
    if (C._lua_type(l, -1) === LUA_TSTRING) {
      const text = vm.toString(l, -1)!;
      const match = PRELUDE_POSITION.exec(text);
      if (match !== null) {
        C._luaL_where(l, 1);
        const where = vm.toString(l, -1) ?? "";
        C._lua_settop(l, -3);
        vm.pushString(l, where + text.slice(match[0].length));
      }
    }
    return C._lua_error(l);
  }, "ii");
  vm.setFunction(vm.L, "cfunction", (l: number) => {
    C._lua_settop(l, 1);
    C._lua_pushcclosure(l, call, 1);
    return 1;
  });
}
