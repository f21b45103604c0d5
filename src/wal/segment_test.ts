import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "./_test_util.ts";
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  listSegments,
  parseSegmentName,
  SEGMENT_HEADER_BYTES,
  segmentName,
} from "./segment.ts";

Deno.test("segment names are zero-padded and parse back", () => {
  assert.equal(segmentName(1), "0000000000000001.wal");
  assert.equal(segmentName(Number.MAX_SAFE_INTEGER), "9007199254740991.wal");
  assert.equal(parseSegmentName(segmentName(123456789)), 123456789);
  assert.equal(parseSegmentName("00000000000000010.wal"), 10);
  for (
    const bad of [
      "1.wal",
      "0000000000000001.wal.bak",
      "000000000000000x.wal",
      "0000000000000000.wal",
    ]
  ) {
    assert.equal(parseSegmentName(bad), undefined, bad);
  }
  assert.throws(() => segmentName(0), RangeError);
});

Deno.test("listing sorts numerically and reports foreign files", async () => {
  await using dir = await tempDir();
  // A 17-digit name sorts before 16-digit ones as a string; not numerically.
  for (
    const name of [
      "0000000000000100.wal",
      "00000000000000002.wal",
      "0000000000000010.wal",
      "0000000000000009.wal",
    ]
  ) {
    await Deno.writeFile(join(dir.path, name), new Uint8Array());
  }
  await Deno.writeTextFile(join(dir.path, "notes.txt"), "hi");
  await Deno.mkdir(join(dir.path, "repair-backup-20250101T000000Z"));
  await Deno.mkdir(join(dir.path, "other-dir"));
  const { segments, foreign } = await listSegments(dir.path);
  assert.deepEqual(segments.map((s) => s.firstLsn), [2, 9, 10, 100]);
  assert.deepEqual(foreign, ["notes.txt", "other-dir"]);
});

Deno.test("two names for one LSN are not both trusted", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(join(dir.path, "0000000000000005.wal"), new Uint8Array());
  await Deno.writeFile(join(dir.path, "00000000000000005.wal"), new Uint8Array());
  const { segments, foreign } = await listSegments(dir.path);
  assert.equal(segments.length, 1);
  assert.equal(foreign.length, 1);
});

Deno.test("segment header round-trips and detects damage", () => {
  const bytes = encodeSegmentHeader({ firstLsn: 2 ** 40 + 1, seedCrc: 0xdeadbeef });
  assert.equal(bytes.length, SEGMENT_HEADER_BYTES);
  assert.deepEqual(decodeSegmentHeader(bytes), { firstLsn: 2 ** 40 + 1, seedCrc: 0xdeadbeef });
  for (let i = 0; i < SEGMENT_HEADER_BYTES; i++) {
    const copy = bytes.slice();
    copy[i] ^= 1;
    assert.equal(typeof decodeSegmentHeader(copy), "string", `flip at ${i}`);
  }
  assert.match(decodeSegmentHeader(bytes.subarray(0, 10)) as string, /cut short/);
});
