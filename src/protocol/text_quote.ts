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

import type { ByteSource } from "./out_buffer.ts";

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

/** The char (byte) codes of a binary string or of bytes, read alike. */
type ByteText = string | Uint8Array;

function codeAt(text: ByteText, i: number): number {
  return typeof text === "string" ? text.charCodeAt(i) : text[i];
}

/**
 * {@link needsQuotes} for a binary string or bytes (`"ERROR:"` is ASCII,
 * so both read it alike).
 *
 * @example
 * ```ts
 * needsQuotesIn(new Uint8Array([0x61, 0x00])); // true
 * ```
 */
export function needsQuotesIn(text: ByteText): boolean {
  if (typeof text === "string") return needsQuotes(text);
  if (text.length === 0) return true;
  const first = text[0];
  if (first === 0x22 || first === 0x27 || first === 0x20) return true;
  if (text[text.length - 1] === 0x20) return true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c < 0x20 || c > 0x7e) return true;
  }
  if (first === 0x28 || first === 0x5b) return true;
  const prefix = "ERROR:";
  if (text.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (text[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/**
 * Whether {@link renderTextArgument} would quote this binary string or
 * these bytes.
 *
 * @example
 * ```ts
 * argumentNeedsQuotes("a b"); // true
 * ```
 */
export function argumentNeedsQuotes(text: ByteText): boolean {
  if (text.length === 0) return true;
  const first = codeAt(text, 0);
  if (first === 0x28 || first === 0x5b) return true;
  for (let i = 0; i < text.length; i++) {
    if (!isPlain(codeAt(text, i))) return true;
  }
  return false;
}

/** For each byte: the letter of its backslash escape, or 0 (none). */
const ESCAPE_LETTER = new Uint8Array(256);
for (
  const [code, letter] of [[0x22, 0x22], [0x5c, 0x5c], [0x0a, 0x6e], [0x0d, 0x72], [0x09, 0x74], [
    0x07,
    0x61,
  ], [0x08, 0x62]]
) {
  ESCAPE_LETTER[code] = letter;
}
/** For each byte: how many bytes {@link quoteBinary} writes for it. */
const QUOTED_WIDTH = new Uint8Array(256).map((_, c) =>
  ESCAPE_LETTER[c] !== 0 ? 2 : c >= 0x20 && c < 0x7f ? 1 : 4
);
const HEX_CODES = new Uint8Array([...HEX].map((c) => c.charCodeAt(0)));

/** Writes the quoted form of byte `c` at `at`; returns the offset after it. */
function writeQuoted(c: number, chunk: Uint8Array, at: number): number {
  const letter = ESCAPE_LETTER[c];
  if (letter !== 0) {
    chunk[at] = 0x5c;
    chunk[at + 1] = letter;
    return at + 2;
  }
  if (c >= 0x20 && c < 0x7f) {
    chunk[at] = c;
    return at + 1;
  }
  chunk[at] = 0x5c;
  chunk[at + 1] = 0x78; // x
  chunk[at + 2] = HEX_CODES[c >> 4];
  chunk[at + 3] = HEX_CODES[c & 15];
  return at + 4;
}

/**
 * The bytes of {@link quoteBinary}'s rendering of a large binary string or
 * byte array, made in chunks as they are sent: linear time, and memory of
 * one chunk whatever the size (a quoted copy would be up to 4× the value).
 *
 * @example
 * ```ts
 * const source = quotedSource(new Uint8Array([0x00]));
 * source.byteLength; // 6: "\x00" in quotes
 * ```
 */
export function quotedSource(text: ByteText): ByteSource {
  let byteLength = 2;
  if (typeof text === "string") {
    for (let i = 0; i < text.length; i++) byteLength += QUOTED_WIDTH[text.charCodeAt(i)];
  } else {
    for (let i = 0; i < text.length; i++) byteLength += QUOTED_WIDTH[text[i]];
  }
  return {
    byteLength,
    *chunks(maxBytes: number): Iterable<Uint8Array> {
      // Room for the widest escape, so a chunk never splits one.
      const chunk = new Uint8Array(Math.max(8, Math.min(maxBytes, byteLength)));
      const limit = chunk.length - 4;
      chunk[0] = 0x22;
      let at = 1;
      for (let i = 0; i < text.length;) {
        if (at > limit) {
          yield chunk.subarray(0, at);
          at = 0;
        }
        // A run of bytes up to the chunk's end, without a call per byte.
        const stop = Math.min(text.length, i + ((limit - at) >> 2) + 1);
        if (typeof text === "string") {
          for (; i < stop; i++) at = writeQuoted(text.charCodeAt(i), chunk, at);
        } else {
          for (; i < stop; i++) at = writeQuoted(text[i], chunk, at);
        }
      }
      if (at === chunk.length) {
        yield chunk.subarray(0, at);
        at = 0;
      }
      chunk[at++] = 0x22;
      yield chunk.subarray(0, at);
    },
  };
}
