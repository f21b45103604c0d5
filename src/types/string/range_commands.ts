/**
 * String commands over byte ranges: GETRANGE (and its old name SUBSTR),
 * SETRANGE, and LCS. SETRANGE logs the bytes it writes at their offset
 * (`WalOp.SetRange`), like APPEND, so its cost is the bytes written.
 *
 * @example
 * ```ts
 * RANGE_COMMANDS.map((c) => c.name); // ["GETRANGE", "SUBSTR", "SETRANGE", "LCS"]
 * ```
 * @module
 */

import { bytesToBinary } from "../../bytes/binary_string.ts";
import { CommandError, type ReplyWriter } from "../../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  notAnInteger,
  parseInt64,
  syntaxError,
} from "../../executor/command_spec.ts";
import { MAX_VALUE_BYTES } from "../../storage/store.ts";
import type { StoredValue } from "../../storage/engine.ts";
import { checkStringLength, notifyWrite, text } from "./commands.ts";
import { lookupRead, lookupValue } from "../../keyspace/lookup.ts";
import { Collection } from "../collection.ts";

/** A signed 64-bit integer argument (Redis's getLongLongFromObjectOrReply). */
function int64Argument(s: string): bigint {
  const value = parseInt64(s);
  if (value === undefined) throw notAnInteger();
  return value;
}

/** `value[start, end)` as a binary string. */
function slice(value: StoredValue, start: number, end: number): string {
  return typeof value === "string" ? value.slice(start, end) : value.toBinary(start, end);
}

/**
 * Redis's inclusive range `[start, end]` over `length` items, negative
 * indexes counting from the end, clamped; undefined when empty.
 */
export function clampRange(
  startArg: bigint,
  endArg: bigint,
  length: number,
): [number, number] | undefined {
  let start = startArg;
  let end = endArg;
  const total = BigInt(length);
  if (start < 0n && end < 0n && start > end) return undefined;
  if (start < 0n) start += total;
  if (end < 0n) end += total;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= total) end = total - 1n;
  if (start > end || length === 0) return undefined;
  return [Number(start), Number(end)];
}

function getRange(ctx: CommandContext, args: string[]): string {
  const start = int64Argument(args[2]);
  const end = int64Argument(args[3]);
  const value = lookupRead(ctx, args[1]);
  if (value === undefined) return "";
  const range = clampRange(start, end, value.length);
  return range === undefined ? "" : slice(value, range[0], range[1] + 1);
}

/** Largest LCS table Redis builds: 4-byte cells within proto-max-bulk-len. */
const LCS_MAX_TABLE_BYTES = MAX_VALUE_BYTES;

/** The string commands over ranges. */
export const RANGE_COMMANDS: CommandHandler[] = [
  {
    name: "GETRANGE",
    summary: "Returns the bytes of a key's value between two offsets (negative: from the end).",
    run(ctx, args, w) {
      w.bulk(getRange(ctx, args));
    },
  },
  {
    name: "SUBSTR",
    summary: "GETRANGE's old name.",
    run(ctx, args, w) {
      w.bulk(getRange(ctx, args));
    },
  },
  {
    name: "SETRANGE",
    summary: "Overwrites part of a key's value from an offset, growing it with zero bytes.",
    run(ctx, args, w) {
      const offset = int64Argument(args[2]);
      if (offset < 0n) {
        throw new CommandError("ERR", "offset is out of range", "offset is out of range");
      }
      const bytes = args[3];
      const current = ctx.db.get(args[1]);
      if (bytes.length === 0) return w.integer(current?.length ?? 0);
      if (offset > BigInt(MAX_VALUE_BYTES)) checkStringLength(MAX_VALUE_BYTES + 1, 0);
      checkStringLength(Number(offset), bytes.length);
      const length = ctx.db.setRange(args[1], Number(offset), bytes);
      notifyWrite(ctx, current === undefined, "setrange", args[1]);
      w.integer(length);
    },
  },
  {
    name: "LCS",
    summary: "The longest common subsequence of two keys' values: the string, LEN, or IDX ranges.",
    run(ctx, args, w) {
      const a = lookupValue(ctx, args[1]);
      const b = lookupValue(ctx, args[2]);
      if (a instanceof Collection || b instanceof Collection) {
        throw new CommandError(
          "ERR",
          "The specified keys must contain string values",
          "The specified keys must contain string values",
        );
      }
      let getLength = false;
      let getIndexes = false;
      let withMatchLength = false;
      let minMatchLength = 0n;
      for (let i = 3; i < args.length; i++) {
        const option = args[i].toUpperCase();
        const more = args.length - 1 - i;
        if (option === "IDX") getIndexes = true;
        else if (option === "LEN") getLength = true;
        else if (option === "WITHMATCHLEN") withMatchLength = true;
        else if (option === "MINMATCHLEN" && more > 0) {
          minMatchLength = int64Argument(args[++i]);
          if (minMatchLength < 0n) minMatchLength = 0n;
        } else throw syntaxError();
      }
      if (getIndexes && getLength) {
        throw new CommandError(
          "ERR",
          "If you want both the length and indexes, please just use IDX.",
          "LEN and IDX together: use IDX",
        );
      }
      const x = a === undefined ? "" : text(a);
      const y = b === undefined ? "" : text(b);
      if ((x.length + 1) * (y.length + 1) * 4 > LCS_MAX_TABLE_BYTES) {
        throw new CommandError(
          "ERR",
          "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
          "the LCS table would exceed proto-max-bulk-len",
        );
      }
      lcs(x, y, getLength, getIndexes, withMatchLength, Number(minMatchLength), w);
    },
  },
];

/**
 * LCS by the dynamic-programming table, then a walk back from its end
 * emitting matched ranges as Redis does (ranges in descending order).
 */
function lcs(
  a: string,
  b: string,
  getLength: boolean,
  getIndexes: boolean,
  withMatchLength: boolean,
  minMatchLength: number,
  w: ReplyWriter,
): void {
  const alen = a.length;
  const blen = b.length;
  const width = blen + 1;
  const table = new Uint32Array((alen + 1) * width);
  for (let i = 1; i <= alen; i++) {
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= blen; j++) {
      table[i * width + j] = ai === b.charCodeAt(j - 1)
        ? table[(i - 1) * width + j - 1] + 1
        : Math.max(table[(i - 1) * width + j], table[i * width + j - 1]);
    }
  }
  const total = table[alen * width + blen];
  if (getLength) return w.integer(total);
  const result = new Array<number>(total);
  const ranges: number[][] = [];
  let idx = total;
  let aStart = alen; // alen: no range in progress
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  let i = alen;
  let j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      result[idx - 1] = a.charCodeAt(i - 1);
      if (aStart === alen) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (table[(i - 1) * width + j] > table[i * width + j - 1]) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    if (emit) {
      const matchLength = aEnd - aStart + 1;
      if (minMatchLength === 0 || matchLength >= minMatchLength) {
        ranges.push([aStart, aEnd, bStart, bEnd, matchLength]);
      }
      aStart = alen;
    }
  }
  if (!getIndexes) return w.bulk(bytesToBinary(Uint8Array.from(result)));
  w.map(2);

  w.bulk("matches");
  w.array(ranges.length);
  for (const [as, ae, bs, be, length] of ranges) {
    w.array(withMatchLength ? 3 : 2);
    w.array(2);
    w.integer(as);
    w.integer(ae);
    w.array(2);
    w.integer(bs);
    w.integer(be);
    if (withMatchLength) w.integer(length);
  }
  w.bulk("len");
  w.integer(total);
}
