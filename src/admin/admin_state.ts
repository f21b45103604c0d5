/**
 * The server's administration state: its running configuration (what
 * CONFIG GET shows and CONFIG SET changes), the statistics INFO reports
 * beyond the executor's counters (error replies by code, closes for
 * limits), the slow log, the latency monitor and the command timer, and
 * the hooks that stop the server (SHUTDOWN).
 *
 * @example
 * ```ts
 * const admin = new AdminState({ config, values, log });
 * admin.applyLive("network.max_connections", 10);
 * ```
 * @module
 */

import {
  type Address,
  type Config,
  configValues,
  type DebugCommandMode,
} from "../config/config.ts";
import type { Session } from "../executor/command_spec.ts";
import type { Logger, LogLevel } from "../log/logger.ts";
import type { CommandError } from "../protocol/reply_writer.ts";
import type { AdjustableLogger } from "./adjustable_logger.ts";
import { ErrorStats } from "./command_stats.ts";
import { CommandTimer } from "./command_timer.ts";
import { type ParameterTable, parameterTable } from "./config_parameters.ts";
import { applyEncodingLimit, applyEncodingLimits } from "./encoding_config.ts";
import { LatencyMonitor } from "./latency_monitor.ts";
import { SlowLog } from "./slowlog.ts";
import { RateSampler } from "./rate_sampler.ts";
import { Acl } from "../security/acl.ts";

/** SHUTDOWN's options, as parsed from the request. */
export interface ShutdownRequest {
  /** NOSAVE: skip the final snapshot; SAVE: take one even without the WAL's threshold. */
  save: "default" | "save" | "nosave";
  now: boolean;
  force: boolean;
}

/**
 * Stops the server gracefully (as SIGTERM does); resolves with an error
 * message when it refuses (the server keeps running), never when it
 * proceeds (the process ends).
 */
export type ShutdownHandler = (request: ShutdownRequest) => Promise<string | undefined>;

/** How often the ops/sec and memory-peak sampler runs (Redis's serverCron: 100 ms). */
const SAMPLE_INTERVAL_MS = 100;
/** The memory peak is sampled every this many ops samples (once a second). */
const MEMORY_SAMPLE_EVERY = 10;

/** Limit closes logged at `info` at most this often (the count is kept). */
const LIMIT_LOG_INTERVAL_MS = 1000;

/** What an {@link AdminState} is made from. */
export interface AdminOptions {
  config: Config;
  /** Every YAML key's running value (config.ts `configValues`); defaults when absent. */
  values?: Map<string, unknown>;
  /** The YAML file the server was started with (CONFIG REWRITE writes it). */
  configPath?: string;
  log: Logger | AdjustableLogger;
}

/**
 * kvdb's estimate of Redis's `used_memory`: the JavaScript heap in use plus
 * memory outside it that V8 knows of (the keyspace's arenas and large
 * values are ArrayBuffers, counted there).
 */
export function usedMemoryBytes(): number {
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

/** A random 40-hex-digit id (Redis's run_id), new at every start. */
function newRunId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An IPv4 or IPv6 loopback address (enable-debug-command `local`). */
function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address.startsWith("[::1]") ||
    address.startsWith("::1");
}

/**
 * See the module comment.
 *
 * @example
 * ```ts
 * admin.noteError(new CommandError("ERR", "x"));
 * admin.errors.total; // 1
 * ```
 */
export class AdminState {
  readonly config: Config;
  readonly values: Map<string, unknown>;
  readonly configPath: string | undefined;
  readonly log: Logger | AdjustableLogger;
  readonly parameters: ParameterTable = parameterTable();
  readonly errors = new ErrorStats();
  readonly slowlog: SlowLog;
  readonly latency = new LatencyMonitor();
  readonly timer: CommandTimer;
  readonly runId = newRunId();
  /** Users, authentication and the ACL log (src/security). */
  readonly acl: Acl;
  readonly startedMs = Date.now();
  /** Connections refused for `max_connections` (Redis's `rejected_connections`). */
  rejectedConnections = 0;
  /** Clients closed for a limit, by limit name (`max_connections`, `request_timeout`, ...). */
  readonly limitCloses = new Map<string, number>();
  /** Per limit: when a closing was last logged at info, and closings since. */
  readonly #limitLog = new Map<string, { loggedMs: number; unlogged: number }>();
  /** Called after a YAML key changed at run time (snapshot threshold, ...). */
  readonly #liveListeners = new Map<string, (value: unknown) => void>();
  /** Set by the server: stops it (SHUTDOWN). */
  shutdownHandler: ShutdownHandler | undefined;
  /** Whether a shutdown is under way (SHUTDOWN ABORT has something to abort). */
  shutdownPending = false;
  /** `Deno.memoryUsage()`'s estimate at start and its highest seen (sampled). */
  readonly startupMemoryBytes = usedMemoryBytes();
  peakMemoryBytes = this.startupMemoryBytes;
  /**
   * Clients' traffic (INFO stats `total_net_*`, `total_reads_processed`,
   * `total_writes_processed`): counted by each connection as it reads and
   * writes, replication's own links aside.
   */
  readonly net = { inputBytes: 0, outputBytes: 0, reads: 0, writes: 0 };
  /** Connections accepted before the last CONFIG RESETSTAT (`total_connections_received` counts from it). */
  connectionsBeforeReset = 0;
  #ops: RateSampler | undefined;
  readonly #inputRate = new RateSampler(() => this.net.inputBytes);
  readonly #outputRate = new RateSampler(() => this.net.outputBytes);
  #samplesTaken = 0;
  #lastSampleMs = performance.now();
  #sampler: ReturnType<typeof setInterval> | undefined;

  constructor(options: AdminOptions) {
    this.config = options.config;
    this.values = options.values ?? configValues({}, "defaults");
    this.configPath = options.configPath;
    this.log = options.log;
    const m = options.config.monitoring;
    this.slowlog = new SlowLog(m.slowlogMaxLen);
    this.acl = new Acl({
      requirepass: options.config.security.requirepass,
      aclFile: options.config.security.aclFile,
    });
    this.acl.log.maxEntries = options.config.security.acllogMaxLen;
    this.timer = new CommandTimer({
      slowlog: this.slowlog,
      latency: this.latency,
      clientAddress: (session) => (session as { address?: string }).address ?? "",
    });
    this.#configureTimer();
    applyEncodingLimits(this.values);
  }

  /**
   * Starts sampling commands per second every 100 ms (the memory peak every second)
   * from `commands()` (the executor's count); {@link stopSampling} ends it.
   */
  startSampling(commands: () => number): void {
    const ops = this.#ops = new RateSampler(commands);
    this.#sampler = setInterval(() => {
      const now = performance.now();
      const elapsedMs = now - this.#lastSampleMs;
      ops.sample(elapsedMs);
      this.#inputRate.sample(elapsedMs);
      this.#outputRate.sample(elapsedMs);
      this.#lastSampleMs = now;
      // Deno.memoryUsage() costs ~60 µs: the peak is sampled once a second.
      if (++this.#samplesTaken % MEMORY_SAMPLE_EVERY === 0) this.usedMemory();
    }, SAMPLE_INTERVAL_MS);
    Deno.unrefTimer(this.#sampler);
  }

  stopSampling(): void {
    clearInterval(this.#sampler);
  }

  /** Commands per second over the last 1.6 s (`instantaneous_ops_per_sec`). */
  get opsPerSecond(): number {
    return Math.round(this.#ops?.perSecond ?? 0);
  }

  /** Clients' input and output over the last 1.6 s, KiB/s (`instantaneous_*_kbps`). */
  get kibPerSecond(): { input: number; output: number } {
    return { input: this.#inputRate.perSecond / 1024, output: this.#outputRate.perSecond / 1024 };
  }

  /** Memory in use now (see {@link usedMemoryBytes}), updating the peak. */
  usedMemory(): number {
    const used = usedMemoryBytes();
    if (used > this.peakMemoryBytes) this.peakMemoryBytes = used;
    return used;
  }

  /** Whether DEBUG may run for this client (`enable-debug-command`). */
  debugAllowed(session: Session): boolean {
    const mode: DebugCommandMode = this.config.security.enableDebugCommand;
    if (mode === "yes") return true;
    if (mode === "no") return false;
    const address = session.client?.addr;
    // A session without a client is local (kvdb cli, tests in-process).
    return address === undefined || isLoopback(address);
  }

  /** Runs `listener` whenever `path` is changed at run time. */
  onLiveChange(path: string, listener: (value: unknown) => void): void {
    this.#liveListeners.set(path, listener);
  }

  /**
   * A YAML key changed by CONFIG SET: the running config follows (the
   * server reads these fields where it uses them), and so do the parts
   * that copied them.
   */
  applyLive(path: string, value: unknown): void {
    this.values.set(path, value);
    const c = this.config;
    switch (path) {
      case "network.max_connections":
        c.network.maxConnections = value as number;
        break;
      case "network.idle_timeout":
        c.network.idleTimeoutMs = value as number;
        break;
      case "network.request_timeout":
        c.network.requestTimeoutMs = value as number;
        break;
      // Client limits (src/clients/client_limits.ts follows them).
      case "network.output_buffer_hard_limit":
        c.network.outputHardLimitBytes = value as number;
        break;
      case "network.output_buffer_soft_limit":
        c.network.outputSoftLimitBytes = value as number;
        break;
      case "network.output_buffer_soft_seconds":
        c.network.outputSoftLimitSeconds = value as number;
        break;
      case "network.query_buffer_limit":
        c.network.queryBufferLimitBytes = value as number;
        break;
      case "network.maxmemory_clients":
        c.network.maxmemoryClients = value as number | string;
        break;
      case "replication.output_buffer_hard_limit":
        c.replication.outputHardLimitBytes = value as number;
        break;
      case "replication.output_buffer_soft_limit":
        c.replication.outputSoftLimitBytes = value as number;
        break;
      case "replication.output_buffer_soft_seconds":
        c.replication.outputSoftLimitSeconds = value as number;
        break;
      case "logging.level":
        c.logging.level = value as LogLevel;
        if ("setLevel" in this.log) this.log.setLevel(value as LogLevel);
        break;
      case "monitoring.slowlog_log_slower_than":
        c.monitoring.slowlogLogSlowerThanUsec = value as number;
        break;
      case "scripting.busy_reply_threshold":
        c.scripting.busyReplyThresholdMs = value as number;
        break;
      case "monitoring.slowlog_max_len":
        c.monitoring.slowlogMaxLen = value as number;
        this.slowlog.maxLength = value as number;
        this.slowlog.trim();
        break;
      case "monitoring.latency_monitor_threshold":
        c.monitoring.latencyMonitorThresholdMs = value as number;
        break;
      case "monitoring.latency_tracking":
        c.monitoring.latencyTracking = value as boolean;
        break;
      case "monitoring.latency_tracking_info_percentiles":
        c.monitoring.latencyTrackingInfoPercentiles = [...value as number[]];
        break;
      case "wal.snapshot_threshold":
        c.wal.snapshotThresholdBytes = (value as number) || 4 * c.wal.maxSegmentBytes;
        break;
      case "replication.retention_size":
        c.replication.retentionBytes = value as number;
        break;
      case "replication.replica_priority":
        c.replication.replicaPriority = value as number;
        break;
      case "replication.min_replicas_to_write":
        c.replication.minReplicasToWrite = value as number;
        break;
      case "replication.min_replicas_max_lag":
        c.replication.minReplicasMaxLagMs = value as number;
        break;
      case "replication.masterauth":
        c.replication.masterauth = value as string;
        break;
      case "replication.masteruser":
        c.replication.masteruser = value as string;
        break;
      case "security.requirepass":
        c.security.requirepass = value as string;
        this.acl.setRequirePass(value as string);
        break;
      case "security.protected_mode":
        c.security.protectedMode = value as boolean;
        break;
      case "security.acllog_max_len":
        // As Redis: the log is trimmed when the next entry comes.
        c.security.acllogMaxLen = value as number;
        this.acl.log.maxEntries = value as number;
        break;
      case "pubsub.notify_keyspace_events":
        c.pubsub.notifyKeyspaceEvents = value as string;
        break;
      case "pubsub.output_buffer_hard_limit":
        c.pubsub.outputHardLimitBytes = value as number;
        break;
      case "pubsub.output_buffer_soft_limit":
        c.pubsub.outputSoftLimitBytes = value as number;
        break;
      case "pubsub.output_buffer_soft_seconds":
        c.pubsub.outputSoftLimitSeconds = value as number;
        break;
      default:
        // A key with a live listener (tls.*) is applied by that listener.
        if (!applyEncodingLimit(path, value) && !this.#liveListeners.has(path)) {
          throw new Error(`${path} cannot change at run time`);
        }
    }
    this.#configureTimer();
    this.#liveListeners.get(path)?.(value);
  }

  /**
   * REPLICAOF changed the role: the running replication keys follow, so
   * CONFIG GET replicaof and CONFIG REWRITE show it. A master keeps the
   * keys it started with unless it was a replica (then it serves
   * replication on its client address only).
   */
  recordReplication(choice: { role: "master" | "slave"; master?: Address }): void {
    const r = this.config.replication;
    if (choice.role === "slave") {
      r.enabled = true;
      r.replicaType = "slave";
      r.masterAddress = choice.master!;
    } else {
      if (r.replicaType !== "slave") return;
      r.replicaType = "master";
      r.masterAddress = this.config.network.address;
    }
    this.values.set("replication.enabled", r.enabled);
    this.values.set("replication.replica_type", r.replicaType);
    this.values.set("replication.master_address", r.masterAddress);
  }

  #configureTimer(): void {
    const m = this.config.monitoring;
    this.timer.configure({
      slowlogUsec: m.slowlogLogSlowerThanUsec,
      latencyMs: m.latencyMonitorThresholdMs,
      tracking: m.latencyTracking,
    });
  }

  /**
   * Counts an error reply the executor did not send (a protocol error, a
   * refusal by the connection or the listener) in errorstats, and logs it
   * at `debug`. For src/server/connection.ts and server.ts.
   */
  noteError(error: CommandError, fields: Record<string, string | number> = {}): void {
    this.errors.count(error.code);
    if (this.log.enabled("debug")) {
      this.log.debug("error reply", { code: error.code, error: error.message, ...fields });
    }
  }

  /**
   * Counts a client closed for a limit (`limit` is its config key:
   * `network.max_connections`, `network.request_timeout`,
   * `pubsub.output_buffer_hard_limit`, ...), logs it at `debug`, and at
   * `info` at most once a second per limit with the number since the last line.
   */
  noteLimitClose(limit: string, fields: Record<string, string | number> = {}): void {
    this.limitCloses.set(limit, (this.limitCloses.get(limit) ?? 0) + 1);
    if (limit === "network.max_connections") this.rejectedConnections++;
    let logged = this.#limitLog.get(limit);
    if (logged === undefined) this.#limitLog.set(limit, logged = { loggedMs: 0, unlogged: 0 });
    logged.unlogged++;
    if (this.log.enabled("debug")) {
      this.log.debug("client closed for a limit", { limit, ...fields });
    }
    const now = Date.now();
    if (now - logged.loggedMs >= LIMIT_LOG_INTERVAL_MS) {
      this.log.info("clients closed for limits", { limit, closed: logged.unlogged, ...fields });
      logged.loggedMs = now;
      logged.unlogged = 0;
    }
  }

  /**
   * CONFIG RESETSTAT's part here (the command counters are the table's):
   * called after the counters it samples are zeroed.
   */
  resetStats(): void {
    this.errors.reset();
    this.rejectedConnections = 0;
    this.limitCloses.clear();
    this.net.inputBytes =
      this.net.outputBytes =
      this.net.reads =
      this.net.writes =
        0;
    this.#ops?.reset();
    this.#inputRate.reset();
    this.#outputRate.reset();
  }
}
