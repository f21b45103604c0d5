/**
 * One client connection: read a batch of bytes, decode and execute every
 * complete request in it, wait until the writes among them are durable, and
 * answer them all with one write (a large reply: in writes of at most
 * `MAX_WRITE_BYTES`, each awaited, so other connections run between them).
 *
 * Output the client did not ask for in a reply — pub/sub messages, MONITOR
 * lines (see `clients.ts`) — joins the replies in the same buffer at a reply
 * boundary (so ordering is Redis's: a message published before a reply was
 * written comes before it). While the buffer is being written, such output
 * waits in a second buffer and follows; while the connection is idle in a
 * read, a send is started outside the request loop, and the loop waits for
 * it before executing what it reads next.
 *
 * Client limits (src/clients): a client whose unsent output passes its
 * class's limit (Redis's `client-output-buffer-limit`: normal, or pubsub
 * for a subscriber or MONITOR client) is closed and counted — checked as
 * output is added, and by the registry's sweep for a client stuck above a
 * soft limit; one whose unparsed input passes `client-query-buffer-limit`
 * is closed without a reply, as Redis does. A normal client below every
 * limit pays one comparison per request for them.
 *
 * Every resource is bounded: the read buffer never holds more than one
 * maximum-size request beyond what it has decoded; replies are sent (after
 * their commit) once `OUT_FLUSH_BYTES` have gathered, counting large values
 * the output references rather than copies, so a long pipeline of large
 * GETs cannot grow the output without limit; and a request that takes
 * longer than `network.request_timeout` to arrive is timed out by the
 * server (`requestStartedMs`).
 *
 * @example
 * ```ts
 * const connection = new Connection(conn, services);
 * await connection.run(); // returns when the peer or the server closes it
 * ```
 * @module
 */

import { newSession, type Session } from "../executor/command_spec.ts";
import type { Executor } from "../executor/executor.ts";
import { type ByteWriter, writeAll } from "../bytes/io.ts";
import type { Logger } from "../log/logger.ts";
import type { AdminState } from "../admin/admin_state.ts";
import { OutBuffer } from "../protocol/out_buffer.ts";
import {
  type Protocol,
  protocolFor,
  type ProtocolMode,
  type RequestDecoder,
} from "../protocol/protocol.ts";
import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import { RespReplyWriter } from "../protocol/resp_writer.ts";
import { TextReplyWriter } from "../protocol/text_writer.ts";
import { formatAddress } from "../config/config.ts";
import { Client, type ClientIo, type ClientRegistry } from "./clients.ts";
import { afterCommand, REPLY_DEFERRED, SuppressingWriter } from "./reply_mode.ts";
import { ClientClosedError } from "./client_pause.ts";
import { DENIED_REPLY, protectedModeDenies } from "../security/protected_mode.ts";
import { OutputLimitState } from "../clients/output_limit.ts";

const MIN_READ_BYTES = 64 * 1024;
/**
 * Requests decoded before the first of them is executed, so that their
 * keys are prefetched together (`Engine.prefetch`). Measured with
 * redis-benchmark, 50 clients, pipeline 16, 100k keys, A/B of 9 rounds:
 * SET 1.12M → 1.25M/s and GET 1.14M → 1.28M/s, user CPU per request
 * 0.61 → 0.49 µs and 0.58 → 0.50 µs; unpipelined loads unchanged.
 */
const DECODE_AHEAD_REQUESTS = 64;
/**
 * Reply bytes gathered before they are sent (counting values referenced
 * rather than copied), so a pipeline of large GETs waits for the client to
 * read each instead of holding them all.
 */
const OUT_FLUSH_BYTES = 256 * 1024;
/**
 * Most bytes one write call sends. A large reply goes out in slices of
 * this, each awaited, so the other connections are served between them.
 */
const MAX_WRITE_BYTES = 1024 * 1024;
/**
 * Bytes read at a time while a command waits (a blocked BLPOP): reading is
 * how a peer that leaves is noticed.
 */
const WAIT_READ_BYTES = 16 * 1024;
/**
 * Most bytes held from a peer while its command waits; beyond them it is
 * not read until the command ends (TCP holds the rest).
 */
const HELD_INPUT_MAX_BYTES = 1024 * 1024;

/**
 * Takes a connection over after a request that turns it into something
 * else (a replica's `REPLSYNC`): gets the socket, the request and the bytes
 * read after it, and resolves when done with the connection.
 */
export type Takeover = (conn: Deno.Conn, args: string[], rest: Uint8Array) => Promise<void>;

/** What a connection needs from its server. */
export interface ConnectionServices {
  executor: Executor;
  /** Counts the errors and closes the executor never sees (INFO errorstats, limits). */
  admin: AdminState;
  log: Logger;
  maxMessageBytes: number;
  /** `network.protocol`: how the connection's protocol is chosen. */
  protocolMode: ProtocolMode;
  /** True once the server is shutting down: finish the batch, then close. */
  closing(): boolean;
  /** Requests (by upper-case command name) that take the connection over. */
  takeovers: ReadonlyMap<string, Takeover>;
  /** The lengths of the names in `takeovers`: another name is not looked up (nor upper-cased). */
  takeoverNameLengths: ReadonlySet<number>;
  /** Serve only the takeover requests (a replication-only port). */
  takeoverOnly: boolean;
  /** The server's clients (CLIENT LIST, pub/sub, MONITOR). */
  clients: ClientRegistry;
}

/**
 * A client connection and its protocol state.
 *
 * @example
 * ```ts
 * connections.add(new Connection(conn, services));
 * ```
 */
export class Connection implements ClientIo {
  /**
   * Reads and writes that made progress, counted rather than timed: a
   * `Date.now()` is ~58 ns here, and stamping each read and each write
   * read the clock twice per unpipelined request. {@link activeAt} turns
   * the count into a time when someone looks (the server's sweep, every
   * 100 ms; CLIENT LIST), as Redis stamps its clients with a clock
   * cached per event-loop turn.
   */
  #activity = 0;
  /** `#activity` at the last {@link activeAt}, and the time that call stamped. */
  #activitySeen = 0;
  #lastActiveMs = Date.now();
  /** Waiting for the peer's next bytes (nothing of ours is in flight). */
  reading = false;
  /**
   * `Date.now()` when the connection began waiting for the rest of a
   * request it has the first bytes of; 0 when it holds no partial request.
   * The server closes it once that is `network.request_timeout` ago, so
   * trickled bytes (slowloris) cannot hold a connection forever.
   */
  requestStartedMs = 0;
  /** Taken over (by replication): not idle-timed, closed at shutdown. */
  takenOver = false;
  /**
   * Waiting for a command that replies later (a blocked BLPOP, WAIT, a
   * paused client): not idle-timed (as Redis exempts blocked clients),
   * closed at shutdown.
   */
  waiting = false;
  readonly #conn: Deno.Conn;
  readonly #services: ConnectionServices;
  readonly #out = new OutBuffer();
  readonly #session: Session = newSession();
  /** Chosen by the first byte received. */
  #protocol: Protocol | undefined;
  #closed = false;
  /** Requests whose replies are in `#out` (to answer each if commit fails). */
  #unsentReplies = 0;
  /**
   * Requests decoded and not yet answered: `#ahead[#aheadAt, #aheadCount)`,
   * in order. A fixed array whose slots are cleared as they are taken, so
   * it pins no request's arguments.
   */
  readonly #ahead: (string[] | DecodeFailure | undefined)[] = new Array(DECODE_AHEAD_REQUESTS)
    .fill(undefined);
  #aheadAt = 0;
  #aheadCount = 0;
  /** The takeover the last request in `#ahead` asks for, if any. */
  #aheadTakeover: Takeover | undefined = undefined;
  /** Whether a request was decoded since the last read began. */
  #decoded = false;
  /** This connection as the server's clients see it. */
  readonly client: Client;
  /** `#out` is being written: out-of-band output goes to `#later`. */
  #writing = false;
  /** Out-of-band output that came while `#out` was being written. */
  #later: OutBuffer | undefined;
  #laterWriter: ReplyWriter | undefined;
  /** A send started while the connection was idle in a read, until it ends. */
  #outOfLoop: Promise<void> | undefined;
  /** Since when the unsent output has been above its soft limit. */
  readonly #outputLimit = new OutputLimitState();
  /** The writer that hides replies (CLIENT REPLY OFF / SKIP), made on first use. */
  #suppressing: SuppressingWriter | undefined;
  /** Bytes read, not yet executed, at the last read; and the read buffer's size. */
  #queryBytes = 0;
  #readBufferBytes = MIN_READ_BYTES;
  /** The send of the replies before a command that waits, while it runs. */
  #sendBeforeWait: Promise<void> | undefined;
  /** Bytes the peer sent while a command waited, for the requests after it. */
  readonly #held: Uint8Array[] = [];
  #heldBytes = 0;
  /** A read into `#waitBuffer` begun while a command waited and still running. */
  #strayRead: Promise<number | null> | undefined;
  #waitBuffer: Uint8Array | undefined;

  /**
   * The socket as large replies are written to it: each slice that the peer
   * takes counts as activity, so a slow reader of a long reply is not idle.
   */
  readonly #slices: ByteWriter = {
    write: async (bytes) => {
      const n = await this.#conn.write(bytes);
      this.#activity++;
      return n;
    },
  };

  constructor(conn: Deno.Conn, services: ConnectionServices) {
    this.#conn = conn;
    this.#services = services;
    this.client = new Client(
      services.clients,
      this.#session,
      this,
      addressOf(conn.remoteAddr),
      addressOf(conn.localAddr),
    );
    this.#session.client = this.client;
    services.clients.add(this.client);
  }

  /** See {@link ClientIo.activeAt}. */
  activeAt(nowMs: number): number {
    if (this.#activity !== this.#activitySeen) {
      this.#activitySeen = this.#activity;
      this.#lastActiveMs = nowMs;
    }
    return this.#lastActiveMs;
  }

  /** See {@link ClientIo.queryBytes}. */
  get queryBytes(): number {
    return this.#queryBytes;
  }

  /** See {@link ClientIo.readBufferBytes}. */
  get readBufferBytes(): number {
    return this.#readBufferBytes;
  }

  /** See {@link ClientIo.closed}. */
  get closed(): boolean {
    return this.#closed;
  }

  /** See {@link ClientIo.sending}. */
  get sending(): Promise<void> | undefined {
    return this.#sendBeforeWait;
  }

  /** See {@link ClientIo.writing}. */
  get writing(): boolean {
    return this.#writing || this.#outOfLoop !== undefined;
  }

  /** See {@link ClientIo.outputBytes}. */
  get outputBytes(): number {
    return this.#out.length + (this.#later?.length ?? 0);
  }

  /** See {@link ClientIo.outOfBand}. */
  outOfBand(): ReplyWriter | undefined {
    const protocol = this.#protocol;
    if (this.#closed || protocol === undefined) return undefined;
    let w = protocol.writer;
    if (this.#writing) {
      if (this.#later === undefined) {
        this.#later = new OutBuffer(1024);
        this.#laterWriter = protocol.name === "resp"
          ? new RespReplyWriter(this.#later, this.#session)
          : new TextReplyWriter(this.#later);
      }
      w = this.#laterWriter!;
    }
    w.begin(undefined, 0);
    return w;
  }

  /** See {@link ClientIo.checkLimits}. */
  checkLimits(nowMs: number): void {
    if (this.#closed) return;
    if (this.outputBytes > 0 || this.#outputLimit.softSinceMs !== 0) this.#overOutputLimit(nowMs);
  }

  /** See {@link ClientIo.outOfBandDone}. */
  outOfBandDone(): void {
    if (this.#overOutputLimit()) return;
    if (this.reading && this.#outOfLoop === undefined && !this.#closed) {
      this.#outOfLoop = this.#sendOutOfLoop();
    }
  }

  /** The protocol spoken, once the first byte has arrived. */
  get protocol(): Protocol["name"] | undefined {
    return this.#protocol?.name;
  }

  /** Serves requests until the peer closes, an error, or shutdown. */
  async run(): Promise<void> {
    const { executor, maxMessageBytes } = this.#services;
    const limits = this.#services.clients.limits;
    let buffer = new Uint8Array(MIN_READ_BYTES);
    let start = 0;
    let end = 0;
    try {
      const admin = this.#services.admin;
      if (
        protectedModeDenies(admin.config.security.protectedMode, admin.acl, this.#conn.remoteAddr)
      ) {
        await writeAll(this.#conn, new TextEncoder().encode(DENIED_REPLY)).catch(() => {});
        return;
      }
      while (!this.#closed) {
        if (end === buffer.length) {
          if (start > 0) {
            buffer.copyWithin(0, start, end);
            end -= start;
            start = 0;
          } else {
            // One request fills the buffer: grow it, up to the size at
            // which the decoder must decide (it consumes any request
            // over the limit), so memory follows the requests actually sent.
            const limit = this.#protocol!.decoder.maxBufferedBytes;
            if (buffer.length >= limit) throw new Error("decoder made no progress at its limit");
            const grown = new Uint8Array(Math.min(limit, buffer.length * 2));
            grown.set(buffer);
            buffer = grown;
          }
        }
        if (start === end && this.#protocol?.decoder.midRequest !== true) {
          this.requestStartedMs = 0;
        } else if (this.requestStartedMs === 0 || this.#decoded) {
          // A request begun in the last read: its time runs from now, not
          // from when the server was busy with the ones before it.
          this.requestStartedMs = Date.now();
        }
        this.#decoded = false;
        this.reading = true;
        // Output that came after the last send (another connection ran
        // between its end and now) goes out without waiting for a request.
        if (this.#out.length > 0 && this.#outOfLoop === undefined) {
          this.#outOfLoop = this.#sendOutOfLoop();
        }
        // The buffer itself when empty (the usual case): a view per read is garbage.
        const into = end === 0 ? buffer : buffer.subarray(end);
        const n = this.#heldBytes === 0 && this.#strayRead === undefined
          ? await this.#conn.read(into)
          : await this.#readHeld(into);
        this.reading = false;
        if (n === null) break;
        // A send started while idle: replies must not join a buffer in flight.
        if (this.#outOfLoop !== undefined) await this.#outOfLoop;
        this.#activity++;
        if (n === 0) continue;
        const net = this.#services.admin.net;
        net.inputBytes += n;
        net.reads++;
        this.#protocol ??= protocolFor(
          this.#services.protocolMode,
          buffer[end],
          maxMessageBytes,
          this.#out,
          this.#session,
        );
        const { decoder, writer } = this.#protocol;
        end += n;
        if (end - start > limits.queryBufferLimitBytes) {
          this.#closeForQueryLimit(buffer.subarray(start, end));
          break;
        }
        this.#queryBytes = end - start;
        this.#readBufferBytes = buffer.length;
        let fatal = false;
        for (;;) {
          if (this.#aheadAt === this.#aheadCount) {
            start = this.#decodeAhead(decoder, buffer, start, end);
            if (this.#aheadCount === 0) break;
          }
          const request = this.#ahead[this.#aheadAt]!;
          this.#ahead[this.#aheadAt++] = undefined;
          if (request instanceof DecodeFailure) {
            writer.begin(undefined, 0);
            writer.error(request.error);
            this.#services.admin.noteError(request.error, { client: this.client.id });
            fatal = request.fatal;
          } else if (
            this.#aheadAt === this.#aheadCount && this.#aheadTakeover !== undefined &&
            this.#refuseTakeover(request, writer)
          ) {
            fatal = true;
          } else if (this.#aheadAt === this.#aheadCount && this.#aheadTakeover !== undefined) {
            const takeover = this.#aheadTakeover;
            await this.#flush();
            this.takenOver = true;
            await takeover(this.#conn, request, buffer.slice(start, end));
            return;
          } else if (this.#services.takeoverOnly && !isAuth(request)) {
            writer.begin(undefined, 0);
            const error = takeoverOnlyError();
            writer.error(error);
            this.#services.admin.noteError(error, { client: this.client.id });
            fatal = true;
          } else {
            const session = this.#session;
            const w = session.replyFlags === 0
              ? writer
              : this.#suppressing ??= new SuppressingWriter(writer, session);
            const pending = executor.execute(request, w, session);
            if (pending !== undefined) await this.#waitFor(pending);
            if (session.replyFlags !== 0) {
              if (session.replyFlags & REPLY_DEFERRED) this.client.sendDeferred();
              afterCommand(session);
            }
            fatal = session.closeAfterReply;
          }
          this.#unsentReplies++;
          if (fatal || this.#closed) break;
          const outBytes = this.#out.length;
          if (outBytes >= OUT_FLUSH_BYTES || outBytes >= limits.checkBytes) {
            if (this.#overOutputLimit()) break;
            this.#services.clients.measure(this.client);
            if (this.#closed) break;
            if (outBytes >= OUT_FLUSH_BYTES) await this.#flush();
          }
        }
        if (start === end) {
          start = end = 0;
          // A large request grew the buffer; don't keep it for an idle client.
          if (buffer.length > MIN_READ_BYTES) {
            buffer = new Uint8Array(MIN_READ_BYTES);
            this.#readBufferBytes = MIN_READ_BYTES;
          }
        }
        await this.#flush();
        if (fatal || this.#services.closing()) break;
      }
    } catch (e) {
      if (!this.#closed && !isDisconnect(e) && !(e instanceof ClientClosedError)) {
        this.#services.log.warn("connection failed", { error: String(e) });
      }
    } finally {
      buffer = new Uint8Array(0);
      this.close();
      executor.endSession(this.#session);
      this.#services.clients.remove(this.client);
    }
  }

  /**
   * Sends `line` if the connection is idle in a read (so it cannot cut into
   * a reply), then closes it.
   */
  async closeWithNotice(line: string): Promise<void> {
    // RESP clients would take an unasked line for the next reply.
    const resp = this.#protocol === undefined
      ? this.#services.protocolMode === "resp"
      : this.#protocol.name === "resp";
    if (this.reading && !this.#closed && !resp && this.#outOfLoop === undefined) {
      await writeAll(this.#conn, new TextEncoder().encode(line + "\n"))
        .catch(() => {});
    }
    this.close();
  }

  /** Closes the socket; the run loop ends at its next await. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // A command blocked on keys ends now, unanswered (Redis frees the client).
    this.#services.executor.blocking.drop(this.#session.id);
    // What was never sent is released now, not when the last write gives up.
    this.#later = undefined;
    this.#laterWriter = undefined;
    if (!this.#writing) this.#out.reset();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer's reset: nothing left to release.
    }
  }

  /**
   * Decodes the complete requests in `buffer[start, end)`, up to
   * `DECODE_AHEAD_REQUESTS`, into `#ahead`, prefetches their keys, and
   * returns where decoding stopped. A pipeline's lookups then find their
   * keyspace memory in cache. Stops
   * after a takeover request (the bytes after it are the takeover's) and
   * after a fatal decode error (nothing after it is read).
   */
  #decodeAhead(decoder: RequestDecoder, buffer: Uint8Array, start: number, end: number): number {
    const ahead = this.#ahead;
    let count = 0;
    this.#aheadTakeover = undefined;
    // Before AUTH, one request at a time: the decoder's limits for a
    // stranger must end with the AUTH that lifts them.
    const unauthenticated = this.#services.executor.mustAuthenticate(this.#session);
    decoder.unauthenticated = unauthenticated;
    const most = unauthenticated ? 1 : DECODE_AHEAD_REQUESTS;
    while (start < end && count < most) {
      const used = decoder.decode(buffer, start, end);
      if (used === 0) break;
      start += used;
      if (decoder.args !== undefined) {
        ahead[count++] = decoder.args;
        this.#aheadTakeover = this.#takeoverFor(decoder.args);
        if (this.#aheadTakeover !== undefined) break;
      } else if (decoder.error !== undefined) {
        ahead[count++] = new DecodeFailure(decoder.error, decoder.fatal);
        if (decoder.fatal) break;
      }
    }
    this.#aheadAt = 0;
    this.#aheadCount = count;
    if (count > 0) this.#decoded = true;
    // One request too: a multi-key one (MSET's ten keys) has misses to
    // overlap, and the executor skips a lone key. redis-benchmark MSET at
    // 50 clients unpipelined, 100k keys, 5 alternating rounds after one to
    // create them: median 55.9k -> 62.4k requests/s, server CPU per request
    // 17.9 -> 15.7 us (SET and GET unchanged within the noise).
    if (count > 0) this.#services.executor.prefetch(ahead, count, this.#session);
    return start;
  }

  /**
   * Refuses a takeover (REPLSYNC) from a client not authenticated as a
   * user allowed to run it, answering why; true if refused.
   */
  #refuseTakeover(request: string[], writer: ReplyWriter): boolean {
    const error = this.#services.executor.refuseTakeover(request, this.#session);
    if (error === undefined) return false;
    writer.begin(undefined, 0);
    writer.error(error);
    this.#services.admin.noteError(error, { client: this.client.id });
    return true;
  }

  #takeoverFor(args: string[]): Takeover | undefined {
    if (args.length === 0 || !this.#services.takeoverNameLengths.has(args[0].length)) {
      return undefined;
    }
    return this.#services.takeovers.get(args[0].toUpperCase());
  }

  /**
   * Waits for durability of the batch's writes, then sends its replies, and
   * then whatever out-of-band output came meanwhile.
   */
  async #flush(): Promise<void> {
    const out = this.#out;
    while (out.length > 0 && !this.#closed) {
      const pending = this.#services.executor.commit(
        out,
        this.#protocol!.writer,
        this.#unsentReplies,
      );
      // Yields even when nothing is pending: the other connections whose
      // reads completed in this turn execute before any reply is written.
      // Measured (50 clients, pipeline 16, A/B of 7 rounds): writing in the
      // same microtask as the execution, then reading again at once, cost
      // ~17% more CPU per request.
      await pending;
      this.#writing = true;
      const net = this.#services.admin.net;
      net.outputBytes += out.length;
      net.writes++;
      try {
        if (out.referencedBytes === 0 && out.length <= MAX_WRITE_BYTES) {
          // writeAll's own frame and promise only for what one write left.
          const view = out.view();
          const written = await this.#conn.write(view);
          if (written < view.length) await writeAll(this.#conn, view.subarray(written));
        } else {
          await out.writeTo(this.#slices, MAX_WRITE_BYTES);
        }
      } finally {
        this.#writing = false;
      }
      this.#activity++;
      out.reset();
      this.#unsentReplies = 0;
      const later = this.#later;
      if (later !== undefined && later.length > 0) {
        out.bytes(later.view());
        later.reset();
      }
    }
    // The peer took everything: its time above a soft limit ends here, as
    // a check that saw the buffer empty would end it.
    this.#outputLimit.softSinceMs = 0;
  }

  /**
   * Waits for a command that replies later. The replies before it are sent
   * first, as Redis sends them (a pipeline's replies must not wait for a
   * blocked BLPOP); a reply it writes waits for that send
   * ({@link ClientIo.sending}). Meanwhile the socket is read, so that a
   * peer that leaves is noticed — the connection is then closed, which
   * ends a wait on keys — and what the peer sends is held for after.
   */
  async #waitFor(pending: Promise<void>): Promise<void> {
    if (this.#out.length > 0 && !this.#closed) {
      const sending = this.#sendBeforeWait = this.#flush();
      try {
        await sending;
      } finally {
        this.#sendBeforeWait = undefined;
      }
    }
    let settled = false;
    const done = pending.then(() => {
      settled = true;
    });
    const ended = done.then(() => undefined);
    this.waiting = true;
    try {
      while (!settled && !this.#closed && this.#heldBytes < HELD_INPUT_MAX_BYTES) {
        const into = this.#waitBuffer ??= new Uint8Array(WAIT_READ_BYTES);
        // A failed read is a peer gone, like the end of its stream.
        this.#strayRead ??= this.#conn.read(into).catch(() => null);
        const n = await Promise.race([ended, this.#strayRead]);
        if (n === undefined) break;
        this.#strayRead = undefined;
        if (n === null) {
          this.close();
          break;
        }
        this.#activity++;
        this.#held.push(into.slice(0, n));
        this.#heldBytes += n;
      }
      await done;
    } finally {
      this.waiting = false;
    }
  }

  /**
   * Reads into `target` what came while a command waited: the bytes held,
   * or those of the read still running then.
   */
  async #readHeld(target: Uint8Array): Promise<number | null> {
    if (this.#heldBytes === 0) {
      const n = await this.#strayRead!;
      this.#strayRead = undefined;
      if (n === null) return null;
      this.#held.push(this.#waitBuffer!.slice(0, n));
      this.#heldBytes += n;
    }
    let copied = 0;
    while (copied < target.length && this.#held.length > 0) {
      const chunk = this.#held[0];
      const take = Math.min(chunk.length, target.length - copied);
      target.set(chunk.subarray(0, take), copied);
      copied += take;
      if (take === chunk.length) this.#held.shift();
      else this.#held[0] = chunk.subarray(take);
    }
    this.#heldBytes -= copied;
    return copied;
  }

  /** Sends out-of-band output while the connection is idle in a read. */
  async #sendOutOfLoop(): Promise<void> {
    try {
      await this.#flush();
    } catch (e) {
      if (!this.#closed && !isDisconnect(e)) {
        this.#services.log.warn("connection failed", { error: String(e) });
      }
      this.close();
    } finally {
      this.#outOfLoop = undefined;
    }
  }

  /**
   * Closes the client if its unsent output passed its class's hard limit,
   * or stayed over the soft one for its time (Redis's
   * `checkClientOutputBufferLimits`); true if it did.
   */
  #overOutputLimit(nowMs?: number): boolean {
    const limits = this.#services.clients.limits;
    const pending = this.outputBytes;
    const which = this.#outputLimit.check(limits.outputLimitOf(this.client), pending, nowMs);
    if (which === undefined) return false;
    this.#services.clients.outputLimitDisconnections++;
    this.#services.admin.noteLimitClose(limits.outputLimitKey(this.client, which), {
      id: this.client.id,
      addr: this.client.addr,
      pendingBytes: pending,
    });
    this.client.killed = true;
    this.close();
    return true;
  }

  /**
   * Closes a client whose unparsed input passed `client-query-buffer-limit`,
   * without a reply (Redis logs the first bytes of its query buffer too).
   */
  #closeForQueryLimit(unparsed: Uint8Array): void {
    this.#services.admin.noteLimitClose("network.query_buffer_limit", {
      id: this.client.id,
      addr: this.client.addr,
      queryBytes: unparsed.length,
      head: JSON.stringify(String.fromCharCode(...unparsed.subarray(0, 64))),
    });
    this.client.killed = true;
    this.close();
  }
}

/** Most chars of a request's second argument kept for CLIENT LIST's `cmd` (a subcommand). */

/** A socket address as Redis shows it: `ip:port`, `[ipv6]:port`. */
function addressOf(addr: Deno.Addr): string {
  return addr.transport === "tcp" || addr.transport === "udp"
    ? formatAddress({ hostname: addr.hostname, port: addr.port })
    : "unknown";
}

/** A request the decoder rejected: answered with `error` in its turn. */
class DecodeFailure {
  constructor(readonly error: CommandError, readonly fatal: boolean) {}
}

/** AUTH: served on a replication-only port too, so replicas can log in there. */
function isAuth(request: string[]): boolean {
  return request.length > 0 && request[0].length === 4 && request[0].toUpperCase() === "AUTH";
}

function takeoverOnlyError(): CommandError {
  return new CommandError(
    "ERR",
    "this port serves replication only (replication.master_address)",
    "this port serves replication only (replication.master_address)",
  );
}

function isDisconnect(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.BadResource ||
    e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.NotConnected ||
    // A TLS peer that closed without close_notify (redis-benchmark does).
    e instanceof Deno.errors.UnexpectedEof;
}
