/**
 * Splitting of inline commands on a RESP connection, exactly as Redis's
 * `sdssplitargs` does it (redis-server 7.0.15):
 *
 * - Blanks between arguments are C's `isspace`: space, `\t`, `\n`, `\v`,
 *   `\f`, `\r`. Inside an unquoted argument only space, `\t`, `\n`, `\r` end
 *   it (`\v` and `\f` are kept).
 * - A `"` or `'` anywhere in an unquoted argument opens a quoted part of
 *   that argument (`a"b c"` is `ab c`).
 * - In double quotes: `\xHH` (two hex digits) is that byte; `\n`, `\r`,
 *   `\t`, `\b`, `\a` their control bytes; `\` before anything else is that
 *   char. In single quotes only `\'` is an escape.
 * - A closing quote must be followed by a blank or the end of the line;
 *   otherwise, or if a quote is never closed, the line is refused (Redis:
 *   `Protocol error: unbalanced quotes in request`).
 *
 * The line never holds a NUL here: Redis looks for the end of an inline
 * line with `strchr`, which stops at NUL, so the decoder treats a NUL before
 * the newline as "no newline yet" (see resp_decoder.ts).
 *
 * Linear in the line's length: argument bytes are gathered in a buffer and
 * decoded once.
 *
 * @example
 * ```ts
 * const line = new TextEncoder().encode(`SET k "a b"`);
 * splitInlineArguments(line, 0, line.length); // ["SET", "k", "a b"]
 * ```
 * @module
 */

import { bytesToBinary } from "../bytes/binary_string.ts";

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;

/** C's isspace in the C locale: space, and \t \n \v \f \r (0x09-0x0d). */
function isSpace(c: number): boolean {
  return c === SPACE || (c >= TAB && c <= CR);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function escaped(c: number): number {
  switch (c) {
    case 0x6e:
      return LF;
    case 0x72:
      return CR;
    case 0x74:
      return TAB;
    case 0x62:
      return 0x08;
    case 0x61:
      return 0x07;
    default:
      return c;
  }
}

/** Argument bytes of short lines are gathered here. */
const SCRATCH_BYTES = 4096;
const scratch = new Uint8Array(SCRATCH_BYTES);

/**
 * Splits `bytes[start, end)` (an inline line without its `\n` and the `\r`
 * before it) into binary-string arguments; undefined if the quotes are
 * unbalanced.
 *
 * @example
 * ```ts
 * const line = new TextEncoder().encode(`ECHO "a`);
 * splitInlineArguments(line, 0, line.length); // undefined
 * ```
 */
export function splitInlineArguments(
  bytes: Uint8Array,
  start: number,
  end: number,
): string[] | undefined {
  const args: string[] = [];
  // An argument is never longer than the line.
  const out = end - start <= SCRATCH_BYTES ? scratch : new Uint8Array(end - start);
  let p = start;
  while (true) {
    while (p < end && isSpace(bytes[p])) p++;
    if (p >= end) return args;
    let n = 0;
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      const c = p < end ? bytes[p] : 0;
      if (inDouble) {
        if (
          c === BACKSLASH && p + 3 < end && bytes[p + 1] === 0x78 &&
          hexValue(bytes[p + 2]) >= 0 && hexValue(bytes[p + 3]) >= 0
        ) {
          out[n++] = hexValue(bytes[p + 2]) * 16 + hexValue(bytes[p + 3]);
          p += 3;
        } else if (c === BACKSLASH && p + 1 < end) {
          p++;
          out[n++] = escaped(bytes[p]);
        } else if (c === DQUOTE) {
          if (p + 1 < end && !isSpace(bytes[p + 1])) return undefined;
          done = true;
        } else if (p >= end) {
          return undefined;
        } else {
          out[n++] = c;
        }
      } else if (inSingle) {
        if (c === BACKSLASH && p + 1 < end && bytes[p + 1] === SQUOTE) {
          p++;
          out[n++] = SQUOTE;
        } else if (c === SQUOTE) {
          if (p + 1 < end && !isSpace(bytes[p + 1])) return undefined;
          done = true;
        } else if (p >= end) {
          return undefined;
        } else {
          out[n++] = c;
        }
      } else if (p >= end || c === SPACE || c === LF || c === CR || c === TAB) {
        done = true;
      } else if (c === DQUOTE) {
        inDouble = true;
      } else if (c === SQUOTE) {
        inSingle = true;
      } else {
        out[n++] = c;
      }
      if (p < end) p++;
    }
    args.push(bytesToBinary(out, 0, n));
  }
}
