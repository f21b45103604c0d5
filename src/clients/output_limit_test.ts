import assert from "node:assert/strict";
import { OutputLimitState } from "./output_limit.ts";

const LIMIT = { hardBytes: 1000, softBytes: 100, softSeconds: 2 };

Deno.test("hard limit: reached at its size, whatever the soft clock says", () => {
  const state = new OutputLimitState();
  assert.equal(state.check(LIMIT, 999, 0), undefined);
  assert.equal(state.check(LIMIT, 1000, 0), "hard");
  assert.equal(state.check({ ...LIMIT, hardBytes: 0 }, 10 ** 9, 0), undefined, "0: no hard limit");
});

Deno.test("soft limit: over only after more than its seconds above it", () => {
  const state = new OutputLimitState();
  assert.equal(state.check(LIMIT, 100, 10_000), undefined, "the clock starts");
  assert.equal(state.softSinceMs, 10_000);
  assert.equal(state.check(LIMIT, 500, 12_000), undefined, "exactly its seconds: not yet");
  assert.equal(state.check(LIMIT, 500, 12_001), "soft");
});

Deno.test("soft limit: dropping below it restarts the clock", () => {
  const state = new OutputLimitState();
  state.check(LIMIT, 200, 0);
  assert.equal(state.check(LIMIT, 99, 1500), undefined);
  assert.equal(state.softSinceMs, 0);
  assert.equal(state.check(LIMIT, 200, 1600), undefined);
  assert.equal(state.check(LIMIT, 200, 3500), undefined, "2 s from 1600 have not passed");
  assert.equal(state.check(LIMIT, 200, 3601), "soft");
});

Deno.test("soft limit with 0 seconds: over at the second check above it", () => {
  const state = new OutputLimitState();
  const limit = { hardBytes: 0, softBytes: 100, softSeconds: 0 };
  assert.equal(state.check(limit, 100, 5), undefined);
  assert.equal(state.check(limit, 100, 6), "soft");
});
