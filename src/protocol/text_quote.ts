/**
 * Quoting for the text protocol, as `redis-cli` writes strings: a value that
 * would not read back as itself is put in double quotes with backslash
 * escapes (`\"`, `\\`, `\n`, `\r`, `\t`, `\a`, `\b`, `\xHH`).
 *
 * @example
 * ```ts
 * renderTextValue("John"); // "John"
 * renderTextValue("hello world "); // "\"hello world \""
 * quoteBinary("a\x00"); // "\"a\\x00\""
 * ```
 * @module
 */

const HEX = "0123456789abcdef";

function isPlain(code: number): boolean {
  return code > 0x20 && code < 0x7f && code !== 0x22 && code !== 0x5c &&
    code !== 0x27;
}

/**
 * Whether a binary string must be quoted to read back as itself as one
 * request argument or to be shown unambiguously as a reply value: empty,
 * a non-printable byte, a blank at either end, a leading quote, or a leading
 * `ERROR:`, `(` or `[` (which a reader would take for an error, nil or an
 * array).
 *
 * @example
 * ```ts
 * needsQuotes("a b"); // false (blanks inside are fine for display)
 * needsQuotes(" a"); // true
 * ```
 */
export function needsQuotes(s: string): boolean {
  if (s.length === 0) return true;
  const first = s.charCodeAt(0);
  if (first === 0x22 || first === 0x27) return true;
  if (s.charCodeAt(0) === 0x20 || s.charCodeAt(s.length - 1) === 0x20) return true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return true;
  }
  // Shown bare, these would read as an error reply, nil or an array.
  return s.startsWith("ERROR:") || first === 0x28 || first === 0x5b;
}

/**
 * Always quotes a binary string with escapes.
 *
 * @example
 * ```ts
 * quoteBinary('say "hi"\n'); // "\"say \\\"hi\\\"\\n\""
 * ```
 */
export function quoteBinary(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += "\\\\";
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x07:
        out += "\\a";
        break;
      case 0x08:
        out += "\\b";
        break;
      default:
        out += c >= 0x20 && c < 0x7f ? s[i] : "\\x" + HEX[c >> 4] + HEX[c & 15];
    }
  }
  return out + '"';
}

/**
 * How a value appears in a text-protocol reply: as itself when that is
 * unambiguous, otherwise quoted.
 *
 * @example
 * ```ts
 * renderTextValue(""); // "\"\""
 * ```
 */
export function renderTextValue(s: string): string {
  return needsQuotes(s) ? quoteBinary(s) : s;
}

/**
 * How an argument must be written in a request line so the server reads it
 * back exactly: plain when it has only printable, non-blank, non-quote
 * bytes, quoted otherwise.
 *
 * @example
 * ```ts
 * renderTextArgument("hello world"); // "\"hello world\""
 * ```
 */
export function renderTextArgument(s: string): string {
  if (s.length === 0) return '""';
  const first = s.charCodeAt(0);
  // In an array line these would read as nil or a nested array.
  if (first === 0x28 || first === 0x5b) return quoteBinary(s);
  for (let i = 0; i < s.length; i++) {
    if (!isPlain(s.charCodeAt(i))) return quoteBinary(s);
  }
  return s;
}
