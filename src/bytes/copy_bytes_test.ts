import assert from "node:assert/strict";
import { copyBytes } from "./copy_bytes.ts";

Deno.test("copyBytes: short and long ranges, at an offset, nothing outside touched", () => {
  for (const n of [0, 1, 31, 32, 33, 100]) {
    const from = Uint8Array.from({ length: n + 4 }, (_, i) => i + 1);
    const to = new Uint8Array(n + 6);
    copyBytes(from, 2, 2 + n, to, 3);
    assert.deepEqual([...to.subarray(0, 3)], [0, 0, 0]);
    assert.deepEqual([...to.subarray(3, 3 + n)], [...from.subarray(2, 2 + n)]);
    assert.deepEqual([...to.subarray(3 + n)], [0, 0, 0]);
  }
});
