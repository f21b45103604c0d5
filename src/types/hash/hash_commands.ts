/**
 * The hash commands of Redis 7.0: HSET, HSETNX, HMSET, HGET, HMGET, HDEL,
 * HLEN, HSTRLEN, HEXISTS, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT,
 * HRANDFIELD, HSCAN. Every write logs one `HashSet` or `HashDel` record
 * per field (the executor groups a command's records), applied through the
 * same functions replay uses; HINCRBY and HINCRBYFLOAT log the resulting
 * value.
 *
 * @example
 * ```ts
 * HASH_COMMANDS.map((c) => c.name); // ["HSET", "HSETNX", ...]
 * ```
 * @module
 */

import { CommandError, type ReplyWriter } from "../../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  fitsInt64,
  notAnInteger,
  parseInt64,
  syntaxError,
} from "../../executor/command_spec.ts";
import { wrongArity } from "../../executor/errors.ts";
import { globMatch } from "../../executor/glob.ts";
import { noteRead } from "../../keyspace/lookup.ts";
import { NOTIFY_GENERIC, NOTIFY_HASH, NOTIFY_NEW } from "../../pubsub/keyspace_events.ts";
import { checkEntry, MAX_KEY_BYTES, MAX_VALUE_BYTES } from "../../storage/store.ts";
import type { Engine } from "../../storage/engine.ts";
import { PackedHash } from "./_packed_hash.ts";
import { WalOp } from "../../wal/record.ts";
import {
  addLongDouble,
  formatLongDoubleHuman,
  isNotFinite,
  type LongDouble,
  longDoubleFromBigInt,
  parseLongDouble,
} from "../string/long_double.ts";
import {
  applyHashDels,
  applyHashPairs,
  HashValue,
  MAX_HASH_FIELDS,
  SNAPSHOT_TYPE_HASH,
} from "./hash.ts";
import { parseScanCursor, parseScanOptions, replyEmptyScan } from "../_collection_scan.ts";
import { distinctArgs } from "../_scratch_index.ts";

/**
 * Most elements HRANDFIELD with a negative count (repetitions allowed)
 * answers: Redis has no bound and builds the reply whatever its size.
 */
export const HRANDFIELD_MAX_COUNT = 10_000_000;

function error(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/** What a command that reads a hash reads: the object, or the bytes of one held inline. */
type HashFields = HashValue | PackedHash;

/**
 * The hash at `key` for a command that reads it: one held inline is read
 * in its packed bytes, not unpacked (valid until the keyspace next
 * changes). A hit or a miss counted when `read`; WRONGTYPE for another
 * type.
 */
function hashFields(ctx: CommandContext, key: string, read = true): HashFields | undefined {
  const hash = ctx.db.collectionOrPacked(key, HashValue, SNAPSHOT_TYPE_HASH);
  if (read) noteRead(ctx, key, hash !== undefined);
  return hash === undefined || hash instanceof HashValue ? hash : new PackedHash(hash);
}

function applyDels(engine: Engine, key: string, fields: readonly string[]): void {
  applyHashDels(engine, key, fields);
}

/** Logs and applies `key`.`field` = `value`. */
function setField(ctx: CommandContext, key: string, field: string, value: string): void {
  ctx.db.changeCollectionPairs(key, WalOp.HashSet, [field, value], 0, applyHashPairs);
}

/**
 * Checks HSET-style field/value pairs from `args[2]` (limits, and room for
 * new fields) before anything is written: all or nothing.
 */
function checkPairs(hash: HashFields | undefined, key: string, args: string[]): void {
  // A record holds the field and its value together: that is what the value limit bounds.
  for (let i = 2; i < args.length; i += 2) {
    if (args[i].length + args[i + 1].length > MAX_VALUE_BYTES || key.length > MAX_KEY_BYTES) {
      checkEntry(key, args[i] + args[i + 1]);
    }
  }
  if ((hash?.length ?? 0) + (args.length - 2) / 2 > MAX_HASH_FIELDS) {
    let added = 0;
    for (let i = 2; i < args.length; i += 2) if (!hash?.has(args[i])) added++;
    if ((hash?.length ?? 0) + added > MAX_HASH_FIELDS) {
      throw error(`a hash holds at most ${MAX_HASH_FIELDS} fields`);
    }
  }
}

/** Throws unless `field` = `value` fits the limits (one field set by a counter). */
function checkNewField(hash: HashFields | undefined, key: string, field: string, value: string) {
  checkEntry(key, field + value);
  if ((hash?.length ?? 0) >= MAX_HASH_FIELDS && !hash?.has(field)) {
    throw error(`a hash holds at most ${MAX_HASH_FIELDS} fields`);
  }
}

/** HSET and HMSET: sets the pairs; how many fields were new. */
function hset(ctx: CommandContext, args: string[], command: string): number {
  if (args.length % 2 === 1) throw wrongArity(command);
  const key = args[1];
  // A hash held inline is not read here (unpacked) but edited in its bytes
  // (see applyHashPairs). It has at most 2,048 fields (4 KiB, 2 bytes a
  // field at least): with fewer pairs than MAX_HASH_FIELDS / 2 added, the
  // field limit checkPairs enforces cannot be reached, so its count is not needed.
  const found = hashFields(ctx, key, false);
  const inline = found instanceof PackedHash && args.length < MAX_HASH_FIELDS;
  const hash = found instanceof PackedHash
    ? (inline ? undefined : ctx.db.collection(key, HashValue))
    : found;
  checkPairs(hash, key, args);
  // New fields, each counted once (HSET h f 1 f 2 adds one), as they are set.
  const added = ctx.db.changeCollectionPairs(
    key,
    WalOp.HashSet,
    args,
    2,
    applyHashPairs,
    hash,
  );
  if (hash === undefined && !inline) ctx.notify(NOTIFY_NEW, "new", key);
  ctx.notify(NOTIFY_HASH, "hset", key);
  return added;
}

/**
 * Writes each field, each value, or both (field then value) of `hash` as
 * bulk replies, in its order: one held inline straight from its bytes.
 */
function writeEntries(w: ReplyWriter, hash: HashFields, fields: boolean, values: boolean): void {
  if (hash instanceof PackedHash) return hash.writeEntries(w, fields, values);
  hash.forEach((field, value) => {
    if (fields) w.bulk(field);
    if (values) w.bulk(value);
  });
}

/** The value of a hash field as a long double (an integer exactly), as HINCRBYFLOAT reads it. */
function storedFloat(value: string): LongDouble | undefined {
  const integer = parseInt64(value);
  return integer !== undefined ? longDoubleFromBigInt(integer) : parseLongDouble(value);
}

function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}

/** A random live position of `hash` (which is not empty). */
function randomPosition(hash: HashFields): number {
  const positions = hash.positions;
  for (;;) {
    const at = randomIndex(positions);
    if (hash.fieldAt(at) !== undefined) return at;
  }
}

/** HRANDFIELD with a count: Redis's four cases (repetitions, all, few, many). */
function randomFields(
  ctx: CommandContext,
  args: string[],
  w: ReplyWriter,
): void {
  const count = parseInt64(args[2]);
  if (count === undefined) throw notAnInteger();
  const LONG_MAX = 2n ** 63n - 1n;
  if (count < -LONG_MAX) {
    throw error(`value is out of range, value must between ${-LONG_MAX} and ${LONG_MAX}`);
  }
  let withValues = false;
  if (args.length > 4 || (args.length === 4 && args[3].toUpperCase() !== "WITHVALUES")) {
    throw syntaxError();
  } else if (args.length === 4) {
    withValues = true;
    if (count < -LONG_MAX / 2n || count > LONG_MAX / 2n) throw error("value is out of range");
  }
  const hash = hashFields(ctx, args[1]);
  if (hash === undefined || count === 0n) return w.array(0);
  const resp3 = ctx.session.protocol === 3;
  const reply = (field: string, value: string) => {
    if (withValues && resp3) w.array(2);
    w.bulk(field);
    if (withValues) w.bulk(value);
  };
  const size = hash.length;
  if (count < 0n || count === 1n) {
    const n = count < 0n ? -count : count;
    if (n > BigInt(HRANDFIELD_MAX_COUNT)) {
      throw error(`HRANDFIELD answers at most ${HRANDFIELD_MAX_COUNT} elements`);
    }
    const total = Number(n);
    w.array(withValues && !resp3 ? total * 2 : total);
    const all = hash.encoding() === "listpack" ? hash.entries() : undefined;
    for (let i = 0; i < total; i++) {
      if (all !== undefined) {
        const [field, value] = all[randomIndex(all.length)];
        reply(field, value);
      } else {
        const field = hash.fieldAt(randomPosition(hash))!;
        reply(field, hash.get(field)!);
      }
    }
    return;
  }
  const entries = hash.entries();
  let picked = entries;
  if (count < BigInt(size)) {
    // Distinct fields: a partial Fisher–Yates shuffle, then Redis's order
    // does not matter (it is random too).
    const n = Number(count);
    for (let i = 0; i < n; i++) {
      const j = i + randomIndex(entries.length - i);
      [entries[i], entries[j]] = [entries[j], entries[i]];
    }
    picked = entries.slice(0, n);
  }
  w.array(withValues && !resp3 ? picked.length * 2 : picked.length);
  for (const [field, value] of picked) reply(field, value);
}

/** HSCAN key cursor [MATCH pattern] [COUNT count]. */
function hscan(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const cursorBig = parseScanCursor(args[2]);
  const hash = hashFields(ctx, args[1]);
  if (hash === undefined) return replyEmptyScan(w);
  const { pattern, count } = parseScanOptions(args, 3);
  const found: [string, string][] = [];
  let next = 0;
  if (hash.encoding() === "listpack") {
    // Small: all at once with cursor 0, as Redis replies for a listpack.
    hash.forEach((field, value) => {
      if (pattern === "*" || globMatch(pattern, field)) found.push([field, value]);
    });
  } else {
    const positions = hash.positions;
    let at = cursorBig >= BigInt(positions) ? positions : Number(cursorBig);
    for (let seen = 0; at < positions && seen < count; at++) {
      const field = hash.fieldAt(at);
      if (field === undefined) continue;
      seen++;
      if (pattern === "*" || globMatch(pattern, field)) found.push([field, hash.get(field)!]);
    }
    next = at < positions ? at : 0;
  }
  w.array(2);
  w.bulk(String(next));
  w.array(found.length * 2);
  for (const [field, value] of found) {
    w.bulk(field);
    w.bulk(value);
  }
}

/** The hash commands. */
export const HASH_COMMANDS: CommandHandler[] = [
  {
    name: "HSET",
    summary: "Sets fields of a hash; how many were new.",
    run(ctx, args, w) {
      w.integer(hset(ctx, args, "hset"));
    },
  },
  {
    name: "HMSET",
    summary: "Sets fields of a hash (deprecated form of HSET); OK.",
    run(ctx, args, w) {
      hset(ctx, args, "hmset");
      w.status("OK");
    },
  },
  {
    name: "HSETNX",
    summary: "Sets a hash field only if it does not exist; 1 if set.",
    run(ctx, args, w) {
      const [, key, field, value] = args;
      const hash = hashFields(ctx, key, false);
      checkPairs(hash, key, args);
      if (hash?.has(field)) return w.integer(0);
      setField(ctx, key, field, value);
      if (hash === undefined) ctx.notify(NOTIFY_NEW, "new", key);
      ctx.notify(NOTIFY_HASH, "hset", key);
      w.integer(1);
    },
  },
  {
    name: "HGET",
    summary: "Returns the value of a hash field.",
    run(ctx, args, w) {
      const value = hashFields(ctx, args[1])?.get(args[2]);
      if (value === undefined) w.nil();
      else w.bulk(value);
    },
  },
  {
    name: "HMGET",
    summary: "Returns the values of hash fields (nil for each one missing).",
    run(ctx, args, w) {
      const hash = hashFields(ctx, args[1]);
      w.array(args.length - 2);
      for (let i = 2; i < args.length; i++) {
        const value = hash?.get(args[i]);
        if (value === undefined) w.nil();
        else w.bulk(value);
      }
    },
  },
  {
    name: "HDEL",
    summary: "Deletes hash fields (the key with its last); how many existed.",
    run(ctx, args, w) {
      const key = args[1];
      const hash = hashFields(ctx, key, false);
      if (hash === undefined) return w.integer(0);
      // The fields held, each once (HDEL h f f deletes one), logged in one go.
      const fields = distinctArgs(args, 2, (field) => hash.has(field));
      const deleted = fields.length;
      // Counted before the change: a hash held as an object loses the fields in it.
      const emptied = deleted > 0 && deleted === hash.length;
      if (deleted > 0) {
        ctx.db.changeCollection(key, WalOp.HashDel, fields, fields.map(() => 0), applyDels);
        ctx.notify(NOTIFY_HASH, "hdel", key);
        if (emptied) ctx.notify(NOTIFY_GENERIC, "del", key);
      }
      w.integer(deleted);
    },
  },
  {
    name: "HLEN",
    summary: "Returns how many fields a hash has.",
    run(ctx, args, w) {
      w.integer(hashFields(ctx, args[1])?.length ?? 0);
    },
  },
  {
    name: "HSTRLEN",
    summary: "Returns the length of a hash field's value (0 if missing).",
    run(ctx, args, w) {
      w.integer(hashFields(ctx, args[1])?.get(args[2])?.length ?? 0);
    },
  },
  {
    name: "HEXISTS",
    summary: "Whether a hash field exists: 1 or 0.",
    run(ctx, args, w) {
      w.integer(hashFields(ctx, args[1])?.has(args[2]) ? 1 : 0);
    },
  },
  {
    name: "HKEYS",
    summary: "Returns the fields of a hash.",
    run(ctx, args, w) {
      const hash = hashFields(ctx, args[1]);
      w.array(hash?.length ?? 0);
      if (hash !== undefined) writeEntries(w, hash, true, false);
    },
  },
  {
    name: "HVALS",
    summary: "Returns the values of a hash.",
    run(ctx, args, w) {
      const hash = hashFields(ctx, args[1]);
      w.array(hash?.length ?? 0);
      if (hash !== undefined) writeEntries(w, hash, false, true);
    },
  },
  {
    name: "HGETALL",
    summary: "Returns the fields and values of a hash.",
    run(ctx, args, w) {
      const hash = hashFields(ctx, args[1]);
      w.map(hash?.length ?? 0);
      if (hash !== undefined) writeEntries(w, hash, true, true);
    },
  },
  {
    name: "HINCRBY",
    summary: "Adds an integer to a hash field's value; the new value.",
    run(ctx, args, w) {
      const [, key, field] = args;
      const by = parseInt64(args[3]);
      if (by === undefined) throw notAnInteger();
      const hash = hashFields(ctx, key, false);
      const text = hash?.get(field);
      const current = text === undefined ? 0n : parseInt64(text);
      if (current === undefined) throw error("hash value is not an integer");
      const next = current + by;
      if (!fitsInt64(next)) throw error("increment or decrement would overflow");
      checkNewField(hash, key, field, next.toString());
      setField(ctx, key, field, next.toString());
      if (hash === undefined) ctx.notify(NOTIFY_NEW, "new", key);
      ctx.notify(NOTIFY_HASH, "hincrby", key);
      w.integer(next);
    },
  },
  {
    name: "HINCRBYFLOAT",
    summary: "Adds a floating-point number to a hash field's value; the new value.",
    run(ctx, args, w) {
      const [, key, field] = args;
      const by = parseLongDouble(args[3]);
      if (by === undefined) throw error("value is not a valid float");
      if (isNotFinite(by)) throw error("value is NaN or Infinity");
      const hash = hashFields(ctx, key, false);
      const text = hash?.get(field);
      const current = text === undefined ? longDoubleFromBigInt(0n) : storedFloat(text);
      if (current === undefined) throw error("hash value is not a float");
      const sum = addLongDouble(current, by);
      if (isNotFinite(sum)) throw error("increment would produce NaN or Infinity");
      const result = formatLongDoubleHuman(sum);
      checkNewField(hash, key, field, result);
      setField(ctx, key, field, result);
      if (hash === undefined) ctx.notify(NOTIFY_NEW, "new", key);
      ctx.notify(NOTIFY_HASH, "hincrbyfloat", key);
      w.bulk(result);
    },
  },
  {
    name: "HRANDFIELD",
    summary: "Returns random fields of a hash (a count: distinct; negative: with repeats).",
    run(ctx, args, w) {
      if (args.length >= 3) return randomFields(ctx, args, w);
      const hash = hashFields(ctx, args[1]);
      if (hash === undefined) return w.nil();
      w.bulk(hash.fieldAt(randomPosition(hash))!);
    },
  },
  {
    name: "HSCAN",
    summary: "Iterates a hash's fields and values: HSCAN key cursor [MATCH pattern] [COUNT n].",
    run(ctx, args, w) {
      hscan(ctx, args, w);
    },
  },
];
