import assert from "node:assert/strict";
import { configValues } from "../config/config.ts";
import { ENCODING_LIMITS } from "../types/encoding_limits.ts";
import { applyEncodingLimit, applyEncodingLimits } from "./encoding_config.ts";

Deno.test("encoding thresholds: the YAML defaults are Redis's, as ENCODING_LIMITS starts", () => {
  const before = { ...ENCODING_LIMITS };
  applyEncodingLimits(configValues({}, "defaults"));
  assert.deepEqual(ENCODING_LIMITS, before);
});

Deno.test("encoding thresholds: a YAML key sets its live limit; others are not thresholds", () => {
  const before = { ...ENCODING_LIMITS };
  try {
    applyEncodingLimits(
      configValues({ engine: { zset_max_listpack_value: 7, list_max_listpack_size: -5 } }, "t"),
    );
    assert.equal(ENCODING_LIMITS.zsetMaxListpackValue, 7);
    assert.equal(ENCODING_LIMITS.listMaxListpackSize, -5);
    assert.equal(applyEncodingLimit("engine.set_max_intset_entries", 3), true);
    assert.equal(ENCODING_LIMITS.setMaxIntsetEntries, 3);
    assert.equal(applyEncodingLimit("network.max_connections", 3), false);
  } finally {
    Object.assign(ENCODING_LIMITS, before);
  }
});
