import assert from "node:assert/strict";
import { writeU32 } from "./_bytes.ts";
import {
  checkFrame,
  DECODE_INCOMPLETE,
  DECODE_ZERO_FILL,
  DecodeError,
  decodeRecord,
  describeDecodeResult,
  newDecodedRecord,
} from "./decoder.ts";
import { encodeRecord, frameBytes } from "./encoder.ts";
import { WalOp } from "./record.ts";

/** Encodes records back to back, chained from seed 0; returns bytes and CRCs. */
function history(
  entries: [string, string][],
): { bytes: Uint8Array; offsets: number[]; crcs: number[] } {
  const size = entries.reduce((n, [k, v]) => n + frameBytes(k.length, v.length), 0);
  const bytes = new Uint8Array(size);
  const offsets: number[] = [];
  const crcs: number[] = [];
  let at = 0;
  let seed = 0;
  entries.forEach(([k, v], i) => {
    offsets.push(at);
    seed = encodeRecord(bytes, at, i + 1, WalOp.Set, 0, k, v, 0, seed);
    crcs.push(seed);
    at += frameBytes(k.length, v.length);
  });
  return { bytes, offsets, crcs };
}

Deno.test("chained CRC rejects a record spliced in from another history", () => {
  const a = history([["x", "1"], ["y", "2"]]);
  // Same LSN, same key and value for the second record; only the history
  // before it differs.
  const b = history([["x", "other"], ["y", "2"]]);
  const spliced = new Uint8Array(a.bytes.length);
  spliced.set(a.bytes.subarray(0, a.offsets[1]));
  spliced.set(b.bytes.subarray(b.offsets[1]), a.offsets[1]);
  const out = newDecodedRecord();
  assert.deepEqual(decodeRecord(spliced, 0, spliced.length, 0, out), a.offsets[1]);
  assert.deepEqual(
    decodeRecord(spliced, a.offsets[1], spliced.length, out.crc, out),
    DecodeError.BadChecksum,
  );
  // The genuine successor decodes with the same seed.
  assert(decodeRecord(a.bytes, a.offsets[1], a.bytes.length, a.crcs[0], out) > 0);
});

Deno.test("every single-bit flip in a frame is detected", () => {
  const { bytes } = history([["key\x00", "value\xff\n"]]);
  const out = newDecodedRecord();
  for (let i = 0; i < bytes.length; i++) {
    for (const mask of [0x01, 0x80]) {
      const copy = bytes.slice();
      copy[i] ^= mask;
      const code = decodeRecord(copy, 0, copy.length, 0, out);
      assert(code <= 0, `flip at byte ${i} mask ${mask} went unnoticed`);
    }
  }
});

Deno.test("every cut-short frame is incomplete, not an error", () => {
  const { bytes } = history([["key", "v".repeat(100)]]);
  const out = newDecodedRecord();
  for (let end = 0; end < bytes.length; end++) {
    assert.deepEqual(decodeRecord(bytes, 0, end, 0, out), DECODE_INCOMPLETE, `cut at ${end}`);
  }
});

Deno.test("a zero length field is zero fill (preallocated, unwritten), not a record", () => {
  const out = newDecodedRecord();
  assert.equal(decodeRecord(new Uint8Array(64), 0, 64, 0, out), DECODE_ZERO_FILL);
  assert.equal(checkFrame(new Uint8Array(8), 0, 8), DECODE_ZERO_FILL);
  // Fewer than 8 bytes: not yet decidable.
  assert.equal(decodeRecord(new Uint8Array(64), 0, 4, 0, out), DECODE_INCOMPLETE);
});

Deno.test("impossible lengths are rejected before reading on", () => {
  const bytes = new Uint8Array(64);
  const out = newDecodedRecord();
  writeU32(bytes, 0, 8);
  assert.deepEqual(decodeRecord(bytes, 0, 64, 0, out), DecodeError.BadLength);
  writeU32(bytes, 0, 0xffff_fff0);
  assert.deepEqual(decodeRecord(bytes, 0, 64, 0, out), DecodeError.BadLength);
  assert.notEqual(describeDecodeResult(DecodeError.BadLength), "");
});
