/**
 * Stream IDs replied from bytes: `ms-seq` in decimal, as `formatId`
 * writes it, without a string per reply (XADD's reply, XRANGE's entries).
 *
 * @example
 * ```ts
 * writeIdReply(w, 1_700_000_000_000, 3); // $15 1700000000000-3
 * ```
 * @module
 */

import type { ReplyWriter } from "../../protocol/reply_writer.ts";

/** The digits of the last ID replied: its ms part is kept while it repeats. */
const idReply = new Uint8Array(2 * 16 + 1);
let idReplyMs = -1;
let idReplySeqAt = 0;

/** Writes the digits of safe integer `n` into `out` at `at`; returns the end. */
function writeDigits(out: Uint8Array, at: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let x = n;
  for (let i = at + digits - 1; i >= at; i--) {
    out[i] = 48 + (x % 10);
    x = Math.floor(x / 10);
  }
  return at + digits;
}

/**
 * Replies the ID `ms-seq` (both below 2^53) as a bulk string, its ms
 * digits written once per millisecond (XADD's reply as a string and its
 * copy were ~6% of a pipelined XADD's server CPU, `--cpu-prof`).
 *
 * @example
 * ```ts
 * writeIdReply(w, 5, 0); // $3 5-0
 * ```
 */
export function writeIdReply(w: ReplyWriter, ms: number, seq: number): void {
  if (ms !== idReplyMs) {
    idReplySeqAt = writeDigits(idReply, 0, ms) + 1;
    idReply[idReplySeqAt - 1] = 45; // -
    idReplyMs = ms;
  }
  w.bulkRange(idReply, 0, writeDigits(idReply, idReplySeqAt, seq));
}
