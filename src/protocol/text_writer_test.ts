import assert from "node:assert/strict";
import { bytesToBinary } from "../bytes/binary_string.ts";
import { OutBuffer } from "./out_buffer.ts";
import { CommandError, type TextRendering } from "./reply_writer.ts";
import { splitTextArguments } from "./text_decoder.ts";
import { renderTextArgument, renderTextValue } from "./text_quote.ts";
import { TextReplyWriter } from "./text_writer.ts";

function setup(): { out: OutBuffer; w: TextReplyWriter; text: () => string } {
  const out = new OutBuffer(16);
  const w = new TextReplyWriter(out);
  return { out, w, text: () => bytesToBinary(out.view()) };
}

const GET_LIKE: TextRendering = { nil: "ERROR: key not found" };
const DEL_LIKE: TextRendering = {
  integer: (n, argc) => argc > 2 ? String(n) : n === 1 ? "OK" : "ERROR: key not found",
};

Deno.test("status", () => {
  const { w, text } = setup();
  w.begin(undefined, 1);
  w.status("OK");
  assert.equal(text(), "OK\n");
  w.begin(undefined, 1);
  w.status("PONG");
  assert.equal(text(), "OK\nPONG\n");
});

Deno.test("error is ERROR: text", () => {
  const { w, text } = setup();
  w.begin(undefined, 2);
  w.error(new CommandError("ERR", "redis words", "key not found"));
  assert.equal(text(), "ERROR: key not found\n");
  w.begin(undefined, 2);
  w.error(new CommandError("ERR", "same words"));
  assert.equal(text(), "ERROR: key not found\nERROR: same words\n");
});

Deno.test("integer as digits", () => {
  const { w, text } = setup();
  for (const n of [0, 42, -7, 1234567890123]) {
    w.begin(undefined, 1);
    w.integer(n);
  }
  assert.equal(text(), "0\n42\n-7\n1234567890123\n");
});

Deno.test("custom integer rendering gets value and argc", () => {
  const { w, text } = setup();
  const cases: [number, number, string][] = [
    [1, 2, "OK"],
    [0, 2, "ERROR: key not found"],
    [2, 3, "2"],
    [0, 4, "0"],
  ];
  for (const [n, argc] of cases) {
    w.begin(DEL_LIKE, argc);
    w.integer(n);
  }
  assert.equal(text(), cases.map(([, , line]) => line + "\n").join(""));
});

Deno.test("a rendering from one request does not leak into the next", () => {
  const { w, text } = setup();
  w.begin(DEL_LIKE, 2);
  w.integer(1);
  w.begin(undefined, 2);
  w.integer(1);
  w.begin(GET_LIKE, 2);
  w.nil();
  w.begin(undefined, 2);
  w.nil();
  assert.equal(text(), "OK\n1\nERROR: key not found\n(nil)\n");
});

Deno.test("nil: (nil) or the command's line", () => {
  const { w, text } = setup();
  w.begin(undefined, 2);
  w.nil();
  w.begin(GET_LIKE, 2);
  w.nil();
  w.begin({ integer: () => "x" }, 2);
  w.nil();
  assert.equal(text(), "(nil)\nERROR: key not found\n(nil)\n");
});

Deno.test("bulk: plain or quoted", () => {
  const { w, text } = setup();
  const values = [
    "John",
    "hello world",
    " lead",
    "trail ",
    "",
    "a\nb",
    "\x00\xff",
    '"q',
    "ERROR: x",
  ];
  for (const v of values) {
    w.begin(GET_LIKE, 2);
    w.bulk(v);
  }
  assert.equal(
    text(),
    [
      "John",
      "hello world",
      '" lead"',
      '"trail "',
      '""',
      '"a\\nb"',
      '"\\x00\\xff"',
      '"\\"q"',
      '"ERROR: x"',
    ].map((l) => l + "\n").join(""),
  );
});

Deno.test("arrays: flat, empty, with nil, integer and error elements", () => {
  const { w, text } = setup();
  w.begin(undefined, 1);
  w.array(3);
  w.bulk("a");
  w.bulk("b c");
  w.bulk("");
  w.begin(undefined, 1);
  w.array(0);
  w.begin(GET_LIKE, 1);
  w.array(3);
  w.nil();
  w.integer(5);
  w.status("OK");
  w.begin(DEL_LIKE, 2);
  w.array(2);
  w.integer(1);
  w.error(new CommandError("ERR", "bad", "bad"));
  assert.equal(text(), 'a "b c" ""\n(empty array)\n(nil) 5 OK\n1 (error) bad\n');
});

Deno.test("arrays: nested", () => {
  const { w, text } = setup();
  w.begin(undefined, 1);
  w.array(3);
  w.bulk("a");
  w.array(2);
  w.bulk("b");
  w.bulk("c d");
  w.bulk("e");
  w.begin(undefined, 1);
  w.array(2);
  w.array(0);
  w.array(1);
  w.array(1);
  w.integer(7);
  w.begin(undefined, 1);
  w.array(1);
  w.array(2);
  w.nil();
  w.bulk("x");
  assert.equal(text(), 'a [b "c d"] e\n[] [[7]]\n[(nil) x]\n');
});

Deno.test("array elements split back into the values", () => {
  const { out, w, text } = setup();
  const values = ["plain", "with space", "", "\x00\xff\n", "it's", 'q"', "\\"];
  w.begin(undefined, 1);
  w.array(values.length);
  for (const v of values) w.bulk(v);
  const line = text();
  assert.ok(line.endsWith("\n"));
  const bytes = out.view();
  assert.deepEqual(splitTextArguments(bytes, 0, bytes.length - 1), values);
});

Deno.test("many replies accumulate in one buffer that grows", () => {
  const { out, w, text } = setup();
  let expected = "";
  for (let i = 0; i < 1000; i++) {
    w.begin(undefined, 1);
    w.bulk(`value-${i}`);
    expected += `value-${i}\n`;
  }
  assert.equal(text(), expected);
  assert.equal(out.length, expected.length);
});

Deno.test("bulkBytes renders exactly as bulk, small and large, plain and quoted", () => {
  const big = 70_000;
  const values: Uint8Array[] = [
    new Uint8Array([0x61, 0x62]),
    new Uint8Array(0),
    new Uint8Array([0x00, 0xff, 0x0a, 0x22, 0x5c]),
    new Uint8Array(big).fill(0x61), // plain: referenced
    new Uint8Array(big).map((_, i) => i & 0xff), // binary: quoted as sent
    new Uint8Array(big).fill(0x20), // blanks at both ends: quoted
    new TextEncoder().encode("ERROR:" + "x".repeat(big)), // would read as an error
  ];
  for (const nested of [false, true]) {
    for (const value of values) {
      const asBytes = setup();
      const asString = setup();
      for (const { w } of [asBytes, asString]) {
        w.begin(GET_LIKE, 2);
        if (nested) w.array(2);
      }
      asBytes.w.bulkBytes(value);
      asString.w.bulk(bytesToBinary(value));
      if (nested) {
        asBytes.w.bulkBytes(value);
        asString.w.bulk(bytesToBinary(value));
      }
      const expected = nested
        ? `${renderTextArgument(bytesToBinary(value))} ${
          renderTextArgument(bytesToBinary(value))
        }\n`
        : `${renderTextValue(bytesToBinary(value))}\n`;
      assert.equal(asBytes.text(), expected, `bytes, ${value.length}, nested ${nested}`);
      assert.equal(asString.text(), expected, `string, ${value.length}, nested ${nested}`);
      assert.equal(asBytes.out.length, expected.length);
      if (value.length >= big) {
        // Large values are referenced (or quoted when sent), never copied in.
        assert.ok(asBytes.out.referencedBytes > value.length * (nested ? 2 : 1) - 1);
        assert.ok(asString.out.referencedBytes > value.length * (nested ? 2 : 1) - 1);
      }
    }
  }
});

Deno.test("RESP3 types on one line: maps and sets as arrays, numbers as numbers", () => {
  const { w, text } = setup();
  w.begin(undefined, 1);
  w.map(2);
  w.bulk("proto");
  w.integer(3);
  w.bulk("modules");
  w.array(0);
  w.begin(undefined, 1);
  w.set(2);
  w.double(1.5);
  w.double(-Infinity);
  w.begin(undefined, 1);
  w.boolean(true);
  w.begin(undefined, 1);
  w.nilArray();
  w.begin(undefined, 1);
  w.bigNumber(12345678901234567890n);
  w.begin(undefined, 1);
  w.verbatim("txt", "two words");
  w.begin(undefined, 1);
  w.push(2);
  w.bulk("message");
  w.boolean(false);
  w.begin(undefined, 1);
  w.map(0);
  assert.equal(
    text(),
    "proto 3 modules []\n1.5 -inf\n1\n(nil)\n12345678901234567890\ntwo words\nmessage 0\n(empty array)\n",
  );
});
