import assert from "node:assert/strict";
import { RATE_SAMPLES, RateSampler } from "./rate_sampler.ts";

Deno.test("RateSampler: the mean rate of the last samples", () => {
  let count = 0;
  const rate = new RateSampler(() => count);
  assert.equal(rate.perSecond, 0);
  count += 10;
  rate.sample(100);
  count += 30;
  rate.sample(100);
  assert.equal(rate.perSecond, 200);
  for (let i = 0; i < RATE_SAMPLES; i++) rate.sample(100);
  assert.equal(rate.perSecond, 0, "old samples leave the window");
});

Deno.test("RateSampler: a counter zeroed by RESETSTAT restarts the window, never a negative rate", () => {
  let count = 1000;
  const rate = new RateSampler(() => count);
  count = 1500;
  rate.sample(100);
  assert.equal(rate.perSecond, 5000);
  count = 0;
  rate.sample(100);
  assert.equal(rate.perSecond, 0);
  count = 20;
  rate.sample(100);
  assert.equal(rate.perSecond, 200);
});
