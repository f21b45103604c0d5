import assert from "node:assert/strict";
import { readU32 } from "./_bytes.ts";
import { decodeRecord, newDecodedRecord } from "./decoder.ts";
import { encodeRecord, frameBytes, RECORD_HEADER_BYTES } from "./encoder.ts";
import { WAL_MAX_INTEGER, WAL_MAX_KEY_BYTES, WalOp } from "./record.ts";

function allBytes(): string {
  let s = "";
  for (let i = 0; i < 256; i++) s += String.fromCharCode(i);
  return s;
}

function roundTrip(
  lsn: number,
  op: number,
  key: string,
  value: string,
  expiresAtMs: number,
  seed = 7,
  db = 0,
) {
  const buf = new Uint8Array(frameBytes(key.length, value.length));
  const crc = encodeRecord(buf, 0, lsn, op, db, key, value, expiresAtMs, seed);
  const out = newDecodedRecord();
  assert.deepEqual(decodeRecord(buf, 0, buf.length, seed, out), buf.length);
  assert.deepEqual(out, { lsn, op, db, flags: 0, key, value, expiresAtMs, crc });
}

Deno.test("codec round-trips binary keys and values of every op", () => {
  const binary = allBytes();
  roundTrip(1, WalOp.Set, "\x00key\xff\n", "\x00\xff\r\n\x00", 0);
  roundTrip(2, WalOp.Set, binary, binary + binary, 1_700_000_000_123);
  roundTrip(3, WalOp.Set, "", "", 0);
  roundTrip(4, WalOp.Set, "big", "\xff\x00\n".repeat(65536 / 3 + 1).slice(0, 65536), 0);
  roundTrip(5, WalOp.Del, "\x00", "", 0);
  roundTrip(6, WalOp.FlushAll, "", "", 0);
  roundTrip(7, WalOp.PExpireAt, "k", "", WAL_MAX_INTEGER);
  roundTrip(WAL_MAX_INTEGER, WalOp.PExpireAt, "k", "", 0);
  roundTrip(2 ** 32 + 5, WalOp.Set, "k", "v", 2 ** 40 + 3);
  roundTrip(8, WalOp.SetRange, "k", "\x00\xff", 64 * 1024 * 1024 - 2);
  roundTrip(9, WalOp.SetRange, "k", "", 0);
  roundTrip(10, WalOp.Set, "k", "v", 0, 7, 15);
  roundTrip(11, WalOp.Del, "k", "", 0, 7, 0xffff);
});

Deno.test("codec: a record older than databases (reserved zeros) is database 0", () => {
  const buf = new Uint8Array(frameBytes(1, 1));
  encodeRecord(buf, 0, 1, WalOp.Set, 0, "k", "v", 0, 0);
  assert.deepEqual([buf[17], buf[18], buf[19]], [0, 0, 0]);
  const out = newDecodedRecord();
  assert.ok(decodeRecord(buf, 0, buf.length, 0, out) > 0);
  assert.equal(out.db, 0);
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.Set, 0x10000, "k", "v", 0, 0), RangeError);
  assert.throws(
    () => encodeRecord(buf, 0, 1, WalOp.SetRange, 0, "k", "v", 64 * 1024 * 1024, 0),
    RangeError,
  );
});

Deno.test("codec handles every padding length", () => {
  for (let extra = 0; extra < 16; extra++) {
    const key = "k".repeat(extra >> 1);
    const value = "\x00".repeat(extra - (extra >> 1));
    const n = frameBytes(key.length, value.length);
    assert.deepEqual(n % 8, 0);
    assert(n - (8 + 24 + extra) < 8 && n >= 8 + 24 + extra);
    // Stale bytes in a reused buffer must not leak into the padding.
    const buf = new Uint8Array(n).fill(0xee);
    encodeRecord(buf, 0, extra + 1, WalOp.Set, 0, key, value, 0, 0);
    assert.deepEqual(readU32(buf, 0), 24 + extra);
    for (let p = 8 + 24 + extra; p < n; p++) assert.deepEqual(buf[p], 0);
    roundTrip(extra + 1, WalOp.Set, key, value, 0);
  }
});

Deno.test("encoder writes the documented layout", () => {
  const buf = new Uint8Array(frameBytes(2, 3));
  encodeRecord(buf, 0, 0x1_0000_0002, WalOp.Set, 0, "ab", "xyz", 5, 0);
  assert.deepEqual(buf.length, 40);
  assert.deepEqual(readU32(buf, 0), 24 + 5); // body length
  assert.deepEqual([readU32(buf, 8), readU32(buf, 12)], [2, 1]); // LSN low, high
  assert.deepEqual(buf[16], WalOp.Set);
  assert.deepEqual(readU32(buf, 20), 2); // key length
  assert.deepEqual([readU32(buf, 24), readU32(buf, 28)], [5, 0]); // expiry
  assert.deepEqual(new TextDecoder().decode(buf.subarray(RECORD_HEADER_BYTES, 37)), "abxyz");
});

Deno.test("encoder rejects invalid records", () => {
  const buf = new Uint8Array(1024);
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.Set, 0, "\u0100", "", 0, 0), RangeError);
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.Set, 0, "k", "€", 0, 0), RangeError);
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.Del, 0, "k", "v", 0, 0), RangeError);
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.FlushAll, 0, "k", "", 0, 0), RangeError);
  assert.throws(() => encodeRecord(buf, 0, 1, 99, 0, "k", "", 0, 0), RangeError);
  assert.throws(() => encodeRecord(buf, 0, 0, WalOp.Set, 0, "k", "", 0, 0), RangeError);
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.Set, 0, "k", "", -1, 0), RangeError);
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.Set, 0, "k", "", 1.5, 0), RangeError);
  assert.throws(() => encodeRecord(buf, 1000, 1, WalOp.Set, 0, "k", "v", 0, 0), RangeError);
  assert.throws(() => frameBytes(WAL_MAX_KEY_BYTES + 1, 0), RangeError);
});
