import assert from "node:assert/strict";
import {
  binaryEquals,
  binaryToBytes,
  binaryToText,
  bytesToBinary,
  textToBinary,
  writeBinary,
} from "./binary_string.ts";

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

function pattern(length: number): Uint8Array {
  // Not periodic in 256 or 8192, so a chunk boundary mistake shows.
  return Uint8Array.from({ length }, (_, i) => (i * 31 + (i >> 8) * 7) & 0xff);
}

Deno.test("bytesToBinary: every byte value maps to its char code", () => {
  const s = bytesToBinary(ALL_BYTES);
  assert.equal(s.length, 256);
  for (let i = 0; i < 256; i++) assert.equal(s.charCodeAt(i), i);
  for (let i = 0; i < 256; i++) {
    assert.equal(bytesToBinary(new Uint8Array([i])), String.fromCharCode(i));
  }
});

Deno.test("bytesToBinary: empty and sub-ranges", () => {
  assert.equal(bytesToBinary(new Uint8Array(0)), "");
  const bytes = new TextEncoder().encode("hello, world");
  assert.equal(bytesToBinary(bytes, 7), "world");
  assert.equal(bytesToBinary(bytes, 0, 5), "hello");
  assert.equal(bytesToBinary(bytes, 3, 3), "");
  const long = pattern(100);
  assert.equal(bytesToBinary(long, 10, 90), bytesToBinary(long.slice(10, 90)));
});

Deno.test("bytesToBinary: every byte value on both sides of the short path, at any offset", () => {
  // 0x80-0x9F are where a windows-1252 "latin1" decoder would differ.
  const bytes = Uint8Array.from({ length: 600 }, (_, i) => (i * 37) & 0xff);
  for (const length of [24, 25, 40, 256, 511]) {
    for (const start of [0, 1, 77]) {
      const s = bytesToBinary(bytes, start, start + length);
      assert.equal(s.length, length);
      for (let i = 0; i < length; i++) assert.equal(s.charCodeAt(i), bytes[start + i]);
    }
  }
});

Deno.test("round trip: all 256 byte values", () => {
  assert.deepEqual(binaryToBytes(bytesToBinary(ALL_BYTES)), ALL_BYTES);
  let s = "";
  for (let i = 0; i < 256; i++) s += String.fromCharCode(i);
  assert.equal(bytesToBinary(binaryToBytes(s)), s);
});

Deno.test("round trip: sizes around the short path and the 8192-char chunks", () => {
  for (
    const length of [
      1,
      15,
      16,
      17,
      23,
      24,
      25,
      26,
      255,
      8191,
      8192,
      8193,
      16384,
      16385,
      100_000,
      1_000_003,
    ]
  ) {
    const bytes = pattern(length);
    const s = bytesToBinary(bytes);
    assert.equal(s.length, length);
    for (const i of [0, length >> 1, length - 1]) assert.equal(s.charCodeAt(i), bytes[i]);
    assert.deepEqual(binaryToBytes(s), bytes, `length ${length}`);
  }
});

Deno.test("bytesToBinary: large sub-range spanning chunks", () => {
  const bytes = pattern(30_000);
  const s = bytesToBinary(bytes, 5000, 25_001);
  assert.equal(s.length, 20_001);
  assert.deepEqual(binaryToBytes(s), bytes.slice(5000, 25_001));
});

Deno.test("writeBinary: writes at an offset and returns the end", () => {
  const out = new Uint8Array(8).fill(0xaa);
  assert.equal(writeBinary("\x00\xff\x41", out, 2), 5);
  assert.deepEqual(Array.from(out), [0xaa, 0xaa, 0x00, 0xff, 0x41, 0xaa, 0xaa, 0xaa]);
  assert.equal(writeBinary("", out, 8), 8);
});

Deno.test("writeBinary: a large string", () => {
  const bytes = pattern(20_000);
  const out = new Uint8Array(20_010);
  assert.equal(writeBinary(bytesToBinary(bytes), out, 10), 20_010);
  assert.deepEqual(out.subarray(10), bytes);
});

Deno.test("textToBinary / binaryToText: UTF-8", () => {
  assert.equal(textToBinary("abc"), "abc");
  assert.equal(textToBinary("é"), "\xc3\xa9");
  assert.equal(textToBinary("€"), "\xe2\x82\xac");
  assert.equal(textToBinary("😀"), "\xf0\x9f\x98\x80");
  assert.equal(textToBinary(""), "");
  for (const text of ["", "plain", "héllo wörld", "日本語", "😀 emoji", "\x00\n"]) {
    assert.equal(binaryToText(textToBinary(text)), text);
  }
  assert.equal(binaryToText("\xc3\xa9"), "é");
  assert.equal(binaryToText("a\xffb"), "a\ufffdb");
});

Deno.test("binaryEquals: a range of bytes against a binary string, at an offset", () => {
  const bytes = new Uint8Array([0, 0x61, 0xff, 0x62]);
  assert.equal(binaryEquals(bytes, 1, "a\xffb"), true);
  assert.equal(binaryEquals(bytes, 1, "a\xfeb"), false);
  assert.equal(binaryEquals(bytes, 0, ""), true);
  assert.equal(binaryEquals(bytes, 2, "\xffb"), true);
});
