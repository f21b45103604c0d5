/**
 * A `node:tls` socket seen as a `Deno.Conn` (read, write, close, the two
 * addresses), so the one connection loop serves it as it serves a
 * `Deno.listen` or `Deno.listenTls` socket. kvdb uses `node:tls` only where
 * `Deno.listenTls` falls short: it cannot ask for a client certificate
 * (`tls-auth-clients yes`), `node:tls` can (`requestCert`).
 *
 * Reading is bounded: once `MAX_QUEUED_BYTES` wait unread the socket is
 * paused, so a peer cannot fill the memory faster than kvdb reads.
 *
 * @example
 * ```ts
 * const conn = new NodeTlsConn(socket); // from tls.createServer's "secureConnection"
 * const n = await conn.read(buffer);
 * ```
 * @module
 */

import type { TLSSocket } from "node:tls";

/** Bytes received and not yet read before the socket is paused. */
const MAX_QUEUED_BYTES = 256 * 1024;

function netAddr(hostname: string | undefined, port: number | undefined): Deno.NetAddr {
  return { transport: "tcp", hostname: hostname ?? "", port: port ?? 0 };
}

/**
 * A TLS socket from `node:tls` with `Deno.Conn`'s reading and writing.
 *
 * @example
 * ```ts
 * server.on("secureConnection", (socket) => accept(new NodeTlsConn(socket)));
 * ```
 */
export class NodeTlsConn {
  readonly remoteAddr: Deno.NetAddr;
  readonly localAddr: Deno.NetAddr;
  readonly rid = -1;
  readonly #socket: TLSSocket;
  readonly #chunks: Uint8Array[] = [];
  #queuedBytes = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: TLSSocket) {
    this.#socket = socket;
    this.remoteAddr = netAddr(socket.remoteAddress, socket.remotePort);
    this.localAddr = netAddr(socket.localAddress, socket.localPort);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#queuedBytes += chunk.length;
      if (this.#queuedBytes >= MAX_QUEUED_BYTES) socket.pause();
      this.#wakeReader();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#wakeReader();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#wakeReader();
    });
    socket.on("error", (e: Error) => {
      this.#error ??= e;
      this.#wakeReader();
    });
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Reads into `p`: the byte count, or null at the end of the stream. */
  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error) throw new Deno.errors.ConnectionReset(this.#error.message);
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    let n = 0;
    while (n < p.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const take = Math.min(chunk.length, p.length - n);
      p.set(take === chunk.length ? chunk : chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    this.#queuedBytes -= n;
    if (this.#queuedBytes < MAX_QUEUED_BYTES && this.#socket.isPaused()) this.#socket.resume();
    return n;
  }

  /**
   * Writes all of `p` and resolves once the socket has taken it (after
   * `drain` when its buffer is full). The bytes are copied: the caller
   * reuses its buffer.
   */
  async write(p: Uint8Array): Promise<number> {
    if (this.#error) throw new Deno.errors.BrokenPipe(this.#error.message);
    if (this.#socket.destroyed) throw new Deno.errors.BrokenPipe("the TLS socket is closed");
    const flushed = this.#socket.write(p.slice());
    if (!flushed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#socket.off("drain", done);
          this.#socket.off("close", done);
          resolve();
        };
        this.#socket.on("drain", done);
        this.#socket.on("close", done);
      });
    }
    return p.length;
  }

  /** Closes the connection now. */
  close(): void {
    if (this.#socket.destroyed) throw new Deno.errors.BadResource("already closed");
    this.#socket.destroy();
  }

  /** Half-closes the write side. */
  closeWrite(): Promise<void> {
    this.#socket.end();
    return Promise.resolve();
  }

  /** TLS sockets here always send at once. */
  setNoDelay(_noDelay = true): void {}

  /** Keep-alive is the socket's default. */
  setKeepAlive(_keepAlive = true): void {}

  ref(): void {}
  unref(): void {}

  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    throw new Error("NodeTlsConn has no readable stream: use read()");
  }

  get writable(): WritableStream<Uint8Array<ArrayBufferLike>> {
    throw new Error("NodeTlsConn has no writable stream: use write()");
  }

  [Symbol.dispose](): void {
    if (!this.#socket.destroyed) this.#socket.destroy();
  }
}
