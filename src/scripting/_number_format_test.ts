import assert from "node:assert/strict";
import { formatG } from "./_number_format.ts";

Deno.test("formatG matches C's %.14g", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [-0, "-0"],
    [1, "1"],
    [1.5, "1.5"],
    [0.1, "0.1"],
    [1e20, "1e+20"],
    [12345678901234567, "1.2345678901235e+16"],
    [123456789012345, "1.2345678901234e+14"],
    [12345678901234, "12345678901234"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [-2.5e-300, "-2.5e-300"],
    [1 / 3, "0.33333333333333"],
    [0.5, "0.5"],
    [2.5, "2.5"],
    [-123456789012345, "-1.2345678901234e+14"],
    [1234567890123.5, "1234567890123.5"],
    [100, "100"],
    [-1e-5, "-1e-05"],
    [Infinity, "inf"],
    [NaN, "nan"],
  ];
  for (const [value, expected] of cases) assert.equal(formatG(value, 14), expected, String(value));
});
