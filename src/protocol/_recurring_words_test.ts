import assert from "node:assert/strict";
import { RECURRING_WORD_MAX_BYTES, recurringWord } from "./_recurring_words.ts";
import { binaryToBytes, bytesToBinary } from "../bytes/binary_string.ts";

Deno.test("recurringWord decodes any bytes exactly, and gives back one string per recurring word", () => {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
  const words: Uint8Array[] = [];
  for (let n = 0; n < 5000; n++) {
    const length = next() % (RECURRING_WORD_MAX_BYTES + 8);
    words.push(Uint8Array.from({ length }, () => next()));
  }
  for (const bytes of [...words, ...words]) {
    assert.equal(recurringWord(bytes, 0, bytes.length), bytesToBinary(bytes));
  }
  // Inside a bigger buffer, at an offset.
  const buffer = binaryToBytes("xxGETyySETzz\xff\x80\x00");
  assert.equal(recurringWord(buffer, 2, 5), "GET");
  assert.equal(recurringWord(buffer, 7, 10), "SET");
  assert.equal(recurringWord(buffer, 12, 15), "\xff\x80\x00");
  assert.equal(recurringWord(buffer, 3, 3), "");
});

Deno.test("recurringWord tells apart words that share the bytes its slot hash reads", () => {
  // Same length, first, middle and last bytes: the same slot.
  assert.equal(recurringWord(binaryToBytes("HSET"), 0, 4), "HSET");
  assert.equal(recurringWord(binaryToBytes("HXET"), 0, 4), "HXET");
  assert.equal(recurringWord(binaryToBytes("HSET"), 0, 4), "HSET");
});
