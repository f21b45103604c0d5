/**
 * The command fuzz of tests/fuzz_test.ts (issue 14): well-framed requests
 * whose arguments are random — plausible (valid-looking options, edge-case
 * numbers, crafted DUMP payloads with a correct checksum) or garbage — for
 * the string, bitmap and hash commands, MULTI/EXEC/WATCH, SELECT/MOVE/SWAPDB/
 * FLUSHDB and DUMP/RESTORE, over RESP2 and RESP3 connections, and the
 * checks every connection's replies must pass.
 *
 * Independent of src/ except for the CRC-64 that gives crafted RESTORE
 * payloads a valid trailer (so that the body decoder, not the checksum, is
 * what they reach).
 *
 * ```ts
 * import { commandCase, checkCommandReplies, Rng } from "./_fuzz_commands.ts";
 * const c = commandCase(new Rng(1));
 * // send c.requests on a fresh connection, read c.requests.length replies,
 * // then: checkCommandReplies(c, replies) -> undefined or the problem.
 * ```
 *
 * @module
 */

import { crc64 } from "../src/bytes/crc64.ts";

// ---------------------------------------------------------------------------
// Seeded randomness and bytes

/** mulberry32: small, fast, good enough for test inputs. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

/** The RNG of case `index` under `seed`: cases are independent of each other. */
export function caseRng(seed: number, index: number): Rng {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return new Rng(h ^ (h >>> 16));
}

/** Concatenates byte arrays and binary strings (one byte per char). */
export function concat(parts: (Uint8Array | string)[]): Uint8Array<ArrayBuffer> {
  const bufs = parts.map((p) => typeof p === "string" ? latin1(p) : p);
  const out = new Uint8Array(bufs.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bufs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** One byte per char (char codes < 256). */
export function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Bytes as a binary string (one char per byte). */
export function fromLatin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, i + 8192));
  }
  return s;
}

/** A short printable rendering of bytes, for failure messages. */
export function preview(b: Uint8Array, max = 300): string {
  const shown = JSON.stringify(fromLatin1(b.subarray(0, max)));
  return b.length > max ? `${shown}... (${b.length} bytes)` : shown;
}

/** One request in the Redis protocol. */
export function respRequest(args: readonly (string | Uint8Array)[]): Uint8Array<ArrayBuffer> {
  const parts: (string | Uint8Array)[] = [`*${args.length}\r\n`];
  for (const a of args) {
    const b = typeof a === "string" ? latin1(a) : a;
    parts.push(`$${b.length}\r\n`, b, "\r\n");
  }
  return concat(parts);
}

// ---------------------------------------------------------------------------
// Replies: RESP2 and RESP3

/** A reply as the fuzz checks see it. `wire` is its type byte; `resp2Null` marks `$-1`/`*-1`. */
export type Reply =
  | { type: "simple"; wire: string; text: string }
  | { type: "error"; wire: string; text: string }
  | { type: "integer"; wire: string; value: bigint }
  | { type: "bulk"; wire: string; value: Uint8Array | null; resp2Null?: boolean }
  | { type: "array"; wire: string; items: Reply[] | null; resp2Null?: boolean };

/** Bytes a RESP client could not read. */
export class MalformedReply extends Error {}

/** Types only RESP3 has. */
const RESP3_ONLY = new Set(["_", ",", "(", "#", "%", "~", ">", "=", "!", "|"]);

/**
 * Parses one reply at `pos`: the reply and the offset after it, or
 * undefined when the bytes end first. Throws MalformedReply on anything a
 * RESP3 client could not read (RESP2 is a subset).
 */
export function parseReply(b: Uint8Array, pos: number): [Reply, number] | undefined {
  if (pos >= b.length) return undefined;
  const type = b[pos];
  const wire = String.fromCharCode(type);
  const lineEnd = b.indexOf(0x0d, pos);
  if (lineEnd < 0) {
    if (b.subarray(pos).includes(0x0a)) throw new MalformedReply("LF without CR in a line");
    return undefined;
  }
  if (lineEnd + 1 >= b.length) return undefined;
  if (b[lineEnd + 1] !== 0x0a) throw new MalformedReply("CR without LF in a line");
  const line = fromLatin1(b.subarray(pos + 1, lineEnd));
  if (line.includes("\n")) throw new MalformedReply("LF inside a line");
  const next = lineEnd + 2;
  const length = (): number => {
    if (!/^(-1|0|[1-9][0-9]*)$/.test(line)) throw new MalformedReply(`bad length ${line}`);
    return Number(line);
  };
  const blob = (n: number): [Uint8Array, number] | undefined => {
    if (next + n + 2 > b.length) return undefined;
    if (b[next + n] !== 0x0d || b[next + n + 1] !== 0x0a) {
      throw new MalformedReply("no CRLF after bulk data");
    }
    return [b.slice(next, next + n), next + n + 2];
  };
  switch (wire) {
    case "+":
      return [{ type: "simple", wire, text: line }, next];
    case "-":
      return [{ type: "error", wire, text: line }, next];
    case ":":
      if (!/^-?[0-9]+$/.test(line)) throw new MalformedReply(`bad integer ${line}`);
      return [{ type: "integer", wire, value: BigInt(line) }, next];
    case "$": {
      const n = length();
      if (n < 0) return [{ type: "bulk", wire, value: null, resp2Null: true }, next];
      const r = blob(n);
      return r && [{ type: "bulk", wire, value: r[0] }, r[1]];
    }
    case "=": { // verbatim string: 3-byte format, ':', data
      const n = length();
      if (n < 4) throw new MalformedReply(`verbatim string of ${n} bytes`);
      const r = blob(n);
      if (r && r[0][3] !== 0x3a) throw new MalformedReply("verbatim string without its format");
      return r && [{ type: "bulk", wire, value: r[0].subarray(4) }, r[1]];
    }
    case "!": { // blob error
      const r = blob(length());
      return r && [{ type: "error", wire, text: fromLatin1(r[0]) }, r[1]];
    }
    case "_":
      if (line !== "") throw new MalformedReply(`bad null ${line}`);
      return [{ type: "bulk", wire, value: null }, next];
    case ",":
      if (!/^(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|-?inf|nan)$/.test(line)) {
        throw new MalformedReply(`bad double ${line}`);
      }
      return [{ type: "simple", wire, text: line }, next];
    case "(":
      if (!/^-?[0-9]+$/.test(line)) throw new MalformedReply(`bad big number ${line}`);
      return [{ type: "simple", wire, text: line }, next];
    case "#":
      if (line !== "t" && line !== "f") throw new MalformedReply(`bad boolean ${line}`);
      return [{ type: "integer", wire, value: line === "t" ? 1n : 0n }, next];
    case "%":
    case "|":
    case "~":
    case ">":
    case "*": {
      const count = length();
      if (count < 0) {
        if (wire !== "*") throw new MalformedReply(`${wire}-1`);
        return [{ type: "array", wire, items: null, resp2Null: true }, next];
      }
      const n = count * (wire === "%" || wire === "|" ? 2 : 1);
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(b, at);
        if (r === undefined) return undefined;
        items.push(r[0]);
        at = r[1];
      }
      // An attribute precedes the reply it describes.
      if (wire === "|") return parseReply(b, at);
      return [{ type: "array", wire, items }, at];
    }
    default:
      throw new MalformedReply(`unknown reply type byte ${type}`);
  }
}

/** Every complete reply in `b`, and how many bytes of an incomplete one follow. */
export function parseReplies(b: Uint8Array): { replies: Reply[]; rest: number } {
  const replies: Reply[] = [];
  let at = 0;
  while (true) {
    const r = parseReply(b, at);
    if (r === undefined) return { replies, rest: b.length - at };
    replies.push(r[0]);
    at = r[1];
  }
}

/** A reply as one short line, for failure messages. */
export function showReply(r: Reply | undefined): string {
  if (r === undefined) return "nothing";
  switch (r.type) {
    case "bulk":
      return r.value === null ? `nil(${r.wire})` : `bulk ${preview(r.value, 80)}`;
    case "array":
      return r.items === null
        ? `nil array(${r.wire})`
        : `${r.wire}[${r.items.slice(0, 8).map(showReply).join(", ")}${
          r.items.length > 8 ? ", ..." : ""
        }]`;
    case "integer":
      return `${r.wire}${r.value}`;
    default:
      return `${r.wire}${JSON.stringify(r.text)}`;
  }
}

// ---------------------------------------------------------------------------
// Arguments

type Arg = string | Uint8Array;

/** Fuzz keys: never those of the well-behaved clients, which live in database 0. */
export const FUZZ_KEY_COUNT = 12;
const key = (r: Rng): string => `cf:${r.int(0, FUZZ_KEY_COUNT - 1)}`;
const keys = (r: Rng, lo: number, hi: number): string[] =>
  Array.from({ length: r.int(lo, hi) }, () => key(r));

/**
 * Database arguments: never one that means database 0 (which holds the
 * well-behaved clients' keys), so that SWAPDB, MOVE and FLUSHDB stay out
 * of it; the invalid ones are Redis's edge cases.
 */
const DB_ARGS = [
  ..."123456789".split(""),
  "10",
  "15",
  "16",
  "17",
  "-1",
  "1024",
  "x",
  "",
  "1.0",
  " 1",
  "99999999999999999999",
  "-9223372036854775808",
];
const db = (r: Rng): string => r.pick(DB_ARGS);

/** Numbers where parsers and range checks break. */
const EDGE_NUMBERS = [
  "0",
  "1",
  "-1",
  "7",
  "8",
  "63",
  "64",
  "-64",
  "255",
  "256",
  "4095",
  "65535",
  "2147483647",
  "2147483648",
  "-2147483649",
  "4294967295",
  "4294967296",
  "536870911",
  "536870912",
  "9007199254740993",
  "9223372036854775807",
  "-9223372036854775808",
  "9223372036854775808",
  "-9223372036854775809",
  "18446744073709551616",
  "99999999999999999999999",
  "1.5",
  "-0",
  "+1",
  "01",
  "0x10",
  " 1",
  "1 ",
  "",
  "-",
  "1e3",
  "abc",
];

/** Small numbers: offsets and lengths that keep values small. */
const small = (r: Rng, hi = 2000): string => String(r.int(-5, hi));

/**
 * Floats for INCRBYFLOAT: formatting, overflow to infinity, NaN.
 */
const FLOATS = [
  "0",
  "0.1",
  "-0.1",
  "1.5",
  "-0",
  "1e308",
  "-1e308",
  "1.7976931348623157e308",
  "4.9e-324",
  "inf",
  "-inf",
  "+inf",
  "nan",
  "1e",
  ".5",
  "5.",
  "0x1p3",
  "3.0000000000000000000001",
  "1" + "0".repeat(400),
  " 1",
];

const KEYWORDS = [
  "EX",
  "PX",
  "EXAT",
  "PXAT",
  "KEEPTTL",
  "GET",
  "NX",
  "XX",
  "GT",
  "LT",
  "PERSIST",
  "BYTE",
  "BIT",
  "AND",
  "OR",
  "XOR",
  "NOT",
  "SET",
  "INCRBY",
  "OVERFLOW",
  "WRAP",
  "SAT",
  "FAIL",
  "LEN",
  "IDX",
  "MINMATCHLEN",
  "WITHMATCHLEN",
  "REPLACE",
  "ABSTTL",
  "IDLETIME",
  "FREQ",
  "MATCH",
  "COUNT",
  "TYPE",
  "ASYNC",
  "SYNC",
];

const BITFIELD_TYPES = ["u1", "u8", "i8", "u16", "i32", "u63", "i64", "u64", "i65", "u0", "x8"];

/** A value: short text, a number, or random bytes (bounded: the fuzz keys stay small). */
function value(r: Rng): Arg {
  const p = r.next();
  if (p < 0.3) return String(r.int(-100, 100000));
  if (p < 0.5) return r.pick(EDGE_NUMBERS);
  if (p < 0.6) return r.pick(FLOATS);
  return r.bytes(r.int(0, r.chance(0.9) ? 40 : 3000));
}

/** Any argument at all. */
function token(r: Rng): Arg {
  const p = r.next();
  if (p < 0.25) return key(r);
  if (p < 0.45) return r.pick(EDGE_NUMBERS);
  if (p < 0.65) return r.pick(KEYWORDS);
  if (p < 0.75) return small(r);
  if (p < 0.8) return r.pick(FLOATS);
  return r.bytes(r.int(0, 24));
}

/**
 * Offsets that allocate: SETRANGE/SETBIT/BITFIELD may legitimately grow a
 * value to kvdb's 64 MiB limit; the fuzz keeps to a few KB (storage is not
 * what it tests) or asks past every limit (which must be refused).
 */
const byteOffset = (r: Rng): string =>
  r.chance(0.9) ? small(r, 5000) : r.pick(["536870912", "4294967296", "-1", "x", "1.5"]);
const bitOffset = (r: Rng): string =>
  r.chance(0.9) ? small(r, 40000) : r.pick(["4294967296", "-1", "x", "18446744073709551616"]);

function bitfieldOps(r: Rng): Arg[] {
  const out: Arg[] = [];
  for (let i = r.int(0, 4); i > 0; i--) {
    const offset = r.chance(0.3) ? `#${r.int(0, 500)}` : small(r, 4000);
    switch (r.int(0, 4)) {
      case 0:
        out.push("GET", r.pick(BITFIELD_TYPES), offset);
        break;
      case 1:
        out.push("SET", r.pick(BITFIELD_TYPES), offset, r.pick(EDGE_NUMBERS));
        break;
      case 2:
        out.push("INCRBY", r.pick(BITFIELD_TYPES), offset, r.pick(EDGE_NUMBERS));
        break;
      case 3:
        out.push("OVERFLOW", r.pick(["WRAP", "SAT", "FAIL", "BOGUS"]));
        break;
      default:
        out.push(token(r));
    }
  }
  return out;
}

/**
 * A DUMP payload: Redis's string encodings (plain, integer, LZF; lengths
 * that claim more than follows; other RDB types) with a valid trailer, or
 * broken on purpose (another version, a flipped checksum bit, truncated).
 */
export function dumpPayload(r: Rng): Uint8Array {
  const body = (): Uint8Array => {
    switch (r.int(0, 6)) {
      case 0: { // a plain string, 6-bit length
        const data = r.bytes(r.int(0, 63));
        return concat([new Uint8Array([0, data.length]), data]);
      }
      case 1: { // a plain string, 14-bit length
        const data = r.bytes(r.int(64, 2000));
        return concat([new Uint8Array([0, 0x40 | (data.length >> 8), data.length & 0xff]), data]);
      }
      case 2: // integer encodings: int8, int16, int32
        return concat([new Uint8Array([0, 0xc0 | r.int(0, 2)]), r.bytes(r.int(0, 5))]);
      case 3: { // LZF: compressed and uncompressed lengths, then (mostly) that much data
        const lengths = [r.int(0, 24), r.int(0, 300)];
        return concat([
          new Uint8Array([0, 0xc3, lengths[0], 0x40 | (lengths[1] >> 8), lengths[1] & 0xff]),
          r.bytes(r.chance(0.8) ? lengths[0] : r.int(0, 64)),
        ]);
      }
      case 4: // a 32- or 64-bit length claiming far more than follows
        return concat([
          new Uint8Array([0, r.pick([0x80, 0x81])]),
          r.pick([latin1("\xff\xff\xff\xff"), latin1("\x00\x00\x00\x10\x00\x00\x00\x00")]),
          r.bytes(r.int(0, 16)),
        ]);
      case 5: // another RDB type (a list, a hash...) kvdb does not have
        return concat([new Uint8Array([r.int(1, 21)]), r.bytes(r.int(0, 30))]);
      default:
        return r.bytes(r.int(0, 40));
    }
  };
  const b = body();
  const version = r.chance(0.9) ? [10, 0] : [r.int(0, 255), r.int(0, 255)];
  const head = concat([b, new Uint8Array(version)]);
  const crc = crc64(head);
  const trailer = new Uint8Array(8);
  for (let i = 0; i < 8; i++) trailer[i] = Number((crc >> BigInt(8 * i)) & 0xffn);
  if (r.chance(0.1)) trailer[r.int(0, 7)] ^= 1 << r.int(0, 7);
  const whole = concat([head, trailer]);
  return r.chance(0.05) ? whole.subarray(0, r.int(0, whole.length)) : whole;
}

/** The SET family's options, in any order and combination (valid or not). */
function setOptions(r: Rng): Arg[] {
  const out: Arg[] = [];
  for (let i = r.int(0, 3); i > 0; i--) {
    const o = r.pick(["EX", "PX", "EXAT", "PXAT", "KEEPTTL", "GET", "NX", "XX"]);
    out.push(o);
    if (/^(EX|PX|EXAT|PXAT)$/.test(o)) {
      out.push(r.chance(0.8) ? String(r.int(1, 100000)) : r.pick(EDGE_NUMBERS));
    }
  }
  return out;
}

/**
 * The commands the fuzz sends, each with a generator of plausible
 * arguments. An explicit list: a new command joins it when its arguments
 * are known to keep to the fuzz keys and databases (FLUSHALL, SHUTDOWN,
 * CONFIG SET, CLIENT KILL, REPLICAOF and the like must never).
 */
export const FUZZ_COMMANDS: Readonly<Record<string, (r: Rng) => Arg[]>> = {
  GET: (r) => [key(r)],
  SET: (r) => [key(r), value(r), ...setOptions(r)],
  SETNX: (r) => [key(r), value(r)],
  SETEX: (r) => [key(r), r.chance(0.8) ? small(r, 1000) : r.pick(EDGE_NUMBERS), value(r)],
  PSETEX: (r) => [key(r), r.chance(0.8) ? small(r, 100000) : r.pick(EDGE_NUMBERS), value(r)],
  GETSET: (r) => [key(r), value(r)],
  GETDEL: (r) => [key(r)],
  GETEX: (
    r,
  ) => [key(r), ...setOptions(r).filter((a) => a !== "GET"), ...(r.chance(0.2) ? ["PERSIST"] : [])],
  MGET: (r) => keys(r, 1, 5),
  MSET: (r) => keys(r, 1, 3).flatMap((k) => [k, value(r)]),
  MSETNX: (r) => keys(r, 1, 3).flatMap((k) => [k, value(r)]),
  APPEND: (r) => [key(r), value(r)],
  STRLEN: (r) => [key(r)],
  INCR: (r) => [key(r)],
  DECR: (r) => [key(r)],
  INCRBY: (r) => [key(r), r.pick(EDGE_NUMBERS)],
  DECRBY: (r) => [key(r), r.pick(EDGE_NUMBERS)],
  INCRBYFLOAT: (r) => [key(r), r.pick(FLOATS)],
  GETRANGE: (
    r,
  ) => [key(r), r.pick([small(r), ...EDGE_NUMBERS]), r.pick([small(r), ...EDGE_NUMBERS])],
  SUBSTR: (r) => [key(r), small(r), r.pick(EDGE_NUMBERS)],
  SETRANGE: (r) => [key(r), byteOffset(r), value(r)],
  LCS: (r) => [
    key(r),
    key(r),
    ...r.pick([
      [],
      ["LEN"],
      ["IDX"],
      ["IDX", "MINMATCHLEN", small(r, 10)],
      [
        "IDX",
        "WITHMATCHLEN",
      ],
      ["LEN", "IDX"],
      ["MINMATCHLEN", r.pick(EDGE_NUMBERS)],
    ]),
  ],
  SETBIT: (r) => [key(r), bitOffset(r), r.pick(["0", "1", "1", "2", "-1", "x"])],
  GETBIT: (r) => [key(r), r.pick([bitOffset(r), ...EDGE_NUMBERS])],
  BITCOUNT: (r) => [
    key(r),
    ...r.pick([[], [small(r), small(r)], [
      r.pick(EDGE_NUMBERS),
      r.pick(EDGE_NUMBERS),
      r.pick(["BYTE", "BIT", "BOGUS"]),
    ]]),
  ],
  BITPOS: (r) => [
    key(r),
    r.pick(["0", "1", "2"]),
    ...r.pick([[], [small(r)], [
      r.pick(EDGE_NUMBERS),
      r.pick(EDGE_NUMBERS),
      r.pick(["BYTE", "BIT"]),
    ]]),
  ],
  BITOP: (r) => [r.pick(["AND", "OR", "XOR", "NOT", "DIFF", "and"]), key(r), ...keys(r, 0, 4)],
  BITFIELD: (r) => [key(r), ...bitfieldOps(r)],
  BITFIELD_RO: (r) => [key(r), ...bitfieldOps(r)],
  DEL: (r) => keys(r, 1, 4),
  EXISTS: (r) => keys(r, 1, 4),
  TYPE: (r) => [key(r)],
  TTL: (r) => [key(r)],
  PTTL: (r) => [key(r)],
  EXPIRE: (r) => [key(r), r.chance(0.7) ? small(r, 100) : r.pick(EDGE_NUMBERS)],
  PEXPIRE: (r) => [key(r), r.chance(0.7) ? small(r, 5000) : r.pick(EDGE_NUMBERS)],
  PERSIST: (r) => [key(r)],
  KEYS: (r) => [r.pick(["cf:*", "*", "cf:[0-3]", "cf:?", "\\", "[", "cf:1*"])],
  SCAN: (r) => [
    "0",
    ...r.pick([[], ["MATCH", "cf:*"], ["COUNT", r.pick(EDGE_NUMBERS)], [
      "TYPE",
      "string",
    ]]),
  ],
  DBSIZE: () => [],
  MULTI: () => [],
  EXEC: () => [],
  DISCARD: () => [],
  WATCH: (r) => keys(r, 1, 3),
  UNWATCH: () => [],
  SELECT: (r) => [db(r)],
  MOVE: (r) => [key(r), db(r)],
  SWAPDB: (r) => [db(r), db(r)],
  FLUSHDB: (r) => r.pick([[], ["ASYNC"], ["SYNC"], ["BOGUS"]]),
  DUMP: (r) => [key(r)],
  RESTORE: (r) => [
    key(r),
    r.chance(0.8) ? r.pick(["0", "0", small(r, 100000)]) : r.pick(EDGE_NUMBERS),
    dumpPayload(r),
    ...r.pick([[], ["REPLACE"], ["REPLACE", "ABSTTL"], ["IDLETIME", r.pick(EDGE_NUMBERS)], [
      "FREQ",
      r.pick(EDGE_NUMBERS),
    ], [r.pick(KEYWORDS)]]),
  ],
  PING: (r) => r.chance(0.5) ? [] : [value(r)],
  ECHO: (r) => [value(r)],
  RENAME: (r) => [key(r), key(r)],
  RENAMENX: (r) => [key(r), key(r)],
  COPY: (r) => [
    key(r),
    key(r),
    ...r.pick([[], ["REPLACE"], ["DB", db(r)], ["DB", db(r), "REPLACE"], ["DB"]]),
  ],
  RANDOMKEY: () => [],
  UNLINK: (r) => keys(r, 1, 4),
  TOUCH: (r) => keys(r, 1, 4),
  EXPIRETIME: (r) => [key(r)],
  PEXPIRETIME: (r) => [key(r)],
  EXPIREAT: (r) => [key(r), r.pick(["0", "1", "4000000000", ...EDGE_NUMBERS]), ...expireOption(r)],
  PEXPIREAT: (r) => [key(r), r.pick(["0", "4000000000000", ...EDGE_NUMBERS]), ...expireOption(r)],
  OBJECT: (r) => [r.pick(["ENCODING", "REFCOUNT", "IDLETIME", "FREQ", "HELP", "BOGUS"]), key(r)],
  SORT: (r) => [key(r), ...sortOptions(r)],
  SORT_RO: (r) => [key(r), ...sortOptions(r).filter((a) => a !== "STORE")],
  HSET: (r) => [key(r), ...fieldValues(r)],
  HMSET: (r) => [key(r), ...fieldValues(r)],
  HSETNX: (r) => [key(r), field(r), value(r)],
  HGET: (r) => [key(r), field(r)],
  HMGET: (r) => [key(r), field(r), ...(r.chance(0.5) ? [field(r)] : [])],
  HDEL: (r) => [key(r), field(r), ...(r.chance(0.5) ? [field(r)] : [])],
  HLEN: (r) => [key(r)],
  HSTRLEN: (r) => [key(r), field(r)],
  HEXISTS: (r) => [key(r), field(r)],
  HKEYS: (r) => [key(r)],
  HVALS: (r) => [key(r)],
  HGETALL: (r) => [key(r)],
  HINCRBY: (r) => [key(r), field(r), r.pick(EDGE_NUMBERS)],
  HINCRBYFLOAT: (r) => [key(r), field(r), r.pick(FLOATS)],
  HRANDFIELD: (r) =>
    r.pick([
      [key(r)],
      [key(r), r.pick(["0", "1", "-3", "5", "100", "x"])],
      [key(r), r.pick(["2", "-2", "1000"]), r.pick(["WITHVALUES", "withvalues", "BOGUS"])],
    ]),
  HSCAN: (r) => [
    key(r),
    r.pick(["0", "1", "-1", "x", "18446744073709551616"]),
    ...r.pick([[], ["MATCH", "f*"], ["COUNT", r.pick(EDGE_NUMBERS)], ["TYPE", "hash"]]),
  ],
  // The timeout is 0 with no replica: WAIT answers at once (kvdb's and Redis's).
  WAIT: (r) => ["0", r.pick(["0", "-1", "x", "10"])],
  PUBLISH: (r) => [r.pick(["news", "cf:1", ""]), value(r)],
  SPUBLISH: (r) => [r.pick(["news", "cf:1"]), value(r)],
  PUBSUB: (r) =>
    r.pick([
      ["CHANNELS"],
      ["CHANNELS", "n*"],
      ["NUMSUB", "news", "x"],
      ["NUMPAT"],
      [
        "SHARDCHANNELS",
      ],
      ["SHARDNUMSUB", "news"],
      ["HELP"],
      ["BOGUS"],
    ]),
  TIME: () => [],
  LASTSAVE: () => [],
  INFO: (r) => r.pick([[], ["keyspace"], ["stats"], ["commandstats"], ["errorstats"], ["bogus"]]),
  CONFIG: (r) =>
    r.pick([["GET", "maxclients"], ["GET", "*"], ["GET", "notify-*", "timeout"], ["GET"], [
      "BOGUS",
    ]]),
  CLIENT: (r) =>
    r.pick([
      ["ID"],
      ["GETNAME"],
      ["SETNAME", r.pick(["fuzz", "has space", ""])],
      ["INFO"],
      [
        "NO-EVICT",
        r.pick(["on", "off", "x"]),
      ],
      ["LIST", "TYPE", r.pick(["normal", "pubsub", "bogus"])],
      ["BOGUS"],
    ]),
  MEMORY: (r) => r.pick([["USAGE", key(r)], ["USAGE", key(r), "SAMPLES", small(r)], ["STATS"]]),
  COMMAND: (r) =>
    r.pick([["COUNT"], ["INFO", "get", "bogus"], ["GETKEYS", "SET", key(r), "v"], [
      "GETKEYS",
      "GET",
    ], ["DOCS", "incr"]]),
};

/** A hash field: a few names (so fields meet again), sometimes binary or long. */
function field(r: Rng): Arg {
  return r.chance(0.9) ? r.pick(["f1", "f2", "f3", "", "n"]) : value(r);
}

/** HSET's field/value pairs; sometimes one short (an arity error). */
function fieldValues(r: Rng): Arg[] {
  const out: Arg[] = [];
  for (let i = r.int(1, 3); i > 0; i--) out.push(field(r), value(r));
  if (r.chance(0.05)) out.pop();
  return out;
}

/** EXPIRE's conditions, sometimes. */
function expireOption(r: Rng): string[] {
  return r.chance(0.6) ? [] : [r.pick(["NX", "XX", "GT", "LT", "BOGUS"])];
}

/** SORT's grammar (strings only yet: every key SORT meets is one or missing). */
function sortOptions(r: Rng): string[] {
  const out: string[] = [];
  for (let i = r.int(0, 3); i > 0; i--) {
    out.push(
      ...r.pick([["ALPHA"], ["DESC"], ["ASC"], ["LIMIT", "0", small(r)], ["BY", "w_*"], [
        "GET",
        "#",
      ], ["STORE", key(r)]]),
    );
  }
  return out;
}

const COMMAND_NAMES = Object.keys(FUZZ_COMMANDS);
/** MULTI, EXEC and WATCH come more often than one name in sixty: transactions need them. */
const TRANSACTION_WEIGHT = 0.15;
/** So does RESTORE: its payload decoder has the most paths. */
const RESTORE_WEIGHT = 0.05;

/**
 * Commands never given garbage arguments: a random CLIENT or CONFIG
 * subcommand could pause, kill or reconfigure the other connections, and
 * WAIT with a number of replicas and a timeout would wait out the timeout.
 */
const GARBAGE_FREE = new Set<string>(["CLIENT", "CONFIG", "WAIT"]);

/** Arguments for a command (plausible, or garbage of any count), with the name first. */
function command(r: Rng): Arg[] {
  const p = r.next();
  const name = p < TRANSACTION_WEIGHT
    ? r.pick(["MULTI", "EXEC", "EXEC", "DISCARD", "WATCH"])
    : p < TRANSACTION_WEIGHT + RESTORE_WEIGHT
    ? "RESTORE"
    : r.pick(COMMAND_NAMES);
  const spelled = r.chance(0.1) ? name.toLowerCase() : name;
  if (name === "SELECT" || name === "MOVE" || name === "SWAPDB" || name === "FLUSHDB") {
    return [spelled, ...FUZZ_COMMANDS[name](r)];
  }
  if (r.chance(0.2) && !GARBAGE_FREE.has(name)) {
    return [spelled, ...Array.from({ length: r.int(0, 7) }, () => token(r))];
  }
  return [spelled, ...FUZZ_COMMANDS[name](r)];
}

/** One connection's worth of command fuzz. */
export interface CommandCase {
  /** The connection says `HELLO 3` first (its first request). */
  resp3: boolean;
  /** Every request, the handshake (HELLO 3, SELECT) included. */
  requests: Arg[][];
  /** Requests per write: the requests pipelined in groups of these sizes. */
  batches: number[];
}

/**
 * A connection's requests: `HELLO 3` (half the time), `SELECT` of a
 * database from 1 to 15 (never 0: the fuzz stays out of it), then 1 to 40
 * fuzzed commands.
 */
export function commandCase(r: Rng): CommandCase {
  const resp3 = r.chance(0.5);
  const requests: Arg[][] = [];
  if (resp3) requests.push(["HELLO", "3"]);
  requests.push(["SELECT", String(r.int(1, 15))]);
  for (let i = r.int(1, 40); i > 0; i--) requests.push(command(r));
  const batches: number[] = [];
  for (let left = requests.length; left > 0;) {
    const n = Math.min(left, r.chance(0.5) ? 1 : r.int(2, 40));
    batches.push(n);
    left -= n;
  }
  return { resp3, requests, batches };
}

// ---------------------------------------------------------------------------
// What the replies must satisfy

const NAME = (args: Arg[]): string =>
  (typeof args[0] === "string" ? args[0] : fromLatin1(args[0])).toUpperCase();

/** Error text that means a bug, not a refused request (the WAL is healthy throughout). */
const INTERNAL_ERROR =
  /internal error|write failed|not durable|TypeError|RangeError|ReferenceError|undefined|\[object /;

/** Commands that run at once inside MULTI instead of being queued. */
const NOT_QUEUED = new Set(["EXEC", "DISCARD", "MULTI", "WATCH"]);

/** Whether a request has the argument count its command needs (for the four above). */
function arityOk(name: string, args: Arg[]): boolean {
  return name === "WATCH" ? args.length >= 2 : args.length === 1;
}

function nulls(r: Reply, resp3: boolean): string | undefined {
  if (resp3 && "resp2Null" in r && r.resp2Null) return `a RESP2 null (${r.wire}-1) in RESP3`;
  if (!resp3 && RESP3_ONLY.has(r.wire)) return `a RESP3 type (${r.wire}) in RESP2`;
  if (r.type === "array" && r.items) {
    for (const item of r.items) {
      const problem = nulls(item, resp3);
      if (problem) return problem;
    }
  }
  return undefined;
}

/**
 * Checks one connection's replies against its requests: one reply each;
 * the protocol's own types only (RESP2: no RESP3 types; RESP3: no `$-1` or
 * `*-1`); errors with an upper-case code and never an internal error;
 * inside MULTI every queued command answers `+QUEUED` or an error, and
 * EXEC answers an array of one reply per `+QUEUED`, nil (a WATCHed key
 * changed), or `-EXECABORT` — the latter exactly when a queued command was
 * refused. Returns the first problem, or undefined.
 */
export function checkCommandReplies(c: CommandCase, replies: Reply[]): string | undefined {
  if (replies.length !== c.requests.length) {
    return `${c.requests.length} requests, ${replies.length} replies`;
  }
  let inMulti = false;
  let queued = 0;
  let refused = false;
  for (const [i, r] of replies.entries()) {
    const args = c.requests[i];
    const name = NAME(args);
    const where = `reply #${i} (to ${name}): ${showReply(r)}`;
    const problem = nulls(r, c.resp3);
    if (problem) return `${where}: ${problem}`;
    if (r.type === "error") {
      if (!/^[A-Z]+( |$)/.test(r.text)) return `${where}: an error without an upper-case code`;
      // A handler that throws answers "internal error" (or, for a write,
      // "write failed, not durable": kvdb cannot tell a bug from a log failure).
      if (INTERNAL_ERROR.test(r.text)) return `${where}: an internal error reached the client`;
    }
    if (i === 0 && c.resp3) {
      if (r.type !== "array" || r.wire !== "%") return `${where}: HELLO 3 did not answer a map`;
      continue;
    }
    if (NOT_QUEUED.has(name) && !arityOk(name, args)) {
      // Refused before it runs: inside MULTI that dooms the transaction,
      // and a refused EXEC aborts it at once (Redis's rejectCommand).
      if (r.type !== "error") return `${where}: a wrong argument count, and no error`;
      if (name === "EXEC") {
        if (!r.text.startsWith("EXECABORT Transaction discarded because of: wrong number")) {
          return `${where}: EXEC with arguments must answer EXECABORT`;
        }
        inMulti = false;
      }
      refused ||= inMulti;
      continue;
    }
    if (inMulti && !NOT_QUEUED.has(name)) {
      if (r.type === "simple" && r.text === "QUEUED") queued++;
      else if (r.type === "error") refused = true;
      else return `${where}: inside MULTI, neither +QUEUED nor an error`;
      continue;
    }
    switch (name) {
      case "MULTI":
        if (!inMulti && !(r.type === "simple" && r.text === "OK")) return `${where}: MULTI`;
        if (inMulti && r.type !== "error") return `${where}: MULTI inside MULTI`;
        if (!inMulti) {
          inMulti = true;
          queued = 0;
          refused = false;
        }
        break;
      case "EXEC":
        if (!inMulti) {
          if (r.type !== "error") return `${where}: EXEC without MULTI`;
          break;
        }
        inMulti = false;
        if (refused) {
          if (!(r.type === "error" && r.text.startsWith("EXECABORT"))) {
            return `${where}: a queued command was refused, so EXEC must abort`;
          }
        } else if (r.type === "bulk" && r.value === null && r.wire === "_") {
          // RESP3's nil: a WATCHed key changed.
        } else if (r.type === "array") {
          if (r.items !== null && r.items.length !== queued) {
            return `${where}: ${queued} commands queued, ${r.items.length} results`;
          }
        } else if (!(r.type === "error" && r.text.startsWith("EXECABORT"))) {
          return `${where}: EXEC answered neither results, nil nor EXECABORT`;
        }
        break;
      case "DISCARD":
        if (inMulti !== (r.type === "simple" && r.text === "OK")) return `${where}: DISCARD`;
        inMulti = false;
        break;
      case "WATCH":
        if (inMulti && r.type !== "error") return `${where}: WATCH inside MULTI`;
        break;
    }
  }
  return undefined;
}
