/**
 * How the differential harness compares a step's frames: exact bytes by
 * default, or a comparator chosen per step or per command name for replies
 * that legitimately differ (order Redis does not define, remaining times,
 * values that are different by nature). There is deliberately no "ignore".
 *
 * ```ts
 * import { frameFromWire, ttlWithin } from "./_diff_compare.ts";
 * ttlWithin(1).equal(frameFromWire(":99\r\n"), frameFromWire(":100\r\n")); // true
 * ttlWithin(1).equal(frameFromWire(":-1\r\n"), frameFromWire(":-2\r\n")); // false
 * ```
 *
 * @module
 */

import type { Frame } from "./_resp_connection.ts";
import { binaryBytes, escapeBytes, parseFrame, type RespValue } from "./_resp_frames.ts";

/**
 * How two frames at the same place of a step are compared. `equal` gets
 * kvdb's (the subject's) frame first and the reference's second.
 */
export interface Comparator {
  /** Shown in reports, e.g. "ttlWithin(1)". */
  readonly name: string;
  equal(subject: Frame, reference: Frame): boolean;
}

/** A {@link Frame} from its wire text (a binary string), e.g. to unit-test a comparator. */
export function frameFromWire(raw: string): Frame {
  const bytes = binaryBytes(raw);
  const parsed = parseFrame(bytes, 0);
  if (parsed === undefined || parsed.end !== bytes.length) {
    throw new Error(`not one frame: ${escapeBytes(raw)}`);
  }
  return { raw: bytes, value: parsed.value, push: parsed.push };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The default: the same bytes. */
export const exact: Comparator = { name: "exact", equal: (a, b) => sameBytes(a.raw, b.raw) };

/** A canonical text for a value, type and all (the wire bytes, decoded once). */
function canonical(v: RespValue): string {
  return JSON.stringify(v, (_k, x) => typeof x === "bigint" ? `${x}n` : x);
}

/**
 * Aggregates (array, set, map, push) compared as multisets of their
 * elements (map entries as key+value pairs): for replies whose order Redis
 * does not define (KEYS, SMEMBERS, HGETALL). The aggregate type must match;
 * other replies (errors, nil) must be exact.
 */
export const unordered: Comparator = {
  name: "unordered",
  equal(a, b) {
    const [x, y] = [a.value, b.value];
    if (x.type !== y.type) return false;
    if (JSON.stringify(x.attributes ?? null) !== JSON.stringify(y.attributes ?? null)) {
      return false;
    }
    const elements = (v: RespValue): string[] | undefined => {
      if (v.type === "array" || v.type === "set" || v.type === "push") {
        return v.items.map(canonical).sort();
      }
      if (v.type === "map") {
        return v.entries.map(([k, val]) => canonical(k) + canonical(val)).sort();
      }
      return undefined;
    };
    const [ex, ey] = [elements(x), elements(y)];
    if (ex === undefined || ey === undefined) return sameBytes(a.raw, b.raw);
    return ex.length === ey.length && ex.every((e, i) => e === ey[i]);
  },
};

/**
 * A SCAN-family reply that answers in one go (a small collection, or few
 * keys): the same cursor, and the elements as a multiset, since Redis's
 * order is its hash table's.
 */
export const scanAll: Comparator = {
  name: "scanAll",
  equal(a, b) {
    const [x, y] = [a.value, b.value];
    if (x.type !== "array" || y.type !== "array" || x.items.length !== 2 || y.items.length !== 2) {
      return sameBytes(a.raw, b.raw);
    }
    return canonical(x.items[0]) === canonical(y.items[0]) &&
      unordered.equal(
        { raw: a.raw, value: x.items[1], push: false },
        { raw: b.raw, value: y.items[1], push: false },
      );
  },
};

/**
 * Remaining-time replies (TTL, PTTL) equal within `tolerance`, as the two
 * servers read their clocks a moment apart; negative codes (-1 no expiry,
 * -2 no key) and anything not an integer must be exact.
 */
export function ttlWithin(tolerance: number): Comparator {
  return {
    name: `ttlWithin(${tolerance})`,
    equal(a, b) {
      if (a.value.type !== "integer" || b.value.type !== "integer") {
        return sameBytes(a.raw, b.raw);
      }
      const [x, y] = [a.value.value, b.value.value];
      if (x < 0n || y < 0n) return x === y;
      const d = x > y ? x - y : y - x;
      return d <= BigInt(tolerance);
    },
  };
}

function shape(v: RespValue): string {
  switch (v.type) {
    case "array":
    case "set":
    case "push":
      return `${v.type}[${v.items.map(shape).join(",")}]`;
    case "map":
      return `map{${v.entries.map(([k, x]) => `${shape(k)}:${shape(x)}`).join(",")}}`;
    case "null":
      return `null(${v.wire})`;
    default:
      return v.type;
  }
}

/**
 * The same types and aggregate sizes, any contents: for replies that are
 * expected to differ in value (TIME, CLIENT ID, a random key).
 */
export const shapeOnly: Comparator = {
  name: "shapeOnly",
  equal: (a, b) => shape(a.value) === shape(b.value),
};

/**
 * Errors compared by their code (the first word: ERR, WRONGTYPE,
 * NOPROTO...); other replies exactly. For messages whose wording is allowed
 * to differ — use sparingly, and say why at the step.
 */
export const errorCode: Comparator = {
  name: "errorCode",
  equal(a, b) {
    if (a.value.type === "error" && b.value.type === "error") {
      return a.value.text.split(" ")[0] === b.value.text.split(" ")[0];
    }
    return sameBytes(a.raw, b.raw);
  },
};

/**
 * Equal when `normalize` maps both frames to the same text: the general
 * hook for replies that differ in a known, irrelevant part.
 *
 * ```ts
 * const noVersion = normalized("noVersion", (f) =>
 *   binaryString(f.raw).replace(/redis_version:\S+/, ""));
 * ```
 */
export function normalized(name: string, normalize: (frame: Frame) => string): Comparator {
  return { name, equal: (a, b) => normalize(a) === normalize(b) };
}

/** The `field:value` lines of an INFO reply (bulk or verbatim), by field. */
export function parseInfo(f: Frame): Map<string, string> {
  const fields = new Map<string, string>();
  const v = f.value;
  const text = v.type === "bulk" || v.type === "verbatim" ? v.value : "";
  for (const line of text.split("\r\n")) {
    const at = line.indexOf(":");
    if (at > 0 && !line.startsWith("#")) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

/**
 * INFO replies compared on the named fields only (present on both sides with
 * the same value, or absent on both); a non-INFO reply must be exact.
 */
export function infoFields(names: readonly string[]): Comparator {
  return {
    name: `infoFields(${names.join(",")})`,
    equal(a, b) {
      const isInfo = (f: Frame) => f.value.type === "bulk" || f.value.type === "verbatim";
      if (!isInfo(a) || !isInfo(b)) return sameBytes(a.raw, b.raw);
      const [x, y] = [parseInfo(a), parseInfo(b)];
      return names.every((n) => x.get(n) === y.get(n));
    },
  };
}

/** The `name=value` fields of each line of a CLIENT LIST or CLIENT INFO reply. */
export function parseClientList(f: Frame): Map<string, string>[] {
  const v = f.value;
  const text = v.type === "bulk" || v.type === "verbatim" ? v.value : "";
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const fields = new Map<string, string>();
    for (const pair of line.trim().split(" ")) {
      const at = pair.indexOf("=");
      if (at > 0) fields.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return fields;
  });
}

/**
 * CLIENT LIST / CLIENT INFO replies compared on the named fields of each
 * line (ids, addresses and ages differ by nature; `name`, `db`, `flags`,
 * `cmd` should not), with the same number of lines; a reply that is not a
 * string must be exact.
 */
export function clientListFields(names: readonly string[]): Comparator {
  return {
    name: `clientListFields(${names.join(",")})`,
    equal(a, b) {
      const isText = (f: Frame) => f.value.type === "bulk" || f.value.type === "verbatim";
      if (!isText(a) || !isText(b)) return sameBytes(a.raw, b.raw);
      const [x, y] = [parseClientList(a), parseClientList(b)];
      return x.length === y.length &&
        x.every((line, i) => names.every((n) => line.get(n) === y[i].get(n)));
    },
  };
}

/**
 * CLIENT LIST / INFO compared on every field that must be Redis's (ids,
 * addresses, ages, buffer sizes and fds differ by nature).
 */
export const CLIENT_LIST_FIELDS: Comparator = clientListFields([
  "name",
  "flags",
  "db",
  "sub",
  "psub",
  "ssub",
  "multi",
  "argv-mem",
  "obl",
  "oll",
  "omem",
  "events",
  "cmd",
  "user",
  "redir",
  "resp",
]);

/**
 * Comparators by command name, upper case: `"TTL"`, or a command and its
 * subcommand: `"CLIENT ID"`. Only named commands are affected.
 */
export type Rules = Readonly<Record<string, Comparator>>;

/**
 * Rules most differential files want: remaining times within a second (or
 * 100 ms for PTTL), KEYS as a multiset. Opt in with `rules: STANDARD_RULES`.
 */
export const STANDARD_RULES: Rules = {
  TTL: ttlWithin(1),
  PTTL: ttlWithin(100),
  KEYS: unordered,
};
