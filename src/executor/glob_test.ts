import assert from "node:assert/strict";
import { globMatch } from "./glob.ts";

Deno.test("glob patterns as Redis reads them", () => {
  const cases: [string, string, boolean][] = [
    ["*", "", true],
    ["*", "anything", true],
    ["user:*", "user:1", true],
    ["user:*", "use", false],
    ["h?llo", "hello", true],
    ["h?llo", "hllo", false],
    ["h[ae]llo", "hallo", true],
    ["h[ae]llo", "hillo", false],
    ["h[^e]llo", "hallo", true],
    ["h[^e]llo", "hello", false],
    ["h[a-b]llo", "hbllo", true],
    ["h[b-a]llo", "hallo", true],
    ["h\\*llo", "h*llo", true],
    ["h\\*llo", "hello", false],
    ["*a*b*", "xxaxxbxx", true],
    ["*a*b*", "xxbxxaxx", false],
    ["a\x00*", "a\x00\xff", true],
    ["**", "x", true],
  ];
  for (const [pattern, text, expected] of cases) {
    assert.equal(
      globMatch(pattern, text),
      expected,
      `${JSON.stringify(pattern)} ~ ${JSON.stringify(text)}`,
    );
  }
});

Deno.test("a pathological pattern ends", () => {
  assert.equal(globMatch("*a".repeat(30) + "b", "a".repeat(40)), false);
});
