/**
 * One Lua 5.4 state (wasmoon's WebAssembly build, driven through its raw C
 * exports): binary-safe strings in both directions (bytes copied through
 * the wasm heap as latin1 binary strings, never through UTF-8), a bounded
 * allocator, and JS functions callable from Lua.
 *
 * The high-level wasmoon API is not used: it converts strings as UTF-8
 * (losing bytes and stopping at NUL) and costs ~5× more per call.
 *
 * @example
 * ```ts
 * const vm = LuaVm.create(64 * 1024 * 1024);
 * vm.run("return 1 + 1"); // loads and calls a chunk
 * ```
 * @module
 */

import { assert } from "../_assert.ts";
import { bytesToBinary } from "../bytes/binary_string.ts";
import { copyBytes } from "../bytes/copy_bytes.ts";
import { type WasmAllocator, wasmAllocator } from "./_wasm_alloc.ts";

/** The raw exports of wasmoon's Emscripten module that kvdb uses. */
export interface LuaC {
  HEAPU8: Uint8Array;
  HEAPU32: Uint32Array;
  HEAP32: Int32Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  _realloc(pointer: number, bytes: number): number;
  addFunction(fn: (...args: number[]) => number | void, signature: string): number;
  _lua_newstate(alloc: number, ud: number): number;
  _luaL_openlibs(L: number): void;
  _luaL_loadbufferx(L: number, buf: number, len: number, name: number, mode: number): number;
  _lua_pcallk(
    L: number,
    nargs: number,
    nresults: number,
    errfunc: number,
    ctx: number,
    k: number,
  ): number;
  _lua_gettop(L: number): number;
  _lua_settop(L: number, index: number): void;
  _lua_type(L: number, index: number): number;
  _lua_tolstring(L: number, index: number, lenPointer: number): number;
  _lua_tonumberx(L: number, index: number, isnum: number): number;
  _lua_tointegerx(L: number, index: number, isnum: number): bigint;
  _lua_isinteger(L: number, index: number): number;
  _lua_toboolean(L: number, index: number): number;
  _lua_pushlstring(L: number, pointer: number, len: number): number;
  _lua_pushinteger(L: number, value: bigint): void;
  _lua_pushnumber(L: number, value: number): void;
  _lua_pushboolean(L: number, value: number): void;
  _lua_pushnil(L: number): void;
  _lua_pushvalue(L: number, index: number): void;
  _lua_pushcclosure(L: number, fn: number, upvalues: number): void;
  _lua_createtable(L: number, narr: number, nrec: number): void;
  _lua_rawseti(L: number, index: number, n: bigint): void;
  _lua_rawgeti(L: number, index: number, n: bigint): number;
  _lua_rawset(L: number, index: number): void;
  _lua_rawget(L: number, index: number): number;
  _lua_getmetatable(L: number, index: number): number;
  _lua_setmetatable(L: number, index: number): number;
  _lua_topointer(L: number, index: number): number;
  _lua_getfield(L: number, index: number, name: number): number;
  _lua_setfield(L: number, index: number, name: number): void;
  _lua_getglobal(L: number, name: number): number;
  _lua_setglobal(L: number, name: number): void;
  _lua_rawlen(L: number, index: number): bigint;
  _lua_next(L: number, index: number): number;
  _lua_error(L: number): number;
  _lua_checkstack(L: number, n: number): number;
  _luaL_ref(L: number, table: number): number;
  _luaL_unref(L: number, table: number, ref: number): void;
  _lua_sethook(L: number, fn: number, mask: number, count: number): void;
  _lua_newthread(L: number): number;
  _lua_resume(L: number, from: number, nargs: number, nresultsPointer: number): number;
  _lua_yieldk(L: number, nresults: number, ctx: number, k: number): number;
  _lua_isyieldable(L: number): number;
  _lua_resetthread(L: number): number;
  _lua_xmove(from: number, to: number, n: number): void;
  _luaL_where(L: number, level: number): void;
  _luaL_argerror(L: number, arg: number, message: number): number;
  _luaL_checkany(L: number, arg: number): void;
  _luaL_tolstring(L: number, index: number, lenPointer: number): number;
  _luaL_callmeta(L: number, index: number, event: number): number;
  _lua_callk(L: number, nargs: number, nresults: number, ctx: number, k: number): void;
  _lua_pushlightuserdata(L: number, pointer: number): void;
  _lua_touserdata(L: number, index: number): number;
  _lua_absindex(L: number, index: number): number;
  _lua_rotate(L: number, index: number, n: number): void;
  _lua_setupvalue(L: number, funcindex: number, n: number): number;
}

/** lua_type past the top of the stack. */
export const LUA_TNONE = -1;
/** Lua's type tags (lua.h). */
export const LUA_TNIL = 0;
export const LUA_TBOOLEAN = 1;
export const LUA_TLIGHTUSERDATA = 2;
export const LUA_TNUMBER = 3;
export const LUA_TSTRING = 4;
export const LUA_TTABLE = 5;
export const LUA_TFUNCTION = 6;
/** The registry pseudo-index of Lua 5.4 built with 32-bit ints (-LUAI_MAXSTACK - 1000). */
export const LUA_REGISTRYINDEX = -1001000;
/** lua_sethook's count event. */
export const LUA_MASKCOUNT = 8;
/** lua_resume's status for a coroutine that yielded. */
export const LUA_YIELD = 1;
/** The status of a runtime error (a memory error is 4, an error in error handling 5). */
export const LUA_ERRRUN = 2;

/**
 * The C functions, once loaded: the wasm instance's own exports, captured
 * while wasmoon instantiates it: wasmoon's `Module._lua_*` are assertion
 * wrappers (a megamorphic lookup and an `apply` per call, ~10% of the CPU
 * of a small EVALSHA). Everything else (the heap views, addFunction) is
 * the module's.
 *
 * Loaded on first use ({@link loadLua}), not when the server starts: a
 * server without scripts never needs it (issue 20). Idle VmRSS 3 s after
 * start with an empty config, 3 runs each: 84.6-85.0 -> 80.3-81.1 MB.
 * Compiling the wasm costs ~36 ms, paid by the first scripting command.
 */
let C = undefined as unknown as LuaC;
let loaded = false;
let loading: Promise<void> | undefined;

/** Whether the Lua VM is loaded ({@link LuaVm.create} may be called). */
export function luaLoaded(): boolean {
  return loaded;
}

/**
 * Loads the Lua VM (once per process; concurrent callers share the load,
 * a failed load is tried again by the next caller).
 *
 * @example
 * ```ts
 * if (!luaLoaded()) await loadLua();
 * const vm = LuaVm.create(64 * 1024 * 1024);
 * ```
 */
export function loadLua(): Promise<void> {
  loading ??= loadLuaC().then(
    (c) => {
      C = c;
      loaded = true;
    },
    (e) => {
      loading = undefined;
      throw e;
    },
  );
  return loading;
}

async function loadLuaC(): Promise<LuaC> {
  // The package's JavaScript too is loaded only now.
  const { LuaFactory } = await import("wasmoon");
  let exports: WebAssembly.Exports | undefined;
  const keep = (result: WebAssembly.Instance | WebAssembly.WebAssemblyInstantiatedSource) => {
    exports = (result instanceof WebAssembly.Instance ? result : result.instance).exports;
    return result;
  };
  const { instantiate, instantiateStreaming } = WebAssembly;
  // Only Lua's module (the one importing invoke_vii) is taken: the server
  // serves while it loads.
  // deno-lint-ignore no-explicit-any
  const isLua = (args: any[]) => typeof args[1]?.env?.invoke_vii === "function";
  // deno-lint-ignore no-explicit-any
  const wasm = WebAssembly as any;
  // deno-lint-ignore no-explicit-any
  wasm.instantiate = (...args: any[]) => {
    if (!isLua(args)) return instantiate.apply(WebAssembly, args as never);
    return instantiate.apply(WebAssembly, fastInvoke(args, () => exports) as never).then(keep);
  };
  // deno-lint-ignore no-explicit-any
  wasm.instantiateStreaming = (...args: any[]) => {
    if (!isLua(args)) return instantiateStreaming.apply(WebAssembly, args as never);
    return instantiateStreaming.apply(WebAssembly, fastInvoke(args, () => exports) as never)
      .then(keep);
  };
  let module: Record<string, unknown>;
  try {
    module = (await new LuaFactory().getLuaModule()).module as unknown as Record<string, unknown>;
  } finally {
    wasm.instantiate = instantiate;
    wasm.instantiateStreaming = instantiateStreaming;
  }
  const c = Object.create(module) as Record<string, unknown>;
  for (const name of Object.keys(module)) {
    if (!/^_(lua|luaL|malloc|free|realloc)/.test(name)) continue;
    const raw = exports?.[name.slice(1)];
    if (typeof raw === "function") c[name] = raw;
  }
  return c as unknown as LuaC;
}

/** Integers {@link luaIndex} keeps as bigints (table indices, registry references). */
const CACHED_INDICES = 1024;
const indices: bigint[] = [];

/**
 * `n` as the bigint a `lua_Integer` parameter takes (lua_rawgeti, lua_rawseti),
 * without allocating one per call for the small ones. `BigInt(n)` allocated
 * ~6 bigints per EVALSHA (registry references, KEYS/ARGV indices).
 *
 * @example
 * ```ts
 * C._lua_rawgeti(L, LUA_REGISTRYINDEX, luaIndex(ref));
 * ```
 */
export function luaIndex(n: number): bigint {
  if (n < 0 || n >= CACHED_INDICES) return BigInt(n);
  let big = indices[n];
  if (big === undefined) {
    while (indices.length <= n) indices.push(BigInt(indices.length));
    big = indices[n];
  }
  return big;
}

/**
 * Replaces the module's `invoke_vii` import (Lua's setjmp: every
 * lua_resume, lua_pcall and xpcall calls out through it) with one on the
 * raw exports. Emscripten's goes through its assertion wrappers of
 * stackSave/stackRestore and a checked table lookup (two Table.get): ~7% of
 * an in-process EVALSHA's CPU profile. Same semantics: a longjmp is a
 * thrown number (`_emscripten_throw_longjmp`), turned into setThrew(1, 0);
 * anything else propagates after the stack pointer is restored.
 */
// deno-lint-ignore no-explicit-any
function fastInvoke(args: any[], exports: () => WebAssembly.Exports | undefined): any[] {
  const env = args[1]?.env;
  if (env === undefined || typeof env.invoke_vii !== "function") return args;
  let table: WebAssembly.Table | undefined;
  let stackSave: () => number;
  let stackRestore: (sp: number) => void;
  let setThrew: (threw: number, value: number) => void;
  /** The functions found at table indices (a Table.get per call cost ~0.5% of an EVALSHA). */
  const targets: ((a1: number, a2: number) => void)[] = [];
  env.invoke_vii = (index: number, a1: number, a2: number): void => {
    if (table === undefined) {
      const e = exports()!;
      table = e.__indirect_function_table as WebAssembly.Table;
      stackSave = e.stackSave as typeof stackSave;
      stackRestore = e.stackRestore as typeof stackRestore;
      setThrew = e.setThrew as typeof setThrew;
    }
    const sp = stackSave();
    try {
      // The targets are the C library's own functions (resume, f_call...):
      // kvdb never removes a table entry, so one found stays valid.
      let target = targets[index];
      if (target === undefined) {
        target = targets[index] = table.get(index) as (a1: number, a2: number) => void;
      }
      target(a1, a2);
    } catch (error) {
      stackRestore(sp);
      if (error !== (error as number) + 0) throw error;
      setThrew(1, 0);
    }
  };
  return args;
}

/** Bytes of the scratch area strings cross the wasm boundary through, grown on demand. */
const SCRATCH_INITIAL_BYTES = 64 * 1024;

/** Slots of {@link LuaVm.toStringRepeated}'s cache (a power of two), and the longest string it keeps. */
const REPEATED_SLOTS = 256;
const REPEATED_MAX_BYTES = 32;

/** A JS function Lua calls: takes the state, leaves results on its stack, returns their count. */
export type LuaJsFunction = (L: number) => number;

/**
 * A Lua state with a memory limit. Not thread-safe (nothing here is).
 */
export class LuaVm {
  readonly C: LuaC = C;
  readonly L: number;
  readonly #allocator: WasmAllocator;
  /** The most Lua may hold (bytes). */
  readonly memoryLimitBytes: number;

  /** Bytes Lua holds now. */
  get memoryUsedBytes(): number {
    return this.#allocator.usedBytes();
  }
  #scratch: number;
  #scratchBytes = SCRATCH_INITIAL_BYTES;
  readonly #lenPointer: number;
  readonly #names = new Map<string, number>();
  /**
   * The module's heap views, kept here: `C.HEAPU8` is a lookup in the
   * module object, a dictionary-mode prototype: a read in a loop 9.4 ns,
   * 3.4 ns from here (~7 reads per EVALSHA; toStringRepeated of 16 bytes
   * 40-46 -> 29 ns). A grown memory detaches the old views (length 0):
   * they are taken again then.
   */
  #u8: Uint8Array = new Uint8Array(0);
  #u32: Uint32Array = new Uint32Array(0);
  #i32: Int32Array = new Int32Array(0);
  /** {@link toStringRepeated}'s cache: a string's address and the JS string made of it. */
  readonly #repeatedAt = new Int32Array(REPEATED_SLOTS);
  readonly #repeatedText: string[] = new Array(REPEATED_SLOTS).fill("");

  private constructor(memoryLimitBytes: number) {
    assert(loaded, "the Lua VM is not loaded yet (loadLua)");
    this.memoryLimitBytes = memoryLimitBytes;
    // The allocator is wasm (_wasm_alloc.ts): no JS call per allocation.
    this.#allocator = wasmAllocator(C._realloc, C._free, memoryLimitBytes);
    const alloc = C.addFunction(this.#allocator.fn, "iiiii");
    this.L = C._lua_newstate(alloc, 0);
    assert(this.L !== 0, "lua_newstate failed");
    C._luaL_openlibs(this.L);
    this.#scratch = C._malloc(this.#scratchBytes);
    this.#lenPointer = C._malloc(8);
  }

  /** A new state bounded to `memoryLimitBytes` of Lua allocations ({@link loadLua} first). */
  static create(memoryLimitBytes: number): LuaVm {
    return new LuaVm(memoryLimitBytes);
  }

  /** The wasm heap's bytes (read again after anything that may allocate). */
  get heapU8(): Uint8Array {
    return this.#u8.length !== 0 ? this.#u8 : this.#views().u8;
  }

  /** The wasm heap as unsigned 32-bit words. */
  get heapU32(): Uint32Array {
    return this.#u32.length !== 0 ? this.#u32 : this.#views().u32;
  }

  /** The wasm heap as signed 32-bit words. */
  get heap32(): Int32Array {
    return this.#i32.length !== 0 ? this.#i32 : this.#views().i32;
  }

  #views(): { u8: Uint8Array; u32: Uint32Array; i32: Int32Array } {
    this.#u8 = C.HEAPU8;
    this.#u32 = C.HEAPU32;
    this.#i32 = C.HEAP32;
    return { u8: this.#u8, u32: this.#u32, i32: this.#i32 };
  }

  /** A NUL-terminated C string for a fixed ASCII name, allocated once. */
  name(text: string): number {
    let pointer = this.#names.get(text);
    if (pointer === undefined) {
      pointer = C._malloc(text.length + 1);
      for (let i = 0; i < text.length; i++) C.HEAPU8[pointer + i] = text.charCodeAt(i);
      C.HEAPU8[pointer + text.length] = 0;
      this.#names.set(text, pointer);
    }
    return pointer;
  }

  /** The scratch area, with room for `length` bytes and a NUL; its address. */
  #scratchFor(length: number): number {
    if (length + 1 > this.#scratchBytes) {
      C._free(this.#scratch);
      this.#scratchBytes = Math.max(length + 1, this.#scratchBytes * 2);
      this.#scratch = C._malloc(this.#scratchBytes);
      assert(this.#scratch !== 0, "out of wasm memory for a string");
    }
    return this.#scratch;
  }

  /** Copies a binary string into the scratch area; returns its address. */
  #copyIn(text: string): number {
    const length = text.length;
    const at = this.#scratchFor(length);
    const heap = this.heapU8; // read after malloc: growth replaces the view
    for (let i = 0; i < length; i++) heap[at + i] = text.charCodeAt(i);
    heap[at + length] = 0;
    return at;
  }

  /** Pushes a binary string (one char per byte). */
  pushString(L: number, text: string): void {
    const at = this.#copyIn(text);
    C._lua_pushlstring(L, at, text.length);
  }

  /** Pushes `bytes[0, length)` as a string. */
  pushBytes(L: number, bytes: Uint8Array, length: number): void {
    const at = this.#scratchFor(length);
    const heap = this.heapU8; // read after malloc: growth replaces the view
    copyBytes(bytes, 0, length, heap, at);
    heap[at + length] = 0;
    C._lua_pushlstring(L, at, length);
  }

  /** The string (or number, converted) at `index` as a binary string. */
  toString(L: number, index: number): string | undefined {
    const at = C._lua_tolstring(L, index, this.#lenPointer);
    if (at === 0) return undefined;
    const length = this.heapU32[this.#lenPointer >> 2];
    return bytesToBinary(this.heapU8, at, at + length);
  }

  /**
   * {@link toString} for a string a script passes again and again (a
   * command name): the same JS string as last time when the bytes at the
   * same address are the same (checked: an address is reused once Lua
   * frees a string), so no new string is made and a Map lookup by it finds
   * its hash already computed. `redis.call`'s command name by toString and
   * a Map lookup cost ~170 ns (CPU profile of an in-process EVALSHA).
   */
  toStringRepeated(L: number, index: number): string | undefined {
    const at = C._lua_tolstring(L, index, this.#lenPointer);
    if (at === 0) return undefined;
    const length = this.heapU32[this.#lenPointer >> 2];
    const heap = this.heapU8;
    if (length > REPEATED_MAX_BYTES) return bytesToBinary(heap, at, at + length);
    const slot = (at >>> 3) & (REPEATED_SLOTS - 1);
    const cached = this.#repeatedText[slot];
    if (this.#repeatedAt[slot] === at && cached.length === length) {
      let i = 0;
      while (i < length && heap[at + i] === cached.charCodeAt(i)) i++;
      if (i === length) return cached;
    }
    const text = bytesToBinary(heap, at, at + length);
    this.#repeatedAt[slot] = at;
    this.#repeatedText[slot] = text;
    return text;
  }

  /**
   * The address in {@link LuaC.HEAPU8} of the string (or number, converted)
   * at `index`, its length in {@link stringLength}; 0 if it is neither. For
   * a reply written straight from the wasm heap (no JS string made).
   */
  stringAt(L: number, index: number): number {
    const at = C._lua_tolstring(L, index, this.#lenPointer);
    this.stringLength = at === 0 ? 0 : this.heapU32[this.#lenPointer >> 2];
    return at;
  }

  /** Bytes of the string {@link stringAt} last found. */
  stringLength = 0;

  /** A 4-byte scratch cell in the wasm heap (lua_tonumberx's `isnum`). */
  scratchInt(): number {
    return this.#lenPointer;
  }

  /** Registers `fn` as a C function under `name` in the table on top of the stack. */
  setFunction(L: number, name: string, fn: LuaJsFunction): void {
    const pointer = C.addFunction(fn, "ii");
    C._lua_pushcclosure(L, pointer, 0);
    C._lua_setfield(L, -2, this.name(name));
  }

  /** Raises a Lua error with message `text` from inside a JS function (does not return). */
  raise(L: number, text: string): number {
    this.pushString(L, text);
    return C._lua_error(L);
  }

  /**
   * Loads `source` as a chunk named `chunkName`; on success the function is
   * on top of the stack and undefined is returned, else the error message.
   */
  load(L: number, source: string, chunkName: string): string | undefined {
    const at = this.#copyIn(source);
    const status = C._luaL_loadbufferx(L, at, source.length, this.name(chunkName), this.name("t"));
    if (status === 0) return undefined;
    const message = this.toString(L, -1) ?? "unknown error";
    C._lua_settop(L, -2);
    return message;
  }

  /** Runs a trusted chunk (kvdb's own prelude); throws on error. */
  run(source: string): void {
    const L = this.L;
    const failed = this.load(L, source, "=kvdb");
    if (failed !== undefined) throw new Error(failed);
    if (C._lua_pcallk(L, 0, 0, 0, 0, 0) !== 0) {
      const message = this.toString(L, -1);
      C._lua_settop(L, -2);
      throw new Error(message);
    }
  }
}
