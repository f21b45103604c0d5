/**
 * The Redis 7 function libraries a server holds, as data: library name →
 * its source code (`#!lua name=...` and the Lua that registers its
 * functions). This is what the WAL (ops 60–62), snapshots and replication
 * carry; the compiled Lua side lives in the script engine, which rebuilds
 * itself from here whenever {@link FunctionLibraries.version} moves (a
 * replayed or replicated record, a snapshot loaded, a reload).
 *
 * Deliberately free of the Lua VM: storage and recovery import it.
 *
 * @example
 * ```ts
 * const libraries = new FunctionLibraries();
 * applyFunctionRecord(libraries, { op: WalOp.FunctionLoad, key: "lib", value: "#!lua name=lib\n..." });
 * libraries.get("lib"); // the code
 * ```
 * @module
 */

import { WalOp } from "../wal/record.ts";

/** The snapshot entry type of a function library (db 0, key: its name, value: its code). */
export const SNAPSHOT_TYPE_FUNCTION_LIBRARY = 16;

/** Library name → code, with a version that changes on every change. */
export class FunctionLibraries {
  readonly #code = new Map<string, string>();
  /** Bumped by every change: the script engine recompiles when it differs from its own. */
  version = 0;

  get(name: string): string | undefined {
    return this.#code.get(name);
  }

  set(name: string, code: string): void {
    this.#code.set(name, code);
    this.version++;
  }

  delete(name: string): void {
    if (this.#code.delete(name)) this.version++;
  }

  clear(): void {
    if (this.#code.size === 0) return;
    this.#code.clear();
    this.version++;
  }

  /** Takes `other`'s libraries as its own (a reload from disk). */
  replaceWith(other: FunctionLibraries): void {
    this.#code.clear();
    for (const [name, code] of other.entries()) this.#code.set(name, code);
    this.version++;
  }

  get size(): number {
    return this.#code.size;
  }

  entries(): IterableIterator<[string, string]> {
    return this.#code.entries();
  }
}

/** Whether `op` is one of the function libraries' WAL ops (60–69). */
export function isFunctionOp(op: number): boolean {
  return op >= 60 && op <= 69;
}

/**
 * Applies one logged change to the libraries: FunctionLoad (key: name,
 * value: code; replaces), FunctionDelete (key: name), FunctionFlush.
 */
export function applyFunctionRecord(
  libraries: FunctionLibraries,
  record: { op: number; key: string; value: string; lsn?: number },
): void {
  switch (record.op) {
    case WalOp.FunctionLoad:
      return libraries.set(record.key, record.value);
    case WalOp.FunctionDelete:
      return libraries.delete(record.key);
    case WalOp.FunctionFlush:
      return libraries.clear();
    default:
      throw new Error(`log record ${record.lsn ?? "?"} has function op ${record.op}, unknown`);
  }
}
