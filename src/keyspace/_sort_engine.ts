/**
 * SORT's machinery, apart from the keyspace: the option grammar, C's
 * `strtod` as Redis scores elements with it, Redis's comparisons and LIMIT
 * arithmetic, and the `*` / `->field` pattern substitution. The command
 * (`sort_commands.ts`) supplies the elements and the key lookups.
 *
 * @example
 * ```ts
 * const options = parseSortOptions(["SORT", "k", "DESC", "LIMIT", "0", "2"], false);
 * sortElements(["1", "3", "2"], "list", options, () => undefined).items; // ["3", "2"]
 * ```
 * @module
 */

import { notAnInteger, parseInt64, syntaxError } from "../executor/command_spec.ts";

/** SORT's options, as Redis parses them. */
export interface SortOptions {
  desc: boolean;
  alpha: boolean;
  /** LIMIT's offset and count (-1: all), as given (64-bit). */
  limitStart: bigint;
  limitCount: bigint;
  /** BY's pattern, if any. */
  by: string | undefined;
  /** BY named a pattern without `*`: no sorting at all (Redis's "dontsort"). */
  dontSort: boolean;
  /** GET patterns, in order (`#` is the element itself). */
  gets: string[];
  /** STORE's destination. */
  store: string | undefined;
}

/**
 * Parses SORT's (or SORT_RO's: no STORE) options from `args[2]` on, in
 * Redis's order: the first bad option fails with a syntax error, a bad
 * LIMIT number with "not an integer".
 *
 * @example
 * ```ts
 * parseSortOptions(["SORT", "k", "BY", "nosort"], false).dontSort; // true
 * ```
 */
export function parseSortOptions(args: readonly string[], readOnly: boolean): SortOptions {
  const options: SortOptions = {
    desc: false,
    alpha: false,
    limitStart: 0n,
    limitCount: -1n,
    by: undefined,
    dontSort: false,
    gets: [],
    store: undefined,
  };
  for (let j = 2; j < args.length; j++) {
    const option = args[j].toUpperCase();
    const left = args.length - j - 1;
    if (option === "ASC") options.desc = false;
    else if (option === "DESC") options.desc = true;
    else if (option === "ALPHA") options.alpha = true;
    else if (option === "LIMIT" && left >= 2) {
      const start = parseInt64(args[j + 1]);
      const count = parseInt64(args[j + 2]);
      if (start === undefined || count === undefined) throw notAnInteger();
      options.limitStart = start;
      options.limitCount = count;
      j += 2;
    } else if (option === "STORE" && left >= 1 && !readOnly) {
      options.store = args[++j];
    } else if (option === "BY" && left >= 1) {
      options.by = args[++j];
      // As Redis: once a BY without `*` was seen, nothing is sorted.
      if (!cString(options.by).includes("*")) options.dontSort = true;
    } else if (option === "GET" && left >= 1) {
      options.gets.push(args[++j]);
    } else {
      throw syntaxError();
    }
  }
  return options;
}

/** A string as C sees it: up to its first NUL byte. */
function cString(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

const SPACE = /^[ \t\n\v\f\r]*/;
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/;
const HEX = /^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?/;
const INFINITY = /^[+-]?(?:infinity|inf)/i;
const NAN = /^[+-]?nan(?:\([0-9A-Za-z_]*\))?/i;

/** A hexadecimal float's text (`0x1.8p3`) to its value. */
function hexFloat(text: string): number {
  const negative = text[0] === "-";
  const body = text.replace(/^[+-]?0[xX]/, "");
  const [mantissa, exponent] = body.split(/[pP]/);
  const [whole, fraction = ""] = mantissa.split(".");
  let value = 0;
  for (const digit of whole) value = value * 16 + parseInt(digit, 16);
  let scale = 1 / 16;
  for (const digit of fraction) {
    value += parseInt(digit, 16) * scale;
    scale /= 16;
  }
  value *= 2 ** Number(exponent ?? 0);
  return negative ? -value : value;
}

/**
 * The score Redis gives an element or BY value: C's `strtod` of the whole
 * string (leading white space, hex floats, `inf` allowed), or undefined
 * where Redis says "One or more scores can't be converted into double"
 * (trailing bytes, NaN, overflow or underflow). An empty string is 0.
 *
 * @example
 * ```ts
 * sortScore(" 1e3"); // 1000
 * sortScore("1x"); // undefined
 * sortScore("2\0x"); // 2: C stops at the NUL
 * ```
 */
export function sortScore(s: string): number | undefined {
  // strtod reads a C string: what follows a NUL is not seen.
  const text = cString(s);
  if (text === "") return 0; // nothing converted, and the NUL is the end
  const lead = SPACE.exec(text)![0].length;
  const rest = text.slice(lead);
  let match: RegExpExecArray | null;
  let value: number;
  if ((match = HEX.exec(rest)) !== null) {
    value = hexFloat(match[0]);
    if (!Number.isFinite(value)) return undefined;
  } else if ((match = INFINITY.exec(rest)) !== null) value = rest[0] === "-" ? -Infinity : Infinity;
  else if ((match = NAN.exec(rest)) !== null) return undefined;
  else if ((match = DECIMAL.exec(rest)) !== null) {
    value = Number(match[0].replace(/\.$/, "").replace(/\.(?=[eE])/, ""));
    // ERANGE: overflow to infinity, or underflow below the smallest normal double.
    const digits = /[1-9]/.test(match[0].split(/[eE]/)[0]);
    if (!Number.isFinite(value)) return undefined;
    if (digits && Math.abs(value) < 2.2250738585072014e-308) return undefined;
  } else return undefined; // nothing converted: the first byte is left over
  if (lead + match[0].length !== text.length) return undefined;
  return value;
}

/** Binary comparison (memcmp, then length): Redis's compareStringObjects. */
export function compareBinary(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** strcoll in the C locale: strcmp, which stops at a NUL byte. */
function collate(a: string, b: string): number {
  return compareBinary(cString(a), cString(b));
}

/**
 * Looks up a GET/BY pattern's value for an element: the string at the key
 * the pattern names, or a hash field with `->`; undefined if absent or of
 * another type.
 */
export type PatternLookup = (key: string, field: string | undefined) => string | undefined;

/**
 * The value `pattern` names for `element` (Redis's lookupKeyByPattern):
 * `#` is the element; the first `*` is replaced by it; `->field` after the
 * `*` reads a hash field; a pattern without `*` names nothing.
 *
 * @example
 * ```ts
 * resolvePattern("w_*->f", "3", (key, field) => `${key}.${field}`); // "w_3.f"
 * ```
 */
export function resolvePattern(
  pattern: string,
  element: string,
  lookup: PatternLookup,
): string | undefined {
  const c = cString(pattern);
  if (c === "#") return element;
  const star = c.indexOf("*");
  if (star < 0) return undefined;
  const arrow = c.indexOf("->", star + 1);
  const hasField = arrow >= 0 && arrow + 2 < c.length;
  // The key takes the pattern's full bytes (memcpy), past any NUL.
  const keyEnd = hasField ? arrow : pattern.length;
  const key = pattern.slice(0, star) + element + pattern.slice(star + 1, keyEnd);
  return lookup(key, hasField ? pattern.slice(arrow + 2) : undefined);
}

/** Which collection the elements came from (what ordering "no sort" keeps). */
export type SortSource = "list" | "set" | "zset";

/** SORT's result: the elements in order and the LIMIT's range, or Redis's score error. */
export type SortResult = { items: string[] } | { scoreError: true };

interface Entry {
  element: string;
  score: number;
  /** ALPHA BY: the BY value (undefined: missing, sorted first). */
  by: string | undefined;
}

/**
 * Sorts `elements` (a list's in order, a set's members, a sorted set's by
 * rank) as SORT does with `options`, and applies LIMIT; `lookup` answers
 * BY patterns. GET is applied by the caller to the returned elements.
 *
 * @example
 * ```ts
 * sortElements(["b", "a"], "set", parseSortOptions(["SORT", "s", "ALPHA"], false), () => undefined);
 * ```
 */
export function sortElements(
  elements: readonly string[],
  source: SortSource,
  options: SortOptions,
  lookup: PatternLookup,
): SortResult {
  let { dontSort, alpha } = options;
  let by = options.by;
  const { desc, store } = options;
  // A set has no order of its own: one stored (or replicated) is sorted.
  if (dontSort && source === "set" && store !== undefined) {
    dontSort = false;
    alpha = true;
    by = undefined;
  }
  const length = elements.length;
  // Redis's LIMIT arithmetic (in 64 bits; lengths are far below).
  let start = options.limitStart < 0n ? 0n : options.limitStart;
  let end = options.limitCount < 0n ? BigInt(length - 1) : start + options.limitCount - 1n;
  if (start >= BigInt(length)) {
    start = BigInt(length - 1);
    end = BigInt(length - 2);
  }
  if (end >= BigInt(length)) end = BigInt(length - 1);
  const from = Number(start);
  const to = Number(end);
  if (dontSort) {
    if (to < from) return { items: [] };
    // A list and a sorted set keep their order, reversed by DESC; a set its own.
    const ordered = desc && source !== "set" ? [...elements].reverse() : elements;
    return { items: ordered.slice(from, to + 1) };
  }
  const entries: Entry[] = new Array(length);
  let scoreError = false;
  for (let i = 0; i < length; i++) {
    const element = elements[i];
    const entry: Entry = { element, score: 0, by: undefined };
    entries[i] = entry;
    let value: string | undefined = element;
    if (by !== undefined) {
      value = resolvePattern(by, element, lookup);
      if (value === undefined) continue;
    }
    if (alpha) {
      if (by !== undefined) entry.by = value;
    } else {
      const score = sortScore(value);
      if (score === undefined) scoreError = true;
      else entry.score = score;
    }
  }
  if (scoreError) return { scoreError: true };
  const sign = desc ? -1 : 1;
  const stored = store !== undefined;
  let compare: (a: Entry, b: Entry) => number;
  if (!alpha) {
    compare = (a, b) =>
      sign * (a.score > b.score ? 1 : a.score < b.score ? -1 : compareBinary(a.element, b.element));
  } else if (by !== undefined) {
    compare = (a, b) => {
      if (a.by === undefined || b.by === undefined) {
        return sign * (a.by === b.by ? 0 : a.by === undefined ? -1 : 1);
      }
      return sign * (stored ? compareBinary(a.by, b.by) : collate(a.by, b.by));
    };
  } else {
    compare = (a, b) =>
      sign * (stored ? compareBinary(a.element, b.element) : collate(a.element, b.element));
  }
  entries.sort(compare);
  const items: string[] = [];
  for (let i = from; i <= to; i++) items.push(entries[i].element);
  return { items };
}
