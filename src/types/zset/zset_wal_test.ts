import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { Engine } from "../../storage/engine.ts";
import { applyChange, EngineList } from "../../storage/store.ts";
import { WalOp } from "../../wal/record.ts";
import { encodeRecord, frameBytes } from "../../wal/encoder.ts";
import { DecodeError, decodeRecord, newDecodedRecord } from "../../wal/decoder.ts";
import { Wal } from "../../wal/wal.ts";
import { checkWal } from "../../wal/check.ts";
import { walMain } from "../../cmd/wal.ts";
import { openCollect, tempDir, walOptions } from "../../wal/_test_util.ts";
import { encodeScore } from "./score.ts";
import { applyZsetAdds, applyZsetRems, ZsetValue } from "./zset.ts";

Deno.test("ZsetAdd and ZsetRem round-trip through the codec; a ZsetAdd without a score or with a number is refused", () => {
  const buf = new Uint8Array(frameBytes(1, 32) * 2);
  encodeRecord(buf, 0, 1, WalOp.ZsetAdd, 2, "z", encodeScore(-1.5) + "m", 0, 0);
  const out = newDecodedRecord();
  assert.ok(decodeRecord(buf, 0, buf.length, 0, out) > 0);
  assert.deepEqual([out.op, out.db, out.key, out.value], [
    WalOp.ZsetAdd,
    2,
    "z",
    encodeScore(-1.5) + "m",
  ]);
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.ZsetAdd, 0, "z", "short", 0, 0), RangeError);
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.ZsetAdd, 0, "z", encodeScore(1), 3, 0));
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.ZsetRem, 0, "z", "m", 1, 0), RangeError);
  // A ZsetRem of 3 bytes relabelled ZsetAdd, checksum fixed: its fields are wrong.
  encodeRecord(buf, 0, 2, WalOp.ZsetRem, 0, "z", "abc", 0, 0);
  assert.ok(decodeRecord(buf, 0, buf.length, 0, out) > 0);
  buf[16] = WalOp.ZsetAdd;
  const body = new DataView(buf.buffer).getUint32(0, true);
  new DataView(buf.buffer).setUint32(4, crc32(buf.subarray(8, 8 + body), 0), true);
  assert.equal(decodeRecord(buf, 0, buf.length, 0, out), DecodeError.BadFields);
});

Deno.test("kvdb wal check understands sorted-set records; replay rebuilds the sorted set", async () => {
  await using dir = await tempDir();
  const options = walOptions(dir.path);
  const wal = await Wal.open(options, () => {});
  wal.beginGroup();
  wal.append(WalOp.ZsetAdd, 0, "z", encodeScore(2) + "b", 0);
  wal.append(WalOp.ZsetAdd, 0, "z", encodeScore(-Infinity) + "a\x00\xff", 0);
  wal.append(WalOp.ZsetAdd, 0, "z", encodeScore(0.1) + "", 0);
  wal.endGroup();
  wal.append(WalOp.ZsetRem, 0, "z", "b", 0);
  await wal.close();
  const report = await checkWal(dir.path);
  assert.deepEqual(report.damage, []);
  assert.equal(report.records, 4);
  const out: string[] = [];
  const code = await walMain(["check", "--dir", dir.path], {
    out: (l) => out.push(l),
    err: () => {},
  });
  assert.equal(code, 0, out.join("\n"));
  const { wal: reopened, records } = await openCollect(options);
  await reopened.close();
  const engine = new Engine(2);
  const list = new EngineList([engine]);
  for (const record of records) applyChange(list, record);
  const zset = engine.get("z") as ZsetValue;
  assert.deepEqual(zset.entries(), [["a\x00\xff", -Infinity], ["", 0.1]]);
});

Deno.test("rebuild records replayed give the same sorted set; ZsetRem of the last member deletes the key", () => {
  const big = new ZsetValue();
  for (let i = 0; i < 500; i++) big.set(`m${i}`, i % 17 - 8.5);
  const engine = new Engine(2);
  const list = new EngineList([engine]);
  let lsn = 0;
  applyChange(list, { lsn: ++lsn, op: WalOp.Set, db: 0, key: "z", value: "str", expiresAtMs: 0 });
  big.rebuildRecords((op, value, numeric) => {
    applyChange(list, { lsn: ++lsn, op, db: 0, key: "z", value, expiresAtMs: numeric });
  });
  const rebuilt = engine.get("z") as ZsetValue;
  assert.deepEqual(rebuilt.entries(), big.entries());
  assert.equal(rebuilt.encoding(), "skiplist");
  for (let i = 0; i < 499; i++) applyZsetRems(engine, "z", [`m${i}`]);
  assert.equal((engine.get("z") as ZsetValue).length, 1);
  applyZsetRems(engine, "z", ["m499", "m499"]);
  assert.equal(engine.get("z"), undefined);
  applyZsetRems(engine, "z", ["m0"]); // a missing key: nothing
  applyZsetAdds(engine, "small", [encodeScore(1) + "x", encodeScore(0) + "y"]);
  const small = engine.get("small") as ZsetValue;
  assert.deepEqual(small.entries(), [["y", 0], ["x", 1]]);
  // Small: held inline as its packed bytes, read back as a fresh copy.
  assert.notEqual(engine.get("small"), small);
});
