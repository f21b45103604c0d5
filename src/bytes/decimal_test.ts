import assert from "node:assert/strict";
import { decimalLength, writeDecimal } from "./decimal.ts";
import { seededRandom } from "../_seeded_random.ts";

Deno.test("writeDecimal writes String(value)'s bytes, decimalLength says how many", () => {
  const random = seededRandom(7);
  const values = [0, 1, -1, 9, 10, -10, 99, 100, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 53 - 1];
  values.push(-(2 ** 53 - 1), 999_999_999_999_999, 1_000_000_000_000_000, -1_000_000_000_000_000);
  for (let i = 0; i < 5_000; i++) {
    const magnitude = Math.floor(random() * 10 ** Math.floor(random() * 16));
    values.push(random() < 0.5 ? -magnitude : magnitude);
  }
  for (const value of values) {
    const text = String(value);
    assert.equal(decimalLength(value), text.length, text);
    const bytes = new Uint8Array(text.length + 4).fill(0xee);
    assert.equal(writeDecimal(value, bytes, 2), 2 + text.length, text);
    assert.equal(new TextDecoder().decode(bytes.subarray(2, 2 + text.length)), text);
    assert.equal(bytes[1], 0xee);
    assert.equal(bytes[2 + text.length], 0xee);
  }
});
