import assert from "node:assert/strict";
import { OutBuffer } from "../protocol/out_buffer.ts";
import type { WalRecord } from "../wal/record.ts";
import {
  encodeAck,
  encodeHeartbeat,
  encodeRecords,
  type Frame,
  FrameDecoder,
  FrameError,
  FrameType,
} from "./frame.ts";

const RECORDS: WalRecord[] = [
  { lsn: 1, op: 1, db: 0, flags: 0, key: "k", value: "v", expiresAtMs: 0 },
  {
    lsn: 2 ** 40 + 7,
    op: 4,
    db: 15,
    flags: 1,
    key: "\x00\xff\r\n",
    value: "",
    expiresAtMs: 1_800_000_000_123,
  },
  {
    lsn: 2 ** 53 - 1,
    op: 1,
    db: 65535,
    flags: 0,
    key: "big",
    value: "x".repeat(100_000),
    expiresAtMs: 0,
  },
];

function encodeAll(): Uint8Array {
  const out = new OutBuffer();
  encodeRecords(out, RECORDS);
  encodeHeartbeat(out, 12345, 1_700_000_000_000);
  encodeAck(out, 2 ** 52);
  return out.view().slice();
}

function drain(decoder: FrameDecoder): Frame[] {
  const frames: Frame[] = [];
  for (let f = decoder.next(); f; f = decoder.next()) frames.push(f);
  return frames;
}

const EXPECTED: Frame[] = [
  { type: FrameType.Records, records: RECORDS },
  { type: FrameType.Heartbeat, durableLsn: 12345, clockMs: 1_700_000_000_000 },
  { type: FrameType.Ack, durableLsn: 2 ** 52 },
];

Deno.test("frames round-trip whole", () => {
  const decoder = new FrameDecoder();
  decoder.push(encodeAll());
  assert.deepEqual(drain(decoder), EXPECTED);
  assert.equal(decoder.bufferedBytes, 0);
});

Deno.test("frames round-trip at any chunking", () => {
  const bytes = encodeAll();
  for (const chunk of [1, 7, 4096, 65_537]) {
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    for (let at = 0; at < bytes.length; at += chunk) {
      decoder.push(bytes.subarray(at, at + chunk));
      frames.push(...drain(decoder));
    }
    assert.deepEqual(frames, EXPECTED, `chunk ${chunk}`);
  }
});

Deno.test("a flipped byte anywhere is a FrameError or an incomplete frame, never a wrong frame", () => {
  const bytes = encodeAll();
  for (let i = 0; i < bytes.length; i += 997) {
    const damaged = bytes.slice();
    damaged[i] ^= 0x40;
    const decoder = new FrameDecoder();
    decoder.push(damaged);
    try {
      const frames = drain(decoder);
      assert.ok(frames.length < EXPECTED.length, `byte ${i}: damage went unnoticed`);
      assert.deepEqual(frames, EXPECTED.slice(0, frames.length));
    } catch (e) {
      assert.ok(e instanceof FrameError, String(e));
    }
  }
});

Deno.test("absurd lengths are refused before buffering", () => {
  const decoder = new FrameDecoder();
  decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
  assert.throws(() => decoder.next(), FrameError);
  const zero = new FrameDecoder();
  zero.push(new Uint8Array(8));
  assert.throws(() => zero.next(), FrameError);
});
