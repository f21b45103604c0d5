/**
 * Keyspace notifications (issue 14 point 6) against redis-server 7.0.15:
 * both servers run with `notify-keyspace-events KEAnm` (kvdb's
 * `pubsub.notify_keyspace_events`), one connection runs commands, two others
 * listen on `__keyevent@*__:*` and `__keyspace@*__:*`; every event, its
 * order, channel and message must be Redis's, byte for byte, in RESP2 and
 * RESP3 — for the string and bitmap commands, MOVE, DUMP/RESTORE, GETEX,
 * transactions, background expiry, and the generic key commands (DEL,
 * UNLINK, the expiry family, PERSIST, RENAME, COPY, SORT ... STORE, and
 * the reads that announce a miss).
 */

import { differentialTest, DiffPair, type Step, type StepLike } from "./_differential.ts";

/** A DUMP payload of the string "v" from redis-server 7.0.15 (RDB 10, CRC-64). */
const PAYLOAD = new Uint8Array([
  0x00,
  0x01,
  0x76,
  0x0a,
  0x00,
  0x91,
  0x08,
  0xce,
  0xb2,
  0x19,
  0x38,
  0x8a,
  0xce,
]);

type Arg = string | Uint8Array;

/** Builds a sequence for RESP2 or RESP3 (messages are replies or pushes). */
function events(resp3: boolean) {
  const read = (conn: number, n: number): Step =>
    resp3 ? { conn, replies: 0, pushes: n } : { conn, replies: n };
  const listen = (conn: number, pattern: string): Step =>
    resp3
      ? { conn, args: ["PSUBSCRIBE", pattern], replies: 0, pushes: 1 }
      : { conn, args: ["PSUBSCRIBE", pattern] };
  /** A command on connection 0 and the `n` events it must cause (on each channel kind). */
  const ev = (n: number, ...args: Arg[]): StepLike[] =>
    n === 0 ? [{ args }] : [{ args }, read(1, n), read(2, n)];
  return { read, listen, ev };
}

const CASES: Record<string, (resp3: boolean) => StepLike[]> = {
  "SET and its options; SETNX, SETEX, PSETEX, GETSET, MSET, MSETNX": (resp3) => {
    const { ev } = events(resp3);
    return [
      ...ev(2, "SET", "k", "v"),
      ...ev(1, "SET", "k", "v2"),
      ...ev(0, "SET", "k", "v", "NX"),
      ...ev(1, "SET", "k", "v3", "XX", "GET"),
      ...ev(2, "SET", "k", "v", "EX", "100"),
      ...ev(1, "SET", "k", "v", "KEEPTTL"),
      ...ev(0, "SET", "k", "v", "PX", "0"),
      ...ev(3, "SET", "nokey", "v", "GET"),
      ...ev(0, "SET", "nokey", "v2", "NX", "GET"),
      ...ev(2, "SETNX", "n1", "v"),
      ...ev(0, "SETNX", "n1", "v"),
      ...ev(3, "SETEX", "se", "100", "v"),
      ...ev(2, "SETEX", "se", "100", "v"),
      ...ev(3, "PSETEX", "pse", "100000", "v"),
      ...ev(3, "GETSET", "gs", "1"),
      ...ev(1, "GETSET", "gs", "2"),
      ...ev(4, "MSET", "m1", "1", "m2", "2"),
      ...ev(3, "MSET", "m1", "1", "m9", "2"),
      ...ev(4, "MSETNX", "m3", "1", "m4", "1"),
      ...ev(0, "MSETNX", "m3", "1", "m5", "1"),
    ];
  },
  "APPEND, SETRANGE, the counters, GETDEL, GETEX": (resp3) => {
    const { ev } = events(resp3);
    return [
      ...ev(2, "APPEND", "ap", "x"),
      ...ev(1, "APPEND", "ap", "y"),
      ...ev(2, "SETRANGE", "sr", "3", "abc"),
      ...ev(0, "SETRANGE", "sr", "0", ""),
      ...ev(0, "SETRANGE", "nosr", "0", ""),
      ...ev(1, "SETRANGE", "sr", "1", "z"),
      ...ev(2, "INCR", "i"),
      ...ev(1, "INCRBY", "i", "5"),
      ...ev(1, "DECR", "i"),
      ...ev(1, "DECRBY", "i", "2"),
      ...ev(0, "INCR", "ap"),
      ...ev(2, "INCRBYFLOAT", "f", "1.5"),
      ...ev(1, "INCRBYFLOAT", "f", "1"),
      ...ev(1, "GETDEL", "i"),
      ...ev(1, "GETDEL", "i"),
      ...ev(1, "GETEX", "f", "EX", "100"),
      ...ev(1, "GETEX", "f", "PERSIST"),
      ...ev(0, "GETEX", "f"),
      ...ev(0, "GETEX", "f", "PERSIST"),
      ...ev(1, "GETEX", "nokey", "EX", "10"),
      ...ev(1, "GETEX", "f", "PXAT", "1"),
      ...ev(1, "GET", "f"),
    ];
  },
  "reads of missing keys: keymiss": (resp3) => {
    const { ev } = events(resp3);
    return [
      ...ev(2, "SET", "here", "text"),
      ...ev(1, "GET", "missing"),
      ...ev(0, "GET", "here"),
      ...ev(2, "MGET", "here", "nope", "nope2"),
      ...ev(1, "STRLEN", "nope"),
      ...ev(1, "GETRANGE", "nope", "0", "1"),
      ...ev(1, "SUBSTR", "nope", "0", "1"),
      ...ev(1, "LCS", "here", "nope"),
      ...ev(1, "GETBIT", "nope", "1"),
      ...ev(1, "BITCOUNT", "nope"),
      ...ev(1, "BITPOS", "nope", "1"),
      ...ev(1, "DUMP", "nope"),
      ...ev(0, "DUMP", "here"),
    ];
  },
  "bitmaps: SETBIT only when something changes, BITOP, BITFIELD": (resp3) => {
    const { ev } = events(resp3);
    return [
      ...ev(2, "SETBIT", "b", "7", "1"),
      ...ev(0, "SETBIT", "b", "7", "1"),
      ...ev(1, "SETBIT", "b", "7", "0"),
      ...ev(1, "SETBIT", "b", "100", "0"),
      ...ev(2, "SET", "m1", "abc"),
      ...ev(2, "BITOP", "AND", "dest", "b", "m1"),
      ...ev(1, "BITOP", "OR", "dest", "b"),
      ...ev(1, "BITOP", "OR", "dest2", "nob"),
      ...ev(2, "BITOP", "OR", "dest", "nob"),
      ...ev(2, "BITFIELD", "bf", "SET", "u8", "0", "255"),
      ...ev(0, "BITFIELD", "bf", "GET", "u8", "0"),
      ...ev(1, "BITFIELD", "bf2", "GET", "u8", "0"),
      ...ev(
        1,
        "BITFIELD",
        "bf",
        "INCRBY",
        "u8",
        "0",
        "1",
        "OVERFLOW",
        "FAIL",
        "INCRBY",
        "u8",
        "0",
        "1",
      ),
      ...ev(1, "BITFIELD", "bf3", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"),
      ...ev(1, "BITFIELD_RO", "nob", "GET", "u8", "0"),
    ];
  },
  "MOVE, RESTORE, SELECT; FLUSHDB, SWAPDB, FLUSHALL send none": (resp3) => {
    const { ev } = events(resp3);
    return [
      ...ev(2, "SET", "mv", "1"),
      ...ev(3, "MOVE", "mv", "1"),
      ...ev(0, "MOVE", "nomv", "1"),
      ...ev(2, "RESTORE", "r", "0", PAYLOAD),
      ...ev(0, "RESTORE", "r", "0", PAYLOAD),
      ...ev(2, "RESTORE", "r", "0", PAYLOAD, "REPLACE"),
      ...ev(2, "RESTORE", "r2", "100000", PAYLOAD),
      ...ev(1, "RESTORE", "r", "1", PAYLOAD, "ABSTTL", "REPLACE"),
      ...ev(0, "SELECT", "3"),
      ...ev(2, "SET", "x", "1"),
      ...ev(3, "MOVE", "x", "0"),
      ...ev(0, "SELECT", "0"),
      ...ev(0, "FLUSHDB"),
      ...ev(0, "SWAPDB", "0", "1"),
      ...ev(0, "FLUSHALL"),
    ];
  },
  "generic key commands: DEL, UNLINK, EXPIRE family, PERSIST, RENAME, COPY, SORT STORE": (
    resp3,
  ) => {
    const { ev } = events(resp3);
    return [
      ...ev(2, "SET", "a", "1"),
      ...ev(2, "SET", "b", "2"),
      ...ev(2, "DEL", "a", "nope", "b"),
      ...ev(0, "DEL", "nope"),
      ...ev(2, "SET", "u", "1"),
      ...ev(1, "UNLINK", "u", "nope"),
      ...ev(2, "SET", "e", "1"),
      ...ev(1, "EXPIRE", "e", "100"),
      ...ev(0, "EXPIRE", "e", "200", "NX"),
      ...ev(1, "PEXPIRE", "e", "200000", "GT"),
      ...ev(0, "EXPIRE", "e", "10", "GT"),
      ...ev(1, "EXPIREAT", "e", "4000000000"),
      ...ev(1, "PERSIST", "e"),
      ...ev(0, "PERSIST", "e"),
      ...ev(0, "EXPIRE", "nope", "10"),
      ...ev(1, "PEXPIREAT", "e", "1"),
      ...ev(2, "SET", "e", "1"),
      ...ev(1, "EXPIRE", "e", "-5"),
      ...ev(2, "SET", "r", "1"),
      ...ev(3, "RENAME", "r", "r2"),
      ...ev(2, "SET", "r3", "x"),
      ...ev(3, "RENAME", "r2", "r3"),
      ...ev(0, "RENAME", "r3", "r3"),
      ...ev(0, "RENAME", "nope", "r9"),
      ...ev(2, "SET", "r4", "x"),
      ...ev(0, "RENAMENX", "r3", "r4"),
      ...ev(3, "RENAMENX", "r3", "r5"),
      ...ev(2, "COPY", "r5", "c1"),
      ...ev(0, "COPY", "r5", "c1"),
      ...ev(2, "COPY", "r5", "c1", "REPLACE"),
      ...ev(2, "COPY", "r5", "c1", "DB", "2"),
      ...ev(1, "COPY", "nope", "c2"),
      ...ev(1, "SORT", "nope", "STORE", "r4"),
      ...ev(1, "SORT", "nope", "STORE", "r4"),
      ...ev(1, "SORT_RO", "nope"),
    ];
  },
  "reads of missing keys in the generic commands: keymiss": (resp3) => {
    const { ev } = events(resp3);
    return [
      ...ev(2, "SET", "here", "text"),
      ...ev(2, "EXISTS", "here", "nope", "nope2"),
      ...ev(1, "TOUCH", "here", "nope"),
      ...ev(1, "TYPE", "nope"),
      ...ev(1, "TTL", "nope"),
      ...ev(1, "PTTL", "nope"),
      ...ev(1, "EXPIRETIME", "nope"),
      ...ev(1, "PEXPIRETIME", "nope"),
      ...ev(0, "TYPE", "here"),
      ...ev(0, "OBJECT", "ENCODING", "nope"),
      ...ev(0, "RANDOMKEY"),
    ];
  },
  "a transaction's events, after EXEC": (resp3) => {
    const { ev } = events(resp3);
    return [
      ...ev(0, "MULTI"),
      ...ev(0, "SET", "t", "1"),
      ...ev(0, "INCR", "t"),
      ...ev(0, "GET", "nope"),
      ...ev(4, "EXEC"),
    ];
  },
  "a key whose time passes: expired": (resp3) => {
    const { ev, read } = events(resp3);
    return [
      ...ev(3, "SET", "e", "v", "PX", "50"),
      // Background expiry (Redis: 10 times a second) deletes it.
      { ...read(1, 1), sleepMs: 300, timeoutMs: 3000 },
      read(2, 1),
    ];
  },
};

differentialTest(
  "differential: keyspace notifications, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () =>
    DiffPair.kvdbVsRedis({
      kvdb: { pubsub: { notify_keyspace_events: "KEAnm" } },
      redis: ["--notify-keyspace-events", "KEAnm"],
    }),
  async (t, pair) => {
    for (const resp3 of [false, true]) {
      const { listen } = events(resp3);
      for (const [name, steps] of Object.entries(CASES)) {
        const label = `${name} (RESP${resp3 ? 3 : 2})`;
        await t.step(label, async () => {
          await pair.diff(
            [listen(1, "__keyevent@*__:*"), listen(2, "__keyspace@*__:*"), ...steps(resp3)],
            { label, resp3 },
          );
        });
      }
    }
  },
);
