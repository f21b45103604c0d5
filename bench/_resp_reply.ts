/**
 * Where a RESP reply ends in a buffer, and a read of a number of them, for
 * the bench's own load generators (bench/multi_load.ts,
 * bench/small_ops.ts), which count replies without decoding them.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("+OK\r\n$3\r\nabc\r\n");
 * skipReply(bytes, 0, bytes.length); // 5
 * skipReply(bytes, 5, bytes.length); // 14
 * ```
 * @module
 */

/** The offset after the reply at `pos` of `b[.., end)`, or -1 if it is not complete yet. */
export function skipReply(b: Uint8Array, pos: number, end: number): number {
  if (pos >= end) return -1;
  let eol = pos;
  while (eol + 1 < end && !(b[eol] === 0x0d && b[eol + 1] === 0x0a)) eol++;
  if (eol + 1 >= end) return -1;
  const type = b[pos];
  if (type !== 0x24 && type !== 0x2a) return eol + 2; // + - : and the like: one line
  let n = 0;
  for (let i = pos + 1; i < eol; i++) {
    if (b[i] === 0x2d) return eol + 2; // a nil
    n = n * 10 + b[i] - 0x30;
  }
  if (type === 0x24) return eol + 2 + n + 2 <= end ? eol + 2 + n + 2 : -1;
  let at = eol + 2;
  for (let i = 0; i < n; i++) {
    at = skipReply(b, at, end);
    if (at < 0) return -1;
  }
  return at;
}

/**
 * Reads from `conn` into `buf` until `count` replies have come (`buf`
 * holds what is not yet counted; it must fit the largest reply), throwing
 * on an error reply when `refuseErrors`.
 */
export async function readReplies(
  conn: Deno.Conn,
  buf: Uint8Array,
  count: number,
  refuseErrors = false,
): Promise<void> {
  let have = 0;
  let at = 0;
  for (let replies = 0; replies < count;) {
    const next = skipReply(buf, at, have);
    if (next >= 0) {
      if (refuseErrors && buf[at] === 0x2d) {
        throw new Error(new TextDecoder().decode(buf.subarray(at, next - 2)));
      }
      at = next;
      replies++;
      continue;
    }
    buf.copyWithin(0, at, have);
    have -= at;
    at = 0;
    const n = await conn.read(buf.subarray(have));
    if (n === null) throw new Error("the server closed the connection");
    have += n;
  }
}
