/**
 * Sorted-set scores and ranges as Redis reads them: a score argument
 * (`getDoubleFromObject`: the whole string, no NaN, no overflow), a range
 * bound (`zslParseRange`: C's `strtod`, leading blanks and overflow to
 * infinity allowed, `(` for exclusive), a lexicographic bound (`[`, `(`,
 * `-`, `+`), and the 8 bytes a score takes in packed form and WAL records.
 *
 * @example
 * ```ts
 * parseScore("1.5"); // 1.5
 * parseScoreBound("(3"); // { value: 3, exclusive: true }
 * parseLexBound("[a"); // { value: "a", exclusive: false, kind: 0 }
 * ```
 * @module
 */

const scoreBits = new Float64Array(1);
const scoreBytes = new Uint8Array(scoreBits.buffer);

/**
 * A score as 8 binary chars (IEEE-754 little-endian): exact, -0 and
 * infinities included.
 *
 * @example
 * ```ts
 * decodeScore(encodeScore(-0.5), 0); // -0.5
 * ```
 */
export function encodeScore(score: number): string {
  scoreBits[0] = score;
  const b = scoreBytes;
  return String.fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}

/**
 * The score whose 8 bytes start at `at` in `s` (see {@link encodeScore}).
 *
 * @example
 * ```ts
 * decodeScore(encodeScore(2), 0); // 2
 * ```
 */
export function decodeScore(s: string, at: number): number {
  const b = scoreBytes;
  for (let i = 0; i < 8; i++) b[i] = s.charCodeAt(at + i);
  return scoreBits[0];
}

/**
 * Writes `score`'s 8 bytes (as {@link encodeScore}) into `out` at `at`;
 * the offset after them.
 *
 * @example
 * ```ts
 * writeScoreBytes(1.5, new Uint8Array(8), 0); // 8
 * ```
 */
export function writeScoreBytes(score: number, out: Uint8Array, at: number): number {
  scoreBits[0] = score;
  for (let i = 0; i < 8; i++) out[at + i] = scoreBytes[i];
  return at + 8;
}

/**
 * The score whose 8 bytes start at `at` in `bytes` (see
 * {@link writeScoreBytes}).
 *
 * @example
 * ```ts
 * const out = new Uint8Array(8);
 * writeScoreBytes(2, out, 0);
 * readScoreBytes(out, 0); // 2
 * ```
 */
export function readScoreBytes(bytes: Uint8Array, at: number): number {
  // A DataView of the last array read (a key table's arena nearly always):
  // one unaligned load, where copying the 8 bytes out was 12% of a
  // ZADD/ZPOPMIN pair's in-process profile on a sorted set of 100.
  if (bytes !== viewed) {
    viewed = bytes;
    view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return view.getFloat64(at, true);
}

/** The array {@link readScoreBytes} read last, and a view of it. */
let viewed: Uint8Array = new Uint8Array(8);
let view: DataView = new DataView(viewed.buffer);

/** What `strtod` read: the value and where it stopped (`end === start`: nothing). */
interface Strtod {
  value: number;
  end: number;
}

const DECIMAL = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const HEX = /([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?/y;
const SPECIAL = /([+-]?)(infinity|inf|nan(?:\([0-9A-Za-z_]*\))?)/iy;
/** Digits strtod reads exactly as `Number` does (leading zeros too): the common score. */
const SIMPLE_INTEGER = /^-?\d{1,15}$/;

/** C's `strtod` (glibc) from `start` (no leading-blank skip): value and end. */
function strtod(s: string, start: number): Strtod {
  HEX.lastIndex = start;
  let m = HEX.exec(s);
  if (m !== null && (m[2].length > 0 || (m[3] ?? "").length > 0)) {
    const negative = m[1] === "-";
    const frac = m[3] ?? "";
    const digits = (m[2] + frac).replace(/^0+/, "") || "0";
    const exponent = Math.max(-5000, Math.min(5000, Number(m[4] ?? "0"))) - 4 * frac.length;
    let value = Number(BigInt("0x" + digits));
    // Halving in steps keeps intermediate values finite where the result is.
    for (let e = exponent; e !== 0;) {
      const step = Math.max(-1000, Math.min(1000, e));
      value *= 2 ** step;
      e -= step;
    }
    return { value: negative ? -value : value, end: start + m[0].length };
  }
  DECIMAL.lastIndex = start;
  m = DECIMAL.exec(s);
  if (m !== null) return { value: Number(m[0]), end: start + m[0].length };
  SPECIAL.lastIndex = start;
  m = SPECIAL.exec(s);
  if (m !== null) {
    const word = m[2].toLowerCase();
    const value = word.startsWith("nan") ? NaN : m[1] === "-" ? -Infinity : Infinity;
    return { value, end: start + m[0].length };
  }
  return { value: 0, end: start };
}

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/**
 * A score argument as Redis's `getDoubleFromObject` reads it: the whole
 * string is a number, no leading blank, not NaN, not overflowing to
 * infinity nor underflowing to zero ("inf" itself is fine); undefined where
 * Redis answers "value is not a valid float".
 *
 * @example
 * ```ts
 * parseScore("-inf"); // -Infinity
 * parseScore("1e400"); // undefined
 * ```
 */
export function parseScore(s: string): number | undefined {
  if (SIMPLE_INTEGER.test(s)) return Number(s);
  if (s.length === 0 || isSpace(s.charCodeAt(0))) return undefined;
  const { value, end } = strtod(s, 0);
  if (end !== s.length || Number.isNaN(value)) return undefined;
  if (!Number.isFinite(value) && !/inf/i.test(s)) return undefined; // ERANGE overflow
  if (value === 0 && /[1-9]/.test(s.replace(/[eEpP][+-]?\d+$/, ""))) return undefined; // underflow
  return value;
}

/**
 * A score range bound as Redis's `zslParseRange` reads it: `(` makes it
 * exclusive; then `strtod` (leading blanks allowed, an empty string is 0,
 * overflow is infinity), and nothing may follow but a NUL; no NaN.
 *
 * @example
 * ```ts
 * parseScoreBound("(1"); // { value: 1, exclusive: true }
 * parseScoreBound("x"); // undefined
 * ```
 */
export function parseScoreBound(s: string): { value: number; exclusive: boolean } | undefined {
  const exclusive = s.charCodeAt(0) === 40; // "("
  let at = exclusive ? 1 : 0;
  const simple = exclusive ? s.slice(1) : s;
  if (SIMPLE_INTEGER.test(simple)) return { value: Number(simple), exclusive };
  while (at < s.length && isSpace(s.charCodeAt(at))) at++;
  const read = strtod(s, at);
  // strtod reads nothing from blanks alone: it reports the string's start.
  const end = read.end === at ? (exclusive ? 1 : 0) : read.end;
  if (end < s.length && s.charCodeAt(end) !== 0) return undefined;
  if (Number.isNaN(read.value)) return undefined;
  return { value: read.value, exclusive };
}

/** A lexicographic bound's kind: a member, or `-` / `+` (below / above every member). */
export const LexKind = { Member: 0, Min: 1, Max: 2 } as const;

/** A parsed lexicographic bound (see {@link parseLexBound}). */
export interface LexBound {
  value: string;
  exclusive: boolean;
  kind: number;
}

/**
 * A lexicographic range bound as Redis's `zslParseLexRangeItem` reads it:
 * `[member` inclusive, `(member` exclusive, `-` and `+` (alone, or before
 * a NUL) the ends; undefined otherwise.
 *
 * @example
 * ```ts
 * parseLexBound("+"); // { value: "", exclusive: true, kind: LexKind.Max }
 * ```
 */
export function parseLexBound(s: string): LexBound | undefined {
  const first = s.charCodeAt(0);
  const alone = s.length === 1 || s.charCodeAt(1) === 0;
  if (first === 43) return alone ? { value: "", exclusive: true, kind: LexKind.Max } : undefined;
  if (first === 45) return alone ? { value: "", exclusive: true, kind: LexKind.Min } : undefined;
  if (first === 40) return { value: s.slice(1), exclusive: true, kind: LexKind.Member };
  if (first === 91) return { value: s.slice(1), exclusive: false, kind: LexKind.Member };
  return undefined;
}

/**
 * `member` compared with bound `b` as Redis's `sdscmplex`: negative if
 * below, 0 if equal, positive if above.
 *
 * @example
 * ```ts
 * compareLex("b", parseLexBound("[a")!); // > 0
 * ```
 */
export function compareLex(member: string, b: LexBound): number {
  if (b.kind === LexKind.Min) return 1;
  if (b.kind === LexKind.Max) return -1;
  return member < b.value ? -1 : member > b.value ? 1 : 0;
}

/**
 * Whether the lexicographic range [min, max] is certainly empty (Redis's
 * first test in `zslIsInLexRange`).
 *
 * @example
 * ```ts
 * lexRangeEmpty(parseLexBound("+")!, parseLexBound("-")!); // true
 * ```
 */
export function lexRangeEmpty(min: LexBound, max: LexBound): boolean {
  const rank = (b: LexBound) => b.kind === LexKind.Min ? -1 : b.kind === LexKind.Max ? 1 : 0;
  let cmp = rank(min) - rank(max);
  if (cmp === 0 && min.kind === LexKind.Member) {
    cmp = min.value < max.value ? -1 : min.value > max.value ? 1 : 0;
  }
  return cmp > 0 || (cmp === 0 && (min.exclusive || max.exclusive));
}
