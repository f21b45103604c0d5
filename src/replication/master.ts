/**
 * The master side of replication: answers a replica's `REPLSYNC` request
 * and streams it log records — from the segment files while it is behind,
 * from the in-memory backlog once it keeps up — then keeps it fed as
 * records become durable. Only durable records are shipped: a replica must
 * never hold a record its master could lose in a crash.
 *
 * Handshake (one text line each way, so it works on the client port):
 *
 * ```text
 * replica: REPLSYNC <replid | -> <next LSN it needs> [<host> <port>]
 *                                   (the address it serves clients on)
 * master:  +CONTINUE <replid> <master LSN>    records from that LSN follow
 *                                             (<replid> may be new to the
 *                                             replica: the master continues
 *                                             its history under this id)
 *          +TRUNCATE <replid> <LSN> <master LSN>  the replica holds records
 *                                             after <LSN> this master never
 *                                             had: it cuts them; records
 *                                             from <LSN> + 1 follow
 *          +FULLRESYNC <replid> <first LSN> <master LSN> <reason>
 *                                             discard everything; records
 *                                             from <first LSN> follow
 *                      (<master LSN>: the master's durable LSN now, so the
 *                       replica can tell when it has caught up)
 *          ERROR: <why>                       and the connection closes
 * ```
 *
 * Then frames (frame.ts): RECORDS and HEARTBEAT (every `sync_interval`)
 * from the master, ACK (the replica's durable LSN) from the replica. A
 * replica silent for three intervals is dropped.
 *
 * @example
 * ```ts
 * const master = new ReplicationMaster({ wal, backlog, replid, syncIntervalMs: 1000, log });
 * await master.serve(conn, ["REPLSYNC", "-", "1"], new Uint8Array(0));
 * ```
 * @module
 */

import { writeAll } from "../bytes/io.ts";
import type { Logger } from "../log/logger.ts";
import { OutBuffer } from "../protocol/out_buffer.ts";
import { listSegments } from "../wal/segment.ts";
import type { Wal } from "../wal/wal.ts";
import { WalFlag, type WalRecord } from "../wal/record.ts";
import type { ReplicationBacklog } from "./backlog.ts";
import {
  encodeHeartbeat,
  encodeRecords,
  FrameDecoder,
  FrameType,
  MAX_REPLICA_FRAME_BODY_BYTES,
  RECORDS_FRAME_TARGET_BYTES,
} from "./frame.ts";

/** Intervals of silence after which a peer counts as dead. */
export const DEAD_PEER_INTERVALS = 3;

/** What the master needs. */
export interface MasterOptions {
  wal: Wal;
  backlog: ReplicationBacklog;
  replid: string;
  /**
   * The history this one continues (a promoted replica's old master's id)
   * and the last LSN of it held here: a replica of it at or before that
   * LSN continues without a full resynchronisation.
   */
  replid2?: string;
  secondLsn?: number;
  syncIntervalMs: number;
  log: Logger;
  /**
   * A snapshot to start a full resynchronisation from when the log no
   * longer starts at LSN 1: one whose LSN + 1 is at or after `firstLsn`
   * (the records after it are in the log), taken if needed.
   */
  snapshotForResync?: (firstLsn: number) => Promise<{ path: string; lsn: number }>;
}

/** How long a disconnected replica's position still holds segments back. */
export const RECENT_REPLICA_MS = 10 * 60_000;

/**
 * How long the backlog is kept after the last replica left (Redis's
 * `repl-backlog-ttl` default): a replica back within it resumes from memory.
 */
export const BACKLOG_TTL_MS = 3600_000;

/** One connected replica, as INFO shows it. */
export interface ReplicaInfo {
  /** The address it serves clients on, as it announced it (else its connection's). */
  address: string;
  /** The replica's last acknowledged durable LSN. */
  ackLsn: number;
  /** The next LSN to send. */
  sentLsn: number;
  /** `Date.now()` of its last ACK (or of the handshake). */
  lastAckMs: number;
  /** Its log is being sent from before the master's end (catching up or resyncing). */
  catchingUp: boolean;
}

interface Link {
  conn: Deno.Conn;
  address: string;
  nextLsn: number;
  ackLsn: number;
  lastHeardMs: number;
  lastAckMs: number;
  closed: boolean;
  wake: (() => void) | undefined;
  /** Has been sent everything durable at least once (logged once). */
  caughtUp: boolean;
}

function peerAddress(conn: Deno.Conn): string {
  const addr = conn.remoteAddr as Deno.NetAddr;
  return `${addr.hostname}:${addr.port}`;
}

/**
 * Serves replicas of this master.
 *
 * @example
 * ```ts
 * master.replicas(); // [{ address, ackLsn, sentLsn }]
 * ```
 */
export class ReplicationMaster {
  readonly #options: MasterOptions;
  readonly #links = new Set<Link>();
  /** Positions of replicas that left recently: they may come back for them. */
  #recent: { ackLsn: number; goneMs: number }[] = [];
  readonly #stopListening: () => void;
  #closed = false;
  /** Releases the backlog once no replica came back for {@link BACKLOG_TTL_MS}. */
  #backlogRelease: ReturnType<typeof setTimeout> | undefined;
  /** Told of every ACK (WAIT). */
  readonly #ackListeners = new Set<() => void>();

  constructor(options: MasterOptions) {
    this.#options = options;
    this.#stopListening = options.wal.onDurable(() => {
      for (const link of this.#links) link.wake?.();
    });
  }

  /** The replication id this master serves under. */
  get replid(): string {
    return this.#options.replid;
  }

  /** The history before this one ("" when none) and its last LSN here. */
  get replid2(): string {
    return this.#options.replid2 ?? "";
  }

  get secondLsn(): number {
    return this.#options.replid2 ? this.#options.secondLsn ?? -1 : -1;
  }

  /** Connected replicas. */
  replicas(): ReplicaInfo[] {
    return [...this.#links].map((l) => ({
      address: l.address,
      ackLsn: l.ackLsn,
      sentLsn: l.nextLsn,
      lastAckMs: l.lastAckMs,
      catchingUp: !l.caughtUp,
    }));
  }

  /** Closed: this server is no longer a master. */
  get closed(): boolean {
    return this.#closed;
  }

  /** How many replicas have acknowledged `lsn` as durable. */
  acknowledged(lsn: number): number {
    let n = 0;
    for (const link of this.#links) if (link.ackLsn >= lsn) n++;
    return n;
  }

  /**
   * Calls `listener` after every ACK until the returned function is
   * called (WAIT waits on it).
   */
  onAck(listener: () => void): () => void {
    this.#ackListeners.add(listener);
    return () => this.#ackListeners.delete(listener);
  }

  /**
   * Serves one replica on `conn` after its `REPLSYNC` request (`args`;
   * `leftover` holds bytes it sent after the request). Resolves when the
   * replica disconnects or the master closes; never throws.
   */
  async serve(conn: Deno.Conn, args: string[], leftover: Uint8Array): Promise<void> {
    const { log, replid, wal } = this.#options;
    const nextLsn = Number(args[2]);
    const announcedPort = Number(args[4]);
    if (
      (args.length !== 3 && args.length !== 5) || !Number.isSafeInteger(nextLsn) || nextLsn < 1 ||
      (args.length === 5 && !(Number.isInteger(announcedPort) && announcedPort > 0 &&
        announcedPort < 65536))
    ) {
      await writeAll(
        conn,
        new TextEncoder().encode("ERROR: usage: REPLSYNC <replid|-> <next LSN> [<host> <port>]\n"),
      )
        .catch(() => {});
      return;
    }
    const address = args.length === 5 ? `${args[3]}:${announcedPort}` : peerAddress(conn);
    const segments = (await listSegments(wal.dir)).segments;
    const durable = wal.durableLsn;
    const firstLsn = segments.length > 0 ? segments[0].firstLsn : durable + 1;
    // A replica of the history this one continues that holds records this
    // master never had: it cuts them (if this master's log still reaches
    // back to where they start) rather than receive everything again.
    const { replid2, secondLsn } = this;
    const cutAfter = args[1] === replid2 && replid2 !== "" && nextLsn > secondLsn + 1 &&
        secondLsn + 1 >= firstLsn && secondLsn <= durable
      ? secondLsn
      : undefined;
    const reason = cutAfter === undefined
      ? this.#resyncReason(args[1], nextLsn, firstLsn, durable)
      : undefined;
    let startLsn = cutAfter !== undefined
      ? cutAfter + 1
      : reason === undefined
      ? nextLsn
      : firstLsn;
    // A log that no longer starts at LSN 1 needs a snapshot to start from.
    let snapshot: { file: Deno.FsFile; bytes: number } | undefined;
    if (reason !== undefined && firstLsn > 1) {
      if (this.#options.snapshotForResync === undefined) {
        await writeAll(
          conn,
          new TextEncoder().encode(
            `ERROR: cannot resynchronise: the master's log starts at LSN ${firstLsn}\n`,
          ),
        ).catch(() => {});
        return;
      }
      const chosen = await this.#options.snapshotForResync(firstLsn);
      // Opened now: compaction may delete the name, not the open file.
      const file = await Deno.open(chosen.path, { read: true });
      snapshot = { file, bytes: (await file.stat()).size };
      startLsn = chosen.lsn + 1;
    }
    const line = cutAfter !== undefined
      ? `+TRUNCATE ${replid} ${cutAfter} ${durable}\n`
      : reason === undefined
      ? `+CONTINUE ${replid} ${durable}\n`
      : `+FULLRESYNC ${replid} ${startLsn} ${durable} ${snapshot?.bytes ?? 0} ${reason}\n`;
    log.info(
      cutAfter !== undefined
        ? "replica diverged: it cuts its log and resumes"
        : reason === undefined
        ? "replica resuming"
        : "replica resynchronising fully",
      {
        replica: address,
        fromLsn: startLsn,
        masterLsn: durable,
        snapshotBytes: snapshot?.bytes ?? 0,
        ...(reason ? { reason } : {}),
      },
    );
    const link: Link = {
      conn,
      address,
      nextLsn: startLsn,
      ackLsn: startLsn - 1,
      lastHeardMs: Date.now(),
      lastAckMs: Date.now(),
      closed: false,
      wake: undefined,
      caughtUp: false,
    };
    this.#links.add(link);
    this.#options.backlog.activate();
    clearTimeout(this.#backlogRelease);
    // A dead replica may never answer: a blocked write or read is cut by
    // closing the socket once it has been silent for too long.
    const silentMs = DEAD_PEER_INTERVALS * this.#options.syncIntervalMs + 1000;
    const watchdog = setInterval(() => {
      if (Date.now() - link.lastHeardMs <= silentMs) return;
      log.warn("replica silent; dropping it", { replica: address, silentMs });
      link.closed = true;
      link.wake?.();
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }, Math.min(1000, this.#options.syncIntervalMs));
    try {
      await writeAll(conn, new TextEncoder().encode(line));
      if (snapshot) {
        await this.#sendSnapshot(link, snapshot.file);
        // The replica verifies and loads it before it acknowledges anything:
        // give it time for that (1 s per 10 MiB) before calling it silent.
        link.lastHeardMs = Date.now() + Math.ceil(snapshot.bytes / (10 * 1024 * 1024)) * 1000;
      }
      const reading = this.#readAcks(link, leftover);
      await this.#send(link);
      // Sending ended (the WAL failed, or the master closes): the ACK
      // reader must not wait for the replica to time out.
      link.closed = true;
      try {
        conn.close();
      } catch {
        // Already closed.
      }
      await reading;
    } catch (e) {
      if (!link.closed && !this.#closed) {
        log.info("replica disconnected", { replica: address, error: String(e) });
      }
    } finally {
      try {
        snapshot?.file.close();
      } catch {
        // Closed after sending.
      }
      clearInterval(watchdog);
      link.closed = true;
      this.#links.delete(link);
      if (this.#links.size === 0) this.#releaseBacklogLater();
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    if (!this.#closed) log.info("replica gone", { replica: address, ackLsn: link.ackLsn });
    this.#recent.push({ ackLsn: link.ackLsn, goneMs: Date.now() });
  }

  /**
   * Why a replica that holds `replid`'s log up to `nextLsn` - 1 must be
   * sent everything again; undefined when it can go on from there.
   */
  #resyncReason(
    replid: string,
    nextLsn: number,
    firstLsn: number,
    durable: number,
  ): string | undefined {
    const { replid2, secondLsn } = this;
    if (replid === "-") return "new replica";
    if (replid === replid2 && replid2 !== "") {
      // A replica of the history this one continues: it goes on from where
      // it is, unless it holds records this master never had.
      if (nextLsn > secondLsn + 1) {
        return `the replica holds LSNs ${secondLsn + 1}..${nextLsn - 1} of ${replid2}, ` +
          "which this master never had (it diverged)";
      }
    } else if (replid !== this.replid) {
      return `replication id changed (replica followed ${replid})`;
    }
    if (nextLsn > durable + 1) {
      return `replica wants LSN ${nextLsn}, beyond the master's log (ends at ${durable})`;
    }
    if (nextLsn < firstLsn) {
      return `LSN ${nextLsn} is no longer in the master's log (starts at ${firstLsn})`;
    }
    return undefined;
  }

  /**
   * The first LSN a connected or recently connected replica still needs
   * (undefined when none): compaction keeps the segments from there, up to
   * the retention limit.
   */
  retainFromLsn(): number | undefined {
    const now = Date.now();
    this.#recent = this.#recent.filter((r) => now - r.goneMs < RECENT_REPLICA_MS);
    let floor: number | undefined;
    for (const position of [...this.#links, ...this.#recent]) {
      const needed = position.ackLsn + 1;
      if (floor === undefined || needed < floor) floor = needed;
    }
    return floor;
  }

  #releaseBacklogLater(): void {
    clearTimeout(this.#backlogRelease);
    const timer = setTimeout(() => {
      if (this.#links.size === 0) this.#options.backlog.release();
    }, BACKLOG_TTL_MS);
    Deno.unrefTimer(timer);
    this.#backlogRelease = timer;
  }

  /** Drops every replica. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#backlogRelease);
    this.#stopListening();
    // WAITs answer now (with what was acknowledged) rather than never.
    for (const listener of [...this.#ackListeners]) listener();
    for (const link of this.#links) {
      link.closed = true;
      link.wake?.();
      try {
        link.conn.close();
      } catch {
        // Already closed.
      }
    }
  }

  /**
   * Streams a snapshot file's bytes (the replica verifies them). A replica
   * taking them is alive, though it sends no ACK meanwhile.
   */
  async #sendSnapshot(link: Link, file: Deno.FsFile): Promise<void> {
    const chunk = new Uint8Array(256 * 1024);
    while (true) {
      const n = await file.read(chunk);
      if (n === null) break;
      await writeAll(link.conn, chunk.subarray(0, n));
      link.lastHeardMs = Date.now();
    }
    file.close();
  }

  async #readAcks(link: Link, leftover: Uint8Array): Promise<void> {
    const decoder = new FrameDecoder(MAX_REPLICA_FRAME_BODY_BYTES);
    decoder.push(leftover);
    const buffer = new Uint8Array(16 * 1024);
    try {
      while (!link.closed) {
        for (let frame = decoder.next(); frame; frame = decoder.next()) {
          if (frame.type !== FrameType.Ack) throw new Error(`unexpected frame ${frame.type}`);
          link.ackLsn = frame.durableLsn;
          link.lastAckMs = Date.now();
          for (const listener of this.#ackListeners) listener();
        }
        const n = await link.conn.read(buffer);
        if (n === null) break;
        link.lastHeardMs = Date.now();
        decoder.push(buffer.subarray(0, n));
      }
    } catch (e) {
      if (!link.closed) this.#options.log.warn("bad replica stream", { error: String(e) });
    }
    link.closed = true;
    link.wake?.();
  }

  async #send(link: Link): Promise<void> {
    const { wal, backlog, syncIntervalMs } = this.#options;
    const out = new OutBuffer(64 * 1024);
    let lastSentMs = 0;
    const flush = async () => {
      await writeAll(link.conn, out.view());
      out.reset();
      lastSentMs = Date.now();
    };
    while (!link.closed && !this.#closed) {
      if (wal.failure) return;
      const durable = wal.durableLsn;
      if (link.nextLsn <= durable) {
        const next = backlog.copyFrame(out, link.nextLsn, durable, RECORDS_FRAME_TARGET_BYTES);
        if (next !== undefined) {
          link.nextLsn = next;
          await flush();
        } else {
          await this.#sendFromFiles(link, durable, out, flush);
        }
        continue;
      }
      if (!link.caughtUp) {
        link.caughtUp = true;
        this.#options.log.info("replica caught up", { replica: link.address, lsn: durable });
      }
      const now = Date.now();
      if (now - lastSentMs >= syncIntervalMs) {
        encodeHeartbeat(out, durable, now);
        await flush();
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, syncIntervalMs - (now - lastSentMs));
        function done() {
          clearTimeout(timer);
          link.wake = undefined;
          resolve();
        }
        link.wake = done;
      });
    }
  }

  /** Catch-up from segment files, one generator for the whole stretch. */
  async #sendFromFiles(
    link: Link,
    toLsn: number,
    out: OutBuffer,
    flush: () => Promise<void>,
  ): Promise<void> {
    let batch: WalRecord[] = [];
    let bytes = 0;
    for await (const record of this.#options.wal.records(link.nextLsn, { toLsn })) {
      batch.push(record);
      bytes += record.key.length + record.value.length + 32;
      // A frame ends at a group's end (WalFlag), so a replica applies groups whole.
      if (bytes >= RECORDS_FRAME_TARGET_BYTES && ((record.flags ?? 0) & WalFlag.Continues) === 0) {
        encodeRecords(out, batch);
        link.nextLsn = record.lsn + 1;
        await flush();
        batch = [];
        bytes = 0;
        if (link.closed || this.#closed) return;
        // Caught up with what memory holds: the backlog is cheaper.
        const first = this.#options.backlog.firstLsn;
        if (first !== undefined && link.nextLsn >= first) return;
      }
    }
    if (batch.length > 0) {
      encodeRecords(out, batch);
      link.nextLsn = batch[batch.length - 1].lsn + 1;
      await flush();
    }
  }
}
