/**
 * kvdb against redis-server 7.0 on the stream group (issue 19): XADD
 * (explicit, `ms-*` and automatic IDs, NOMKSTREAM, MAXLEN/MINID with `=`,
 * `~` and LIMIT), XRANGE/XREVRANGE (`-`, `+`, exclusive bounds, COUNT),
 * XLEN, XDEL, XTRIM, XSETID, TYPE/OBJECT ENCODING/WRONGTYPE, the
 * consumer-group commands and XINFO, with hand-written edge cases and
 * seeded random sequences; replies compared byte for byte in RESP2 and
 * RESP3.
 *
 * IDs are given explicitly wherever a reply shows them: an automatic ID is
 * the clock's, so those steps compare by shape. Idle times and delivery
 * times are the clock's too: replies that hold them compare by shape.
 */

import assert from "node:assert/strict";
import { bytesToBinary } from "../src/bytes/binary_string.ts";
import { crc64 } from "../src/bytes/crc64.ts";
import { ByteWriter } from "../src/keyspace/rdb/byte_writer.ts";
import { encodeListpack } from "../src/keyspace/rdb/listpack.ts";
import { writeRdbLength, writeRdbString } from "../src/keyspace/rdb/rdb_string.ts";
import { RespClient, RespError, RespStatus, ServerProcess, startRedisServer } from "./_helpers.ts";
import { type EventSteps, keyspaceEventsTest } from "./_keyspace_events.ts";
import {
  differentialTest,
  DiffPair,
  normalized,
  type RespValue,
  type Rng,
  shapeOnly,
  STANDARD_RULES,
  type Step,
  type StepLike,
  type Template,
  template,
} from "./_differential.ts";

function shape(...args: string[]): StepLike {
  return { args, compare: shapeOnly };
}

/** Fields whose value is the clock's: an idle time or an absolute time. */
const CLOCK_FIELDS = new Set(["idle", "seen-time"]);

/**
 * The reply with every clock-dependent number masked: idle times (after an
 * `idle` field; XPENDING's third column) and absolute times (above 10^12 ms).
 */
function maskClock(v: RespValue, clock = false): unknown {
  switch (v.type) {
    case "integer":
      return clock || v.value > 1_000_000_000_000n ? "T" : String(v.value);
    case "array":
    case "set":
    case "push": {
      const pending = v.items.length === 4 && v.items[0].type === "bulk" &&
        /^\d+-\d+$/.test(v.items[0].value) && v.items[2].type === "integer";
      return v.items.map((item, i) =>
        maskClock(
          item,
          (pending && i === 2) ||
            (i > 0 && v.items[i - 1].type === "bulk" &&
              CLOCK_FIELDS.has((v.items[i - 1] as { value: string }).value)),
        )
      );
    }
    case "map":
      return v.entries.map(([k, value]) => [
        maskClock(k),
        maskClock(value, k.type === "bulk" && CLOCK_FIELDS.has(k.value)),
      ]);
    default:
      return v;
  }
}

const clockMasked = normalized("clockMasked", (f) => JSON.stringify(maskClock(f.value)));

/** A step whose reply holds idle or delivery times. */
function timed(...args: string[]): StepLike {
  return { args, compare: clockMasked };
}

const BIN = "\x00\x01\r\n\xff\xfe";
const U64 = "18446744073709551615";

/** `n` entries with IDs 1-1 .. n-1 (and a field the same each time, so nodes compress). */
function fill(key: string, n: number, from = 1, fields: string[] = ["f", "v"]): StepLike[] {
  const steps: StepLike[] = [];
  for (let i = from; i < from + n; i++) steps.push(["XADD", key, `${i}-1`, ...fields]);
  return steps;
}

const CASES: Record<string, StepLike[]> = {
  "XADD IDs and their errors": [
    ["XADD", "s", "1-1", "a", "1"],
    ["XADD", "s", "1-1", "a", "1"],
    ["XADD", "s", "1-0", "a", "1"],
    ["XADD", "s", "1-*", "a", "2"],
    ["XADD", "s", "1", "a", "2"],
    ["XADD", "s", "2", "a", "2"],
    ["XADD", "s", "2-*", "a", "3"],
    ["XADD", "s", "3-18446744073709551615", "a", "3"],
    ["XADD", "s", "3-*", "a", "3"],
    ["XADD", "s", "4-*", "a", "3"],
    ["XADD", "s", "0-0", "a", "1"],
    ["XADD", "new", "0-0", "a", "1"],
    ["XADD", "new", "0-*", "a", "1"],
    ["XADD", "new", "0-*", "a", "1"],
    ["XADD", "new", "0", "a", "1"],
    ["XADD", "s", "x", "a", "1"],
    ["XADD", "s", "1-x", "a", "1"],
    ["XADD", "s", "-1", "a", "1"],
    ["XADD", "s", "5--1", "a", "1"],
    ["XADD", "s", "", "a", "1"],
    ["XADD", "s", "*-1", "a", "1"],
    ["XADD", "s", "5-**", "a", "1"],
    ["XADD", "s", " 6", "a", "1"],
    ["XADD", "s", "+7-+1", "a", "1"],
    ["XADD", "s", "008-01", "a", "1"],
    ["XADD", "s", "9-1", "a"],
    ["XADD", "s", "9-1", "a", "1", "b"],
    ["XADD", "s", "9-1"],
    ["XADD", "s"],
    ["XADD", "s", "18446744073709551616-0", "a", "1"],
    ["XADD", "s", `${U64}-0`, "a", "1"],
    ["XADD", "s", `${U64}-*`, "a", "1"],
    ["XADD", "s", `${U64}-${U64}`, "a", "1"],
    ["XADD", "s", "*", "a", "1"],
    ["XADD", "s", `${U64}-*`, "a", "1"],
    ["XRANGE", "s", "-", "+"],
    ["XLEN", "s"],
    ["XADD", "b", "1-1", BIN, BIN, "", "", "f", "x".repeat(300)],
    ["XRANGE", "b", "-", "+"],
    ["XADD", "dup", "1-1", "f", "1", "f", "2"],
    ["XRANGE", "dup", "-", "+"],
    shape("XADD", "auto", "*", "a", "1"),
    shape("XADD", "auto", "*", "a", "1"),
    ["XLEN", "auto"],
  ],
  "NOMKSTREAM, MAXLEN and MINID on XADD": [
    ["XADD", "none", "NOMKSTREAM", "1-1", "a", "1"],
    ["EXISTS", "none"],
    ["XADD", "s", "1-1", "a", "1"],
    ["XADD", "s", "NOMKSTREAM", "2-1", "a", "1"],
    ["XADD", "s", "nomkstream", "MAXLEN", "1", "3-1", "a", "1"],
    ["XRANGE", "s", "-", "+"],
    ["XADD", "s", "MAXLEN", "=", "2", "4-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "~", "0", "5-1", "a", "1"],
    ["XLEN", "s"],
    ["XADD", "s", "MINID", "5", "6-1", "a", "1"],
    ["XRANGE", "s", "-", "+"],
    ["XADD", "s", "MINID", "=", "7", "7-1", "a", "1"],
    ["XADD", "s", "MINID", "~", "100", "8-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "-1", "9-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "x", "9-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "1", "MINID", "1", "9-1", "a", "1"],
    ["XADD", "s", "MINID", "x", "9-1", "a", "1"],
    ["XADD", "s", "MINID", "-", "9-1", "a", "1"],
    ["XADD", "s", "LIMIT", "5", "9-1", "a", "1"],
    ["XADD", "s", "LIMIT", "0", "9-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "1", "LIMIT", "5", "9-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "9-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "5", "9-1", "a", "1"],
    ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "0", "10-1", "a", "1"],
    ["XADD", "s", "MAXLEN"],
    ["XADD", "s", "MAXLEN", "1"],
    ["XADD", "s", "MAXLEN", "1", "*"],
    ["XADD", "s", "MAXLEN", "~"],
    ["XADD", "s", "MAXLEN", "~", "*", "a", "1"],
    ["XRANGE", "s", "-", "+"],
  ],
  "approximate trimming keeps Redis's node boundaries": [
    ...fill("s", 250),
    ["XTRIM", "s", "MAXLEN", "~", "120"],
    ["XLEN", "s"],
    ["XTRIM", "s", "MAXLEN", "~", "10", "LIMIT", "50"],
    ["XTRIM", "s", "MAXLEN", "~", "10", "LIMIT", "100"],
    ["XLEN", "s"],
    ["XTRIM", "s", "MAXLEN", "45"],
    ["XRANGE", "s", "-", "+", "COUNT", "2"],
    ["XTRIM", "s", "MINID", "~", "230"],
    ["XTRIM", "s", "MINID", "230"],
    ["XRANGE", "s", "-", "+", "COUNT", "2"],
    // Bigger entries: nodes end at 4096 bytes before 100 entries.
    ...fill("big", 120, 1, ["field", "v".repeat(100), "n", "12345"]),
    ["XTRIM", "big", "MAXLEN", "~", "60"],
    ["XLEN", "big"],
    // Changing fields (no compression), integers and long strings.
    ...fill("mix", 40, 1, ["a", "1"]),
    ...fill("mix", 40, 41, ["b", "-70000", "c", "x".repeat(70)]),
    ...fill("mix", 40, 81, ["a", "9223372036854775807", "d", "y".repeat(5000)]),
    ["XTRIM", "mix", "MAXLEN", "~", "50"],
    ["XLEN", "mix"],
    ["XTRIM", "mix", "MAXLEN", "~", "0"],
    ["XLEN", "mix"],
    // Tombstones count toward a node's entries.
    ...fill("t", 100),
    ["XDEL", "t", "5-1", "6-1", "7-1"],
    ...fill("t", 5, 101),
    ["XTRIM", "t", "MAXLEN", "~", "5"],
    ["XLEN", "t"],
    // Seq deltas below the master entry's and huge ms.
    ["XADD", "h", "5-100", "a", "1"],
    ["XADD", "h", "6-1", "a", "1"],
    ["XADD", "h", `${U64}-0`, "a", "1"],
    ["XTRIM", "h", "MAXLEN", "~", "0"],
    ["XLEN", "h"],
  ],
  "XRANGE and XREVRANGE": [
    ...fill("s", 12),
    ["XADD", "s", "12-5", "g", "h"],
    ["XRANGE", "s", "-", "+"],
    ["XRANGE", "s", "3", "5"],
    ["XRANGE", "s", "3-1", "5-0"],
    ["XRANGE", "s", "(3-1", "(5-1"],
    ["XRANGE", "s", "(3", "+"],
    ["XRANGE", "s", "-", "(1-1"],
    ["XRANGE", "s", "(-", "+"],
    ["XRANGE", "s", "-", "(+"],
    ["XRANGE", "s", "(", "+"],
    ["XRANGE", "s", "(0-0", "+", "COUNT", "1"],
    ["XRANGE", "s", "-", `(0-0`],
    ["XRANGE", "s", `(${U64}-${U64}`, "+"],
    ["XRANGE", "s", "12", "12"],
    ["XRANGE", "s", "5", "3"],
    ["XRANGE", "s", "-", "+", "COUNT", "3"],
    ["XRANGE", "s", "-", "+", "COUNT", "0"],
    ["XRANGE", "s", "-", "+", "COUNT", "-5"],
    ["XRANGE", "s", "-", "+", "COUNT", "x"],
    ["XRANGE", "s", "-", "+", "COUNT"],
    ["XRANGE", "s", "-", "+", "LIMIT", "1"],
    ["XRANGE", "s", "-", "+", "COUNT", "2", "COUNT", "4"],
    ["XRANGE", "s", "x", "+"],
    ["XRANGE", "s", "-", "y"],
    ["XRANGE", "nokey", "-", "+"],
    ["XRANGE", "nokey", "-", "+", "COUNT", "0"],
    ["XREVRANGE", "s", "+", "-"],
    ["XREVRANGE", "s", "5", "3"],
    ["XREVRANGE", "s", "(5", "(3"],
    ["XREVRANGE", "s", "+", "-", "COUNT", "2"],
    ["XREVRANGE", "s", "-", "+"],
    ["XREVRANGE", "s", "12-4", "-"],
    ["XREVRANGE", "s", "(12-5", "-", "COUNT", "1"],
    ["XDEL", "s", "12-5", "11-1", "3-1"],
    ["XREVRANGE", "s", "+", "-", "COUNT", "3"],
    ["XRANGE", "s", "2-1", "4-1"],
  ],
  "XDEL, XLEN and XTRIM": [
    ...fill("s", 5),
    ["XDEL", "s", "1-1", "1-1", "9-9", "2"],
    ["XDEL", "s", "2-1"],
    ["XDEL", "s", "x"],
    ["XDEL", "s", "3-1", "x"],
    ["XDEL", "s", "-"],
    ["XDEL", "nokey", "1-1"],
    ["XDEL", "nokey", "x"],
    ["XLEN", "s"],
    ["XLEN", "nokey"],
    ["XDEL", "s", "3-1", "4-1", "5-1"],
    ["XLEN", "s"],
    ["EXISTS", "s"],
    ["TYPE", "s"],
    ["XRANGE", "s", "-", "+"],
    ["XADD", "s", "5-1", "a", "1"],
    ["XADD", "s", "6-1", "a", "1"],
    ...fill("t", 10),
    ["XTRIM", "t", "MAXLEN", "5"],
    ["XTRIM", "t", "MAXLEN", "=", "4"],
    ["XTRIM", "t", "MINID", "8"],
    ["XTRIM", "t", "MINID", "=", "8-1"],
    ["XTRIM", "t", "MAXLEN", "100"],
    ["XTRIM", "t", "MINID", "0"],
    ["XTRIM", "t", "MAXLEN", "0"],
    ["XLEN", "t"],
    ["XTRIM", "t"],
    ["XTRIM", "t", "MAXLEN"],
    ["XTRIM", "t", "FOO", "1"],
    ["XTRIM", "t", "MAXLEN", "1", "FOO"],
    ["XTRIM", "t", "LIMIT", "1"],
    ["XTRIM", "t", "MAXLEN", "1", "LIMIT", "1"],
    ["XTRIM", "t", "MAXLEN", "~", "1", "LIMIT", "1"],
    ["XTRIM", "t", "MAXLEN", "~"],
    ["XTRIM", "t", "MAXLEN", "-1"],
    ["XTRIM", "t", "MINID", "x"],
    ["XTRIM", "t", "MINID", "+"],
    ["XTRIM", "nokey", "MAXLEN", "1"],
    ["XTRIM", "nokey", "MAXLEN", "x"],
  ],
  // XADD * after a last ID in the future: the new ID follows it, the same
  // on both servers, whether its parts are exact numbers (the usual path)
  // or not (a sequence or a time past 2^53).
  "XADD * after a last ID ahead of the clock": [
    ["XADD", "a", "99999999999999-5", "f", "v"],
    ["XADD", "a", "*", "f", "v"],
    ["XADD", "a", "*", "f", "v"],
    ["XSETID", "a", "99999999999999-9007199254740990"],
    ["XADD", "a", "*", "f", "v"],
    ["XADD", "a", "*", "f", "v"],
    ["XADD", "a", "*", "f", "v"],
    ["XSETID", "a", `99999999999999-${U64}`],
    ["XADD", "a", "*", "f", "v"],
    ["XADD", "a", "*", "f", "v"],
    ["XADD", "a", "*", "g", "w", "h", "x"],
    ["XSETID", "a", "9007199254740993-5"],
    ["XADD", "a", "*", "f", "v"],
    ["XADD", "a", "*", "f", "v"],
    ["XSETID", "a", `${U64}-18446744073709551614`],
    ["XADD", "a", "*", "f", "v"],
    ["XADD", "a", "*", "f", "v"],
    ["XRANGE", "a", "-", "+"],
    ["XREVRANGE", "a", "+", "-", "COUNT", "3"],
    ["XINFO", "STREAM", "a"],
  ],
  "XSETID": [
    ["XSETID", "nokey", "1-1"],
    ...fill("s", 3),
    ["XSETID", "s", "2-1"],
    ["XSETID", "s", "3-1"],
    ["XADD", "s", "3-1", "a", "1"],
    ["XSETID", "s", "10-1"],
    ["XADD", "s", "10-1", "a", "1"],
    ["XADD", "s", "10-*", "a", "1"],
    ["XSETID", "s", "11-1", "ENTRIESADDED", "2"],
    ["XSETID", "s", "11-1", "ENTRIESADDED", "-1"],
    ["XSETID", "s", "11-1", "ENTRIESADDED", "x"],
    ["XSETID", "s", "11-1", "ENTRIESADDED", "10", "MAXDELETEDID", "12-0"],
    ["XSETID", "s", "11-1", "ENTRIESADDED", "10", "MAXDELETEDID", "5-0"],
    ["XSETID", "s", "11-1", "MAXDELETEDID", "3-0"],
    ["XSETID", "s", "11-1", "FOO", "3-0"],
    ["XSETID", "s", "11-1", "ENTRIESADDED"],
    ["XSETID", "s", "-"],
    ["XSETID", "s", "x"],
    ["XSETID", "s", "20"],
    ["XADD", "s", "20-*", "a", "1"],
    ["XDEL", "s", "20-1"],
    ["XSETID", "s", "0-1"],
    ["XDEL", "s", "1-1", "2-1", "3-1", "10-1", "10-2"],
    ["XLEN", "s"],
    ["XSETID", "s", "1-0"],
    ["XSETID", "s", "30-0"],
    ["XADD", "s", "30-*", "a", "1"],
    ["XSETID", "s", `${U64}-${U64}`],
    ["XADD", "s", "*", "a", "1"],
    ["XADD", "s", `${U64}-*`, "a", "1"],
  ],
  "TYPE, OBJECT ENCODING, WRONGTYPE and keyspace commands": [
    ["XADD", "s", "1-1", "a", "1"],
    ["TYPE", "s"],
    ["OBJECT", "ENCODING", "s"],
    ["SET", "str", "x"],
    ["LPUSH", "list", "x"],
    ["XADD", "str", "1-1", "a", "1"],
    ["XRANGE", "str", "-", "+"],
    ["XREVRANGE", "list", "+", "-"],
    ["XLEN", "str"],
    ["XDEL", "str", "1-1"],
    ["XTRIM", "str", "MAXLEN", "1"],
    ["XSETID", "str", "1-1"],
    ["GET", "s"],
    ["LPUSH", "s", "x"],
    ["HSET", "s", "f", "v"],
    ["RENAME", "s", "s2"],
    ["XRANGE", "s2", "-", "+"],
    ["COPY", "s2", "s3"],
    ["XADD", "s3", "2-1", "b", "2"],
    ["XRANGE", "s3", "-", "+"],
    ["XRANGE", "s2", "-", "+"],
    ["EXPIRE", "s3", "100"],
    ["TTL", "s3"],
    ["DEL", "s2", "s3"],
    ["EXISTS", "s2", "s3"],
    ["XADD", "e", "1-1", "a", "1"],
    ["XDEL", "e", "1-1"],
    ["TYPE", "e"],
    ["EXISTS", "e"],
    ["XADD", "e", "1-1", "a", "1"],
    ["SORT", "e"],
  ],
};

const GROUP_CASES: Record<string, StepLike[]> = {
  "XGROUP CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER": [
    ["XGROUP", "CREATE", "s", "g", "$"],
    ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
    ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
    ["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "5"],
    ["XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "-2"],
    ["XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "x"],
    ["XGROUP", "CREATE", "s", "g3", "0", "FOO"],
    ["XGROUP", "CREATE", "s", "g3", "0", "SETID"],
    ["XGROUP", "CREATE", "s", "g3", "x"],
    ["XGROUP", "CREATE", "s", "g3", "-"],
    ["XGROUP", "CREATE", "s", "g3", "7"],
    ["XGROUP", "CREATE", "s", "g4", "0", "MKSTREAM", "ENTRIESREAD", "1", "MKSTREAM"],
    ["XGROUP", "CREATE", "s"],
    ["XGROUP", "CREATE", "nokey", "g", "0"],
    ["XGROUP", "SETID", "nokey", "g", "0"],
    ["XGROUP", "SETID", "s", "nog", "0"],
    ["XGROUP", "SETID", "s", "g", "5"],
    ["XGROUP", "SETID", "s", "g", "-"],
    ["XGROUP", "SETID", "s", "g", "+"],
    ["XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "3"],
    ["XGROUP", "SETID", "s", "g", "0", "MKSTREAM"],
    ["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD"],
    ["XGROUP", "SETID", "s", "g", "x"],
    ["XINFO", "GROUPS", "s"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "alice"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "alice"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "bob"],
    ["XGROUP", "CREATECONSUMER", "s", "nog", "bob"],
    ["XGROUP", "CREATECONSUMER", "nokey", "g", "bob"],
    ["XGROUP", "CREATECONSUMER", "s", "g"],
    timed("XINFO", "CONSUMERS", "s", "g"),
    ["XGROUP", "DELCONSUMER", "s", "g", "alice"],
    ["XGROUP", "DELCONSUMER", "s", "g", "nobody"],
    ["XGROUP", "DELCONSUMER", "s", "nog", "nobody"],
    ["XGROUP", "DESTROY", "s", "g2"],
    ["XGROUP", "DESTROY", "s", "g2"],
    ["XGROUP", "DESTROY", "nokey", "g2"],
    ["XGROUP", "DESTROY", "s", "g2", "x"],
    ["XGROUP", "FOO", "s", "g"],
    ["XGROUP"],
    ["SET", "str", "x"],
    ["XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"],
    ["XGROUP", "DESTROY", "str", "g"],
    ["XINFO", "GROUPS", "s"],
  ],
  "XREADGROUP, XACK and XPENDING": [
    ...fill("s", 5),
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"],
    ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", "1-1"],
    ["XREADGROUP", "GROUP", "g", "nobody", "STREAMS", "s", "0"],
    ["XPENDING", "s", "g"],
    timed("XPENDING", "s", "g", "-", "+", "10"),
    timed("XPENDING", "s", "g", "-", "+", "10", "alice"),
    timed("XPENDING", "s", "g", "(1-1", "(5-1", "10"),
    timed("XPENDING", "s", "g", "IDLE", "0", "-", "+", "2"),
    ["XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10"],
    ["XPENDING", "s", "g", "-", "+", "0"],
    ["XPENDING", "s", "g", "-", "+", "-1"],
    ["XPENDING", "s", "g", "-", "+", "10", "nobody"],
    ["XPENDING", "s", "g", "-", "+"],
    ["XPENDING", "s", "g", "IDLE", "0", "-", "+"],
    ["XPENDING", "s", "g", "IDLE", "x", "-", "+", "1"],
    ["XPENDING", "s", "g", "x", "+", "1"],
    ["XPENDING", "s", "g", "-", "+", "x"],
    ["XPENDING", "s", "nog"],
    ["XPENDING", "nokey", "g"],
    ["XACK", "s", "g", "1-1", "1-1", "9-9"],
    ["XACK", "s", "g", "x"],
    ["XACK", "s", "nog", "2-1"],
    ["XACK", "nokey", "g", "2-1"],
    ["XPENDING", "s", "g"],
    ["XDEL", "s", "2-1"],
    ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"],
    timed("XINFO", "CONSUMERS", "s", "g"),
    ["XINFO", "GROUPS", "s"],
    ["XREADGROUP", "GROUP", "g", "dave", "NOACK", "STREAMS", "s", ">"],
    ["XADD", "s", "6-1", "f", "v"],
    ["XREADGROUP", "GROUP", "g", "dave", "NOACK", "STREAMS", "s", ">"],
    ["XPENDING", "s", "g"],
    ["XINFO", "GROUPS", "s"],
    ["XGROUP", "SETID", "s", "g", "0"],
    ["XREADGROUP", "GROUP", "g", "erin", "COUNT", "3", "STREAMS", "s", ">"],
    ["XPENDING", "s", "g"],
    ["XINFO", "GROUPS", "s"],
    ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "nokey", ">", ">"],
    ["XREADGROUP", "GROUP", "nog", "alice", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "$"],
    ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s"],
    ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "x"],
    ["XREADGROUP", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "x", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "alice", "FOO", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "-1", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "x", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "str", ">"],
    ["SET", "str", "x"],
    ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "str", ">"],
    ["XACK", "str", "g", "1-1"],
    ["XPENDING", "str", "g"],
  ],
  "entries-read and lag": [
    ...fill("s", 5),
    ["XGROUP", "CREATE", "s", "a", "0"],
    ["XGROUP", "CREATE", "s", "b", "$"],
    ["XGROUP", "CREATE", "s", "c", "3-1"],
    ["XGROUP", "CREATE", "s", "d", "0", "ENTRIESREAD", "2"],
    ["XINFO", "GROUPS", "s"],
    ["XREADGROUP", "GROUP", "a", "x", "COUNT", "2", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "c", "x", "COUNT", "1", "STREAMS", "s", ">"],
    ["XINFO", "GROUPS", "s"],
    ["XDEL", "s", "4-1"],
    ["XINFO", "GROUPS", "s"],
    ["XREADGROUP", "GROUP", "a", "x", "STREAMS", "s", ">"],
    ["XINFO", "GROUPS", "s"],
    ["XDEL", "s", "1-1"],
    ["XINFO", "GROUPS", "s"],
    ["XADD", "s", "6-1", "f", "v"],
    ["XINFO", "GROUPS", "s"],
    ["XTRIM", "s", "MAXLEN", "1"],
    ["XINFO", "GROUPS", "s"],
    ["XSETID", "s", "10-1", "ENTRIESADDED", "20", "MAXDELETEDID", "9-0"],
    ["XINFO", "GROUPS", "s"],
    ["XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"],
    ["XINFO", "GROUPS", "e"],
  ],
  "XCLAIM and XAUTOCLAIM": [
    ...fill("s", 6),
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"],
    ["XCLAIM", "s", "g", "bob", "0", "1-1", "2-1"],
    ["XCLAIM", "s", "g", "bob", "100000", "3-1"],
    ["XCLAIM", "s", "g", "bob", "0", "3-1", "JUSTID"],
    ["XCLAIM", "s", "g", "bob", "0", "4-1", "RETRYCOUNT", "7"],
    ["XCLAIM", "s", "g", "bob", "0", "4-1", "IDLE", "500000"],
    ["XCLAIM", "s", "g", "carol", "400000", "4-1"],
    ["XCLAIM", "s", "g", "carol", "0", "5-1", "TIME", "1000"],
    ["XCLAIM", "s", "g", "carol", "0", "9-1", "FORCE"],
    ["XCLAIM", "s", "g", "carol", "0", "6-1", "1-1", "1-1", "JUSTID"],
    ["XACK", "s", "g", "6-1"],
    ["XCLAIM", "s", "g", "carol", "0", "6-1", "FORCE", "JUSTID"],
    ["XACK", "s", "g", "6-1"],
    ["XCLAIM", "s", "g", "carol", "0", "6-1", "FORCE"],
    ["XCLAIM", "s", "g", "carol", "0", "2-1", "LASTID", "50-0"],
    ["XINFO", "GROUPS", "s"],
    ["XDEL", "s", "2-1"],
    ["XCLAIM", "s", "g", "dave", "0", "2-1"],
    timed("XPENDING", "s", "g", "-", "+", "10"),
    ["XCLAIM", "s", "g", "bob", "x", "1-1"],
    ["XCLAIM", "s", "g", "bob", "0", "1-1", "IDLE", "x"],
    ["XCLAIM", "s", "g", "bob", "0", "1-1", "TIME", "x"],
    ["XCLAIM", "s", "g", "bob", "0", "1-1", "RETRYCOUNT", "x"],
    ["XCLAIM", "s", "g", "bob", "0", "1-1", "LASTID", "x"],
    ["XCLAIM", "s", "g", "bob", "0", "1-1", "FOO"],
    ["XCLAIM", "s", "g", "bob", "0", "x"],
    ["XCLAIM", "s", "nog", "bob", "0", "1-1"],
    ["XCLAIM", "nokey", "g", "bob", "0", "1-1"],
    ["XCLAIM", "s", "g", "bob", "-5", "1-1"],
    ["XAUTOCLAIM", "s", "g", "erin", "0", "0", "COUNT", "2"],
    ["XAUTOCLAIM", "s", "g", "erin", "0", "(3-1", "COUNT", "2", "JUSTID"],
    ["XAUTOCLAIM", "s", "g", "erin", "0", "0"],
    ["XDEL", "s", "3-1", "4-1"],
    ["XAUTOCLAIM", "s", "g", "frank", "0", "-", "COUNT", "1"],
    ["XAUTOCLAIM", "s", "g", "frank", "0", "-"],
    ["XAUTOCLAIM", "s", "g", "frank", "100000", "-"],
    ["XAUTOCLAIM", "s", "g", "frank", "0", "-", "COUNT", "0"],
    ["XAUTOCLAIM", "s", "g", "frank", "0", "-", "COUNT", "x"],
    ["XAUTOCLAIM", "s", "g", "frank", "0", "-", "FOO"],
    ["XAUTOCLAIM", "s", "g", "frank", "x", "-"],
    ["XAUTOCLAIM", "s", "g", "frank", "0", "x"],
    ["XAUTOCLAIM", "s", "nog", "frank", "0", "-"],
    ["XAUTOCLAIM", "nokey", "g", "frank", "0", "-"],
    timed("XPENDING", "s", "g", "-", "+", "10"),
    timed("XINFO", "CONSUMERS", "s", "g"),
  ],
  "XREAD without blocking": [
    ...fill("s", 3),
    ...fill("t", 2, 5),
    ["XREAD", "STREAMS", "s", "0"],
    ["XREAD", "COUNT", "1", "STREAMS", "s", "t", "0", "0"],
    ["XREAD", "STREAMS", "s", "t", "2-1", "5-1"],
    ["XREAD", "STREAMS", "s", "$"],
    ["XREAD", "STREAMS", "s", "nokey", "0", "0"],
    ["XREAD", "STREAMS", "s", "s", "0", "2"],
    ["XREAD", "STREAMS", "s", ">"],
    ["XREAD", "STREAMS", "s"],
    ["XREAD", "STREAMS", "s", "x"],
    ["XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"],
    ["XREAD", "NOACK", "STREAMS", "s", "0"],
    ["XREAD", "COUNT", "-1", "STREAMS", "s", "0"],
    ["XREAD", "FOO", "STREAMS", "s", "0"],
    ["XREAD", "s", "0"],
    ["XREAD", "STREAMS", "str", "0"],
    ["SET", "str", "x"],
    ["XREAD", "STREAMS", "str", "0"],
    ["XREAD", "BLOCK", "-1", "STREAMS", "s", "0"],
    ["XREAD", "BLOCK", "1", "STREAMS", "s", "0"],
    ["MULTI"],
    ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
    ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"],
    ["EXEC"],
  ],
  "XINFO STREAM, FULL, GROUPS, CONSUMERS": [
    ["XINFO", "STREAM", "nokey"],
    ["XINFO", "STREAM", "nokey", "FULL"],
    ["XINFO", "GROUPS", "nokey"],
    ["XINFO", "CONSUMERS", "nokey", "g"],
    ["XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"],
    ["XINFO", "STREAM", "e"],
    ["XINFO", "STREAM", "e", "FULL"],
    ...fill("s", 250),
    ["XDEL", "s", "100-1", "200-1", "201-1"],
    ["XINFO", "STREAM", "s"],
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XGROUP", "CREATE", "s", "a", "$"],
    ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "3", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "c2", "COUNT", "12", "STREAMS", "s", ">"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "c0"],
    ["XINFO", "STREAM", "s"],
    timed("XINFO", "STREAM", "s", "FULL"),
    timed("XINFO", "STREAM", "s", "FULL", "COUNT", "2"),
    timed("XINFO", "STREAM", "s", "FULL", "COUNT", "0"),
    timed("XINFO", "STREAM", "s", "FULL", "COUNT", "-1"),
    ["XINFO", "STREAM", "s", "FULL", "COUNT", "x"],
    ["XINFO", "STREAM", "s", "FULL", "COUNT"],
    ["XINFO", "STREAM", "s", "FOO"],
    ["XINFO", "STREAM", "s", "FULL", "FOO", "1"],
    ["XINFO", "GROUPS", "s"],
    timed("XINFO", "CONSUMERS", "s", "g"),
    ["XINFO", "CONSUMERS", "s", "nog"],
    ["XINFO", "FOO", "s"],
    ["XINFO", "STREAM"],
    ["XINFO", "STREAM", "str"],
    ["SET", "str", "x"],
    ["XINFO", "STREAM", "str"],
    ["XINFO", "GROUPS", "str"],
    ["XTRIM", "s", "MAXLEN", "0"],
    ["XINFO", "STREAM", "s"],
    ["XADD", "h", `${U64}-0`, "a", "1"],
    ["XADD", "h", `${U64}-5`, "a", "1"],
    ["XINFO", "STREAM", "h"],
  ],
};

/** DUMP writes Redis's RDB_TYPE_STREAM_LISTPACKS_2 bytes: the same payload as redis-server's. */
const DUMP_CASES: Record<string, StepLike[]> = {
  "DUMP of streams: Redis's bytes": [
    ...fill("s", 3),
    ["DUMP", "s"],
    ...fill("s", 250, 4, ["a", "-70000", "b", "x".repeat(70)]),
    ["XADD", "s", "300-5", "other", "1", "z", "y".repeat(5000)],
    ["XDEL", "s", "2-1", "150-1", "151-1"],
    ["XTRIM", "s", "MAXLEN", "200"],
    ["DUMP", "s"],
    ["XADD", "h", `${U64}-0`, "a", "9223372036854775807"],
    ["XADD", "h", `${U64}-${U64}`, "a", "-9223372036854775808"],
    ["XADD", "h2", "5-100", "a", "1"],
    ["XADD", "h2", "6-1", "a", "1"],
    ["DUMP", "h"],
    ["DUMP", "h2"],
    ["XADD", "e", "1-1", "a", "1"],
    ["XDEL", "e", "1-1"],
    ["DUMP", "e"],
    ["XSETID", "e", "7-7", "ENTRIESADDED", "9", "MAXDELETEDID", "3-3"],
    ["DUMP", "e"],
    ["XGROUP", "CREATE", "e", "g", "$", "ENTRIESREAD", "4"],
    ["XGROUP", "CREATE", "e", "a", "0"],
    ["DUMP", "e"],
    ["RESTORE", "bad", "0", "\x13\x01\x10"],
  ],
};

const KEYS = ["s1", "s2", "str"];
const FIELDS = ["a", "b", "", "123", BIN];

function key(r: Rng): string {
  return r.pick(KEYS);
}

/** IDs from a small space, so explicit adds collide, grow and fail in turn. */
function id(r: Rng): string {
  const ms = r.int(0, 40);
  return r.pick([`${ms}-${r.int(0, 3)}`, `${ms}`, `${ms}-*`, "-", "+", `(${ms}`, "x"]);
}

const TEMPLATES: Template<StepLike>[] = [
  template(8, (r) => {
    const pairs: string[] = [];
    for (let i = r.int(1, 3); i > 0; i--) pairs.push(r.pick(FIELDS), r.pick(FIELDS));
    return ["XADD", key(r), id(r), ...pairs];
  }),
  template(3, (r) => [
    "XADD",
    key(r),
    ...r.pick([[], ["NOMKSTREAM"]]),
    ...r.pick([
      ["MAXLEN", String(r.int(0, 8))],
      ["MAXLEN", "~", String(r.int(0, 8))],
      ["MINID", `${r.int(0, 40)}`],
      ["MINID", "=", `${r.int(0, 40)}-1`],
      ["MAXLEN", "~", "2", "LIMIT", String(r.int(0, 3))],
    ]),
    `${r.int(0, 45)}-${r.int(0, 2)}`,
    "a",
    "1",
  ]),
  template(3, (r) => [
    r.pick(["XRANGE", "XREVRANGE"]),
    key(r),
    id(r),
    id(r),
    ...r.pick([[], ["COUNT", String(r.int(-1, 4))]]),
  ]),
  template(2, (r) => ["XDEL", key(r), id(r), id(r)]),
  template(1, (r) => ["XLEN", key(r)]),
  template(2, (r) => [
    "XTRIM",
    key(r),
    ...r.pick([
      ["MAXLEN", String(r.int(0, 8))],
      ["MAXLEN", "=", String(r.int(0, 8))],
      ["MINID", id(r)],
      ["MAXLEN", "~", String(r.int(0, 3))],
    ]),
  ]),
  template(1, (r) => [
    "XSETID",
    key(r),
    id(r),
    ...r.pick([[], ["ENTRIESADDED", String(r.int(0, 30))], ["MAXDELETEDID", id(r)]]),
  ]),
  template(1, (r) => ["SET", "str", r.pick(FIELDS)]),
  template(1, (r) => [r.pick(["TYPE", "EXISTS"]), key(r)]),
  template(1, (r) => ["DEL", key(r)]),
];

/** Consumer groups over a small stream: reads, acks, claims, deletions, trims. */
const GROUP_TEMPLATES: Template<StepLike>[] = [
  template(4, (r) => ["XADD", "gs", `${r.int(1, 60)}-${r.int(0, 2)}`, r.pick(FIELDS), "v"]),
  template(2, (r) => ["XGROUP", "CREATE", "gs", r.pick(["g1", "g2"]), r.pick(["0", "$", "10"])]),
  template(1, (r) => ["XGROUP", "SETID", "gs", r.pick(["g1", "g2"]), r.pick(["0", "$", "20"])]),
  template(1, (r) => ["XGROUP", "DESTROY", "gs", r.pick(["g1", "g2"])]),
  template(1, (r) => ["XGROUP", "DELCONSUMER", "gs", "g1", r.pick(["c1", "c2"])]),
  template(4, (r) => [
    "XREADGROUP",
    "GROUP",
    r.pick(["g1", "g2"]),
    r.pick(["c1", "c2", "c3"]),
    ...r.pick([[], ["COUNT", String(r.int(1, 3))], ["NOACK"]]),
    "STREAMS",
    "gs",
    r.pick([">", ">", "0", `${r.int(0, 40)}`]),
  ]),
  template(3, (r) => ["XACK", "gs", r.pick(["g1", "g2"]), `${r.int(1, 60)}-${r.int(0, 2)}`]),
  template(2, (r) => ["XPENDING", "gs", r.pick(["g1", "g2"])]),
  template(2, (r) =>
    timed(
      "XPENDING",
      "gs",
      r.pick(["g1", "g2"]),
      "-",
      "+",
      String(r.int(0, 5)),
      ...r.pick([[], ["c1"]]),
    )),
  template(2, (r) => [
    "XCLAIM",
    "gs",
    "g1",
    r.pick(["c1", "c2", "c3"]),
    "0",
    `${r.int(1, 60)}-${r.int(0, 2)}`,
    ...r.pick([[], ["JUSTID"], ["FORCE"], ["RETRYCOUNT", "5"], ["LASTID", "30-0"]]),
  ]),
  template(2, (r) => [
    "XAUTOCLAIM",
    "gs",
    r.pick(["g1", "g2"]),
    r.pick(["c1", "c2"]),
    "0",
    r.pick(["0", "-", `(${r.int(1, 60)}`]),
    "COUNT",
    String(r.int(1, 4)),
    ...r.pick([[], ["JUSTID"]]),
  ]),
  template(2, (r) => ["XDEL", "gs", `${r.int(1, 60)}-${r.int(0, 2)}`]),
  template(1, (r) => ["XTRIM", "gs", "MAXLEN", String(r.int(0, 10))]),
  template(2, () => ["XINFO", "GROUPS", "gs"]),
  template(1, () => timed("XINFO", "CONSUMERS", "gs", "g1")),
  template(1, () => timed("XINFO", "STREAM", "gs", "FULL")),
  template(1, () => ["XINFO", "STREAM", "gs"]),
  template(1, () => ["XREAD", "COUNT", "3", "STREAMS", "gs", "0"]),
];

/** Time for both servers to register a block before the next step. */
const SETTLE_MS = 100;

/** A command on `conn`, its reply read. */
function on(conn: number, ...args: string[]): Step {
  return { conn, args };
}

/** A blocking command on `conn`, its reply not read yet. */
function block(conn: number, ...args: string[]): Step {
  return { conn, args, replies: 0, sleepMs: SETTLE_MS };
}

/** Reads the reply a blocked `conn` was served. */
function served(conn: number): Step {
  return { conn, replies: 1, timeoutMs: 3000 };
}

/** XREAD and XREADGROUP with BLOCK, several clients, served by XADD (explicit IDs throughout). */
const BLOCKING_CASES: Record<string, StepLike[]> = {
  "XREAD BLOCK: first blocked first served, $, several keys, COUNT": [
    on(0, "XADD", "s", "1-1", "a", "1"),
    block(1, "XREAD", "BLOCK", "0", "STREAMS", "s", "$"),
    block(2, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "t", "s", "0", "$"),
    block(3, "XREAD", "BLOCK", "0", "STREAMS", "nokey", "0"),
    { ...on(0, "XADD", "s", "2-1", "b", "2"), sleepMs: SETTLE_MS },
    served(1),
    served(2),
    on(0, "XADD", "nokey", "5-5", "c", "3"),
    served(3),
    block(1, "XREAD", "BLOCK", "0", "STREAMS", "s", "9-0"),
    { ...on(0, "XADD", "s", "3-1", "d", "4"), sleepMs: SETTLE_MS },
    on(0, "XADD", "s", "10-1", "e", "5"),
    served(1),
  ],
  "XREAD BLOCK: timeouts, a deleted key, a transaction's entries": [
    block(1, "XREAD", "BLOCK", "150", "STREAMS", "s", "$"),
    served(1),
    on(0, "XADD", "s", "1-1", "a", "1"),
    block(1, "XREAD", "BLOCK", "300", "STREAMS", "s", "$"),
    { ...on(0, "DEL", "s"), sleepMs: SETTLE_MS },
    served(1),
    block(2, "XREAD", "BLOCK", "0", "STREAMS", "m", "$"),
    on(0, "MULTI"),
    on(0, "XADD", "m", "1-1", "a", "1"),
    on(0, "XADD", "m", "2-1", "b", "2"),
    on(0, "EXEC"),
    served(2),
  ],
  "XREADGROUP BLOCK: consumers share new entries; NOACK; group destroyed; key deleted": [
    on(0, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"),
    block(1, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"),
    block(2, "XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">"),
    { ...on(0, "XADD", "s", "1-1", "a", "1"), sleepMs: SETTLE_MS },
    served(1),
    { ...on(0, "XADD", "s", "2-1", "b", "2"), sleepMs: SETTLE_MS },
    served(2),
    on(0, "XPENDING", "s", "g"),
    block(1, "XREADGROUP", "GROUP", "g", "carol", "NOACK", "BLOCK", "0", "STREAMS", "s", ">"),
    { ...on(0, "XADD", "s", "3-1", "c", "3"), sleepMs: SETTLE_MS },
    served(1),
    on(0, "XPENDING", "s", "g"),
    on(0, "XINFO", "GROUPS", "s"),
    block(1, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"),
    { ...on(0, "XGROUP", "DESTROY", "s", "g"), sleepMs: SETTLE_MS },
    served(1),
    on(0, "XGROUP", "CREATE", "s", "g", "$"),
    block(2, "XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">"),
    { ...on(0, "DEL", "s"), sleepMs: SETTLE_MS },
    served(2),
    on(0, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"),
    block(1, "XREADGROUP", "GROUP", "g", "bob", "BLOCK", "100", "STREAMS", "s", ">"),
    served(1),
    timed("XINFO", "CONSUMERS", "s", "g"),
  ],
};

differentialTest(
  "differential: stream commands, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(
      t,
      { ...CASES, ...GROUP_CASES, ...BLOCKING_CASES, ...DUMP_CASES },
      STANDARD_RULES,
    );
    await pair.diffSeeds(t, [5, 6, 7, 8], {
      templates: GROUP_TEMPLATES,
      length: 1500,
      rules: STANDARD_RULES,
    });
    await pair.diffSeeds(t, [1, 2, 3, 4], {
      templates: TEMPLATES,
      length: 1500,
      rules: STANDARD_RULES,
    });
  },
);

/** XINFO STREAM FULL of `key` on `client`. */
function full(client: RespClient, key: string): Promise<unknown> {
  return client.call("XINFO", "STREAM", key, "FULL", "COUNT", "0");
}

Deno.test("DUMP/RESTORE moves streams with consumer groups both ways between kvdb and redis-server, pending entries and times included", async () => {
  const [kvdb, redis] = await Promise.all([ServerProcess.start(), startRedisServer()]);
  const k = await RespClient.connect(kvdb.port);
  const r = await RespClient.connect(redis.port);
  try {
    for (const c of [k, r]) {
      for (let i = 1; i <= 180; i++) await c.call("XADD", "src", `${i}-${i % 3}`, "f", `v${i}`);
      await c.call("XDEL", "src", "7-1", "120-0");
      await c.call("XGROUP", "CREATE", "src", "g1", "0");
      await c.call("XGROUP", "CREATE", "src", "g2", "100", "ENTRIESREAD", "50");
      await c.call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "src", ">");
      await c.call("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "src", ">");
      await c.call("XGROUP", "CREATECONSUMER", "src", "g2", "carol");
      await c.call("XCLAIM", "src", "g1", "carol", "0", "2-2", "RETRYCOUNT", "4", "TIME", "1000");
    }
    // Redis's payload, restored in kvdb: the same stream, times and all.
    const fromRedis = await r.call("DUMP", "src") as string;
    assert.ok(await k.call("RESTORE", "copy", "0", fromRedis) instanceof RespStatus);
    assert.deepEqual(await full(k, "copy"), await full(r, "src"));
    // kvdb's payload, restored in redis-server.
    const fromKvdb = await k.call("DUMP", "src") as string;
    assert.ok(await r.call("RESTORE", "copy", "0", fromKvdb) instanceof RespStatus);
    assert.deepEqual(await full(r, "copy"), await full(k, "src"));
    // The restored copy is a stream like any other: logged, and it grows where Redis's does.
    assert.equal(await k.call("XADD", "copy", "500-0", "f", "x"), "500-0");
    assert.equal(await r.call("XADD", "copy", "500-0", "f", "x"), "500-0");
    assert.deepEqual(
      await k.call("XINFO", "STREAM", "copy"),
      await r.call("XINFO", "STREAM", "copy"),
    );
    // A damaged payload: Redis's error, nothing written.
    const damaged = fromKvdb.slice(0, 40) + "\x00" + fromKvdb.slice(41);
    assert.ok(await k.call("RESTORE", "bad", "0", damaged) instanceof RespError);
    assert.equal(await k.call("EXISTS", "bad"), 0);
  } finally {
    k.close();
    r.close();
    await Promise.all([kvdb.stop(), redis.stop()]);
  }
});

/** A DUMP payload of a raw body (type byte and all), with a valid trailer. */
function payload(body: Uint8Array): string {
  const out = new Uint8Array(body.length + 10);
  out.set(body);
  out[body.length] = 10;
  const crc = crc64(out, 0n, 0, body.length + 2);
  for (let i = 0; i < 8; i++) out[body.length + 2 + i] = Number((crc >> BigInt(8 * i)) & 0xffn);
  return bytesToBinary(out);
}

/** A stream body of one node whose listpack holds `elements`, then `tail` (counters, groups). */
function streamBody(elements: string[], tail: (out: ByteWriter) => void): Uint8Array {
  const out = new ByteWriter();
  out.u8(19);
  writeRdbLength(out, 1);
  writeRdbString(out, "\0".repeat(7) + "\x01" + "\0".repeat(7) + "\x01"); // 1-1
  writeRdbString(out, encodeListpack(elements));
  tail(out);
  return out.finish();
}

function counters(out: ByteWriter, length: number, groups = 0): void {
  for (const n of [length, 1, 1, 1, 1, 0, 0, length]) writeRdbLength(out, n);
  writeRdbLength(out, groups);
}

Deno.test("RESTORE refuses stream payloads whose parts disagree (checks Redis makes only with sanitize-dump-payload, and its consumer-PEL check)", async () => {
  const server = await ServerProcess.start();
  const client = await RespClient.connect(server.port);
  try {
    // One entry 1-1 {f: v}: the master entry, then flags SAMEFIELDS, deltas 0 0, value, lp-count.
    const good = ["1", "0", "1", "f", "0", "2", "0", "0", "v", "4"];
    assert.ok(
      await client.call(
        "RESTORE",
        "ok",
        "0",
        payload(streamBody(good, (o) => counters(o, 1))),
      ) instanceof
        RespStatus,
    );
    assert.deepEqual(await client.call("XRANGE", "ok", "-", "+"), [["1-1", ["f", "v"]]]);
    const bad: [string, Uint8Array][] = [
      ["a length that is not the entries'", streamBody(good, (o) => counters(o, 2))],
      [
        "a master count that is not the entries'",
        streamBody(["2", ...good.slice(1)], (o) => counters(o, 1)),
      ],
      [
        "a node key that is not its first ID",
        streamBody(["1", "0", "1", "f", "0", "2", "1", "0", "v", "4"], (o) => counters(o, 1)),
      ],
      ["an entry cut short", streamBody(good.slice(0, 8), (o) => counters(o, 1))],
      [
        "a consumer's pending ID missing from its group's",
        streamBody(good, (o) => {
          counters(o, 1, 1);
          writeRdbString(o, "g");
          writeRdbLength(o, 1);
          writeRdbLength(o, 1);
          writeRdbLength(o, 1); // entries read
          writeRdbLength(o, 0); // group PEL: none
          writeRdbLength(o, 1); // one consumer
          writeRdbString(o, "c");
          o.intLE(0n, 8);
          writeRdbLength(o, 1);
          o.binary("\0".repeat(7) + "\x01" + "\0".repeat(7) + "\x01");
        }),
      ],
    ];
    for (const [what, body] of bad) {
      const reply = await client.call("RESTORE", "bad", "0", payload(body));
      assert.ok(reply instanceof RespError, what);
      assert.match(reply.text, /Bad data format/, what);
      assert.equal(await client.call("EXISTS", "bad"), 0, what);
    }
  } finally {
    client.close();
    await server.stop();
  }
});

/** Keyspace notifications of the stream commands (`KEA` on both servers). */
function streamEvents(e: EventSteps): StepLike[] {
  return [
    ...e.listeners(),
    ...e.ev(2, "XADD", "s", "1-1", "f", "v"),
    ...e.ev(1, "XADD", "s", "2-1", "f", "v"),
    ...e.ev(2, "XADD", "s", "MAXLEN", "1", "3-1", "f", "v"),
    ...e.ev(1, "XADD", "s", "MAXLEN", "5", "4-1", "f", "v"),
    ...e.ev(0, "XADD", "none", "NOMKSTREAM", "1-1", "f", "v"),
    ...e.ev(1, "XDEL", "s", "3-1"),
    ...e.ev(0, "XDEL", "s", "3-1"),
    ...e.ev(1, "XTRIM", "s", "MAXLEN", "0"),
    ...e.ev(0, "XTRIM", "s", "MAXLEN", "0"),
    ...e.ev(1, "XSETID", "s", "9-0"),
    ...e.ev(1, "XGROUP", "CREATE", "s", "g", "0"),
    ...e.ev(2, "XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"),
    ...e.ev(1, "XGROUP", "SETID", "s", "g", "0"),
    ...e.ev(1, "XGROUP", "CREATECONSUMER", "s", "g", "c"),
    ...e.ev(0, "XGROUP", "CREATECONSUMER", "s", "g", "c"),
    ...e.ev(1, "XADD", "s", "10-1", "f", "v"),
    ...e.ev(1, "XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", ">"),
    ...e.ev(0, "XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", "0"),
    ...e.ev(1, "XCLAIM", "s", "g", "e", "0", "10-1"),
    ...e.ev(1, "XAUTOCLAIM", "s", "g", "f", "0", "0"),
    ...e.ev(0, "XACK", "s", "g", "10-1"),
    ...e.ev(1, "XGROUP", "DELCONSUMER", "s", "g", "c"),
    ...e.ev(1, "XGROUP", "DESTROY", "s", "g"),
    ...e.ev(0, "XGROUP", "DESTROY", "s", "g"),
    ...e.ev(1, "DEL", "s"),
  ];
}

keyspaceEventsTest(
  "differential: stream keyspace notifications, kvdb vs redis-server 7.0, RESP2 and RESP3",
  "stream events",
  streamEvents,
);
