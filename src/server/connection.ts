/**
 * One client connection: read a batch of bytes, decode and execute every
 * complete request in it, wait until the writes among them are durable, and
 * answer them all with one write.
 *
 * Every resource is bounded: the read buffer never holds more than one
 * maximum-size request beyond what it has decoded, and replies are sent
 * (after their commit) once `OUT_FLUSH_BYTES` have gathered, so a long
 * pipeline of large GETs cannot grow the output without limit.
 *
 * @example
 * ```ts
 * const connection = new Connection(conn, services);
 * await connection.run(); // returns when the peer or the server closes it
 * ```
 * @module
 */

import type { Executor } from "../executor/executor.ts";
import type { Logger } from "../log/logger.ts";
import { OutBuffer } from "../protocol/out_buffer.ts";
import type { ReplyWriter } from "../protocol/reply_writer.ts";
import { TextRequestDecoder } from "../protocol/text_decoder.ts";
import { TextReplyWriter } from "../protocol/text_writer.ts";

const MIN_READ_BYTES = 64 * 1024;
const OUT_FLUSH_BYTES = 256 * 1024;

/** What a connection needs from its server. */
export interface ConnectionServices {
  executor: Executor;
  log: Logger;
  maxMessageBytes: number;
  /** True once the server is shutting down: finish the batch, then close. */
  closing(): boolean;
}

/**
 * A client connection and its protocol state.
 *
 * @example
 * ```ts
 * connections.add(new Connection(conn, services));
 * ```
 */
export class Connection {
  /** `Date.now()` of the last read or write that made progress. */
  lastActiveMs = Date.now();
  /** Waiting for the peer's next bytes (nothing of ours is in flight). */
  reading = false;
  readonly #conn: Deno.Conn;
  readonly #services: ConnectionServices;
  readonly #out = new OutBuffer();
  readonly #decoder: TextRequestDecoder;
  readonly #writer: ReplyWriter;
  #closed = false;
  /** Requests whose replies are in `#out` (to answer each if commit fails). */
  #unsentReplies = 0;

  constructor(conn: Deno.Conn, services: ConnectionServices) {
    this.#conn = conn;
    this.#services = services;
    this.#decoder = new TextRequestDecoder(services.maxMessageBytes);
    this.#writer = new TextReplyWriter(this.#out);
  }

  /** Serves requests until the peer closes, an error, or shutdown. */
  async run(): Promise<void> {
    const { executor } = this.#services;
    let buffer = new Uint8Array(
      Math.max(MIN_READ_BYTES, this.#decoder.maxBufferedBytes),
    );
    let start = 0;
    let end = 0;
    try {
      while (!this.#closed) {
        if (end === buffer.length) {
          // The decoder consumes any request longer than its limit, so a
          // full buffer always has a decoded prefix to drop.
          if (start === 0) throw new Error("read buffer full of one request");
          buffer.copyWithin(0, start, end);
          end -= start;
          start = 0;
        }
        this.reading = true;
        const n = await this.#conn.read(buffer.subarray(end));
        this.reading = false;
        if (n === null) break;
        this.lastActiveMs = Date.now();
        end += n;
        while (start < end) {
          const used = this.#decoder.decode(buffer, start, end);
          if (used === 0) break;
          start += used;
          if (this.#decoder.args !== undefined) {
            executor.execute(this.#decoder.args, this.#writer);
          } else if (this.#decoder.error !== undefined) {
            this.#writer.begin(undefined, 0);
            this.#writer.error(this.#decoder.error);
          } else continue;
          this.#unsentReplies++;
          if (this.#out.length >= OUT_FLUSH_BYTES) await this.#flush();
        }
        if (start === end) start = end = 0;
        await this.#flush();
        if (this.#services.closing()) break;
      }
    } catch (e) {
      if (!this.#closed && !isDisconnect(e)) {
        this.#services.log.warn("connection failed", { error: String(e) });
      }
    } finally {
      buffer = new Uint8Array(0);
      this.close();
    }
  }

  /**
   * Sends `line` if the connection is idle in a read (so it cannot cut into
   * a reply), then closes it.
   */
  async closeWithNotice(line: string): Promise<void> {
    if (this.reading && !this.#closed) {
      await writeAll(this.#conn, new TextEncoder().encode(line + "\n"))
        .catch(() => {});
    }
    this.close();
  }

  /** Closes the socket; the run loop ends at its next await. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer's reset: nothing left to release.
    }
  }

  /** Waits for durability of the batch's writes, then sends its replies. */
  async #flush(): Promise<void> {
    if (this.#out.length === 0) return;
    await this.#services.executor.commit(
      this.#out,
      this.#writer,
      this.#unsentReplies,
    );
    await writeAll(this.#conn, this.#out.view());
    this.lastActiveMs = Date.now();
    this.#out.reset();
    this.#unsentReplies = 0;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}

function isDisconnect(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.BadResource ||
    e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.NotConnected;
}
