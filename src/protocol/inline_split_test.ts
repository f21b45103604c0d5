import assert from "node:assert/strict";
import { binaryToBytes } from "../bytes/binary_string.ts";
import { splitInlineArguments } from "./inline_split.ts";

function split(line: string): string[] | undefined {
  const bytes = binaryToBytes(line);
  return splitInlineArguments(bytes, 0, bytes.length);
}

Deno.test("inline splitting as redis-server 7.0.15 does it (sdssplitargs)", () => {
  // Each line checked against a real redis-server 7.0.15 (ECHO's reply).
  const cases: [string, string[] | undefined][] = [
    ["", []],
    ["   ", []],
    ["\r", []],
    ["PING", ["PING"]],
    ["  ECHO   x  ", ["ECHO", "x"]],
    ['ECHO "a b"', ["ECHO", "a b"]],
    ["ECHO 'a b'", ["ECHO", "a b"]],
    ['ECHO "a', undefined],
    ['ECHO a"b c"', ["ECHO", "ab c"]],
    ['ECHO "a"b', undefined],
    ['ECHO "a""b"', undefined],
    ['ECHO "\\x41\\n\\q"', ["ECHO", "A\nq"]],
    ["ECHO 'it\\'s'", ["ECHO", "it's"]],
    ["ECHO a\tb", ["ECHO", "a", "b"]],
    ["ECHO a\x0bb", ["ECHO", "a\x0bb"]],
    ["ECHO \x0ba", ["ECHO", "a"]],
    ["ECHO ''", ["ECHO", ""]],
    ['ECHO "" x', ["ECHO", "", "x"]],
    ['ECHO "\\"', undefined],
    ['ECHO "', undefined],
    ["PING\rPING", ["PING", "PING"]],
    ["PING \r ", ["PING"]],
    ["ECHO a\rb", ["ECHO", "a", "b"]],
  ];
  for (const [line, expected] of cases) {
    assert.deepEqual(split(line), expected, JSON.stringify(line));
  }
});

Deno.test("inline splitting: escapes, hex and bytes above 0x7f", () => {
  assert.deepEqual(split('"\\xff\\x00\\xZZ\\t\\r\\b\\a\\\\\\""'), ['\xff\x00xZZ\t\r\b\x07\\"']);
  assert.deepEqual(split("'a\\b\\''"), ["a\\b'"]);
  assert.deepEqual(split("\xe9t\xe9"), ["\xe9t\xe9"]);
  assert.deepEqual(split('"a"\x0c'), ["a"], "a closing quote before \\f, a C isspace");
  assert.deepEqual(split('"abc\\'), undefined, "a backslash at the end of the line");
});

Deno.test("inline splitting of a long line is linear", () => {
  const value = "x\\n".repeat(300_000);
  const started = performance.now();
  const args = split(`SET k "${value}"`);
  assert.ok(performance.now() - started < 2000);
  assert.equal(args?.[2].length, 600_000);
});
