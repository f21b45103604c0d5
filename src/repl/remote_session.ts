/**
 * A {@link ReplSession} over TCP to a kvdb server, speaking the text
 * protocol: request lines out, one reply line back per request.
 *
 * A server closes idle connections (`network.idle_timeout`); a session
 * that finds its connection closed before sending reconnects once, so a
 * terminal left open for an hour still works. A connection lost with
 * requests in flight is reported, never retried: a write may have happened.
 *
 * @example
 * ```ts
 * const session = await RemoteSession.connect({ hostname: "127.0.0.1", port: 3223 });
 * await session.run([new TextEncoder().encode("PING")]); // [PONG]
 * ```
 * @module
 */

import { type Address, formatAddress } from "../config/config.ts";
import { joinLines, writeAll } from "../bytes/io.ts";
import type { ReplSession } from "./session.ts";

const LF = 0x0a;
const CR = 0x0d;
/** The longest reply line accepted (a value of the largest allowed size). */
const MAX_REPLY_BYTES = 1024 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 5000;

/** The server could not be reached or went away; the message says which. */
export class SessionError extends Error {}

async function dial(address: Address): Promise<Deno.TcpConn> {
  const where = formatAddress(address);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SessionError(`cannot connect to ${where}: timed out after ${CONNECT_TIMEOUT_MS}ms`),
        ),
      CONNECT_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([
      Deno.connect({ hostname: address.hostname, port: address.port }),
      timeout,
    ]);
  } catch (e) {
    if (e instanceof SessionError) throw e;
    const reason = e instanceof Deno.errors.ConnectionRefused
      ? "connection refused (is the server running?)"
      : e instanceof Error
      ? e.message
      : String(e);
    throw new SessionError(`cannot connect to ${where}: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reply lines from one connection, read in the background so that a close
 * by the server is noticed while the session is idle.
 */
class LineReader {
  readonly #conn: Deno.Conn;
  #buffer = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  #lines: Uint8Array[] = [];
  #eof = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.#pump();
  }

  /** The server closed (or broke) the connection. */
  get closed(): boolean {
    return this.#eof || this.#error !== undefined;
  }

  /** Lines that arrived unasked (such as an idle-timeout notice). */
  drainUnsolicited(): Uint8Array[] {
    const lines = this.#lines;
    this.#lines = [];
    return lines;
  }

  async next(): Promise<Uint8Array> {
    while (this.#lines.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#eof) throw new SessionError("connection closed by the server");
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    return this.#lines.shift()!;
  }

  async #pump(): Promise<void> {
    try {
      while (true) {
        if (this.#end === this.#buffer.length) this.#makeRoom();
        const n = await this.#conn.read(this.#buffer.subarray(this.#end));
        if (n === null) break;
        this.#end += n;
        this.#split();
        this.#wake?.();
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) {
        this.#error = new SessionError(
          `connection lost: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    this.#eof = true;
    this.#wake?.();
  }

  #split(): void {
    while (true) {
      const i = this.#buffer.subarray(this.#start, this.#end).indexOf(LF);
      if (i < 0) return;
      let lineEnd = this.#start + i;
      if (lineEnd > this.#start && this.#buffer[lineEnd - 1] === CR) lineEnd--;
      this.#lines.push(this.#buffer.slice(this.#start, lineEnd));
      this.#start += i + 1;
    }
  }

  #makeRoom(): void {
    const used = this.#end - this.#start;
    if (used * 2 <= this.#buffer.length) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
    } else {
      if (this.#buffer.length * 2 > MAX_REPLY_BYTES) {
        throw new SessionError(`reply line longer than ${MAX_REPLY_BYTES} bytes`);
      }
      const grown = new Uint8Array(this.#buffer.length * 2);
      grown.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = grown;
    }
    this.#start = 0;
    this.#end = used;
  }
}

/**
 * A session with a kvdb server.
 *
 * @example
 * ```ts
 * const s = await RemoteSession.connect(address);
 * await s.close();
 * ```
 */
export class RemoteSession implements ReplSession {
  readonly #address: Address;
  #conn: Deno.TcpConn;
  #reader: LineReader;

  private constructor(address: Address, conn: Deno.TcpConn) {
    this.#address = address;
    this.#conn = conn;
    this.#reader = new LineReader(conn);
  }

  /** Connects; rejects with a {@link SessionError} saying why it cannot. */
  static async connect(address: Address): Promise<RemoteSession> {
    return new RemoteSession(address, await dial(address));
  }

  async run(lines: Uint8Array[]): Promise<Uint8Array[]> {
    if (this.#reader.closed) await this.#reconnect();
    try {
      await writeAll(this.#conn, joinLines(lines));
    } catch (e) {
      throw new SessionError(
        `connection lost while sending: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const replies: Uint8Array[] = [];
    for (let i = 0; i < lines.length; i++) replies.push(await this.#reader.next());
    return replies;
  }

  async #reconnect(): Promise<void> {
    for (const notice of this.#reader.drainUnsolicited()) {
      console.error(new TextDecoder().decode(notice));
    }
    this.#closeConn();
    this.#conn = await dial(this.#address);
    this.#reader = new LineReader(this.#conn);
    console.error(`(reconnected to ${formatAddress(this.#address)})`);
  }

  #closeConn(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed by the server.
    }
  }

  close(): Promise<void> {
    this.#closeConn();
    return Promise.resolve();
  }
}
