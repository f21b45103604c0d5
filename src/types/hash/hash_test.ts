import assert from "node:assert/strict";
import { Engine } from "../../storage/engine.ts";
import { applyChange, EngineList } from "../../storage/store.ts";
import { WalOp } from "../../wal/record.ts";
import { encodeRecord, frameBytes } from "../../wal/encoder.ts";
import { decodeRecord, newDecodedRecord } from "../../wal/decoder.ts";
import {
  applyHashDels,
  applyHashPairs,
  applyHashSets,
  HASH_MAX_LISTPACK_ENTRIES,
  HASH_MAX_LISTPACK_VALUE,
  HashValue,
} from "./hash.ts";

function sorted(hash: HashValue): string[] {
  return hash.entries().map(([f, v]) => `${f}=${v}`).sort();
}

Deno.test("a listpack keeps insertion order; an overwrite keeps its place", () => {
  const hash = new HashValue();
  assert.equal(hash.set("b", "1"), true);
  assert.equal(hash.set("a", "2"), true);
  assert.equal(hash.set("b", "3"), false);
  assert.equal(hash.set("\x00\xff", ""), true);
  assert.deepEqual(hash.entries(), [["b", "3"], ["a", "2"], ["\x00\xff", ""]]);
  assert.equal(hash.delete("a"), true);
  assert.equal(hash.delete("a"), false);
  assert.deepEqual(hash.entries(), [["b", "3"], ["\x00\xff", ""]]);
  assert.equal(hash.get("\x00\xff"), "");
  assert.equal(hash.get("zz"), undefined);
  assert.equal(hash.encoding(), "listpack");
  assert.equal(hash.length, 2);
});

Deno.test("a hash becomes a hashtable past either listpack limit, and stays one", () => {
  const many = new HashValue();
  for (let i = 0; i < HASH_MAX_LISTPACK_ENTRIES; i++) many.set(`f${i}`, `${i}`);
  assert.equal(many.encoding(), "listpack");
  many.set("one more", "x");
  assert.equal(many.encoding(), "hashtable");
  for (let i = 0; i < HASH_MAX_LISTPACK_ENTRIES; i++) many.delete(`f${i}`);
  assert.equal(many.encoding(), "hashtable");
  assert.deepEqual(many.entries(), [["one more", "x"]]);

  const long = new HashValue();
  long.set("f", "v".repeat(HASH_MAX_LISTPACK_VALUE));
  assert.equal(long.encoding(), "listpack");
  long.set("g", "v".repeat(HASH_MAX_LISTPACK_VALUE + 1));
  assert.equal(long.encoding(), "hashtable");
  assert.deepEqual(sorted(long), [`f=${"v".repeat(64)}`, `g=${"v".repeat(65)}`]);
});

Deno.test("hashtable positions stay put while other fields come and go", () => {
  const hash = new HashValue();
  for (let i = 0; i < 1000; i++) hash.set(`f${i}`, `${i}`);
  const at = Array.from({ length: hash.positions }, (_, i) => hash.fieldAt(i));
  const place = at.indexOf("f500");
  for (let i = 0; i < 500; i++) hash.delete(`f${i}`);
  for (let i = 0; i < 300; i++) hash.set(`g${i}`, "x");
  assert.equal(hash.fieldAt(place), "f500");
  assert.equal(hash.length, 800);
});

Deno.test("snapshot chunks rebuild a hash of either encoding, resumed from any position", () => {
  for (const fields of [5, 20_000]) {
    const hash = new HashValue();
    for (let i = 0; i < fields; i++) hash.set(`field:${i}`, `value:${i}:\x00\r\n`);
    for (let i = 0; i < fields; i += 7) hash.delete(`field:${i}`);
    const copy = new HashValue();
    let chunks = 0;
    for (let at = 0; at >= 0;) {
      const chunk = hash.snapshotChunk(at, 4096);
      assert.ok(chunk.body.length < 4096 + 100, "a chunk is about the size asked");
      copy.loadChunk(chunk.body);
      chunks++;
      at = chunk.next;
    }
    assert.deepEqual(sorted(copy), sorted(hash));
    assert.equal(copy.encoding(), hash.encoding());
    assert.ok(fields < 100 || chunks > 50, "a big hash takes many chunks");
  }
});

Deno.test("a clone is independent of its source", () => {
  for (const fields of [3, 600]) {
    const hash = new HashValue();
    for (let i = 0; i < fields; i++) hash.set(`f${i}`, "v");
    const copy = hash.clone();
    copy.set("f0", "changed");
    copy.delete("f1");
    assert.equal(hash.get("f0"), "v");
    assert.equal(hash.get("f1"), "v");
    assert.equal(copy.encoding(), hash.encoding());
  }
});

Deno.test("rebuild records replayed through applyChange give the same hash, and HashDel of the last field deletes the key", () => {
  const hash = new HashValue();
  for (let i = 0; i < 700; i++) hash.set(`f${i}`, `v${i}`);
  const engine = new Engine(2);
  const list = new EngineList([engine]);
  let lsn = 0;
  applyChange(list, {
    lsn: ++lsn,
    op: WalOp.Set,
    db: 0,
    key: "h",
    value: "a string",
    expiresAtMs: 0,
  });
  hash.rebuildRecords((op, value, numeric) => {
    applyChange(list, { lsn: ++lsn, op, db: 0, key: "h", value, expiresAtMs: numeric });
  });
  const rebuilt = engine.get("h");
  assert.ok(rebuilt instanceof HashValue);
  assert.deepEqual(sorted(rebuilt), sorted(hash));
  for (let i = 0; i < 699; i++) applyHashDels(engine, "h", [`f${i}`]);
  assert.equal((engine.get("h") as HashValue).length, 1);
  applyHashDels(engine, "h", ["f699", "f699"]);
  assert.equal(engine.get("h"), undefined);
  applyHashDels(engine, "h", ["f0"]); // a missing key: nothing
  assert.equal(engine.get("h"), undefined);
  applyHashSets(engine, "h2", ["fieldvalue", "ab"], [5, 1]);
  const small = engine.get("h2") as HashValue;
  assert.deepEqual(small.entries(), [["field", "value"], ["a", "b"]]);
  // Small: held inline as its packed bytes, read back as a fresh copy.
  assert.notEqual(engine.get("h2"), small);
  small.set("c", "d");
  assert.equal((engine.get("h2") as HashValue).length, 2, "a copy's change is not stored");
});

Deno.test("HashSet and HashDel records round-trip through the codec; a field longer than its record is refused", () => {
  const buf = new Uint8Array(frameBytes(1, 16) * 2);
  encodeRecord(buf, 0, 1, WalOp.HashSet, 3, "h", "fieldvalue", 5, 0);
  const out = newDecodedRecord();
  assert.ok(decodeRecord(buf, 0, buf.length, 0, out) > 0);
  assert.deepEqual([out.op, out.db, out.key, out.value, out.expiresAtMs], [
    WalOp.HashSet,
    3,
    "h",
    "fieldvalue",
    5,
  ]);
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.HashSet, 0, "h", "fv", 3, 0), RangeError);
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.HashDel, 0, "h", "f", 1, 0), RangeError);
  encodeRecord(buf, 0, 2, WalOp.HashDel, 0, "h", "f", 0, 0);
  assert.ok(decodeRecord(buf, 0, buf.length, 0, out) > 0);
  assert.equal(out.op, WalOp.HashDel);
});

Deno.test("a small hash read from inline bytes and grown past the listpack is stored once, then changed in place", () => {
  const engine = new Engine(4);
  const pairs = ["HSET", "h"];
  for (let i = 0; i < HASH_MAX_LISTPACK_ENTRIES; i++) pairs.push(`f${i}`, "v");
  assert.equal(applyHashPairs(engine, "h", pairs, 2), HASH_MAX_LISTPACK_ENTRIES);
  const inline = engine.get("h") as HashValue;
  assert.equal(inline.unpacked, true); // a copy read from the key table's bytes
  assert.equal(applyHashPairs(engine, "h", ["HSET", "h", "one more", "v"], 2), 1);
  const table = engine.get("h") as HashValue;
  assert.equal(table.encoding(), "hashtable");
  // The object itself now: a write changes it where it is, with no store.
  assert.equal(table.unpacked, false);
  assert.equal(engine.get("h"), table);
  assert.equal(applyHashPairs(engine, "h", ["HSET", "h", "f0", "new", "f0", "newer"], 2), 0);
  assert.equal(table.get("f0"), "newer");
  assert.equal(table.length, HASH_MAX_LISTPACK_ENTRIES + 1);
});
