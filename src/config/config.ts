/**
 * kvdb's configuration: the YAML keys of the original (engine, network,
 * logging, wal, replication) plus `engine.partitions`, every key optional.
 *
 * One table, {@link CONFIG_KEYS}, names each key with its default and its
 * rule; loading, validation and the README's reference all follow it. Any
 * bad value stops the start with one {@link ConfigError} naming the key and
 * the value. Relative paths are taken from the working directory, as the
 * original did.
 *
 * @example
 * ```ts
 * const config = await loadConfig("configs/master.yaml");
 * config.network.maxConnections; // 100
 * ```
 * @module
 */

import { parse as parseYaml } from "yaml";
import { LOG_LEVELS, type LogLevel } from "../log/logger.ts";
import { PROTOCOL_MODES, type ProtocolMode } from "../protocol/protocol.ts";
import { WAL_MAX_BATCH_SIZE } from "../wal/wal.ts";
import { formatSize, parseDurationMs, parseSize, UnitError } from "./units.ts";
import { parseNotifyFlags } from "../pubsub/keyspace_events.ts";
import { parseAclFile } from "../security/acl_file.ts";
import { MAXMEMORY_POLICIES, type MaxmemoryPolicy } from "../memory/policy.ts";

/** A `host:port` pair as `Deno.listen` and `Deno.connect` take it. */
export interface Address {
  hostname: string;
  port: number;
}

/** The validated configuration, with units in the names. */
export interface Config {
  engine: { type: "in_memory"; partitions: number; databases: number };
  network: {
    address: Address;
    maxConnections: number;
    maxMessageBytes: number;
    /** 0 disables the idle timeout. */
    idleTimeoutMs: number;
    /** Longest a started request may take to arrive whole; 0 disables. */
    requestTimeoutMs: number;
    /** How each connection's protocol is chosen. */
    protocol: ProtocolMode;
    /** `client-output-buffer-limit normal`: hard limit (0: none), soft limit (0: none), seconds. */
    outputHardLimitBytes: number;
    outputSoftLimitBytes: number;
    outputSoftLimitSeconds: number;
    /** `client-query-buffer-limit`: a client with more unparsed input is closed. */
    queryBufferLimitBytes: number;
    /** `maxmemory-clients`: bytes, or `"N%"` of maxmemory; 0: no client eviction. */
    maxmemoryClients: number | string;
  };
  logging: { level: LogLevel; output: string };
  /** The slow log, the latency monitor and latency tracking (Redis's names, snake_case). */
  monitoring: {
    /** µs, as Redis's `slowlog-log-slower-than`: negative turns the slow log off, 0 logs all. */
    slowlogLogSlowerThanUsec: number;
    slowlogMaxLen: number;
    /** 0 turns the latency monitor off. */
    latencyMonitorThresholdMs: number;
    latencyTracking: boolean;
    latencyTrackingInfoPercentiles: number[];
  };
  security: {
    /** DEBUG: refused (`no`), served (`yes`), or served to loopback clients (`local`). */
    enableDebugCommand: DebugCommandMode;
    /** The default user's password (Redis's `requirepass`); "" for none. */
    requirepass: string;
    /** No password and a non-loopback address: only loopback clients are served. */
    protectedMode: boolean;
    /** Redis's ACL file of users (ACL SAVE / ACL LOAD); "" for none. */
    aclFile: string;
    /** ACL LOG entries kept, newest first (Redis's `acllog-max-len`). */
    acllogMaxLen: number;
  };
  /** Lua scripts (Redis's `busy-reply-threshold`). */
  scripting: { busyReplyThresholdMs: number };
  wal: {
    enabled: boolean;
    flushingBatchSize: number;
    flushingBatchTimeoutMs: number;
    maxSegmentBytes: number;
    /** WAL bytes written since the last snapshot that trigger the next. */
    snapshotThresholdBytes: number;
    dataDirectory: string;
  };
  replication: {
    /** `client-output-buffer-limit replica` (see README "Client limits" for what it bounds). */
    outputHardLimitBytes: number;
    outputSoftLimitBytes: number;
    outputSoftLimitSeconds: number;
    enabled: boolean;
    replicaType: "master" | "slave";
    masterAddress: Address;
    syncIntervalMs: number;
    retentionBytes: number;
    /** What a replica announces to its master, `host:port`; "" for its network.address. */
    announceAddress: string;
    /** Redis's `replica-priority`: Sentinel promotes lower first; 0 never. */
    replicaPriority: number;
    /** Redis's `min-replicas-to-write` (0: off) and `min-replicas-max-lag`. */
    minReplicasToWrite: number;
    minReplicasMaxLagMs: number;
    /**
     * The password a replica sends its master (`AUTH [masteruser] masterauth`
     * before `REPLSYNC`; Redis's `masterauth`); "" for none.
     */
    masterauth: string;
    /** The ACL user a replica logs in as with `masterauth` (Redis's `masteruser`); "" for `default`. */
    masteruser: string;
  };
  /** maxmemory and eviction (Redis's names, snake_case; see src/memory). */
  memory: {
    /** 0: no limit. */
    maxmemoryBytes: number;
    maxmemoryPolicy: MaxmemoryPolicy;
    maxmemorySamples: number;
    lfuLogFactor: number;
    /** Redis's `lfu-decay-time`, in minutes. */
    lfuDecayMinutes: number;
  };
  pubsub: {
    /** Redis's `notify-keyspace-events` letters ("" = none). */
    notifyKeyspaceEvents: string;
    /** `client-output-buffer-limit pubsub` hard limit (0: none). */
    outputHardLimitBytes: number;
    /** Its soft limit (0: none), and how long output may stay above it. */
    outputSoftLimitBytes: number;
    outputSoftLimitSeconds: number;
  };
  /** TLS for clients and replication (Redis's tls-* parameters). */
  tls: {
    /** TLS client port on network.address's host; 0: no TLS listener. */
    port: number;
    /** PEM files; "" when not set. */
    certFile: string;
    keyFile: string;
    caCertFile: string;
    /**
     * Client certificates (Redis's tls-auth-clients): `true` requires one
     * signed by the CA, `"optional"` asks for one and refuses one the CA did
     * not sign but serves a client with none, `false` does not ask.
     */
    authClients: boolean | "optional";
    /** A replica dials its master over TLS, verifying it against the CA (Redis's tls-replication). */
    replication: boolean;
  };
}

/** `security.enable_debug_command`, as Redis's `enable-debug-command`. */
export type DebugCommandMode = "no" | "yes" | "local";

/** A config that cannot be used; the message names key and value. */
export class ConfigError extends Error {}

class RuleError extends Error {}

/**
 * What a key's rule accepts, for CONFIG GET/SET (which speak Redis's value
 * syntax) and CONFIG REWRITE (which writes YAML back).
 */
export type RuleKind =
  | { kind: "integer"; min: number; max: number }
  | { kind: "size"; min: number; max: number }
  | { kind: "duration" }
  | { kind: "boolean" }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "string" }
  | { kind: "address" }
  | { kind: "percentiles" }
  | { kind: "debug_mode" }
  | { kind: "boolean_or"; word: string };

/** Validates a raw YAML value into the config's value; throws with what is wrong. */
export type Rule = ((raw: unknown) => unknown) & { readonly spec: RuleKind };

function rule(spec: RuleKind, check: (raw: unknown) => unknown): Rule {
  return Object.assign(check, { spec });
}

function integer(min: number, max: number): Rule {
  return rule({ kind: "integer", min, max }, (raw) => {
    if (typeof raw !== "number" || !Number.isInteger(raw)) {
      throw new RuleError(`must be a whole number from ${min} to ${max}`);
    }
    if (raw < min || raw > max) {
      throw new RuleError(`must be from ${min} to ${max}`);
    }
    return raw;
  });
}

function size(minBytes: number, maxBytes: number): Rule {
  return rule({ kind: "size", min: minBytes, max: maxBytes }, (raw) => {
    let bytes: number;
    try {
      bytes = parseSize(raw);
    } catch (e) {
      throw new RuleError(e instanceof UnitError ? e.message : String(e));
    }
    if (bytes < minBytes || bytes > maxBytes) {
      throw new RuleError(
        `must be from ${formatSize(minBytes)} to ${formatSize(maxBytes)}`,
      );
    }
    return bytes;
  });
}

function duration(minMs: number, maxMs: number, zeroAllowed = false): Rule {
  return rule({ kind: "duration" }, (raw) => {
    let ms: number;
    try {
      ms = parseDurationMs(raw);
    } catch (e) {
      throw new RuleError(e instanceof UnitError ? e.message : String(e));
    }
    if (ms === 0 && zeroAllowed) return 0;
    if (ms < minMs || ms > maxMs) {
      throw new RuleError(
        `must be from ${minMs}ms to ${maxMs / 1000}s` +
          (zeroAllowed ? " (or 0 to disable)" : ""),
      );
    }
    return ms;
  });
}

function oneOf(values: readonly string[]): Rule {
  return rule({ kind: "enum", values }, (raw) => {
    if (typeof raw !== "string" || !values.includes(raw)) {
      throw new RuleError(`must be one of: ${values.join(", ")}`);
    }
    return raw;
  });
}

/** A size, or "auto" (resolved against other keys: 0 here). */
function sizeOrAuto(minBytes: number, maxBytes: number): Rule {
  const sized = size(minBytes, maxBytes);
  return rule(sized.spec, (raw) => raw === "auto" ? 0 : sized(raw));
}

const boolean: Rule = rule({ kind: "boolean" }, (raw) => {
  if (typeof raw !== "boolean") throw new RuleError("must be true or false");
  return raw;
});

/** Redis's notify-keyspace-events letters. */
const notifyLetters: Rule = rule({ kind: "string" }, (raw) => {
  if (typeof raw !== "string" || parseNotifyFlags(raw) === undefined) {
    throw new RuleError("must be Redis's event class letters, any of Ag$lshzxeKEtmdn (or empty)");
  }
  return raw;
});

/**
 * `network.maxmemory_clients`: a size, or a percentage of maxmemory
 * (`"10%"`, at most 100); 0 turns client eviction off. The running value
 * is a number of bytes or the `"N%"` string.
 */
const sizeOrPercent: Rule = rule({ kind: "string" }, (raw) => {
  if (typeof raw === "string" && /^\s*\d+\s*%\s*$/.test(raw)) {
    const percent = Number(raw.replace("%", "").trim());
    if (percent > 100) throw new RuleError("a percentage must be at most 100%");
    return percent === 0 ? 0 : `${percent}%`;
  }
  try {
    return parseSize(raw);
  } catch (e) {
    throw new RuleError(
      `must be a size (such as 64MB) or a percentage of maxmemory (such as 10%): ${
        e instanceof UnitError ? e.message : String(e)
      }`,
    );
  }
});

/** `host:port`, or empty (a default applies). */
const optionalAddress: Rule = rule({ kind: "string" }, (raw) => {
  if (raw === "") return "";
  try {
    return formatAddress(parseAddress(raw));
  } catch (e) {
    throw e instanceof RuleError ? e : new RuleError(String(e));
  }
});

const nonEmptyString: Rule = rule({ kind: "string" }, (raw) => {
  if (typeof raw !== "string" || raw.trim() === "") {
    throw new RuleError("must be a non-empty string");
  }
  return raw;
});

/** Most bytes of a password (Redis's `CONFIG_AUTHPASS_MAX_LEN`). */
export const MAX_PASSWORD_BYTES = 512;

/** `security.requirepass`: any string up to {@link MAX_PASSWORD_BYTES}, "" for none. */
const password: Rule = rule({ kind: "string" }, (raw) => {
  if (typeof raw !== "string") throw new RuleError("must be a string (quote it in YAML)");
  if (new TextEncoder().encode(raw).length > MAX_PASSWORD_BYTES) {
    throw new RuleError(`must be at most ${MAX_PASSWORD_BYTES} bytes`);
  }
  return raw;
});

/** `replication.masteruser`: an ACL user name (no blanks), or "" for `default`. */
const userName: Rule = rule({ kind: "string" }, (raw) => {
  if (typeof raw !== "string") throw new RuleError("must be a user name (quote it in YAML)");
  if (/\s/.test(raw)) throw new RuleError("must not hold blanks");
  if (new TextEncoder().encode(raw).length > MAX_PASSWORD_BYTES) {
    throw new RuleError(`must be at most ${MAX_PASSWORD_BYTES} bytes`);
  }
  return raw;
});

/** A file path, or empty (not set): `security.acl_file`, the `tls` files. */
const optionalPath: Rule = rule({ kind: "string" }, (raw) => {
  if (typeof raw !== "string") throw new RuleError("must be a file path, or empty for none");
  return raw;
});

/** Most percentiles INFO latencystats reports. */
const MAX_PERCENTILES = 16;

/** A list of percentiles (0 to 100), as Redis's `latency-tracking-info-percentiles`. */
const percentiles: Rule = rule({ kind: "percentiles" }, (raw) => {
  if (
    !Array.isArray(raw) || raw.length > MAX_PERCENTILES ||
    !raw.every((p) => typeof p === "number" && p >= 0 && p <= 100)
  ) {
    throw new RuleError(`must be a list of at most ${MAX_PERCENTILES} numbers from 0 to 100`);
  }
  return raw;
});

/** `enable_debug_command`: true/yes, false/no, or local. */
const debugMode: Rule = rule({ kind: "debug_mode" }, (raw) => {
  if (raw === true || raw === "yes") return "yes";
  if (raw === false || raw === "no") return "no";
  if (raw === "local") return "local";
  throw new RuleError("must be true, false or local");
});

/** A boolean (`true`/`yes`, `false`/`no`) or one more word: `tls.auth_clients` (`optional`). */
function booleanOr(word: string): Rule {
  return rule({ kind: "boolean_or", word }, (raw) => {
    if (raw === true || raw === "yes") return true;
    if (raw === false || raw === "no") return false;
    if (raw === word) return word;
    throw new RuleError(`must be true, false or ${word}`);
  });
}

/**
 * Parses `host:port` (`[::1]:3223` for IPv6).
 *
 * @example
 * ```ts
 * parseAddress("127.0.0.1:3223"); // { hostname: "127.0.0.1", port: 3223 }
 * ```
 */
export function parseAddress(raw: unknown): Address {
  const match = typeof raw === "string"
    ? /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(raw)
    : null;
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new RuleError("must be host:port, such as 127.0.0.1:3223");
  }
  return { hostname: match[1] ?? match[2], port };
}

/** Formats an address back to `host:port`. */
export function formatAddress(address: Address): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}

const address: Rule = rule({ kind: "address" }, (raw) => {
  try {
    return parseAddress(raw);
  } catch (e) {
    if (e instanceof RuleError) throw e;
    throw new RuleError(String(e));
  }
});

/** One config key: YAML path, default (as YAML writes it), rule, meaning. */
export interface ConfigKey {
  path: string;
  defaultValue: unknown;
  rule: Rule;
  description: string;
}

/** Every config key, in file order: the single source of defaults and rules. */
export const CONFIG_KEYS: readonly ConfigKey[] = [
  {
    path: "engine.type",
    defaultValue: "in_memory",
    rule: oneOf(["in_memory"]),
    description: "storage engine; only in_memory exists",
  },
  {
    path: "engine.partitions",
    defaultValue: 16,
    rule: integer(1, 1024),
    description: "independent hash partitions of the keyspace",
  },
  {
    path: "engine.databases",
    defaultValue: 16,
    rule: integer(1, 1024),
    description: "numbered databases (SELECT 0 .. databases-1), Redis's `databases`",
  },
  {
    path: "engine.hash_max_listpack_entries",
    defaultValue: 512,
    rule: integer(0, Number.MAX_SAFE_INTEGER),
    description:
      "a hash with more fields is a hash table, not a listpack (Redis's hash-max-listpack-entries)",
  },
  {
    path: "engine.hash_max_listpack_value",
    defaultValue: 64,
    rule: integer(0, Number.MAX_SAFE_INTEGER),
    description:
      "bytes: a hash with a longer field or value is a hash table (Redis's hash-max-listpack-value)",
  },
  {
    path: "engine.list_max_listpack_size",
    defaultValue: -2,
    rule: integer(-(2 ** 31), 2 ** 31 - 1),
    description:
      "elements per list node if positive; -1..-5: 4, 8, 16, 32 or 64 KiB per node (Redis's list-max-listpack-size)",
  },
  {
    path: "engine.list_compress_depth",
    defaultValue: 0,
    rule: integer(0, 2 ** 31 - 1),
    description:
      "Redis's list-compress-depth: accepted and reported; kvdb compresses no list nodes",
  },
  {
    path: "engine.set_max_intset_entries",
    defaultValue: 512,
    rule: integer(0, Number.MAX_SAFE_INTEGER),
    description:
      "a set of integers with more members is a hash table, not an intset (Redis's set-max-intset-entries)",
  },
  {
    path: "engine.zset_max_listpack_entries",
    defaultValue: 128,
    rule: integer(0, Number.MAX_SAFE_INTEGER),
    description:
      "a sorted set with more members is a skiplist, not a listpack (Redis's zset-max-listpack-entries)",
  },
  {
    path: "engine.zset_max_listpack_value",
    defaultValue: 64,
    rule: integer(0, Number.MAX_SAFE_INTEGER),
    description:
      "bytes: a sorted set with a longer member is a skiplist (Redis's zset-max-listpack-value)",
  },
  {
    path: "engine.lazyfree_lazy_eviction",
    defaultValue: false,
    rule: boolean,
    description:
      "Redis's lazyfree-lazy-eviction: accepted and reported; kvdb frees every deleted value off the event loop whatever it says",
  },
  {
    path: "engine.lazyfree_lazy_expire",
    defaultValue: false,
    rule: boolean,
    description:
      "Redis's lazyfree-lazy-expire: accepted and reported; kvdb frees every deleted value off the event loop whatever it says",
  },
  {
    path: "engine.lazyfree_lazy_server_del",
    defaultValue: false,
    rule: boolean,
    description:
      "Redis's lazyfree-lazy-server-del: accepted and reported; kvdb frees every deleted value off the event loop whatever it says",
  },
  {
    path: "engine.lazyfree_lazy_user_del",
    defaultValue: false,
    rule: boolean,
    description:
      "Redis's lazyfree-lazy-user-del: accepted and reported; kvdb frees every deleted value off the event loop whatever it says",
  },
  {
    path: "engine.lazyfree_lazy_user_flush",
    defaultValue: false,
    rule: boolean,
    description:
      "Redis's lazyfree-lazy-user-flush: accepted and reported; kvdb frees every deleted value off the event loop whatever it says",
  },
  {
    path: "engine.replica_lazy_flush",
    defaultValue: false,
    rule: boolean,
    description:
      "Redis's replica-lazy-flush: accepted and reported; kvdb frees every deleted value off the event loop whatever it says",
  },
  {
    path: "network.address",
    defaultValue: "127.0.0.1:3223",
    rule: address,
    description:
      "host:port the server listens on for clients; port 0: no plain listener (TLS only, on tls.port)",
  },
  {
    path: "network.max_connections",
    defaultValue: 100,
    rule: integer(1, 100_000),
    description: "client connections served at once; the next gets an error",
  },
  {
    path: "network.max_message_size",
    defaultValue: "64MiB",
    rule: size(64, 64 * 1024 ** 2),
    description: "largest request in bytes; a larger one gets an error",
  },
  {
    path: "network.idle_timeout",
    defaultValue: "5m",
    rule: duration(10, 24 * 3_600_000, true),
    description: "a connection idle this long is closed; 0 disables",
  },
  {
    path: "network.request_timeout",
    defaultValue: "10s",
    rule: duration(10, 24 * 3_600_000, true),
    description:
      "a request whose first bytes came this long ago and that is still incomplete closes its connection; 0 disables",
  },
  {
    path: "network.protocol",
    defaultValue: "auto",
    rule: oneOf(PROTOCOL_MODES),
    description:
      "auto: a connection whose first byte is * speaks RESP, any other the text protocol; resp or text: every connection speaks that one",
  },
  {
    path: "network.output_buffer_hard_limit",
    defaultValue: 0,
    rule: size(0, 1024 ** 4),
    description:
      "a client with this much unsent output is closed (client-output-buffer-limit normal); 0: no limit",
  },
  {
    path: "network.output_buffer_soft_limit",
    defaultValue: 0,
    rule: size(0, 1024 ** 4),
    description: "... or with this much for output_buffer_soft_seconds in a row; 0: no soft limit",
  },
  {
    path: "network.output_buffer_soft_seconds",
    defaultValue: 0,
    rule: integer(0, 365 * 86_400),
    description: "how long a client may stay over the soft limit, in seconds",
  },
  {
    path: "network.query_buffer_limit",
    defaultValue: "1GiB",
    rule: size(1024 ** 2, 1024 ** 4),
    description:
      "a client holding more unparsed input than this is closed (client-query-buffer-limit); bites only below max_message_size",
  },
  {
    path: "network.maxmemory_clients",
    defaultValue: 0,
    rule: sizeOrPercent,
    description:
      "when all clients' buffers pass this (a size, or N% of maxmemory), the biggest clients are closed (maxmemory-clients); 0: off",
  },
  {
    path: "logging.level",
    defaultValue: "info",
    rule: oneOf(LOG_LEVELS),
    description: "debug, info, warn or error",
  },
  {
    path: "logging.output",
    defaultValue: "stdout",
    rule: nonEmptyString,
    description: "stdout, stderr, or a file path to append to",
  },
  {
    path: "monitoring.slowlog_log_slower_than",
    defaultValue: 10_000,
    rule: integer(-1, Number.MAX_SAFE_INTEGER),
    description:
      "microseconds a command may take before the slow log keeps it; -1 turns the slow log off, 0 logs every command (Redis's slowlog-log-slower-than)",
  },
  {
    path: "monitoring.slowlog_max_len",
    defaultValue: 128,
    rule: integer(0, 10_000),
    description: "slow-log entries kept, newest first",
  },
  {
    path: "monitoring.latency_monitor_threshold",
    defaultValue: 0,
    rule: integer(0, 86_400_000),
    description:
      "milliseconds: commands at least this slow are recorded for LATENCY; 0 turns the monitor off",
  },
  {
    path: "monitoring.latency_tracking",
    defaultValue: true,
    rule: boolean,
    description: "per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM)",
  },
  {
    path: "monitoring.latency_tracking_info_percentiles",
    defaultValue: [50, 99, 99.9],
    rule: percentiles,
    description: "the percentiles INFO latencystats reports",
  },
  {
    path: "security.enable_debug_command",
    defaultValue: false,
    rule: debugMode,
    description:
      "DEBUG: false refuses it, true serves it, local serves it to loopback clients only",
  },
  {
    path: "security.requirepass",
    defaultValue: "",
    rule: password,
    description:
      "the default user's password (Redis's requirepass): clients must AUTH before anything else; empty: none",
  },
  {
    path: "security.protected_mode",
    defaultValue: true,
    rule: boolean,
    description:
      "with no password and a non-loopback network.address, non-loopback clients get -DENIED and are closed (Redis's protected-mode)",
  },
  {
    path: "security.acl_file",
    defaultValue: "",
    rule: optionalPath,
    description:
      "Redis's ACL file of users (user <name> <rules>), loaded at start, ACL LOAD and ACL SAVE; empty: none",
  },
  {
    path: "security.acllog_max_len",
    defaultValue: 128,
    rule: integer(0, 10_000),
    description:
      "ACL LOG entries kept, newest first (Redis's acllog-max-len); a lower value trims at the next entry",
  },
  {
    path: "scripting.busy_reply_threshold",
    defaultValue: 5000,
    rule: integer(0, 86_400_000),
    description:
      "milliseconds a Lua script runs before other clients get BUSY and SCRIPT KILL may stop it; 0: never (Redis's busy-reply-threshold, lua-time-limit)",
  },
  {
    path: "wal.enabled",
    defaultValue: false,
    rule: boolean,
    description: "write-ahead log for durability",
  },
  {
    path: "wal.flushing_batch_size",
    defaultValue: 100,
    rule: integer(1, WAL_MAX_BATCH_SIZE),
    description: "records per group commit at most",
  },
  {
    path: "wal.flushing_batch_timeout",
    defaultValue: "10ms",
    rule: duration(1, 10_000),
    description: "longest a batch waits for more records before its fsync",
  },
  {
    path: "wal.max_segment_size",
    defaultValue: "10MB",
    rule: size(4096, 1024 ** 3),
    description: "a new segment file starts when the current would pass this",
  },
  {
    path: "wal.snapshot_threshold",
    defaultValue: "auto",
    rule: sizeOrAuto(64 * 1024, 1024 ** 4),
    description:
      "a snapshot is taken once this much WAL was written since the last; auto: 4 × max_segment_size",
  },
  {
    path: "wal.data_directory",
    defaultValue: "./data/wal",
    rule: nonEmptyString,
    description: "directory of the WAL segments (created if missing)",
  },
  {
    path: "replication.enabled",
    defaultValue: false,
    rule: boolean,
    description: "master-slave replication (needs the WAL)",
  },
  {
    path: "replication.replica_type",
    defaultValue: "master",
    rule: oneOf(["master", "slave"]),
    description: "master (accepts writes) or slave (read-only replica)",
  },
  {
    path: "replication.master_address",
    defaultValue: "127.0.0.1:3232",
    rule: address,
    description: "master: extra address it serves replication on; slave: the master to dial",
  },
  {
    path: "replication.retention_size",
    defaultValue: "256MiB",
    rule: size(0, 1024 ** 4),
    description:
      "WAL a master keeps beyond its snapshots for replicas that are behind; past it they resync from a snapshot",
  },
  {
    path: "replication.sync_interval",
    defaultValue: "1s",
    rule: duration(10, 3_600_000),
    description: "heartbeat interval and the cap on reconnect backoff",
  },
  {
    path: "replication.announce_address",
    defaultValue: "",
    rule: optionalAddress,
    description:
      "host:port a replica tells its master it serves clients on (INFO's slaveN, which Sentinel dials); empty: network.address",
  },
  {
    path: "replication.replica_priority",
    defaultValue: 100,
    rule: integer(0, 2_147_483_647),
    description: "Sentinel promotes the replica with the lowest priority first; 0: never",
  },
  {
    path: "replication.min_replicas_to_write",
    defaultValue: 0,
    rule: integer(0, 2_147_483_647),
    description:
      "a master refuses writes (-NOREPLICAS) unless this many replicas acknowledged within min_replicas_max_lag; 0: off",
  },
  {
    path: "replication.min_replicas_max_lag",
    defaultValue: "10s",
    rule: duration(1000, 3_600_000),
    description:
      "how recent a replica's acknowledgement must be to count for min_replicas_to_write",
  },
  {
    path: "replication.masterauth",
    defaultValue: "",
    rule: password,
    description:
      "the password a replica sends its master (AUTH before REPLSYNC; Redis's masterauth); empty: none",
  },
  {
    path: "replication.masteruser",
    defaultValue: "",
    rule: userName,
    description:
      "the ACL user a replica logs in to its master as, with masterauth (Redis's masteruser); empty: default",
  },
  {
    path: "replication.output_buffer_hard_limit",
    defaultValue: "256MiB",
    rule: size(0, 1024 ** 4),
    description:
      "client-output-buffer-limit replica (slave): accepted and reported; a master holds at most one frame per replica (see README)",
  },
  {
    path: "replication.output_buffer_soft_limit",
    defaultValue: "64MiB",
    rule: size(0, 1024 ** 4),
    description: "client-output-buffer-limit replica's soft limit: accepted and reported",
  },
  {
    path: "replication.output_buffer_soft_seconds",
    defaultValue: 60,
    rule: integer(0, 365 * 86_400),
    description: "client-output-buffer-limit replica's soft seconds: accepted and reported",
  },
  {
    path: "memory.maxmemory",
    defaultValue: 0,
    rule: size(0, Number.MAX_SAFE_INTEGER),
    description:
      "the most memory the data may use (used_memory, an estimate: README Memory); writes past it evict keys as maxmemory_policy says, or get -OOM; 0: no limit",
  },
  {
    path: "memory.maxmemory_policy",
    defaultValue: "noeviction",
    rule: oneOf(MAXMEMORY_POLICIES),
    description:
      "what goes when maxmemory is reached: noeviction (writes get -OOM), allkeys-lru, volatile-lru, allkeys-lfu, volatile-lfu, allkeys-random, volatile-random, volatile-ttl",
  },
  {
    path: "memory.maxmemory_samples",
    defaultValue: 5,
    rule: integer(1, 64),
    description:
      "keys sampled per database per eviction round (more: closer to true LRU/LFU, slower)",
  },
  {
    path: "memory.lfu_log_factor",
    defaultValue: 10,
    rule: integer(0, 1_000_000),
    description: "how slowly the LFU access counter grows (Redis's lfu-log-factor)",
  },
  {
    path: "memory.lfu_decay_time",
    defaultValue: 1,
    rule: integer(0, 1_000_000),
    description:
      "minutes without access per decrement of the LFU counter (Redis's lfu-decay-time); 0: never decays",
  },
  {
    path: "pubsub.notify_keyspace_events",
    defaultValue: "",
    rule: notifyLetters,
    description:
      "keyspace notifications, Redis's notify-keyspace-events letters (K, E and classes g$lshzxetmdn or A); empty: none",
  },
  {
    path: "pubsub.output_buffer_hard_limit",
    defaultValue: "32MiB",
    rule: size(0, 1024 ** 4),
    description:
      "a subscriber or MONITOR client with this much unsent output is closed (client-output-buffer-limit pubsub); 0: no limit",
  },
  {
    path: "pubsub.output_buffer_soft_limit",
    defaultValue: "8MiB",
    rule: size(0, 1024 ** 4),
    description: "... or with this much for output_buffer_soft_seconds in a row; 0: no soft limit",
  },
  {
    path: "pubsub.output_buffer_soft_seconds",
    defaultValue: 60,
    rule: integer(0, 365 * 86_400),
    description: "how long a client may stay over the soft limit, in seconds",
  },
  {
    path: "tls.port",
    defaultValue: 0,
    rule: integer(0, 65535),
    description:
      "TLS client port, on network.address's host, beside or instead of the plain one (same keyspace); 0: no TLS",
  },
  {
    path: "tls.cert_file",
    defaultValue: "",
    rule: optionalPath,
    description: "the server's certificate (PEM, chain allowed); read at start and on CONFIG SET",
  },
  {
    path: "tls.key_file",
    defaultValue: "",
    rule: optionalPath,
    description: "the private key of tls.cert_file (PEM)",
  },
  {
    path: "tls.ca_cert_file",
    defaultValue: "",
    rule: optionalPath,
    description:
      "CA certificate(s) (PEM) that client certificates and, on a replica, the master's are verified against",
  },
  {
    path: "tls.auth_clients",
    defaultValue: false,
    rule: booleanOr("optional"),
    description:
      "TLS clients must present a certificate signed by tls.ca_cert_file; optional: asked for, one signed by another CA is refused",
  },
  {
    path: "tls.replication",
    defaultValue: false,
    rule: boolean,
    description:
      "a replica dials its master's TLS port (replication.master_address's port is then its TLS port) and verifies its certificate",
  },
];

/**
 * Most chars of a value or key shown in an error: a binary file read as
 * YAML is one huge string, and the message must stay one readable line.
 */
const MAX_SHOWN_CHARS = 64;

/** `text` cut to `maxChars`, saying how much was left out. */
function shorten(text: string, maxChars = MAX_SHOWN_CHARS): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}... (${text.length} chars)`;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (typeof value === "string") {
    const quoted = JSON.stringify(value);
    if (quoted.length <= MAX_SHOWN_CHARS + 2) return quoted;
    // The quoted head, escape by escape so the cut never splits one.
    let head = "";
    for (const char of value) {
      const piece = JSON.stringify(char).slice(1, -1);
      if (head.length + piece.length > MAX_SHOWN_CHARS) break;
      head += piece;
    }
    return `"${head}"... (${value.length} chars)`;
  }
  if (typeof value === "object") return shorten(JSON.stringify(value));
  return shorten(String(value));
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Fails on any key the table does not know, naming the closest known one. */
function rejectUnknownKeys(doc: Record<string, unknown>, where: string) {
  const sections = new Set(CONFIG_KEYS.map((k) => k.path.split(".")[0]));
  for (const [section, body] of Object.entries(doc)) {
    if (!sections.has(section)) {
      throw new ConfigError(
        `${where}: unknown key ${describe(section)} (known: ${[...sections].join(", ")})`,
      );
    }
    if (body === null || body === undefined) continue;
    if (!isMapping(body)) {
      throw new ConfigError(
        `${where}: ${shorten(section)} = ${describe(body)}: must be a mapping of keys`,
      );
    }
    for (const key of Object.keys(body)) {
      const path = `${section}.${key}`;
      if (!CONFIG_KEYS.some((k) => k.path === path)) {
        const known = CONFIG_KEYS.filter((k) => k.path.startsWith(section + "."))
          .map((k) => k.path.slice(section.length + 1));
        throw new ConfigError(
          `${where}: unknown key ${describe(path)} (known in ${section}: ${known.join(", ")})`,
        );
      }
    }
  }
}

/**
 * Validates a parsed YAML document (or `{}`) into a {@link Config}.
 * `where` names the source in messages.
 *
 * @example
 * ```ts
 * configFromDocument({ network: { max_connections: 10 } }, "test");
 * ```
 */
export function configFromDocument(doc: unknown, where: string): Config {
  return configFromValues(configValues(doc, where), where);
}

/**
 * Validates a parsed YAML document into every key's value (defaults filled
 * in), by YAML path: what CONFIG GET, SET and REWRITE work on.
 *
 * @example
 * ```ts
 * configValues({ network: { max_connections: 10 } }, "test").get("network.max_connections"); // 10
 * ```
 */
export function configValues(doc: unknown, where: string): Map<string, unknown> {
  if (doc === null || doc === undefined) doc = {};
  if (!isMapping(doc)) {
    throw new ConfigError(
      `${where}: the file must be a YAML mapping of sections, got ${describe(doc)}`,
    );
  }
  rejectUnknownKeys(doc, where);
  const values = new Map<string, unknown>();
  for (const key of CONFIG_KEYS) {
    const [section, name] = key.path.split(".");
    const body = doc[section] as Record<string, unknown> | null | undefined;
    const raw = body?.[name];
    const given = raw !== undefined && raw !== null;
    try {
      values.set(key.path, key.rule(given ? raw : key.defaultValue));
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      throw new ConfigError(`${where}: ${key.path} = ${describe(raw)}: ${e.message}`);
    }
  }
  return values;
}

/**
 * Checks one key's raw YAML value with its rule; returns the value the
 * config holds, or throws a {@link ConfigError} saying what is wrong (the
 * rule's words only).
 *
 * @example
 * ```ts
 * checkConfigValue("network.max_connections", 10); // 10
 * ```
 */
export function checkConfigValue(path: string, raw: unknown): unknown {
  const key = CONFIG_KEYS.find((k) => k.path === path);
  if (key === undefined) throw new ConfigError(`unknown key ${path}`);
  try {
    return key.rule(raw);
  } catch (e) {
    if (e instanceof RuleError) throw new ConfigError(e.message);
    throw e;
  }
}

/**
 * Builds the {@link Config} from every key's value ({@link configValues}),
 * checking what involves several keys.
 *
 * @example
 * ```ts
 * configFromValues(configValues({}, "defaults"), "defaults").engine.databases; // 16
 * ```
 */
export function configFromValues(values: ReadonlyMap<string, unknown>, where: string): Config {
  const get = <T>(path: string) => values.get(path) as T;
  const config: Config = {
    engine: {
      type: "in_memory",
      partitions: get("engine.partitions"),
      databases: get("engine.databases"),
    },
    network: {
      address: get("network.address"),
      maxConnections: get("network.max_connections"),
      maxMessageBytes: get("network.max_message_size"),
      idleTimeoutMs: get("network.idle_timeout"),
      requestTimeoutMs: get("network.request_timeout"),
      protocol: get("network.protocol"),
      outputHardLimitBytes: get("network.output_buffer_hard_limit"),
      outputSoftLimitBytes: get("network.output_buffer_soft_limit"),
      outputSoftLimitSeconds: get("network.output_buffer_soft_seconds"),
      queryBufferLimitBytes: get("network.query_buffer_limit"),
      maxmemoryClients: get("network.maxmemory_clients"),
    },
    logging: { level: get("logging.level"), output: get("logging.output") },
    monitoring: {
      slowlogLogSlowerThanUsec: get("monitoring.slowlog_log_slower_than"),
      slowlogMaxLen: get("monitoring.slowlog_max_len"),
      latencyMonitorThresholdMs: get("monitoring.latency_monitor_threshold"),
      latencyTracking: get("monitoring.latency_tracking"),
      latencyTrackingInfoPercentiles: [
        ...get<number[]>("monitoring.latency_tracking_info_percentiles"),
      ],
    },
    security: {
      enableDebugCommand: get("security.enable_debug_command"),
      requirepass: get("security.requirepass"),
      protectedMode: get("security.protected_mode"),
      aclFile: get("security.acl_file"),
      acllogMaxLen: get("security.acllog_max_len"),
    },
    scripting: { busyReplyThresholdMs: get("scripting.busy_reply_threshold") },
    wal: {
      enabled: get("wal.enabled"),
      flushingBatchSize: get("wal.flushing_batch_size"),
      flushingBatchTimeoutMs: get("wal.flushing_batch_timeout"),
      maxSegmentBytes: get("wal.max_segment_size"),
      snapshotThresholdBytes: get<number>("wal.snapshot_threshold") ||
        4 * get<number>("wal.max_segment_size"),
      dataDirectory: get("wal.data_directory"),
    },
    replication: {
      outputHardLimitBytes: get("replication.output_buffer_hard_limit"),
      outputSoftLimitBytes: get("replication.output_buffer_soft_limit"),
      outputSoftLimitSeconds: get("replication.output_buffer_soft_seconds"),
      enabled: get("replication.enabled"),
      replicaType: get("replication.replica_type"),
      masterAddress: get("replication.master_address"),
      syncIntervalMs: get("replication.sync_interval"),
      retentionBytes: get("replication.retention_size"),
      announceAddress: get("replication.announce_address"),
      replicaPriority: get("replication.replica_priority"),
      minReplicasToWrite: get("replication.min_replicas_to_write"),
      minReplicasMaxLagMs: get("replication.min_replicas_max_lag"),
      masterauth: get("replication.masterauth"),
      masteruser: get("replication.masteruser"),
    },
    memory: {
      maxmemoryBytes: get("memory.maxmemory"),
      maxmemoryPolicy: get("memory.maxmemory_policy"),
      maxmemorySamples: get("memory.maxmemory_samples"),
      lfuLogFactor: get("memory.lfu_log_factor"),
      lfuDecayMinutes: get("memory.lfu_decay_time"),
    },
    pubsub: {
      notifyKeyspaceEvents: get("pubsub.notify_keyspace_events"),
      outputHardLimitBytes: get("pubsub.output_buffer_hard_limit"),
      outputSoftLimitBytes: get("pubsub.output_buffer_soft_limit"),
      outputSoftLimitSeconds: get("pubsub.output_buffer_soft_seconds"),
    },
    tls: {
      port: get("tls.port"),
      certFile: get("tls.cert_file"),
      keyFile: get("tls.key_file"),
      caCertFile: get("tls.ca_cert_file"),
      authClients: get("tls.auth_clients"),
      replication: get("tls.replication"),
    },
  };
  checkTlsKeys(config.tls, where);
  if (config.network.address.port === 0 && config.tls.port === 0) {
    throw new ConfigError(
      `${where}: network.address = ${formatAddress(config.network.address)}: port 0 means no ` +
        `plain listener, and tls.port is 0 (no TLS listener): the server would listen nowhere; ` +
        `set a port in network.address or tls.port`,
    );
  }
  if (config.security.requirepass !== "" && config.security.aclFile !== "") {
    throw new ConfigError(
      `${where}: security.requirepass and security.acl_file are both set: the ACL file defines ` +
        `the default user; give it its password there (user default on >password ~* &* +@all)`,
    );
  }
  if (config.replication.enabled && !config.wal.enabled) {
    throw new ConfigError(
      `${where}: replication.enabled = true: replication needs the WAL; set wal.enabled: true`,
    );
  }
  return config;
}

/**
 * The TLS keys that need others: a TLS port needs a certificate and key,
 * client authentication a CA. (The files themselves are read and checked
 * when the server starts: src/tls/tls_material.ts.)
 *
 * @example
 * ```ts
 * checkTlsKeys(config.tls, "configs/master.yaml");
 * ```
 */
export function checkTlsKeys(tls: Config["tls"], where: string): void {
  if (tls.port !== 0 && (tls.certFile === "" || tls.keyFile === "")) {
    throw new ConfigError(
      `${where}: tls.port = ${tls.port}: a TLS port needs tls.cert_file and tls.key_file`,
    );
  }
  if (tls.authClients !== false && tls.caCertFile === "") {
    throw new ConfigError(
      `${where}: tls.auth_clients = ${tls.authClients}: client certificates are verified against tls.ca_cert_file; set it`,
    );
  }
}

/**
 * Parses YAML text into a {@link Config}; syntax errors name the line.
 *
 * @example
 * ```ts
 * parseConfig("engine:\n  partitions: 4\n", "inline");
 * ```
 */
export function parseConfig(text: string, where: string): Config {
  return configFromValues(parseConfigValues(text, where), where);
}

/**
 * Parses YAML text into every key's value ({@link configValues}).
 *
 * @example
 * ```ts
 * parseConfigValues("engine:\n  partitions: 4\n", "inline").get("engine.partitions"); // 4
 * ```
 */
export function parseConfigValues(text: string, where: string): Map<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    const message = shorten(e instanceof Error ? e.message.split("\n")[0] : String(e), 200);
    throw new ConfigError(`${where}: not valid YAML: ${message}`);
  }
  return configValues(doc, where);
}

/**
 * Loads the config file at `path`, or the embedded defaults when absent.
 *
 * @example
 * ```ts
 * const config = await loadConfig(undefined); // every default
 * ```
 */
export async function loadConfig(path: string | undefined): Promise<Config> {
  return (await loadConfigValues(path)).config;
}

/**
 * Loads the config file at `path` (the defaults when absent): the
 * {@link Config} and every key's value (what CONFIG GET/SET/REWRITE use).
 *
 * @example
 * ```ts
 * const { config, values } = await loadConfigValues("configs/master.yaml");
 * ```
 */
export async function loadConfigValues(
  path: string | undefined,
): Promise<{ config: Config; values: Map<string, unknown> }> {
  if (path === undefined) {
    const values = configValues({}, "default config");
    return { config: configFromValues(values, "default config"), values };
  }
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ConfigError(`${path}: cannot read config: ${readFailure(e)}`);
  }
  const values = parseConfigValues(text, path);
  const config = configFromValues(values, path);
  await checkAclFile(config.security.aclFile, path);
  return { config, values };
}

/** Why a file could not be read, in a config error's words. */
function readFailure(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  return e instanceof Error ? e.message : String(e);
}

/** Refuses a start whose `security.acl_file` cannot be read or holds a bad line. */
async function checkAclFile(aclFile: string, where: string): Promise<void> {
  if (aclFile === "") return;
  let text: string;
  try {
    text = await Deno.readTextFile(aclFile);
  } catch (e) {
    const reason = readFailure(e);
    throw new ConfigError(
      `${where}: security.acl_file = ${describe(aclFile)}: cannot read: ${reason}`,
    );
  }
  const users = parseAclFile(text, aclFile);
  if (typeof users === "string") {
    throw new ConfigError(`${where}: security.acl_file = ${describe(aclFile)}: ${users}`);
  }
}
