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
import { bytesToBinary } from "../../bytes/binary_string.ts";
import type { Engine, PackedView } from "../../storage/engine.ts";
import { WalOp } from "../../wal/record.ts";
import {
  LIST_PACKED_MAX_BYTES,
  LIST_PACKED_MAX_ELEMENTS,
  LIST_PUSH_LEFT,
  ListValue,
  SNAPSHOT_TYPE_LIST,
} from "./list.ts";
import { packedLength, PackedList, packElement } from "./_packed_list.ts";

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
  ONE_DATA[0] = value;
  ONE_NUMBER[0] = numeric;
  try {
    listApplier(op)(engine, key, ONE_DATA, ONE_NUMBER);
  } finally {
    ONE_DATA[0] = "";
  }
}

/** {@link applyListRecord}'s one record, reused. */
const ONE_DATA = [""];
const ONE_NUMBER = [0];

/**
 * Applies the records `data[i]`, `numbers[i]` of `op` (a push, a pop, a
 * set or an insert) from the first on to a list held inline, in its packed bytes (see
 * `_packed_list.ts`), as long as it stays small enough to be held so;
 * `view` is its packed bytes, or undefined for no key (a push then makes
 * a list held inline). Returns how many it applied: the rest go through a
 * {@link ListValue}, which converts by the same rule (`ListValue.small`).
 */
function applyPacked(
  engine: Engine,
  key: string,
  op: number,
  data: readonly string[],
  numbers: readonly number[],
  view: PackedView | undefined,
): number {
  let i = 0;
  for (; i < data.length; i++) {
    // The command stamped the key once already (Redis looks a key up once).
    if (i > 0) view = engine.packed(key, SNAPSHOT_TYPE_LIST, false);
    if (view === undefined) {
      // A pop of no key changes nothing; a push makes it held inline.
      const element = data[i];
      if (op !== WalOp.ListPush || element.length > LIST_PACKED_MAX_BYTES) break;
      if (i > 0 && engine.get(key, false) !== undefined) break;
      const packed = bytesToBinary(packElement(element), 0, packedLength(element));
      engine.setPacked(key, packed, SNAPSHOT_TYPE_LIST);
      continue;
    }
    const list = new PackedList(view);
    const numeric = numbers[i];
    const element = data[i];
    if (op === WalOp.ListPop) {
      const count = Math.floor(numeric / 2);
      // From the head, the cut is found walking `count` elements, no more.
      if (numeric % 2 === 0) engine.cutPacked(key, 0, list.offsetOf(list.countUpTo(count)));
      else engine.cutPacked(key, list.offsetOf(Math.max(0, list.length - count)), view.length);
      continue;
    }
    // A set or an insert past the end (replay over a newer state) changes nothing.
    if (op !== WalOp.ListPush && numeric > list.length - (op === WalOp.ListSet ? 1 : 0)) continue;
    const replaced = op === WalOp.ListSet ? list.elementLength(numeric) : -1;
    if (
      list.length + (replaced < 0 ? 1 : 0) > LIST_PACKED_MAX_ELEMENTS ||
      list.elementBytes - Math.max(replaced, 0) + element.length > LIST_PACKED_MAX_BYTES
    ) {
      break;
    }
    const from = op === WalOp.ListPush
      ? (numeric === LIST_PUSH_LEFT ? 0 : view.length)
      : list.offsetOf(numeric);
    const to = replaced < 0 ? from : list.offsetOf(numeric + 1);
    engine.splicePacked(key, from, to, packElement(element), packedLength(element));
  }
  return i;
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

/** Keeps `list`: deleted once empty, stored if a copy, new, or one held that shrank. */
function finish(engine: Engine, key: string, list: ListValue, made: boolean): void {
  if (list.length === 0) {
    engine.delete(key);
    return;
  }
  // A small list goes (back) inline; one read from there is a copy.
  if (made || list.unpacked || list.packsBack) {
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
  const inPlace = op !== WalOp.ListRemove;
  APPLIERS[op] = (engine, key, data, numbers) => {
    if (data.length === 0) return;
    // The command stamped the key once already (Redis looks a key up once).
    let current = engine.getOrPacked(key, SNAPSHOT_TYPE_LIST, false);
    let from = 0;
    if (inPlace && (current === undefined || current === engine.packedView)) {
      from = applyPacked(engine, key, op, data, numbers, current as PackedView | undefined);
      if (from === data.length) return;
      current = engine.get(key, false);
    } else if (current === engine.packedView) {
      current = engine.get(key, false);
    }
    const list = listFor(engine, key, current, op);
    if (list === undefined) return;
    for (let i = from; i < data.length; i++) change(list, op, data[i], numbers[i]);
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
