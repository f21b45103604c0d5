import assert from "node:assert/strict";
import { timeoutMsFromSeconds } from "./timeout.ts";
import { CommandError } from "../protocol/reply_writer.ts";

function refusal(arg: string): string {
  try {
    timeoutMsFromSeconds(arg);
  } catch (e) {
    assert.ok(e instanceof CommandError);
    return e.message;
  }
  return "accepted";
}

// Each answer below was read from redis-server 7.0.15 (BLPOP nokey <timeout>):
// a nil after ~1 ms, a block for ever, or the error.
Deno.test("timeout: whole and fractional seconds, rounded up to ms", () => {
  assert.equal(timeoutMsFromSeconds("0"), 0);
  assert.equal(timeoutMsFromSeconds("1"), 1000);
  assert.equal(timeoutMsFromSeconds("0.5"), 500);
  assert.equal(timeoutMsFromSeconds(".5"), 500);
  assert.equal(timeoutMsFromSeconds("1."), 1000);
  assert.equal(timeoutMsFromSeconds("+1"), 1000);
  assert.equal(timeoutMsFromSeconds("0x10"), 16000);
  assert.equal(timeoutMsFromSeconds("1e-3"), 1);
  assert.equal(timeoutMsFromSeconds("0.001"), 1);
  assert.equal(timeoutMsFromSeconds("0.0015"), 2);
  assert.equal(timeoutMsFromSeconds("0.0004"), 1);
  assert.equal(timeoutMsFromSeconds("0.0000001"), 1);
  assert.equal(timeoutMsFromSeconds("1e-400"), 1);
  assert.equal(timeoutMsFromSeconds("9.22337203e15"), 9223372030000000000);
});

Deno.test("timeout: what rounds up to 0 ms blocks for ever, as in Redis", () => {
  assert.equal(timeoutMsFromSeconds("-0"), 0);
  assert.equal(timeoutMsFromSeconds("-0.0005"), 0);
  assert.equal(timeoutMsFromSeconds("-0.00099"), 0);
  // The long double nearest 0.001 is below it: -0.001 s is -0.99999... ms.
  assert.equal(timeoutMsFromSeconds("-0.001"), 0);
  assert.equal(timeoutMsFromSeconds("-1e-400"), 0);
});

Deno.test("timeout: Redis's errors, in its cases", () => {
  for (const arg of ["-1", "-0.5", "-0.0010001", "inf", "-inf", "1e400", "9.2233720368548e15"]) {
    assert.equal(refusal(arg), "timeout is negative", arg);
  }
  for (const arg of ["abc", "", " 1", "1 ", "nan", "1e-5000", "1e5000", "0x", "1e"]) {
    assert.equal(refusal(arg), "timeout is not a float or out of range", arg);
  }
});
