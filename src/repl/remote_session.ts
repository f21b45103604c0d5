/**
 * A {@link ReplSession} over TCP to a kvdb server (or any Redis server),
 * speaking RESP so that replies arrive with their types.
 *
 * On connecting, the session sends one `PING` as a RESP request: a server
 * answering `+PONG` speaks RESP (kvdb's `network.protocol` `auto` or
 * `resp`); one answering with text-protocol lines (`protocol: text`) gets
 * text request lines from then on, and its reply lines are shown as they
 * are. It then asks `CONFIG GET kvdb-network-max-message-size` (kvdb's
 * `max_message_size`) so that a request the server would refuse, and close
 * the connection for, is refused here instead with the text protocol's
 * error, the connection kept.
 *
 * A server closes idle connections (`network.idle_timeout`); a session
 * that finds its connection closed before sending reconnects once, and
 * restores the database (`SELECT`) and protocol (`HELLO 3`) it had, so a
 * terminal left open for an hour still works. A connection lost with
 * requests in flight is reported, never retried: a write may have happened.
 *
 * @example
 * ```ts
 * const session = await RemoteSession.connect({ hostname: "127.0.0.1", port: 3223 });
 * await session.run([["PING"]]); // [{ type: "status", value: "PONG" }]
 * ```
 * @module
 */

import { writeBinary } from "../bytes/binary_string.ts";
import { writeAll } from "../bytes/io.ts";
import { type Address, formatAddress } from "../config/config.ts";
import { asciiUpper } from "../executor/command_table.ts";
import { renderTextArgument } from "../protocol/text_quote.ts";
import { type Reply, ReplyParser, ReplyProtocolError } from "./reply.ts";
import type { ReplSession } from "./session.ts";

const LF = 0x0a;
const CONNECT_TIMEOUT_MS = 5000;
/** Longest first reply line read while finding out the server's protocol. */
const MAX_PROBE_LINE_BYTES = 64 * 1024;
/** kvdb's CONFIG name of `network.max_message_size`. */
const MAX_MESSAGE_PARAMETER = "kvdb-network-max-message-size";
const PING_REQUEST = new TextEncoder().encode("*1\r\n$4\r\nPING\r\n");

/** Requests whose reply is a RESP3 push, not an out-of-band message. */
const PUSH_REPLIES: ReadonlySet<string> = new Set([
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
]);

/**
 * The server could not be reached or went away; the message says why.
 *
 * @example
 * ```ts
 * throw new SessionError("connection closed by the server");
 * ```
 */
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
 * The bytes of a RESP multibulk request (arguments are binary strings).
 *
 * @example
 * ```ts
 * encodeRequest(["GET", "k"]); // "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
 * ```
 */
export function encodeRequest(args: readonly string[]): Uint8Array {
  let size = 3 + String(args.length).length;
  for (const arg of args) size += 5 + String(arg.length).length + arg.length;
  const out = new Uint8Array(size);
  let at = writeBinary(`*${args.length}\r\n`, out, 0);
  for (const arg of args) {
    at = writeBinary(`$${arg.length}\r\n`, out, at);
    at = writeBinary(arg, out, at);
    at = writeBinary("\r\n", out, at);
  }
  return out;
}

/** A request line of the text protocol, each argument quoted as needed. */
function textRequest(args: readonly string[]): Uint8Array {
  const line = args.map(renderTextArgument).join(" ") + "\n";
  const out = new Uint8Array(line.length);
  writeBinary(line, out, 0);
  return out;
}

/** The text decoder's refusal of a request over `max_message_size`, in its words. */
function tooLarge(maxBytes: number): Reply {
  const limit = `${maxBytes} bytes (network.max_message_size)`;
  return {
    type: "error",
    value: `ERR Protocol error: request larger than ${limit}`,
    text: `request too large: over ${limit}; discarded`,
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Replies from one connection, read in the background so that a close by
 * the server is noticed while the session is idle. Until {@link setMode},
 * bytes are kept raw for {@link firstLine}.
 */
class ReplyReader {
  readonly #conn: Deno.Conn;
  #raw: Uint8Array = new Uint8Array(0);
  #parser: ReplyParser | undefined;
  #replies: Reply[] = [];
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

  /** Replies that arrived unasked (an idle-timeout notice of a text server). */
  drainUnsolicited(): Reply[] {
    const replies = this.#replies;
    this.#replies = [];
    return replies;
  }

  /** The first line the server sent (without CR LF), before any parsing. */
  async firstLine(): Promise<string> {
    while (true) {
      const i = this.#raw.indexOf(LF);
      if (i >= 0) {
        const end = i > 0 && this.#raw[i - 1] === 0x0d ? i - 1 : i;
        return new TextDecoder().decode(this.#raw.subarray(0, end));
      }
      if (this.#raw.length > MAX_PROBE_LINE_BYTES) {
        throw new SessionError(
          `the server's first reply line is over ${MAX_PROBE_LINE_BYTES} bytes`,
        );
      }
      await this.#waitForData();
    }
  }

  /** Parses everything received (the first line included) as `mode` from now on. */
  setMode(mode: "resp" | "text"): void {
    this.#parser = new ReplyParser(mode);
    this.#feed(this.#raw);
    this.#raw = new Uint8Array(0);
  }

  async next(): Promise<Reply> {
    while (this.#replies.length === 0) await this.#waitForData();
    return this.#replies.shift()!;
  }

  async #waitForData(): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#eof) throw new SessionError("connection closed by the server");
    await new Promise<void>((resolve) => this.#wake = resolve);
  }

  #feed(bytes: Uint8Array): void {
    if (this.#parser === undefined) {
      this.#raw = concat(this.#raw, bytes);
      return;
    }
    this.#parser.push(bytes);
    for (let reply = this.#parser.next(); reply !== undefined; reply = this.#parser.next()) {
      this.#replies.push(reply);
    }
  }

  async #pump(): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        this.#feed(buffer.subarray(0, n));
        this.#wake?.();
      }
    } catch (e) {
      if (e instanceof ReplyProtocolError) {
        this.#error = new SessionError(`protocol error in the server's reply: ${e.message}`);
        try {
          this.#conn.close();
        } catch {
          // Closed already.
        }
      } else if (!(e instanceof Deno.errors.BadResource)) {
        this.#error = new SessionError(
          `connection lost: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    this.#eof = true;
    this.#wake?.();
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
  #reader: ReplyReader;
  #mode: "resp" | "text" = "resp";
  #maxRequestBytes = Infinity;
  /** What a reconnect restores: the SELECTed database, the HELLO protocol. */
  #db = "0";
  #protocol = "2";
  #pushes: Reply[] = [];
  /** The session itself closed the connection (to end a stream): reconnect without a notice. */
  #quietReconnect = false;

  private constructor(address: Address, conn: Deno.TcpConn) {
    this.#address = address;
    this.#conn = conn;
    this.#reader = new ReplyReader(conn);
  }

  /** Connects; rejects with a {@link SessionError} saying why it cannot. */
  static async connect(address: Address): Promise<RemoteSession> {
    const session = new RemoteSession(address, await dial(address));
    try {
      await session.#handshake();
    } catch (e) {
      session.#closeConn();
      throw e;
    }
    return session;
  }

  get maxRequestBytes(): number {
    return this.#maxRequestBytes;
  }

  /** Finds out the server's protocol and request limit. */
  async #handshake(): Promise<void> {
    await this.#send(PING_REQUEST);
    const first = await this.#reader.firstLine();
    try {
      // A text-protocol server reads the three lines of the RESP PING as
      // three requests: `*1` and `$4` (unknown commands), then PING.
      this.#mode = first.startsWith("ERROR:") ? "text" : "resp";
      this.#reader.setMode(this.#mode);
      const skip = this.#mode === "text" ? 3 : 1;
      for (let i = 0; i < skip; i++) await this.#reader.next();
      if (this.#mode === "text") return;
      // kvdb's own name: Redis answers an empty list, and no limit is kept.
      await this.#send(encodeRequest(["CONFIG", "GET", MAX_MESSAGE_PARAMETER]));
      const reply = await this.#reader.next();
      if (reply.type === "array" && reply.items.length === 2 && reply.items[1].type === "bulk") {
        const limit = Number(reply.items[1].value);
        if (Number.isSafeInteger(limit) && limit > 0) this.#maxRequestBytes = limit;
      }
    } catch (e) {
      // A server that refuses a client (too many) says why, then closes.
      if (!(e instanceof SessionError)) throw e;
      throw new SessionError(`${e.message}: ${first.replace(/^[-+]/, "")}`);
    }
  }

  async #send(bytes: Uint8Array): Promise<void> {
    try {
      await writeAll(this.#conn, bytes);
    } catch (e) {
      throw new SessionError(
        `connection lost while sending: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  /** The encoded requests, or for one the server would refuse, the refusal. */
  #encode(requests: readonly (readonly string[])[]): (Uint8Array | Reply)[] {
    return requests.map((args) => {
      if (this.#mode === "text") return textRequest(args);
      const bytes = encodeRequest(args);
      return bytes.length > this.#maxRequestBytes ? tooLarge(this.#maxRequestBytes) : bytes;
    });
  }

  async run(requests: readonly (readonly string[])[]): Promise<Reply[]> {
    if (this.#reader.closed) await this.#reconnect();
    const encoded = this.#encode(requests);
    let size = 0;
    for (const e of encoded) if (e instanceof Uint8Array) size += e.length;
    const batch = new Uint8Array(size);
    let at = 0;
    for (const e of encoded) {
      if (!(e instanceof Uint8Array)) continue;
      batch.set(e, at);
      at += e.length;
    }
    await this.#send(batch);
    const replies: Reply[] = [];
    for (let i = 0; i < requests.length; i++) {
      const e = encoded[i];
      replies.push(e instanceof Uint8Array ? await this.#reply(requests[i]) : e);
    }
    return replies;
  }

  /**
   * Sends one request whose replies keep coming (SUBSCRIBE, MONITOR) and
   * hands each to `onReply` until an error reply, the connection's end, or
   * `signal` (which closes the connection: the next request reconnects).
   */
  async stream(
    args: readonly string[],
    onReply: (reply: Reply) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    if (this.#reader.closed) await this.#reconnect();
    const [encoded] = this.#encode([args]);
    if (!(encoded instanceof Uint8Array)) return await onReply(encoded);
    await this.#send(encoded);
    const stop = () => {
      this.#quietReconnect = true;
      this.#closeConn();
    };
    signal.addEventListener("abort", stop);
    try {
      while (!signal.aborted) {
        let reply: Reply;
        try {
          reply = await this.#reader.next();
        } catch (e) {
          if (signal.aborted) return;
          throw e;
        }
        await onReply(reply);
        if (reply.type === "error") return;
      }
    } finally {
      signal.removeEventListener("abort", stop);
    }
  }

  /** The reply to `args`, setting aside push messages that arrive meanwhile. */
  async #reply(args: readonly string[]): Promise<Reply> {
    const name = asciiUpper(args[0] ?? "");
    while (true) {
      const reply = await this.#reader.next();
      if (reply.type === "push" && !PUSH_REPLIES.has(name)) {
        this.#pushes.push(reply);
        continue;
      }
      if (reply.type !== "error") this.#track(name, args, reply);
      return reply;
    }
  }

  /** Remembers the session state a reconnect must restore. */
  #track(name: string, args: readonly string[], reply: Reply): void {
    // Inside MULTI the reply is QUEUED: nothing changed yet.
    const ok = reply.type === "status" && reply.value === "OK";
    if (name === "SELECT" && args.length === 2 && ok) this.#db = args[1];
    else if (
      name === "HELLO" && args.length >= 2 && (reply.type === "map" || reply.type === "array")
    ) {
      this.#protocol = args[1];
    } else if (name === "RESET") {
      this.#db = "0";
      this.#protocol = "2";
    }
  }

  takePushes(): Reply[] {
    const pushes = this.#pushes;
    this.#pushes = [];
    return pushes;
  }

  async #reconnect(): Promise<void> {
    for (const notice of this.#reader.drainUnsolicited()) {
      if (notice.type === "line") console.error(notice.value);
    }
    this.#closeConn();
    this.#conn = await dial(this.#address);
    this.#reader = new ReplyReader(this.#conn);
    await this.#handshake();
    const restore: string[][] = [];
    if (this.#db !== "0") restore.push(["SELECT", this.#db]);
    if (this.#protocol !== "2") restore.push(["HELLO", this.#protocol]);
    const where = formatAddress(this.#address);
    if (restore.length > 0 && this.#mode === "resp") {
      await this.#send(concatAll(restore.map(encodeRequest)));
      for (const args of restore) {
        const reply = await this.#reader.next();
        if (reply.type === "error") {
          console.error(`(could not restore ${args.join(" ")} on ${where}: ${reply.value})`);
        }
      }
    }
    if (!this.#quietReconnect) console.error(`(reconnected to ${where})`);
    this.#quietReconnect = false;
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

function concatAll(parts: Uint8Array[]): Uint8Array {
  return parts.reduce(concat, new Uint8Array(0));
}
