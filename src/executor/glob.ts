/**
 * Redis's glob-style patterns (KEYS, SCAN MATCH), with its semantics:
 * `*` any run of bytes, `?` one byte, `[abc]`, `[^abc]`, `[a-z]` a byte
 * class, `\x` the byte x literally. Works on binary strings.
 *
 * @example
 * ```ts
 * globMatch("user:*", "user:1"); // true
 * globMatch("h[ae]llo", "hallo"); // true
 * ```
 * @module
 */

/**
 * Whether `text` matches `pattern`. Backtracks only to the last `*` (all a
 * later `*` needs), so time is O(pattern × text), never exponential.
 *
 * @example
 * ```ts
 * globMatch("a?c", "abc"); // true
 * ```
 */
export function globMatch(pattern: string, text: string): boolean {
  const p = pattern;
  const s = text;
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length) {
      const c = p[pi];
      if (c === "*") {
        starP = pi++;
        starS = si;
        continue;
      }
      if (c === "?") {
        pi++;
        si++;
        continue;
      }
      if (c === "[") {
        const end = classEnd(p, pi);
        if (classMatches(p, pi + 1, end, s[si])) {
          pi = end + 1;
          si++;
          continue;
        }
      } else {
        const literal = c === "\\" && pi + 1 < p.length ? p[pi + 1] : c;
        if (literal === s[si]) {
          pi += c === "\\" && pi + 1 < p.length ? 2 : 1;
          si++;
          continue;
        }
      }
    }
    if (starP < 0) return false;
    pi = starP + 1;
    si = ++starS;
  }
  while (pi < p.length && p[pi] === "*") pi++;
  return pi === p.length;
}

/** Index of the `]` closing the class opened at `open` (or the last index). */
function classEnd(p: string, open: number): number {
  let i = open + 1;
  if (p[i] === "^") i++;
  for (; i < p.length; i++) {
    if (p[i] === "\\" && i + 1 < p.length) i++;
    else if (p[i] === "]") return i;
  }
  return p.length - 1;
}

function classMatches(p: string, from: number, end: number, ch: string): boolean {
  let i = from;
  const negate = p[i] === "^";
  if (negate) i++;
  let matched = false;
  while (i < end) {
    if (p[i] === "\\" && i + 1 < end) {
      if (p[i + 1] === ch) matched = true;
      i += 2;
    } else if (i + 2 < end && p[i + 1] === "-") {
      let lo = p.charCodeAt(i);
      let hi = p.charCodeAt(i + 2);
      if (lo > hi) [lo, hi] = [hi, lo];
      const code = ch.charCodeAt(0);
      if (code >= lo && code <= hi) matched = true;
      i += 3;
    } else {
      if (p[i] === ch) matched = true;
      i++;
    }
  }
  return negate ? !matched : matched;
}
