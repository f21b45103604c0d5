/**
 * `redis.log(level, message, ...)`: writes to the server's log at the
 * level given, as Redis's luaLogCommand does — its argument checks and
 * errors, the arguments joined by spaces (strings and numbers; others are
 * skipped), nothing written below the configured level. Redis's four
 * levels map onto kvdb's as `CONFIG SET loglevel` maps them, but
 * `LOG_VERBOSE` to `debug`: at kvdb's default (`info`, shown as `notice`)
 * Redis writes no verbose lines either. The text is a quoted field of the
 * line, so a script cannot forge log lines with newlines.
 *
 * @example
 * ```ts
 * vm.setFunction(L, "log", (l) => scriptLog(vm, l, logger));
 * // redis.log(redis.LOG_WARNING, 'low on', 3, 'slots')
 * // → 2026-… WARN redis.log text="low on 3 slots"
 * ```
 * @module
 */

import type { Logger, LogLevel } from "../log/logger.ts";
import { LUA_TNUMBER, LUA_TSTRING, type LuaVm } from "./lua_vm.ts";
import { formatG } from "./_number_format.ts";
import { binaryToText } from "../bytes/binary_string.ts";

/** kvdb's level for each of Redis's (LOG_DEBUG 0 … LOG_WARNING 3). */
const LEVELS: readonly LogLevel[] = ["debug", "debug", "info", "warn"];
/** Longest text a script may log at once (longer is cut, marked). */
export const MAX_SCRIPT_LOG_BYTES = 64 * 1024;

/** Raises Redis's error table `{err = "ERR <text>"}`. */
function fail(vm: LuaVm, L: number, text: string): number {
  vm.C._lua_createtable(L, 0, 1);
  vm.pushString(L, `ERR ${text}`);
  vm.C._lua_setfield(L, -2, vm.name("err"));
  return vm.C._lua_error(L);
}

/** A string or number argument as Lua 5.1's tostring gives it; undefined for others. */
function argText(vm: LuaVm, L: number, index: number): string | undefined {
  const type = vm.C._lua_type(L, index);
  if (type === LUA_TSTRING) return vm.toString(L, index);
  if (type !== LUA_TNUMBER) return undefined;
  if (vm.C._lua_isinteger(L, index)) return String(vm.C._lua_tointegerx(L, index, 0));
  return formatG(vm.C._lua_tonumberx(L, index, 0), 14);
}

/** The `redis.log` C function (see the module doc); `log` undefined: checks only. */
export function scriptLog(vm: LuaVm, L: number, log: Logger | undefined): number {
  const { C } = vm;
  const argc = C._lua_gettop(L);
  if (argc < 2) return fail(vm, L, "redis.log() requires two arguments or more.");
  const isNumber = vm.scratchInt();
  const value = C._lua_tonumberx(L, 1, isNumber);
  if (C.HEAPU32[isNumber >> 2] === 0) {
    return fail(vm, L, "First argument must be a number (log level).");
  }
  const level = Math.trunc(value);
  if (!(level >= 0 && level <= 3)) return fail(vm, L, "Invalid debug level.");
  const kvdbLevel = LEVELS[level];
  if (log === undefined || !log.enabled(kvdbLevel)) return 0;
  let text = "";
  for (let j = 2; j <= argc && text.length <= MAX_SCRIPT_LOG_BYTES; j++) {
    const part = argText(vm, L, j);
    if (part === undefined) continue;
    text += j === 2 ? part : ` ${part}`;
  }
  if (text.length > MAX_SCRIPT_LOG_BYTES) {
    text = `${text.slice(0, MAX_SCRIPT_LOG_BYTES)}... (cut at ${MAX_SCRIPT_LOG_BYTES} bytes)`;
  }
  log[kvdbLevel]("redis.log", { text: binaryToText(text) });
  return 0;
}
