/**
 * DUMP and RESTORE (issue 14 point 4): payloads carry Redis's trailer (RDB
 * version + CRC-64), RESTORE verifies it, and payloads travel both ways
 * between kvdb and redis-server 7.0 — Redis's integer and LZF encodings
 * included. Error replies are compared byte for byte.
 */

import assert from "node:assert/strict";
import { differentialTest, DiffPair, STANDARD_RULES, type StepLike } from "./_differential.ts";
import { RespClient, RespStatus } from "./_helpers.ts";

const HELLO_DUMP = "\x00\x05hello\x0a\x00cr\xdfve4 \x0a";

const CASES: Record<string, StepLike[]> = {
  "DUMP of a short string is byte for byte Redis's; missing key is nil": [
    ["SET", "k", "hello"],
    ["DUMP", "k"],
    ["DUMP", "missing"],
  ],
  "RESTORE: options, TTLs and errors": [
    ["RESTORE", "a", "0", HELLO_DUMP],
    ["GET", "a"],
    ["RESTORE", "a", "0", HELLO_DUMP],
    ["RESTORE", "a", "0", HELLO_DUMP, "REPLACE"],
    ["RESTORE", "b", "100000", HELLO_DUMP],
    ["TTL", "b"],
    ["RESTORE", "c", "4102444800000", HELLO_DUMP, "ABSTTL"],
    ["TTL", "c"],
    ["RESTORE", "d", "1", HELLO_DUMP, "ABSTTL"],
    ["EXISTS", "d"],
    ["RESTORE", "a", "1", HELLO_DUMP, "ABSTTL", "REPLACE"],
    ["EXISTS", "a"],
    ["RESTORE", "e", "9223372036854775807", HELLO_DUMP],
    ["EXISTS", "e"],
    ["RESTORE", "f", "-1", HELLO_DUMP],
    ["RESTORE", "f", "x", HELLO_DUMP],
    ["RESTORE", "f", "0", HELLO_DUMP, "IDLETIME", "10"],
    ["RESTORE", "g", "0", HELLO_DUMP, "FREQ", "5"],
    ["RESTORE", "h", "0", HELLO_DUMP, "IDLETIME", "-1"],
    ["RESTORE", "h", "0", HELLO_DUMP, "FREQ", "256"],
    ["RESTORE", "h", "0", HELLO_DUMP, "IDLETIME", "1", "FREQ", "1"],
    ["RESTORE", "h", "0", HELLO_DUMP, "FREQ", "1", "IDLETIME", "1"],
    ["RESTORE", "h", "0", HELLO_DUMP, "IDLETIME"],
    ["RESTORE", "h", "0", HELLO_DUMP, "BOGUS"],
    ["RESTORE", "h", "0", "garbage"],
    ["RESTORE", "h", "0", ""],
    ["RESTORE", "h", "0", HELLO_DUMP.slice(0, -1) + "\x00"],
    ["RESTORE", "h", "0", "\x00\x05hello\x0b\x00" + "\x00".repeat(8)],
    ["RESTORE", "h", "0", "\x07\x05hello\x0a\x00" + "\x00".repeat(8)],
    ["EXISTS", "h"],
  ],
};

differentialTest(
  "differential: DUMP and RESTORE, kvdb vs redis-server 7.0",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
    await t.step("payloads travel both ways (integers, LZF, large values)", async () => {
      const kvdb = await RespClient.connect(pair.subject.port);
      const redis = await RespClient.connect(pair.reference.port);
      try {
        const values = [
          "",
          "0",
          "-5",
          "127",
          "-32768",
          "2147483647",
          "12345678901",
          "hello",
          "a".repeat(100),
          "abcabcabcabcabcabcabcabcabcabcabcabcabc-compressible".repeat(50),
          "\x00\xff\r\n".repeat(20_000),
        ];
        for (const [i, value] of values.entries()) {
          for (const [from, to] of [[redis, kvdb], [kvdb, redis]]) {
            assert.deepEqual(await from.call("SET", `src${i}`, value), new RespStatus("OK"));
            const payload = await from.call("DUMP", `src${i}`) as string;
            const restored = await to.call("RESTORE", `dst${i}`, "0", payload, "REPLACE");
            assert.deepEqual(restored, new RespStatus("OK"), `value #${i}`);
            assert.equal(await to.call("GET", `dst${i}`), value, `value #${i}`);
          }
        }
      } finally {
        kvdb.close();
        redis.close();
      }
    });
  },
);
