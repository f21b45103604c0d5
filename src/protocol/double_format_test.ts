import assert from "node:assert/strict";
import { formatDouble } from "./double_format.ts";

Deno.test("formatDouble: as redis-server 7.0.15 replies ZSCORE (printf %.17g)", () => {
  // Each pair checked against a real redis-server 7.0.15.
  const cases: [number, string][] = [
    [0.1, "0.10000000000000001"],
    [2 ** -25, "2.9802322387695312e-08"], // an exact tie, rounded half to even
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    [1e300, "1.0000000000000001e+300"],
    [123456789012345678, "1.2345678901234568e+17"],
    [0, "0"],
    [1.5, "1.5"],
    [100, "100"],
    [1e-5, "1.0000000000000001e-05"],
    [1e16, "10000000000000000"],
    [1e17, "1e+17"],
    [3.0517578125e-05, "3.0517578125e-05"],
  ];
  for (const [value, expected] of cases) assert.equal(formatDouble(value), expected, `${value}`);
});

Deno.test("formatDouble: printf's %.17g for signs, NaN, subnormals and ties", () => {
  // Expected values from C's printf("%.17g") (via Python's % operator).
  const cases: [number, string][] = [
    [NaN, "nan"],
    [-0, "-0"],
    [-1.5, "-1.5"],
    [0.0001, "0.0001"],
    [0.00001234, "1.234e-05"],
    [5e-324, "4.9406564584124654e-324"],
    [Number.MAX_VALUE, "1.7976931348623157e+308"],
    [2 ** 53, "9007199254740992"],
    [1 / 3, "0.33333333333333331"],
    [2 / 3, "0.66666666666666663"],
    [99999999999999999, "1e+17"],
    [3 * 2 ** -24, "1.7881393432617188e-07"], // exactly 1.78813934326171875e-7: a tie, odd: up
    [7 * 2 ** -24, "4.1723251342773438e-07"], // exactly 4.17232513427734375e-7: a tie, odd: up
  ];
  for (const [value, expected] of cases) assert.equal(formatDouble(value), expected, `${value}`);
});
