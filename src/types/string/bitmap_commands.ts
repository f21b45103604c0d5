/**
 * Bitmap commands over string values: SETBIT, GETBIT, BITCOUNT, BITPOS,
 * BITOP, BITFIELD, BITFIELD_RO. Bits are numbered from the most significant
 * bit of byte 0, as in Redis. Writes log only the bytes they change
 * (`WalOp.SetRange`), so setting a bit in a large bitmap costs a byte; BITOP
 * logs the value it stores.
 *
 * @example
 * ```ts
 * BITMAP_COMMANDS.find((c) => c.name === "SETBIT")!.arity; // 4
 * ```
 * @module
 */

import { CommandError, type ReplyWriter } from "../../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  notAnInteger,
  parseInt64,
  syntaxError,
} from "../../executor/command_spec.ts";
import { bytesToBinary } from "../../bytes/binary_string.ts";
import type { StoredValue } from "../../storage/engine.ts";
import { EncodingHint } from "../../storage/key_table.ts";
import { MAX_VALUE_BYTES } from "../../storage/store.ts";
import { NOTIFY_GENERIC, NOTIFY_NEW } from "../../pubsub/keyspace_events.ts";
import { notifyWrite } from "./commands.ts";
import { lookupRead } from "../../keyspace/lookup.ts";

/** Bits set in each byte value. */
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v !== 0; v &= v - 1) n++;
  return n;
});

/** A value's bytes to read now (not kept past this command). */
function bytesOf(value: StoredValue | undefined): Uint8Array | string {
  if (value === undefined) return "";
  return typeof value === "string" ? value : value.peek();
}

function byteAt(bytes: Uint8Array | string, index: number): number {
  if (index >= bytes.length) return 0;
  return typeof bytes === "string" ? bytes.charCodeAt(index) : bytes[index];
}

function error(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

const BIT_OFFSET_ERROR = "bit offset is not an integer or out of range";

/**
 * A bit offset argument (Redis's getBitOffsetFromArgument): `#n` means n
 * fields of `bits` when `hashForm`; the byte it reaches must fit a value.
 */
function bitOffset(arg: string, hashForm: boolean, bits: number): number {
  // Redis reads the argument as a C string: a NUL byte ends it.
  const nul = arg.indexOf("\0");
  const s = nul < 0 ? arg : arg.slice(0, nul);
  const hash = hashForm && s.startsWith("#");
  let value = parseInt64(hash ? s.slice(1) : s);
  if (value === undefined) throw error(BIT_OFFSET_ERROR);
  if (hash) value *= BigInt(bits);
  if (value < 0n || (value >> 3n) >= BigInt(MAX_VALUE_BYTES)) throw error(BIT_OFFSET_ERROR);
  return Number(value);
}

function int64Argument(s: string): bigint {
  const value = parseInt64(s);
  if (value === undefined) throw notAnInteger();
  return value;
}

/** Sets byte `index` of `key` to `byte`, growing the value with zeros (one logged byte). */
function writeByte(ctx: CommandContext, key: string, index: number, byte: number): void {
  ctx.db.setRange(key, index, String.fromCharCode(byte));
}

/** Grows `key`'s string to at least `length` bytes (creating it), as Redis's bit commands do. */
function growTo(ctx: CommandContext, key: string, value: StoredValue | undefined, length: number) {
  if (value !== undefined && value.length >= length) return;
  // One zero byte at the end: the store fills the gap with zeros.
  ctx.db.setRange(key, length - 1, "\0");
}

/**
 * The inclusive byte range `[start, end]` and edge masks of a BITCOUNT or
 * BITPOS range argument pair, as Redis computes them; undefined if empty.
 */
interface BitRange {
  start: number;
  end: number;
  /** Bits of the first byte outside the range (BIT ranges only). */
  firstMask: number;
  /** Bits of the last byte outside the range (BIT ranges only). */
  lastMask: number;
}

function unitArgument(arg: string | undefined): boolean {
  if (arg === undefined) return false;
  const unit = arg.toUpperCase();
  if (unit === "BIT") return true;
  if (unit === "BYTE") return false;
  throw syntaxError();
}

function bitRange(
  startArg: bigint,
  endArg: bigint,
  bytes: number,
  isBit: boolean,
): BitRange {
  let start = startArg;
  let end = endArg;
  const total = isBit ? BigInt(bytes) * 8n : BigInt(bytes);
  if (start < 0n) start += total;
  if (end < 0n) end += total;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= total) end = total - 1n;
  let firstMask = 0;
  let lastMask = 0;
  if (isBit && start <= end) {
    firstMask = ~((1 << (8 - Number(start & 7n))) - 1) & 0xff;
    lastMask = (1 << (7 - Number(end & 7n))) - 1;
    start >>= 3n;
    end >>= 3n;
  }
  return { start: Number(start), end: Number(end), firstMask, lastMask };
}

/** Position of the first `bit` in `bytes[start, start + count)`, as redisBitpos. */
function firstBit(bytes: Uint8Array | string, start: number, count: number, bit: number): number {
  const skip = bit === 1 ? 0 : 0xff;
  for (let i = 0; i < count; i++) {
    const b = byteAt(bytes, start + i);
    if (b === skip) continue;
    for (let k = 0; k < 8; k++) {
      if (((b >> (7 - k)) & 1) === bit) return i * 8 + k;
    }
  }
  // Looking for a clear bit past all-ones bytes: the first bit after them.
  return bit === 1 ? -1 : count * 8;
}

/** The bitmap commands. */
export const BITMAP_COMMANDS: CommandHandler[] = [
  {
    name: "SETBIT",
    summary: "Sets or clears one bit of a key's value; returns the bit's old value.",
    run(ctx, args, w) {
      const offset = bitOffset(args[2], false, 0);
      const on = parseInt64(args[3]);
      if (on === undefined || (on !== 0n && on !== 1n)) {
        throw error("bit is not an integer or out of range");
      }
      const key = args[1];
      const value = ctx.db.get(key);
      const index = offset >> 3;
      const shift = 7 - (offset & 7);
      const old = byteAt(bytesOf(value), index);
      const bit = (old >> shift) & 1;
      const updated = (old & ~(1 << shift)) | (Number(on) << shift);
      // Redis notifies only a change: a new key, a longer value or a flipped bit.
      if (value === undefined || value.length <= index || updated !== old) {
        writeByte(ctx, key, index, updated);
        notifyWrite(ctx, value === undefined, "setbit", key);
      }
      w.integer(bit);
    },
  },
  {
    name: "GETBIT",
    summary: "Returns one bit of a key's value (0 past its end).",
    run(ctx, args, w) {
      const offset = bitOffset(args[2], false, 0);
      const byte = byteAt(bytesOf(lookupRead(ctx, args[1])), offset >> 3);
      w.integer((byte >> (7 - (offset & 7))) & 1);
    },
  },
  {
    name: "BITCOUNT",
    summary: "Counts the set bits of a key's value, optionally in a BYTE or BIT range.",
    run(ctx, args, w) {
      const value = lookupRead(ctx, args[1]);
      if (value === undefined) return w.integer(0);
      const bytes = bytesOf(value);
      let range: BitRange;
      if (args.length === 4 || args.length === 5) {
        const start = int64Argument(args[2]);
        const end = int64Argument(args[3]);
        const isBit = unitArgument(args[4]);
        if (start < 0n && end < 0n && start > end) return w.integer(0);
        range = bitRange(start, end, bytes.length, isBit);
      } else if (args.length === 2) {
        range = { start: 0, end: bytes.length - 1, firstMask: 0, lastMask: 0 };
      } else {
        throw syntaxError();
      }
      if (range.start > range.end) return w.integer(0);
      let count = 0;
      for (let i = range.start; i <= range.end; i++) count += POPCOUNT[byteAt(bytes, i)];
      if (range.firstMask !== 0) count -= POPCOUNT[byteAt(bytes, range.start) & range.firstMask];
      if (range.lastMask !== 0) count -= POPCOUNT[byteAt(bytes, range.end) & range.lastMask];
      w.integer(count);
    },
  },
  {
    name: "BITPOS",
    summary: "The position of the first set or clear bit, optionally in a BYTE or BIT range.",
    run(ctx, args, w) {
      const bitArg = parseInt64(args[2]);
      if (bitArg === undefined) throw notAnInteger();
      if (bitArg !== 0n && bitArg !== 1n) throw error("The bit argument must be 1 or 0.");
      const bit = Number(bitArg);
      const value = lookupRead(ctx, args[1]);
      if (value === undefined) return w.integer(bit === 1 ? -1 : 0);
      const bytes = bytesOf(value);
      let range: BitRange;
      let endGiven = false;
      if (args.length >= 4 && args.length <= 6) {
        const start = int64Argument(args[3]);
        const isBit = unitArgument(args[5]);
        let end: bigint;
        if (args.length >= 5) {
          end = int64Argument(args[4]);
          endGiven = true;
        } else {
          end = isBit ? BigInt(bytes.length) * 8n + 7n : BigInt(bytes.length) - 1n;
        }
        range = bitRange(start, end, bytes.length, isBit);
      } else if (args.length === 3) {
        range = { start: 0, end: bytes.length - 1, firstMask: 0, lastMask: 0 };
      } else {
        throw syntaxError();
      }
      if (range.start > range.end) return w.integer(-1);
      w.integer(bitPosition(bytes, range, bit, endGiven));
    },
  },
  {
    name: "BITOP",
    summary: "Stores the AND, OR, XOR or NOT of strings in a destination key; returns its length.",
    run(ctx, args, w) {
      const op = args[1].toUpperCase();
      if (op !== "AND" && op !== "OR" && op !== "XOR" && op !== "NOT") throw syntaxError();
      if (op === "NOT" && args.length !== 4) {
        throw error("BITOP NOT must be called with a single source key.");
      }
      const sources: (Uint8Array | string)[] = [];
      let maxLength = 0;
      for (let i = 3; i < args.length; i++) {
        const bytes = bytesOf(lookupRead(ctx, args[i]));
        sources.push(bytes);
        maxLength = Math.max(maxLength, bytes.length);
      }
      if (maxLength === 0) {
        if (ctx.db.delete(args[2])) ctx.notify(NOTIFY_GENERIC, "del", args[2]);
        return w.integer(0);
      }
      const out = new Uint8Array(maxLength);
      for (let j = 0; j < maxLength; j++) {
        let byte = byteAt(sources[0], j);
        if (op === "NOT") byte = ~byte & 0xff;
        for (let i = 1; i < sources.length; i++) {
          const other = byteAt(sources[i], j);
          if (op === "AND") byte &= other;
          else if (op === "OR") byte |= other;
          else byte ^= other;
        }
        out[j] = byte;
      }
      const created = ctx.notifies(NOTIFY_NEW) && !ctx.db.exists(args[2]);
      ctx.db.set(args[2], bytesToBinary(out), 0, EncodingHint.Raw);
      notifyWrite(ctx, created, "set", args[2]);
      w.integer(maxLength);
    },
  },
  {
    name: "BITFIELD",
    summary: "Reads, writes and increments integer fields of any width at any bit offset.",
    run(ctx, args, w) {
      bitfield(ctx, args, w, false);
    },
  },
  {
    name: "BITFIELD_RO",
    summary: "BITFIELD's GET only, for read-only contexts.",
    run(ctx, args, w) {
      bitfield(ctx, args, w, true);
    },
  },
];

/** Redis's bitpos over a computed range (edge masks applied to the first and last byte). */
function bitPosition(
  bytes: Uint8Array | string,
  range: BitRange,
  bit: number,
  endGiven: boolean,
): number {
  let { start } = range;
  const { end, firstMask, lastMask } = range;
  let count = end - start + 1;
  let pos: number;
  const masked = (byte: number, mask: number) => bit === 1 ? byte & ~mask & 0xff : byte | mask;
  done: {
    if (firstMask !== 0) {
      let byte = masked(byteAt(bytes, start), firstMask);
      if (lastMask !== 0 && count === 1) byte = masked(byte, lastMask);
      pos = firstBit(String.fromCharCode(byte), 0, 1, bit);
      if (count === 1 || (pos !== -1 && pos !== 8)) break done;
      start++;
      count--;
    }
    const whole = count - (lastMask !== 0 ? 1 : 0);
    if (whole > 0) {
      pos = firstBit(bytes, start, whole, bit);
      if (count === whole || (pos !== -1 && pos !== whole * 8)) break done;
      start += whole;
      count -= whole;
    }
    pos = firstBit(String.fromCharCode(masked(byteAt(bytes, end), lastMask)), 0, 1, bit);
  }
  if (endGiven && bit === 0 && pos === count * 8) return -1;
  return pos === -1 ? -1 : pos + start * 8;
}

/** One BITFIELD operation. */
interface FieldOp {
  kind: "GET" | "SET" | "INCRBY";
  signed: boolean;
  bits: number;
  offset: number;
  value: bigint;
  overflow: "WRAP" | "SAT" | "FAIL";
}

const TYPE_ERROR =
  "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

function fieldType(arg: string): { signed: boolean; bits: number } {
  const signed = arg[0] === "i";
  if (!signed && arg[0] !== "u") throw error(TYPE_ERROR);
  const nul = arg.indexOf("\0");
  const bits = parseInt64((nul < 0 ? arg : arg.slice(0, nul)).slice(1));
  if (bits === undefined || bits < 1n || bits > (signed ? 64n : 63n)) throw error(TYPE_ERROR);
  return { signed, bits: Number(bits) };
}

function parseFieldOps(args: string[]): FieldOp[] {
  const ops: FieldOp[] = [];
  let overflow: FieldOp["overflow"] = "WRAP";
  for (let j = 2; j < args.length; j++) {
    const remaining = args.length - j - 1;
    const sub = args[j].toUpperCase();
    let kind: FieldOp["kind"];
    if (sub === "GET" && remaining >= 2) kind = "GET";
    else if (sub === "SET" && remaining >= 3) kind = "SET";
    else if (sub === "INCRBY" && remaining >= 3) kind = "INCRBY";
    else if (sub === "OVERFLOW" && remaining >= 1) {
      const type = args[++j].toUpperCase();
      if (type !== "WRAP" && type !== "SAT" && type !== "FAIL") {
        throw error("Invalid OVERFLOW type specified");
      }
      overflow = type;
      continue;
    } else {
      throw syntaxError();
    }
    const { signed, bits } = fieldType(args[j + 1]);
    const offset = bitOffset(args[j + 2], true, bits);
    const value = kind === "GET" ? 0n : int64Argument(args[j + 3]);
    ops.push({ kind, signed, bits, offset, value, overflow });
    j += kind === "GET" ? 2 : 3;
  }
  return ops;
}

/** Reads `bits` bits (MSB first) at bit `offset` of `bytes`, zeros past the end. */
function readField(read: (index: number) => number, offset: number, bits: number): bigint {
  let value = 0n;
  for (let i = 0; i < bits; i++) {
    const at = offset + i;
    value = (value << 1n) | BigInt((read(at >> 3) >> (7 - (at & 7))) & 1);
  }
  return value;
}

/**
 * Redis's overflow rule for a field of `bits` holding `value + increment`
 * (64-bit integer arithmetic): the stored value and whether it overflowed.
 */
function fieldResult(op: FieldOp, value: bigint, increment: bigint): [bigint, boolean] {
  const { bits, signed } = op;
  if (signed) {
    const max = bits === 64 ? (1n << 63n) - 1n : (1n << BigInt(bits - 1)) - 1n;
    const min = -max - 1n;
    const sum = value + increment;
    const overflow = sum > max ? 1 : sum < min ? -1 : 0;
    if (overflow === 0) return [sum, false];
    if (op.overflow === "SAT") return [overflow > 0 ? max : min, true];
    return [BigInt.asIntN(bits, BigInt.asUintN(64, value + increment)), true];
  }
  const max = (1n << BigInt(bits)) - 1n;
  // Unsigned fields take the argument as a 64-bit pattern (SET u8 0 -1 is 255 wrapped).
  const base = BigInt.asUintN(64, value);
  const sum = base + increment;
  const overflow = base > max || sum > max ? 1 : sum < 0n ? -1 : 0;
  if (overflow === 0) return [sum, false];
  if (op.overflow === "SAT") return [overflow > 0 ? max : 0n, true];
  return [BigInt.asUintN(bits, base + increment), true];
}

function bitfield(ctx: CommandContext, args: string[], w: ReplyWriter, readOnly: boolean): void {
  const ops = parseFieldOps(args);
  const key = args[1];
  const writes = ops.filter((op) => op.kind !== "GET");
  // Only GETs read as a read does (a miss notified); writes look up to write.
  let value = writes.length > 0 ? ctx.db.get(key) : lookupRead(ctx, key);
  let changes = 0;
  if (writes.length > 0) {
    if (readOnly) throw error("BITFIELD_RO only supports the GET subcommand");
    const highest = Math.max(...writes.map((op) => op.offset + op.bits - 1));
    const created = value === undefined;
    growTo(ctx, key, value, (highest >> 3) + 1);
    if (created) ctx.notify(NOTIFY_NEW, "new", key);
    value = ctx.db.get(key);
  }
  // Bytes written by earlier operations of this command, read back by later ones.
  const written = new Map<number, number>();
  const read = (index: number) => written.get(index) ?? byteAt(bytesOf(value), index);
  w.array(ops.length);
  for (const op of ops) {
    const raw = readField(read, op.offset, op.bits);
    const current = op.signed ? BigInt.asIntN(op.bits, raw) : raw;
    if (op.kind === "GET") {
      w.integer(current);
      continue;
    }
    const [stored, overflowed] = op.kind === "INCRBY"
      ? fieldResult(op, current, op.value)
      : fieldResult(op, op.value, 0n);
    if (overflowed && op.overflow === "FAIL") {
      w.nil();
      continue;
    }
    w.integer(op.kind === "INCRBY" ? stored : current);
    writeField(ctx, key, read, written, op, stored);
    changes++;
  }
  if (changes > 0) notifyWrite(ctx, false, "setbit", key);
}

/** Writes `stored` into the field, logging the bytes it spans. */
function writeField(
  ctx: CommandContext,
  key: string,
  read: (index: number) => number,
  written: Map<number, number>,
  op: FieldOp,
  stored: bigint,
): void {
  const pattern = BigInt.asUintN(op.bits, stored);
  const first = op.offset >> 3;
  const last = (op.offset + op.bits - 1) >> 3;
  const bytes: number[] = [];
  for (let index = first; index <= last; index++) bytes.push(read(index));
  for (let i = 0; i < op.bits; i++) {
    const at = op.offset + i - first * 8;
    const bit = Number((pattern >> BigInt(op.bits - 1 - i)) & 1n);
    bytes[at >> 3] = (bytes[at >> 3] & ~(1 << (7 - (at & 7)))) | (bit << (7 - (at & 7)));
  }
  bytes.forEach((byte, i) => written.set(first + i, byte));
  ctx.db.setRange(key, first, String.fromCharCode(...bytes));
}
