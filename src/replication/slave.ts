/**
 * The replica side of replication: dial the master, ask for the log from
 * the next LSN this replica needs (and the master's replication id it
 * followed), then append every record to the replica's own WAL under the
 * master's LSN and apply it, in order. A restarted replica resumes where
 * its log ends; a master that cannot continue it sends everything again
 * after the replica discards its state.
 *
 * While the master is away the replica keeps serving reads and redials
 * with capped exponential backoff (cap `sync_interval`). It logs each
 * change of state once, not each retry.
 *
 * @example
 * ```ts
 * const slave = new ReplicationSlave({ store, wal, masterAddress, syncIntervalMs: 1000, log });
 * slave.start();
 * await slave.stop();
 * ```
 * @module
 */

import { loadSnapshotEntry } from "../snapshot/restore.ts";
import type { ReplicationTlsOptions } from "../tls/replication_tls.ts";
import { type Address, formatAddress } from "../config/config.ts";
import { writeAll } from "../bytes/io.ts";
import type { LogFields, Logger } from "../log/logger.ts";
import { OutBuffer } from "../protocol/out_buffer.ts";
import type { Store } from "../storage/store.ts";
import type { Wal } from "../wal/wal.ts";
import { encodeAck, FrameDecoder, FrameType } from "./frame.ts";
import {
  authAccepted,
  authLine,
  isAuthRefusal,
  isErrorReply,
  type MasterCredentials,
} from "./_master_auth.ts";
import { DEAD_PEER_INTERVALS } from "./master.ts";
import {
  loadIdentity,
  NO_IDENTITY,
  type ReplicationIdentity,
  saveIdentity,
} from "./replication_identity.ts";
import { join } from "node:path";
import { listSnapshots } from "../snapshot/restore.ts";
import type { Snapshotter } from "../snapshot/snapshotter.ts";
import { snapshotName } from "../snapshot/snapshot_file.ts";
import { loadSnapshot } from "../snapshot/snapshot_reader.ts";
import { listSegments, syncDir } from "../wal/segment.ts";

const MIN_BACKOFF_MS = 50;
const CONNECT_TIMEOUT_MS = 5000;
/** Longest handshake reply line accepted. */
const MAX_HANDSHAKE_BYTES = 4096;

/** What the replica needs. */
export interface SlaveOptions {
  store: Store;
  wal: Wal;
  masterAddress: Address;
  syncIntervalMs: number;
  log: Logger;
  /** The replica's own snapshots, suspended during a full resynchronisation. */
  snapshots?: Pick<Snapshotter, "suspend">;
  /**
   * The address this replica tells its master it serves clients on (INFO
   * replication's `slaveN:ip=,port=`, which Sentinel dials), read at each
   * handshake (CONFIG SET tls-port moves it).
   */
  announce?: () => Address;
  /**
   * TLS options for each dial (read each time: CONFIG SET tls-replication
   * applies at the next connection); undefined: plain TCP.
   */
  tls?: () => ReplicationTlsOptions | undefined;
  /**
   * What to log in to the master with before `REPLSYNC` (read each time:
   * CONFIG SET masterauth applies at the next connection); undefined: no
   * `AUTH`.
   */
  credentials?: () => MasterCredentials | undefined;
  /** Called each time the replica has caught up with its master. */
  onCaughtUp?: () => void;
}

/** Where replication stands, for INFO and ROLE. */
export interface SlaveStatus {
  state: "connecting" | "syncing" | "streaming" | "down" | "stopped";
  /** The master's durable LSN as last heard. */
  masterLsn: number;
  /** The last LSN this replica applied. */
  appliedLsn: number;
  /** `Date.now()` when the master was last heard from (0: never). */
  lastHeardMs: number;
  /** `Date.now()` when the link went down (0: up, or never up). */
  downSinceMs: number;
  /** The last LSN durable in this replica's WAL. */
  durableLsn: number;
  /** The history followed ("" before the first handshake of a new replica). */
  replid: string;
}

/** The master refused this replica's login, or its `REPLSYNC` for want of one. */
class AuthRefused extends Error {}

/** Resolves after `ms`, or at once when `cancel` fires. */
function sleep(ms: number, cancel: { wake?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      cancel.wake = undefined;
      resolve();
    }
    cancel.wake = done;
  });
}

/**
 * Follows a master.
 *
 * @example
 * ```ts
 * slave.status().state; // "streaming"
 * ```
 */
export class ReplicationSlave {
  readonly #options: SlaveOptions;
  #state: SlaveStatus["state"] = "connecting";
  #loggedState = "";
  #masterLsn = 0;
  #lastHeardMs = 0;
  #downSinceMs = Date.now();
  #replid = "";
  /** The divergent tail could not be cut: ask for a full resynchronisation. */
  #forceFull = false;
  /** LSN of the snapshot this replica's log continues (0: none). */
  #snapshotLsn = 0;
  #stopped = false;
  #conn: Deno.Conn | undefined;
  #running: Promise<void> | undefined;
  readonly #pause: { wake?: () => void } = {};

  constructor(options: SlaveOptions) {
    this.#options = options;
  }

  /** The master followed, `host:port`. */
  get masterAddress(): string {
    return formatAddress(this.#options.masterAddress);
  }

  /** Starts following the master in the background. */
  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stops following; resolves once the connection is closed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pause.wake?.();
    this.#closeConn();
    await this.#running;
    this.#state = "stopped";
  }

  status(): SlaveStatus {
    return {
      state: this.#state,
      masterLsn: this.#masterLsn,
      appliedLsn: Math.max(this.#options.wal.lastLsn, this.#snapshotLsn),
      lastHeardMs: this.#lastHeardMs,
      downSinceMs: this.#state === "streaming" ? 0 : this.#downSinceMs,
      durableLsn: Math.max(this.#options.wal.durableLsn, this.#snapshotLsn),
      replid: this.#replid,
    };
  }

  /** Logs a state once when it changes (a retry in the same state is quiet). */
  #enter(state: SlaveStatus["state"], message: string, fields: LogFields = {}, warn = false) {
    if (state === "streaming") this.#downSinceMs = 0;
    else if (this.#state === "streaming" || this.#downSinceMs === 0) this.#downSinceMs = Date.now();
    this.#state = state;
    const key = `${state}:${message}`;
    if (key === this.#loggedState) return;
    this.#loggedState = key;
    const log = this.#options.log;
    (warn ? log.warn : log.info)(message, {
      master: formatAddress(this.#options.masterAddress),
      ...fields,
    });
  }

  async #loop(): Promise<void> {
    let backoffMs = MIN_BACKOFF_MS;
    while (!this.#stopped) {
      const { wal } = this.#options;
      if (wal.failure) {
        this.#enter("down", "replication stopped: this replica's WAL failed; restart it", {
          error: wal.failure.message,
        }, true);
        return;
      }
      let connected = false;
      try {
        connected = await this.#session();
      } catch (e) {
        if (this.#stopped) {
          // Nothing to say: stop() closed the connection.
        } else if (e instanceof AuthRefused) {
          this.#enter(
            "down",
            "the master refused this replica's authentication (replication.masterauth / masteruser); serving reads, retrying",
            { reply: e.message },
            true,
          );
        } else {
          this.#enter("down", "master unreachable; serving reads, retrying", {
            error: e instanceof Error ? e.message : String(e),
          }, true);
        }
      } finally {
        this.#closeConn();
      }
      if (connected) backoffMs = MIN_BACKOFF_MS;
      if (this.#stopped) break;
      await sleep(backoffMs, this.#pause);
      backoffMs = Math.min(backoffMs * 2, this.#options.syncIntervalMs);
    }
  }

  #closeConn(): void {
    try {
      this.#conn?.close();
    } catch {
      // Already closed.
    }
    this.#conn = undefined;
  }

  /** One connection's life; true if the handshake succeeded. */
  async #session(): Promise<boolean> {
    const { masterAddress, store, wal, syncIntervalMs } = this.#options;
    this.#state = "connecting";
    const conn = await this.#dial(masterAddress);
    this.#conn = conn;
    // stop() may have come while dialling: no handshake (and no resync) then.
    if (this.#stopped) return false;
    const credentials = this.#options.credentials?.();
    if (credentials !== undefined) await this.#authenticate(conn, credentials);
    const identity: ReplicationIdentity = (await loadIdentity(wal.dir)) ??
      { ...NO_IDENTITY, role: "slave" };
    // After a cut that could not be made, ask for everything.
    const replid = identity.replid === "" || this.#forceFull ? "-" : identity.replid;
    this.#replid = identity.replid;
    const nextLsn = wal.lastLsn + 1;
    const announce = this.#options.announce?.();
    const request = announce === undefined
      ? `REPLSYNC ${replid} ${nextLsn}`
      : `REPLSYNC ${replid} ${nextLsn} ${announce.hostname} ${announce.port}`;
    await writeAll(conn, new TextEncoder().encode(`${request}\n`));
    const handshake = await this.#readLine(conn);
    const line = handshake.line;
    let rest = handshake.rest;
    const words = line.split(" ");
    this.#lastHeardMs = Date.now();
    if (words[0] === "+CONTINUE" && replid !== "-" && words.length === 3) {
      this.#masterLsn = Number(words[2]);
      if (words[1] !== replid) {
        // The master continues this history under a new id (it was
        // promoted, or follows the new master): what is held here is a
        // prefix of its log. Adopt the id before applying anything.
        await saveIdentity(wal.dir, { ...identity, role: "slave", replid: words[1] });
        this.#replid = words[1];
        this.#options.log.info("replication: the master continues this history under a new id", {
          replid: words[1],
          previous: replid,
        });
      }
      this.#enter("syncing", "replicating: resuming from this replica's log", {
        fromLsn: nextLsn,
        masterLsn: this.#masterLsn,
      });
    } else if (words[0] === "+TRUNCATE" && replid !== "-" && words.length === 4) {
      const afterLsn = Number(words[2]);
      this.#masterLsn = Number(words[3]);
      if (!Number.isSafeInteger(afterLsn) || afterLsn < 0 || afterLsn >= wal.lastLsn) {
        throw new Error(`bad handshake: ${line}`);
      }
      await this.#cutDivergentTail(afterLsn, words[1], identity);
      this.#enter("syncing", "replicating: divergent tail cut; resuming", {
        fromLsn: afterLsn + 1,
        masterLsn: this.#masterLsn,
      });
    } else if (words[0] === "+FULLRESYNC" && words.length >= 5) {
      const [, newReplid, firstLsnWord, masterLsn, snapshotBytesWord] = words;
      const firstLsn = Number(firstLsnWord);
      const snapshotBytes = Number(snapshotBytesWord);
      if (!Number.isSafeInteger(firstLsn) || !Number.isSafeInteger(snapshotBytes)) {
        throw new Error(`bad handshake: ${line}`);
      }
      this.#masterLsn = Number(masterLsn);
      this.#enter("syncing", "full resynchronisation: discarding this replica's data", {
        reason: words.slice(5).join(" "),
        firstLsn,
        snapshotBytes,
        masterLsn: this.#masterLsn,
      }, true);
      // A snapshot of this replica's own being written describes the
      // history about to go: cancel it and wait for it to end (it is never
      // renamed into place), and take none until the new history is in.
      const resume = await this.#options.snapshots?.suspend("a full resynchronisation");
      try {
        // Forget which history this is before touching the log: a crash
        // midway then leads to another full resynchronisation, never to a
        // partial log taken for a complete one.
        await saveIdentity(wal.dir, { ...identity, role: "slave", replid: "" });
        this.#snapshotLsn = 0;
        // The keyspace before the files: discarding it makes any snapshot
        // still walking it refuse its rename (see take_snapshot.ts), so no
        // snapshot of the old history can appear after the deletes below.
        await store.discardAll();
        for (const old of await listSnapshots(wal.dir)) await Deno.remove(old.path);
        if (snapshotBytes > 0) {
          rest = await this.#receiveSnapshot(conn, rest, snapshotBytes, firstLsn - 1);
        }
        await saveIdentity(wal.dir, { ...identity, role: "slave", replid: newReplid });
        this.#replid = newReplid;
        this.#forceFull = false;
      } finally {
        resume?.();
      }
    } else if (isAuthRefusal(line)) {
      throw new AuthRefused(line);
    } else {
      throw new Error(`master refused: ${line}`);
    }
    if (Math.max(wal.lastLsn, this.#snapshotLsn) >= this.#masterLsn) this.#caughtUp();

    const decoder = new FrameDecoder();
    decoder.push(rest);
    const out = new OutBuffer(64);
    // The loop's own: the heartbeat timer resets `out` between its writes.
    const ack = new OutBuffer(32);
    const silentMs = DEAD_PEER_INTERVALS * syncIntervalMs + 1000;
    const timer = setInterval(() => {
      if (Date.now() - this.#lastHeardMs > silentMs) {
        this.#enter("down", "master silent; reconnecting", { silentMs }, true);
        this.#closeConn();
        return;
      }
      out.reset();
      encodeAck(out, wal.durableLsn);
      writeAll(conn, out.view().slice()).catch(() => this.#closeConn());
    }, syncIntervalMs);
    try {
      const buffer = new Uint8Array(256 * 1024);
      while (!this.#stopped) {
        let applied = false;
        for (let frame = decoder.next(); frame; frame = decoder.next()) {
          if (frame.type === FrameType.Records) {
            for (const record of frame.records) {
              const expected = wal.lastLsn + 1;
              if (wal.lastLsn !== 0 && record.lsn !== expected) {
                throw new Error(`master sent LSN ${record.lsn}, expected ${expected}`);
              }
              store.applyReplicated(record);
            }
            applied = true;
          } else if (frame.type === FrameType.Heartbeat) {
            this.#masterLsn = Math.max(this.#masterLsn, frame.durableLsn);
          } else {
            throw new Error(`unexpected frame type ${frame.type} from master`);
          }
        }
        if (applied) {
          // Backpressure: read on only once what came is durable here.
          await store.commit();
          // Acknowledged at once, so the master's WAIT need not wait for
          // the next heartbeat.
          ack.reset();
          encodeAck(ack, wal.durableLsn);
          await writeAll(conn, ack.view());
          this.#masterLsn = Math.max(this.#masterLsn, wal.lastLsn);
          if (this.status().state === "syncing" && wal.lastLsn >= this.#masterLsn) this.#caughtUp();
        }
        const n = await conn.read(buffer);
        if (n === null) throw new Error("master closed the connection");
        this.#lastHeardMs = Date.now();
        decoder.push(buffer.subarray(0, n));
      }
    } finally {
      clearInterval(timer);
    }
    return true;
  }

  /**
   * The master continues the history this replica holds only up to
   * `afterLsn`: the records after it were never the master's (this server
   * was a master that took them, or followed one that did). They are cut
   * from the log (copied aside first), snapshots that hold them are set
   * aside, and memory is rebuilt from disk, before anything else is
   * applied. If the log no longer reaches back to a snapshot at or before
   * `afterLsn`, the next handshake asks for everything instead.
   */
  async #cutDivergentTail(
    afterLsn: number,
    replid: string,
    identity: ReplicationIdentity,
  ): Promise<void> {
    const { store, wal, log } = this.#options;
    const resume = await this.#options.snapshots?.suspend("cutting a divergent tail");
    try {
      const snapshots = await listSnapshots(wal.dir);
      const base = snapshots.find((s) => s.lsn <= afterLsn)?.lsn ?? 0;
      const first = (await listSegments(wal.dir)).segments[0]?.firstLsn ?? wal.lastLsn + 1;
      if (first > base + 1) {
        this.#forceFull = true;
        throw new Error(
          `cannot cut the divergent tail after LSN ${afterLsn}: the log starts at ${first}, ` +
            `after the newest snapshot before it (${base}); resynchronising fully`,
        );
      }
      log.warn("this replica holds writes its master never had: cutting them", {
        afterLsn,
        lastLsn: wal.lastLsn,
        replid,
      });
      // History unknown until the cut is whole: a crash midway restarts
      // empty and resynchronises fully.
      await saveIdentity(wal.dir, { ...identity, role: "slave", replid: "" });
      for (const snapshot of snapshots) {
        if (snapshot.lsn > afterLsn) await Deno.rename(snapshot.path, `${snapshot.path}.diverged`);
      }
      await syncDir(wal.dir);
      await store.truncateAfter(
        afterLsn,
        `the new master ${replid} never had the records after it`,
      );
      this.#snapshotLsn = Math.min(this.#snapshotLsn, afterLsn);
      await saveIdentity(wal.dir, { ...identity, role: "slave", replid });
      this.#replid = replid;
    } finally {
      resume?.();
    }
  }

  /**
   * Receives a snapshot of `bytes` bytes into this replica's WAL directory
   * (as its own snapshot at `lsn`), verifies it while loading it into the
   * empty keyspace, and puts it in place. Returns the bytes read after it.
   */
  async #receiveSnapshot(
    conn: Deno.Conn,
    already: Uint8Array,
    bytes: number,
    lsn: number,
  ): Promise<Uint8Array> {
    const { store, wal } = this.#options;
    const tmp = join(wal.dir, `${snapshotName(lsn)}.tmp`);
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    let received = 0;
    let after = new Uint8Array(0);
    try {
      const take = async (chunk: Uint8Array) => {
        const used = Math.min(chunk.length, bytes - received);
        await writeAll(file, chunk.subarray(0, used));
        received += used;
        if (used < chunk.length) after = chunk.slice(used);
      };
      await take(already);
      const buffer = new Uint8Array(256 * 1024);
      while (received < bytes) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error(`master closed the connection during the snapshot`);
        this.#lastHeardMs = Date.now();
        await take(buffer.subarray(0, n));
      }
      await file.sync();
    } finally {
      file.close();
    }
    const header = await loadSnapshot(tmp, (db, key, value, expiresAtMs, type) => {
      if (db >= store.databaseCount) {
        throw new Error(
          `the master's snapshot holds database ${db}; engine.databases is ${store.databaseCount}`,
        );
      }
      loadSnapshotEntry(store, db, key, value, expiresAtMs, type);
    }).catch(async (e) => {
      for (let db = 0; db < store.databaseCount; db++) store.engineOf(db).clear();
      store.functions.clear();
      await Deno.remove(tmp).catch(() => {});
      throw e;
    });
    if (header.lsn !== lsn) throw new Error(`snapshot holds LSN ${header.lsn}, expected ${lsn}`);
    this.#snapshotLsn = lsn;
    // The (empty) log continues the snapshot: ACKs and a reconnect say S.
    wal.continueAfter(lsn);
    await Deno.rename(tmp, join(wal.dir, snapshotName(lsn)));
    await syncDir(wal.dir);
    this.#options.log.info("snapshot received from the master", { lsn, keys: header.keys, bytes });
    return after;
  }

  #caughtUp(): void {
    this.#enter("streaming", "replication caught up; streaming", {
      lsn: this.#options.wal.lastLsn,
    });
    this.#options.onCaughtUp?.();
  }

  async #dial(address: Address): Promise<Deno.Conn> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tls = this.#options.tls?.();
    const connecting: Promise<Deno.Conn> = tls === undefined
      ? Deno.connect({ hostname: address.hostname, port: address.port })
      : Deno.connectTls({ hostname: address.hostname, port: address.port, ...tls })
        // The handshake now, inside the timeout: a master whose certificate
        // the CA did not sign fails here, logged and retried.
        .then(async (conn) => {
          try {
            await conn.handshake();
          } catch (e) {
            conn.close();
            throw new Error(
              `TLS handshake with the master failed: ${e instanceof Error ? e.message : e}`,
            );
          }
          return conn;
        });
    try {
      return await Promise.race([
        connecting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`connect timed out after ${CONNECT_TIMEOUT_MS}ms`)),
            CONNECT_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (e) {
      // A connection that completes after the timeout is nobody's: close it.
      connecting.then((late) => late.close(), () => {});
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Logs in to the master; throws {@link AuthRefused} with its reply when refused. */
  async #authenticate(conn: Deno.Conn, credentials: MasterCredentials): Promise<void> {
    await writeAll(conn, new TextEncoder().encode(authLine(credentials)));
    const { line, rest } = await this.#readLine(conn);
    this.#lastHeardMs = Date.now();
    if (authAccepted(line) && rest.length === 0) return;
    if (isErrorReply(line)) throw new AuthRefused(line);
    throw new Error(`bad reply to AUTH: ${line}`);
  }

  /** Reads the handshake reply line; returns it and the bytes after it. */
  async #readLine(conn: Deno.Conn): Promise<{ line: string; rest: Uint8Array }> {
    let got = new Uint8Array(0);
    const chunk = new Uint8Array(MAX_HANDSHAKE_BYTES);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("master did not answer the handshake")),
        Math.max(CONNECT_TIMEOUT_MS, DEAD_PEER_INTERVALS * this.#options.syncIntervalMs),
      );
    });
    try {
      while (true) {
        const i = got.indexOf(0x0a);
        if (i >= 0) {
          return {
            line: new TextDecoder().decode(got.subarray(0, i)).replace(/\r$/, ""),
            rest: got.slice(i + 1),
          };
        }
        if (got.length > MAX_HANDSHAKE_BYTES) throw new Error("handshake reply too long");
        const n = await Promise.race([conn.read(chunk), timeout]);
        if (n === null) throw new Error("master closed the connection during the handshake");
        const joined = new Uint8Array(got.length + n);
        joined.set(got);
        joined.set(chunk.subarray(0, n), got.length);
        got = joined;
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
