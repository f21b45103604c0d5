/**
 * How list records (`wal/record.ts`, `ListPush`..`ListRemove`) change the
 * keyspace: replay ({@link applyListRecord}) and live writes
 * ({@link listApplier}, through `Database.changeCollection`) run the same
 * code, so a restart and a replica reach what the master holds.
 *
 * @example
 * ```ts
 * applyListRecord(engine, "l", WalOp.ListPush, "a", LIST_PUSH_RIGHT);
 * ```
 * @module
 */

import { assert } from "../../_assert.ts";
import type { Engine } from "../../storage/engine.ts";
import { WalOp } from "../../wal/record.ts";
import { LIST_PUSH_LEFT, ListValue } from "./list.ts";

/**
 * Applies one list record (see `wal/record.ts`, `ListPush`..`ListRemove`)
 * to the key `key` of `engine`, replayed. Live writes come through
 * {@link listApplier}, which applies records the same way.
 *
 * @example
 * ```ts
 * applyListRecord(engine, "l", WalOp.ListPush, "a", LIST_PUSH_RIGHT);
 * ```
 */
export function applyListRecord(
  engine: Engine,
  key: string,
  op: number,
  value: string,
  numeric: number,
): void {
  const current = engine.get(key);
  const list = listFor(engine, key, current, op);
  if (list === undefined) return;
  change(list, op, value, numeric);
  finish(engine, key, list, list !== current);
}

/** The list a record of `op` applies to (a new one for a push), or undefined. */
function listFor(
  engine: Engine,
  key: string,
  current: unknown,
  op: number,
): ListValue | undefined {
  if (current instanceof ListValue) return current;
  if (op !== WalOp.ListPush) return undefined;
  // Missing, or (replaying over a newer state) another type: later records put it right.
  if (current !== undefined) engine.delete(key);
  const list = new ListValue();
  return list;
}

function change(list: ListValue, op: number, value: string, numeric: number): void {
  switch (op) {
    case WalOp.ListPush:
      if (numeric === LIST_PUSH_LEFT) list.pushLeft(value);
      else list.pushRight(value);
      break;
    case WalOp.ListPop:
      list.drop(numeric % 2 === 0, Math.min(Math.floor(numeric / 2), list.length));
      break;
    case WalOp.ListSet:
      if (numeric < list.length) list.set(numeric, value);
      break;
    case WalOp.ListInsert:
      if (numeric <= list.length) list.insert(numeric, value);
      break;
    case WalOp.ListRemove:
      list.remove(value, numeric % 2 === 0 ? numeric / 2 : -(numeric + 1) / 2);
      break;
  }
}

/** Keeps `list`: deleted once empty, stored if a copy, new or small. */
function finish(engine: Engine, key: string, list: ListValue, made: boolean): void {
  if (list.length === 0) {
    engine.delete(key);
    return;
  }
  // A small list goes (back) inline; one read from there is a copy.
  if (made || list.unpacked || list.small) {
    engine.setCollection(key, list);
    // Too big to be packed: the key table holds this very object now.
    if (!list.small) list.markHeld();
  }
}

/** Applies records in `Database.changeCollection`'s form. */
export type ListApplier = (
  engine: Engine,
  key: string,
  data: readonly string[],
  numbers: readonly number[],
) => void;

/**
 * The applier of each list op, made once at load. Not made on first use
 * inside {@link listApplier}: a function whose closure captures a
 * parameter allocates a context for it on every call, closure made or not
 * (LPUSH: 48 bytes of garbage a request, measured).
 */
const APPLIERS: ListApplier[] = [];
for (
  const op of [WalOp.ListPush, WalOp.ListPop, WalOp.ListSet, WalOp.ListInsert, WalOp.ListRemove]
) {
  APPLIERS[op] = (engine, key, data, numbers) => {
    if (data.length === 0) return;
    const current = engine.get(key);
    const list = listFor(engine, key, current, op);
    if (list === undefined) return;
    for (let i = 0; i < data.length; i++) change(list, op, data[i], numbers[i]);
    finish(engine, key, list, list !== current);
  };
}

/**
 * Applies records made live, in `Database.changeCollection`'s form: op
 * `op` (a list op) with `data[i]` and `numbers[i]` each, in one pass (a
 * small list is rewritten once).
 *
 * @example
 * ```ts
 * db.changeCollection(key, WalOp.ListPush, ["a"], [1], listApplier(WalOp.ListPush));
 * ```
 */
export function listApplier(op: number): ListApplier {
  const applier = APPLIERS[op];
  assert(applier !== undefined, "a list applier is asked for a list op");
  return applier;
}
