import assert from "node:assert/strict";
import {
  integerArgument,
  parseInt64,
  parseShortInteger,
  parseShortIntegerBytes,
} from "./command_spec.ts";

/** Redis's `string2ll` syntax, written the slow obvious way. */
function reference(s: string): bigint | undefined {
  if (!/^(?:0|-?[1-9][0-9]*)$/.test(s)) return undefined;
  const value = BigInt(s);
  return value < -(2n ** 63n) || value > 2n ** 63n - 1n ? undefined : value;
}

Deno.test("parseShortInteger, its bytes form and parseInt64 agree with string2ll's syntax", () => {
  const edge = [
    "",
    "-",
    "0",
    "-0",
    "00",
    "01",
    "-01",
    "+1",
    " 1",
    "1 ",
    "1a",
    "9",
    "-9",
    "999999999999999",
    "-999999999999999",
    "1000000000000000",
    "9007199254740993",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "１",
  ];
  // A fixed-seed generator over the characters that matter.
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = "-0123456789+ a";
  const random = Array.from({ length: 20_000 }, () => {
    const length = Math.floor(next() * 22);
    let s = "";
    for (let i = 0; i < length; i++) {
      s += next() < 0.85
        ? String(Math.floor(next() * 10))
        : alphabet[Math.floor(next() * alphabet.length)];
    }
    return s;
  });
  let short = 0;
  for (const s of [...edge, ...random]) {
    const expected = reference(s);
    assert.equal(parseInt64(s), expected, JSON.stringify(s));
    const fast = parseShortInteger(s);
    // The bytes form reads the same text where it lies inside other bytes.
    const bytes = new Uint8Array(s.length + 4).fill(0x37);
    for (let i = 0; i < s.length; i++) bytes[2 + i] = s.charCodeAt(i) & 0xff;
    if (![...s].some((c) => c.charCodeAt(0) > 0xff)) {
      assert.equal(parseShortIntegerBytes(bytes, 2, s.length), fast, JSON.stringify(s));
    }
    if (fast !== undefined) {
      short++;
      assert.equal(BigInt(fast), expected, JSON.stringify(s));
    } else if (expected !== undefined) {
      // Only long integers are left to the slow path.
      assert.ok(s.replace("-", "").length > 15, JSON.stringify(s));
    }
  }
  assert.ok(short > 1000, "the fast path was exercised");
});

Deno.test("integerArgument answers numbers within ±2^53 and refuses the rest", () => {
  assert.equal(integerArgument("-42"), -42);
  assert.equal(integerArgument("9007199254740992"), 2 ** 53);
  assert.throws(() => integerArgument("9007199254740993"), /not an integer/);
  assert.throws(() => integerArgument("1.5"), /not an integer/);
});
