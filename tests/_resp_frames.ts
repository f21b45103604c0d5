/**
 * RESP2 and RESP3 replies for tests: a framer that finds where one reply
 * ends in a byte buffer (every type Redis 7 can send, nested, with
 * attributes, streamed strings and aggregates), the decoded value for
 * readable diffs, and escaping of raw bytes for messages.
 *
 * Used by the differential harness (tests/_differential.ts); it has no
 * server-side counterpart, so a bug in kvdb's encoder cannot hide here.
 *
 * ```ts
 * import { parseFrame, describeValue } from "./_resp_frames.ts";
 * const bytes = new TextEncoder().encode("%1\r\n+a\r\n:1\r\n");
 * const frame = parseFrame(bytes, 0)!; // undefined while incomplete
 * describeValue(frame.value); // '{a => (integer) 1}'
 * ```
 *
 * @module
 */

/** Nesting deeper than this is refused (a limit, so bad bytes cannot recurse without bound). */
export const MAX_NESTING_DEPTH = 64;
/** Longest bulk string or aggregate count accepted (Redis's own bulk limit is 512 MB). */
export const MAX_LENGTH = 512 * 1024 * 1024;
/** Longest header line (`+...`, `-...`, `:...`) searched for its CRLF before giving up. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** Map entries: key and value pairs, in wire order. */
export type RespEntries = [RespValue, RespValue][];

/**
 * A decoded reply. Strings are binary strings (one char per byte). `wire`
 * on nulls keeps which null it was (`$-1`, `*-1`, `_`): they read the same
 * but are different bytes. `attributes` holds a RESP3 `|` map sent before
 * the value.
 */
export type RespValue =
  & (
    | { type: "simple"; text: string }
    | { type: "error"; text: string; blob: boolean }
    | { type: "integer"; value: bigint }
    | { type: "bulk"; value: string }
    | { type: "verbatim"; format: string; value: string }
    | { type: "null"; wire: "$-1" | "*-1" | "_" }
    | { type: "double"; text: string }
    | { type: "boolean"; value: boolean }
    | { type: "bignum"; text: string }
    | { type: "array" | "set" | "push"; items: RespValue[] }
    | { type: "map"; entries: RespEntries }
  )
  & { attributes?: RespEntries };

/** Bytes that are not a RESP reply. */
export class RespFramingError extends Error {
  override name = "RespFramingError";
}

/** A complete reply found in a buffer: its value, the offset after it, whether it is a push. */
export interface ParsedFrame {
  value: RespValue;
  end: number;
  push: boolean;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Parses the reply starting at `start`: undefined while `bytes` does not
 * hold all of it yet; throws {@link RespFramingError} on bytes that can
 * never become a reply.
 */
export function parseFrame(bytes: Uint8Array, start: number): ParsedFrame | undefined {
  const parsed = parseAt(bytes, start, 0);
  if (parsed === undefined) return undefined;
  return { value: parsed.value, end: parsed.end, push: parsed.value.type === "push" };
}

interface At {
  value: RespValue;
  end: number;
}

/** The header line after the type byte at `start` and the offset after its CRLF. */
function line(bytes: Uint8Array, start: number): { text: string; next: number } | undefined {
  const limit = Math.min(bytes.length, start + MAX_LINE_BYTES);
  for (let i = start + 1; i < limit; i++) {
    if (bytes[i] !== LF) continue;
    if (bytes[i - 1] !== CR) {
      throw new RespFramingError(
        `bare LF in reply line: ${escapeBytes(bytes.subarray(start, i + 1))}`,
      );
    }
    return { text: binaryString(bytes.subarray(start + 1, i - 1)), next: i + 1 };
  }
  if (limit < bytes.length || bytes.length - start >= MAX_LINE_BYTES) {
    throw new RespFramingError(`reply line longer than ${MAX_LINE_BYTES} bytes`);
  }
  return undefined;
}

function length(text: string, what: string, allowMinusOne: boolean): number {
  if (!/^-?\d+$/.test(text)) {
    throw new RespFramingError(`bad ${what} length ${JSON.stringify(text)}`);
  }
  const n = Number(text);
  if (n === -1 && allowMinusOne) return n;
  if (n < 0 || n > MAX_LENGTH) throw new RespFramingError(`${what} length ${text} out of range`);
  return n;
}

/** `count` bytes after a header plus their CRLF; undefined while incomplete. */
function blob(
  bytes: Uint8Array,
  at: number,
  count: number,
): { data: string; end: number } | undefined {
  if (bytes.length < at + count + 2) return undefined;
  if (bytes[at + count] !== CR || bytes[at + count + 1] !== LF) {
    throw new RespFramingError(`string of ${count} bytes not followed by CRLF`);
  }
  return { data: binaryString(bytes.subarray(at, at + count)), end: at + count + 2 };
}

function parseAt(bytes: Uint8Array, start: number, depth: number): At | undefined {
  if (depth > MAX_NESTING_DEPTH) {
    throw new RespFramingError(`replies nested deeper than ${MAX_NESTING_DEPTH}`);
  }
  if (start >= bytes.length) return undefined;
  const type = String.fromCharCode(bytes[start]);
  const head = line(bytes, start);
  if (head === undefined) return undefined;
  const { text, next } = head;
  switch (type) {
    case "+":
      return { value: { type: "simple", text }, end: next };
    case "-":
      return { value: { type: "error", text, blob: false }, end: next };
    case ":":
      if (!/^[-+]?\d+$/.test(text)) throw new RespFramingError(`bad integer :${text}`);
      return { value: { type: "integer", value: BigInt(text) }, end: next };
    case "(":
      if (!/^[-+]?\d+$/.test(text)) throw new RespFramingError(`bad big number (${text}`);
      return { value: { type: "bignum", text }, end: next };
    case ",":
      if (!/^([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|[-+]?inf|nan)$/.test(text)) {
        throw new RespFramingError(`bad double ,${text}`);
      }
      return { value: { type: "double", text }, end: next };
    case "#":
      if (text !== "t" && text !== "f") throw new RespFramingError(`bad boolean #${text}`);
      return { value: { type: "boolean", value: text === "t" }, end: next };
    case "_":
      if (text !== "") throw new RespFramingError(`bad null _${text}`);
      return { value: { type: "null", wire: "_" }, end: next };
    case "$": {
      if (text === "?") return streamedString(bytes, next);
      const n = length(text, "bulk", true);
      if (n === -1) return { value: { type: "null", wire: "$-1" }, end: next };
      const b = blob(bytes, next, n);
      return b && { value: { type: "bulk", value: b.data }, end: b.end };
    }
    case "!": {
      const b = blob(bytes, next, length(text, "blob error", false));
      return b && { value: { type: "error", text: b.data, blob: true }, end: b.end };
    }
    case "=": {
      const b = blob(bytes, next, length(text, "verbatim", false));
      if (b === undefined) return undefined;
      if (b.data.length < 4 || b.data[3] !== ":") {
        throw new RespFramingError(
          `verbatim string without a 3-byte format: ${JSON.stringify(b.data)}`,
        );
      }
      return {
        value: { type: "verbatim", format: b.data.slice(0, 3), value: b.data.slice(4) },
        end: b.end,
      };
    }
    case "*":
    case "~":
    case ">": {
      const kind = type === "*" ? "array" : type === "~" ? "set" : "push";
      if (text === "?") return streamedItems(bytes, next, depth, kind);
      const n = length(text, kind, type === "*");
      if (n === -1) return { value: { type: "null", wire: "*-1" }, end: next };
      const items = readItems(bytes, next, n, depth);
      return items && { value: { type: kind, items: items.values }, end: items.end };
    }
    case "%":
    case "|": {
      if (text === "?" && type === "%") return streamedItems(bytes, next, depth, "map");
      const n = length(text, type === "%" ? "map" : "attribute", false);
      const flat = readItems(bytes, next, n * 2, depth);
      if (flat === undefined) return undefined;
      const entries = pairs(flat.values);
      if (type === "%") return { value: { type: "map", entries }, end: flat.end };
      // An attribute describes the reply that follows it; they are one frame.
      const described = parseAt(bytes, flat.end, depth + 1);
      if (described === undefined) return undefined;
      if (described.value.attributes) throw new RespFramingError("two attributes in a row");
      return { value: { ...described.value, attributes: entries }, end: described.end };
    }
    default:
      throw new RespFramingError(
        `not a reply type byte: ${escapeBytes(bytes.subarray(start, Math.min(next, start + 40)))}`,
      );
  }
}

function readItems(
  bytes: Uint8Array,
  at: number,
  count: number,
  depth: number,
): { values: RespValue[]; end: number } | undefined {
  const values: RespValue[] = [];
  for (let i = 0; i < count; i++) {
    const item = parseAt(bytes, at, depth + 1);
    if (item === undefined) return undefined;
    values.push(item.value);
    at = item.end;
  }
  return { values, end: at };
}

function pairs(flat: RespValue[]): RespEntries {
  const entries: RespEntries = [];
  for (let i = 0; i < flat.length; i += 2) entries.push([flat[i], flat[i + 1]]);
  return entries;
}

/** `$?`: `;n` chunks until `;0`. */
function streamedString(bytes: Uint8Array, at: number): At | undefined {
  let data = "";
  while (true) {
    if (at >= bytes.length) return undefined;
    if (bytes[at] !== 0x3b) throw new RespFramingError("streamed string chunk without ';'");
    const head = line(bytes, at);
    if (head === undefined) return undefined;
    const n = length(head.text, "chunk", false);
    if (n === 0) return { value: { type: "bulk", value: data }, end: head.next };
    const b = blob(bytes, head.next, n);
    if (b === undefined) return undefined;
    data += b.data;
    if (data.length > MAX_LENGTH) throw new RespFramingError("streamed string too long");
    at = b.end;
  }
}

/** `*?`, `~?`, `>?`, `%?`: items until `.`. */
function streamedItems(
  bytes: Uint8Array,
  at: number,
  depth: number,
  kind: "array" | "set" | "push" | "map",
): At | undefined {
  const values: RespValue[] = [];
  while (true) {
    if (at + 2 < bytes.length && bytes[at] === 0x2e && bytes[at + 1] === CR) {
      if (bytes[at + 2] !== LF) throw new RespFramingError("bad streamed aggregate end");
      if (kind === "map") {
        if (values.length % 2 !== 0) throw new RespFramingError("streamed map with a lone key");
        return { value: { type: "map", entries: pairs(values) }, end: at + 3 };
      }
      return { value: { type: kind, items: values }, end: at + 3 };
    }
    if (at + 2 >= bytes.length && bytes[at] === 0x2e) return undefined;
    const item = parseAt(bytes, at, depth + 1);
    if (item === undefined) return undefined;
    values.push(item.value);
    if (values.length > MAX_LENGTH) throw new RespFramingError("streamed aggregate too long");
    at = item.end;
  }
}

/** A binary string holding `bytes` (one char per byte), built in chunks. */
export function binaryString(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

/** The bytes of a binary string; throws on a char above 0xff. */
export function binaryBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) {
      throw new RangeError(`char U+${c.toString(16)} at ${i} is not a byte; pass UTF-8 as bytes`);
    }
    out[i] = c;
  }
  return out;
}

/**
 * `bytes` (or a binary string) in double quotes with `\r`, `\n`, `\t`,
 * `\\`, `\"` and `\xHH` escapes, cut after `maxBytes` with a note of how
 * many bytes were left out.
 */
export function escapeBytes(bytes: Uint8Array | string, maxBytes = 400): string {
  const s = typeof bytes === "string" ? bytes : binaryString(bytes);
  let out = '"';
  const n = Math.min(s.length, maxBytes);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0d) out += "\\r";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x22) out += '\\"';
    else if (c >= 0x20 && c < 0x7f) out += s[i];
    else out += "\\x" + c.toString(16).padStart(2, "0");
  }
  out += '"';
  if (s.length > n) out += ` (+${s.length - n} more bytes)`;
  return out;
}

/**
 * A one-line, redis-cli-like rendering of a decoded reply: `(integer) 1`,
 * `(nil)`, `"bulk"`, `[a, b]`, `{k => v}`, `~{set}`, `>[push]`; long
 * strings and aggregates are cut.
 */
export function describeValue(v: RespValue, maxItems = 20): string {
  const attrs = v.attributes ? `|{${describeEntries(v.attributes, maxItems)}} ` : "";
  return attrs + describeBare(v, maxItems);
}

function describeEntries(entries: RespEntries, maxItems: number): string {
  const shown = entries.slice(0, maxItems).map(([k, val]) =>
    `${describeValue(k, maxItems)} => ${describeValue(val, maxItems)}`
  );
  if (entries.length > maxItems) shown.push(`... ${entries.length - maxItems} more`);
  return shown.join(", ");
}

function describeBare(v: RespValue, maxItems: number): string {
  switch (v.type) {
    case "simple":
      return v.text;
    case "error":
      return `(error${v.blob ? " blob" : ""}) ${v.text}`;
    case "integer":
      return `(integer) ${v.value}`;
    case "bulk":
      return escapeBytes(v.value, 200);
    case "verbatim":
      return `(verbatim ${v.format}) ${escapeBytes(v.value, 200)}`;
    case "null":
      return `(nil ${v.wire})`;
    case "double":
      return `(double) ${v.text}`;
    case "boolean":
      return v.value ? "(true)" : "(false)";
    case "bignum":
      return `(big number) ${v.text}`;
    case "map":
      return `{${describeEntries(v.entries, maxItems)}}`;
    case "array":
    case "set":
    case "push": {
      const shown = v.items.slice(0, maxItems).map((i) => describeValue(i, maxItems));
      if (v.items.length > maxItems) shown.push(`... ${v.items.length - maxItems} more`);
      const [open, close] = v.type === "array"
        ? ["[", "]"]
        : v.type === "set"
        ? ["~{", "}"]
        : [">[", "]"];
      return open + shown.join(", ") + close;
    }
  }
}

/** Encodes one command as a RESP array of bulk strings (strings are binary strings). */
export function encodeCommand(args: readonly (string | Uint8Array)[]): Uint8Array {
  const parts = args.map((a) => typeof a === "string" ? binaryBytes(a) : a);
  const heads = parts.map((p) => binaryBytes(`$${p.length}\r\n`));
  const first = binaryBytes(`*${parts.length}\r\n`);
  let size = first.length;
  for (let i = 0; i < parts.length; i++) size += heads[i].length + parts[i].length + 2;
  const out = new Uint8Array(size);
  out.set(first);
  let at = first.length;
  for (let i = 0; i < parts.length; i++) {
    out.set(heads[i], at);
    at += heads[i].length;
    out.set(parts[i], at);
    at += parts[i].length;
    out[at++] = CR;
    out[at++] = LF;
  }
  return out;
}
