import assert from "node:assert/strict";
import { bytesToBinary } from "../../bytes/binary_string.ts";
import { Engine } from "../../storage/engine.ts";
import { OutBuffer } from "../../protocol/out_buffer.ts";
import { RespReplyWriter } from "../../protocol/resp_writer.ts";
import { newSession } from "../../executor/command_spec.ts";
import { WalOp } from "../../wal/record.ts";
import { Rng } from "../../../tests/_generate.ts";
import {
  LIST_PACKED_MAX_BYTES,
  LIST_PACKED_MAX_ELEMENTS,
  LIST_PUSH_LEFT,
  LIST_PUSH_RIGHT,
  ListValue,
  popNumber,
  SNAPSHOT_TYPE_LIST,
} from "./list.ts";
import { packedLength, PackedList, packElement } from "./_packed_list.ts";
import { listApplier } from "./list_apply.ts";

/** Elements of one and two length-prefix bytes, binary and empty ones among them. */
function element(r: Rng): string {
  switch (r.int(0, 5)) {
    case 0:
      return "";
    case 1:
      return "x".repeat(r.int(0x7f, 0x81));
    case 2:
      return "\x00\xff\r\n" + String(r.int(0, 9));
    default:
      return `e${r.int(0, 999)}`;
  }
}

/** A view of `packed` placed after some other bytes, as the key table's arena holds it. */
function viewOf(packed: string, before = 5) {
  const bytes = new Uint8Array(before + packed.length + 3).fill(0xee);
  for (let i = 0; i < packed.length; i++) bytes[before + i] = packed.charCodeAt(i);
  return { bytes, start: before, length: packed.length };
}

/** What `write(w)` sends in RESP2. */
function written(write: (w: RespReplyWriter) => void): string {
  const out = new OutBuffer();
  const w = new RespReplyWriter(out, newSession());
  write(w);
  return bytesToBinary(out.view());
}

Deno.test("a PackedList reads what ListValue packed, from either end", () => {
  const r = new Rng(7);
  for (let round = 0; round < 300; round++) {
    const model: string[] = [];
    const n = r.int(1, 40);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const e = element(r);
      if (bytes + e.length > LIST_PACKED_MAX_BYTES) break;
      bytes += e.length;
      model.push(e);
    }
    if (model.length === 0) continue;
    const value = ListValue.of(model);
    const list = new PackedList(viewOf(value.packed()!));
    assert.equal(list.length, model.length);
    assert.equal(list.elementBytes, bytes);
    for (let i = 0; i < model.length; i++) assert.equal(list.at(i), model[i]);
    assert.equal(list.countUpTo(2), Math.min(2, model.length));
    assert.equal(list.offsetOf(model.length), value.packed()!.length);
    const k = r.int(1, model.length);
    for (const left of [true, false]) {
      assert.equal(
        written((w) => list.writeEnd(w, left, k)),
        written((w) => value.writeEnd(w, left, k)),
      );
    }
    const start = r.int(0, model.length - 1);
    const stop = r.int(start, model.length - 1);
    assert.equal(
      written((w) => list.writeRange(w, start, stop)),
      written((w) => value.writeRange(w, start, stop)),
    );
    for (const fromTail of [false, true]) {
      const seen: [string, number][] = [];
      list.forEach((e, i) => {
        seen.push([e, i]);
        return seen.length < k;
      }, fromTail);
      const expected: [string, number][] = [];
      value.forEach((e, i) => {
        expected.push([e, i]);
        return expected.length < k;
      }, fromTail);
      assert.deepEqual(seen, expected);
    }
  }
});

Deno.test("a PackedList counts up to a limit without walking the rest", () => {
  const packed = ListValue.of(["a", "b", "c"]).packed()!;
  // Bytes past the first element that are no list at all: a walk of one element never reads them.
  const broken = packed.slice(0, 2) + "\xff\xff";
  const list = new PackedList(viewOf(broken));
  assert.equal(list.countUpTo(1), 1);
  assert.equal(list.offsetOf(1), 2);
  assert.equal(list.at(0), "a");
  assert.throws(() => list.length, /packed list/);
});

Deno.test("packElement writes what ListValue packs for one element", () => {
  for (
    const e of ["", "a", "x".repeat(0x7f), "y".repeat(0x80), "z".repeat(LIST_PACKED_MAX_BYTES)]
  ) {
    const n = packedLength(e);
    const bytes = packElement(e).subarray(0, n);
    assert.equal(bytesToBinary(bytes), ListValue.of([e]).packed());
  }
});

Deno.test("pushes, pops, sets and inserts on a list held inline are edited in place and match a model", () => {
  const r = new Rng(11);
  const engine = new Engine(2);
  const push = listApplier(WalOp.ListPush);
  const pop = listApplier(WalOp.ListPop);
  const set = listApplier(WalOp.ListSet);
  const insert = listApplier(WalOp.ListInsert);
  let model: string[] = [];
  let inlineSeen = 0;
  let objectSeen = 0;
  for (let step = 0; step < 4000; step++) {
    // Drift up past the inline limits and back down, so conversions happen both ways.
    const phase = Math.floor(step / 500) % 2 === 0;
    const roll = r.int(0, 11);
    if (roll >= 10 && model.length > 0) {
      // A set, or an insert, at an index within the list (and one past it now and then).
      const e = element(r);
      const at = r.int(0, model.length);
      if (roll === 10) {
        set(engine, "k", [e], [at]);
        if (at < model.length) model[at] = e;
      } else {
        insert(engine, "k", [e], [at]);
        model.splice(at, 0, e);
      }
    } else if (roll < (phase ? 7 : 3)) {
      const count = r.int(1, 3);
      const data: string[] = [];
      const sides: number[] = [];
      for (let i = 0; i < count; i++) {
        const e = element(r);
        const left = r.int(0, 1) === 0;
        data.push(e);
        sides.push(left ? LIST_PUSH_LEFT : LIST_PUSH_RIGHT);
        if (left) model.unshift(e);
        else model.push(e);
      }
      push(engine, "k", data, sides);
    } else {
      const left = r.int(0, 1) === 0;
      const count = r.int(1, 4);
      pop(engine, "k", [""], [popNumber(left, count)]);
      model = left ? model.slice(count) : model.slice(0, Math.max(0, model.length - count));
    }
    const value = engine.get("k") as ListValue | undefined;
    if (model.length === 0) {
      assert.equal(value, undefined);
      continue;
    }
    assert.deepEqual(value!.toArray(), model, `step ${step}`);
    const inline = engine.packed("k", SNAPSHOT_TYPE_LIST) !== undefined;
    const bytes = model.reduce((sum, e) => sum + e.length, 0);
    if (model.length > LIST_PACKED_MAX_ELEMENTS || bytes > LIST_PACKED_MAX_BYTES) {
      assert.equal(inline, false, `step ${step}: too big to be inline`);
    }
    if (inline) inlineSeen++;
    else objectSeen++;
  }
  assert.ok(inlineSeen > 500 && objectSeen > 500, `${inlineSeen} inline, ${objectSeen} objects`);
});

Deno.test("a list held as an object goes back inline only once it has shrunk to half the limits", () => {
  const engine = new Engine(1);
  const push = listApplier(WalOp.ListPush);
  const pop = listApplier(WalOp.ListPop);
  const many = Array.from({ length: LIST_PACKED_MAX_ELEMENTS + 1 }, (_, i) => `e${i}`);
  push(engine, "k", many, many.map(() => LIST_PUSH_RIGHT));
  assert.equal(engine.packed("k", SNAPSHOT_TYPE_LIST), undefined);
  // Down to the limit, and a little past it, at either end: still an object.
  pop(engine, "k", [""], [popNumber(true, 1)]);
  pop(engine, "k", [""], [popNumber(false, 10)]);
  assert.equal(engine.packed("k", SNAPSHOT_TYPE_LIST), undefined);
  pop(engine, "k", [""], [popNumber(true, LIST_PACKED_MAX_ELEMENTS / 2 - 11)]);
  assert.equal((engine.get("k") as ListValue).length, LIST_PACKED_MAX_ELEMENTS / 2 + 1);
  assert.equal(engine.packed("k", SNAPSHOT_TYPE_LIST), undefined);
  pop(engine, "k", [""], [popNumber(true, 1)]);
  assert.notEqual(engine.packed("k", SNAPSHOT_TYPE_LIST), undefined);
  assert.deepEqual(
    (engine.get("k") as ListValue).toArray(),
    many.slice(LIST_PACKED_MAX_ELEMENTS / 2 - 9, LIST_PACKED_MAX_ELEMENTS + 1 - 10),
  );
});
