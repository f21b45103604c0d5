/**
 * The Deno floor's request loop (bench/floor_server.ts): read into a reused
 * buffer, find each request by the `*` that starts it, answer `+OK`
 * (`+PONG` to PING, an empty array to CONFIG), wait for `beforeWrite`
 * (the durable floor's log), and write the answers with one call. Shared
 * by the floor server and bench/loop_cost.ts, which runs it over
 * in-process connections beside kvdb's.
 *
 * @example
 * ```ts
 * await floorLoop(conn); // returns at the peer's end of stream
 * ```
 * @module
 */

const READ_BYTES = 64 * 1024;
const OK = new TextEncoder().encode("+OK\r\n");
const PONG = new TextEncoder().encode("+PONG\r\n");
const EMPTY_ARRAY = new TextEncoder().encode("*0\r\n");

/** What the loop needs of a connection. */
export interface FloorConn {
  read(into: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
}

/** Serves `conn` until its end of stream (see the module comment). */
export async function floorLoop(
  conn: FloorConn,
  beforeWrite?: (read: Uint8Array) => Promise<void>,
): Promise<void> {
  const buffer = new Uint8Array(READ_BYTES);
  let out = new Uint8Array(READ_BYTES);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) return;
    let length = 0;
    for (let i = 0; i < n; i++) {
      if (buffer[i] !== 0x2a || (i > 0 && buffer[i - 1] !== 0x0a)) continue;
      // "*1\r\n$4\r\nPING": the command's first letter follows two CRLFs.
      const letter = i + 8 < n ? buffer[i + 8] : 0;
      const reply = letter === 0x50 ? PONG : letter === 0x43 ? EMPTY_ARRAY : OK;
      if (length + reply.length > out.length) {
        const grown = new Uint8Array(out.length * 2);
        grown.set(out);
        out = grown;
      }
      out.set(reply, length);
      length += reply.length;
    }
    await beforeWrite?.(buffer.subarray(0, n));
    let written = 0;
    while (written < length) written += await conn.write(out.subarray(written, length));
  }
}
