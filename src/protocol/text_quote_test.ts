import assert from "node:assert/strict";
import { binaryToBytes } from "../bytes/binary_string.ts";
import { splitTextArguments } from "./text_decoder.ts";
import { needsQuotes, quoteBinary, renderTextArgument, renderTextValue } from "./text_quote.ts";

/** mulberry32: a small seeded PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes the quoting must handle with care, drawn more often than the rest. */
const TRICKY = [0x00, 0x07, 0x08, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x27, 0x5c, 0x78, 0x7f, 0xff];

function randomBinary(random: () => number): string {
  const length = Math.floor(random() * 24);
  let s = "";
  for (let i = 0; i < length; i++) {
    const r = random();
    const c = r < 0.4
      ? TRICKY[Math.floor(random() * TRICKY.length)]
      : r < 0.7
      ? 0x21 + Math.floor(random() * 94)
      : Math.floor(random() * 256);
    s += String.fromCharCode(c);
  }
  // Now and then a prefix the reply rendering treats specially.
  if (random() < 0.05) s = "ERROR:" + s;
  return s;
}

function split(line: string): string[] {
  const bytes = binaryToBytes(line);
  return splitTextArguments(bytes, 0, bytes.length);
}

/** Reads a text-protocol reply line back into the value it shows. */
function readReplyValue(line: string): string {
  if (!line.startsWith('"')) return line;
  const args = split(line);
  assert.equal(args.length, 1, `quoted reply ${JSON.stringify(line)} is one argument`);
  return args[0];
}

function assertPrintable(rendered: string, from: string) {
  for (let i = 0; i < rendered.length; i++) {
    const c = rendered.charCodeAt(i);
    assert.ok(c >= 0x20 && c <= 0x7e, `${JSON.stringify(rendered)} from ${JSON.stringify(from)}`);
  }
}

const ITERATIONS = 5000;

Deno.test("quoteBinary: exact escapes", () => {
  assert.equal(quoteBinary(""), '""');
  assert.equal(quoteBinary("abc"), '"abc"');
  assert.equal(quoteBinary('say "hi"\n'), '"say \\"hi\\"\\n"');
  assert.equal(quoteBinary("\\"), '"\\\\"');
  assert.equal(quoteBinary("\r\t\x07\x08"), '"\\r\\t\\a\\b"');
  assert.equal(quoteBinary("\x00\x1f\x7f\x80\xff"), '"\\x00\\x1f\\x7f\\x80\\xff"');
  assert.equal(quoteBinary("a b'c"), '"a b\'c"');
});

Deno.test("needsQuotes: the documented cases", () => {
  assert.equal(needsQuotes(""), true);
  assert.equal(needsQuotes("John"), false);
  assert.equal(needsQuotes("a b"), false);
  assert.equal(needsQuotes(" a"), true);
  assert.equal(needsQuotes("a "), true);
  assert.equal(needsQuotes('"a'), true);
  assert.equal(needsQuotes("'a"), true);
  assert.equal(needsQuotes('a"'), false);
  assert.equal(needsQuotes("a\tb"), true);
  assert.equal(needsQuotes("a\nb"), true);
  assert.equal(needsQuotes("\x7f"), true);
  assert.equal(needsQuotes("caf\xc3\xa9"), true);
  assert.equal(needsQuotes("ERROR: key not found"), true);
  assert.equal(needsQuotes("ERROR:"), true);
  assert.equal(needsQuotes("ERRORS"), false);
});

Deno.test("renderTextValue: plain when unambiguous, quoted otherwise", () => {
  assert.equal(renderTextValue("John"), "John");
  assert.equal(renderTextValue("hello world"), "hello world");
  assert.equal(renderTextValue("hello world "), '"hello world "');
  assert.equal(renderTextValue(""), '""');
  assert.equal(renderTextValue("a\\b"), "a\\b");
  assert.equal(renderTextValue("ERROR: key not found"), '"ERROR: key not found"');
  assert.equal(renderTextValue("\x00\xff"), '"\\x00\\xff"');
});

Deno.test("renderTextArgument: plain only for printable, non-blank, non-quote bytes", () => {
  assert.equal(renderTextArgument("key1"), "key1");
  assert.equal(renderTextArgument(""), '""');
  assert.equal(renderTextArgument("hello world"), '"hello world"');
  assert.equal(renderTextArgument("it's"), '"it\'s"');
  assert.equal(renderTextArgument('a"b'), '"a\\"b"');
  assert.equal(renderTextArgument("a\\b"), '"a\\\\b"');
  assert.equal(renderTextArgument("\xff"), '"\\xff"');
  assert.equal(renderTextArgument("ERROR:x"), "ERROR:x");
});

Deno.test("property: quoteBinary splits back to the same bytes", () => {
  const random = prng(0x5eed1);
  for (let i = 0; i < ITERATIONS; i++) {
    const s = randomBinary(random);
    const quoted = quoteBinary(s);
    assertPrintable(quoted, s);
    assert.deepEqual(split(quoted), [s], `iteration ${i}: ${JSON.stringify(s)}`);
  }
});

Deno.test("property: renderTextArgument splits back to the same bytes", () => {
  const random = prng(0x5eed2);
  for (let i = 0; i < ITERATIONS; i++) {
    const s = randomBinary(random);
    const rendered = renderTextArgument(s);
    assertPrintable(rendered, s);
    assert.deepEqual(split(rendered), [s], `iteration ${i}: ${JSON.stringify(s)}`);
  }
});

Deno.test("property: a line of rendered arguments splits back into them", () => {
  const random = prng(0x5eed3);
  for (let i = 0; i < ITERATIONS / 5; i++) {
    const args = Array.from({ length: 1 + Math.floor(random() * 5) }, () => randomBinary(random));
    const blanks = () => (random() < 0.5 ? " " : "\t ");
    const line = args.map(renderTextArgument).join(blanks());
    assert.deepEqual(split(line), args, `iteration ${i}: ${JSON.stringify(line)}`);
  }
});

Deno.test("property: renderTextValue is unambiguous and reads back", () => {
  const random = prng(0x5eed4);
  for (let i = 0; i < ITERATIONS; i++) {
    const s = randomBinary(random);
    const rendered = renderTextValue(s);
    assertPrintable(rendered, s);
    if (needsQuotes(s)) assert.equal(rendered, quoteBinary(s));
    else assert.equal(rendered, s);
    assert.ok(!rendered.startsWith("ERROR:"), JSON.stringify(rendered));
    assert.equal(readReplyValue(rendered), s, `iteration ${i}: ${JSON.stringify(s)}`);
  }
});
