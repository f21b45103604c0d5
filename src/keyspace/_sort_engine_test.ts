import assert from "node:assert/strict";
import { parseSortOptions, resolvePattern, sortElements, sortScore } from "./_sort_engine.ts";

const none = () => undefined;
const opts = (...args: string[]) => parseSortOptions(["SORT", "k", ...args], false);

Deno.test("sortScore reads a whole string as C's strtod, or refuses it", () => {
  const cases: [string, number | undefined][] = [
    ["1", 1],
    ["-2.5", -2.5],
    [" \t7", 7],
    ["7 ", undefined],
    ["", 0],
    [" ", undefined],
    ["1e3", 1000],
    [".5", 0.5],
    ["5.", 5],
    ["0x10", 16],
    ["0x1p4", 16],
    ["0x", undefined],
    ["inf", Infinity],
    ["-Infinity", -Infinity],
    ["infx", undefined],
    ["nan", undefined],
    ["1e400", undefined],
    ["1e-400", undefined],
    ["0e-400", 0],
    ["abc", undefined],
    ["3\0junk", 3],
    ["+4", 4],
  ];
  for (const [text, score] of cases) assert.equal(sortScore(text), score, JSON.stringify(text));
});

Deno.test("parseSortOptions: Redis's grammar; BY without * turns sorting off for good", () => {
  assert.equal(opts("BY", "nosort", "BY", "w_*").dontSort, true);
  assert.deepEqual(opts("GET", "#", "GET", "x_*").gets, ["#", "x_*"]);
  assert.equal(opts("DESC", "ASC").desc, false);
  assert.throws(() => opts("LIMIT", "1"), /syntax error/);
  assert.throws(() => opts("LIMIT", "a", "1"), /not an integer/);
  assert.throws(() => parseSortOptions(["SORT_RO", "k", "STORE", "d"], true), /syntax error/);
  assert.equal(opts("STORE", "d").store, "d");
});

Deno.test("resolvePattern: #, the first *, ->field after the *, nothing without *", () => {
  const seen: [string, string | undefined][] = [];
  const lookup = (key: string, field: string | undefined) => {
    seen.push([key, field]);
    return "v";
  };
  assert.equal(resolvePattern("#", "e", lookup), "e");
  assert.equal(resolvePattern("nostar", "e", lookup), undefined);
  resolvePattern("w_*->f", "e", lookup);
  resolvePattern("a->b*", "e", lookup);
  resolvePattern("w_*->", "e", lookup);
  resolvePattern("*_*", "e", lookup);
  assert.deepEqual(seen, [["w_e", "f"], ["a->be", undefined], ["w_e->", undefined], [
    "e_*",
    undefined,
  ]]);
});

Deno.test("sortElements: numeric with ties by bytes, ALPHA, DESC, LIMIT, BY, nosort", () => {
  const items = (r: ReturnType<typeof sortElements>) => "items" in r ? r.items : "error";
  assert.deepEqual(items(sortElements(["3", "1", "2", "01"], "list", opts(), none)), [
    "01",
    "1",
    "2",
    "3",
  ]);
  assert.deepEqual(items(sortElements(["3", "1", "01"], "list", opts("DESC"), none)), [
    "3",
    "1",
    "01",
  ]);
  assert.equal(items(sortElements(["1", "x"], "list", opts(), none)), "error");
  assert.deepEqual(
    items(sortElements(["b", "a", "c"], "list", opts("ALPHA", "LIMIT", "1", "5"), none)),
    ["b", "c"],
  );
  assert.deepEqual(
    items(sortElements(["b", "a", "c"], "list", opts("BY", "x", "DESC", "LIMIT", "0", "2"), none)),
    ["c", "a"],
  );
  assert.deepEqual(
    items(sortElements(["b", "a"], "list", opts("LIMIT", "5", "1", "ALPHA"), none)),
    [],
  );
  assert.deepEqual(
    items(sortElements(["b", "a"], "list", opts("LIMIT", "-5", "-1", "ALPHA"), none)),
    ["a", "b"],
  );
  const weights: Record<string, string> = { w_a: "3", w_b: "1" };
  assert.deepEqual(
    items(sortElements(["a", "b", "c"], "list", opts("BY", "w_*"), (k) => weights[k])),
    ["c", "b", "a"],
  );
  // A set stored without sorting is sorted ALPHA (deterministic for replicas).
  assert.deepEqual(items(sortElements(["b", "a"], "set", opts("BY", "x", "STORE", "d"), none)), [
    "a",
    "b",
  ]);
});
