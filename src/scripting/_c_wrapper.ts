/**
 * `cfunction(f)`: wraps a Lua function of kvdb's prelude in a C function,
 * so that it behaves as the C library function it replaces (the prelude's
 * Lua 5.1 `tostring`, `string.format`, `table.concat`, `math.random` ...):
 * a script's tail call to it keeps the script's frame (a Lua callee would
 * replace it, and the error would lose the script's line), and its errors
 * name the script's line as luaL_error would (`user_script:1: bad argument
 * #2 to 'format'`), not the prelude's. An argument error the wrapped
 * function raises (`bad argument #n to '...' (message)` at the prelude's
 * position: its own, or a library function's it called with the same
 * arguments) is raised again by luaL_argerror from the C function, which
 * names the function as the call does, as Lua 5.1 did: `'format'` called
 * as `string.format`, `'?'` through `pcall` (the prelude empties
 * `package.loaded`, where Lua 5.4 would find `'string.format'`).
 *
 * `arity(f, n, message)`: C function `f` behind a check that it gets `n`
 * arguments, else the error reply `message` (`{err = message}`), as Redis's
 * `redis.sha1hex` and `redis.setresp` check theirs.
 *
 * `getn`, `maxn`: Lua 5.1's `table.getn` and `table.maxn` (raw: no `__len`),
 * C functions for the same reasons, without a wrapped Lua function's cost.
 *
 * @example
 * ```ts
 * installCFunctionWrapper(vm); // on the table on top of the stack: t.cfunction, t.arity
 * // Lua: string.format = kv.cfunction(function(f, ...) ... end)
 * ```
 * @module
 */

import {
  LUA_REGISTRYINDEX,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  LUA_YIELD,
  type LuaVm,
} from "./lua_vm.ts";
import { PRELUDE_CHUNK } from "./_prelude.ts";
import { argError, pushNumber, typeName } from "./_lua_args.ts";

const LUA_MULTRET = -1;
/** lua_upvalueindex(1), (2), (3). */
const FIRST_UPVALUE = LUA_REGISTRYINDEX - 1;
const SECOND_UPVALUE = LUA_REGISTRYINDEX - 2;
const THIRD_UPVALUE = LUA_REGISTRYINDEX - 3;
/** An error raised in the prelude's code: `kvdb:<line>: ` (PRELUDE_CHUNK is "=kvdb"). */
const PRELUDE_POSITION = new RegExp(`^${PRELUDE_CHUNK.slice(1)}:\\d+: `);
/** luaL_argerror's text (after the position). */
const ARGUMENT_ERROR = /^bad argument #(\d+) to '[^']*' \(([\s\S]*)\)$/;
/**
 * Pattern errors whose words 5.4 changed, and 5.1's: a capture index out
 * of range (5.1 named no index), `%b` without its two characters.
 */
const PATTERN_ERRORS_51: readonly [RegExp, string][] = [
  [/^invalid capture index %\d+(?: in (?:pattern|replacement string))?$/, "invalid capture index"],
  [/^malformed pattern \(missing arguments to '%b'\)$/, "unbalanced pattern"],
];

function patternError51(text: string): string {
  for (const [words, words51] of PATTERN_ERRORS_51) if (words.test(text)) return words51;
  return text;
}

/**
 * Sets `cfunction`, `arity`, `getn` and `maxn` in the table on top of
 * `vm`'s main stack (see the module doc).
 */
export function installCFunctionWrapper(vm: LuaVm): void {
  const { C } = vm;
  const tableExpected = (l: number): never =>
    argError(vm, l, 1, `table expected, got ${typeName(vm, l, 1)}`);
  /** The wrapped function's end: its results, or its error raised as the C function's. */
  const finish = (l: number, status: number): number => {
    if (status === 0 || status === LUA_YIELD) return C._lua_gettop(l);
    if (C._lua_type(l, -1) === LUA_TSTRING) {
      const text = vm.toString(l, -1)!;
      const match = PRELUDE_POSITION.exec(text);
      if (match !== null) {
        const rest = patternError51(text.slice(match[0].length));
        const argument = ARGUMENT_ERROR.exec(rest);
        if (argument !== null) {
          C._lua_settop(l, -2);
          return argError(vm, l, Number(argument[1]), argument[2]);
        }
        C._luaL_where(l, 1);
        const where = vm.toString(l, -1) ?? "";
        C._lua_settop(l, -3);
        vm.pushString(l, where + rest);
      }
    }
    return C._lua_error(l);
  };
  // With a continuation the wrapped function may yield (the busy hook's
  // yield, or the coroutine functions' passing one on): Lua then ends the
  // call in `finished`, this frame being gone; without, a yield inside
  // would be an error. An error in it, yielded or not, also ends there
  // (Lua's pcallk in a coroutine recovers through the continuation).
  const finished = C.addFunction((l: number, status: number) => finish(l, status), "iiii");
  const call = C.addFunction((l: number) => {
    const n = C._lua_gettop(l);
    C._lua_pushvalue(l, FIRST_UPVALUE);
    C._lua_rotate(l, 1, 1);
    return finish(l, C._lua_pcallk(l, n, LUA_MULTRET, 0, 0, finished));
  }, "ii");
  vm.setFunction(vm.L, "cfunction", (l: number) => {
    C._lua_settop(l, 1);
    C._lua_pushcclosure(l, call, 1);
    return 1;
  });
  const checked = C.addFunction((l: number) => {
    const n = C._lua_gettop(l);
    if (n !== C._lua_tonumberx(l, SECOND_UPVALUE, 0)) {
      C._lua_createtable(l, 0, 1);
      C._lua_pushvalue(l, THIRD_UPVALUE);
      C._lua_setfield(l, -2, vm.name("err"));
      return C._lua_error(l);
    }
    C._lua_pushvalue(l, FIRST_UPVALUE);
    C._lua_rotate(l, 1, 1);
    C._lua_callk(l, n, LUA_MULTRET, 0, 0);
    return C._lua_gettop(l);
  }, "ii");
  vm.setFunction(vm.L, "arity", (l: number) => {
    C._lua_settop(l, 3);
    C._lua_pushcclosure(l, checked, 3);
    return 1;
  });
  vm.setFunction(vm.L, "getn", (l: number) => {
    if (C._lua_type(l, 1) !== LUA_TTABLE) return tableExpected(l);
    C._lua_pushinteger(l, C._lua_rawlen(l, 1));
    return 1;
  });
  vm.setFunction(vm.L, "maxn", (l: number) => {
    if (C._lua_type(l, 1) !== LUA_TTABLE) return tableExpected(l);
    C._lua_settop(l, 1);
    let max = 0;
    C._lua_pushnil(l);
    while (C._lua_next(l, 1) !== 0) {
      C._lua_settop(l, -2);
      if (C._lua_type(l, -1) === LUA_TNUMBER) max = Math.max(max, C._lua_tonumberx(l, -1, 0));
    }
    pushNumber(vm, l, max);
    return 1;
  });
}
