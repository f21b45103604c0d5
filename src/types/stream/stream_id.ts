/**
 * Stream entry IDs: two unsigned 64-bit numbers, `ms-seq`, held as a
 * 16-byte binary string (each half big-endian), so that JavaScript's string
 * order is the IDs' order and an ID is one small immutable value (a map
 * key, an array element) — no bigint per ID. Parsing follows Redis 7.0's
 * `streamGenericParseIDOrReply` (and its `string2ull`, i.e. `strtoull`
 * after the strict form), formatting its `%llu-%llu`.
 *
 * @example
 * ```ts
 * const id = makeId(1_700_000_000_000, 3);
 * formatId(id); // "1700000000000-3"
 * id < makeId(1_700_000_000_000, 4); // true
 * ```
 * @module
 */

import { CommandError } from "../../protocol/reply_writer.ts";

/** Bytes of an encoded ID. */
export const ID_BYTES = 16;
/** 0-0. */
export const MIN_ID = "\0".repeat(ID_BYTES);
/** 18446744073709551615-18446744073709551615. */
export const MAX_ID = "\xff".repeat(ID_BYTES);

const U64_MAX = (1n << 64n) - 1n;
const TWO_32 = 0x1_0000_0000;
/** An ID half's high word below this: the half is below 2^53, exact as a number. */
const SAFE_HIGH_WORD = 0x20_0000;

/** Redis's error for an ID it cannot parse. */
export function invalidId(): CommandError {
  return new CommandError("ERR", "Invalid stream ID specified as stream command argument");
}

/**
 * The ID whose four big-endian 32-bit words (ms high, ms low, seq high,
 * seq low) are these, as one flat string (no rope to flatten later).
 *
 * @example
 * ```ts
 * idFromWords(0, 5, 0, 1) === makeId(5, 1); // true
 * ```
 */
export function idFromWords(a: number, b: number, c: number, d: number): string {
  return String.fromCharCode(
    (a >>> 24) & 0xff,
    (a >>> 16) & 0xff,
    (a >>> 8) & 0xff,
    a & 0xff,
    (b >>> 24) & 0xff,
    (b >>> 16) & 0xff,
    (b >>> 8) & 0xff,
    b & 0xff,
    (c >>> 24) & 0xff,
    (c >>> 16) & 0xff,
    (c >>> 8) & 0xff,
    c & 0xff,
    (d >>> 24) & 0xff,
    (d >>> 16) & 0xff,
    (d >>> 8) & 0xff,
    d & 0xff,
  );
}

/**
 * The ID `ms-seq` from two numbers below 2^53.
 *
 * @example
 * ```ts
 * makeId(5, 0) < makeId(5, 1); // true
 * ```
 */
export function makeId(ms: number, seq: number): string {
  return idFromWords(highWord(ms), ms >>> 0, highWord(seq), seq >>> 0);
}

/**
 * The ID `ms-seq` from two bigints below 2^64.
 *
 * @example
 * ```ts
 * formatId(makeBigId(2n ** 64n - 1n, 0n)); // "18446744073709551615-0"
 * ```
 */
export function makeBigId(ms: bigint, seq: bigint): string {
  return idFromWords(
    Number(ms >> 32n),
    Number(ms & 0xffffffffn),
    Number(seq >> 32n),
    Number(seq & 0xffffffffn),
  );
}

/**
 * Word `word` (0-3: ms high, ms low, seq high, seq low) of an ID.
 *
 * @example
 * ```ts
 * idWord(makeId(5, 1), 3); // 1
 * ```
 */
export function idWord(id: string, word: number): number {
  return readU32(id, word * 4);
}

function readU32(id: string, at: number): number {
  return ((id.charCodeAt(at) << 24) | (id.charCodeAt(at + 1) << 16) |
    (id.charCodeAt(at + 2) << 8) | id.charCodeAt(at + 3)) >>> 0;
}

/** The ms half (or with `at` 8, the seq half) as a bigint. */
function bigHalf(id: string, at: number): bigint {
  return (BigInt(readU32(id, at)) << 32n) | BigInt(readU32(id, at + 4));
}

/** The ms half (or with `at` 8, the seq half) as a number when exact (below 2^53), else -1. */
function smallHalf(id: string, at: number): number {
  return halfFromWords(readU32(id, at), readU32(id, at + 4));
}

/**
 * The ID half whose 32-bit words are `high` and `low`, as a number when
 * exact (below 2^53), else -1.
 *
 * @example
 * ```ts
 * halfFromWords(0, 7); // 7
 * halfFromWords(0x20_0000, 0); // -1: 2^53
 * ```
 */
export function halfFromWords(high: number, low: number): number {
  return high < SAFE_HIGH_WORD ? high * TWO_32 + low : -1;
}

/**
 * The high 32-bit word of an ID half given as a number below 2^53 (its
 * low word is `half >>> 0`).
 *
 * @example
 * ```ts
 * highWord(2 ** 32 + 5); // 1
 * ```
 */
export function highWord(half: number): number {
  return Math.floor(half / TWO_32);
}

/**
 * The ms part as a bigint.
 *
 * @example
 * ```ts
 * idMs(makeId(7, 1)); // 7n
 * ```
 */
export function idMs(id: string): bigint {
  return bigHalf(id, 0);
}

/**
 * The seq part as a bigint.
 *
 * @example
 * ```ts
 * idSeq(makeId(7, 1)); // 1n
 * ```
 */
export function idSeq(id: string): bigint {
  return bigHalf(id, 8);
}

/**
 * The ms part as a number when below 2^53, else -1 (fast paths).
 *
 * @example
 * ```ts
 * idMsNumber(makeId(7, 1)); // 7
 * ```
 */
export function idMsNumber(id: string): number {
  return smallHalf(id, 0);
}

/**
 * The seq part as a number when below 2^53, else -1.
 *
 * @example
 * ```ts
 * idSeqNumber(makeId(7, 1)); // 1
 * ```
 */
export function idSeqNumber(id: string): number {
  return smallHalf(id, 8);
}

/**
 * `ms-seq` in decimal, as Redis replies an ID.
 *
 * @example
 * ```ts
 * formatId(MIN_ID); // "0-0"
 * ```
 */
export function formatId(id: string): string {
  const ms = smallHalf(id, 0);
  const seq = smallHalf(id, 8);
  return (ms >= 0 ? String(ms) : String(bigHalf(id, 0))) + "-" +
    (seq >= 0 ? String(seq) : String(bigHalf(id, 8)));
}

/**
 * The next ID (Redis's `streamIncrID`), or undefined after the last.
 *
 * @example
 * ```ts
 * formatId(nextId(makeId(1, 2))!); // "1-3"
 * ```
 */
export function nextId(id: string): string | undefined {
  if (id === MAX_ID) return undefined;
  const ms = smallHalf(id, 0);
  const seq = smallHalf(id, 8);
  if (ms >= 0 && seq >= 0 && seq < Number.MAX_SAFE_INTEGER) return makeId(ms, seq + 1);
  const bigSeq = bigHalf(id, 8);
  if (bigSeq === U64_MAX) return makeBigId(bigHalf(id, 0) + 1n, 0n);
  return makeBigId(bigHalf(id, 0), bigSeq + 1n);
}

/**
 * The previous ID (Redis's `streamDecrID`), or undefined before 0-0.
 *
 * @example
 * ```ts
 * formatId(previousId(makeId(2, 0))!); // "1-18446744073709551615"
 * ```
 */
export function previousId(id: string): string | undefined {
  if (id === MIN_ID) return undefined;
  const seq = bigHalf(id, 8);
  if (seq === 0n) return makeBigId(bigHalf(id, 0) - 1n, U64_MAX);
  return makeBigId(bigHalf(id, 0), seq - 1n);
}

const SPACE = /^[ \t\n\v\f\r]*/;

/**
 * C's `strtoull` over a whole string as Redis's `string2ull` uses it: the
 * strict form (`string2ll`, non-negative) first, else optional blanks, an
 * optional sign (a `-` negates modulo 2^64), digits, nothing after; an
 * overflow fails. Undefined when it fails.
 */
function parseU64(s: string): bigint | undefined {
  if (/^(?:0|-?[1-9][0-9]*)$/.test(s) && s.length <= 20) {
    // string2ll's form: a negative value is out of range (strtoull is not tried).
    const strict = BigInt(s);
    if (strict >= -(1n << 63n) && strict < 1n << 63n) return strict < 0n ? undefined : strict;
  }
  let rest = s.replace(SPACE, "");
  let negative = false;
  if (rest.startsWith("+") || rest.startsWith("-")) {
    negative = rest[0] === "-";
    rest = rest.substring(1);
  }
  if (!/^[0-9]+$/.test(rest)) return undefined;
  const value = BigInt(rest);
  if (value > U64_MAX) return undefined;
  return negative ? (U64_MAX + 1n - value) & U64_MAX : value;
}

/** A parsed ID argument. */
export interface ParsedId {
  id: string;
  /** False for the `ms-*` form (XADD picks the sequence). */
  seqGiven: boolean;
}

/** Longest ID argument Redis reads (its 128-byte buffer). */
const MAX_ID_ARGUMENT_BYTES = 127;

/**
 * Parses an ID argument as Redis's `streamGenericParseIDOrReply`: `-` and
 * `+` (unless `strict`), `ms` (seq = `missingSeq`), `ms-seq`, and with
 * `allowSeqStar` `ms-*`. Throws Redis's invalid-ID error.
 *
 * @example
 * ```ts
 * formatId(parseId("5", 0n, false).id); // "5-0"
 * ```
 */
export function parseId(
  s: string,
  missingSeq: bigint,
  strict: boolean,
  allowSeqStar = false,
): ParsedId {
  if (s.length > MAX_ID_ARGUMENT_BYTES) throw invalidId();
  // C strings end at a NUL byte.
  const nul = s.indexOf("\0");
  if (nul >= 0) s = s.substring(0, nul);
  if (s === "-" || s === "+") {
    if (strict) throw invalidId();
    return { id: s === "-" ? MIN_ID : MAX_ID, seqGiven: true };
  }
  const dash = s.indexOf("-");
  const ms = parseU64(dash < 0 ? s : s.substring(0, dash));
  if (ms === undefined) throw invalidId();
  if (dash < 0) return { id: makeBigId(ms, missingSeq), seqGiven: true };
  const tail = s.substring(dash + 1);
  if (allowSeqStar && tail === "*") return { id: makeBigId(ms, 0n), seqGiven: false };
  const seq = parseU64(tail);
  if (seq === undefined) throw invalidId();
  return { id: makeBigId(ms, seq), seqGiven: true };
}

/** {@link parseId} for the common case: an ID, strict, missing seq 0. */
export function parseStrictId(s: string): string {
  return parseId(s, 0n, true).id;
}

/**
 * The ID after `last` that XADD `*` picks at time `nowMs` (Redis's
 * `streamNextID`), or undefined when `last` is the last possible ID.
 *
 * @example
 * ```ts
 * formatId(autoId(makeId(5, 0), 4)!); // "5-1"
 * ```
 */
export function autoId(last: string, nowMs: number): string | undefined {
  const lastMs = smallHalf(last, 0);
  if (lastMs >= 0 && nowMs > lastMs) return makeId(nowMs, 0);
  return nextId(last);
}
