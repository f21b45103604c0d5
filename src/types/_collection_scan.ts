/**
 * What HSCAN, SSCAN and ZSCAN share: reading the cursor and the MATCH and
 * COUNT options as Redis 7.0 reads them, with its errors and in its order
 * (the cursor before the key is looked up, the options after: a missing
 * key answers an empty page whatever they say).
 *
 * @example
 * ```ts
 * const cursor = parseScanCursor(args[2]);
 * const hash = readHash(ctx, args[1]);
 * if (hash === undefined) return replyEmptyScan(w);
 * const { pattern, count } = parseScanOptions(args, 3);
 * ```
 * @module
 */

import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import { notAnInteger, parseInt64, syntaxError } from "../executor/command_spec.ts";

/** Most elements one *SCAN call is asked to look at (a larger COUNT is this). */
export const SCAN_MAX_COUNT = 1_000_000;

const U64_MAX = 2n ** 64n - 1n;

/**
 * A *SCAN cursor as Redis reads it with strtoul: a sign is allowed, a
 * negative number wraps, a magnitude past 64 bits is `-ERR invalid cursor`.
 *
 * @example
 * ```ts
 * parseScanCursor("-1"); // 18446744073709551615n
 * ```
 */
export function parseScanCursor(text: string): bigint {
  const match = /^([+-]?)(\d+)$/.exec(text);
  const magnitude = match === null ? -1n : BigInt(match[2]);
  if (magnitude < 0n || magnitude > U64_MAX) {
    throw new CommandError("ERR", "invalid cursor", "invalid cursor");
  }
  return match![1] === "-" && magnitude > 0n ? U64_MAX + 1n - magnitude : magnitude;
}

/**
 * MATCH and COUNT from `args[from]` on: the pattern (default `*`) and the
 * count (default 10, at most {@link SCAN_MAX_COUNT}); Redis's errors.
 *
 * @example
 * ```ts
 * parseScanOptions(["HSCAN", "h", "0", "COUNT", "5"], 3); // { pattern: "*", count: 5 }
 * ```
 */
export function parseScanOptions(args: string[], from: number): { pattern: string; count: number } {
  let pattern = "*";
  let count = 10;
  for (let i = from; i < args.length; i += 2) {
    const option = args[i].toUpperCase();
    const value = args[i + 1];
    if (value === undefined) throw syntaxError();
    if (option === "COUNT") {
      const n = parseInt64(value);
      if (n === undefined) throw notAnInteger();
      if (n < 1n) throw syntaxError();
      count = n > BigInt(SCAN_MAX_COUNT) ? SCAN_MAX_COUNT : Number(n);
    } else if (option === "MATCH") {
      pattern = value;
    } else {
      throw syntaxError();
    }
  }
  return { pattern, count };
}

/**
 * A missing key's page: cursor 0, no elements.
 *
 * @example
 * ```ts
 * if (set === undefined) return replyEmptyScan(w);
 * ```
 */
export function replyEmptyScan(w: ReplyWriter): void {
  w.array(2);
  w.bulk("0");
  w.array(0);
}
