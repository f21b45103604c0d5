/**
 * The RDB codecs against payloads DUMPed by redis-server 7.0.15 (captured
 * with `redis-cli --no-raw DUMP`): kvdb's encoder writes the same bytes
 * (listpack, intset, quicklist, skiplist zset, LZF), and decodes them back.
 */

import assert from "node:assert/strict";
import { binaryToBytes, bytesToBinary } from "../../bytes/binary_string.ts";
import { decodeDump, encodeDumpValue } from "../dump_payload.ts";
import type { RdbValue } from "./rdb_value.ts";
import { decodeListpack, encodeListpack, listpackEntryBytes } from "./listpack.ts";
import { decodeIntset, encodeIntset } from "./intset.ts";
import { lzfCompress, lzfDecompress } from "./lzf.ts";

const FIXTURES: [string, RdbValue, string][] = [
  [
    "HSET h a 1 b 2 c hello (listpack)",
    { kind: "hash", pairs: [["a", "1"], ["b", "2"], ["c", "hello"]], compact: true },
    "\x10\x1b\x1b\x00\x00\x00\x06\x00\x81a\x02\x01\x01\x81b\x02\x02\x01\x81c\x02\x85hello\x06\xff\x0a\x00\xbe\x10\xed\x08Bw)\x01",
  ],
  [
    "RPUSH l a b 1 2 300 -5 70000 (quicklist)",
    { kind: "list", items: ["a", "b", "1", "2", "300", "-5", "70000"] },
    "\x12\x01\x02\x1c\x1c\x00\x00\x00\x07\x00\x81a\x02\x81b\x02\x01\x01\x02\x01\xc1,\x02\xdf\xfb\x02\xf2p\x11\x01\x04\xff\x0a\x00\xde\x0e\xe6n\x09\xffo\xca",
  ],
  [
    "SADD s 1 2 3 -100 100000 (intset)",
    { kind: "set", members: ["-100", "1", "2", "3", "100000"], compact: true },
    "\x0b\x1c\x04\x00\x00\x00\x05\x00\x00\x00\x9c\xff\xff\xff\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\xa0\x86\x01\x00\x0a\x00o\xcd\xde\x08\xd3\xcf$\x92",
  ],
  [
    "ZADD z 1 a 2.5 b -3 c 0.1 d (listpack, LZF)",
    { kind: "zset", entries: [["c", -3], ["d", 0.1], ["a", 1], ["b", 2.5]], compact: true },
    "\x11\xc3)2\x132\x00\x00\x00\x08\x00\x81c\x02\xdf\xfd\x02\x81d\x02\x930.10\xe0\x05\x00\x0f1\x14\x81a\x02\x01\x01\x81b\x02\x832.5\x04\xff\x0a\x00#\x82C\xd2\x17%\xe8\x90",
  ],
  [
    "ZADD z 1 a 2.5 b -3 c (skiplist)",
    { kind: "zset", entries: [["c", -3], ["a", 1], ["b", 2.5]], compact: false },
    "\x05\x03\x01b\x00\x00\x00\x00\x00\x00\x04@\x01a\x00\x00\x00\x00\x00\x00\xf0?\x01c\x00\x00\x00\x00\x00\x00\x08\xc0\x0a\x00}\xde9m\xd2l\x0a\x9e",
  ],
  [
    "HSET hz f1 a*40 f2 a*28 (listpack, LZF)",
    { kind: "hash", pairs: [["f1", "a".repeat(40)], ["f2", "a".repeat(28)]], compact: true },
    "\x10\xc3\x1d@W\x0bW\x00\x00\x00\x04\x00\x82f1\x03\xa8a\xe0\x1e\x00\x05)\x82f2\x03\x9c\xe0\x13,\x01\x1d\xff\x0a\x00}v\xd5A\xfc\xf8V\x06",
  ],
];

for (const [name, value, redisPayload] of FIXTURES) {
  Deno.test(`RDB codecs: ${name} encodes to Redis's bytes and decodes back`, () => {
    assert.equal(bytesToBinary(encodeDumpValue(value, -2)), redisPayload);
    const decoded = decodeDump(redisPayload);
    assert.ok("value" in decoded, JSON.stringify(decoded));
    assert.deepEqual(decoded.value, value);
  });
}

Deno.test("listpack: every integer width and string length round-trips; sizes agree", () => {
  const elements = [
    "0",
    "127",
    "128",
    "-1",
    "-4096",
    "4095",
    "4096",
    "-32768",
    "32767",
    "32768",
    "-8388608",
    "8388607",
    "8388608",
    "2147483647",
    "-2147483649",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "007",
    "-0",
    "+1",
    "",
    "x".repeat(63),
    "x".repeat(64),
    "x".repeat(4095),
    "x".repeat(4096),
    "x".repeat(20000),
    "\x00\xff",
  ];
  const bytes = encodeListpack(elements);
  assert.deepEqual(decodeListpack(bytes), elements);
  const summed = 7 + elements.reduce((n, e) => n + listpackEntryBytes(e), 0);
  assert.equal(bytes.length, summed);
});

Deno.test("listpack: malformed bytes are refused, not misread", () => {
  const good = encodeListpack(["a", "1"]);
  assert.equal(decodeListpack(good.subarray(0, good.length - 1)), undefined);
  const badTotal = good.slice();
  badTotal[0]++;
  assert.equal(decodeListpack(badTotal), undefined);
  const badCount = good.slice();
  badCount[4] = 3;
  assert.equal(decodeListpack(badCount), undefined);
  const badBacklen = good.slice();
  badBacklen[8] = 9;
  assert.equal(decodeListpack(badBacklen), undefined);
});

Deno.test("intset: widths 2, 4, 8; order and size checked", () => {
  assert.deepEqual(decodeIntset(encodeIntset([3n, -1n])), [-1n, 3n]);
  assert.equal(encodeIntset([1n, 40000n])[0], 4);
  assert.equal(encodeIntset([1n, 2n ** 40n])[0], 8);
  const unsorted = encodeIntset([1n, 2n]);
  unsorted[8] = 5;
  assert.equal(decodeIntset(unsorted), undefined);
  assert.equal(decodeIntset(encodeIntset([1n]).subarray(0, 9)), undefined);
});

Deno.test("LZF: compresses as Redis does and decompresses back; incompressible is refused", () => {
  const text = binaryToBytes("abcabcabcabcabcabcabcabcabc".repeat(40));
  const packed = lzfCompress(text, text.length - 4)!;
  assert.ok(packed.length < text.length / 4);
  assert.deepEqual(lzfDecompress(packed, text.length), text);
  const noise = new Uint8Array(64).map((_, i) => (i * 131 + 7) & 0xff);
  assert.equal(lzfCompress(noise, noise.length - 4), undefined);
});
