/**
 * Runs Lua scripts for one server: the script cache (SCRIPT LOAD, EVALSHA),
 * the `redis.call` bridge into the executor, and the run itself — atomic
 * (synchronous, nothing interleaves), its writes one group in the log (the
 * commands' own effect records, never the script), its memory bounded.
 *
 * `redis.call` goes through the same command table, ACL checks and flags
 * as a client's command (`ctx.dispatch`, as EXEC runs its queue): commands
 * flagged `noscript` (and kvdb's async ones) are refused, and a read-only
 * script's writes are refused with Redis's error.
 *
 * @example
 * ```ts
 * const engine = scriptEngine(ctx.store);
 * engine.eval(ctx, "return redis.call('GET', KEYS[1])", ["k"], [], false, w);
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import type { CommandContext, CommandSpec, Session } from "../executor/command_spec.ts";
import { COMMAND_FLAG_BITS } from "../executor/command_spec.ts";
import { asciiUpper, lookupRequest } from "../executor/command_table.ts";
import { COMMANDS } from "../executor/commands.ts";
import type { Store } from "../storage/store.ts";
import { binaryEquals } from "../bytes/binary_string.ts";
import {
  LUA_ERRRUN,
  LUA_MASKCOUNT,
  LUA_REGISTRYINDEX,
  LUA_TFUNCTION,
  LUA_TNUMBER,
  LUA_TSTRING,
  LUA_TTABLE,
  LUA_YIELD,
  luaIndex,
  LuaVm,
} from "./lua_vm.ts";
import { errorFromText, errorText, pushCaptured, writeLuaValue } from "./lua_replies.ts";
import { ReplyCapture } from "./reply_capture.ts";
import { PRELUDE } from "./_prelude.ts";
import { installCjson } from "./_cjson.ts";
import { installCmsgpack } from "./_cmsgpack.ts";
import { installStruct } from "./_struct.ts";
import { BUSY_SCRIPTS, busyError } from "./busy.ts";
import { scriptLog } from "./_script_log.ts";
import { installCFunctionWrapper } from "./_c_wrapper.ts";
import { installTostring } from "./_tostring.ts";
import { formatG } from "./_number_format.ts";
import type { Logger } from "../log/logger.ts";
import { parseShebang, SCRIPT_FLAG_NAMES } from "./script_flags.ts";
import { assert } from "../_assert.ts";
import { lookupAclRequest } from "../security/acl_commands.ts";
import { ACL_OK, checkPermission } from "../security/permissions.ts";

/** Bytes a server's Lua state may allocate (scripts' tables, strings, stacks). */
export const SCRIPT_MEMORY_LIMIT_BYTES = 128 * 1024 * 1024;
/** Scripts a server caches (SCRIPT LOAD, EVAL) before refusing more until SCRIPT FLUSH. */
export const MAX_CACHED_SCRIPTS = 100_000;

/** The registry's index of the global table (lua.h). */
const LUA_RIDX_GLOBALS = 2;
/** Lua instructions between two looks at the clock (and kill requests). */
const HOOK_INSTRUCTIONS = 100_000;
/** Once busy, how often a script lets the event loop serve the other clients. */
const YIELD_EVERY_MS = 10;

const NOSCRIPT = COMMAND_FLAG_BITS.noscript;
/** An EVAL's `Run.command` (only FCALL's is shown): one array, not one per run. */
const NO_COMMAND: readonly string[] = Object.freeze([]);
/** Command names `redis.call` caches as scripts spell them (see `ScriptEngine.#lookup`). */
const MAX_CACHED_NAMES = 1024;

function err(message: string, code = "ERR"): CommandError {
  return new CommandError(code, message, message);
}

/** SHA-1 of a binary string, lower-case hex (the script's name). */
export function sha1Hex(text: string): string {
  return createHash("sha1").update(Buffer.from(text, "latin1")).digest("hex");
}

/** A cached script: its function's reference in the Lua registry and its flags. */
export interface CachedScript {
  /** Its SHA-1, lower-case (error messages name it). */
  readonly sha: string;
  readonly ref: number;
  /** `SCRIPT_FLAGS` bits: declared by its shebang, or `evalCompat`. */
  readonly flags: number;
  /**
   * Its code names `_ENV`: Lua 5.4 lets it assign its chunk's globals
   * upvalue, which would outlive the call (a way to keep KEYS), so each
   * run sets it back to the globals first.
   */
  readonly namesEnv: boolean;
}

/** The script being run: what the bridge needs to know about it. */
interface Run {
  ctx: CommandContext;
  session: Session;
  sha: string;
  w: ReplyWriter;
  readOnly: boolean;
  /** SCRIPT KILL asked to stop it. */
  killed: boolean;
  /** The server stops: never resumed (see ScriptEngine.abandon). */
  abandoned: boolean;
  /**
   * `Date.now()` at its first hook, 0 before: the clock is read by the
   * hook only, so the run's first {@link HOOK_INSTRUCTIONS} instructions
   * (~1 ms of Lua, more if its first commands are slow) do not count
   * towards the busy threshold. Reading it at every start cost ~58 ns
   * (`Date.now()` on this VM's kvm-clock), ~5% of an in-process EVALSHA;
   * most runs end before their first hook. Not `performance.now()`: an op
   * call of ~125-230 ns, for a threshold counted in whole ms.
   */
  startMs: number;
  /** busy-reply-threshold when it started (0 in the config: never busy). */
  busyThresholdMs: number;
  lastYieldMs: number;
  /** The caller's database and EXEC state, restored at the end. */
  db: number;
  inExec: boolean;
  /** The caller can wait for a promise (not EXEC's queue). */
  mayYield: boolean;
  /** redis.setresp: the protocol of replies handed to Lua and of booleans returned. */
  resp: 2 | 3;
  /** A write ran: the script can no longer be killed (Redis's UNKILLABLE). */
  wrote: boolean;
  /** Values lua_resume starts the coroutine with (the body, and FCALL's two tables). */
  nargs: number;
  /** FCALL (FUNCTION KILL stops it) rather than EVAL (SCRIPT KILL). */
  isFunction: boolean;
  /** The request (FUNCTION STATS shows it while it runs). */
  command: readonly string[];
}

/** A run record with every field set (one shape for all runs). */
function newRun(ctx: CommandContext, session: Session, w: ReplyWriter): Run {
  return {
    ctx,
    session,
    sha: "",
    w,
    readOnly: false,
    resp: 2,
    wrote: false,
    killed: false,
    abandoned: false,
    isFunction: false,
    command: NO_COMMAND,
    nargs: 1,
    startMs: 0,
    busyThresholdMs: Infinity,
    lastYieldMs: 0,
    db: 0,
    inExec: false,
    mayYield: false,
  };
}

/** A function `redis.register_function` registered while a library loaded. */
export interface Registration {
  name: string;
  /** The callback's reference in the Lua registry. */
  ref: number;
  flags: string[];
  description: string | null;
}

/** How long FUNCTION LOAD may run a library's code (Redis: 500 ms). */
export const FUNCTION_LOAD_TIMEOUT_MS = 500;

const NAME_PATTERN = /^[A-Za-z0-9_]+$/;
const BAD_NAME =
  "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/** One server's scripting state (see the module doc). */
export class ScriptEngine {
  readonly vm: LuaVm;
  /**
   * Cached scripts by SHA-1. One record per script (reference and flags):
   * EVALSHA finds both with one lookup by the SHA as sent (it was two maps
   * and a lower-cased copy of the SHA per call: `flagsOf` was 2.1% of a
   * server CPU profile of pipelined EVALSHA).
   */
  readonly #scripts = new Map<string, CachedScript>();
  /** The script {@link script} found last (cleared by SCRIPT FLUSH). */
  #last: CachedScript | undefined = undefined;
  readonly #capture = new ReplyCapture();
  /** Command rows by the name as scripts spell it (see {@link #lookup}). */
  readonly #byName = new Map<string, CommandSpec>();
  #run: Run | undefined = undefined;
  /** A finished run's record, reused by the next (see {@link #start}). */
  #spare: Run | undefined = undefined;
  /** Registry reference of `__kvdb_where`, which places a failed run's error. */
  #where = 0;
  /** Registry reference of the script's thread. */
  #threadRef = 0;
  /** Registry reference of the table behind the read-only globals (the prelude's `backing`). */
  #globals = 0;
  /** Registry references of the KEYS and ARGV tables kept for the next EVAL (0: none). */
  readonly #argTables = [0, 0];
  /** The VM's tables and strings are laid out as {@link #refill} reads them (checked once). */
  #tableLayout = false;
  /** Registry references of the strings "KEYS" and "ARGV". */
  #keysName = 0;
  #argvName = 0;
  /** The coroutine scripts run in, and lua_resume's result count. */
  #thread = 0;
  readonly #resultsPointer: number;
  /** A script runs past the threshold now. */
  busy = false;
  /** The busy hook yielded a coroutine the script made (see `hook_yielded` in {@link #install}). */
  #coroutineYielded = false;
  /** The server's log, for redis.log (set by the commands that run Lua). */
  log: Logger | undefined = undefined;
  /** The count hook (also set on the main state while FUNCTION LOAD runs code). */
  readonly #hookPointer: number;
  /** FUNCTION LOAD in progress: what the library registered so far, and its deadline. */
  #loading: { registrations: Registration[]; deadlineMs: number } | undefined = undefined;

  constructor() {
    this.vm = LuaVm.create(SCRIPT_MEMORY_LIMIT_BYTES);
    this.#install();
    const { C } = this.vm;
    this.#resultsPointer = C._malloc(4);
    this.#hookPointer = C.addFunction((l: number) => this.#hook(l), "vii");
    this.#newThread();
  }

  /**
   * A new thread for scripts, in place of the last (held by the registry
   * until replaced). A thread whose run failed is replaced, not reused: an
   * error raised in its hook (SCRIPT KILL, memory) leaves its hooks off
   * for good (Lua restores `allowhook` only in a pcall, and the body runs
   * without one).
   */
  #newThread(): void {
    const { C, L } = this.vm;
    if (this.#threadRef !== 0) C._luaL_unref(L, LUA_REGISTRYINDEX, this.#threadRef);
    this.#thread = C._lua_newthread(L);
    this.#threadRef = C._luaL_ref(L, LUA_REGISTRYINDEX);
    C._lua_sethook(this.#thread, this.#hookPointer, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
  }

  /** A script is running now (a command it runs sees this). */
  get running(): boolean {
    return this.#run !== undefined;
  }

  /** Whether a script with this SHA-1 is cached. */
  exists(sha: string): boolean {
    return this.#scripts.has(sha.toLowerCase());
  }

  /**
   * The cached script `sha` names (any case), or undefined. The SHA as
   * sent is tried first: clients send it lower-case, and a lower-cased copy
   * would be a new string to hash again.
   */
  script(sha: string): CachedScript | undefined {
    // The last script found, compared as a string: a SHA decoded from a
    // request is a new string whose hash the Map lookup computes afresh
    // (the lookup was 2.0% of a pipelined EVALSHA's server CPU profile).
    if (sha === this.#last?.sha) return this.#last;
    const scripts = this.#scripts;
    const found = scripts.get(sha) ??
      (sha.length === 40 ? scripts.get(sha.toLowerCase()) : undefined);
    if (found !== undefined) this.#last = found;
    return found;
  }

  /** Number of cached scripts. */
  get size(): number {
    return this.#scripts.size;
  }

  /** SCRIPT FLUSH: forgets every cached script. */
  flush(): void {
    const { C, L } = this.vm;
    for (const script of this.#scripts.values()) C._luaL_unref(L, LUA_REGISTRYINDEX, script.ref);
    this.#scripts.clear();
    this.#last = undefined;
  }

  /** A cached script's flags (`SCRIPT_FLAGS`); undefined if it is not cached. */
  flagsOf(sha: string): number | undefined {
    return this.script(sha)?.flags;
  }

  /**
   * Compiles and caches `body` (SCRIPT LOAD, EVAL); returns its SHA-1.
   * Throws Redis's compile error.
   */
  load(body: string): string {
    const sha = sha1Hex(body);
    if (this.#scripts.has(sha)) return sha;
    if (this.#scripts.size >= MAX_CACHED_SCRIPTS) {
      throw err(`script cache is full (${MAX_CACHED_SCRIPTS} scripts): SCRIPT FLUSH`);
    }
    const { flags, shebangBytes } = parseShebang(body);
    const { C, L } = this.vm;
    // The code after a shebang keeps its newline: line numbers stay the script's.
    const code = shebangBytes === 0 ? body : body.slice(shebangBytes);
    const failed = this.vm.load(L, code, "@user_script");
    if (failed !== undefined) {
      throw err(`Error compiling script (new function): ${parseError51(failed)}`);
    }
    const ref = C._luaL_ref(L, LUA_REGISTRYINDEX);
    this.#scripts.set(sha, { sha, ref, flags, namesEnv: code.includes("_ENV") });
    return sha;
  }

  /**
   * Runs `script` with `args[from, from + numKeys)` as KEYS and the rest
   * of `args` as ARGV, replying into `w`. Returns a promise when the
   * script ran past the busy threshold (see {@link ScriptEngine.busy}).
   * The arguments are read where the request holds them: no copies.
   */
  run(
    ctx: CommandContext,
    script: CachedScript,
    args: readonly string[],
    from: number,
    numKeys: number,
    readOnly: boolean,
    w: ReplyWriter,
  ): void | Promise<void> {
    assert(this.#run === undefined, "one script at a time");
    const T = this.#prepare(script.ref);
    const { C } = this.vm;
    if (script.namesEnv) {
      C._lua_rawgeti(T, LUA_REGISTRYINDEX, luaIndex(LUA_RIDX_GLOBALS));
      C._lua_setupvalue(T, -2, 1);
    }
    this.#setArgs(T, 0, args, from, from + numKeys);
    this.#setArgs(T, 1, args, from + numKeys, args.length);
    return this.#start(ctx, script.sha, 0, readOnly, w, NO_COMMAND);
  }

  /**
   * globals.KEYS (`which` 0) or globals.ARGV (1) = `{values[from], ...,
   * values[to - 1]}`. Redis makes both tables anew per call; here the last
   * call's table is refilled when that cannot be told apart: nothing a
   * script can write outlives its call (the globals and libraries are
   * read-only, a chunk's _ENV is set back: `namesEnv`; FCALL's functions,
   * whose upvalues do outlive it, get fresh tables), so no script holds
   * the old table, and one left with only an array part and no metatable
   * holds exactly 1..n once refilled (read from the table's own memory:
   * {@link #refill}). Entries that already hold the same bytes are kept.
   * In-process EVALSHA of `return redis.call('GET', KEYS[1])`, 1 key,
   * batches of 16 (an Executor as the server makes it), best of 7 runs
   * alternating with main, each the best of 5 x 160k: 1287 -> 1056 ns.
   */
  #setArgs(T: number, which: 0 | 1, values: readonly string[], from: number, to: number): void {
    const { C } = this.vm;
    const ref = this.#argTables[which];
    if (ref !== 0) {
      C._lua_rawgeti(T, LUA_REGISTRYINDEX, luaIndex(ref));
      const refilled = this.#refill(T, values, from, to - from);
      C._lua_settop(T, -2);
      if (refilled) return;
      C._luaL_unref(T, LUA_REGISTRYINDEX, ref);
      this.#argTables[which] = 0;
    }
    // Set raw (the globals are read-only to scripts), the name pushed from
    // the registry (interned once).
    C._lua_rawgeti(T, LUA_REGISTRYINDEX, luaIndex(this.#globals));
    C._lua_rawgeti(T, LUA_REGISTRYINDEX, luaIndex(which === 0 ? this.#keysName : this.#argvName));
    this.#pushArray(T, values, from, to);
    if (this.#tableLayout) {
      C._lua_pushvalue(T, -1);
      this.#argTables[which] = C._luaL_ref(T, LUA_REGISTRYINDEX);
    }
    C._lua_rawset(T, -3);
    C._lua_settop(T, -2);
  }

  /**
   * Refills the table on top of `T` with `values[from, from + n)` if it has
   * no metatable and no hash part (every key an index of its array part)
   * and its array is not much longer than n; false (untouched) otherwise.
   */
  #refill(T: number, values: readonly string[], from: number, n: number): boolean {
    const vm = this.vm;
    const { C } = vm;
    const table = C._lua_topointer(T, -1);
    let u32 = vm.heapU32;
    if (u32[(table + TABLE_METATABLE) >> 2] !== 0 || u32[(table + TABLE_LASTFREE) >> 2] !== 0) {
      return false;
    }
    const size = arraySize(vm.heapU8[table + TABLE_FLAGS], u32[(table + TABLE_ALIMIT) >> 2]);
    if (size > 2 * n + 8) return false;
    for (let i = 0; i < n; i++) {
      const value = values[from + i];
      if (i < size) {
        u32 = vm.heapU32;
        const slot = u32[(table + TABLE_ARRAY) >> 2] + i * TVALUE_BYTES;
        const heap = vm.heapU8;
        if (
          heap[slot + TVALUE_TAG] === TAG_SHORT_STRING && sameBytes(heap, u32[slot >> 2], value)
        ) {
          continue;
        }
      }
      vm.pushString(T, value);
      C._lua_rawseti(T, -2, luaIndex(i + 1));
    }
    // Past n: what the last call or its script left (a resize above only grows it).
    u32 = vm.heapU32;
    const last = arraySize(vm.heapU8[table + TABLE_FLAGS], u32[(table + TABLE_ALIMIT) >> 2]);
    for (let i = n; i < last; i++) {
      const slot = vm.heapU32[(table + TABLE_ARRAY) >> 2] + i * TVALUE_BYTES;
      if ((vm.heapU8[slot + TVALUE_TAG] & 0x0f) === 0) continue; // nil or empty
      C._lua_pushnil(T);
      C._lua_rawseti(T, -2, luaIndex(i + 1));
    }
    return true;
  }

  /**
   * FCALL: runs the registered function `ref` (named `name`) with
   * `args[3, 3 + numKeys)` and the rest of `args` as its two arguments
   * (tables), as {@link run} runs a script.
   */
  runFunction(
    ctx: CommandContext,
    ref: number,
    name: string,
    args: readonly string[],
    numKeys: number,
    readOnly: boolean,
    w: ReplyWriter,
  ): void | Promise<void> {
    assert(this.#run === undefined, "one script at a time");
    const T = this.#prepare(ref);
    this.#pushArray(T, args, 3, 3 + numKeys);
    this.#pushArray(T, args, 3 + numKeys, args.length);
    return this.#start(ctx, name, 2, readOnly, w, args);
  }

  /**
   * Empties the script's thread and pushes function `ref`, the
   * coroutine's body itself: no Lua wrapper, no xpcall, which was a second
   * setjmp through JS per run (an error is placed after the coroutine
   * failed, see {@link #runError}). With the wasm allocator
   * (_wasm_alloc.ts): in-process EVALSHA 2.13-2.42 -> 1.96-2.04 µs.
   */
  #prepare(ref: number): number {
    const { C } = this.vm;
    const T = this.#thread;
    C._lua_settop(T, 0);
    C._lua_checkstack(T, 6);
    C._lua_rawgeti(T, LUA_REGISTRYINDEX, luaIndex(ref));
    return T;
  }

  /**
   * Starts the run of the function the thread holds (with `nargs`
   * arguments after it: FCALL's two tables). The run's record is reused from the last run that
   * ended at once (a 19-field object per call otherwise); one that yielded
   * may still be seen by its pending step, so it is never reused.
   */
  #start(
    ctx: CommandContext,
    name: string,
    nargs: number,
    readOnly: boolean,
    w: ReplyWriter,
    command: readonly string[],
  ): void | Promise<void> {
    const session = ctx.session;
    let run = this.#spare;
    this.#spare = undefined;
    if (run === undefined) run = newRun(ctx, session, w);
    run.ctx = ctx;
    run.session = session;
    run.sha = name;
    run.w = w;
    run.readOnly = readOnly;
    run.resp = 2;
    run.wrote = false;
    run.killed = false;
    run.abandoned = false;
    run.isFunction = nargs === 2;
    run.command = command;
    run.nargs = nargs;
    run.startMs = 0;
    run.busyThresholdMs = ctx.server.admin.config.scripting.busyReplyThresholdMs || Infinity;
    run.lastYieldMs = 0;
    run.db = session.db;
    run.inExec = session.inExec;
    // Run by EXEC, whose commands reply at once: it runs to its end.
    run.mayYield = !session.inExec;
    this.#coroutineYielded = false;
    this.#run = run;
    // Blocking commands answer at once, as inside EXEC; one log group.
    session.inExec = true;
    ctx.store.beginGroup();
    if (this.#resume(run)) {
      this.#spare = run;
      return;
    }
    const yielded = run;
    return new Promise<void>((resolve) => {
      const step = () => {
        if (yielded.abandoned) return resolve();
        // Commands served meanwhile (allow_busy ones) used the shared context.
        ctx.session = session;
        ctx.db = ctx.store.database(session.db);
        if (this.#resume(yielded)) resolve();
        else setTimeout(step, 0);
      };
      setTimeout(step, 0);
    });
  }

  /** Resumes the script's coroutine; true once it finished (and replied). */
  #resume(run: Run): boolean {
    const { C, L } = this.vm;
    const T = this.#thread;
    let status: number;
    try {
      status = C._lua_resume(T, L, run.nargs, this.#resultsPointer);
      run.nargs = 0; // a resumed yield takes no values
      if (status === LUA_YIELD) return false;
    } catch {
      status = -1; // a JS exception through the VM (a bug): answered, never lost
    }
    this.#finish(run, status);
    return true;
  }

  /** Ends a run: closes the log group, restores the caller, writes the reply. */
  #finish(run: Run, status: number): void {
    const { C } = this.vm;
    const T = this.#thread;
    const { ctx, session } = run;
    ctx.store.endGroup();
    session.inExec = run.inExec;
    session.db = run.db; // SELECT in a script does not change the caller's database
    ctx.session = session;
    ctx.db = ctx.store.database(run.db);
    this.#run = undefined;
    if (this.busy) {
      this.busy = false;
      BUSY_SCRIPTS.count--;
      BUSY_SCRIPTS.function = false;
    }
    const w = run.w;
    try {
      if (status === 0) {
        // The body's results are all the stack holds; Redis replies with the first.
        const results = this.vm.heap32[this.#resultsPointer >> 2];
        writeLuaValue(this.vm, T, C._lua_gettop(T) - results + 1, w, run.resp);
        C._lua_settop(T, 0);
      } else {
        w.error(
          status < 0 ? err("Error running script: VM failure") : this.#runError(status, run.sha),
        );
      }
    } finally {
      if (status !== 0) {
        C._lua_resetthread(T);
        this.#newThread();
      }
    }
  }

  /**
   * The error of a run that failed with `status`: a runtime error is
   * placed (its source and line) by `__kvdb_where`, which reads the failed
   * coroutine's stack, as Redis's handler reads it at the error; a memory
   * error keeps its bare message, as under xpcall.
   */
  #runError(status: number, sha: string): CommandError {
    const { C, L } = this.vm;
    const T = this.#thread;
    if (status !== LUA_ERRRUN) return this.#scriptError(T, sha);
    const base = C._lua_gettop(L);
    C._lua_checkstack(L, 4);
    C._lua_rawgeti(L, LUA_REGISTRYINDEX, luaIndex(this.#where));
    C._lua_rawgeti(L, LUA_REGISTRYINDEX, luaIndex(this.#threadRef));
    C._lua_xmove(T, L, 1);
    try {
      C._lua_pcallk(L, 2, 1, 0, 0, 0); // failed: its bare message, below
      return this.#scriptError(L, sha);
    } finally {
      C._lua_settop(L, base);
    }
  }

  /**
   * The count hook: past the busy threshold the server turns busy (other
   * clients get BUSY) and the script yields now and then so the event loop
   * reads sockets (SCRIPT KILL, SHUTDOWN NOSAVE); a requested kill raises
   * here.
   */
  #hook(L: number): void {
    const run = this.#run;
    const { C } = this.vm;
    if (this.#loading !== undefined && performance.now() > this.#loading.deadlineMs) {
      C._lua_createtable(L, 0, 1);
      this.vm.pushString(L, "ERR FUNCTION LOAD timeout");
      C._lua_setfield(L, -2, this.vm.name("err"));
      C._lua_error(L);
      return;
    }
    if (run === undefined) return;
    if (run.killed) {
      C._lua_createtable(L, 0, 1);
      this.vm.pushString(
        L,
        run.isFunction
          ? "ERR Script killed by user with FUNCTION KILL..."
          : "ERR Script killed by user with SCRIPT KILL...",
      );
      C._lua_setfield(L, -2, this.vm.name("err"));
      C._lua_error(L);
      return;
    }
    const now = Date.now();
    if (run.startMs === 0) {
      run.startMs = now;
      return;
    }
    if (now - run.startMs < run.busyThresholdMs) return;
    if (!this.busy) {
      this.busy = true;
      BUSY_SCRIPTS.count++;
      BUSY_SCRIPTS.function = run.isFunction;
    }
    if (
      run.mayYield && now - run.lastYieldMs >= YIELD_EVERY_MS && C._lua_isyieldable(L) !== 0
    ) {
      run.lastYieldMs = now;
      // A coroutine of the script's: the prelude's resume passes the
      // yield on to the script's thread (see `settle` in _prelude.ts).
      if (L !== this.#thread) this.#coroutineYielded = true;
      C._lua_yieldk(L, 0, 0, 0);
    }
  }

  /**
   * SCRIPT KILL: stops the running script at its next hook, unless it
   * wrote (Redis's UNKILLABLE); NOTBUSY when none runs past the threshold.
   */
  kill(isFunction = false): void {
    const run = this.#run;
    if (run === undefined || !this.busy) throw err("No scripts in execution right now.", "NOTBUSY");
    if (run.wrote) {
      throw err(
        "Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
        "UNKILLABLE",
      );
    }
    if (run.isFunction !== isFunction) throw busyError(run.isFunction);
    run.killed = true;
  }

  /**
   * The server stops (SHUTDOWN NOSAVE, a signal) while a script past the
   * busy threshold has yielded: it is never resumed, its client gets no
   * reply (the connection closes), and its writes — never acknowledged —
   * stay out of the log: its group is abandoned, torn (Store.abandonGroup).
   * Redis exits at once too. Returns whether a script was stopped.
   */
  abandon(): boolean {
    const run = this.#run;
    if (run === undefined) return false;
    run.abandoned = true;
    run.ctx.store.abandonGroup();
    run.session.inExec = run.inExec;
    run.session.closeAfterReply = true;
    this.#run = undefined;
    if (this.busy) {
      this.busy = false;
      BUSY_SCRIPTS.count--;
      BUSY_SCRIPTS.function = false;
    }
    this.vm.C._lua_resetthread(this.#thread);
    this.#newThread();
    return true;
  }

  /** The function running now, for FUNCTION STATS (none while an EVAL script runs). */
  runningFunction(): { name: string; command: readonly string[]; durationMs: number } | undefined {
    const run = this.#run;
    if (run === undefined || !run.isFunction) return undefined;
    return {
      name: run.sha,
      command: run.command,
      // The wall clock may step back; 0 before the run's first hook.
      durationMs: run.startMs === 0 ? 0 : Math.max(0, Date.now() - run.startMs),
    };
  }

  /** Forgets a reference in the Lua registry (a function of a deleted library). */
  unref(ref: number): void {
    this.vm.C._luaL_unref(this.vm.L, LUA_REGISTRYINDEX, ref);
  }

  /**
   * FUNCTION LOAD's engine part: compiles `body` (a library's code after
   * its `#!lua` line) and runs it in the library API, returning what it
   * registered. Throws Redis's errors; nothing is kept on failure.
   */
  loadLibrary(body: string): Registration[] {
    assert(this.#loading === undefined && this.#run === undefined, "one load at a time");
    const { C, L } = this.vm;
    const vm = this.vm;
    const base = C._lua_gettop(L);
    const failed = vm.load(L, body, "@user_function");
    if (failed !== undefined) {
      throw err(`Error compiling function: ${parseError51(failed)}`);
    }
    // The chunk's _ENV (its only upvalue) becomes the functions' globals.
    C._lua_getfield(L, LUA_REGISTRYINDEX, vm.name("__kvdb_function_env"));
    C._lua_setupvalue(L, -2, 1);
    const loading = {
      registrations: [] as Registration[],
      deadlineMs: performance.now() + FUNCTION_LOAD_TIMEOUT_MS,
    };
    this.#loading = loading;
    this.#functionMode(true);
    C._lua_sethook(L, this.#hookPointer, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    C._lua_getglobal(L, vm.name("__kvdb_error_handler"));
    C._lua_rotate(L, -2, 1);
    let status: number;
    try {
      status = C._lua_pcallk(L, 0, 0, base + 1, 0, 0);
    } finally {
      C._lua_sethook(L, 0, 0, 0);
      this.#functionMode(false);
      this.#loading = undefined;
    }
    if (status !== 0) {
      const top = C._lua_gettop(L);
      let text = "ERR unknown error";
      if (C._lua_type(L, top) === LUA_TTABLE) {
        if (C._lua_getfield(L, top, vm.name("err")) === LUA_TSTRING) text = vm.toString(L, -1)!;
      } else {
        text = `ERR ${vm.toString(L, top) ?? "unknown error"}`;
      }
      C._lua_settop(L, base);
      for (const r of loading.registrations) this.unref(r.ref);
      throw err(`Error registering functions: ${text}`);
    }
    C._lua_settop(L, base);
    return loading.registrations;
  }

  #functionMode(loading: boolean): void {
    const { C, L } = this.vm;
    C._lua_getfield(L, LUA_REGISTRYINDEX, this.vm.name("__kvdb_function_mode"));
    C._lua_pushboolean(L, loading ? 1 : 0);
    C._lua_pcallk(L, 1, 0, 0, 0, 0);
  }

  /** redis.register_function(name, callback) or ({function_name=, callback=, flags=, description=}). */
  #registerFunction(L: number): number {
    const vm = this.vm;
    const { C } = vm;
    const loading = this.#loading;
    const fail = (text: string) => this.#failed(L, true, `ERR ${text}`);
    if (loading === undefined) {
      return fail("redis.register_function is only available in FUNCTION LOAD");
    }
    const argc = C._lua_gettop(L);
    let name: string | undefined;
    let flags: string[] = [];
    let description: string | null = null;
    let callback = 0; // stack index of the callback
    if (argc === 1 && C._lua_type(L, 1) === LUA_TTABLE) {
      C._lua_pushnil(L);
      while (C._lua_next(L, 1) !== 0) {
        const key = C._lua_type(L, -2) === LUA_TSTRING ? vm.toString(L, -2) : undefined;
        if (key === "function_name") {
          name = C._lua_type(L, -1) === LUA_TSTRING || C._lua_type(L, -1) === LUA_TNUMBER
            ? vm.toString(L, -1)
            : undefined;
          if (name === undefined) {
            return fail("function_name argument given to redis.register_function must be a string");
          }
        } else if (key === "callback") {
          if (C._lua_type(L, -1) !== LUA_TFUNCTION) {
            return fail("callback argument given to redis.register_function must be a function");
          }
        } else if (key === "description") {
          if (C._lua_type(L, -1) !== LUA_TSTRING) {
            return fail("description argument given to redis.register_function must be a string");
          }
          description = vm.toString(L, -1)!;
        } else if (key === "flags") {
          if (C._lua_type(L, -1) !== LUA_TTABLE) {
            return fail(
              "flags argument to redis.register_function must be a table representing function flags",
            );
          }
          const read = this.#readFlags(L, C._lua_gettop(L));
          if (read === undefined) return fail("unknown flag given");
          flags = read;
        } else {
          return fail("unknown argument given to redis.register_function");
        }
        C._lua_settop(L, -2);
      }
      C._lua_getfield(L, 1, vm.name("callback"));
      callback = C._lua_gettop(L);
      if (name === undefined) {
        return fail("redis.register_function must get a function name argument");
      }
      if (C._lua_type(L, callback) !== LUA_TFUNCTION) {
        return fail("redis.register_function must get a callback argument");
      }
    } else if (argc === 2) {
      if (C._lua_type(L, 1) !== LUA_TSTRING && C._lua_type(L, 1) !== LUA_TNUMBER) {
        return fail("first argument to redis.register_function must be a string");
      }
      name = vm.toString(L, 1)!;
      if (C._lua_type(L, 2) !== LUA_TFUNCTION) {
        return fail("second argument to redis.register_function must be a function");
      }
      callback = 2;
    } else {
      return fail("wrong number of arguments to redis.register_function");
    }
    if (!NAME_PATTERN.test(name)) return fail(BAD_NAME);
    if (loading.registrations.some((r) => r.name === name)) {
      return fail("Function already exists in the library");
    }
    C._lua_pushvalue(L, callback);
    const ref = C._luaL_ref(L, LUA_REGISTRYINDEX);
    loading.registrations.push({ name, ref, flags, description });
    return 0;
  }

  /** The flags table at `index`, or undefined if one is unknown. */
  #readFlags(L: number, index: number): string[] | undefined {
    const { C } = this.vm;
    const flags: string[] = [];
    C._lua_pushnil(L);
    while (C._lua_next(L, index) !== 0) {
      const flag = C._lua_type(L, -1) === LUA_TSTRING ? this.vm.toString(L, -1) : undefined;
      C._lua_settop(L, -2);
      if (flag === undefined || !SCRIPT_FLAG_NAMES.has(flag)) {
        C._lua_settop(L, -2);
        return undefined;
      }
      if (!flags.includes(flag)) flags.push(flag);
    }
    return flags;
  }

  /** The error of a failed run, as Redis words it (`... script: sha, on @user_script:1.`). */
  #scriptError(L: number, sha: string): CommandError {
    const { C } = this.vm;
    const vm = this.vm;
    const top = C._lua_gettop(L);
    if (C._lua_type(L, top) !== LUA_TTABLE) {
      // A memory error skips the handler: a bare message.
      return errorFromText(`ERR ${vm.toString(L, top) ?? "unknown error"} script: ${sha}`);
    }
    const text = C._lua_getfield(L, top, vm.name("err")) === LUA_TSTRING
      ? vm.toString(L, -1)!
      : "ERR unknown error";
    const source = C._lua_getfield(L, top, vm.name("source")) === LUA_TSTRING
      ? vm.toString(L, -1)
      : undefined;
    const line = C._lua_getfield(L, top, vm.name("line")) === LUA_TNUMBER
      ? vm.toString(L, -1)
      : undefined;
    const where = source === undefined ? "" : `, on ${source}:${line ?? "?"}`;
    return errorFromText(`${text} script: ${sha}${where}.`);
  }

  /** Pushes `{values[from], ..., values[to - 1]}`. */
  #pushArray(L: number, values: readonly string[], from: number, to: number): void {
    const { C } = this.vm;
    C._lua_createtable(L, to - from, 0);
    for (let i = from; i < to; i++) {
      this.vm.pushString(L, values[i]);
      C._lua_rawseti(L, -2, luaIndex(i - from + 1));
    }
  }

  /** The JS bridge and the prelude. */
  #install(): void {
    const vm = this.vm;
    const { C, L } = vm;
    C._lua_createtable(L, 0, 8);
    vm.setFunction(L, "call", (l) => this.#call(l, true));
    vm.setFunction(L, "pcall", (l) => this.#call(l, false));
    vm.setFunction(L, "acl_check_cmd", (l) => this.#aclCheck(l));
    // hook_yielded(): whether the hook just yielded a coroutine of the
    // script's (then forgotten); hook_yielded(true): marks it so.
    vm.setFunction(L, "hook_yielded", (l) => {
      if (C._lua_gettop(l) > 0) {
        this.#coroutineYielded = true;
        return 0;
      }
      C._lua_pushboolean(l, this.#coroutineYielded ? 1 : 0);
      this.#coroutineYielded = false;
      return 1;
    });
    vm.setFunction(L, "register_function", (l) => this.#registerFunction(l));
    vm.setFunction(L, "sha1hex", (l) => {
      if (C._lua_gettop(l) !== 1) return vm.raise(l, "wrong number of arguments");
      vm.pushString(l, sha1Hex(vm.toString(l, 1) ?? ""));
      return 1;
    });
    vm.setFunction(L, "log", (l) => scriptLog(vm, l, this.log));
    vm.setFunction(L, "setresp", (l) => {
      const resp = C._lua_gettop(l) === 1 ? C._lua_tonumberx(l, 1, 0) : 0;
      if (resp !== 2 && resp !== 3) {
        C._lua_createtable(l, 0, 1);
        vm.pushString(l, "ERR RESP version must be 2 or 3.");
        C._lua_setfield(l, -2, vm.name("err"));
        return C._lua_error(l);
      }
      if (this.#run !== undefined) this.#run.resp = resp;
      return 0;
    });
    installCFunctionWrapper(vm);
    installTostring(vm);
    C._lua_setglobal(L, vm.name("__kvdb"));
    installCjson(vm);
    installCmsgpack(vm);
    installStruct(vm);
    vm.run(PRELUDE);
    C._lua_getglobal(L, vm.name("__kvdb_where"));
    this.#where = C._luaL_ref(L, LUA_REGISTRYINDEX);
    C._lua_getfield(L, LUA_REGISTRYINDEX, vm.name("__kvdb_globals"));
    this.#globals = C._luaL_ref(L, LUA_REGISTRYINDEX);
    vm.pushString(L, "KEYS");
    this.#keysName = C._luaL_ref(L, LUA_REGISTRYINDEX);
    vm.pushString(L, "ARGV");
    this.#argvName = C._luaL_ref(L, LUA_REGISTRYINDEX);
    this.#tableLayout = checkTableLayout(vm);
  }

  /**
   * redis.call / redis.pcall. An error is a table `{err=...}`, raised by
   * redis.call (from this C function, so the error handler finds the
   * script's line even when the call is a tail call), returned by pcall.
   */
  #call(L: number, raising: boolean): number {
    const vm = this.vm;
    const { C } = vm;
    const run = this.#run;
    const argc = C._lua_gettop(L);
    if (run === undefined) {
      return this.#failed(L, raising, "ERR redis.call is only available while a script runs");
    }
    const args = this.#commandArgs(L, argc, raising);
    if (typeof args === "number") return args;
    const spec = this.#lookup(args);
    const refused = refusal(spec, args, run.readOnly);
    if (refused !== undefined) return this.#failed(L, raising, refused);
    if (spec!.write) run.wrote = true;
    const capture = this.#capture;
    capture.reset();
    try {
      run.ctx.dispatch(args, capture);
    } catch (e) {
      return this.#failed(L, raising, `ERR ${e instanceof Error ? e.message : String(e)}`);
    }
    const value = capture.value;
    capture.reset();
    if (value !== null && typeof value === "object" && value.kind === "error") {
      return this.#failed(L, raising, errorText(value.error));
    }
    pushCaptured(vm, L, value, run.resp);
    return 1;
  }

  /**
   * A redis.call's `argc` arguments as strings; or, when there are none or
   * one is neither a string nor a number, Redis's error, raised or pushed
   * ({@link #failed}), and the count for the C function to return.
   */
  #commandArgs(L: number, argc: number, raising: boolean): string[] | number {
    if (argc === 0) {
      return this.#failed(
        L,
        raising,
        "ERR Please specify at least one argument for this redis lib call",
      );
    }
    const vm = this.vm;
    const { C } = vm;
    const args: string[] = new Array(argc);
    for (let i = 1; i <= argc; i++) {
      const type = C._lua_type(L, i);
      if (type === LUA_TSTRING) {
        args[i - 1] = i === 1 ? vm.toStringRepeated(L, i)! : vm.toString(L, i)!;
      } else if (type === LUA_TNUMBER) args[i - 1] = formatArgNumber(vm, L, i);
      else {
        return this.#failed(
          L,
          raising,
          "ERR Lua redis lib command arguments must be strings or integers",
        );
      }
    }
    return args;
  }

  /**
   * redis.acl_check_cmd: whether the script's caller may run a command
   * with these arguments (a boolean; nothing is logged). Its argument
   * errors are redis.call's, raised; a command unknown to the ACL table
   * (a subcommand included) is an error too, as in Redis.
   */
  #aclCheck(L: number): number {
    const run = this.#run;
    const argc = this.vm.C._lua_gettop(L);
    if (run === undefined) {
      return this.#failed(
        L,
        true,
        "ERR redis.acl_check_cmd can only be called inside a script invocation",
      );
    }
    const args = this.#commandArgs(L, argc, true);
    if (typeof args === "number") return args;
    const command = lookupAclRequest(args);
    if (command === undefined) {
      return this.#failed(L, true, "ERR Invalid command passed to redis.acl_check_cmd()");
    }
    const user = run.session.user;
    assert(user !== undefined, "a script runs for a bound ACL user");
    const allowed = user.unrestricted || checkPermission(user, command, args).result === ACL_OK;
    this.vm.C._lua_pushboolean(L, allowed ? 1 : 0);
    return 1;
  }

  /**
   * lookupRequest(COMMANDS, args), the command's row found by its name as
   * the script spells it (no upper-cased copy per call), as the executor's
   * own lookup does (lookupRequest was ~3% of a server CPU profile, -P 16).
   */
  #lookup(args: string[]): CommandSpec | undefined {
    let base = this.#byName.get(args[0]);
    if (base === undefined) {
      base = COMMANDS.get(asciiUpper(args[0]));
      if (base === undefined) return undefined;
      if (this.#byName.size < MAX_CACHED_NAMES) this.#byName.set(args[0], base);
    }
    if (base.subcommands === undefined || args.length === 1) return base;
    return lookupRequest(COMMANDS, args);
  }

  /** Pushes `{err=text}`: raised for redis.call, returned for redis.pcall. */
  #failed(L: number, raising: boolean, text: string): number {
    const vm = this.vm;
    vm.C._lua_createtable(L, 0, 1);
    vm.pushString(L, text);
    vm.C._lua_setfield(L, -2, vm.name("err"));
    return raising ? vm.C._lua_error(L) : 1;
  }
}

/**
 * A parser error as Lua 5.1 words it: 5.1 quoted every token, 5.4 leaves
 * `<eof>`, `<name>` ... bare ("near <eof>", "<eof> expected"). The prelude's
 * loadstring does the same.
 */
function parseError51(text: string): string {
  return text.replace(/ near <eof>$/, " near '<eof>'")
    .replace(/^(.*?:\d+: )<(\w+)> expected/, "$1'<$2>' expected");
}

/** Why a script may not run this command (Redis 7.0's scriptCall checks), or undefined. */
function refusal(
  spec: CommandSpec | undefined,
  args: string[],
  readOnly: boolean,
): string | undefined {
  if (spec === undefined) {
    // A container with an unknown subcommand is the executor's to refuse.
    return COMMANDS.has(args[0].toUpperCase())
      ? undefined
      : "ERR Unknown Redis command called from script";
  }
  if (spec.arity > 0 ? args.length !== spec.arity : args.length < -spec.arity) {
    return "ERR Wrong number of args calling Redis command from script";
  }
  if ((spec.flags & NOSCRIPT) !== 0 || spec.async) {
    return "ERR This Redis command is not allowed from script";
  }
  if (readOnly && spec.write) return "ERR Write commands are not allowed from read-only scripts.";
  if ((spec.fullName === "xread" || spec.fullName === "xreadgroup") && blocks(args)) {
    return `ERR ${args[0]} command is not allowed with BLOCK option from scripts`;
  }
  return undefined;
}

/**
 * Whether an XREAD/XREADGROUP asks to BLOCK: its options read as Redis's
 * xreadCommand reads them, up to STREAMS (a stream may be called BLOCK).
 */
function blocks(args: string[]): boolean {
  for (let i = 1; i < args.length;) {
    const option = args[i].toUpperCase();
    const more = args.length - i - 1;
    if (option === "BLOCK" && more > 0) return true;
    if (option === "COUNT" && more > 0) i += 2;
    else if (option === "GROUP" && more > 1) i += 3;
    else if (option === "NOACK") i++;
    else return false; // STREAMS, or what the command itself refuses
  }
  return false;
}

/**
 * A Lua number as a command argument, as Redis 7.0 writes one: `%.17g` of
 * the double (Lua 5.1 had no integers: an integer past 2^53 is the double
 * 5.1 would have held).
 */
function formatArgNumber(vm: LuaVm, L: number, index: number): string {
  if (vm.C._lua_isinteger(L, index)) {
    const n = vm.C._lua_tointegerx(L, index, 0);
    if (n <= MAX_EXACT_INTEGER && n >= -MAX_EXACT_INTEGER) return String(n);
    return formatG(Number(n), 17);
  }
  return formatG(vm.C._lua_tonumberx(L, index, 0), 17);
}

/*
 * Lua 5.4's Table and TString as wasm32 lays them out (lobject.h): what
 * #refill reads. checkTableLayout confirms them on a table of its own when
 * the engine starts; if they differ, KEYS and ARGV are made anew per call.
 */
const TABLE_TAG = 4;
const TABLE_FLAGS = 6;
const TABLE_ALIMIT = 8;
const TABLE_ARRAY = 12;
const TABLE_LASTFREE = 20;
const TABLE_METATABLE = 24;
/** Table.flags: alimit is not the array's real size (a hint of luaH_getn). */
const NOT_REAL_ASIZE = 0x80;
const TVALUE_BYTES = 16;
const TVALUE_TAG = 8;
/** LUA_VSHRSTR with the collectable bit, as a TValue holds it. */
const TAG_SHORT_STRING = 0x44;
const TAG_TRUE = 0x11;
const LUA_VTABLE = 5;
const TSTRING_SHORT_LENGTH = 7;
const TSTRING_CONTENTS = 16;

/** A table's array size (luaH_realasize): `alimit`, or the power of 2 it hints at. */
function arraySize(flags: number, alimit: number): number {
  if ((flags & NOT_REAL_ASIZE) === 0 || alimit === 0) return alimit;
  let size = 1;
  while (size < alimit) size *= 2;
  return size;
}

/** Whether the short string at `string` (a TString's address) holds `value`'s bytes. */
function sameBytes(heap: Uint8Array, string: number, value: string): boolean {
  return heap[string + TSTRING_SHORT_LENGTH] === value.length &&
    binaryEquals(heap, string + TSTRING_CONTENTS, value);
}

/** Whether the VM's tables and strings are laid out as the constants above say. */
function checkTableLayout(vm: LuaVm): boolean {
  const { C, L } = vm;
  const base = C._lua_gettop(L);
  try {
    C._lua_createtable(L, 4, 0);
    const table = C._lua_topointer(L, -1);
    vm.pushString(L, "abc");
    C._lua_rawseti(L, -2, luaIndex(1));
    C._lua_pushboolean(L, 1);
    C._lua_rawseti(L, -2, luaIndex(2));
    const u8 = vm.heapU8;
    let u32 = vm.heapU32;
    const array = u32[(table + TABLE_ARRAY) >> 2];
    const string = u32[array >> 2];
    const plain = u8[table + TABLE_TAG] === LUA_VTABLE &&
      arraySize(u8[table + TABLE_FLAGS], u32[(table + TABLE_ALIMIT) >> 2]) === 4 &&
      u32[(table + TABLE_LASTFREE) >> 2] === 0 && u32[(table + TABLE_METATABLE) >> 2] === 0 &&
      u8[array + TVALUE_TAG] === TAG_SHORT_STRING && sameBytes(u8, string, "abc") &&
      !sameBytes(u8, string, "abd") && u8[array + TVALUE_BYTES + TVALUE_TAG] === TAG_TRUE &&
      (u8[array + 2 * TVALUE_BYTES + TVALUE_TAG] & 0x0f) === 0;
    if (!plain) return false;
    C._lua_pushboolean(L, 1);
    C._lua_setfield(L, -2, vm.name("x"));
    u32 = vm.heapU32;
    if (u32[(table + TABLE_LASTFREE) >> 2] === 0) return false;
    C._lua_createtable(L, 0, 0);
    C._lua_setmetatable(L, -2);
    u32 = vm.heapU32;
    return u32[(table + TABLE_METATABLE) >> 2] !== 0;
  } finally {
    C._lua_settop(L, base);
  }
}

/** 2^53: integers up to it print the same as their double. */
const MAX_EXACT_INTEGER = 2n ** 53n;

const ENGINES = new WeakMap<Store, ScriptEngine>();

/** The scripting state of the server owning `store` (made on first use). */
export function scriptEngine(store: Store): ScriptEngine {
  let engine = ENGINES.get(store);
  if (engine === undefined) {
    engine = new ScriptEngine();
    ENGINES.set(store, engine);
  }
  return engine;
}

/**
 * At shutdown: abandons the script the server owning `store` is running,
 * if any (see {@link ScriptEngine.abandon}); creates no engine.
 */
export function abandonRunningScript(store: Store): boolean {
  return ENGINES.get(store)?.abandon() ?? false;
}
