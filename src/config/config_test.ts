import assert from "node:assert/strict";
import {
  type Config,
  CONFIG_KEYS,
  ConfigError,
  configFromDocument,
  loadConfig,
  parseConfig,
} from "./config.ts";

/** Redis's defaults: no notifications, `client-output-buffer-limit pubsub 32mb 8mb 60`. */
/** The replication keys issue 15 added, at their defaults. */
const REPLICATION_DEFAULTS = {
  announceAddress: "",
  replicaPriority: 100,
  minReplicasToWrite: 0,
  minReplicasMaxLagMs: 10_000,
  masterauth: "",
  masteruser: "",
  // Redis's client-output-buffer-limit replica (slave) 256mb 64mb 60.
  outputHardLimitBytes: 256 * 1024 * 1024,
  outputSoftLimitBytes: 64 * 1024 * 1024,
  outputSoftLimitSeconds: 60,
};

/** Redis's client limits: normal 0 0 0, client-query-buffer-limit 1gb, maxmemory-clients 0. */
const CLIENT_LIMIT_DEFAULTS = {
  outputHardLimitBytes: 0,
  outputSoftLimitBytes: 0,
  outputSoftLimitSeconds: 0,
  queryBufferLimitBytes: 1024 ** 3,
  maxmemoryClients: 0,
};

const MEMORY_DEFAULTS: Config["memory"] = {
  maxmemoryBytes: 0,
  maxmemoryPolicy: "noeviction",
  maxmemorySamples: 5,
  lfuLogFactor: 10,
  lfuDecayMinutes: 1,
};

const PUBSUB_DEFAULTS: Config["pubsub"] = {
  notifyKeyspaceEvents: "",
  outputHardLimitBytes: 32 * 1024 * 1024,
  outputSoftLimitBytes: 8 * 1024 * 1024,
  outputSoftLimitSeconds: 60,
};

const TLS_DEFAULTS: Config["tls"] = {
  port: 0,
  certFile: "",
  keyFile: "",
  caCertFile: "",
  authClients: false,
  replication: false,
};

const DEFAULTS: Config = {
  engine: { type: "in_memory", partitions: 16, databases: 16 },
  network: {
    address: { hostname: "127.0.0.1", port: 3223 },
    maxConnections: 100,
    maxMessageBytes: 64 * 1024 ** 2,
    idleTimeoutMs: 300_000,
    requestTimeoutMs: 10_000,
    protocol: "auto",
    ...CLIENT_LIMIT_DEFAULTS,
  },
  logging: { level: "info", output: "stdout" },
  monitoring: {
    slowlogLogSlowerThanUsec: 10_000,
    slowlogMaxLen: 128,
    latencyMonitorThresholdMs: 0,
    latencyTracking: true,
    latencyTrackingInfoPercentiles: [50, 99, 99.9],
  },
  security: {
    enableDebugCommand: "no",
    requirepass: "",
    protectedMode: true,
    aclFile: "",
    acllogMaxLen: 128,
  },
  scripting: { busyReplyThresholdMs: 5000 },
  wal: {
    enabled: false,
    flushingBatchSize: 100,
    flushingBatchTimeoutMs: 10,
    maxSegmentBytes: 10_000_000,
    snapshotThresholdBytes: 40_000_000,
    dataDirectory: "./data/wal",
  },
  replication: {
    enabled: false,
    replicaType: "master",
    masterAddress: { hostname: "127.0.0.1", port: 3232 },
    syncIntervalMs: 1000,
    retentionBytes: 256 * 1024 * 1024,
    ...REPLICATION_DEFAULTS,
  },
  memory: MEMORY_DEFAULTS,
  pubsub: PUBSUB_DEFAULTS,
  tls: TLS_DEFAULTS,
};

/** The shipped files: the original's values, relative data directories. */
function shipped(
  address: number,
  dataDirectory: string,
  replicaType: "master" | "slave",
  masterPort: number,
): Config {
  return {
    engine: { type: "in_memory", partitions: 16, databases: 16 },
    network: {
      address: { hostname: "127.0.0.1", port: address },
      maxConnections: 100,
      maxMessageBytes: 4000,
      idleTimeoutMs: 300_000,
      requestTimeoutMs: 10_000,
      protocol: "auto",
      ...CLIENT_LIMIT_DEFAULTS,
    },
    logging: { level: "info", output: "stdout" },
    monitoring: {
      slowlogLogSlowerThanUsec: 10_000,
      slowlogMaxLen: 128,
      latencyMonitorThresholdMs: 0,
      latencyTracking: true,
      latencyTrackingInfoPercentiles: [50, 99, 99.9],
    },
    security: {
      enableDebugCommand: "no",
      requirepass: "",
      protectedMode: true,
      aclFile: "",
      acllogMaxLen: 128,
    },
    scripting: { busyReplyThresholdMs: 5000 },
    wal: {
      enabled: true,
      flushingBatchSize: 100,
      flushingBatchTimeoutMs: 10,
      maxSegmentBytes: 10_000_000,
      snapshotThresholdBytes: 40_000_000,
      dataDirectory,
    },
    replication: {
      enabled: true,
      replicaType,
      masterAddress: { hostname: "127.0.0.1", port: masterPort },
      syncIntervalMs: 1000,
      retentionBytes: 256 * 1024 * 1024,
      ...REPLICATION_DEFAULTS,
    },
    memory: MEMORY_DEFAULTS,
    pubsub: PUBSUB_DEFAULTS,
    tls: TLS_DEFAULTS,
  };
}

function repoFile(relative: string): string {
  return new URL(`../../${relative}`, import.meta.url).pathname;
}

/** Asserts that `fn` throws a ConfigError whose message holds every part. */
function assertConfigError(fn: () => unknown, ...parts: string[]): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected ConfigError, got ${String(caught)}`);
  for (const part of parts) {
    assert.ok(
      caught.message.includes(part),
      `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(part)}`,
    );
  }
  return caught;
}

/** A one-key YAML document `section:\n  key: value`. */
function yamlWith(path: string, value: string): string {
  const [section, key] = path.split(".");
  return `${section}:\n  ${key}: ${value}\n`;
}

Deno.test("configFromDocument: an empty document gives every default", () => {
  assert.deepEqual(configFromDocument({}, "t"), DEFAULTS);
  assert.deepEqual(configFromDocument(null, "t"), DEFAULTS);
  assert.deepEqual(configFromDocument(undefined, "t"), DEFAULTS);
});

Deno.test("loadConfig(undefined) gives the embedded defaults", async () => {
  assert.deepEqual(await loadConfig(undefined), DEFAULTS);
});

Deno.test("CONFIG_KEYS: every key has the documented default", () => {
  const defaults = Object.fromEntries(CONFIG_KEYS.map((k) => [k.path, k.defaultValue]));
  assert.deepEqual(defaults, {
    "engine.type": "in_memory",
    "engine.databases": 16,
    "engine.partitions": 16,
    "engine.hash_max_listpack_entries": 512,
    "engine.hash_max_listpack_value": 64,
    "engine.list_max_listpack_size": -2,
    "engine.list_compress_depth": 0,
    "engine.set_max_intset_entries": 512,
    "engine.zset_max_listpack_entries": 128,
    "engine.zset_max_listpack_value": 64,
    "engine.lazyfree_lazy_eviction": false,
    "engine.lazyfree_lazy_expire": false,
    "engine.lazyfree_lazy_server_del": false,
    "engine.lazyfree_lazy_user_del": false,
    "engine.lazyfree_lazy_user_flush": false,
    "engine.replica_lazy_flush": false,
    "network.address": "127.0.0.1:3223",
    "network.max_connections": 100,
    "network.max_message_size": "64MiB",
    "network.idle_timeout": "5m",
    "network.request_timeout": "10s",
    "network.protocol": "auto",
    "network.output_buffer_hard_limit": 0,
    "network.output_buffer_soft_limit": 0,
    "network.output_buffer_soft_seconds": 0,
    "network.query_buffer_limit": "1GiB",
    "network.maxmemory_clients": 0,
    "logging.level": "info",
    "logging.output": "stdout",
    "monitoring.slowlog_log_slower_than": 10_000,
    "monitoring.slowlog_max_len": 128,
    "monitoring.latency_monitor_threshold": 0,
    "monitoring.latency_tracking": true,
    "monitoring.latency_tracking_info_percentiles": [50, 99, 99.9],
    "security.enable_debug_command": false,
    "security.requirepass": "",
    "security.protected_mode": true,
    "security.acl_file": "",
    "security.acllog_max_len": 128,
    "scripting.busy_reply_threshold": 5000,
    "wal.enabled": false,
    "wal.flushing_batch_size": 100,
    "wal.flushing_batch_timeout": "10ms",
    "wal.max_segment_size": "10MB",
    "wal.snapshot_threshold": "auto",
    "wal.data_directory": "./data/wal",
    "replication.enabled": false,
    "replication.replica_type": "master",
    "replication.master_address": "127.0.0.1:3232",
    "replication.retention_size": "256MiB",
    "replication.sync_interval": "1s",
    "replication.announce_address": "",
    "replication.replica_priority": 100,
    "replication.min_replicas_to_write": 0,
    "replication.min_replicas_max_lag": "10s",
    "replication.masterauth": "",
    "replication.masteruser": "",
    "replication.output_buffer_hard_limit": "256MiB",
    "replication.output_buffer_soft_limit": "64MiB",
    "replication.output_buffer_soft_seconds": 60,
    "memory.maxmemory": 0,
    "memory.maxmemory_policy": "noeviction",
    "memory.maxmemory_samples": 5,
    "memory.lfu_log_factor": 10,
    "memory.lfu_decay_time": 1,
    "pubsub.notify_keyspace_events": "",
    "pubsub.output_buffer_hard_limit": "32MiB",
    "pubsub.output_buffer_soft_limit": "8MiB",
    "pubsub.output_buffer_soft_seconds": 60,
    "tls.port": 0,
    "tls.cert_file": "",
    "tls.key_file": "",
    "tls.ca_cert_file": "",
    "tls.auth_clients": false,
    "tls.replication": false,
  });
});

Deno.test("every key absent from a section takes its default", () => {
  const config = configFromDocument(
    { engine: null, network: {}, logging: {}, wal: {}, replication: {} },
    "t",
  );
  assert.deepEqual(config, DEFAULTS);
});

Deno.test("each key given alone is applied", () => {
  const cases: [string, unknown, (c: Config) => unknown, unknown][] = [
    ["engine.partitions", 4, (c) => c.engine.partitions, 4],
    ["network.address", "0.0.0.0:4000", (c) => c.network.address, {
      hostname: "0.0.0.0",
      port: 4000,
    }],
    ["network.address", "[::1]:4000", (c) => c.network.address, { hostname: "::1", port: 4000 }],
    ["network.max_connections", 5, (c) => c.network.maxConnections, 5],
    ["network.max_message_size", "1KiB", (c) => c.network.maxMessageBytes, 1024],
    ["network.max_message_size", 64, (c) => c.network.maxMessageBytes, 64],
    ["network.idle_timeout", "0", (c) => c.network.idleTimeoutMs, 0],
    ["network.idle_timeout", 0, (c) => c.network.idleTimeoutMs, 0],
    ["network.idle_timeout", "1m30s", (c) => c.network.idleTimeoutMs, 90_000],
    ["network.request_timeout", "0", (c) => c.network.requestTimeoutMs, 0],
    ["network.protocol", "resp", (c) => c.network.protocol, "resp"],
    ["network.protocol", "text", (c) => c.network.protocol, "text"],
    ["network.request_timeout", "2m", (c) => c.network.requestTimeoutMs, 120_000],
    ["network.request_timeout", "250ms", (c) => c.network.requestTimeoutMs, 250],
    ["logging.level", "debug", (c) => c.logging.level, "debug"],
    ["logging.output", "/tmp/x.log", (c) => c.logging.output, "/tmp/x.log"],
    ["wal.enabled", true, (c) => c.wal.enabled, true],
    ["wal.flushing_batch_size", 7, (c) => c.wal.flushingBatchSize, 7],
    ["wal.flushing_batch_timeout", "2ms", (c) => c.wal.flushingBatchTimeoutMs, 2],
    ["wal.max_segment_size", "1MiB", (c) => c.wal.maxSegmentBytes, 1024 * 1024],
    ["wal.data_directory", "/var/kv", (c) => c.wal.dataDirectory, "/var/kv"],
    ["replication.replica_type", "slave", (c) => c.replication.replicaType, "slave"],
    ["replication.master_address", "10.0.0.1:1", (c) => c.replication.masterAddress, {
      hostname: "10.0.0.1",
      port: 1,
    }],
    ["replication.sync_interval", "250ms", (c) => c.replication.syncIntervalMs, 250],
    ["replication.masterauth", "a b'c", (c) => c.replication.masterauth, "a b'c"],
    ["replication.masteruser", "repl", (c) => c.replication.masteruser, "repl"],
  ];
  for (const [path, value, pick, expected] of cases) {
    const [section, key] = path.split(".");
    const config = configFromDocument({ [section]: { [key]: value } }, "t");
    assert.deepEqual(pick(config), expected, path);
  }
});

Deno.test("shipped configs/config.yaml has the original's values", async () => {
  assert.deepEqual(
    await loadConfig(repoFile("configs/config.yaml")),
    shipped(3223, "./data/wal", "master", 3232),
  );
});

Deno.test("shipped configs/master.yaml has the original's values", async () => {
  assert.deepEqual(
    await loadConfig(repoFile("configs/master.yaml")),
    shipped(3223, "./data/master/wal", "master", 3232),
  );
});

Deno.test("shipped configs/slave.yaml has the original's values", async () => {
  assert.deepEqual(
    await loadConfig(repoFile("configs/slave.yaml")),
    shipped(3224, "./data/slave/wal", "slave", 3223),
  );
});

Deno.test("unknown top-level key is refused by name", () => {
  assertConfigError(() => configFromDocument({ netwrok: {} }, "f.yaml"), "f.yaml", "netwrok");
  assertConfigError(() => parseConfig("storage:\n  x: 1\n", "f.yaml"), "storage");
});

Deno.test("unknown nested key is refused with its path", () => {
  assertConfigError(
    () => configFromDocument({ network: { max_conections: 5 } }, "f.yaml"),
    "network.max_conections",
  );
  assertConfigError(() => parseConfig(yamlWith("wal.enable", "true"), "f"), "wal.enable");
  assertConfigError(() => parseConfig(yamlWith("engine.toString", "1"), "f"), "engine.toString");
  assertConfigError(
    () => parseConfig(yamlWith("replication.constructor", "1"), "f"),
    "replication.constructor",
  );
});

Deno.test("a section that is not a mapping is refused", () => {
  assertConfigError(() => configFromDocument({ network: 5 }, "f"), "network", "5");
  assertConfigError(() => configFromDocument({ wal: "on" }, "f"), "wal", '"on"');
  assertConfigError(() => configFromDocument({ engine: [1, 2] }, "f"), "engine", "[1,2]");
});

Deno.test("a document that is not a mapping is refused", () => {
  assertConfigError(() => parseConfig("- a\n- b\n", "f.yaml"), "f.yaml");
  assertConfigError(() => parseConfig("just a string\n", "f.yaml"), "f.yaml");
});

Deno.test("wrong types are refused naming key and value", () => {
  const cases: [string, string, string][] = [
    ["engine.partitions", '"16"', '"16"'],
    ["engine.partitions", "1.5", "1.5"],
    ["engine.type", "5", "5"],
    ["network.address", "3223", "3223"],
    ["network.address", "localhost", '"localhost"'],
    ["network.address", "127.0.0.1:70000", "127.0.0.1:70000"],
    ["network.max_connections", "many", '"many"'],
    ["network.max_connections", "true", "true"],
    ["network.max_connections", "[1]", "[1]"],
    ["network.max_message_size", "true", "true"],
    ["network.idle_timeout", "300", "300"],
    ["network.request_timeout", "10", "10"],
    ["network.protocol", "RESP", '"RESP"'],
    ["network.protocol", "resp3", '"resp3"'],
    ["network.request_timeout", "5ms", '"5ms"'],
    ["network.request_timeout", "25h", '"25h"'],
    ["logging.level", "verbose", '"verbose"'],
    ["logging.level", "INFO", '"INFO"'],
    ["logging.output", '""', '""'],
    ["logging.output", "5", "5"],
    ["wal.enabled", '"yes"', '"yes"'],
    ["wal.enabled", "1", "1"],
    ["wal.flushing_batch_size", "1.5", "1.5"],
    ["wal.data_directory", "{a: 1}", '{"a":1}'],
    ["replication.enabled", '"true"', '"true"'],
    ["replication.master_address", "nowhere", '"nowhere"'],
  ];
  for (const [path, yaml, shown] of cases) {
    const error = assertConfigError(() => parseConfig(yamlWith(path, yaml), "f.yaml"), path, shown);
    assert.ok(error.message.startsWith("f.yaml: "), error.message);
  }
});

Deno.test("bad units are refused naming key and value", () => {
  const cases: [string, string, string][] = [
    ["network.max_message_size", "4XB", '"4XB"'],
    ["network.max_message_size", "4 kilobytes", '"4 kilobytes"'],
    ["network.max_message_size", "1.5B", '"1.5B"'],
    ["wal.max_segment_size", "10MBs", '"10MBs"'],
    ["network.idle_timeout", "5min", '"5min"'],
    ["network.idle_timeout", "5d", '"5d"'],
    ["wal.flushing_batch_timeout", "10", "10"],
    ["wal.flushing_batch_timeout", '"10"', '"10"'],
    ["wal.flushing_batch_timeout", "10us", '"10us"'],
    ["replication.sync_interval", "1sec", '"1sec"'],
  ];
  for (const [path, yaml, shown] of cases) {
    assertConfigError(() => parseConfig(yamlWith(path, yaml), "f.yaml"), path, shown);
  }
});

Deno.test("impossible values are refused naming key and value", () => {
  const cases: [string, string, string][] = [
    ["network.max_connections", "0", "0"],
    ["network.max_connections", "-3", "-3"],
    ["network.max_message_size", "-1", "-1"],
    ["network.max_message_size", "-1KB", '"-1KB"'],
    ["network.max_message_size", "63", "63"],
    ["network.max_message_size", "63B", '"63B"'],
    ["network.max_message_size", "0", "0"],
    ["wal.max_segment_size", "-10MB", '"-10MB"'],
    ["wal.max_segment_size", "0", "0"],
    ["wal.flushing_batch_size", "0", "0"],
    ["wal.flushing_batch_timeout", "0", "0"],
    ["replication.sync_interval", "0", "0"],
    ["replication.replica_type", "primary", '"primary"'],
    ["replication.replica_type", "Slave", '"Slave"'],
    ["replication.masterauth", "1234", "1234"],
    ["replication.masterauth", `"${"x".repeat(513)}"`, "x".repeat(20)],
    ["replication.masteruser", '"a b"', '"a b"'],
    ["replication.masteruser", "[1]", "[1]"],
    ["engine.type", "on_disk", '"on_disk"'],
    ["engine.partitions", "0", "0"],
    ["engine.partitions", "-1", "-1"],
  ];
  for (const [path, yaml, shown] of cases) {
    assertConfigError(() => parseConfig(yamlWith(path, yaml), "f.yaml"), path, shown);
  }
});

Deno.test("a positive idle_timeout below 1ms is refused, not taken as 0 (disabled)", () => {
  assertConfigError(
    () => configFromDocument({ network: { idle_timeout: "0.4ms" } }, "f.yaml"),
    "network.idle_timeout",
    '"0.4ms"',
  );
});

Deno.test("smallest allowed message size is 64 bytes", () => {
  assert.equal(
    parseConfig(yamlWith("network.max_message_size", "64B"), "f")
      .network.maxMessageBytes,
    64,
  );
});

Deno.test("replication without the WAL is refused", () => {
  assertConfigError(
    () => configFromDocument({ replication: { enabled: true } }, "f.yaml"),
    "replication.enabled",
    "true",
    "wal.enabled",
  );
  assertConfigError(
    () => configFromDocument({ wal: { enabled: false }, replication: { enabled: true } }, "f"),
    "replication.enabled",
  );
  const ok = configFromDocument({ wal: { enabled: true }, replication: { enabled: true } }, "f");
  assert.equal(ok.replication.enabled, true);
  assert.equal(ok.wal.enabled, true);
});

Deno.test("invalid YAML is refused naming the problem", () => {
  const error = assertConfigError(
    () => parseConfig("network:\n  address: [unclosed\n", "bad.yaml"),
    "bad.yaml",
    "not valid YAML",
  );
  assert.ok(error.message.length > "bad.yaml: not valid YAML: ".length, error.message);
  assertConfigError(
    () => parseConfig("network:\n  max_connections: 1\n  max_connections: 2\n", "dup.yaml"),
    "dup.yaml",
    "not valid YAML",
  );
  assertConfigError(() => parseConfig("a: b: c\n", "x.yaml"), "x.yaml", "not valid YAML");
});

Deno.test("an empty or comment-only file gives the defaults", async () => {
  assert.deepEqual(parseConfig("", "f"), DEFAULTS);
  assert.deepEqual(parseConfig("# nothing here\n", "f"), DEFAULTS);
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/empty.yaml`;
    await Deno.writeTextFile(path, "");
    assert.deepEqual(await loadConfig(path), DEFAULTS);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig reads a file and names it in errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/c.yaml`;
    await Deno.writeTextFile(path, "network:\n  max_connections: 0\n");
    await assert.rejects(loadConfig(path), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(e.message.includes(path), e.message);
      assert.ok(e.message.includes("network.max_connections = 0"), e.message);
      return true;
    });
    await Deno.writeTextFile(path, "engine:\n  partitions: 3\n");
    assert.equal((await loadConfig(path)).engine.partitions, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing file is a ConfigError naming the path", async () => {
  const path = "/nonexistent/dir/kvdb-config.yaml";
  await assert.rejects(loadConfig(path), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.ok(e.message.includes(path), e.message);
    assert.ok(e.message.includes("no such file"), e.message);
    return true;
  });
});

Deno.test("a binary or huge config is refused with a short message, not echoed back", () => {
  // A binary file read as YAML is one long scalar string.
  const binary = new TextDecoder("latin1").decode(
    new Uint8Array(20_000).map((_, i) => (i * 131 + 7) & 0xff).map((b) => b === 0x0a ? 0x20 : b),
  );
  const huge = "x".repeat(100_000);
  const cases: [() => unknown, string][] = [
    [() => configFromDocument(binary, "bin.yaml"), "(20000 chars)"],
    [() => parseConfig(huge, "big.yaml"), "(100000 chars)"],
    [() => parseConfig(yamlWith("network.address", huge), "f.yaml"), "(100000 chars)"],
    [() => configFromDocument({ network: { [huge]: 1 } }, "f.yaml"), "chars)"],
    [() => configFromDocument({ [huge]: {} }, "f.yaml"), "chars)"],
    [() => configFromDocument({ network: huge }, "f.yaml"), "(100000 chars)"],
    [() => configFromDocument({ network: { address: [huge] } }, "f.yaml"), "chars)"],
  ];
  for (const [load, part] of cases) {
    const error = assertConfigError(load, part);
    assert.ok(error.message.length < 400, `message of ${error.message.length} chars`);
  }
  // Short values are still shown whole.
  assertConfigError(
    () => parseConfig(yamlWith("network.address", "nowhere"), "f.yaml"),
    'network.address = "nowhere": must be host:port',
  );
});

Deno.test("pubsub: Redis's notify-keyspace-events letters and output limits", () => {
  const config = parseConfig(
    "pubsub:\n  notify_keyspace_events: KEA\n  output_buffer_hard_limit: 1MiB\n" +
      "  output_buffer_soft_limit: 0\n  output_buffer_soft_seconds: 5\n",
    "inline",
  );
  assert.deepEqual(config.pubsub, {
    notifyKeyspaceEvents: "KEA",
    outputHardLimitBytes: 1024 * 1024,
    outputSoftLimitBytes: 0,
    outputSoftLimitSeconds: 5,
  });
  assertConfigError(
    () => parseConfig("pubsub:\n  notify_keyspace_events: KEQ\n", "inline"),
    "pubsub.notify_keyspace_events",
    '"KEQ"',
    "Ag$lshzxeKEtmdn",
  );
  assertConfigError(
    () => parseConfig("pubsub:\n  output_buffer_hard_limit: lots\n", "inline"),
    "pubsub.output_buffer_hard_limit",
  );
});

Deno.test("config: a TLS port needs a certificate and key, client authentication a CA", () => {
  assert.throws(
    () => configFromDocument({ tls: { port: 6380 } }, "t.yaml"),
    {
      name: "Error",
      message: "t.yaml: tls.port = 6380: a TLS port needs tls.cert_file and tls.key_file",
    },
  );
  assert.throws(
    () =>
      configFromDocument(
        { tls: { port: 6380, cert_file: "s.crt", key_file: "s.key", auth_clients: true } },
        "t.yaml",
      ),
    /tls\.auth_clients = true: client certificates are verified against tls\.ca_cert_file/,
  );
  assert.throws(
    () => configFromDocument({ tls: { port: 70000 } }, "t.yaml"),
    /tls\.port = 70000: must be from 0 to 65535/,
  );
  const config = configFromDocument(
    { tls: { port: 6380, cert_file: "s.crt", key_file: "s.key", ca_cert_file: "ca.crt" } },
    "t.yaml",
  );
  assert.deepEqual(config.tls, {
    ...TLS_DEFAULTS,
    port: 6380,
    certFile: "s.crt",
    keyFile: "s.key",
    caCertFile: "ca.crt",
  });
});
