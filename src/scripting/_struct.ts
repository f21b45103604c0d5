/**
 * The `struct` library of Redis's Lua (Roberto Ierusalimschy's struct.c
 * 0.2 as Redis ships it) over kvdb's Lua state: `struct.pack(fmt, ...)`,
 * `struct.unpack(fmt, s [, pos])` (the values, then the next position),
 * `struct.size(fmt)`. Formats: `<` `>` `!n` endianness and alignment,
 * `b B h H l L T i[n] I[n]` integers (l, L, T: 8 bytes; i, I: 4 or n ≤ 32),
 * `f d` floats, `c[n]` fixed strings (`c0`: the whole string, or in
 * unpack the length just read), `s` zero-terminated strings, `x` padding.
 *
 * @example
 * ```ts
 * installStruct(vm); // then struct.unpack('>I2', struct.pack('>I2', 7)) == 7, 3
 * ```
 * @module
 */

import { LUA_TNUMBER, type LuaVm } from "./lua_vm.ts";
import { argError, checkNumber, checkString, luaError, pushNumber } from "./_lua_args.ts";

/** Largest `i[n]` / `I[n]` (struct.c's MAXINTSIZE). */
export const STRUCT_MAX_INT_BYTES = 32;
/** The default `!` alignment (struct.c's MAXALIGN on 64-bit). */
const MAX_ALIGN = 8;

const view = new DataView(new ArrayBuffer(8));

interface Format {
  fmt: string;
  at: number;
  little: boolean;
  align: number;
}

function digits(vm: LuaVm, L: number, f: Format, fallback: number): number {
  if (!/[0-9]/.test(f.fmt[f.at] ?? "")) return fallback;
  let a = 0;
  while (/[0-9]/.test(f.fmt[f.at] ?? "")) {
    a = a * 10 + Number(f.fmt[f.at++]);
    if (a > 0x7fffffff) luaError(vm, L, "integral size overflow");
  }
  return a;
}

/** optsize: the bytes option `opt` takes (0: not a sized option). */
function optionSize(vm: LuaVm, L: number, opt: string, f: Format): number {
  switch (opt) {
    case "B":
    case "b":
      return 1;
    case "H":
    case "h":
      return 2;
    case "L":
    case "l":
    case "T":
    case "d":
      return 8;
    case "f":
      return 4;
    case "x":
      return 1;
    case "c":
      return digits(vm, L, f, 1);
    case "i":
    case "I": {
      const size = digits(vm, L, f, 4);
      if (size > STRUCT_MAX_INT_BYTES) {
        luaError(
          vm,
          L,
          `integral size ${size} is larger than limit of ${STRUCT_MAX_INT_BYTES}`,
        );
      }
      return size;
    }
    default:
      return 0;
  }
}

function toAlign(length: number, f: Format, opt: string, size: number): number {
  if (size === 0 || opt === "c") return 0;
  if (size > f.align) size = f.align;
  return (size - (length & (size - 1))) & (size - 1);
}

/** controloptions: endianness, alignment, blanks; anything else is an invalid option. */
function control(vm: LuaVm, L: number, opt: string, f: Format): void {
  switch (opt) {
    case " ":
      return;
    case ">":
      f.little = false;
      return;
    case "<":
      f.little = true;
      return;
    case "!": {
      const a = digits(vm, L, f, MAX_ALIGN);
      if (a <= 0 || (a & (a - 1)) !== 0) luaError(vm, L, `alignment ${a} is not a power of 2`);
      f.align = a;
      return;
    }
    default:
      argError(vm, L, 1, `invalid format option '${opt}'`);
  }
}

function newFormat(fmt: string): Format {
  return { fmt, at: 0, little: true, align: 1 };
}

function integerBytes(n: number, size: number, little: boolean): string {
  // (Uinttype)(Inttype)n for negatives, (Uinttype)n otherwise: 64 bits, then bytes.
  let v = BigInt.asUintN(64, BigInt(Math.trunc(Number.isFinite(n) ? n : 0)));
  const bytes = new Array<number>(size);
  for (let i = 0; i < size; i++) {
    bytes[little ? i : size - 1 - i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return String.fromCharCode(...bytes);
}

function floatBytes(value: number, size: 4 | 8, little: boolean): string {
  if (size === 4) view.setFloat32(0, value, little);
  else view.setFloat64(0, value, little);
  let out = "";
  for (let i = 0; i < size; i++) out += String.fromCharCode(view.getUint8(i));
  return out;
}

function pack(vm: LuaVm, L: number): number {
  const f = newFormat(checkString(vm, L, 1));
  // struct.c pushes a nil to mark the arguments' end: a missing one is "nil".
  vm.C._lua_checkstack(L, 1);
  vm.C._lua_pushnil(L);
  let arg = 2;
  let out = "";
  while (f.at < f.fmt.length) {
    const opt = f.fmt[f.at++];
    let size = optionSize(vm, L, opt, f);
    const pad = toAlign(out.length, f, opt, size);
    out += "\0".repeat(pad);
    switch (opt) {
      case "b":
      case "B":
      case "h":
      case "H":
      case "l":
      case "L":
      case "T":
      case "i":
      case "I":
        out += integerBytes(checkNumber(vm, L, arg++), size, f.little);
        continue;
      case "x":
        out += "\0";
        continue;
      case "f":
      case "d":
        out += floatBytes(checkNumber(vm, L, arg++), size as 4 | 8, f.little);
        continue;
      case "c":
      case "s": {
        const s = checkString(vm, L, arg++);
        if (size === 0) size = s.length;
        if (s.length < size) argError(vm, L, arg, "string too short");
        out += s.slice(0, size);
        if (opt === "s") out += "\0";
        continue;
      }
      default:
        control(vm, L, opt, f);
    }
  }
  vm.pushString(L, out);
  return 1;
}

function readInteger(data: string, at: number, size: number, little: boolean, signed: boolean) {
  let v = 0n;
  for (let i = 0; i < size; i++) {
    v = (v << 8n) | BigInt(data.charCodeAt(little ? at + size - 1 - i : at + i));
  }
  v = BigInt.asUintN(64, v);
  if (signed && size > 0) {
    const bits = Math.min(size * 8, 64);
    v = size * 8 > 64 ? BigInt.asIntN(64, v) : BigInt.asIntN(bits, v);
  }
  return Number(v);
}

function unpack(vm: LuaVm, L: number): number {
  const C = vm.C;
  const f = newFormat(checkString(vm, L, 1));
  const data = checkString(vm, L, 2);
  const start = C._lua_type(L, 3) > 0 && C._lua_gettop(L) >= 3
    ? Math.trunc(checkNumber(vm, L, 3))
    : 1;
  let pos = start - 1;
  if (pos < 0 || pos > data.length) argError(vm, L, 3, "offset must be 1 or greater");
  C._lua_settop(L, 2);
  let n = 0;
  while (f.at < f.fmt.length) {
    const opt = f.fmt[f.at++];
    let size = optionSize(vm, L, opt, f);
    pos += toAlign(pos, f, opt, size);
    if (size > data.length || pos > data.length - size) {
      argError(vm, L, 2, "data string too short");
    }
    if (C._lua_checkstack(L, 2) === 0) luaError(vm, L, "stack overflow (too many results)");
    switch (opt) {
      case "b":
      case "B":
      case "h":
      case "H":
      case "l":
      case "L":
      case "T":
      case "i":
      case "I":
        pushNumber(vm, L, readInteger(data, pos, size, f.little, opt === opt.toLowerCase()));
        n++;
        break;
      case "x":
        break;
      case "f":
      case "d":
        for (let i = 0; i < size; i++) view.setUint8(i, data.charCodeAt(pos + i));
        C._lua_pushnumber(
          L,
          size === 4 ? view.getFloat32(0, f.little) : view.getFloat64(0, f.little),
        );
        n++;
        break;
      case "c":
        if (size === 0) {
          if (n === 0 || C._lua_type(L, -1) !== LUA_TNUMBER) {
            luaError(vm, L, "format 'c0' needs a previous size");
          }
          size = Math.trunc(C._lua_tonumberx(L, -1, 0));
          C._lua_settop(L, -2);
          n--;
          if (size > data.length || pos > data.length - size) {
            argError(vm, L, 2, "data string too short");
          }
        }
        vm.pushString(L, data.slice(pos, pos + size));
        n++;
        break;
      case "s": {
        const nul = data.indexOf("\0", pos);
        if (nul < 0) luaError(vm, L, "unfinished string in data");
        size = nul - pos + 1;
        vm.pushString(L, data.slice(pos, nul));
        n++;
        break;
      }
      default:
        control(vm, L, opt, f);
    }
    pos += size;
  }
  pushNumber(vm, L, pos + 1);
  return n + 1;
}

function size(vm: LuaVm, L: number): number {
  const f = newFormat(checkString(vm, L, 1));
  let pos = 0;
  while (f.at < f.fmt.length) {
    const opt = f.fmt[f.at++];
    const bytes = optionSize(vm, L, opt, f);
    pos += toAlign(pos, f, opt, bytes);
    if (opt === "s") argError(vm, L, 1, "option 's' has no fixed size");
    if (opt === "c" && bytes === 0) argError(vm, L, 1, "option 'c0' has no fixed size");
    if (!/[0-9A-Za-z]/.test(opt)) control(vm, L, opt, f);
    pos += bytes;
  }
  pushNumber(vm, L, pos);
  return 1;
}

/** Sets the global `struct` table in `vm`'s state. */
export function installStruct(vm: LuaVm): void {
  const { C, L } = vm;
  C._lua_createtable(L, 0, 3);
  vm.setFunction(L, "pack", (l) => pack(vm, l));
  vm.setFunction(L, "unpack", (l) => unpack(vm, l));
  vm.setFunction(L, "size", (l) => size(vm, l));
  C._lua_setglobal(L, vm.name("struct"));
}
