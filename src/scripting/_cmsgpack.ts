/**
 * The `cmsgpack` library of Redis's Lua (lua-cmsgpack 0.4.0) over kvdb's
 * Lua state, byte for byte: `cmsgpack.pack(...)` (each argument packed,
 * concatenated), `cmsgpack.unpack(s)` (every value), `unpack_one(s [,
 * offset])` and `unpack_limit(s, limit [, offset])` (the next offset, -1
 * at the end, then the values). Its rules: integral numbers as the
 * smallest int type, others as float32 when exact else float64; strings as
 * fixstr/str8/str16/str32; a table with keys exactly 1..n as an array,
 * others as a map; tables nested deeper than 16 as nil.
 *
 * Written here rather than with an npm msgpack codec: those encode byte
 * strings as `bin` (Redis packs `str`) and choose float widths otherwise,
 * and Lua's values must be walked through the C API either way.
 *
 * @example
 * ```ts
 * installCmsgpack(vm); // then scripts call cmsgpack.unpack(cmsgpack.pack(1, 'a'))
 * ```
 * @module
 */

import { LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, type LuaVm } from "./lua_vm.ts";
import {
  argError,
  checkNumber,
  checkString,
  luaError,
  optInteger,
  pushNumber,
} from "./_lua_args.ts";

/** Tables nested deeper are packed as nil (LUACMSGPACK_MAX_NESTING: survives cycles). */
export const CMSGPACK_MAX_NESTING = 16;
/** Containers nested deeper refuse to unpack (Redis: Lua's C stack, ~200 levels). */
export const CMSGPACK_MAX_UNPACK_DEPTH = 1000;

const f32 = new DataView(new ArrayBuffer(8));

/** A growable byte buffer rendered as a binary string. */
class Output {
  bytes = new Uint8Array(256);
  length = 0;

  ensure(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(b: number): void {
    this.ensure(1);
    this.bytes[this.length++] = b & 0xff;
  }

  /** `size` bytes of `value`, big-endian. */
  uint(value: number | bigint, size: number): void {
    this.ensure(size);
    let v = BigInt.asUintN(size * 8, BigInt(value));
    for (let i = size - 1; i >= 0; i--) {
      this.bytes[this.length + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    this.length += size;
  }

  text(s: string): void {
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.bytes[this.length++] = s.charCodeAt(i);
  }

  binary(): string {
    let out = "";
    const CHUNK = 8192;
    for (let i = 0; i < this.length; i += CHUNK) {
      out += String.fromCharCode(...this.bytes.subarray(i, Math.min(this.length, i + CHUNK)));
    }
    return out;
  }
}

function packInteger(out: Output, n: number): void {
  if (n >= 0) {
    if (n <= 127) return out.byte(n);
    if (n <= 0xff) return out.byte(0xcc), out.uint(n, 1);
    if (n <= 0xffff) return out.byte(0xcd), out.uint(n, 2);
    if (n <= 0xffffffff) return out.byte(0xce), out.uint(n, 4);
    return out.byte(0xcf), out.uint(BigInt(n), 8);
  }
  if (n >= -32) return out.byte(n);
  if (n >= -128) return out.byte(0xd0), out.uint(n, 1);
  if (n >= -32768) return out.byte(0xd1), out.uint(n, 2);
  if (n >= -2147483648) return out.byte(0xd2), out.uint(n, 4);
  out.byte(0xd3);
  out.uint(BigInt(n), 8);
}

function packNumber(vm: LuaVm, L: number, index: number, out: Output): void {
  const C = vm.C;
  if (C._lua_isinteger(L, index)) {
    const i = C._lua_tointegerx(L, index, 0);
    if (i >= -(2n ** 53n) && i <= 2n ** 53n) return packInteger(out, Number(i));
    // Lua 5.1 held numbers as doubles: a larger integer packs as its double would.
    return packNumberValue(Number(i), out);
  }
  packNumberValue(C._lua_tonumberx(L, index, 0), out);
}

function packNumberValue(d: number, out: Output): void {
  // IS_INT64_EQUIVALENT: finite and (int64_t)d == d.
  if (Number.isFinite(d) && Math.trunc(d) === d && d >= -(2 ** 63) && d < 2 ** 63) {
    if (Number.isSafeInteger(d)) return packInteger(out, d === 0 ? 0 : d);
    out.byte(d >= 0 ? 0xcf : 0xd3);
    return out.uint(BigInt(d), 8);
  }
  f32.setFloat32(0, d);
  if (f32.getFloat32(0) === d) {
    out.byte(0xca);
    for (let i = 0; i < 4; i++) out.byte(f32.getUint8(i));
    return;
  }
  f32.setFloat64(0, d);
  out.byte(0xcb);
  for (let i = 0; i < 8; i++) out.byte(f32.getUint8(i));
}

function packLength(out: Output, n: number, fix: number, fixMax: number, w16: number): void {
  if (n <= fixMax) return out.byte(fix | n);
  if (n <= 0xffff) return out.byte(w16), out.uint(n, 2);
  out.byte(w16 + 1);
  out.uint(n, 4);
}

/** Packs the value at absolute `index` (mp_encode_lua_type). */
function packValue(vm: LuaVm, L: number, index: number, out: Output, level: number): void {
  const C = vm.C;
  let type = C._lua_type(L, index);
  if (type === LUA_TTABLE && level === CMSGPACK_MAX_NESTING) type = -1;
  switch (type) {
    case LUA_TSTRING: {
      const s = vm.toString(L, index)!;
      const n = s.length;
      if (n < 32) out.byte(0xa0 | n);
      else if (n <= 0xff) out.byte(0xd9), out.uint(n, 1);
      else if (n <= 0xffff) out.byte(0xda), out.uint(n, 2);
      else out.byte(0xdb), out.uint(n, 4);
      return out.text(s);
    }
    case LUA_TBOOLEAN:
      return out.byte(C._lua_toboolean(L, index) !== 0 ? 0xc3 : 0xc2);
    case LUA_TNUMBER:
      return packNumber(vm, L, index, out);
    case LUA_TTABLE:
      return packTable(vm, L, index, out, level);
    default:
      return out.byte(0xc0);
  }
}

function packTable(vm: LuaVm, L: number, index: number, out: Output, level: number): void {
  const C = vm.C;
  if (C._lua_checkstack(L, 3) === 0) return out.byte(0xc0);
  const top = C._lua_gettop(L);
  // table_is_an_array: every key a positive integer and the largest = the count.
  let count = 0;
  let max = 0;
  let array = true;
  C._lua_pushnil(L);
  while (C._lua_next(L, index) !== 0) {
    count++;
    if (array) {
      const n = C._lua_type(L, top + 1) === LUA_TNUMBER ? C._lua_tonumberx(L, top + 1, 0) : 0;
      if (n <= 0 || Math.trunc(n) !== n) array = false;
      else if (n > max) max = n;
    }
    C._lua_settop(L, top + 1);
  }
  if (array && max === count) {
    const length = Number(C._lua_rawlen(L, index));
    packLength(out, length, 0x90, 15, 0xdc);
    for (let i = 1; i <= length; i++) {
      C._lua_rawgeti(L, index, BigInt(i));
      packValue(vm, L, top + 1, out, level + 1);
      C._lua_settop(L, top);
    }
    return;
  }
  packLength(out, count, 0x80, 15, 0xde);
  C._lua_pushnil(L);
  while (C._lua_next(L, index) !== 0) {
    packValue(vm, L, top + 1, out, level + 1);
    packValue(vm, L, top + 2, out, level + 1);
    C._lua_settop(L, top + 1);
  }
}

class MissingBytes extends Error {}
class BadFormat extends Error {}

/** Reads msgpack values from a binary string, pushing them (mp_decode_to_lua_type). */
class Reader {
  constructor(readonly vm: LuaVm, readonly L: number, readonly s: string, public pos: number) {}

  need(n: number): void {
    if (this.pos + n > this.s.length) throw new MissingBytes();
  }

  uint(at: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + this.s.charCodeAt(at + i);
    return v;
  }

  int(at: number, size: number): number {
    const u = this.uint(at, size);
    const half = 2 ** (size * 8 - 1);
    return u >= half ? u - 2 * half : u;
  }

  big(at: number, signed: boolean): number {
    let v = 0n;
    for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(this.s.charCodeAt(at + i));
    return Number(signed ? BigInt.asIntN(64, v) : v);
  }

  float(at: number, size: 4 | 8): number {
    for (let i = 0; i < size; i++) f32.setUint8(i, this.s.charCodeAt(at + i));
    return size === 4 ? f32.getFloat32(0) : f32.getFloat64(0);
  }

  /** `size` header bytes after the type byte, then that many bytes of string. */
  pushString(header: number, length: number): void {
    this.need(1 + header + length);
    const at = this.pos + 1 + header;
    this.vm.pushString(this.L, this.s.slice(at, at + length));
    this.pos = at + length;
  }

  value(depth: number): void {
    const { vm, L, s } = this;
    const C = vm.C;
    if (depth > CMSGPACK_MAX_UNPACK_DEPTH || C._lua_checkstack(L, 3) === 0) {
      luaError(vm, L, "stack overflow (too many nested values)");
    }
    this.need(1);
    const at = this.pos;
    const b = s.charCodeAt(at);
    const fixed = (size: number, value: () => number) => {
      this.need(1 + size);
      pushNumber(vm, L, value());
      this.pos += 1 + size;
    };
    switch (b) {
      case 0xcc:
        return fixed(1, () => this.uint(at + 1, 1));
      case 0xd0:
        return fixed(1, () => this.int(at + 1, 1));
      case 0xcd:
        return fixed(2, () => this.uint(at + 1, 2));
      case 0xd1:
        return fixed(2, () => this.int(at + 1, 2));
      case 0xce:
        return fixed(4, () => this.uint(at + 1, 4));
      case 0xd2:
        return fixed(4, () => this.int(at + 1, 4));
      case 0xcf:
        return fixed(8, () => this.big(at + 1, false));
      case 0xd3:
        return fixed(8, () => this.big(at + 1, true));
      case 0xc0:
        C._lua_pushnil(L);
        this.pos++;
        return;
      case 0xc2:
      case 0xc3:
        C._lua_pushboolean(L, b === 0xc3 ? 1 : 0);
        this.pos++;
        return;
      case 0xca:
        this.need(5);
        C._lua_pushnumber(L, this.float(at + 1, 4));
        this.pos += 5;
        return;
      case 0xcb:
        this.need(9);
        C._lua_pushnumber(L, this.float(at + 1, 8));
        this.pos += 9;
        return;
      case 0xd9:
        this.need(2);
        return this.pushString(1, this.uint(at + 1, 1));
      case 0xda:
        this.need(3);
        return this.pushString(2, this.uint(at + 1, 2));
      case 0xdb:
        this.need(5);
        return this.pushString(4, this.uint(at + 1, 4));
      case 0xdc:
        this.need(3);
        this.pos += 3;
        return this.array(this.uint(at + 1, 2), depth);
      case 0xdd:
        this.need(5);
        this.pos += 5;
        return this.array(this.uint(at + 1, 4), depth);
      case 0xde:
        this.need(3);
        this.pos += 3;
        return this.map(this.uint(at + 1, 2), depth);
      case 0xdf:
        this.need(5);
        this.pos += 5;
        return this.map(this.uint(at + 1, 4), depth);
    }
    if ((b & 0x80) === 0) return fixed(0, () => b);
    if ((b & 0xe0) === 0xe0) return fixed(0, () => b - 256);
    if ((b & 0xe0) === 0xa0) return this.pushString(0, b & 0x1f);
    if ((b & 0xf0) === 0x90) {
      this.pos++;
      return this.array(b & 0x0f, depth);
    }
    if ((b & 0xf0) === 0x80) {
      this.pos++;
      return this.map(b & 0x0f, depth);
    }
    throw new BadFormat();
  }

  array(count: number, depth: number): void {
    const C = this.vm.C;
    C._lua_createtable(this.L, 0, 0);
    for (let i = 1; i <= count; i++) {
      this.value(depth + 1);
      C._lua_rawseti(this.L, -2, BigInt(i)); // a nil leaves a hole, as lua_settable does
    }
  }

  map(count: number, depth: number): void {
    const C = this.vm.C;
    C._lua_createtable(this.L, 0, 0);
    for (let i = 0; i < count; i++) {
      this.value(depth + 1);
      this.value(depth + 1);
      if (C._lua_type(this.L, -2) === 0) luaError(this.vm, this.L, "table index is nil");
      C._lua_rawset(this.L, -3);
    }
  }
}

/** mp_unpack_full: values from `offset`, at most `limit` (0 and 0: all, no offset returned). */
function unpack(vm: LuaVm, L: number, limit: number, offset: number): number {
  const s = checkString(vm, L, 1);
  const decodeAll = limit === 0 && offset === 0;
  if (offset < 0 || limit < 0) {
    luaError(
      vm,
      L,
      `Invalid request to unpack with offset of ${offset} and limit of ${s.length}.`,
    );
  }
  if (offset > s.length) {
    luaError(vm, L, `Start offset ${offset} greater than input length ${s.length}.`);
  }
  const C = vm.C;
  C._lua_settop(L, 1);
  const reader = new Reader(vm, L, s, offset);
  const max = decodeAll ? Infinity : limit;
  let count = 0;
  try {
    for (; reader.pos < s.length && count < max; count++) reader.value(0);
  } catch (e) {
    if (e instanceof MissingBytes) luaError(vm, L, "Missing bytes in input.");
    if (e instanceof BadFormat) luaError(vm, L, "Bad data format in input.");
    throw e;
  }
  if (decodeAll) return count;
  // The next offset goes first: values move up one slot.
  C._lua_checkstack(L, 1);
  pushNumber(vm, L, reader.pos >= s.length ? -1 : reader.pos);
  C._lua_rotate(L, 2, 1);
  return count + 1;
}

/** Sets the global `cmsgpack` table in `vm`'s state. */
export function installCmsgpack(vm: LuaVm): void {
  const { C, L } = vm;
  C._lua_createtable(L, 0, 8);
  vm.setFunction(L, "pack", (l) => {
    const n = C._lua_gettop(l);
    if (n === 0) argError(vm, l, 0, "MessagePack pack needs input.");
    const out = new Output();
    for (let i = 1; i <= n; i++) packValue(vm, l, i, out, 0);
    vm.pushString(l, out.binary());
    return 1;
  });
  vm.setFunction(L, "unpack", (l) => unpack(vm, l, 0, 0));
  vm.setFunction(L, "unpack_one", (l) => {
    const offset = optInteger(vm, l, 2, 0);
    return unpack(vm, l, 1, offset);
  });
  vm.setFunction(L, "unpack_limit", (l) => {
    const limit = Math.trunc(checkNumber(vm, l, 2));
    const offset = optInteger(vm, l, 3, 0);
    return unpack(vm, l, limit, offset);
  });
  vm.pushString(L, "cmsgpack");
  C._lua_setfield(L, -2, vm.name("_NAME"));
  vm.pushString(L, "lua-cmsgpack 0.4.0");
  C._lua_setfield(L, -2, vm.name("_VERSION"));
  C._lua_setglobal(L, vm.name("cmsgpack"));
}
