/**
 * Server and introspection commands (issue 14 point 7) against
 * redis-server 7.0, byte for byte in RESP2 and RESP3 where the reply is
 * the same by nature: CONFIG GET/SET/RESETSTAT (Redis's names, errors,
 * all-or-nothing SET), INFO's sections and counters (commandstats,
 * errorstats, keyspace), SLOWLOG, LATENCY, MEMORY, TIME, LASTSAVE,
 * SHUTDOWN's refusals and DEBUG. Values that differ by nature (times,
 * ids, addresses, memory figures) are compared by shape or normalized.
 */

import {
  binaryString,
  differentialTest,
  DiffPair,
  type Frame,
  infoFields,
  normalized,
  parseInfo,
  shapeOnly,
  type StepLike,
  unordered,
} from "./_differential.ts";

/** Both servers configured alike where kvdb's defaults differ from Redis's. */
const REDIS_ARGS = [
  "--maxclients",
  "100",
  "--timeout",
  "300",
  "--appendfsync",
  "always",
  "--proto-max-bulk-len",
  "67108864",
];

/** INFO's section headers only. */
const headers = normalized(
  "sectionHeaders",
  (f) => binaryString(f.raw).split("\r\n").filter((l) => l.startsWith("#")).join("|"),
);

/** INFO commandstats without the times (which differ by nature). */
const commandCounts = normalized("commandCounts", (f: Frame) => {
  const fields = [...parseInfo(f)].filter(([k]) => k.startsWith("cmdstat_"))
    .map(([k, v]) => `${k}:${v.replace(/usec=\d+,usec_per_call=[\d.]+,/, "")}`);
  return fields.sort().join("\n");
});

/** SLOWLOG GET without ids, times, durations and client addresses. */
const slowlogEntries = normalized("slowlogEntries", (f: Frame) => {
  const v = f.value;
  if (v.type !== "array") return binaryString(f.raw);
  return JSON.stringify(
    v.items.map((e) =>
      e.type === "array"
        ? [JSON.stringify(e.items[3]), JSON.stringify(e.items[5]), e.items.length]
        : JSON.stringify(e)
    ),
  );
});

/** LATENCY LATEST: the events and the shape, latencies within 15 ms. */
const latencyLatest = normalized("latencyLatest", (f: Frame) => {
  const v = f.value;
  if (v.type !== "array") return binaryString(f.raw);
  return JSON.stringify(v.items.map((e) => {
    if (e.type !== "array") return "?";
    const [event, , latest] = e.items;
    const ms = latest.type === "integer" ? Number(latest.value) : -1;
    return [JSON.stringify(event), ms >= 20 && ms < 40 ? "20..40" : ms];
  }));
});

/**
 * client-output-buffer-limit with the replica class's numbers aside: kvdb
 * shows `0 0 0` there (it bounds a replica's backlog by
 * replication.retention_size instead).
 */
const replicaClassAside = normalized(
  "replicaClassAside",
  (f: Frame) =>
    binaryString(f.raw).replace(/slave [0-9]+ [0-9]+ [0-9]+/, "slave *").replace(
      /\$[0-9]+\r\n/g,
      "$?\r\n",
    ),
);

const CASES: Record<string, StepLike[]> = {
  "CONFIG GET: Redis's names, any case, several patterns, globs, unknown names": [
    ["CONFIG", "GET", "maxclients"],
    ["CONFIG", "GET", "MAXCLIENTS"],
    ["CONFIG", "GET", "timeout"],
    ["CONFIG", "GET", "databases"],
    ["CONFIG", "GET", "appendonly"],
    ["CONFIG", "GET", "appendfsync"],
    ["CONFIG", "GET", "save"],
    ["CONFIG", "GET", "replicaof"],
    ["CONFIG", "GET", "slaveof"],
    ["CONFIG", "GET", "replica-read-only"],
    ["CONFIG", "GET", "loglevel"],
    ["CONFIG", "GET", "proto-max-bulk-len"],
    ["CONFIG", "GET", "maxmemory"],
    ["CONFIG", "GET", "maxmemory-policy"],
    ["CONFIG", "GET", "slowlog-log-slower-than"],
    ["CONFIG", "GET", "slowlog-max-len"],
    ["CONFIG", "GET", "latency-monitor-threshold"],
    ["CONFIG", "GET", "latency-tracking"],
    ["CONFIG", "GET", "latency-tracking-info-percentiles"],
    ["CONFIG", "GET", "notify-keyspace-events"],
    ["CONFIG", "GET", "nosuchparameter"],
    { args: ["CONFIG", "GET", "maxclients", "timeout", "nosuch"], compare: unordered },
    { args: ["CONFIG", "GET", "slowlog-*"], compare: unordered },
    { args: ["CONFIG", "GET", "latency-*"], compare: unordered },
    ["CONFIG", "GET", "maxclients", "MAXCLIENTS"],
    ["CONFIG", "GET"],
  ],
  "CONFIG SET: several at once, all or nothing, Redis's errors": [
    ["CONFIG", "SET", "slowlog-max-len", "10", "slowlog-log-slower-than", "20000"],
    { args: ["CONFIG", "GET", "slowlog-*"], compare: unordered },
    ["CONFIG", "SET", "slowlog-max-len", "50", "maxclients", "abc"],
    ["CONFIG", "GET", "slowlog-max-len"],
    ["CONFIG", "SET", "nosuch", "1"],
    ["CONFIG", "SET", "maxclients", "10", "nosuch", "1"],
    ["CONFIG", "SET", "databases", "4"],
    ["CONFIG", "SET", "enable-debug-command", "yes"],
    ["CONFIG", "SET", "replicaof", "no one"],
    ["CONFIG", "SET", "slowlog-max-len", "5", "SLOWLOG-MAX-LEN", "6"],
    ["CONFIG", "SET", "maxclients", "10", "timeout"],
    ["CONFIG", "SET", "maxclients"],
    ["CONFIG", "SET", "latency-tracking", "maybe"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", "50 abc"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", "50 101"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", "90 99.99"],
    ["CONFIG", "GET", "latency-tracking-info-percentiles"],
    ["CONFIG", "SET", "loglevel", "warning"],
    ["CONFIG", "GET", "loglevel"],
    ["CONFIG", "SET", "loglevel", "notice", "timeout", "300", "maxclients", "100"],
    ["CONFIG", "SET", "slowlog-max-len", "128", "slowlog-log-slower-than", "10000"],
    ["CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9"],
    ["CONFIG", "SET", "save", ""],
    ["CONFIG", "SET", "appendfsync", "always"],
    ["CONFIG", "RESETSTAT", "x"],
    ["CONFIG", "NOSUCH"],
  ],
  "CONFIG SET: notify-keyspace-events and client-output-buffer-limit's pubsub class": [
    ["CONFIG", "SET", "notify-keyspace-events", "KEA"],
    ["CONFIG", "GET", "notify-keyspace-events"],
    ["CONFIG", "SET", "notify-keyspace-events", "K$lgxm"],
    ["CONFIG", "GET", "notify-keyspace-events"],
    ["CONFIG", "SET", "notify-keyspace-events", "K?"],
    ["CONFIG", "GET", "notify-keyspace-events"],
    ["CONFIG", "SET", "notify-keyspace-events", ""],
    ["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2"],
    ["CONFIG", "SET", "client-output-buffer-limit", "bogus 1 2 3"],
    ["CONFIG", "SET", "client-output-buffer-limit", "pubsub x 2 3"],
    ["CONFIG", "SET", "client-output-buffer-limit", "pubsub -1 2 3"],
    ["CONFIG", "SET", "client-output-buffer-limit", "pubsub 64mb 16mb 90"],
    { args: ["CONFIG", "GET", "client-output-buffer-limit"], compare: replicaClassAside },
    ["CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 pubsub 32mb 8mb 60"],
    { args: ["CONFIG", "GET", "client-output-buffer-limit"], compare: replicaClassAside },
  ],
  "INFO stats: every reading command counts a keyspace hit or miss, writes do not": [
    ["SET", "here", "abc"],
    ["CONFIG", "RESETSTAT"],
    ["GET", "here"],
    ["GET", "nope"],
    ["MGET", "here", "nope"],
    ["EXISTS", "here", "nope", "here"],
    ["TOUCH", "here", "nope"],
    ["TYPE", "nope"],
    ["TTL", "here"],
    ["PTTL", "nope"],
    ["EXPIRETIME", "nope"],
    ["STRLEN", "here"],
    ["GETRANGE", "nope", "0", "1"],
    ["BITCOUNT", "here"],
    ["BITOP", "AND", "dest", "here", "nope"],
    ["LCS", "here", "nope"],
    ["SET", "here", "abc", "GET"],
    ["COPY", "nope", "x"],
    ["COPY", "here", "x"],
    ["DUMP", "nope"],
    ["SORT", "nope"],
    ["OBJECT", "ENCODING", "here"],
    ["EXPIRE", "nope", "10"],
    ["PERSIST", "here"],
    ["RENAME", "x", "y"],
    ["SET", "k", "v", "NX"],
    ["APPEND", "here", "d"],
    ["INCR", "n"],
    { args: ["INFO", "stats"], compare: infoFields(["keyspace_hits", "keyspace_misses"]) },
  ],
  "INFO: sections, their order, counters after RESETSTAT": [
    ["CONFIG", "RESETSTAT"],
    ["SET", "a", "1"],
    ["SET", "b", "2"],
    ["GET", "a"],
    ["GET"],
    ["NOSUCHCOMMAND", "x"],
    ["INCR", "nosuchnumber", "x"],
    ["SET", "s", "x"],
    ["INCR", "s"],
    ["CONFIG", "NOSUCH"],
    { args: ["INFO", "commandstats"], compare: commandCounts },
    ["INFO", "errorstats"],
    { args: ["INFO", "stats"], compare: infoFields(["total_error_replies", "keyspace_hits"]) },
    ["INFO", "keyspace"],
    ["INFO", "cluster"],
    ["INFO", "modules"],
    ["INFO", "nosuchsection"],
    { args: ["INFO"], compare: headers },
    { args: ["INFO", "default"], compare: headers },
    { args: ["INFO", "all"], compare: headers },
    { args: ["INFO", "everything"], compare: headers },
    { args: ["INFO", "server", "nosuch", "CLIENTS"], compare: headers },
    { args: ["INFO", "keyspace", "server"], compare: headers },
    {
      args: ["INFO", "server"],
      compare: infoFields(["redis_version", "redis_mode", "arch_bits", "process_supervised"]),
    },
    {
      args: ["INFO", "clients"],
      compare: infoFields(["maxclients", "blocked_clients", "cluster_connections"]),
    },
    {
      args: ["INFO", "memory"],
      compare: infoFields(["maxmemory", "maxmemory_human", "maxmemory_policy"]),
    },
    {
      args: ["INFO", "persistence"],
      compare: infoFields(["loading", "async_loading", "aof_enabled", "rdb_bgsave_in_progress"]),
    },
    {
      args: ["INFO", "cpu"],
      compare: infoFields(["used_cpu_sys_children", "used_cpu_user_children"]),
    },
  ],
  "SLOWLOG: every command logged at threshold 0, Redis's argument limits, errors": [
    ["CONFIG", "SET", "slowlog-log-slower-than", "0"],
    ["SLOWLOG", "RESET"],
    ["SET", "k", "v"],
    ["GET", "k"],
    ["ECHO", "x".repeat(200)],
    ["DEL", ...Array.from({ length: 40 }, (_, i) => `key${i}`)],
    { args: ["SLOWLOG", "GET"], compare: slowlogEntries },
    { args: ["SLOWLOG", "GET", "2"], compare: slowlogEntries },
    { args: ["SLOWLOG", "GET", "-1"], compare: slowlogEntries },
    ["SLOWLOG", "GET", "0"],
    ["SLOWLOG", "LEN"],
    ["SLOWLOG", "GET", "-2"],
    ["SLOWLOG", "GET", "abc"],
    ["SLOWLOG", "GET", "1", "2"],
    ["SLOWLOG", "LEN", "x"],
    ["SLOWLOG", "NOSUCH"],
    ["CONFIG", "SET", "slowlog-max-len", "2"],
    ["SLOWLOG", "LEN"],
    ["CONFIG", "SET", "slowlog-log-slower-than", "10000", "slowlog-max-len", "128"],
    ["SLOWLOG", "RESET"],
    ["SLOWLOG", "LEN"],
  ],
  "LATENCY, MEMORY, TIME, LASTSAVE, SHUTDOWN's refusals": [
    ["LATENCY", "RESET"],
    ["LATENCY", "LATEST"],
    ["LATENCY", "HISTORY", "command"],
    ["LATENCY", "RESET", "a", "b"],
    ["LATENCY", "HISTORY"],
    { args: ["LATENCY", "DOCTOR"], compare: shapeOnly },
    ["SET", "m", "v"],
    { args: ["MEMORY", "USAGE", "m"], compare: shapeOnly },
    { args: ["MEMORY", "USAGE", "m", "SAMPLES", "5"], compare: shapeOnly },
    ["MEMORY", "USAGE", "nosuchkey"],
    ["MEMORY", "USAGE", "m", "foo"],
    ["MEMORY", "USAGE", "m", "SAMPLES", "x"],
    ["MEMORY", "USAGE"],
    ["MEMORY", "PURGE"],
    { args: ["MEMORY", "DOCTOR"], compare: shapeOnly },
    { args: ["TIME"], compare: shapeOnly },
    ["TIME", "x"],
    { args: ["LASTSAVE"], compare: shapeOnly },
    ["SHUTDOWN", "foo"],
    ["SHUTDOWN", "NOSAVE", "SAVE"],
    ["SHUTDOWN", "ABORT"],
    ["SHUTDOWN", "ABORT", "NOW"],
  ],
};

const DEBUG_CASES: Record<string, StepLike[]> = {
  "DEBUG SLEEP blocks the server: the slow log and the latency monitor see it": [
    ["CONFIG", "SET", "latency-monitor-threshold", "10"],
    ["LATENCY", "RESET"],
    ["SLOWLOG", "RESET"],
    ["DEBUG", "SLEEP", "0.025"],
    { args: ["LATENCY", "LATEST"], compare: latencyLatest },
    { args: ["SLOWLOG", "GET"], compare: slowlogEntries },
    ["SLOWLOG", "LEN"],
    ["DEBUG", "SLEEP", "0"],
    ["DEBUG", "NOSUCH"],
    ["DEBUG", "OBJECT", "nosuchkey"],
    ["CONFIG", "SET", "latency-monitor-threshold", "0"],
    ["LATENCY", "RESET"],
  ],
};

differentialTest(
  "differential: server and introspection commands, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis({ redis: REDIS_ARGS }),
  async (t, pair) => {
    for (const resp3 of [false, true]) {
      for (const [name, steps] of Object.entries(CASES)) {
        const label = `${name} (${resp3 ? "RESP3" : "RESP2"})`;
        await t.step(label, async () => {
          await pair.diff(steps, { resp3, label });
        });
      }
    }
    await t.step("DEBUG is refused while enable-debug-command is off", async () => {
      await pair.diff([["DEBUG", "SLEEP", "0"], ["DEBUG", "HELP"]]);
    });
  },
);

differentialTest(
  "differential: DEBUG with enable-debug-command on, kvdb vs redis-server 7.0",
  () =>
    DiffPair.kvdbVsRedis({
      kvdb: { security: { enable_debug_command: true } },
      redis: [...REDIS_ARGS, "--enable-debug-command", "yes"],
    }),
  async (t, pair) => {
    for (const resp3 of [false, true]) {
      for (const [name, steps] of Object.entries(DEBUG_CASES)) {
        const label = `${name} (${resp3 ? "RESP3" : "RESP2"})`;
        await t.step(label, async () => {
          await pair.diff(steps, { resp3, label });
        });
      }
    }
  },
);
