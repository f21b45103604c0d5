/**
 * Doubles as Redis 7.0 writes them in replies: C's `printf("%.17g")`
 * (17 significant digits, rounded half to even on exact ties, trailing
 * zeros dropped, exponent form below 1e-4 and from 1e17), and `inf`, `-inf`,
 * `nan`.
 *
 * JavaScript's `toExponential` rounds exact ties up, so a tie (a double
 * whose exact decimal expansion has exactly 18 significant digits, such as
 * 2^-25 = 2.98023223876953125e-8) is rounded here from its exact digits.
 *
 * @example
 * ```ts
 * formatDouble(0.1); // "0.10000000000000001"
 * formatDouble(1e17); // "1e+17"
 * formatDouble(-Infinity); // "-inf"
 * ```
 * @module
 */

/** Significant digits of `%.17g`. */
const PRECISION = 17;
const LOG10_5 = Math.log10(5);
const bits = new DataView(new ArrayBuffer(8));

/**
 * `value` as C's `printf("%.17g", value)` writes it (glibc), with infinities
 * as `inf`/`-inf` and NaN as `nan`, as Redis replies.
 *
 * @example
 * ```ts
 * formatDouble(1.5); // "1.5"
 * formatDouble(1e-5); // "1.0000000000000001e-05"
 * ```
 */
export function formatDouble(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  const magnitude = Math.abs(value);
  if (magnitude === 0) return sign + "0";
  // An integer below 10^15 prints as its digits under %.17g (the common score).
  if (magnitude < 1e15 && Number.isInteger(magnitude)) return sign + magnitude;
  const [digits, exponent] = significantDigits(magnitude);
  return sign + layout(digits, exponent);
}

/**
 * The 17 significant digits of a positive finite double, rounded half to
 * even, and the decimal exponent of the first.
 */
function significantDigits(magnitude: number): [string, number] {
  const exponential = magnitude.toExponential(PRECISION - 1);
  const e = exponential.indexOf("e");
  const rounded = exponential[0] + exponential.slice(2, e);
  const exponent = Number(exponential.slice(e + 1));
  const exact = exactTie(magnitude);
  if (exact === undefined) return [rounded, exponent];
  // An exact tie: toExponential rounded up; half to even keeps an even
  // 17th digit instead.
  const kept = exact.slice(0, PRECISION);
  if ((kept.charCodeAt(PRECISION - 1) - 0x30) % 2 === 1) return [rounded, exponent];
  return [kept, exact.length - 1 + exactExponentShift(magnitude)];
}

/** Mantissa m (odd) and exponent k with magnitude = m × 2^k. */
function decompose(magnitude: number): [number, number] {
  bits.setFloat64(0, magnitude);
  const high = bits.getUint32(0);
  const low = bits.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  let mantissa = (high & 0xfffff) * 2 ** 32 + low;
  let exponent = biased === 0 ? -1074 : biased - 1075;
  if (biased !== 0) mantissa += 2 ** 52;
  while (mantissa % 2 === 0) {
    mantissa /= 2;
    exponent++;
  }
  return [mantissa, exponent];
}

/**
 * The exact significant digits when they are one more than PRECISION and
 * end in 5 (a tie), else undefined. Below 1, m × 2^-k is m × 5^k / 10^k:
 * its digits are those of m × 5^k, whose count decides; integers that big
 * are even, so never ties.
 */
function exactTie(magnitude: number): string | undefined {
  const [mantissa, exponent] = decompose(magnitude);
  if (exponent >= 0) return undefined;
  const estimate = Math.log10(mantissa) + -exponent * LOG10_5;
  if (estimate < PRECISION - 1 || estimate > PRECISION + 2) return undefined;
  const digits = (BigInt(mantissa) * 5n ** BigInt(-exponent)).toString();
  return digits.length === PRECISION + 1 && digits.endsWith("5") ? digits : undefined;
}

/** Decimal exponent of the last exact digit (the value is digits × 10^this). */
function exactExponentShift(magnitude: number): number {
  return decompose(magnitude)[1];
}

/** `%g`'s layout of 17 digits d.ddd… × 10^exponent, trailing zeros dropped. */
function layout(digits: string, exponent: number): string {
  if (exponent >= -4 && exponent < PRECISION) {
    let whole: string;
    let fraction: string;
    if (exponent >= 0) {
      whole = digits.slice(0, exponent + 1);
      fraction = digits.slice(exponent + 1);
    } else {
      whole = "0";
      fraction = "0".repeat(-exponent - 1) + digits;
    }
    fraction = fraction.replace(/0+$/, "");
    return fraction === "" ? whole : `${whole}.${fraction}`;
  }
  const rest = digits.slice(1).replace(/0+$/, "");
  const power = Math.abs(exponent);
  return `${digits[0]}${rest === "" ? "" : "." + rest}e${exponent < 0 ? "-" : "+"}${
    power < 10 ? "0" : ""
  }${power}`;
}
