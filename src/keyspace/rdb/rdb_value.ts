/**
 * One value in Redis 7.0's RDB object format, as DUMP carries it: the
 * type byte and the body, over plain arrays (the types glue to it in
 * `dump_payload.ts`).
 *
 * | type | what | body |
 * |---|---|---|
 * | 0 | string | a string |
 * | 1 | list (old) | count, elements |
 * | 2 | set (hashtable) | count, members |
 * | 3 | zset (old) | count, member + text double |
 * | 4 | hash (hashtable) | count, field + value |
 * | 5 | zset2 (skiplist) | count, member + binary double, highest score first |
 * | 11 | set intset | a string: the intset (`intset.ts`) |
 * | 16 | hash listpack | a string: the listpack of field, value, ... |
 * | 17 | zset listpack | a string: the listpack of member, score, ... by rank |
 * | 18 | list quicklist2 | node count, then per node: 2 (packed) + listpack string, or 1 (plain) + element |
 * | 19 | stream listpacks 2 | nodes (ID + listpack), counters, groups: see `types/stream/stream_rdb.ts` |
 *
 * Older ziplist and zipmap types (9, 10, 12, 13, 14) are refused as "Bad
 * data format": Redis 7.0 never writes them.
 *
 * @example
 * ```ts
 * const body = encodeRdbValue({ kind: "set", members: ["1", "2"] }, -2);
 * decodeRdbValue(body); // { kind: "set", members: ["1", "2"] }
 * ```
 * @module
 */

import { formatDouble } from "../../protocol/double_format.ts";
import { ByteWriter } from "./byte_writer.ts";
import { canonicalInt64 } from "./int_string.ts";
import { decodeIntset, encodeIntset } from "./intset.ts";
import { decodeListpack, encodeListpack, listpackEntryBytes } from "./listpack.ts";
import { RdbReader, writeRdbLength, writeRdbString } from "./rdb_string.ts";
import { sortScore } from "../_sort_engine.ts";
import type { StreamValue } from "../../types/stream/stream.ts";
import {
  RDB_TYPE_STREAM_LISTPACKS_2,
  readStreamRdb,
  writeStreamRdb,
} from "../../types/stream/stream_rdb.ts";

/** RDB object types (Redis's rdb.h). */
export const RDB_TYPE = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  SET_INTSET: 11,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: RDB_TYPE_STREAM_LISTPACKS_2,
} as const;

/**
 * A value as plain arrays. `compact` asks for the small encoding (listpack
 * or intset) when writing; reading sets it from the type found.
 */
export type RdbValue =
  | { kind: "string"; value: string }
  | { kind: "hash"; pairs: [string, string][]; compact?: boolean }
  | { kind: "list"; items: string[] }
  | { kind: "set"; members: string[]; compact?: boolean }
  /** Entries by rank (ascending score, then member). */
  | { kind: "zset"; entries: [string, number][]; compact?: boolean }
  /** A stream is read and written by its own module (`types/stream/stream_rdb.ts`). */
  | { kind: "stream"; stream: StreamValue };

/** A quicklist node's size limit for list-max-listpack-size -1..-5. */
const NODE_BYTES = [4096, 8192, 16384, 32768, 65536];
/** Redis's per-entry overestimate when deciding if a node takes one more. */
const SIZE_ESTIMATE_OVERHEAD = 8;
/** A node of a positive fill never grows past this many bytes (SIZE_SAFETY_LIMIT). */
const SIZE_SAFETY_LIMIT = 8192;
const CONTAINER_PLAIN = 1;
const CONTAINER_PACKED = 2;

/**
 * A list's elements as quicklist nodes filled as RPUSH fills them with
 * `fill` (list-max-listpack-size).
 */
function quicklistNodes(items: readonly string[], fill: number): string[][] {
  const nodes: string[][] = [];
  let node: string[] | undefined;
  let nodeBytes = 0;
  const limit = fill >= 0
    ? SIZE_SAFETY_LIMIT
    : NODE_BYTES[Math.min(-fill - 1, NODE_BYTES.length - 1)];
  for (const item of items) {
    const newBytes = nodeBytes + item.length + SIZE_ESTIMATE_OVERHEAD;
    const fits = node !== undefined && newBytes <= limit &&
      (fill < 0 || node.length + 1 <= fill);
    if (!fits) {
      node = [];
      nodes.push(node);
      nodeBytes = 7; // an empty listpack: header and end byte
    }
    node!.push(item);
    nodeBytes += listpackEntryBytes(item);
  }
  return nodes;
}

/** A zset score as Redis's d2string writes it into a listpack. */
export function listpackScore(score: number): string {
  if (score === 0) return Object.is(score, -0) ? "-0" : "0";
  if (score > -4503599627370495 && score < 4503599627370496 && Number.isInteger(score)) {
    return String(score);
  }
  return formatDouble(score);
}

/**
 * A value's RDB type byte and body. `listFill` is list-max-listpack-size
 * (how a list is cut into nodes).
 *
 * @example
 * ```ts
 * encodeRdbValue({ kind: "hash", pairs: [["f", "v"]], compact: true }, -2)[0]; // 16
 * ```
 */
export function encodeRdbValue(value: RdbValue, listFill: number): Uint8Array {
  const out = new ByteWriter();
  switch (value.kind) {
    case "string":
      out.u8(RDB_TYPE.STRING);
      writeRdbString(out, value.value);
      break;
    case "hash":
      if (value.compact) {
        out.u8(RDB_TYPE.HASH_LISTPACK);
        writeRdbString(out, encodeListpack(value.pairs.flat()));
      } else {
        out.u8(RDB_TYPE.HASH);
        writeRdbLength(out, value.pairs.length);
        for (const [field, v] of value.pairs) {
          writeRdbString(out, field);
          writeRdbString(out, v);
        }
      }
      break;
    case "set":
      if (value.compact) {
        out.u8(RDB_TYPE.SET_INTSET);
        writeRdbString(out, encodeIntset(value.members.map((m) => BigInt(m))));
      } else {
        out.u8(RDB_TYPE.SET);
        writeRdbLength(out, value.members.length);
        for (const member of value.members) writeRdbString(out, member);
      }
      break;
    case "zset":
      if (value.compact) {
        out.u8(RDB_TYPE.ZSET_LISTPACK);
        const flat: string[] = [];
        for (const [member, score] of value.entries) flat.push(member, listpackScore(score));
        writeRdbString(out, encodeListpack(flat));
      } else {
        out.u8(RDB_TYPE.ZSET_2);
        writeRdbLength(out, value.entries.length);
        // Highest first, as Redis saves its skiplist from the tail.
        for (let i = value.entries.length - 1; i >= 0; i--) {
          writeRdbString(out, value.entries[i][0]);
          out.f64le(value.entries[i][1]);
        }
      }
      break;
    case "stream":
      out.u8(RDB_TYPE.STREAM_LISTPACKS_2);
      writeStreamRdb(out, value.stream);
      break;
    case "list": {
      out.u8(RDB_TYPE.LIST_QUICKLIST_2);
      const nodes = quicklistNodes(value.items, listFill);
      writeRdbLength(out, nodes.length);
      for (const node of nodes) {
        writeRdbLength(out, CONTAINER_PACKED);
        writeRdbString(out, encodeListpack(node));
      }
      break;
    }
  }
  return out.finish();
}

/** Whether `items` has a repeated element. */
function hasDuplicates(items: readonly string[]): boolean {
  return new Set(items).size !== items.length;
}

/** A listpack score entry as Redis reads it (an integer, or text by strtod). */
function readScore(text: string): number | undefined {
  if (canonicalInt64(text) !== undefined) return Number(text);
  const v = sortScore(text);
  return v === undefined || Number.isNaN(v) ? undefined : v;
}

/** Pairs from a flat [a, b, a, b...] list; undefined for an odd count. */
function pairsOf(flat: readonly string[]): [string, string][] | undefined {
  if (flat.length % 2 !== 0) return undefined;
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

/**
 * Decodes one value (type byte and body) from `reader`, or undefined for
 * what Redis would call "Bad data format": an unknown type, malformed
 * bytes, an empty collection, duplicate fields or members, a NaN score.
 *
 * @example
 * ```ts
 * decodeRdbValue(new RdbReader(new Uint8Array([0, 1, 97]))); // { kind: "string", value: "a" }
 * ```
 */
export function decodeRdbValue(reader: RdbReader): RdbValue | undefined {
  const type = reader.byte();
  switch (type) {
    case RDB_TYPE.STRING: {
      const value = reader.string();
      return value === undefined ? undefined : { kind: "string", value };
    }
    case RDB_TYPE.LIST:
    case RDB_TYPE.SET: {
      const items = readStrings(reader);
      if (items === undefined || items.length === 0) return undefined;
      if (type === RDB_TYPE.LIST) return { kind: "list", items };
      return hasDuplicates(items) ? undefined : { kind: "set", members: items, compact: false };
    }
    case RDB_TYPE.HASH: {
      const count = reader.length();
      if (count === undefined || count === 0) return undefined;
      const pairs: [string, string][] = [];
      for (let i = 0; i < count; i++) {
        const field = reader.string();
        const value = reader.string();
        if (field === undefined || value === undefined) return undefined;
        pairs.push([field, value]);
      }
      if (hasDuplicates(pairs.map(([f]) => f))) return undefined;
      return { kind: "hash", pairs, compact: false };
    }
    case RDB_TYPE.ZSET:
    case RDB_TYPE.ZSET_2: {
      const count = reader.length();
      if (count === undefined || count === 0) return undefined;
      const entries: [string, number][] = [];
      for (let i = 0; i < count; i++) {
        const member = reader.string();
        const score = type === RDB_TYPE.ZSET ? reader.textDouble() : reader.binaryDouble();
        if (member === undefined || score === undefined || Number.isNaN(score)) return undefined;
        entries.push([member, score]);
      }
      if (hasDuplicates(entries.map(([m]) => m))) return undefined;
      return { kind: "zset", entries: sortByRank(entries), compact: false };
    }
    case RDB_TYPE.SET_INTSET: {
      const blob = reader.stringBytes();
      const values = blob === undefined ? undefined : decodeIntset(blob);
      if (values === undefined || values.length === 0) return undefined;
      return { kind: "set", members: values.map(String), compact: true };
    }
    case RDB_TYPE.HASH_LISTPACK: {
      const blob = reader.stringBytes();
      const flat = blob === undefined ? undefined : decodeListpack(blob);
      const pairs = flat === undefined ? undefined : pairsOf(flat);
      if (pairs === undefined || pairs.length === 0) return undefined;
      if (hasDuplicates(pairs.map(([f]) => f))) return undefined;
      return { kind: "hash", pairs, compact: true };
    }
    case RDB_TYPE.ZSET_LISTPACK: {
      const blob = reader.stringBytes();
      const flat = blob === undefined ? undefined : decodeListpack(blob);
      const pairs = flat === undefined ? undefined : pairsOf(flat);
      if (pairs === undefined || pairs.length === 0) return undefined;
      const entries: [string, number][] = [];
      for (const [member, text] of pairs) {
        const score = readScore(text);
        if (score === undefined) return undefined;
        entries.push([member, score]);
      }
      if (hasDuplicates(entries.map(([m]) => m))) return undefined;
      return { kind: "zset", entries: sortByRank(entries), compact: true };
    }
    case RDB_TYPE.LIST_QUICKLIST_2: {
      const nodes = reader.length();
      if (nodes === undefined || nodes === 0) return undefined;
      const items: string[] = [];
      for (let i = 0; i < nodes; i++) {
        const container = reader.length();
        if (container === CONTAINER_PLAIN) {
          const element = reader.string();
          if (element === undefined) return undefined;
          items.push(element);
        } else if (container === CONTAINER_PACKED) {
          const blob = reader.stringBytes();
          const node = blob === undefined ? undefined : decodeListpack(blob);
          if (node === undefined) return undefined;
          for (const item of node) items.push(item);
        } else {
          return undefined;
        }
      }
      return items.length === 0 ? undefined : { kind: "list", items };
    }
    case RDB_TYPE.STREAM_LISTPACKS_2: {
      const stream = readStreamRdb(reader);
      return stream === undefined ? undefined : { kind: "stream", stream };
    }
    default:
      return undefined;
  }
}

function readStrings(reader: RdbReader): string[] | undefined {
  const count = reader.length();
  if (count === undefined) return undefined;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const s = reader.string();
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}

/** Sorted-set order: by score, then by member's bytes. */
function sortByRank(entries: [string, number][]): [string, number][] {
  return entries.sort((a, b) =>
    a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
  );
}
