/**
 * Replication as a running server changes it: every server with the WAL
 * can serve replicas (the `REPLSYNC` takeover on the client port), and
 * `REPLICAOF host port` / `REPLICAOF NO ONE` switch it between master and
 * replica at run time, one change at a time.
 *
 * - **Promotion** (`NO ONE` on a replica): the replica stops following,
 *   makes what it applied durable, and starts a new history (a new
 *   replication id) that continues the one it followed: the old id and the
 *   last LSN it holds of it are kept as `replid2`/`secondLsn`, so replicas
 *   of the old master re-pointed here go on from where they are.
 * - **Demotion** (`host port` on a master): writes are refused at once,
 *   those in flight are made durable, the replicas are dropped, and the
 *   server follows the new master under its own id: a promoted replica of
 *   it continues it, and records it never received (this server's
 *   divergent tail) make the master send everything again — the replica
 *   discards its data first, so nothing divergent is served after that.
 * - **Re-pointing** (`host port` on a replica): it follows the new master
 *   with the history it holds.
 *
 * Each change is saved in the data directory (`REPLICATION`, see
 * `replication_identity.ts`) before it is acknowledged, with the YAML
 * replication keys as they were, so it holds across a restart until the
 * YAML is edited (`startup_role.ts`); the running config's replication keys
 * follow it, so `CONFIG GET replicaof` and `CONFIG REWRITE` show it.
 *
 * @example
 * ```ts
 * const replication = new ReplicationController(options);
 * await replication.start({ role: "slave", master: { hostname: "127.0.0.1", port: 3223 } });
 * await replication.replicaOf(undefined); // REPLICAOF NO ONE
 * ```
 * @module
 */

import { replicationTls } from "../tls/replication_tls.ts";
import { type Address, type Config, formatAddress, parseAddress } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import type { Takeover } from "../server/connection.ts";
import type { Snapshotter } from "../snapshot/snapshotter.ts";
import type { Store } from "../storage/store.ts";
import type { Wal } from "../wal/wal.ts";
import { writeAll } from "../bytes/io.ts";
import { ReplicationBacklog } from "./backlog.ts";
import { ReplicationMaster } from "./master.ts";
import {
  loadIdentity,
  masterIdentity,
  newReplicationId,
  NO_IDENTITY,
  type ReplicationIdentity,
  saveIdentity,
  type YamlReplication,
} from "./replication_identity.ts";
import { ReplicationSlave, type SlaveStatus } from "./slave.ts";
import type { ReplicationView } from "./replication_info.ts";

/** Keys and values a master keeps in memory for replicas that keep up. */
export const BACKLOG_BYTES = 16 * 1024 * 1024;

/** A role and, for a replica, its master. */
export interface RoleChoice {
  role: "master" | "slave";
  master?: Address;
}

/** What the controller works with. */
export interface ControllerOptions {
  config: Config;
  store: Store;
  wal: Wal;
  log: Logger;
  snapshotter?: Snapshotter;
  /**
   * The YAML replication keys as the server started (what a run-time
   * choice is saved against).
   */
  yaml: YamlReplication;
  /** Applies a role to the rest of the server (writes refused, expiry). */
  applyRole(role: "master" | "slave"): void;
  /** Records a replica's master (or none) in the running config. */
  recordRole(choice: RoleChoice): void;
  /**
   * Holds (true) or serves (false) the data: a demoted master serves none
   * until it has caught up with its new master (`-MASTERDOWN`).
   */
  holdData(held: boolean): void;
}

/**
 * The layer every server with the WAL puts between its store and WAL: the
 * backlog replicas are fed from once they keep up.
 *
 * @example
 * ```ts
 * await openStore(config, log, { wrapLog: replicationLogLayer() });
 * ```
 */
export function replicationLogLayer(): (wal: Wal) => ReplicationBacklog {
  return (wal) => new ReplicationBacklog(wal, BACKLOG_BYTES);
}

/**
 * Owns the server's replication role.
 *
 * @example
 * ```ts
 * replication.role; // "master"
 * ```
 */
export class ReplicationController {
  readonly #options: ControllerOptions;
  readonly #backlog: ReplicationBacklog;
  #role: "master" | "slave" = "master";
  #master: ReplicationMaster | undefined;
  #slave: ReplicationSlave | undefined;
  #masterAddress: Address | undefined;
  /** What the last REPLICAOF asked for (undefined: be a master). */
  #target: Address | undefined;
  /** The change in progress: changes run one after another. */
  #changing: Promise<unknown> = Promise.resolve();
  #stopped = false;
  /** Data held: a demoted master not yet caught up. */
  #held = false;
  /** `REPLSYNC` on the client port. */
  readonly takeovers: ReadonlyMap<string, Takeover>;

  constructor(options: ControllerOptions) {
    this.#options = options;
    const backlog = options.store.log;
    if (!(backlog instanceof ReplicationBacklog)) {
      throw new Error("the store must write through the replication backlog");
    }
    this.#backlog = backlog;
    this.takeovers = new Map([["REPLSYNC", (conn, args, rest) => this.#serve(conn, args, rest)]]);
  }

  get role(): "master" | "slave" {
    return this.#role;
  }

  /** The master while this server is one. */
  get master(): ReplicationMaster | undefined {
    return this.#master;
  }

  /** The master followed (or about to be) while this server is a replica. */
  get masterAddress(): Address | undefined {
    return this.#role === "slave" ? this.#target ?? this.#masterAddress : undefined;
  }

  /** Where following stands, while a replica. */
  slaveStatus(): SlaveStatus | undefined {
    return this.#slave?.status();
  }

  /** The replication id snapshots record: the history this server holds. */
  get replid(): string {
    return this.#master?.replid ?? "";
  }

  /** What INFO replication and ROLE show. */
  view(nowMs = Date.now()): ReplicationView {
    const { config, wal } = this.#options;
    const master = this.#master;
    const slave = this.#slave?.status();
    return {
      role: this.#role,
      masterHost: this.#masterAddress?.hostname ?? "",
      masterPort: this.#masterAddress?.port ?? 0,
      slave,
      replicas: master?.replicas() ?? [],
      replid: master?.replid ?? slave?.replid ?? "",
      replid2: master?.replid2 ?? "",
      secondLsn: master?.secondLsn ?? -1,
      durableLsn: wal.durableLsn,
      priority: config.replication.replicaPriority,
      backlogFirstLsn: this.#backlog.firstLsn,
      backlogBytes: BACKLOG_BYTES,
      nowMs,
    };
  }

  /**
   * Replicas whose last acknowledgement is at most `maxLagMs` old
   * (min-replicas-to-write).
   */
  goodReplicas(maxLagMs: number, nowMs = Date.now()): number {
    let n = 0;
    for (const r of this.#master?.replicas() ?? []) if (nowMs - r.lastAckMs <= maxLagMs) n++;
    return n;
  }

  /** Takes up the role the server starts in. */
  async start(choice: RoleChoice): Promise<void> {
    this.#target = choice.master;
    if (choice.role === "slave") {
      if ((await loadIdentity(this.#options.wal.dir))?.unverified) this.#hold(true);
      this.#enterSlave(choice.master!);
    } else {
      this.#enterMaster(await masterIdentity(this.#options.wal.dir, this.#options.wal.lastLsn));
    }
  }

  /**
   * REPLICAOF: follow `master`, or (undefined) stop following and accept
   * writes. A master stops accepting writes at once; the rest runs after
   * any change before it, and the returned promise settles when this one
   * is durable and in effect.
   */
  replicaOf(master: Address | undefined): Promise<void> {
    if (this.#stopped) return Promise.reject(new Error("the server is shutting down"));
    this.#target = master;
    if (master !== undefined && this.#role === "master") {
      // Writes stop now (those logged are made durable below, before the
      // history is handed over); replicas and WAITs are let go.
      this.#role = "slave";
      this.#masterAddress = master;
      this.#options.applyRole("slave");
      this.#hold(true);
      this.#master?.close();
      this.#master = undefined;
    }
    const change = this.#changing.then(() => this.#change(master));
    this.#changing = change.catch((e) => {
      this.#options.log.error("REPLICAOF failed", { error: e instanceof Error ? e.message : e });
    });
    return change;
  }

  /** Stops serving and following replication. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#changing;
    this.#master?.close();
    await this.#slave?.stop();
  }

  async #change(master: Address | undefined): Promise<void> {
    if (this.#stopped || this.#target !== master) return; // stopping, or superseded
    const { wal, log, store } = this.#options;
    if (master === undefined) {
      if (this.#role === "master") return;
      await this.#slave?.stop();
      this.#slave = undefined;
      await store.commit();
      const held = await loadIdentity(wal.dir);
      const previous = held?.replid ?? "";
      const identity: ReplicationIdentity = {
        ...NO_IDENTITY,
        replid: newReplicationId(),
        role: "master",
        replid2: previous,
        secondLsn: previous === "" ? -1 : wal.lastLsn,
        replicaof: this.#options.yaml,
      };
      await saveIdentity(wal.dir, identity);
      this.#enterMaster(identity);
      this.#hold(false);
      log.warn("REPLICAOF NO ONE: this server is now a master", {
        replid: identity.replid,
        continues: previous,
        fromLsn: identity.secondLsn + 1,
      });
      return;
    }
    if (this.#slave !== undefined) {
      if (this.#slave.masterAddress === formatAddress(master)) return;
      await this.#slave.stop();
      this.#slave = undefined;
    }
    await store.commit();
    const held = await loadIdentity(wal.dir);
    await saveIdentity(wal.dir, {
      ...NO_IDENTITY,
      replid: held?.replid ?? "",
      role: "slave",
      master: formatAddress(master),
      replicaof: this.#options.yaml,
      unverified: this.#held || (held?.unverified ?? false),
    });
    this.#enterSlave(master);
    log.warn("REPLICAOF: this server now follows a master", { master: formatAddress(master) });
  }

  #enterMaster(identity: ReplicationIdentity): void {
    const { config, wal, log, snapshotter } = this.#options;
    this.#master = new ReplicationMaster({
      wal,
      backlog: this.#backlog,
      replid: identity.replid,
      replid2: identity.replid2,
      secondLsn: identity.secondLsn,
      syncIntervalMs: config.replication.syncIntervalMs,
      log,
      snapshotForResync: snapshotter && ((firstLsn) => snapshotter.forResync(firstLsn)),
    });
    this.#role = "master";
    this.#masterAddress = undefined;
    this.#options.applyRole("master");
    this.#options.recordRole({ role: "master" });
  }

  #enterSlave(master: Address): void {
    const { config, store, wal, log, snapshotter } = this.#options;
    this.#role = "slave";
    this.#masterAddress = master;
    this.#options.applyRole("slave");
    this.#options.recordRole({ role: "slave", master });
    this.#slave = new ReplicationSlave({
      store,
      wal,
      masterAddress: master,
      syncIntervalMs: config.replication.syncIntervalMs,
      log,
      snapshots: snapshotter,
      announce: () => announcedAddress(config),
      tls: () => replicationTls(config.tls),
      credentials: () => {
        const r = config.replication;
        return r.masterauth === "" ? undefined : { user: r.masteruser, password: r.masterauth };
      },
      onCaughtUp: () => {
        if (this.#held) this.#verified();
      },
    });
    this.#slave.start();
  }

  #hold(held: boolean): void {
    this.#held = held;
    this.#options.holdData(held);
  }

  /**
   * Caught up after a demotion: the data is the master's again. Served at
   * once, so that a link INFO shows "up" is a link whose data is served;
   * the mark is saved after, in turn with REPLICAOF's own identity writes.
   * A crash before it is saved holds the data again until caught up.
   */
  #verified(): void {
    if (this.#role !== "slave") return;
    this.#hold(false);
    this.#options.log.info("caught up with the new master: serving data again");
    const { wal } = this.#options;
    this.#changing = this.#changing.then(async () => {
      if (this.#held) return; // a newer demotion holds the data again
      const held = await loadIdentity(wal.dir);
      if (held !== undefined) await saveIdentity(wal.dir, { ...held, unverified: false });
    }).catch((e) => {
      this.#options.log.error("saving the caught-up mark failed", {
        error: e instanceof Error ? e.message : e,
      });
    });
  }

  async #serve(conn: Deno.Conn, args: string[], rest: Uint8Array): Promise<void> {
    const master = this.#master;
    if (master === undefined) {
      const line = "ERROR: this server is a replica; replicate from its master\n";
      await writeAll(conn, new TextEncoder().encode(line)).catch(() => {});
      return;
    }
    await master.serve(conn, args, rest);
  }
}

/**
 * Where a replica says clients reach it: its announce_address, else, as
 * Redis, the TLS port when it replicates over TLS (a TLS-only server has
 * no plain port), else the plain one.
 */
function announcedAddress(config: Config): Address {
  const announce = config.replication.announceAddress;
  if (announce !== "") return parseAddress(announce);
  const { address } = config.network;
  return config.tls.replication && config.tls.port !== 0
    ? { hostname: address.hostname, port: config.tls.port }
    : address;
}
