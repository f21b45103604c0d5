import assert from "node:assert/strict";
import { createLogger } from "../../log/logger.ts";
import { Engine } from "../../storage/engine.ts";
import { Store } from "../../storage/store.ts";
import { loadSnapshot } from "../../snapshot/snapshot_reader.ts";
import { takeSnapshot } from "../../snapshot/take_snapshot.ts";
import { readRecords } from "../../wal/reader.ts";
import { WalOp } from "../../wal/record.ts";
import { Wal } from "../../wal/wal.ts";
import { walOptions } from "../../wal/_test_util.ts";
import { Rng } from "../../../tests/_generate.ts";
import {
  LIST_NODE_ELEMENTS,
  LIST_PUSH_LEFT,
  LIST_PUSH_RIGHT,
  ListValue,
  popNumber,
  removeNumber,
} from "./list.ts";
import { listApplier } from "./list_apply.ts";

const log = createLogger({ level: "warn", output: "stderr" });

/** Elements longer than a new node's bytes, binary ones among them: nodes must grow at either end. */
const LONG_ELEMENTS = ["L".repeat(300), "M".repeat(5000), "\x00\xff\r\n".repeat(200), ""];

/** One random change applied to both a list and a plain array model of it. */
function randomChange(r: Rng, list: ListValue, model: string[]): void {
  const pick = r.int(0, 13);
  const element = pick < 10 ? `e${pick}` : LONG_ELEMENTS[pick - 10];
  const n = model.length;
  switch (r.int(0, 8)) {
    case 0:
    case 1:
      list.pushLeft(element);
      model.unshift(element);
      break;
    case 2:
    case 3:
      list.pushRight(element);
      model.push(element);
      break;
    case 4:
      if (n === 0) break;
      if (r.int(0, 1) === 0) assert.equal(list.popLeft(), model.shift());
      else assert.equal(list.popRight(), model.pop());
      break;
    case 5: {
      const at = r.int(0, n);
      list.insert(at, element);
      model.splice(at, 0, element);
      break;
    }
    case 6:
      if (n === 0) break;
      {
        const at = r.int(0, n - 1);
        list.set(at, element);
        model[at] = element;
      }
      break;
    case 7: {
      const count = r.int(-3, 3);
      const removed = list.remove(element, count);
      let expected = 0;
      if (count >= 0) {
        for (let i = 0; i < model.length && (count === 0 || expected < count); i++) {
          if (model[i] === element) {
            model.splice(i--, 1);
            expected++;
          }
        }
      } else {
        for (let i = model.length - 1; i >= 0 && expected < -count; i--) {
          if (model[i] === element) {
            model.splice(i, 1);
            expected++;
          }
        }
      }
      assert.equal(removed, expected);
      break;
    }
    default: {
      const count = r.int(0, Math.min(n, 200));
      const left = r.int(0, 1) === 0;
      list.drop(left, count);
      if (left) model.splice(0, count);
      else model.splice(n - count, count);
    }
  }
}

Deno.test("a list answers as an array through pushes, pops, inserts, sets and removals across nodes", () => {
  const r = new Rng(7);
  const list = new ListValue();
  const model: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    randomChange(r, list, model);
    assert.equal(list.length, model.length);
    if (i % 500 === 0) {
      assert.deepEqual(list.toArray(), model);
      for (let k = 0; k < 20 && model.length > 0; k++) {
        const at = r.int(0, model.length - 1);
        assert.equal(list.at(at), model[at]);
      }
      for (const e of ["e3", ...LONG_ELEMENTS, "absent"]) {
        assert.equal(list.indexOf(e), model.indexOf(e));
      }
    }
  }
  assert.deepEqual(list.toArray(), model);
  assert.equal(list.encoding(), "quicklist");
});

Deno.test("inserts into full nodes, at their first, middle and last slots, keep the order", () => {
  const model = Array.from({ length: 4 * LIST_NODE_ELEMENTS }, (_, i) => `${i}`);
  const list = ListValue.of(model);
  const at = [LIST_NODE_ELEMENTS, LIST_NODE_ELEMENTS, 2 * LIST_NODE_ELEMENTS + 5, 3, 1, 0];
  for (let round = 0; round < 300; round++) {
    const index = (at[round % at.length] + round) % (model.length + 1);
    list.insert(index, `i${round}`);
    model.splice(index, 0, `i${round}`);
    if (round % 3 === 0) {
      list.pushLeft(`l${round}`);
      model.unshift(`l${round}`);
    }
  }
  assert.deepEqual(list.toArray(), model);
  for (let i = 0; i < model.length; i += 37) assert.equal(list.at(i), model[i]);
  // Written in small snapshot chunks across the split nodes: the same elements.
  assert.deepEqual(chunkedCopy(list, 200).toArray(), model);
  assert.deepEqual(list.toArray(), model);
});

Deno.test("a small list round-trips through its packed bytes; a big one is not packed", () => {
  const list = ListValue.of(["", "a", "\x00\xff", "x".repeat(300)]);
  const packed = list.packed()!;
  // Each element: its length in one byte (two from 128 bytes on), then its bytes.
  assert.equal(packed.length, 1 + (1 + 1) + (1 + 2) + (2 + 300));
  const back = ListValue.unpack(packed);
  assert.deepEqual(back.toArray(), list.toArray());
  assert.ok(back.unpacked);
  const big = ListValue.of(Array.from({ length: 200 }, (_, i) => `${i}`));
  assert.equal(big.packed(), undefined);
});

/** Every chunk of `list` written from position 0 to the end, loaded into a new list. */
function chunkedCopy(list: ListValue, maxBytes: number): ListValue {
  const copy = new ListValue();
  let at = 0;
  for (;;) {
    const { body, next } = list.snapshotChunk(at, maxBytes);
    copy.loadChunk(body);
    if (next < 0) return copy;
    assert.ok(next > at, "each chunk holds at least one element");
    at = next;
  }
}

Deno.test("a big list's snapshot chunks go on where the last one stopped, and start anywhere", () => {
  const r = new Rng(3);
  const list = new ListValue();
  const model: string[] = [];
  for (let i = 0; i < 10 * LIST_NODE_ELEMENTS; i++) {
    list.pushRight(`v${i}`);
    model.push(`v${i}`);
  }
  // Nodes of every fill: pushes at the head, middle inserts and removals.
  for (let i = 0; i < 3000; i++) {
    randomChange(r, list, model);
    while (model.length < 4 * LIST_NODE_ELEMENTS) {
      model.push(`w${i}:${model.length}`);
      list.pushRight(model[model.length - 1]);
    }
  }
  for (const maxBytes of [1, 7, 200, 5000, 1 << 20]) {
    assert.deepEqual(chunkedCopy(list, maxBytes).toArray(), model, `chunks of ${maxBytes} bytes`);
  }
  // A chunk from any position (a walk given up and another started): the rest from there.
  for (const from of [1, 2, 127, 128, 129, model.length - 1]) {
    const { body, next } = list.snapshotChunk(from, 300);
    const part = new ListValue();
    part.loadChunk(String.fromCharCode(1) + body.slice(1));
    const count = next < 0 ? model.length - from : next - from;
    assert.deepEqual(part.toArray(), model.slice(from, from + count), `from ${from}`);
  }
  // A chunk flagged first starts the list afresh (a key read twice by a walk).
  const again = chunkedCopy(list, 1 << 20);
  again.loadChunk(list.snapshotChunk(0, 1 << 20).body);
  assert.deepEqual(again.toArray(), model);
  // Going on from a list changed since its last chunk breaks the invariant
  // the snapshot's write guard keeps: it is refused, never written torn.
  const { next } = list.snapshotChunk(0, 300);
  list.pushLeft("changed");
  assert.throws(() => list.snapshotChunk(next, 300), /unchanged between its snapshot chunks/);
});

Deno.test("list records replay as the commands applied them", () => {
  const engine = new Engine(1);
  const store = new Store(engine, undefined);
  const apply = (lsn: number, op: number, value: string, numeric: number) =>
    store.applyRecord({ lsn, op, db: 0, key: "l", value, expiresAtMs: numeric });
  apply(1, WalOp.ListPush, "a", LIST_PUSH_RIGHT);
  apply(2, WalOp.ListPush, "b", LIST_PUSH_RIGHT);
  apply(3, WalOp.ListPush, "z", LIST_PUSH_LEFT);
  apply(4, WalOp.ListInsert, "i", 1);
  apply(5, WalOp.ListSet, "B", 3);
  apply(6, WalOp.ListPush, "a", LIST_PUSH_RIGHT);
  apply(7, WalOp.ListRemove, "a", removeNumber(-1));
  const list = () => (engine.get("l") as ListValue).toArray();
  assert.deepEqual(list(), ["z", "i", "a", "B"]);
  apply(8, WalOp.ListPop, "", popNumber(true, 1));
  assert.deepEqual(list(), ["i", "a", "B"]);
  apply(9, WalOp.ListPop, "", popNumber(false, 100));
  assert.equal(engine.get("l"), undefined, "emptied: the key goes");
  apply(10, WalOp.ListPop, "", popNumber(false, 1)); // nothing to pop: nothing happens
  assert.equal(engine.get("l"), undefined);
});

Deno.test("snapshot + the WAL after it restore lists changed while the snapshot walked them", async () => {
  const dir = await Deno.makeTempDir();
  const wal = await Wal.open(walOptions(dir, { logger: log }), () => {});
  const store = new Store(new Engine(2), wal, { expireKeys: true });
  const db = store.database(0);
  const logListIn = (key: string, op: number, data: string[], numbers: number[]) =>
    db.changeCollection(key, op, data, numbers, listApplier(op));
  const push = (key: string, element: string, left = false) =>
    logListIn(key, WalOp.ListPush, [element], [left ? 0 : 1]);
  // A big list (written in many chunks), and small ones held inline.
  for (let i = 0; i < 30_000; i++) push("big", `element:${i}:${"p".repeat(i % 40)}`);
  for (let k = 0; k < 50; k++) for (let i = 0; i < 5; i++) push(`small${k}`, `s${i}`);
  await store.commit();

  const r = new Rng(11);
  let writing = true;
  const writer = (async () => {
    while (writing) {
      for (let j = 0; j < 20; j++) {
        const key = r.int(0, 2) === 0 ? "big" : `small${r.int(0, 49)}`;
        const list = db.collection(key, ListValue);
        const length = list?.length ?? 0;
        switch (r.int(0, 5)) {
          case 0:
            push(key, `new${r.int(0, 99)}`, r.int(0, 1) === 0);
            break;
          case 1:
            if (length > 0) {
              logListIn(key, WalOp.ListPop, [""], [popNumber(r.int(0, 1) === 0, 2)]);
            }
            break;
          case 2:
            if (length > 0) {
              logListIn(key, WalOp.ListSet, ["set"], [r.int(0, length - 1)]);
            }
            break;
          case 3:
            if (length > 0) {
              logListIn(key, WalOp.ListInsert, ["ins"], [r.int(0, length)]);
            }
            break;
          case 4:
            if (length > 0) {
              logListIn(key, WalOp.ListRemove, ["s1"], [removeNumber(1)]);
            }
            break;
          default:
            push(key, "tail");
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  })();
  const result = await takeSnapshot(store, { dir, replid: "", log, sliceKeys: 1 });
  writing = false;
  await writer;
  await store.commit();
  const expected = new Map<string, string[]>();
  for (let k = 0; k < 50; k++) {
    const list = db.collection(`small${k}`, ListValue);
    if (list !== undefined) expected.set(`small${k}`, list.toArray());
  }
  expected.set("big", db.collection("big", ListValue)!.toArray());
  await wal.close();

  const restored = new Engine(2);
  const replay = new Store(restored, undefined, { expireKeys: false });
  await loadSnapshot(result.path, (_db, k, v, e, type) => restored.load(k, v, e, type));
  let replayed = 0;
  for await (const record of readRecords(dir, result.lsn + 1)) {
    replay.applyRecord(record);
    replayed++;
  }
  assert.ok(replayed > 100, `writes happened during the walk (${replayed})`);
  for (const [key, elements] of expected) {
    const list = replay.database(0).collection(key, ListValue);
    assert.deepEqual(list?.toArray(), elements, key);
  }
});

Deno.test("a list grown out of its inline bytes is held as an object, not re-stored on every write", () => {
  const engine = new Engine(1);
  const store = new Store(engine, undefined);
  for (let i = 1; i <= 3 * LIST_NODE_ELEMENTS; i++) {
    store.applyRecord({
      lsn: i,
      op: WalOp.ListPush,
      db: 0,
      key: "l",
      value: `e${i}`,
      expiresAtMs: LIST_PUSH_RIGHT,
    });
    const list = engine.get("l") as ListValue;
    // Inline while small (a fresh copy per read); then the one object itself.
    assert.equal(list.unpacked, list.small, `after ${i} pushes`);
    if (!list.small) assert.equal(engine.get("l"), list);
  }
});
