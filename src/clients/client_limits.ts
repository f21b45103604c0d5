/**
 * The limits on what one client may make the server hold, and the sweep
 * that enforces the ones a connection cannot check by itself:
 *
 * - output (`client-output-buffer-limit`): the normal class
 *   (`network.output_buffer_*`, default `0 0 0`: none) and the pubsub class
 *   (`pubsub.output_buffer_*`: subscribers and MONITOR clients) are checked
 *   by the connection as output is added; a client stuck above a soft
 *   limit adds nothing, so the sweep checks its clock. The replica class
 *   (`replication.output_buffer_*`) is kept and shown: a master holds at
 *   most one frame per replica (see README "Client limits").
 * - input (`client-query-buffer-limit`, `network.query_buffer_limit`):
 *   checked by the connection after each read.
 * - all clients' memory (`maxmemory-clients`, `network.maxmemory_clients`):
 *   the sweep (every {@link SWEEP_INTERVAL_MS}) and a connection whose
 *   output grows past {@link ClientLimits.checkBytes} add up every client's
 *   {@link clientMemoryBytes}; past the limit the biggest clients are
 *   closed (Redis 7's client eviction), except those with CLIENT NO-EVICT
 *   ON and replicas.
 *
 * {@link ClientLimits.totalMemoryBytes} is the total of every client's
 * memory at the last sweep or check (at most 100 ms old): what
 * `used_memory` adds for client buffers.
 *
 * @example
 * ```ts
 * const limits = new ClientLimits(admin, pubsub);
 * limits.outputLimitOf(client); // the class limit that applies to it
 * ```
 * @module
 */

import type { AdminState } from "../admin/admin_state.ts";
import type { PubSub } from "../pubsub/pubsub.ts";
import { clientMemoryBytes } from "./client_memory.ts";
import { NO_OUTPUT_LIMIT, type OutputLimit } from "./output_limit.ts";

/** How often the sweep runs (Redis's clientsCron visits each client about this often). */
export const SWEEP_INTERVAL_MS = 100;

/**
 * Redis's floor under `maxmemory-clients` (`getClientEvictionLimit`): a
 * smaller limit would cut every client off, the operator's included.
 */
export const MIN_CLIENT_EVICTION_BYTES = 128 * 1024;

/** Seconds the recent peaks of input and output (INFO clients) cover, as Redis's 8 slots. */
const PEAK_SLOTS = 8;

/** The YAML keys behind the limits, and how each is applied. */
const LIVE_KEYS = [
  "network.output_buffer_hard_limit",
  "network.output_buffer_soft_limit",
  "network.output_buffer_soft_seconds",
  "replication.output_buffer_hard_limit",
  "replication.output_buffer_soft_limit",
  "replication.output_buffer_soft_seconds",
  "network.query_buffer_limit",
  "network.maxmemory_clients",
] as const;

/** What the limits need of a client (src/server/clients.ts's `Client`). */
export interface LimitedClient {
  readonly id: number;
  readonly addr: string;
  /** CLIENT NO-EVICT ON: never closed for `maxmemory-clients`. */
  readonly noEvict: boolean;
  /** Subscribed or MONITORing: the pubsub class. */
  readonly pubsubClass: boolean;
  /** Being closed by the server already. */
  killed: boolean;
  /** Its memory when last measured (kept by {@link ClientLimits}). */
  memoryBytes: number;
  readonly session: { readonly multi?: { readonly bytes: number } | undefined };
  readonly io: {
    readonly readBufferBytes: number;
    readonly queryBytes: number;
    readonly outputBytes: number;
    readonly takenOver: boolean;
    readonly closed: boolean;
    close(): void;
    /** Applies the output limit now (a stuck client's soft-limit clock). */
    checkLimits(nowMs: number): void;
  };
}

/**
 * The bytes `maxmemory-clients` allows (0: no client eviction): a size, or
 * a percentage of `maxmemoryBytes` (0 there: none), never below
 * {@link MIN_CLIENT_EVICTION_BYTES}.
 *
 * @example
 * ```ts
 * clientEvictionLimitBytes("10%", 64 * 1024 * 1024); // 6710886
 * ```
 */
export function clientEvictionLimitBytes(setting: number | string, maxmemoryBytes: number): number {
  let bytes: number;
  if (typeof setting === "string") {
    if (maxmemoryBytes <= 0) return 0;
    bytes = Math.floor(maxmemoryBytes * Number.parseInt(setting, 10) / 100);
  } else {
    bytes = setting;
  }
  if (bytes <= 0) return 0;
  return Math.max(bytes, MIN_CLIENT_EVICTION_BYTES);
}

/**
 * The client limits of one server (one per client registry), following
 * CONFIG SET.
 *
 * @example
 * ```ts
 * limits.queryBufferLimitBytes; // 1073741824 (1gb)
 * ```
 */
export class ClientLimits {
  /** `client-output-buffer-limit normal`. */
  normal: OutputLimit = { ...NO_OUTPUT_LIMIT };
  /** `client-output-buffer-limit replica` (shown; see the module comment). */
  replica: OutputLimit = { ...NO_OUTPUT_LIMIT };
  /** `client-query-buffer-limit`. */
  queryBufferLimitBytes = 1024 ** 3;
  /** `maxmemory-clients`: bytes, or `"N%"` of maxmemory; 0: off. */
  maxmemoryClients: number | string = 0;
  /**
   * Unsent output from which a normal client's limits are checked after a
   * command: the smallest limit of the class set (Infinity when none), so
   * a client below it pays one comparison.
   */
  checkBytes = Infinity;
  /** Total of every client's memory when last measured (see the module comment). */
  totalMemoryBytes = 0;
  readonly #admin: AdminState;
  readonly #pubsub: PubSub;
  /** Per second of the last {@link PEAK_SLOTS}: the biggest input and output buffer seen. */
  readonly #peakInput = new Float64Array(PEAK_SLOTS);
  readonly #peakOutput = new Float64Array(PEAK_SLOTS);
  #peakSecond = 0;

  constructor(admin: AdminState, pubsub: PubSub) {
    this.#admin = admin;
    this.#pubsub = pubsub;
    for (const key of LIVE_KEYS) admin.onLiveChange(key, () => this.#configure());
    this.#configure();
  }

  /**
   * The bytes of `memory.maxmemory` when that key exists (the memory
   * settings), else 0: what a percentage `maxmemory-clients` is of.
   */
  get maxmemoryBytes(): number {
    const value = this.#admin.values.get("memory.maxmemory");
    return typeof value === "number" ? value : 0;
  }

  /** The bytes all clients may hold before the biggest are closed; 0: no limit. */
  get evictionLimitBytes(): number {
    return clientEvictionLimitBytes(this.maxmemoryClients, this.maxmemoryBytes);
  }

  /**
   * The output limit of `client`'s class: pubsub for a subscriber or
   * MONITOR client, none for a replica's stream (its master holds one frame
   * at a time), normal for the others.
   */
  outputLimitOf(client: LimitedClient): OutputLimit {
    if (client.io.takenOver) return NO_OUTPUT_LIMIT;
    return client.pubsubClass ? this.#pubsub.outputLimit : this.normal;
  }

  /** The config key of the limit a close is counted under (INFO stats, logs). */
  outputLimitKey(client: LimitedClient, which: "hard" | "soft"): string {
    return `${client.pubsubClass ? "pubsub" : "network"}.output_buffer_${which}_limit`;
  }

  /** Biggest input and output buffer of a client in the last 8 seconds (INFO clients). */
  get recentMaxInputBytes(): number {
    return Math.max(...this.#peakInput);
  }

  get recentMaxOutputBytes(): number {
    return Math.max(...this.#peakOutput);
  }

  /**
   * Measures `client` again (its output grew, its read buffer grew) and,
   * when all clients pass `maxmemory-clients`, closes the biggest.
   */
  measure(client: LimitedClient, clients: Iterable<LimitedClient>): void {
    const bytes = clientMemoryBytes(client.io, client.session.multi?.bytes ?? 0);
    this.totalMemoryBytes += bytes - client.memoryBytes;
    client.memoryBytes = bytes;
    const limit = this.evictionLimitBytes;
    if (limit > 0 && this.totalMemoryBytes > limit) this.#evict(clients, limit);
  }

  /** Forgets a client that is gone. */
  forget(client: LimitedClient): void {
    this.totalMemoryBytes -= client.memoryBytes;
    client.memoryBytes = 0;
  }

  /**
   * The periodic pass: every client's output limit clock, its memory, the
   * recent peaks, and client eviction.
   */
  sweep(clients: Iterable<LimitedClient>, nowMs = Date.now()): void {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.#peakSecond) {
      // Seconds nobody swept in hold nothing.
      for (let s = Math.max(this.#peakSecond + 1, second - PEAK_SLOTS + 1); s <= second; s++) {
        this.#peakInput[s % PEAK_SLOTS] = 0;
        this.#peakOutput[s % PEAK_SLOTS] = 0;
      }
      this.#peakSecond = second;
    }
    const slot = second % PEAK_SLOTS;
    let total = 0;
    for (const client of clients) {
      const io = client.io;
      if (io.closed) continue;
      io.checkLimits(nowMs);
      const bytes = clientMemoryBytes(io, client.session.multi?.bytes ?? 0);
      client.memoryBytes = bytes;
      total += bytes;
      if (io.readBufferBytes > this.#peakInput[slot]) this.#peakInput[slot] = io.readBufferBytes;
      if (io.outputBytes > this.#peakOutput[slot]) this.#peakOutput[slot] = io.outputBytes;
    }
    this.totalMemoryBytes = total;
    const limit = this.evictionLimitBytes;
    if (limit > 0 && total > limit) this.#evict(clients, limit);
  }

  /**
   * Closes the clients using the most memory until the total is within
   * `limitBytes` (Redis's `evictClients`): normal and pubsub clients only,
   * never one with CLIENT NO-EVICT ON or a replica.
   */
  #evict(clients: Iterable<LimitedClient>, limitBytes: number): void {
    const candidates: LimitedClient[] = [];
    for (const client of clients) {
      if (!client.noEvict && !client.killed && !client.io.takenOver && !client.io.closed) {
        candidates.push(client);
      }
    }
    candidates.sort((a, b) => b.memoryBytes - a.memoryBytes);
    for (const client of candidates) {
      if (this.totalMemoryBytes <= limitBytes) break;
      this.#admin.noteLimitClose("network.maxmemory_clients", {
        id: client.id,
        addr: client.addr,
        memoryBytes: client.memoryBytes,
        totalBytes: this.totalMemoryBytes,
        limitBytes,
      });
      // Counted out now: it leaves the registry when its run loop ends.
      this.totalMemoryBytes -= client.memoryBytes;
      client.memoryBytes = 0;
      client.killed = true;
      client.io.close();
    }
  }

  #configure(): void {
    const v = this.#admin.values;
    const num = (key: string) => v.get(key) as number;
    this.normal = {
      hardBytes: num("network.output_buffer_hard_limit"),
      softBytes: num("network.output_buffer_soft_limit"),
      softSeconds: num("network.output_buffer_soft_seconds"),
    };
    this.replica = {
      hardBytes: num("replication.output_buffer_hard_limit"),
      softBytes: num("replication.output_buffer_soft_limit"),
      softSeconds: num("replication.output_buffer_soft_seconds"),
    };
    this.queryBufferLimitBytes = num("network.query_buffer_limit");
    this.maxmemoryClients = v.get("network.maxmemory_clients") as number | string;
    const positive = [this.normal.hardBytes, this.normal.softBytes].filter((n) => n > 0);
    this.checkBytes = positive.length > 0 ? Math.min(...positive) : Infinity;
  }
}
