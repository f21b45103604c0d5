import assert from "node:assert/strict";
import { formatSize, parseDurationMs, parseSize, UnitError } from "./units.ts";

Deno.test("parseSize: bare integers are bytes", () => {
  assert.equal(parseSize("0"), 0);
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize(" 512 "), 512);
  assert.equal(parseSize(4096), 4096);
  assert.equal(parseSize(0), 0);
});

Deno.test("parseSize: decimal units B/KB/MB/GB", () => {
  assert.equal(parseSize("1B"), 1);
  assert.equal(parseSize("4KB"), 4000);
  assert.equal(parseSize("10MB"), 10_000_000);
  assert.equal(parseSize("2GB"), 2_000_000_000);
  assert.equal(parseSize("4 KB"), 4000);
});

Deno.test("parseSize: binary units KiB/MiB/GiB", () => {
  assert.equal(parseSize("4KiB"), 4096);
  assert.equal(parseSize("10MiB"), 10 * 1024 * 1024);
  assert.equal(parseSize("1GiB"), 1024 ** 3);
});

Deno.test("parseSize: units are case-insensitive", () => {
  assert.equal(parseSize("4kb"), 4000);
  assert.equal(parseSize("4Kb"), 4000);
  assert.equal(parseSize("4kib"), 4096);
  assert.equal(parseSize("4KIB"), 4096);
  assert.equal(parseSize("1mb"), 1_000_000);
  assert.equal(parseSize("1gib"), 1024 ** 3);
  assert.equal(parseSize("7b"), 7);
});

Deno.test("parseSize: decimals giving whole bytes", () => {
  assert.equal(parseSize("1.5KB"), 1500);
  assert.equal(parseSize("0.5KiB"), 512);
  assert.equal(parseSize("1.5GB"), 1_500_000_000);
  assert.equal(parseSize("0.25MiB"), 262_144);
});

Deno.test("parseSize: decimals exact in decimal units (4.1MB, 8.2MB, 2.01KB, 1.001MB)", () => {
  // Each is a whole number of bytes; floating-point multiplication must not reject it.
  assert.equal(parseSize("4.1MB"), 4_100_000);
  assert.equal(parseSize("8.2MB"), 8_200_000);
  assert.equal(parseSize("2.01KB"), 2010);
  assert.equal(parseSize("1.001MB"), 1_001_000);
});

Deno.test("parseSize: rejects negative, garbage, unknown units, fractional bytes", () => {
  const bad: unknown[] = [
    "-1",
    "-1KB",
    -1,
    "",
    "   ",
    "KB",
    "abc",
    "4 K B",
    "4KBB",
    "4TB",
    "4kbit",
    "4XB",
    "1e3",
    "0x10",
    "1.5",
    "1.5B",
    "0.3KiB", // 307.2 bytes
    1.5,
    Number.NaN,
    Infinity,
    null,
    undefined,
    true,
    {},
    [],
  ];
  for (const value of bad) {
    assert.throws(() => parseSize(value), UnitError, `parseSize(${String(value)})`);
  }
});

Deno.test("parseDurationMs: single units", () => {
  assert.equal(parseDurationMs("10ms"), 10);
  assert.equal(parseDurationMs("1s"), 1000);
  assert.equal(parseDurationMs("5m"), 300_000);
  assert.equal(parseDurationMs("2h"), 7_200_000);
  assert.equal(parseDurationMs("1.5s"), 1500);
  assert.equal(parseDurationMs(" 1s "), 1000);
});

Deno.test("parseDurationMs: combinations", () => {
  assert.equal(parseDurationMs("1m30s"), 90_000);
  assert.equal(parseDurationMs("1h30m"), 5_400_000);
  assert.equal(parseDurationMs("1h1m1s1ms"), 3_661_001);
  assert.equal(parseDurationMs("1m5ms"), 60_005);
});

Deno.test("parseDurationMs: zero", () => {
  assert.equal(parseDurationMs(0), 0);
  assert.equal(parseDurationMs("0"), 0);
  assert.equal(parseDurationMs("0s"), 0);
  assert.equal(parseDurationMs("0ms"), 0);
});

Deno.test("parseDurationMs: rejects bare numbers, bad units, empty, non-strings", () => {
  const bad: unknown[] = [
    "10",
    10,
    1,
    "1.5",
    "",
    "   ",
    "s",
    "10d",
    "10us",
    "10S",
    "10 s",
    "1m30",
    "-1s",
    "1s garbage",
    "abc",
    null,
    undefined,
    true,
    {},
  ];
  for (const value of bad) {
    assert.throws(() => parseDurationMs(value), UnitError, `parseDurationMs(${String(value)})`);
  }
});

Deno.test("formatSize: largest exact unit", () => {
  assert.equal(formatSize(0), "0B");
  assert.equal(formatSize(1), "1B");
  assert.equal(formatSize(64), "64B");
  assert.equal(formatSize(999), "999B");
  assert.equal(formatSize(1000), "1KB");
  assert.equal(formatSize(4000), "4KB");
  assert.equal(formatSize(1024), "1KiB");
  assert.equal(formatSize(4096), "4KiB");
  assert.equal(formatSize(10_000_000), "10MB");
  assert.equal(formatSize(512 * 1024 ** 2), "512MiB");
  assert.equal(formatSize(1024 ** 3), "1GiB");
  assert.equal(formatSize(3_000_000_000), "3GB");
  assert.equal(formatSize(1_024_000), "1000KiB"); // binary units are preferred
  assert.equal(formatSize(1025), "1025B");
});

Deno.test("formatSize output parses back to the same bytes", () => {
  for (const bytes of [0, 1, 64, 1000, 1024, 4000, 4096, 10_000_000, 1024 ** 3, 3 * 1e9, 123457]) {
    assert.equal(parseSize(formatSize(bytes)), bytes);
  }
});
