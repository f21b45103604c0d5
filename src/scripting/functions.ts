/**
 * Redis 7 functions on one server: the libraries compiled in the script
 * engine's Lua state, kept in step with the durable library code in
 * `store.functions` (logged as WalOp 60–62, snapshotted, replicated). A
 * change made here is logged and applied to `store.functions`; a change
 * that arrives there otherwise (replay, a replica's stream, a snapshot, a
 * reload) is seen by its version and the libraries are compiled again.
 *
 * @example
 * ```ts
 * const registry = functionRegistry(ctx.store);
 * registry.load(ctx.store, "#!lua name=lib\nredis.register_function('f', function() return 1 end)", false);
 * registry.find(ctx.store, "f"); // { name: "f", library: "lib", ... }
 * ```
 * @module
 */

import { CommandError } from "../protocol/reply_writer.ts";
import type { Store } from "../storage/store.ts";
import { WalOp } from "../wal/record.ts";
import { type Registration, type ScriptEngine, scriptEngine } from "./script_engine.ts";
import { binaryToBytes, bytesToBinary } from "../bytes/binary_string.ts";
import { ByteWriter } from "../keyspace/rdb/byte_writer.ts";
import { RdbReader, writeRdbString } from "../keyspace/rdb/rdb_string.ts";
import { crc64 } from "../bytes/crc64.ts";
import { DUMP_RDB_VERSION } from "../keyspace/dump_payload.ts";
import { scriptFlagBits } from "./script_flags.ts";
import { LUA_REGISTRYINDEX } from "./lua_vm.ts";

/** Libraries a server holds (FUNCTION LOAD beyond it is refused). */
export const MAX_FUNCTION_LIBRARIES = 10_000;
/** RDB's opcode of a function library in a FUNCTION DUMP payload (RDB_OPCODE_FUNCTION2). */
const RDB_OPCODE_FUNCTION2 = 245;

function err(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/** A function as FCALL finds it. */
export interface LoadedFunction extends Registration {
  library: string;
  /** Its flags as `SCRIPT_FLAGS` bits (script_flags.ts). */
  flagBits: number;
}

/** A compiled library. */
export interface Library {
  name: string;
  /** The code as loaded, `#!lua` line included (FUNCTION LIST WITHCODE, DUMP, the log). */
  code: string;
  functions: LoadedFunction[];
}

/** `#!lua name=<name>` and the code after that line (Redis's functionExtractLibMetaData). */
export function parseLibraryHeader(code: string): { name: string; body: string } {
  if (!code.startsWith("#!")) throw err("Missing library metadata");
  const end = code.indexOf("\n");
  const line = end < 0 ? code : code.slice(0, end);
  const parts = line.slice(2).split(" ").filter((p) => p !== "");
  const engine = parts.shift() ?? "";
  let name: string | undefined;
  for (const part of parts) {
    if (!part.startsWith("name=")) throw err(`Invalid metadata value given: ${part}`);
    name = part.slice(5);
  }
  if (name === undefined) throw err("Library name was not given");
  if (engine.toUpperCase() !== "LUA") throw err(`Engine '${engine}' not found`);
  if (!/^[A-Za-z0-9_]+$/.test(name)) {
    throw err(
      "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
    );
  }
  // The body keeps the newline: its line numbers are the code's.
  return { name, body: end < 0 ? "" : code.slice(end) };
}

/** One server's functions (see the module doc). */
export class FunctionRegistry {
  readonly #libraries = new Map<string, Library>();
  readonly #functions = new Map<string, LoadedFunction>();
  /** The `store.functions` version compiled here (-1: never). */
  #version = -1;

  constructor(readonly engine: ScriptEngine) {}

  /** Compiles the store's libraries again if they changed behind this registry's back. */
  sync(store: Store): void {
    const libraries = store.functions;
    if (libraries.version === this.#version) return;
    for (const library of this.#libraries.values()) this.#drop(library);
    for (const [name, code] of libraries.entries()) {
      try {
        this.#install(this.#compileLogged(name, code));
      } catch (e) {
        // Logged code compiled when it was loaded: this is a bug, never silent.
        console.error(`function library ${name} from the log does not load: ${e}`);
      }
    }
    this.#version = libraries.version;
  }

  /**
   * {@link compile} of code from the log, a snapshot or a master. A library
   * an older kvdb loaded although its code read globals Redis does not
   * offer while loading (`string`, `pcall`, `rawset` ...) compiles again
   * with them, and a warning: refused now, a library the log holds would
   * be gone. FUNCTION LOAD and RESTORE refuse such code, as Redis does.
   */
  #compileLogged(name: string, code: string): Library {
    try {
      return this.compile(code);
    } catch (strict) {
      this.#lenient(true);
      try {
        const library = this.compile(code);
        console.warn(
          `function library ${name} from the log reads globals Redis refuses while loading ` +
            `(${strict}); loaded with them, as before`,
        );
        return library;
      } catch {
        throw strict;
      } finally {
        this.#lenient(false);
      }
    }
  }

  /** Lets a library's code read the scripts' globals while it loads (prelude: __kvdb_function_lenient). */
  #lenient(on: boolean): void {
    const { vm } = this.engine;
    const { C, L } = vm;
    C._lua_getfield(L, LUA_REGISTRYINDEX, vm.name("__kvdb_function_lenient"));
    C._lua_pushboolean(L, on ? 1 : 0);
    if (C._lua_pcallk(L, 1, 0, 0, 0, 0) !== 0) C._lua_settop(L, -2);
  }

  /** Compiles `code` into a library (not installed). Throws Redis's errors. */
  compile(code: string): Library {
    const { name, body } = parseLibraryHeader(code);
    const registrations = this.engine.loadLibrary(body);
    if (registrations.length === 0) throw err("No functions registered");
    return {
      name,
      code,
      functions: registrations.map((r) => ({
        ...r,
        library: name,
        flagBits: scriptFlagBits(r.flags),
      })),
    };
  }

  /** FUNCTION LOAD [REPLACE]: compiles, checks, logs and installs; returns the library's name. */
  load(store: Store, code: string, replace: boolean): string {
    this.sync(store);
    const library = this.compile(code);
    try {
      this.#checkInstallable(library, replace);
    } catch (e) {
      this.#drop(library);
      throw e;
    }
    const old = this.#libraries.get(library.name);
    if (old !== undefined) this.#drop(old);
    this.#install(library);
    this.#log(store, WalOp.FunctionLoad, library.name, code);
    return library.name;
  }

  #checkInstallable(library: Library, replace: boolean): void {
    const existing = this.#libraries.get(library.name);
    if (existing !== undefined && !replace) throw err(`Library '${library.name}' already exists`);
    if (existing === undefined && this.#libraries.size >= MAX_FUNCTION_LIBRARIES) {
      throw err(`too many function libraries (${MAX_FUNCTION_LIBRARIES}): FUNCTION DELETE some`);
    }
    for (const f of library.functions) {
      const other = this.#functions.get(f.name);
      if (other !== undefined && other.library !== library.name) {
        throw err(`Function ${f.name} already exists`);
      }
    }
  }

  /** FUNCTION DELETE. */
  delete(store: Store, name: string): void {
    this.sync(store);
    const library = this.#libraries.get(name);
    if (library === undefined) throw err("Library not found");
    this.#drop(library);
    this.#log(store, WalOp.FunctionDelete, name, "");
  }

  /** FUNCTION FLUSH. */
  flush(store: Store): void {
    this.sync(store);
    for (const library of this.#libraries.values()) this.#drop(library);
    this.#log(store, WalOp.FunctionFlush, "", "");
  }

  /** The function FCALL names, or undefined. */
  find(store: Store, name: string): LoadedFunction | undefined {
    this.sync(store);
    return this.#functions.get(name);
  }

  /** How many libraries and functions are compiled (as of the last sync). */
  counts(): { libraries: number; functions: number } {
    return { libraries: this.#libraries.size, functions: this.#functions.size };
  }

  /** The libraries, in load order. */
  libraries(store: Store): Library[] {
    this.sync(store);
    return [...this.#libraries.values()];
  }

  /** FUNCTION DUMP: Redis's payload (an RDB function opcode and string per library, then the trailer). */
  dump(store: Store): string {
    const out = new ByteWriter();
    for (const library of this.libraries(store)) {
      out.u8(RDB_OPCODE_FUNCTION2);
      writeRdbString(out, library.code);
    }
    out.u8(DUMP_RDB_VERSION & 0xff).u8(DUMP_RDB_VERSION >> 8);
    const body = out.finish();
    const crc = crc64(body);
    const trailer = new ByteWriter().intLE(crc, 8).finish();
    return bytesToBinary(body) + bytesToBinary(trailer);
  }

  /** FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]. */
  restore(store: Store, payload: string, policy: "FLUSH" | "APPEND" | "REPLACE"): void {
    const bytes = binaryToBytes(payload);
    const n = bytes.length;
    const wrong = "DUMP payload version or checksum are wrong";
    if (n < 10) throw err(wrong);
    const version = bytes[n - 10] | (bytes[n - 9] << 8);
    let stored = 0n;
    for (let i = 7; i >= 0; i--) stored = (stored << 8n) | BigInt(bytes[n - 8 + i]);
    if (version > DUMP_RDB_VERSION || crc64(bytes, 0n, 0, n - 8) !== stored) throw err(wrong);
    const reader = new RdbReader(bytes.subarray(0, n - 10));
    const codes: string[] = [];
    while (!reader.done) {
      if (reader.byte() !== RDB_OPCODE_FUNCTION2) throw err("given type is not a function");
      const code = reader.string();
      if (code === undefined) throw err("Failed loading library");
      codes.push(code);
    }
    this.sync(store);
    // All compiled and checked before anything changes.
    const libraries: Library[] = [];
    try {
      for (const code of codes) libraries.push(this.compile(code));
      const names = new Set<string>();
      const functionNames = new Set<string>();
      for (const library of libraries) {
        if (names.has(library.name)) throw err(`Library '${library.name}' already exists`);
        names.add(library.name);
        for (const f of library.functions) {
          if (functionNames.has(f.name)) throw err(`Function ${f.name} already exists`);
          functionNames.add(f.name);
        }
        if (policy === "FLUSH") continue;
        const existing = this.#libraries.get(library.name);
        if (existing !== undefined && policy === "APPEND") {
          throw err(`Library ${library.name} already exists`);
        }
        for (const f of library.functions) {
          const other = this.#functions.get(f.name);
          if (other !== undefined && other.library !== library.name) {
            throw err(`Function ${f.name} already exists`);
          }
        }
      }
    } catch (e) {
      for (const library of libraries) this.#drop(library);
      throw e;
    }
    // One group in the log: a crash keeps all of the restore or none of it.
    store.beginGroup();
    try {
      if (policy === "FLUSH") this.flush(store);
      for (const library of libraries) {
        const old = this.#libraries.get(library.name);
        if (old !== undefined) this.#drop(old);
        this.#install(library);
        this.#log(store, WalOp.FunctionLoad, library.name, library.code);
      }
    } finally {
      store.endGroup();
    }
  }

  #install(library: Library): void {
    this.#libraries.set(library.name, library);
    for (const f of library.functions) this.#functions.set(f.name, f);
  }

  /** Uninstalls a library (if installed) and frees its callbacks. */
  #drop(library: Library): void {
    if (this.#libraries.get(library.name) === library) {
      this.#libraries.delete(library.name);
      for (const f of library.functions) {
        if (this.#functions.get(f.name) === f) this.#functions.delete(f.name);
      }
    }
    for (const f of library.functions) this.engine.unref(f.ref);
  }

  /** Logs a change and applies it to the durable libraries, which this registry now matches. */
  #log(store: Store, op: number, name: string, code: string): void {
    store.log?.append(op, 0, name, code, 0);
    const libraries = store.functions;
    if (op === WalOp.FunctionLoad) libraries.set(name, code);
    else if (op === WalOp.FunctionDelete) libraries.delete(name);
    else libraries.clear();
    this.#version = libraries.version;
  }
}

const REGISTRIES = new WeakMap<Store, FunctionRegistry>();

/** The functions of the server owning `store` (made on first use). */
export function functionRegistry(store: Store): FunctionRegistry {
  let registry = REGISTRIES.get(store);
  if (registry === undefined) {
    registry = new FunctionRegistry(scriptEngine(store));
    REGISTRIES.set(store, registry);
  }
  return registry;
}
