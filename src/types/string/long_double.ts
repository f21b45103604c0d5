/**
 * The x87 80-bit extended ("long double") arithmetic Redis's INCRBYFLOAT
 * and HINCRBYFLOAT compute in, emulated exactly with BigInts: parsing as
 * glibc's `strtold`, addition rounded to a 64-bit significand, and printing
 * as `%.17Lf` with trailing zeros cut (Redis's "human friendly" form).
 *
 * Why not JavaScript numbers: a double has 53 significand bits, a long
 * double 64, and the replies differ in the digits users see — `INCRBYFLOAT
 * k 10.1` then `0.2` answers `10.3` from Redis, while doubles would print
 * `10.29999999999999893`. Replies must be Redis's byte for byte.
 *
 * A finite value is `mant × 2^(exp − 63)`: `mant` < 2^64, with bit 63 set
 * for a normal number; `exp` in [−16382, 16383]; subnormals have
 * `exp` = −16382 and bit 63 clear.
 *
 * @example
 * ```ts
 * const sum = addLongDouble(parseLongDouble("10.1")!, parseLongDouble("0.2")!);
 * formatLongDoubleHuman(sum); // "10.3"
 * ```
 * @module
 */

/**
 * A long double: finite, infinite or NaN.
 *
 * @example
 * ```ts
 * const one: LongDouble = { kind: "finite", negative: false, mant: 1n << 63n, exp: 0 };
 * ```
 */
export interface LongDouble {
  kind: "finite" | "infinite" | "nan";
  negative: boolean;
  /** Significand, < 2^64 (finite only). */
  mant: bigint;
  /** Exponent of the significand's top bit (finite only). */
  exp: number;
}

const MANT_BITS = 64;
const MIN_EXP = -16382;
const MAX_EXP = 16383;
/** Redis's buffer for a long double's text (MAX_LONG_DOUBLE_CHARS). */
const MAX_CHARS = 5 * 1024;

const ZERO: LongDouble = { kind: "finite", negative: false, mant: 0n, exp: MIN_EXP };

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** `num / den` rounded to nearest, ties to even. */
function divRound(num: bigint, den: bigint): bigint {
  const q = num / den;
  const r = num - q * den;
  const twice = 2n * r;
  if (twice > den || (twice === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/**
 * The long double nearest the exact positive rational `num / den`
 * (`num`, `den` > 0), ties to even; `infinite` past the largest finite.
 */
function fromRational(negative: boolean, num: bigint, den: bigint): LongDouble {
  if (num === 0n) return { ...ZERO, negative };
  // The value lies in [2^(e), 2^(e+1)) for e near the difference of bit lengths.
  let e = bitLength(num) - bitLength(den);
  // Make 2^e ≤ num/den < 2^(e+1).
  const atLeast = (k: number) => k >= 0 ? num >= den << BigInt(k) : num << BigInt(-k) >= den;
  if (!atLeast(e)) e--;
  if (e > MAX_EXP) return { kind: "infinite", negative, mant: 0n, exp: 0 };
  const scaleExp = Math.max(e, MIN_EXP);
  // mant = round(value × 2^(63 − scaleExp))
  const shift = MANT_BITS - 1 - scaleExp;
  let mant = shift >= 0
    ? divRound(num << BigInt(shift), den)
    : divRound(num, den << BigInt(-shift));
  let exp = scaleExp;
  if (mant === 1n << 64n) {
    mant = 1n << 63n;
    exp++;
    if (exp > MAX_EXP) return { kind: "infinite", negative, mant: 0n, exp: 0 };
  }
  return { kind: "finite", negative, mant, exp };
}

/** The exact value as a rational: `[num, den]`, den a power of two. */
function toRational(x: LongDouble): [bigint, bigint] {
  const shift = x.exp - (MANT_BITS - 1);
  return shift >= 0 ? [x.mant << BigInt(shift), 1n] : [x.mant, 1n << BigInt(-shift)];
}

const DECIMAL = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const HEX =
  /^([+-]?)0[xX](?:([0-9a-fA-F]+)(?:\.([0-9a-fA-F]*))?|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const INF = /^([+-]?)(?:inf|infinity)$/i;

/**
 * Parses `s` as Redis's `string2ld` does (glibc `strtold` over the whole
 * string, no leading blank, at most 5 KiB, no NaN, no overflow, no
 * underflow to zero); undefined where Redis answers "not a valid float".
 *
 * @example
 * ```ts
 * parseLongDouble("1e2"); // 100
 * parseLongDouble(" 1"); // undefined
 * ```
 */
export function parseLongDouble(s: string): LongDouble | undefined {
  if (s.length === 0 || s.length >= MAX_CHARS) return undefined;
  let m = DECIMAL.exec(s);
  if (m !== null) {
    const negative = m[1] === "-";
    const intDigits = m[2] ?? "";
    const fracDigits = m[3] ?? m[4] ?? "";
    const exponent = m[5] === undefined ? 0 : clampExponent(m[5]);
    const digits = (intDigits + fracDigits).replace(/^0+/, "");
    if (digits === "") return { ...ZERO, negative };
    const scale = exponent - fracDigits.length;
    // Beyond these the result is certainly infinite or zero: keep BigInts small.
    if (digits.length + scale > 5000) return undefined;
    if (digits.length + scale < -5000) return undefined;
    const n = BigInt(digits);
    const value = scale >= 0
      ? fromRational(negative, n * 10n ** BigInt(scale), 1n)
      : fromRational(negative, n, 10n ** BigInt(-scale));
    return acceptRange(value);
  }
  m = HEX.exec(s);
  if (m !== null) {
    const negative = m[1] === "-";
    const intDigits = m[2] ?? "";
    const fracDigits = m[3] ?? m[4] ?? "";
    const exponent = (m[5] === undefined ? 0 : clampExponent(m[5])) - 4 * fracDigits.length;
    const digits = (intDigits + fracDigits).replace(/^0+/, "");
    if (digits === "") return { ...ZERO, negative };
    if (digits.length * 4 + exponent > 17000) return undefined;
    if (digits.length * 4 + exponent < -17000) return undefined;
    const n = BigInt("0x" + digits);
    const value = exponent >= 0
      ? fromRational(negative, n << BigInt(exponent), 1n)
      : fromRational(negative, n, 1n << BigInt(-exponent));
    return acceptRange(value);
  }
  m = INF.exec(s);
  if (m !== null) return { kind: "infinite", negative: m[1] === "-", mant: 0n, exp: 0 };
  // NaN ("nan", "nan(...)") parses, but Redis refuses it; anything else is not a number.
  return undefined;
}

/** An exponent's digits, clamped far beyond any finite result. */
function clampExponent(digits: string): number {
  const n = Number(digits);
  return Math.max(-100_000, Math.min(100_000, n));
}

/** strtold's ERANGE cases Redis refuses: overflow, and underflow to zero. */
function acceptRange(value: LongDouble): LongDouble | undefined {
  if (value.kind === "infinite") return undefined;
  if (value.mant === 0n) return undefined;
  return value;
}

/**
 * The long double of a JavaScript integer (an integer-encoded value).
 *
 * @example
 * ```ts
 * formatLongDoubleHuman(longDoubleFromBigInt(-5n)); // "-5"
 * ```
 */
export function longDoubleFromBigInt(n: bigint): LongDouble {
  const negative = n < 0n;
  return fromRational(negative, negative ? -n : n, 1n);
}

/**
 * `a + b`, rounded to a long double (ties to even), with IEEE's rules for
 * infinities and NaN.
 *
 * @example
 * ```ts
 * addLongDouble(parseLongDouble("1")!, parseLongDouble("2")!); // 3
 * ```
 */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  if (a.kind === "nan" || b.kind === "nan") {
    return { kind: "nan", negative: false, mant: 0n, exp: 0 };
  }
  if (a.kind === "infinite" || b.kind === "infinite") {
    if (a.kind === "infinite" && b.kind === "infinite" && a.negative !== b.negative) {
      return { kind: "nan", negative: false, mant: 0n, exp: 0 };
    }
    return a.kind === "infinite" ? a : b;
  }
  const [an, ad] = toRational(a);
  const [bn, bd] = toRational(b);
  // Denominators are powers of two: bring both to the larger.
  const den = ad > bd ? ad : bd;
  const sum = (a.negative ? -an : an) * (den / ad) + (b.negative ? -bn : bn) * (den / bd);
  if (sum === 0n) {
    // IEEE: x + (−x) is +0 in round-to-nearest; −0 + −0 is −0.
    return { ...ZERO, negative: a.negative && b.negative };
  }
  return fromRational(sum < 0n, sum < 0n ? -sum : sum, den);
}

/** Whether `x` is NaN or infinite. */
export function isNotFinite(x: LongDouble): boolean {
  return x.kind !== "finite";
}

/**
 * `x` as Redis stores an INCRBYFLOAT result: `%.17Lf`, trailing zeros and a
 * bare point cut, `-0` as `0`; `""` when the text would not fit Redis's
 * 5 KiB buffer (Redis then stores an empty string).
 *
 * @example
 * ```ts
 * formatLongDoubleHuman(parseLongDouble("3.0e3")!); // "3000"
 * ```
 */
export function formatLongDoubleHuman(x: LongDouble): string {
  if (x.kind === "nan") return x.negative ? "-nan" : "nan";
  if (x.kind === "infinite") return x.negative ? "-inf" : "inf";
  const [num, den] = toRational(x);
  // Round to 17 decimals: n = round(value × 10^17), ties to even (glibc
  // printf rounds the exact binary value in the current mode).
  const scaled = divRound(num * 10n ** 17n, den);
  let digits = scaled.toString().padStart(18, "0");
  const intPart = digits.slice(0, digits.length - 17);
  let fracPart = digits.slice(digits.length - 17);
  let text = `${x.negative ? "-" : ""}${intPart}.${fracPart}`;
  // %.17Lf's length decides whether Redis's buffer took it.
  if (text.length + 1 > MAX_CHARS) return "";
  fracPart = fracPart.replace(/0+$/, "");
  text = `${x.negative ? "-" : ""}${intPart}${fracPart === "" ? "" : "." + fracPart}`;
  digits = text;
  return digits === "-0" ? "0" : digits;
}
