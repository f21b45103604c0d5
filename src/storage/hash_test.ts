import assert from "node:assert/strict";
import { fnv1a, partitionIndex } from "./hash.ts";

Deno.test("fnv1a: the published 32-bit FNV-1a vectors (their bits, as a signed int32)", () => {
  assert.equal(fnv1a(""), 0x811c9dc5 | 0);
  assert.equal(fnv1a("a") >>> 0, 0xe40c292c);
  assert.equal(fnv1a("foobar") >>> 0, 0xbf9cf968);
});

Deno.test("fnv1a: signed 32-bit (a small integer to V8), binary keys differ", () => {
  for (const key of ["", "a", "\x00", "\xff", "\x00\xff", "user1"]) {
    const h = fnv1a(key);
    assert.ok(Number.isInteger(h) && h === (h | 0), `${key}: ${h}`);
  }
  assert.notEqual(fnv1a("\x00"), fnv1a(""));
  assert.notEqual(fnv1a("\x00\xff"), fnv1a("\xff\x00"));
});

Deno.test("partitionIndex: in range, stable, 1 partition is 0", () => {
  for (let i = 0; i < 1000; i++) {
    const key = `key${i}`;
    const p = partitionIndex(fnv1a(key), 16);
    assert.ok(Number.isInteger(p) && p >= 0 && p < 16);
    assert.equal(partitionIndex(fnv1a(key), 16), p);
    assert.equal(p, (fnv1a(key) >>> 0) % 16);
    assert.equal(partitionIndex(fnv1a(key), 1), 0);
    const q = partitionIndex(fnv1a(key), 7);
    assert.ok(q >= 0 && q < 7);
  }
  assert.equal(partitionIndex(fnv1a("a"), 16), 0xe40c292c % 16);
});

Deno.test("partitionIndex: 10k keys use every one of 16 partitions evenly enough", () => {
  const counts = new Array(16).fill(0);
  for (let i = 0; i < 10_000; i++) counts[partitionIndex(fnv1a(`key:${i}`), 16)]++;
  for (const c of counts) assert.ok(c > 400 && c < 900, `counts ${counts}`);
});
