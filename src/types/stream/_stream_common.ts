/**
 * What the stream commands share: reading a stream for a command (hits,
 * misses, WRONGTYPE), Redis's stream errors, writing entries as Redis
 * replies them, and parsing XADD's and XTRIM's trimming options
 * (`streamParseAddOrTrimArgsOrReply`).
 *
 * @example
 * ```ts
 * const stream = readStream(ctx, args[1]);
 * stream?.range(start, end, false, (id, fields, n) => { writeEntry(w, id, fields, n); return true; });
 * ```
 * @module
 */

import {
  type CommandContext,
  notAnInteger,
  parseInt64,
  parseShortInteger,
} from "../../executor/command_spec.ts";
import { noteRead } from "../../keyspace/lookup.ts";
import { CommandError, type ReplyWriter } from "../../protocol/reply_writer.ts";
import { ByteReader } from "./_stream_codec.ts";
import { StreamValue } from "./stream.ts";
import { formatId, MIN_ID, parseId } from "./stream_id.ts";
import { STREAM_NODE_LIMITS } from "./stream.ts";

/** An `ERR` reply with Redis's words. */
export function streamError(message: string): CommandError {
  return new CommandError("ERR", message);
}

/** The stream at `key` for a reading command (counted as a hit or miss); WRONGTYPE for another type. */
export function readStream(ctx: CommandContext, key: string): StreamValue | undefined {
  const stream = ctx.db.collection(key, StreamValue);
  noteRead(ctx, key, stream !== undefined);
  return stream;
}

/** An entry as Redis replies it: `[id, [field, value, ...]]`. */
export function writeEntry(w: ReplyWriter, id: string, fields: string, count: number): void {
  w.array(2);
  w.bulk(formatId(id));
  w.array(count * 2);
  const r = new ByteReader(fields);
  for (let i = 0; i < count * 2; i++) w.bulk(r.str());
}

/**
 * A signed 64-bit integer argument as a number (exact within ±2^53;
 * beyond, only compared with lengths); Redis's error otherwise.
 */
export function longArgument(s: string): number {
  const short = parseShortInteger(s);
  if (short !== undefined) return short;
  const value = parseInt64(s);
  if (value === undefined) throw notAnInteger();
  return Number(value);
}

/** XADD's and XTRIM's parsed options. */
export interface TrimArgs {
  /** Where the ID (XADD) is, or the end (XTRIM). */
  next: number;
  /** Entries to keep, or -1 (trimming by ID, or not at all). */
  maxLen: number;
  /** Trimming by ID: the lowest ID kept; MIN_ID otherwise. */
  minId: string;
  /** MAXLEN or MINID was given. */
  trims: boolean;
  approx: boolean;
  /** Most entries one trim removes; 0: no limit. */
  limit: number;
  noMkStream: boolean;
  /** XADD's explicit ID, undefined for `*`. */
  id: string | undefined;
  seqGiven: boolean;
}

/** The one {@link TrimArgs} parsing fills (read before the next command: none per XADD). */
const parsed: TrimArgs = {
  next: 2,
  maxLen: -1,
  minId: MIN_ID,
  trims: false,
  approx: false,
  limit: -1,
  noMkStream: false,
  id: undefined,
  seqGiven: true,
};

/**
 * Options of `args` from position 2, as Redis parses them for XADD
 * (`xadd`) or XTRIM, in a shared object the command reads at once.
 */
export function parseTrimArgs(args: readonly string[], xadd: boolean): TrimArgs {
  const out = parsed;
  out.next = 2;
  out.maxLen = -1;
  out.minId = MIN_ID;
  out.trims = false;
  out.approx = false;
  out.limit = -1;
  out.noMkStream = false;
  out.id = undefined;
  out.seqGiven = true;
  let limitGiven = false;
  let i = 2;
  for (; i < args.length; i++) {
    const more = args.length - 1 - i;
    const opt = args[i];
    if (xadd && opt === "*") break;
    // Only option words are lower-cased (an ID is not: no string made per XADD).
    const first = opt.charCodeAt(0) | 0x20;
    // The usual spelling needs no lower-cased copy.
    const lower = opt === "MAXLEN"
      ? "maxlen"
      : opt.length >= 5 && opt.length <= 10 && first >= 108 /* l */ && first <= 110 /* n */
      ? opt.toLowerCase()
      : "";
    if ((lower === "maxlen" || lower === "minid") && more > 0) {
      if (out.trims) {
        throw streamError(
          "syntax error, MAXLEN and MINID options at the same time are not compatible",
        );
      }
      out.approx = false;
      const next = args[i + 1];
      if (more >= 2 && next === "~") {
        out.approx = true;
        i++;
      } else if (more >= 2 && next === "=") {
        i++;
      }
      if (lower === "maxlen") {
        out.maxLen = longArgument(args[i + 1]);
        if (out.maxLen < 0) throw streamError("The MAXLEN argument must be >= 0.");
      } else {
        out.minId = parseId(args[i + 1], 0n, true).id;
      }
      i++;
      out.trims = true;
    } else if (lower === "limit" && more > 0) {
      out.limit = longArgument(args[i + 1]);
      if (out.limit < 0) throw streamError("The LIMIT argument must be >= 0.");
      limitGiven = true;
      i++;
    } else if (xadd && lower === "nomkstream") {
      out.noMkStream = true;
    } else if (xadd) {
      const parsed = parseId(opt, 0n, true, true);
      out.id = parsed.id;
      out.seqGiven = parsed.seqGiven;
      break;
    } else {
      throw streamError("syntax error");
    }
  }
  out.next = i;
  if (limitGiven && out.limit !== 0 && !out.trims) {
    throw streamError(
      "syntax error, LIMIT cannot be used without specifying a trimming strategy",
    );
  }
  if (!xadd && !out.trims) {
    throw streamError("syntax error, XTRIM must be called with a trimming strategy");
  }
  if (limitGiven) {
    if (!out.approx) {
      throw streamError("syntax error, LIMIT cannot be used without the special ~ option");
    }
  } else {
    out.limit = out.approx ? 100 * STREAM_NODE_LIMITS.maxEntries : 0;
  }
  return out;
}
