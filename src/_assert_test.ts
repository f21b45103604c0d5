import nodeAssert, { AssertionError } from "node:assert/strict";
import { assert } from "./_assert.ts";

Deno.test("assert passes when the condition holds and throws AssertionError when not", () => {
  assert(1 + 1 === 2, "arithmetic");
  nodeAssert.throws(() => assert(false, "the batch in flight completed"), (e: unknown) => {
    nodeAssert.ok(e instanceof AssertionError);
    nodeAssert.equal(e.message, "the batch in flight completed");
    return true;
  });
  nodeAssert.throws(() => assert(false), /invariant violated/);
});
