/**
 * The `cjson` library of Redis's Lua (lua-cjson 2.1.0) over kvdb's Lua
 * state: `cjson.encode`, `cjson.decode`, `cjson.null`, with its rules and
 * error texts — an empty table encodes as `{}`, numbers as `%.14g`, `/`
 * escaped as `\/`, bytes ≥ 0x80 passed through, excessively sparse arrays
 * refused, JSON `null` decoded as `cjson.null` (a NULL light userdata),
 * a NUL byte ends the document, strtod's numbers (hex, inf, nan) accepted.
 *
 * @example
 * ```ts
 * installCjson(vm); // then scripts call cjson.encode({1, 2}) == "[1,2]"
 * ```
 * @module
 */

import {
  LUA_TBOOLEAN,
  LUA_TLIGHTUSERDATA,
  LUA_TNIL,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  type LuaVm,
} from "./lua_vm.ts";
import { argError, checkString, luaError, pushNumber, typeName } from "./_lua_args.ts";
import { formatG } from "./_number_format.ts";

/** Nesting lua-cjson encodes and decodes (its default `encode_max_depth`/`decode_max_depth`). */
export const CJSON_MAX_DEPTH = 1000;
/** lua-cjson's sparse-array rule: refused when max index > items × ratio and > safe. */
const SPARSE_RATIO = 2;
const SPARSE_SAFE = 10;
/** `%.14g`: lua-cjson's default `encode_number_precision`. */
const NUMBER_PRECISION = 14;

/** How each byte is escaped in a JSON string (undefined: as it is). */
const ESCAPES: (string | undefined)[] = Array.from({ length: 256 }, (_, c) => {
  if (c < 0x20 || c === 0x7f) return "\\u" + c.toString(16).padStart(4, "0");
  return undefined;
});
ESCAPES[0x08] = "\\b";
ESCAPES[0x09] = "\\t";
ESCAPES[0x0a] = "\\n";
ESCAPES[0x0c] = "\\f";
ESCAPES[0x0d] = "\\r";
ESCAPES[0x22] = '\\"';
ESCAPES[0x5c] = "\\\\";
ESCAPES[0x2f] = "\\/";

function escapeString(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const escaped = ESCAPES[s.charCodeAt(i)];
    if (escaped === undefined) continue;
    out += s.slice(from, i) + escaped;
    from = i + 1;
  }
  return out + s.slice(from) + '"';
}

class Encoder {
  constructor(readonly vm: LuaVm, readonly L: number) {}

  fail(index: number, reason: string): never {
    return luaError(
      this.vm,
      this.L,
      `Cannot serialise ${typeName(this.vm, this.L, index)}: ${reason}`,
    );
  }

  number(index: number): string {
    const value = this.vm.C._lua_tonumberx(this.L, index, 0);
    if (!Number.isFinite(value)) this.fail(index, "must not be NaN or Inf");
    return formatG(value, NUMBER_PRECISION);
  }

  /** The value at absolute `index` as JSON. */
  value(index: number, depth: number): string {
    const { vm, L } = this;
    const C = vm.C;
    switch (C._lua_type(L, index)) {
      case LUA_TSTRING:
        return escapeString(vm.toString(L, index)!);
      case LUA_TNUMBER:
        return this.number(index);
      case LUA_TBOOLEAN:
        return C._lua_toboolean(L, index) !== 0 ? "true" : "false";
      case LUA_TNIL:
        return "null";
      case LUA_TLIGHTUSERDATA:
        if (C._lua_touserdata(L, index) === 0) return "null";
        return this.fail(index, "type not supported");
      case LUA_TTABLE:
        break;
      default:
        return this.fail(index, "type not supported");
    }
    depth++;
    if (depth > CJSON_MAX_DEPTH || C._lua_checkstack(L, 3) === 0) {
      return luaError(vm, L, `Cannot serialise, excessive nesting (${depth})`);
    }
    const length = this.arrayLength(index);
    const top = C._lua_gettop(L);
    if (length > 0) {
      let out = "[";
      for (let i = 1; i <= length; i++) {
        if (i > 1) out += ",";
        C._lua_rawgeti(L, index, BigInt(i));
        out += this.value(top + 1, depth);
        C._lua_settop(L, top);
      }
      return out + "]";
    }
    let out = "{";
    let first = true;
    C._lua_pushnil(L);
    while (C._lua_next(L, index) !== 0) {
      if (!first) out += ",";
      first = false;
      const keyType = C._lua_type(L, top + 1);
      if (keyType === LUA_TNUMBER) out += `"${this.number(top + 1)}":`;
      else if (keyType === LUA_TSTRING) out += escapeString(vm.toString(L, top + 1)!) + ":";
      else this.fail(top + 1, "table key must be a number or string");
      out += this.value(top + 2, depth);
      C._lua_settop(L, top + 1);
    }
    return out + "}";
  }

  /** The array length of the table at `index`, or -1 if it is an object (lua_array_length). */
  arrayLength(index: number): number {
    const { vm, L } = this;
    const C = vm.C;
    const top = C._lua_gettop(L);
    let max = 0;
    let items = 0;
    C._lua_pushnil(L);
    while (C._lua_next(L, index) !== 0) {
      const k = C._lua_type(L, top + 1) === LUA_TNUMBER ? C._lua_tonumberx(L, top + 1, 0) : 0;
      if (k === 0 || Math.floor(k) !== k || k < 1) {
        C._lua_settop(L, top);
        return -1;
      }
      if (k > max) max = k;
      items++;
      C._lua_settop(L, top + 1);
    }
    if (max > items * SPARSE_RATIO && max > SPARSE_SAFE) {
      this.fail(index, "excessively sparse array");
    }
    return max;
  }
}

type Token =
  | "T_OBJ_BEGIN"
  | "T_OBJ_END"
  | "T_ARR_BEGIN"
  | "T_ARR_END"
  | "T_STRING"
  | "T_NUMBER"
  | "T_BOOLEAN"
  | "T_NULL"
  | "T_COLON"
  | "T_COMMA"
  | "T_END"
  | "T_ERROR";

const SINGLE: Record<string, Token> = {
  "{": "T_OBJ_BEGIN",
  "}": "T_OBJ_END",
  "[": "T_ARR_BEGIN",
  "]": "T_ARR_END",
  ":": "T_COLON",
  ",": "T_COMMA",
};

const UNESCAPE: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** What strtod accepts at the start of a string (decimal, hex, inf, nan). */
const STRTOD =
  /^[+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)/i;

/** A binary string's UTF-8 encoding of a code point (as lua-cjson's codepoint_to_utf8). */
function utf8(codepoint: number): string {
  if (codepoint < 0x80) return String.fromCharCode(codepoint);
  if (codepoint < 0x800) {
    return String.fromCharCode(0xc0 | (codepoint >> 6), 0x80 | (codepoint & 0x3f));
  }
  if (codepoint < 0x10000) {
    return String.fromCharCode(
      0xe0 | (codepoint >> 12),
      0x80 | ((codepoint >> 6) & 0x3f),
      0x80 | (codepoint & 0x3f),
    );
  }
  return String.fromCharCode(
    0xf0 | (codepoint >> 18),
    0x80 | ((codepoint >> 12) & 0x3f),
    0x80 | ((codepoint >> 6) & 0x3f),
    0x80 | (codepoint & 0x3f),
  );
}

function hex4(text: string, at: number): number {
  const digits = text.slice(at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(digits) ? parseInt(digits, 16) : -1;
}

/** A recursive-descent JSON reader pushing Lua values (lua-cjson's json_decode). */
class Decoder {
  pos = 0;
  depth = 0;
  token: Token = "T_END";
  tokenIndex = 0;
  /** The value of a T_STRING / T_NUMBER / T_BOOLEAN token, or a T_ERROR's text. */
  tokenText = "";
  tokenNumber = 0;
  readonly end: number;

  constructor(readonly vm: LuaVm, readonly L: number, readonly json: string) {
    const nul = json.indexOf("\0");
    this.end = nul < 0 ? json.length : nul; // C reads up to the NUL
  }

  /** Whether the current token is `token` (a method: TS would narrow a field across next()). */
  is(token: Token): boolean {
    return this.token === token;
  }

  next(): void {
    const s = this.json;
    while (this.pos < this.end) {
      const c = s.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.pos++;
    }
    this.tokenIndex = this.pos;
    if (this.pos >= this.end) {
      this.token = "T_END";
      return;
    }
    const ch = s[this.pos];
    const single = SINGLE[ch];
    if (single !== undefined) {
      this.token = single;
      this.pos++;
      return;
    }
    if (ch === '"') return this.string();
    if (ch === "-" || ch === "+" || (ch >= "0" && ch <= "9")) return this.number();
    const rest = s.slice(this.pos, Math.min(this.end, this.pos + 5));
    if (rest.startsWith("true") || rest.startsWith("false")) {
      this.token = "T_BOOLEAN";
      this.tokenNumber = rest.startsWith("true") ? 1 : 0;
      this.pos += rest.startsWith("true") ? 4 : 5;
      return;
    }
    if (rest.startsWith("null")) {
      this.token = "T_NULL";
      this.pos += 4;
      return;
    }
    if (/^(inf|nan)/i.test(rest)) return this.number();
    this.error("invalid token");
  }

  error(text: string): void {
    this.token = "T_ERROR";
    this.tokenIndex = this.pos;
    this.tokenText = text;
  }

  number(): void {
    const match = STRTOD.exec(this.json.slice(this.pos, Math.min(this.end, this.pos + 400)));
    if (match === null) return this.error("invalid number");
    const text = match[0];
    const body = text.replace(/^[+-]/, "");
    const negative = text.startsWith("-");
    let value: number;
    if (/^0x/i.test(body)) value = parseInt(body.slice(2).split(".")[0] || "0", 16);
    else if (/^inf/i.test(body)) value = Infinity;
    else if (/^nan/i.test(body)) value = NaN;
    else value = Number(body);
    this.token = "T_NUMBER";
    this.tokenNumber = negative ? -value : value;
    this.pos += text.length;
  }

  string(): void {
    const s = this.json;
    this.pos++;
    let out = "";
    let from = this.pos;
    while (true) {
      if (this.pos >= this.end) return this.error("unexpected end of string");
      const ch = s[this.pos];
      if (ch === '"') break;
      if (ch !== "\\") {
        this.pos++;
        continue;
      }
      out += s.slice(from, this.pos);
      const code = s[this.pos + 1];
      if (code === "u") {
        const decoded = this.unicodeEscape();
        if (decoded === undefined) return this.error("invalid unicode escape code");
        out += decoded;
      } else {
        const plain = this.pos + 1 < this.end ? UNESCAPE[code] : undefined;
        if (plain === undefined) return this.error("invalid escape code");
        out += plain;
        this.pos += 2;
      }
      from = this.pos;
    }
    out += s.slice(from, this.pos);
    this.pos++;
    this.token = "T_STRING";
    this.tokenText = out;
  }

  /** A \uXXXX escape (or a surrogate pair of them) at pos, as UTF-8; advances past it. */
  unicodeEscape(): string | undefined {
    const s = this.json.slice(0, this.end);
    let codepoint = hex4(s, this.pos + 2);
    if (codepoint < 0) return undefined;
    let length = 6;
    if ((codepoint & 0xf800) === 0xd800) {
      if (codepoint & 0x400) return undefined;
      if (s[this.pos + 6] !== "\\" || s[this.pos + 7] !== "u") return undefined;
      const low = hex4(s, this.pos + 8);
      if (low < 0 || (low & 0xfc00) !== 0xdc00) return undefined;
      codepoint = (((codepoint & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
      length = 12;
    }
    this.pos += length;
    return utf8(codepoint);
  }

  fail(expected: string): never {
    const found = this.is("T_ERROR") ? this.tokenText : this.token;
    return luaError(
      this.vm,
      this.L,
      `Expected ${expected} but found ${found} at character ${this.tokenIndex + 1}`,
    );
  }

  descend(slots: number): void {
    this.depth++;
    if (this.depth <= CJSON_MAX_DEPTH && this.vm.C._lua_checkstack(this.L, slots) !== 0) return;
    luaError(
      this.vm,
      this.L,
      `Found too many nested data structures (${this.depth}) at character ${this.pos}`,
    );
  }

  /** Pushes the value the current token starts. */
  value(): void {
    const { vm, L } = this;
    const C = vm.C;
    switch (this.token) {
      case "T_STRING":
        return vm.pushString(L, this.tokenText);
      case "T_NUMBER":
        return pushNumber(vm, L, this.tokenNumber);
      case "T_BOOLEAN":
        return C._lua_pushboolean(L, this.tokenNumber);
      case "T_NULL":
        return C._lua_pushlightuserdata(L, 0);
      case "T_OBJ_BEGIN":
        return this.object();
      case "T_ARR_BEGIN":
        return this.array();
      default:
        this.fail("value");
    }
  }

  object(): void {
    const C = this.vm.C;
    const L = this.L;
    this.descend(3);
    C._lua_createtable(L, 0, 0);
    this.next();
    if (this.is("T_OBJ_END")) {
      this.depth--;
      return;
    }
    while (true) {
      if (!this.is("T_STRING")) this.fail("object key string");
      this.vm.pushString(L, this.tokenText);
      this.next();
      if (!this.is("T_COLON")) this.fail("colon");
      this.next();
      this.value();
      C._lua_rawset(L, -3);
      this.next();
      if (this.is("T_OBJ_END")) {
        this.depth--;
        return;
      }
      if (!this.is("T_COMMA")) this.fail("comma or object end");
      this.next();
    }
  }

  array(): void {
    const C = this.vm.C;
    const L = this.L;
    this.descend(2);
    C._lua_createtable(L, 0, 0);
    this.next();
    if (this.is("T_ARR_END")) {
      this.depth--;
      return;
    }
    for (let i = 1;; i++) {
      this.value();
      C._lua_rawseti(L, -2, BigInt(i));
      this.next();
      if (this.is("T_ARR_END")) {
        this.depth--;
        return;
      }
      if (!this.is("T_COMMA")) this.fail("comma or array end");
      this.next();
    }
  }
}

/** Sets the global `cjson` table in `vm`'s state (before the sandbox closes the globals). */
export function installCjson(vm: LuaVm): void {
  const { C, L } = vm;
  C._lua_createtable(L, 0, 8);
  vm.setFunction(L, "encode", (l) => {
    if (C._lua_gettop(l) !== 1) argError(vm, l, 1, "expected 1 argument");
    const json = new Encoder(vm, l).value(1, 0);
    vm.pushString(l, json);
    return 1;
  });
  vm.setFunction(L, "decode", (l) => {
    if (C._lua_gettop(l) !== 1) argError(vm, l, 1, "expected 1 argument");
    const json = checkString(vm, l, 1);
    if (json.length >= 2 && (json.charCodeAt(0) === 0 || json.charCodeAt(1) === 0)) {
      luaError(vm, l, "JSON parser does not support UTF-16 or UTF-32");
    }
    const decoder = new Decoder(vm, l, json);
    decoder.next();
    decoder.value();
    decoder.next();
    if (decoder.token !== "T_END") decoder.fail("the end");
    return 1;
  });
  C._lua_pushlightuserdata(L, 0);
  C._lua_setfield(L, -2, vm.name("null"));
  vm.pushString(L, "cjson");
  C._lua_setfield(L, -2, vm.name("_NAME"));
  vm.pushString(L, "2.1.0");
  C._lua_setfield(L, -2, vm.name("_VERSION"));
  C._lua_setglobal(L, vm.name("cjson"));
}
