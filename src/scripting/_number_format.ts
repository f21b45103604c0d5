/**
 * C's `%.<precision>g` for doubles, as lua-cjson (`%.14g`) and Lua 5.1's
 * `tostring` (`%.14g`) print numbers.
 *
 * @example
 * ```ts
 * formatG(1e20, 14); // "1e+20"
 * formatG(0.1, 14); // "0.1"
 * ```
 * @module
 */

/** `%.{precision}g` of `value` (finite or not: "inf", "-inf", "nan"/"-nan" as glibc). */
export function formatG(value: number, precision: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const p = precision === 0 ? 1 : precision;
  const exponential = roundedExponential(value, p);
  const e = exponential.indexOf("e");
  const exponent = Number(exponential.slice(e + 1));
  if (exponent < -4 || exponent >= p) {
    const mantissa = stripZeros(exponential.slice(0, e));
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return stripZeros(fixedFromExponential(exponential, exponent));
}

/**
 * `value.toExponential(p - 1)`, but an exact tie rounds half to even as
 * glibc's printf does (JS rounds ties up): 123456789012345 → 1.2345678901234e+14.
 */
function roundedExponential(value: number, p: number): string {
  const rounded = value.toExponential(p - 1);
  if (p > 99) return rounded;
  const long = value.toExponential(100);
  const e = long.indexOf("e");
  const digits = long.slice(0, e).replace("-", "").replace(".", "");
  if (digits[p] !== "5" || !/^0*$/.test(digits.slice(p + 1))) return rounded;
  if (Number(digits[p - 1]) % 2 !== 0) return rounded;
  const kept = digits.slice(0, p);
  const sign = value < 0 ? "-" : "";
  const mantissa = kept.length > 1 ? `${kept[0]}.${kept.slice(1)}` : kept;
  return `${sign}${mantissa}${long.slice(e)}`;
}

/** The fixed-point form of an exponential string's digits (no further rounding). */
function fixedFromExponential(exponential: string, exponent: number): string {
  const e = exponential.indexOf("e");
  const negative = exponential.startsWith("-");
  const digits = exponential.slice(negative ? 1 : 0, e).replace(".", "");
  let text: string;
  if (exponent >= 0) {
    const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
    const fraction = digits.slice(exponent + 1);
    text = fraction === "" ? whole : `${whole}.${fraction}`;
  } else {
    text = `0.${"0".repeat(-exponent - 1)}${digits}`;
  }
  return negative ? `-${text}` : text;
}

function stripZeros(text: string): string {
  if (!text.includes(".")) return text;
  return text.replace(/\.?0+$/, "");
}
