/**
 * A raw RESP connection for tests: sends commands as RESP arrays of
 * binary-safe bulk strings (or any bytes) and reads back one frame at a
 * time, exactly as it came (RESP2 and RESP3; see tests/_resp_frames.ts).
 *
 * ```ts
 * import { RespConnection } from "./_resp_connection.ts";
 * const c = await RespConnection.connect(6379);
 * const reply = await c.call(["GET", "k"]); // { raw, value, push }
 * c.close();
 * ```
 *
 * @module
 */

import {
  binaryBytes,
  encodeCommand,
  escapeBytes,
  parseFrame,
  type RespValue,
} from "./_resp_frames.ts";

/** How long a read waits by default. */
export const DEFAULT_REPLY_TIMEOUT_MS = 5_000;

/** A command argument: a binary string (one char per byte) or bytes. */
export type Arg = string | Uint8Array;

/** One reply or push as it came: its exact bytes and its decoded value. */
export interface Frame {
  raw: Uint8Array;
  value: RespValue;
  /** A RESP3 push message (`>`), not a reply to a request. */
  push: boolean;
}

/** Nothing came within the time allowed. */
export class ReplyTimeoutError extends Error {
  override name = "ReplyTimeoutError";
}

/** The server closed the connection before a whole frame came. */
export class ConnectionClosedError extends Error {
  override name = "ConnectionClosedError";
}

const READ_CHUNK_BYTES = 64 * 1024;

/**
 * A RESP connection that sends commands as arrays of binary-safe bulk
 * strings (or any raw bytes) and reads back one frame at a time, exactly as
 * it came. Push messages met while waiting for a reply are kept in
 * `pushes`, apart from replies.
 *
 * ```ts
 * const c = await RespConnection.connect(port);
 * const reply = await c.call(["SET", "k", "\x00\xff"]);
 * escapeBytes(reply.raw); // '"+OK\\r\\n"'
 * c.close();
 * ```
 */
export class RespConnection {
  /** Push frames read by {@link readReply} while it waited for a reply. */
  readonly pushes: Frame[] = [];
  #buffer = new Uint8Array(READ_CHUNK_BYTES);
  #start = 0;
  #end = 0;
  readonly #chunk = new Uint8Array(READ_CHUNK_BYTES);
  #pendingRead: Promise<number | null> | undefined;
  #eof = false;

  private constructor(readonly conn: Deno.TcpConn) {}

  static async connect(port: number): Promise<RespConnection> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RespConnection(conn);
  }

  /** Sends one command as a RESP array. */
  send(args: readonly Arg[]): Promise<void> {
    return this.sendRaw(encodeCommand(args));
  }

  /** Sends bytes (or a binary string) as they are: inline commands, malformed RESP. */
  async sendRaw(data: Arg): Promise<void> {
    const bytes = typeof data === "string" ? binaryBytes(data) : data;
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  /**
   * Reads the next frame (reply or push); null if the server closed the
   * connection at a frame boundary. Throws {@link ConnectionClosedError} if
   * it closed inside a frame, {@link ReplyTimeoutError} after `timeoutMs`.
   */
  async readFrame(timeoutMs = DEFAULT_REPLY_TIMEOUT_MS): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const view = this.#buffer.subarray(0, this.#end);
      const parsed = parseFrame(view, this.#start);
      if (parsed !== undefined) {
        const raw = this.#buffer.slice(this.#start, parsed.end);
        this.#start = parsed.end;
        return { raw, value: parsed.value, push: parsed.push };
      }
      if (!await this.#fill(deadline - Date.now())) {
        if (this.#start === this.#end) return null;
        throw new ConnectionClosedError(
          `connection closed inside a frame: ${
            escapeBytes(this.#buffer.subarray(this.#start, this.#end))
          }`,
        );
      }
    }
  }

  /** Reads frames until a reply (not a push); pushes go to `pushes`. Throws at end of stream. */
  async readReply(timeoutMs = DEFAULT_REPLY_TIMEOUT_MS): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const frame = await this.readFrame(Math.max(0, deadline - Date.now()));
      if (frame === null) throw new ConnectionClosedError("connection closed before a reply");
      if (!frame.push) return frame;
      this.pushes.push(frame);
    }
  }

  /** Sends a command and reads its reply. */
  async call(args: readonly Arg[], timeoutMs = DEFAULT_REPLY_TIMEOUT_MS): Promise<Frame> {
    await this.send(args);
    return await this.readReply(timeoutMs);
  }

  /** True if the server closes the connection within `timeoutMs` (unread bytes are dropped). */
  async closedByServer(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    try {
      while (await this.#fill(deadline - Date.now())) this.#start = this.#end;
      return true;
    } catch (e) {
      if (e instanceof ReplyTimeoutError) return false;
      throw e;
    }
  }

  /** Whether bytes are buffered that no read has consumed yet. */
  get hasBuffered(): boolean {
    return this.#start < this.#end;
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }

  /** Reads more bytes; false at end of stream. A read that outlives a timeout is kept. */
  async #fill(timeoutMs: number): Promise<boolean> {
    if (this.#eof) return false;
    if (timeoutMs <= 0) throw new ReplyTimeoutError("no reply in time");
    this.#pendingRead ??= this.conn.read(this.#chunk).catch(() => null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      this.#pendingRead,
      new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), timeoutMs)),
    ]).finally(() => clearTimeout(timer));
    if (n === "timeout") throw new ReplyTimeoutError(`no reply within ${timeoutMs} ms`);
    this.#pendingRead = undefined;
    if (n === null) {
      this.#eof = true;
      return false;
    }
    this.#append(this.#chunk.subarray(0, n));
    return true;
  }

  #append(bytes: Uint8Array): void {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end + bytes.length > this.#buffer.length) {
      const live = this.#end - this.#start;
      const size = Math.max(this.#buffer.length, (live + bytes.length) * 2);
      if (size > this.#buffer.length) {
        const grown = new Uint8Array(size);
        grown.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = grown;
      } else {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buffer.set(bytes, this.#end);
    this.#end += bytes.length;
  }
}
