import assert from "node:assert/strict";
import { clientEvictionLimitBytes, MIN_CLIENT_EVICTION_BYTES } from "./client_limits.ts";
import { checkConfigValue } from "../config/config.ts";

Deno.test("maxmemory-clients: bytes, a percentage of maxmemory, Redis's 128 KiB floor", () => {
  assert.equal(clientEvictionLimitBytes(0, 1 << 30), 0, "0: off");
  assert.equal(clientEvictionLimitBytes(10 * 1024 * 1024, 0), 10 * 1024 * 1024);
  assert.equal(
    clientEvictionLimitBytes("10%", 64 * 1024 * 1024),
    Math.floor(64 * 1024 * 1024 / 10),
  );
  assert.equal(clientEvictionLimitBytes("10%", 0), 0, "a percentage of no maxmemory: off");
  assert.equal(clientEvictionLimitBytes(1000, 0), MIN_CLIENT_EVICTION_BYTES);
  assert.equal(clientEvictionLimitBytes("1%", 1024 * 1024), MIN_CLIENT_EVICTION_BYTES);
});

Deno.test("network.maxmemory_clients in YAML: a size or N%, refused otherwise", () => {
  assert.equal(checkConfigValue("network.maxmemory_clients", 0), 0);
  assert.equal(checkConfigValue("network.maxmemory_clients", "64MiB"), 64 * 1024 * 1024);
  assert.equal(checkConfigValue("network.maxmemory_clients", "10%"), "10%");
  assert.equal(checkConfigValue("network.maxmemory_clients", "0%"), 0);
  assert.throws(() => checkConfigValue("network.maxmemory_clients", "101%"), /at most 100%/);
  assert.throws(() => checkConfigValue("network.maxmemory_clients", "lots"), /size .* percentage/);
  assert.throws(() => checkConfigValue("network.maxmemory_clients", -1), /non-negative/);
});
