/**
 * String commands: GET, SET and its options, the multi-key and counter
 * forms. Every write logs its effect through the store: INCR logs the
 * resulting value, and a value rewritten by INCR or APPEND keeps its expiry.
 *
 * @example
 * ```ts
 * STRING_COMMANDS.find((c) => c.name === "INCR")!.summary; // "Adds 1 to ..."
 * ```
 * @module
 */

import { CommandError, type ReplyWriter, type TextRendering } from "../../protocol/reply_writer.ts";
import { REFERENCE_MIN_BYTES } from "../../protocol/out_buffer.ts";
import {
  type CommandContext,
  type CommandHandler,
  fitsInt64,
  notAnInteger,
  parseInt64,
  parseShortInteger,
  parseShortIntegerBytes,
  SHORT_INTEGER_MAX_BYTES,
  syntaxError,
} from "../../executor/command_spec.ts";
import type { StoredValue } from "../../storage/engine.ts";
import { Collection } from "../collection.ts";
import { type ByteRange, EncodingHint } from "../../storage/key_table.ts";
import { lookupRead, noteRead } from "../../keyspace/lookup.ts";
import { checkEntry, MAX_VALUE_BYTES } from "../../storage/store.ts";
import { NOTIFY_GENERIC, NOTIFY_NEW, NOTIFY_STRING } from "../../pubsub/keyspace_events.ts";
import { wrongArity } from "../../executor/errors.ts";
import { expiryFromOption, expiryOptionName } from "../../executor/commands/_expiry_options.ts";
import {
  addLongDouble,
  formatLongDoubleHuman,
  isNotFinite,
  type LongDouble,
  longDoubleFromBigInt,
  parseLongDouble,
} from "./long_double.ts";

/**
 * GET's reply is copied from the arena (`Database.stringBytes`) for a value
 * the reply writer would copy anyway; from {@link REFERENCE_MIN_BYTES} it
 * is read as a string, which the writer sends by reference.
 */
const GET_RANGE_MAX_BYTES = REFERENCE_MIN_BYTES - 1;
const NO_BYTES = new Uint8Array(0);
/** Where GET's value lies, refilled by each GET (one object, no garbage). */
const GET_RANGE: ByteRange = { bytes: NO_BYTES, start: 0, length: 0 };

/** INCR's read of a counter where it is stored. */
const INCR_RANGE: ByteRange = { bytes: NO_BYTES, start: 0, length: 0 };

/** GET-like commands: the original's reply for a missing key. */
const KEY_NOT_FOUND: TextRendering = { nil: "ERROR: key not found" };

/**
 * Redis's error for a string that would pass `proto-max-bulk-len` (kvdb's
 * is the largest value, 64 MiB).
 */
export function tooLarge(): CommandError {
  return new CommandError(
    "ERR",
    "string exceeds maximum allowed size (proto-max-bulk-len)",
    `string exceeds maximum allowed size (${MAX_VALUE_BYTES} bytes)`,
  );
}

/** Throws {@link tooLarge} unless `offset + bytes` fits a value (Redis's checkStringLength). */
export function checkStringLength(offset: number, bytes: number): void {
  if (offset + bytes > MAX_VALUE_BYTES) throw tooLarge();
}

/**
 * Whether writing `key` creates it, asked only while `new` events are
 * wanted (the lookup would cost the plain SET otherwise). A key whose time
 * passed is removed by the lookup (`expired`), as Redis's write lookup does.
 */
function creates(ctx: CommandContext, key: string): boolean {
  return ctx.notifies(NOTIFY_NEW) && !ctx.db.exists(key);
}

/** Notifies `new` (if `created`) then the string event `event`, in Redis's order. */
export function notifyWrite(
  ctx: CommandContext,
  created: boolean,
  event: string,
  key: string,
): void {
  if (created) ctx.notify(NOTIFY_NEW, "new", key);
  ctx.notify(NOTIFY_STRING, event, key);
}

/** After a write with an expiry: Redis's `expire` event. */
function notifyExpire(ctx: CommandContext, expiresAtMs: number, key: string): void {
  if (expiresAtMs !== 0) ctx.notify(NOTIFY_GENERIC, "expire", key);
}

/**
 * GET's and MGET's reply for `key` when the key is missing (nil) or holds
 * a string of at most {@link GET_RANGE_MAX_BYTES} inline: copied from the
 * arena into the reply, no JS string made to be encoded again (in-process
 * GET of 64-byte values, 5 alternating rounds: 718 -> 609 ns median, 16
 * bytes 570 -> 531). Counted as a hit or a miss; false, with nothing
 * written, for any other value.
 */
function replyFromArena(ctx: CommandContext, key: string, w: ReplyWriter): boolean {
  const found = ctx.db.stringBytes(key, GET_RANGE, GET_RANGE_MAX_BYTES);
  if (found < 0) return false;
  // Counted first: a miss's keymiss event precedes the reply, as in Redis.
  noteRead(ctx, key, found === 1);
  if (found === 0) w.nil();
  else {
    w.bulkRange(GET_RANGE.bytes, GET_RANGE.start, GET_RANGE.start + GET_RANGE.length);
    GET_RANGE.bytes = NO_BYTES; // no replaced arena kept alive
  }
  return true;
}

/** A stored string's bytes as a binary string (a copy for a large one). */
export function text(value: StoredValue): string {
  return typeof value === "string" ? value : value.toBinary();
}

/**
 * Replies with a stored string; a large one by reference to its bytes (see
 * `BigString.view`): a hundred replies of one value hold one value.
 */
function replyValue(w: ReplyWriter, value: StoredValue): void {
  if (typeof value === "string") w.bulk(value);
  else w.bulkBytes(value.view());
}

/**
 * INCRBY's core: the new value of `key` after adding `by`. In plain numbers
 * while both sides have at most 15 digits (the sum is then exact), in
 * bigints beyond. A short counter is read where it is stored, with no
 * string made of it (in-process INCR of 100k counters, 7 alternating
 * rounds: 329 -> 316 ns median).
 */
function incrementBy(ctx: CommandContext, key: string, by: number | bigint): number | bigint {
  if (
    typeof by === "number" && ctx.db.stringBytes(key, INCR_RANGE, SHORT_INTEGER_MAX_BYTES) === 1
  ) {
    const { bytes, start, length } = INCR_RANGE;
    INCR_RANGE.bytes = NO_BYTES; // no replaced arena kept alive
    const current = parseShortIntegerBytes(bytes, start, length);
    if (current !== undefined) {
      const next = current + by;
      ctx.db.setInteger(key, next);
      notifyWrite(ctx, false, "incrby", key);
      return next;
    }
  }
  const entry = ctx.db.entry(key);
  const value = entry === undefined ? "0" : text(entry.value);
  const short = parseShortInteger(value);
  let next: number | bigint;
  if (short !== undefined && typeof by === "number") {
    next = short + by;
  } else {
    const current = parseInt64(value);
    if (current === undefined) throw notAnInteger();
    next = current + BigInt(by);
    if (!fitsInt64(next)) {
      throw new CommandError(
        "ERR",
        "increment or decrement would overflow",
        "increment or decrement would overflow",
      );
    }
  }
  ctx.db.set(key, String(next), entry?.expiresAtMs ?? 0);
  notifyWrite(ctx, entry === undefined, "incrby", key);
  return next;
}

/** INCRBY's argument: a number when short (see {@link incrementBy}), a bigint otherwise. */
function incrementArgument(s: string): number | bigint {
  const short = parseShortInteger(s);
  if (short !== undefined) return short;
  const value = parseInt64(s);
  if (value === undefined) throw notAnInteger();
  return value;
}

/**
 * MSET-style arguments: key/value pairs, each within the limits — all
 * checked before anything is written, so the command is all or nothing.
 */
function checkPairs(args: string[], command: string): void {
  if (args.length % 2 === 0) throw wrongArity(command);
  for (let i = 1; i < args.length; i += 2) checkEntry(args[i], args[i + 1]);
}

/** The string commands. */
export const STRING_COMMANDS: CommandHandler[] = [
  {
    name: "GET",
    text: KEY_NOT_FOUND,
    summary: "Returns the value of a key.",
    run(ctx, args, w) {
      if (replyFromArena(ctx, args[1], w)) return;
      const value = lookupRead(ctx, args[1]);
      if (value === undefined) w.nil();
      else replyValue(w, value);
    },
  },
  {
    name: "SET",
    summary: "Sets a key's value; EX/PX/EXAT/PXAT expiry, NX/XX conditions, KEEPTTL, GET.",
    run(ctx, args, w) {
      const [, key, value] = args;
      let expiresAtMs = 0;
      let expirySet = false;
      let expiryKind: string | undefined;
      let keepTtl = false;
      let condition: "NX" | "XX" | undefined;
      let get = false;
      const now = args.length > 3 ? ctx.store.nowMs() : 0; // only options need the clock
      for (let i = 3; i < args.length; i++) {
        const option = args[i].toUpperCase();
        const expiry = expiryOptionName(option);
        // Redis lets an option repeat (the last wins) but not conflict.
        if (expiry !== undefined) {
          if ((expirySet && expiry !== expiryKind) || keepTtl) throw syntaxError();
          expiresAtMs = expiryFromOption(expiry, args[++i], now, "set");
          expirySet = true;
          expiryKind = expiry;
        } else if (option === "NX" || option === "XX") {
          if (condition !== undefined && condition !== option) throw syntaxError();
          condition = option;
        } else if (option === "KEEPTTL") {
          if (expirySet) throw syntaxError();
          keepTtl = true;
        } else if (option === "GET") {
          get = true;
        } else {
          throw syntaxError();
        }
      }
      // A plain SET (the hot path) needs no lookup of the old entry.
      const looked = condition !== undefined || keepTtl || get;
      // SET GET reads a string (WRONGTYPE for another type); NX, XX and
      // KEEPTTL only ask whether the key is there, of whatever type.
      const current = get ? ctx.db.entry(key) : looked ? ctx.db.keyEntry(key) : undefined;
      // GET reads as GET does.
      if (get) noteRead(ctx, key, current !== undefined);
      const allowed = condition === undefined ||
        (condition === "NX" ? current === undefined : current !== undefined);
      if (allowed) {
        const created = looked ? current === undefined : creates(ctx, key);
        ctx.db.set(key, value, keepTtl ? current?.expiresAtMs ?? 0 : expiresAtMs);
        notifyWrite(ctx, created, "set", key);
        if (expirySet) notifyExpire(ctx, expiresAtMs, key);
      }
      if (get) {
        if (current === undefined) w.nil();
        else replyValue(w, current.value as StoredValue);
      } else if (allowed) {
        w.status("OK");
      } else {
        w.nil();
      }
    },
  },
  {
    name: "SETNX",
    summary: "Sets a key only if it does not exist; 1 if set.",
    run(ctx, args, w) {
      if (ctx.db.exists(args[1])) return w.integer(0);
      ctx.db.set(args[1], args[2]);
      notifyWrite(ctx, true, "set", args[1]);
      w.integer(1);
    },
  },
  {
    name: "GETDEL",
    text: KEY_NOT_FOUND,
    summary: "Returns a key's value and deletes it.",
    run(ctx, args, w) {
      const value = lookupRead(ctx, args[1]);
      if (value === undefined) return w.nil();
      ctx.db.delete(args[1]);
      ctx.notify(NOTIFY_GENERIC, "del", args[1]);
      replyValue(w, value);
    },
  },
  {
    name: "GETEX",
    text: KEY_NOT_FOUND,
    summary: "Returns a key's value and sets (EX/PX/EXAT/PXAT) or removes (PERSIST) its expiry.",
    run(ctx, args, w) {
      let expiresAtMs: number | undefined;
      const now = ctx.store.nowMs();
      for (let i = 2; i < args.length; i++) {
        const option = args[i].toUpperCase();
        const expiry = expiryOptionName(option);
        if (expiresAtMs !== undefined) throw syntaxError();
        if (expiry !== undefined) expiresAtMs = expiryFromOption(expiry, args[++i], now, "getex");
        else if (option === "PERSIST") expiresAtMs = 0;
        else throw syntaxError();
      }
      const value = lookupRead(ctx, args[1]);
      if (value === undefined) return w.nil();
      if (expiresAtMs !== undefined && ctx.db.engine.expiresAt(args[1]) !== expiresAtMs) {
        ctx.db.setExpiry(args[1], expiresAtMs);
        // A time already past deletes the key (setExpiry), as Redis does.
        const event = expiresAtMs === 0
          ? "persist"
          : ctx.db.engine.get(args[1]) === undefined
          ? "del"
          : "expire";
        ctx.notify(NOTIFY_GENERIC, event, args[1]);
      }
      replyValue(w, value);
    },
  },
  {
    name: "MGET",
    summary: "Returns the values of several keys.",
    run(ctx, args, w) {
      w.array(args.length - 1);
      for (let i = 1; i < args.length; i++) {
        if (replyFromArena(ctx, args[i], w)) continue;
        // Another type reads as nil here, not WRONGTYPE (Redis's MGET).
        const value = ctx.db.value(args[i]);
        noteRead(ctx, args[i], value !== undefined);
        if (value === undefined || value instanceof Collection) w.nil();
        else replyValue(w, value);
      }
    },
  },
  {
    name: "MSET",
    summary: "Sets several keys.",
    run(ctx, args, w) {
      checkPairs(args, "mset");
      for (let i = 1; i < args.length; i += 2) {
        const created = creates(ctx, args[i]);
        ctx.db.set(args[i], args[i + 1]);
        notifyWrite(ctx, created, "set", args[i]);
      }
      w.status("OK");
    },
  },
  {
    name: "MSETNX",
    summary: "Sets several keys only if none exists; 1 if set.",
    run(ctx, args, w) {
      checkPairs(args, "msetnx");
      for (let i = 1; i < args.length; i += 2) {
        if (ctx.db.exists(args[i])) return w.integer(0);
      }
      for (let i = 1; i < args.length; i += 2) {
        ctx.db.set(args[i], args[i + 1]);
        notifyWrite(ctx, true, "set", args[i]);
      }
      w.integer(1);
    },
  },
  {
    name: "INCR",
    summary: "Adds 1 to a key's integer value.",
    run(ctx, args, w) {
      w.integer(incrementBy(ctx, args[1], 1));
    },
  },
  {
    name: "DECR",
    summary: "Subtracts 1 from a key's integer value.",
    run(ctx, args, w) {
      w.integer(incrementBy(ctx, args[1], -1));
    },
  },
  {
    name: "INCRBY",
    summary: "Adds an integer to a key's integer value.",
    run(ctx, args, w) {
      w.integer(incrementBy(ctx, args[1], incrementArgument(args[2])));
    },
  },
  {
    name: "DECRBY",
    summary: "Subtracts an integer from a key's integer value.",
    run(ctx, args, w) {
      const by = incrementArgument(args[2]);
      if (by === -(2n ** 63n)) {
        throw new CommandError("ERR", "decrement would overflow", "decrement would overflow");
      }
      w.integer(incrementBy(ctx, args[1], -by));
    },
  },
  {
    name: "APPEND",
    summary: "Appends to a key's value; returns the new length.",
    run(ctx, args, w) {
      // Logged as the bytes written at the old end (WalOp.SetRange): an
      // append costs what it appends, in memory and in the log. A new key
      // is a plain SET (Redis encodes it as it would a SET's value).
      const current = ctx.db.get(args[1]);
      if (current === undefined) {
        ctx.db.set(args[1], args[2]);
        notifyWrite(ctx, true, "append", args[1]);
        return w.integer(args[2].length);
      }
      checkStringLength(current.length, args[2].length);
      const length = ctx.db.setRange(args[1], current.length, args[2]);
      notifyWrite(ctx, false, "append", args[1]);
      w.integer(length);
    },
  },
  {
    name: "STRLEN",
    summary: "Returns the length of a key's value.",
    run(ctx, args, w) {
      w.integer(lookupRead(ctx, args[1])?.length ?? 0);
    },
  },
  {
    name: "SETEX",
    summary: "Sets a key's value and its time to live in seconds.",
    run(ctx, args, w) {
      const expiresAtMs = expiryFromOption("EX", args[2], ctx.store.nowMs(), "setex");
      const created = creates(ctx, args[1]);
      ctx.db.set(args[1], args[3], expiresAtMs);
      notifyWrite(ctx, created, "set", args[1]);
      notifyExpire(ctx, expiresAtMs, args[1]);
      w.status("OK");
    },
  },
  {
    name: "PSETEX",
    summary: "Sets a key's value and its time to live in milliseconds.",
    run(ctx, args, w) {
      const expiresAtMs = expiryFromOption("PX", args[2], ctx.store.nowMs(), "psetex");
      const created = creates(ctx, args[1]);
      ctx.db.set(args[1], args[3], expiresAtMs);
      notifyWrite(ctx, created, "set", args[1]);
      notifyExpire(ctx, expiresAtMs, args[1]);
      w.status("OK");
    },
  },
  {
    name: "GETSET",
    text: KEY_NOT_FOUND,
    summary: "Sets a key's value (dropping its time to live) and returns the old value.",
    run(ctx, args, w) {
      const old = lookupRead(ctx, args[1]);
      ctx.db.set(args[1], args[2]);
      notifyWrite(ctx, old === undefined, "set", args[1]);
      if (old === undefined) w.nil();
      else replyValue(w, old);
    },
  },
  {
    name: "INCRBYFLOAT",
    summary: "Adds a floating-point number to a key's value (long double arithmetic, as Redis).",
    run(ctx, args, w) {
      const entry = ctx.db.entry(args[1]);
      const current = entry === undefined ? ZERO_LONG_DOUBLE : parseStoredFloat(text(entry.value));
      const by = parseLongDouble(args[2]);
      if (current === undefined || by === undefined) throw notAValidFloat();
      const sum = addLongDouble(current, by);
      if (isNotFinite(sum)) {
        throw new CommandError(
          "ERR",
          "increment would produce NaN or Infinity",
          "increment would produce NaN or Infinity",
        );
      }
      // Logged as the resulting value (the arithmetic is not redone on replay).
      const result = formatLongDoubleHuman(sum);
      ctx.db.set(args[1], result, entry?.expiresAtMs ?? 0, EncodingHint.NotInt);
      notifyWrite(ctx, entry === undefined, "incrbyfloat", args[1]);
      w.bulk(result);
    },
  },
];

const ZERO_LONG_DOUBLE = longDoubleFromBigInt(0n);

/** A stored value as a long double: an integer exactly, else as strtold reads it. */
function parseStoredFloat(value: string): LongDouble | undefined {
  const integer = parseInt64(value);
  return integer !== undefined ? longDoubleFromBigInt(integer) : parseLongDouble(value);
}

function notAValidFloat(): CommandError {
  return new CommandError("ERR", "value is not a valid float", "value is not a valid float");
}
