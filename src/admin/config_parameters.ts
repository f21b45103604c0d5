/**
 * The one table joining kvdb's YAML keys with Redis's parameter names:
 * CONFIG GET, CONFIG SET and CONFIG REWRITE all read it. YAML is kvdb's
 * interface (snake_case keys under sections); CONFIG is Redis's, with
 * Redis's names and value syntax (sizes `1kb` = 1024, `1k` = 1000; `yes`/`no`;
 * Redis's units: `timeout` in seconds, `slowlog-log-slower-than` in µs).
 *
 * Every YAML key appears once: under Redis's name where Redis has the same
 * setting ({@link REDIS_PARAMETERS}), otherwise as `kvdb-<section>-<key>`
 * with dashes (`kvdb-wal-max-segment-size`), sizes in bytes and durations
 * in milliseconds. A few Redis parameters with no YAML key describe what
 * kvdb does (`appendfsync always`, `save ""`) and accept only that value.
 *
 * How a CONFIG SET takes effect, per parameter: `live` (applied at once),
 * `restart` (kvdb reads it at start only: refused, saying so), `immutable`
 * and `protected` (refused as Redis refuses its own), `fixed` (only the
 * value kvdb has is accepted).
 *
 * @example
 * ```ts
 * const table = parameterTable();
 * table.lookup("MAXCLIENTS")!.yaml; // "network.max_connections"
 * ```
 * @module
 */

import { CONFIG_KEYS, formatAddress, type RuleKind } from "../config/config.ts";
import type { Address } from "../config/config.ts";
import { globMatch } from "../executor/glob.ts";
import {
  formatNotifyFlags,
  invalidEventClass,
  parseNotifyFlags,
} from "../pubsub/keyspace_events.ts";
import { MAX_VALUE_BYTES } from "../storage/limits.ts";
import { checkTlsFile, readTlsMaterial, TlsFileError } from "../tls/tls_material.ts";

/** Why a value cannot be set: the text after Redis's `... - `. */
export class ParameterError extends Error {}

/** How a CONFIG SET of a parameter takes effect. */
export type SetMode = "live" | "restart" | "immutable" | "protected" | "fixed";

/** The running values, by YAML path, as the config holds them (sizes in bytes, durations in ms). */
export type RunningValues = ReadonlyMap<string, unknown>;

/** One CONFIG parameter. */
export interface ConfigParameter {
  /** Redis's name (or kvdb's `kvdb-...`), lower case. */
  readonly name: string;
  /** Other names for it (`slaveof` for `replicaof`). */
  readonly aliases: readonly string[];
  /** The YAML key behind it; undefined for a value kvdb fixes. */
  readonly yaml: string | undefined;
  readonly mode: SetMode;
  /** For `restart`/`fixed`: what to tell a CONFIG SET. */
  readonly refusal?: string;
  /** Its value in Redis's syntax. */
  show(values: RunningValues): string;
  /** Redis's syntax to the YAML key's raw value (its rule checks it next). */
  read(text: string, values: RunningValues): unknown;
  /**
   * For a parameter that stands for several YAML keys
   * (`client-output-buffer-limit`): `read` returns a map of key to raw
   * value, each checked by its key's rule and applied like a one-key SET.
   */
  readonly keys?: readonly string[];
  /**
   * Checks what depends on several keys (a certificate and its key), once
   * every parameter of the CONFIG SET is read: `next` holds the values as
   * they would be after it, `set` the keys it sets. Throws
   * {@link ParameterError} to refuse the whole SET. Parameters sharing one
   * check function are checked once together.
   */
  readonly check?: (next: RunningValues, running: RunningValues, set: ReadonlySet<string>) => void;
}

const INT64_MAX = 9223372036854775807n;

/** Redis's `string2ll`, then the range: its CONFIG SET wording. */
export function readInteger(text: string, min: number, max: number): number {
  if (
    !/^-?(0|[1-9][0-9]*)$/.test(text) || BigInt(text) > INT64_MAX || BigInt(text) < -INT64_MAX - 1n
  ) {
    throw new ParameterError("argument couldn't be parsed into an integer");
  }
  const n = Number(text);
  if (n < min || n > max) {
    throw new ParameterError(`argument must be between ${min} and ${max} inclusive`);
  }
  return n;
}

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
};

/** Redis's `memtoull`: bytes with an optional unit (`1k` = 1000, `1kb` = 1024). */
export function readMemory(text: string, min: number, max: number): number {
  const match = /^([0-9]+)([a-zA-Z]*)$/.exec(text);
  const factor = match ? MEMORY_UNITS[match[2].toLowerCase()] : undefined;
  if (!match || factor === undefined) throw new ParameterError("argument must be a memory value");
  const bytes = Number(match[1]) * factor;
  if (!Number.isSafeInteger(bytes) || bytes < min || bytes > max) {
    throw new ParameterError(`argument must be between ${min} and ${max} inclusive`);
  }
  return bytes;
}

/** Redis's `yes`/`no`, any case. */
export function readBoolean(text: string): boolean {
  const t = text.toLowerCase();
  if (t === "yes") return true;
  if (t === "no") return false;
  throw new ParameterError("argument must be 'yes' or 'no'");
}

function readEnum(text: string, values: readonly string[]): string {
  const found = values.find((v) => v === text.toLowerCase());
  if (found === undefined) {
    throw new ParameterError(`argument(s) must be one of the following: ${values.join(", ")}`);
  }
  return found;
}

/** Redis formats doubles in these lists with `%f` trimmed (`99.9`, `50`). */
function formatPercentile(p: number): string {
  return String(Number(p.toFixed(6)));
}

/** `latency-tracking-info-percentiles`: space-separated numbers, with Redis's errors. */
function readPercentiles(text: string): number[] {
  const parts = text.split(" ").filter((s) => s !== "");
  const out: number[] = [];
  for (const part of parts) {
    const p = Number(part);
    if (!/^[0-9.eE+-]+$/.test(part) || !Number.isFinite(p)) {
      throw new ParameterError("Invalid latency-tracking-info-percentiles parameters");
    }
    if (p < 0 || p > 100) {
      throw new ParameterError(
        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
      );
    }
    out.push(p);
  }
  return out;
}

/** A value in Redis's syntax, by its YAML key's rule. */
function showByKind(kind: RuleKind, value: unknown): string {
  switch (kind.kind) {
    case "boolean":
      return value ? "yes" : "no";
    case "boolean_or":
      return value === true ? "yes" : value === false ? "no" : String(value);
    case "address":
      return formatAddress(value as Address);
    case "percentiles":
      return (value as number[]).map(formatPercentile).join(" ");
    default:
      return String(value);
  }
}

/** Redis's syntax to a raw YAML value, by the YAML key's rule. */
function readByKind(kind: RuleKind, text: string): unknown {
  switch (kind.kind) {
    case "integer":
      return readInteger(text, kind.min, kind.max);
    case "size":
      return readMemory(text, kind.min, kind.max);
    case "duration": {
      const ms = readInteger(text, 0, Number.MAX_SAFE_INTEGER);
      return ms === 0 ? 0 : `${ms}ms`;
    }
    case "boolean":
      return readBoolean(text);
    case "enum":
      return readEnum(text, kind.values);
    case "percentiles":
      return readPercentiles(text);
    case "debug_mode":
      return readEnum(text, ["no", "yes", "local"]);
    case "boolean_or": {
      const word = readEnum(text, ["no", "yes", kind.word]);
      return word === "yes" ? true : word === "no" ? false : word;
    }
    default:
      return text;
  }
}

function ruleOf(path: string): RuleKind {
  const key = CONFIG_KEYS.find((k) => k.path === path);
  if (key === undefined) throw new Error(`config parameters: no YAML key ${path}`);
  return key.rule.spec;
}

/** A parameter that is one YAML key, in Redis's syntax for its kind. */
function keyParameter(
  name: string,
  yaml: string,
  mode: SetMode,
  extra: Partial<Pick<ConfigParameter, "aliases" | "show" | "read" | "refusal">> = {},
): ConfigParameter {
  const kind = ruleOf(yaml);
  return {
    name,
    aliases: extra.aliases ?? [],
    yaml,
    mode,
    refusal: extra.refusal ??
      (mode === "restart"
        ? `kvdb reads ${yaml} at start only: edit the config file and restart`
        : undefined),
    show: extra.show ?? ((values) => showByKind(kind, values.get(yaml))),
    read: extra.read ?? ((text) => readByKind(kind, text)),
  };
}

/** A Redis parameter whose value is what kvdb does: only that value is accepted. */
function fixedParameter(
  name: string,
  value: string,
  why: string,
  aliases: string[] = [],
): ConfigParameter {
  return {
    name,
    aliases,
    yaml: undefined,
    mode: "fixed",
    refusal: why,
    show: () => value,
    read: (text) => {
      if (text.toLowerCase() !== value.toLowerCase()) throw new ParameterError(why);
      return undefined;
    },
  };
}

/** kvdb's log levels under Redis's names (Redis has no `error`; kvdb's `info` is Redis's `notice`). */
const LEVEL_TO_REDIS: Record<string, string> = {
  debug: "debug",
  info: "notice",
  warn: "warning",
  error: "error",
};
const REDIS_TO_LEVEL: Record<string, string> = {
  debug: "debug",
  verbose: "info",
  notice: "info",
  warning: "warn",
  info: "info",
  warn: "warn",
  error: "error",
};

/**
 * `client-output-buffer-limit`'s classes in Redis's order, each with its
 * three YAML keys (hard, soft, soft seconds). `slave` is Redis's name of
 * the replica class (it also takes `replica`).
 */
const OUTPUT_LIMIT_CLASSES = [
  ["normal", "network"],
  ["slave", "replication"],
  ["pubsub", "pubsub"],
].map(([name, section]) => ({
  name,
  keys: [
    `${section}.output_buffer_hard_limit`,
    `${section}.output_buffer_soft_limit`,
    `${section}.output_buffer_soft_seconds`,
  ],
}));

/**
 * `client-output-buffer-limit`: Redis's `<class> <hard> <soft> <seconds>`
 * groups (any number, any order; all applied or none), shown as Redis
 * shows them, in bytes: `normal 0 0 0 slave 268435456 67108864 60 pubsub
 * 33554432 8388608 60`.
 */
const OUTPUT_BUFFER_LIMIT: ConfigParameter = {
  name: "client-output-buffer-limit",
  aliases: [],
  yaml: undefined,
  keys: OUTPUT_LIMIT_CLASSES.flatMap((c) => c.keys),
  mode: "live",
  show: (v) =>
    OUTPUT_LIMIT_CLASSES.map((c) => `${c.name} ${c.keys.map((k) => String(v.get(k))).join(" ")}`)
      .join(" "),
  read: (text) => {
    const words = text.split(" ").filter((w) => w !== "");
    if (words.length % 4 !== 0) {
      throw new ParameterError("Wrong number of arguments in buffer limit configuration.");
    }
    const out = new Map<string, unknown>();
    for (let i = 0; i < words.length; i += 4) {
      const name = words[i].toLowerCase();
      const cls = OUTPUT_LIMIT_CLASSES.find((c) =>
        c.name === (name === "replica" ? "slave" : name)
      );
      if (cls === undefined) {
        throw new ParameterError("Invalid client class specified in buffer limit configuration.");
      }
      let numbers: number[];
      try {
        numbers = [
          readMemory(words[i + 1], 0, Number.MAX_SAFE_INTEGER),
          readMemory(words[i + 2], 0, Number.MAX_SAFE_INTEGER),
          readInteger(words[i + 3], 0, Number.MAX_SAFE_INTEGER),
        ];
      } catch {
        throw new ParameterError(
          "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        );
      }
      cls.keys.forEach((k, j) => out.set(k, numbers[j]));
    }
    return out;
  },
};

/** Redis's bounds of `client-query-buffer-limit` (1mb to LLONG_MAX), in its words. */
const QUERY_BUFFER_LIMIT: ConfigParameter = keyParameter(
  "client-query-buffer-limit",
  "network.query_buffer_limit",
  "live",
  {
    read: (text) => {
      const bytes = readMemory(text, 0, Number.MAX_SAFE_INTEGER);
      if (bytes < 1024 * 1024) {
        throw new ParameterError(
          "argument must be between 1048576 and 9223372036854775807 inclusive",
        );
      }
      return bytes;
    },
  },
);

/**
 * `maxmemory-clients`: a memory value, or a percentage of maxmemory
 * (`10%`, at most 100; `0%` is 0), with Redis's words for bad ones.
 */
const MAXMEMORY_CLIENTS: ConfigParameter = keyParameter(
  "maxmemory-clients",
  "network.maxmemory_clients",
  "live",
  {
    show: (v) => String(v.get("network.maxmemory_clients")),
    read: (text) => {
      const percent = /^([0-9]+)%$/.exec(text);
      if (percent !== null) {
        const n = Number(percent[1]);
        if (n > 100) {
          throw new ParameterError("percentage argument must be less or equal to 100");
        }
        return n === 0 ? 0 : `${n}%`;
      }
      try {
        return readMemory(text, 0, Number.MAX_SAFE_INTEGER);
      } catch {
        throw new ParameterError("argument must be a memory or percent value");
      }
    },
  },
);

const INT32_MIN = -(2n ** 31n);
const UINT64_MAX = 2n ** 64n - 1n;
const INT32_MAX = 2n ** 31n - 1n;

/**
 * An encoding threshold (`hash-max-listpack-entries`...): Redis's integer
 * (`string2ll`) or memory (`memtoull`: `1kb`) syntax, then Redis's range
 * check and words. kvdb holds the value as a double, so a value past 2^53-1
 * that Redis would take is refused, saying so.
 */
function encodingParameter(
  name: string,
  alias: string | undefined,
  yaml: string,
  syntax: "integer" | "memory",
  min: bigint,
  max: bigint,
): ConfigParameter {
  return keyParameter(name, yaml, "live", {
    aliases: alias === undefined ? [] : [alias],
    read: (text) => {
      let value: bigint;
      if (syntax === "memory") {
        // memtoull: digits (none is 0), then a unit.
        const match = /^([0-9]*)([a-zA-Z]*)$/.exec(text);
        const factor = match ? MEMORY_UNITS[match[2].toLowerCase()] : undefined;
        if (!match || factor === undefined) {
          throw new ParameterError("argument must be a memory value");
        }
        // memtoull's unsigned result as Redis's signed long long.
        const digits = BigInt(match[1] || "0");
        const saturated = digits > UINT64_MAX ? UINT64_MAX : digits; // strtoull
        value = BigInt.asIntN(64, saturated * BigInt(factor));
      } else {
        if (!/^-?(0|[1-9][0-9]*)$/.test(text)) {
          throw new ParameterError("argument couldn't be parsed into an integer");
        }
        value = BigInt(text);
        if (value > INT64_MAX || value < -INT64_MAX - 1n) {
          throw new ParameterError("argument couldn't be parsed into an integer");
        }
      }
      if (value < min || value > max) {
        throw new ParameterError(`argument must be between ${min} and ${max} inclusive`);
      }
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new ParameterError(
          `kvdb holds ${name} as a double: at most ${Number.MAX_SAFE_INTEGER}`,
        );
      }
      return Number(value);
    },
  });
}

/**
 * The encoding thresholds: Redis's names, its `ziplist` aliases, syntax
 * and ranges (the values themselves: `types/encoding_limits.ts`).
 */
const ENCODING_PARAMETERS: readonly ConfigParameter[] = [
  encodingParameter(
    "hash-max-listpack-entries",
    "hash-max-ziplist-entries",
    "engine.hash_max_listpack_entries",
    "integer",
    0n,
    INT64_MAX,
  ),
  encodingParameter(
    "hash-max-listpack-value",
    "hash-max-ziplist-value",
    "engine.hash_max_listpack_value",
    "memory",
    0n,
    INT64_MAX,
  ),
  encodingParameter(
    "list-max-listpack-size",
    "list-max-ziplist-size",
    "engine.list_max_listpack_size",
    "integer",
    INT32_MIN,
    INT32_MAX,
  ),
  encodingParameter(
    "list-compress-depth",
    undefined,
    "engine.list_compress_depth",
    "integer",
    0n,
    INT32_MAX,
  ),
  encodingParameter(
    "set-max-intset-entries",
    undefined,
    "engine.set_max_intset_entries",
    "integer",
    0n,
    INT64_MAX,
  ),
  encodingParameter(
    "zset-max-listpack-entries",
    "zset-max-ziplist-entries",
    "engine.zset_max_listpack_entries",
    "integer",
    0n,
    INT64_MAX,
  ),
  encodingParameter(
    "zset-max-listpack-value",
    "zset-max-ziplist-value",
    "engine.zset_max_listpack_value",
    "memory",
    0n,
    INT64_MAX,
  ),
];

/**
 * Redis's lazyfree switches: yes/no, shown as set. kvdb drops a deleted
 * value's references at once (DEL, UNLINK, FLUSHALL, expiry alike) and
 * V8's concurrent sweeper reclaims the memory, so all of them behave as
 * Redis's lazy free.
 */
const LAZYFREE_PARAMETERS: readonly ConfigParameter[] = [
  keyParameter("lazyfree-lazy-eviction", "engine.lazyfree_lazy_eviction", "live"),
  keyParameter("lazyfree-lazy-expire", "engine.lazyfree_lazy_expire", "live"),
  keyParameter("lazyfree-lazy-server-del", "engine.lazyfree_lazy_server_del", "live"),
  keyParameter("lazyfree-lazy-user-del", "engine.lazyfree_lazy_user_del", "live"),
  keyParameter("lazyfree-lazy-user-flush", "engine.lazyfree_lazy_user_flush", "live"),
  keyParameter("replica-lazy-flush", "engine.replica_lazy_flush", "live", {
    aliases: ["slave-lazy-flush"],
  }),
];

const TLS_FILE_KEYS = ["tls.cert_file", "tls.key_file", "tls.ca_cert_file"];

/**
 * The TLS settings as a CONFIG SET would leave them, checked together
 * before anything is applied, so a bad value is refused and the running
 * listener stays as it was: each file set must be a certificate (or key);
 * with a TLS port the certificate and key must match (a new pair is set in
 * one CONFIG SET); a new port must be free (bound once and released);
 * client authentication needs a CA; and the TLS port may not close while
 * there is no plain one (network.address's port 0).
 */
function checkTls(next: RunningValues, running: RunningValues, set: ReadonlySet<string>): void {
  const port = next.get("tls.port") as number;
  const files = {
    certFile: next.get("tls.cert_file") as string,
    keyFile: next.get("tls.key_file") as string,
    caCertFile: next.get("tls.ca_cert_file") as string,
  };
  try {
    for (const key of TLS_FILE_KEYS) if (set.has(key)) checkTlsFile(key, next.get(key) as string);
    if (port !== 0) readTlsMaterial(files);
  } catch (e) {
    if (e instanceof TlsFileError) throw new ParameterError(e.message);
    throw e;
  }
  if (next.get("tls.auth_clients") !== false && files.caCertFile === "") {
    throw new ParameterError(
      "tls-auth-clients needs tls-ca-cert-file (the CA clients are verified against)",
    );
  }
  const address = next.get("network.address") as Address;
  if (port === 0 && address.port === 0) {
    throw new ParameterError(
      "kvdb has no plain listener (network.address's port is 0): closing the TLS port would leave it listening nowhere",
    );
  }
  if (set.has("tls.port") && port !== 0 && port !== running.get("tls.port")) {
    try {
      const probe = Deno.listen({ hostname: address.hostname, port });
      probe.close();
    } catch (e) {
      throw new ParameterError(
        `Unable to listen on this port: ${e instanceof Error ? e.message : e}`,
      );
    }
  }
}

/** A TLS parameter: checked with the others of its CONFIG SET (see {@link checkTls}), applied at once. */
function tlsParameter(name: string, yaml: string): ConfigParameter {
  return { ...keyParameter(name, yaml, "live"), check: checkTls };
}

/** Redis's tls-* parameters (see README "TLS"). */
const TLS_PARAMETERS: readonly ConfigParameter[] = [
  tlsParameter("tls-port", "tls.port"),
  tlsParameter("tls-cert-file", "tls.cert_file"),
  tlsParameter("tls-key-file", "tls.key_file"),
  tlsParameter("tls-ca-cert-file", "tls.ca_cert_file"),
  tlsParameter("tls-auth-clients", "tls.auth_clients"),
  tlsParameter("tls-replication", "tls.replication"),
];

/** The Redis parameters kvdb has, and the YAML key behind each. */
export const REDIS_PARAMETERS: readonly ConfigParameter[] = [
  keyParameter("maxclients", "network.max_connections", "live"),
  keyParameter("timeout", "network.idle_timeout", "live", {
    show: (v) => String(Math.floor((v.get("network.idle_timeout") as number) / 1000)),
    read: (text) => {
      const seconds = readInteger(text, 0, 86_400);
      return seconds === 0 ? 0 : `${seconds}s`;
    },
  }),
  keyParameter("port", "network.address", "restart", {
    show: (v) => String((v.get("network.address") as Address).port),
    refusal: "kvdb reads network.address at start only: edit the config file and restart",
  }),
  keyParameter("bind", "network.address", "restart", {
    show: (v) => (v.get("network.address") as Address).hostname,
    refusal: "kvdb reads network.address at start only: edit the config file and restart",
  }),
  keyParameter("databases", "engine.databases", "immutable"),
  keyParameter("appendonly", "wal.enabled", "restart"),
  fixedParameter(
    "appendfsync",
    "always",
    "kvdb's WAL always fsyncs a write before acknowledging it (group commit: wal.flushing_batch_timeout)",
  ),
  keyParameter("dir", "wal.data_directory", "protected", {
    show: (v) => absolutePath(v.get("wal.data_directory") as string),
  }),
  fixedParameter(
    "save",
    "",
    "kvdb takes snapshots by WAL size, not on a timer: see kvdb-wal-snapshot-threshold",
  ),
  {
    name: "replicaof",
    aliases: ["slaveof"],
    yaml: undefined,
    mode: "immutable",
    show: (v) => {
      if (!v.get("replication.enabled") || v.get("replication.replica_type") !== "slave") return "";
      const master = v.get("replication.master_address") as Address;
      return `${master.hostname} ${master.port}`;
    },
    read: () => undefined,
  },
  // Read at the replica's next connection to its master.
  keyParameter("masterauth", "replication.masterauth", "live"),
  keyParameter("masteruser", "replication.masteruser", "live"),
  keyParameter("replica-priority", "replication.replica_priority", "live", {
    aliases: ["slave-priority"],
  }),
  keyParameter("min-replicas-to-write", "replication.min_replicas_to_write", "live", {
    aliases: ["min-slaves-to-write"],
  }),
  keyParameter("min-replicas-max-lag", "replication.min_replicas_max_lag", "live", {
    aliases: ["min-slaves-max-lag"],
    // Redis's unit is the second.
    show: (v) => String(Math.floor((v.get("replication.min_replicas_max_lag") as number) / 1000)),
    read: (text) => `${readInteger(text, 1, 3600)}s`,
  }),
  fixedParameter("replica-read-only", "yes", "a kvdb replica is always read-only", [
    "slave-read-only",
  ]),
  keyParameter("loglevel", "logging.level", "live", {
    show: (v) => LEVEL_TO_REDIS[v.get("logging.level") as string],
    read: (text) => {
      const level = REDIS_TO_LEVEL[text.toLowerCase()];
      if (level === undefined) {
        throw new ParameterError(
          "argument(s) must be one of the following: debug, verbose, notice, warning, error",
        );
      }
      return level;
    },
  }),
  keyParameter("logfile", "logging.output", "immutable", {
    show: (v) => v.get("logging.output") === "stdout" ? "" : v.get("logging.output") as string,
  }),
  fixedParameter(
    "proto-max-bulk-len",
    String(MAX_VALUE_BYTES),
    `kvdb's largest value is fixed at ${MAX_VALUE_BYTES} bytes`,
  ),
  // Applied by src/memory/install_memory.ts's listeners.
  keyParameter("maxmemory", "memory.maxmemory", "live"),
  keyParameter("maxmemory-policy", "memory.maxmemory_policy", "live"),
  keyParameter("maxmemory-samples", "memory.maxmemory_samples", "live"),
  keyParameter("lfu-log-factor", "memory.lfu_log_factor", "live"),
  keyParameter("lfu-decay-time", "memory.lfu_decay_time", "live"),
  keyParameter("slowlog-log-slower-than", "monitoring.slowlog_log_slower_than", "live"),
  keyParameter("slowlog-max-len", "monitoring.slowlog_max_len", "live"),
  keyParameter("latency-monitor-threshold", "monitoring.latency_monitor_threshold", "live"),
  keyParameter("latency-tracking", "monitoring.latency_tracking", "live"),
  keyParameter(
    "latency-tracking-info-percentiles",
    "monitoring.latency_tracking_info_percentiles",
    "live",
  ),
  keyParameter("enable-debug-command", "security.enable_debug_command", "immutable"),
  keyParameter("requirepass", "security.requirepass", "live"),
  keyParameter("protected-mode", "security.protected_mode", "live"),
  keyParameter("aclfile", "security.acl_file", "immutable"),
  keyParameter("acllog-max-len", "security.acllog_max_len", "live"),
  keyParameter("busy-reply-threshold", "scripting.busy_reply_threshold", "live", {
    aliases: ["lua-time-limit"],
  }),
  keyParameter("notify-keyspace-events", "pubsub.notify_keyspace_events", "live", {
    show: (v) =>
      formatNotifyFlags(parseNotifyFlags(v.get("pubsub.notify_keyspace_events") as string)!),
    read: (text) => {
      if (parseNotifyFlags(text) === undefined) {
        throw new ParameterError(invalidEventClass().message);
      }
      return text;
    },
  }),
  OUTPUT_BUFFER_LIMIT,
  QUERY_BUFFER_LIMIT,
  MAXMEMORY_CLIENTS,
  ...ENCODING_PARAMETERS,
  ...LAZYFREE_PARAMETERS,
  ...TLS_PARAMETERS,
];

/** YAML keys kvdb applies at run time beyond the Redis ones marked `live`. */
const LIVE_KVDB_KEYS = new Set([
  "network.request_timeout",
  "wal.snapshot_threshold",
  "replication.retention_size",
]);

/** `kvdb-wal-max-segment-size` for `wal.max_segment_size`. */
export function kvdbParameterName(path: string): string {
  return `kvdb-${path.replaceAll(".", "-").replaceAll("_", "-")}`;
}

function absolutePath(path: string): string {
  if (path.startsWith("/")) return path;
  const cwd = Deno.cwd();
  return `${cwd}/${path.replace(/^\.\//, "")}`;
}

/**
 * The parameters by name and alias, with the `kvdb-...` ones generated for
 * every YAML key no Redis parameter claims.
 *
 * @example
 * ```ts
 * parameterTable().match("slowlog-*"); // [slowlog-log-slower-than, slowlog-max-len]
 * ```
 */
export class ParameterTable {
  readonly all: readonly ConfigParameter[];
  readonly #byName = new Map<string, ConfigParameter>();

  constructor(parameters: readonly ConfigParameter[]) {
    this.all = parameters;
    for (const p of parameters) {
      for (const name of [p.name, ...p.aliases]) {
        if (this.#byName.has(name)) throw new Error(`config parameter ${name} declared twice`);
        this.#byName.set(name, p);
      }
    }
  }

  /** The parameter of a name or alias, any case. */
  lookup(name: string): ConfigParameter | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  /** Names (aliases included) matching a glob pattern, any case, each with its parameter. */
  match(pattern: string): [string, ConfigParameter][] {
    const lower = pattern.toLowerCase();
    const out: [string, ConfigParameter][] = [];
    for (const [name, p] of this.#byName) if (globMatch(lower, name)) out.push([name, p]);
    return out;
  }
}

/**
 * The full table: Redis's parameters, and a `kvdb-...` one for every
 * other YAML key.
 *
 * @example
 * ```ts
 * parameterTable().lookup("kvdb-engine-partitions")!.mode; // "restart"
 * ```
 */
export function parameterTable(): ParameterTable {
  const claimed = new Set(
    REDIS_PARAMETERS.flatMap((p) => [...(p.yaml === undefined ? [] : [p.yaml]), ...(p.keys ?? [])]),
  );
  // replicaof shows these three.
  for (const y of ["replication.enabled", "replication.replica_type"]) claimed.add(y);
  const own = CONFIG_KEYS.filter((k) => !claimed.has(k.path)).map((k) =>
    k.path === "wal.snapshot_threshold"
      ? keyParameter(kvdbParameterName(k.path), k.path, "live", {
        show: (v) => String(v.get(k.path) || "auto"),
        read: (text) => text.toLowerCase() === "auto" ? "auto" : readByKind(k.rule.spec, text),
      })
      : keyParameter(
        kvdbParameterName(k.path),
        k.path,
        LIVE_KVDB_KEYS.has(k.path) ? "live" : "restart",
      )
  );
  // replication.master_address is also a replica's master: shown by replicaof
  // as well, set only here (at start).
  return new ParameterTable([...REDIS_PARAMETERS, ...own]);
}
