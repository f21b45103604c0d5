import assert from "node:assert/strict";
import { COMMAND_NAMES, RecurringWords, SHORT_ARGUMENTS } from "./_recurring_words.ts";
import { binaryToBytes, bytesToBinary } from "../bytes/binary_string.ts";

Deno.test("a word cache decodes any bytes exactly, and gives back one string per recurring word", () => {
  for (const words of [COMMAND_NAMES, SHORT_ARGUMENTS, new RecurringWords(4, 2)]) {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
    const samples: Uint8Array[] = [];
    for (let n = 0; n < 5000; n++) {
      const length = next() % (words.maxBytes + 8);
      samples.push(Uint8Array.from({ length }, () => next()));
    }
    for (const bytes of [...samples, ...samples]) {
      assert.equal(words.word(bytes, 0, bytes.length), bytesToBinary(bytes));
    }
    // Inside a bigger buffer, at an offset.
    const buffer = binaryToBytes("xxGETyySETzz\xff\x80\x00");
    assert.equal(words.word(buffer, 2, 5), "GET");
    assert.equal(words.word(buffer, 7, 10), "SET");
    assert.equal(words.word(buffer, 12, 15), "\xff\x80\x00");
    assert.equal(words.word(buffer, 3, 3), "");
  }
});

Deno.test("a word cache tells apart words that share the bytes its slot hash reads", () => {
  // Same length, first, middle and last bytes: the same slot.
  assert.equal(COMMAND_NAMES.word(binaryToBytes("HSET"), 0, 4), "HSET");
  assert.equal(COMMAND_NAMES.word(binaryToBytes("HXET"), 0, 4), "HXET");
  assert.equal(COMMAND_NAMES.word(binaryToBytes("HSET"), 0, 4), "HSET");
});

Deno.test("a word cache's slots are a power of two", () => {
  assert.throws(() => new RecurringWords(8, 3), /power of two/);
  assert.equal(new RecurringWords(8, 1).word(binaryToBytes("~"), 0, 1), "~");
});
