/**
 * INFO, in Redis 7.0's layout: `# Section` headers, `field:value` lines,
 * sections in Redis's order, `default` (no argument), `all` and
 * `everything`, several sections per call; RESP3 gets a verbatim string.
 * Sections and fields are Redis's where kvdb has the fact, plus kvdb's own
 * (`wal_*`, `snapshot_*`, `kvdb_*`); what kvdb cannot know is left out
 * rather than made up.
 *
 * @example
 * ```ts
 * renderInfo(ctx, ["server", "clients"]); // "# Server\r\n...\r\n\r\n# Clients\r\n..."
 * ```
 * @module
 */

import type { CommandContext, InfoFields } from "../executor/command_spec.ts";
import { COMMANDS } from "../executor/commands.ts";
import type { CommandSpec } from "../executor/command_spec.ts";
import { latencyPercentile, reportedUsec } from "./command_stats.ts";

/** Every section, in Redis's order. */
export const INFO_SECTIONS = [
  "server",
  "clients",
  "memory",
  "persistence",
  "stats",
  "replication",
  "cpu",
  "modules",
  "commandstats",
  "errorstats",
  "latencystats",
  "cluster",
  "keyspace",
] as const;

type Section = typeof INFO_SECTIONS[number];

/** What INFO without arguments (or `default`) shows: all but the per-command ones. */
const DEFAULT_SECTIONS = new Set<Section>(
  INFO_SECTIONS.filter((s) => s !== "commandstats" && s !== "latencystats"),
);

/**
 * Redis's `bytesToHuman`: `0B`, `927.22K`, `6.99M`.
 *
 * @example
 * ```ts
 * humanBytes(1536); // "1.50K"
 * ```
 */
export function humanBytes(n: number): string {
  const units = ["B", "K", "M", "G", "T", "P"];
  if (n < 1024) return `${n}B`;
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}

/** Every table row, subcommands after their container, by name. */
function allSpecs(): CommandSpec[] {
  const out: CommandSpec[] = [];
  for (const spec of COMMANDS.values()) {
    out.push(spec);
    for (const sub of spec.subcommands?.values() ?? []) out.push(sub);
  }
  return out;
}

/**
 * INFO memory: `used_memory` is src/memory's incremental estimate (what
 * maxmemory is checked against), RSS the process's; the V8 heap figures
 * follow for those who tune the runtime.
 */
function memory(ctx: CommandContext): InfoFields {
  const mm = ctx.store.memory;
  const m = Deno.memoryUsage();
  mm.refreshOverhead();
  const dataset = mm.datasetBytes();
  const overhead = mm.overheadBytes();
  const used = mm.usedBytes();
  const peak = Math.max(mm.peakBytes, 1);
  // The runtime's own heap is not counted (see src/memory/memory_manager.ts).
  const startup = 0;
  const max = mm.maxmemoryBytes;
  return [
    ["used_memory", used],
    ["used_memory_human", humanBytes(used)],
    ["used_memory_rss", m.rss],
    ["used_memory_rss_human", humanBytes(m.rss)],
    ["used_memory_peak", peak],
    ["used_memory_peak_human", humanBytes(peak)],
    ["used_memory_peak_perc", `${(used / peak * 100).toFixed(2)}%`],
    ["used_memory_overhead", overhead],
    ["used_memory_startup", startup],
    ["used_memory_dataset", dataset],
    ["used_memory_dataset_perc", `${(used > 0 ? dataset / used * 100 : 0).toFixed(2)}%`],
    ["mem_clients_normal", mm.overheadOf("clients")],
    ["mem_replication_backlog", mm.overheadOf("replication_backlog")],
    ["mem_aof_buffer", mm.overheadOf("wal_pending")],
    // Redis's field: used_memory minus this is what maxmemory is checked against.
    ["mem_not_counted_for_evict", used - mm.countedBytes()],
    ["maxmemory", max],
    ["maxmemory_human", humanBytes(max)],
    ["maxmemory_policy", mm.settings.policy],
    ["mem_fragmentation_ratio", (used > 0 ? m.rss / used : 0).toFixed(2)],
    ["mem_fragmentation_bytes", m.rss - used],
    ["mem_allocator", "v8"],
    ["used_memory_heap_total", m.heapTotal],
    ["used_memory_heap_used", m.heapUsed],
    ["used_memory_external", m.external],
  ];
}

function stats(ctx: CommandContext): InfoFields {
  const admin = ctx.server.admin;
  const kib = admin.kibPerSecond;
  // Redis's order. Facts of a design without them are stated as such:
  // kvdb never forks (snapshots are written in-process) and has no I/O
  // threads; replication's own traffic and resync counts are left out.
  const fields: InfoFields = [
    ["total_connections_received", ctx.server.totalConnections() - admin.connectionsBeforeReset],
    ["total_commands_processed", ctx.stats.commandsProcessed],
    ["instantaneous_ops_per_sec", admin.opsPerSecond],
    ["total_net_input_bytes", admin.net.inputBytes],
    ["total_net_output_bytes", admin.net.outputBytes],
    ["instantaneous_input_kbps", kib.input.toFixed(2)],
    ["instantaneous_output_kbps", kib.output.toFixed(2)],
    ["rejected_connections", admin.rejectedConnections],
    ["expired_keys", ctx.store.expiredKeys],
    ["evicted_keys", ctx.store.memory.evictedKeys],
    ["evicted_clients", admin.limitCloses.get("network.maxmemory_clients") ?? 0],
    ["keyspace_hits", ctx.stats.keyspaceHits],
    ["keyspace_misses", ctx.stats.keyspaceMisses],
    ["pubsub_channels", ctx.pubsub.channelCount],
    ["pubsub_patterns", ctx.pubsub.numpat],
    ["pubsubshard_channels", ctx.pubsub.shardChannelCount],
    ["latest_fork_usec", 0],
    ["total_forks", 0],
    ["total_error_replies", admin.errors.total],
    ["total_reads_processed", admin.net.reads],
    ["total_writes_processed", admin.net.writes],
    ["io_threaded_reads_processed", 0],
    ["io_threaded_writes_processed", 0],
  ];
  for (const [limit, count] of admin.limitCloses) {
    fields.push([`kvdb_clients_closed_${limit.replaceAll(".", "_")}`, count]);
  }
  return fields;
}

/** `node:process`'s cpuUsage, loaded on the first INFO cpu (see {@link loadCpuClock}). */
let cpuUsage: (() => { user: number; system: number }) | undefined;

/**
 * Loads the CPU clock INFO cpu reads (getrusage through `node:process`:
 * Deno has no API of its own, and /proc needs --allow-all). Not at start:
 * importing Node's `process` then slows the server's first requests
 * (measured: a burst of 80 connections right after start answered in
 * ~400 ms instead of ~200 ms). The server loads it a moment after it
 * listens, and the first INFO cpu asks for it; until it is there, the CPU
 * section is empty.
 *
 * @example
 * ```ts
 * await loadCpuClock();
 * ```
 */
export async function loadCpuClock(): Promise<void> {
  if (cpuUsage !== undefined) return;
  const process = (await import("node:process")).default;
  cpuUsage = () => process.cpuUsage();
}

function cpu(): InfoFields {
  // getrusage(RUSAGE_SELF): every thread of the process (Deno's helpers
  // too); Redis's *_main_thread fields are left out: not measurable here.
  if (cpuUsage === undefined) {
    loadCpuClock().catch(() => {});
    return [];
  }
  const usage = cpuUsage();
  return [
    ["used_cpu_sys", (usage.system / 1e6).toFixed(6)],
    ["used_cpu_user", (usage.user / 1e6).toFixed(6)],
    ["used_cpu_sys_children", "0.000000"],
    ["used_cpu_user_children", "0.000000"],
  ];
}

function commandstats(): InfoFields {
  const fields: InfoFields = [];
  for (const spec of allSpecs()) {
    const s = spec.stats;
    if (s.calls === 0 && s.rejected === 0 && s.failed === 0) continue;
    const usec = reportedUsec(s);
    const perCall = s.calls > 0 ? usec / s.calls : 0;
    fields.push([
      `cmdstat_${spec.fullName}`,
      `calls=${s.calls},usec=${usec},usec_per_call=${
        perCall.toFixed(2)
      },rejected_calls=${s.rejected},failed_calls=${s.failed}`,
    ]);
  }
  return fields;
}

function errorstats(ctx: CommandContext): InfoFields {
  const entries = [...ctx.server.admin.errors.entries()].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0
  );
  return entries.map(([code, count]) => [`errorstat_${code}`, `count=${count}`]);
}

/** Redis prints a percentile's name with `%f` trimmed: `p50`, `p99.9`. */
function percentileName(p: number): string {
  return `p${Number(p.toFixed(6))}`;
}

function latencystats(ctx: CommandContext): InfoFields {
  const percentiles = ctx.server.admin.config.monitoring.latencyTrackingInfoPercentiles;
  const fields: InfoFields = [];
  for (const spec of allSpecs()) {
    if (spec.stats.histogram === undefined) continue;
    const parts = percentiles.map((p) =>
      `${percentileName(p)}=${(latencyPercentile(spec.stats, p) ?? 0).toFixed(3)}`
    );
    fields.push([`latency_percentiles_usec_${spec.fullName}`, parts.join(",")]);
  }
  return fields;
}

function keyspace(ctx: CommandContext): InfoFields {
  const fields: InfoFields = [];
  for (let i = 0; i < ctx.store.databaseCount; i++) {
    const engine = ctx.store.engineOf(i);
    if (engine.size === 0) continue;
    fields.push([
      `db${i}`,
      `keys=${engine.size},expires=${engine.expiringCount},avg_ttl=${engine.avgTtlMs}`,
    ]);
  }
  return fields;
}

function persistence(ctx: CommandContext): InfoFields {
  const fields = ctx.server.info("persistence");
  const loading = fields.findIndex(([name]) => name === "loading");
  if (loading >= 0) fields[loading] = ["loading", ctx.store.loading ? 1 : 0];
  return fields;
}

function sectionFields(ctx: CommandContext, section: Section): InfoFields {
  switch (section) {
    case "server":
    case "clients":
    case "replication":
      return ctx.server.info(section);
    case "persistence":
      return persistence(ctx);
    case "memory":
      return memory(ctx);
    case "stats":
      return stats(ctx);
    case "cpu":
      return cpu();
    case "modules":
      return [];
    case "commandstats":
      return commandstats();
    case "errorstats":
      return errorstats(ctx);
    case "latencystats":
      return latencystats(ctx);
    case "cluster":
      return [["cluster_enabled", 0]];
    case "keyspace":
      return keyspace(ctx);
  }
}

/**
 * INFO's text for the requested sections (lower-case names; none: the
 * default set). Unknown names are ignored, as Redis does.
 *
 * @example
 * ```ts
 * renderInfo(ctx, ["everything"]);
 * ```
 */
export function renderInfo(ctx: CommandContext, wanted: readonly string[]): string {
  const chosen = new Set<Section>();
  if (wanted.length === 0) { for (const s of DEFAULT_SECTIONS) chosen.add(s); }
  for (const name of wanted) {
    if (name === "all" || name === "everything") { for (const s of INFO_SECTIONS) chosen.add(s); }
    else if (name === "default") { for (const s of DEFAULT_SECTIONS) chosen.add(s); }
    else if ((INFO_SECTIONS as readonly string[]).includes(name)) chosen.add(name as Section);
  }
  let text = "";
  for (const section of INFO_SECTIONS) {
    if (!chosen.has(section)) continue;
    if (text) text += "\r\n";
    text += `# ${section === "cpu" ? "CPU" : section[0].toUpperCase() + section.slice(1)}\r\n`;
    for (const [name, value] of sectionFields(ctx, section)) text += `${name}:${value}\r\n`;
  }
  return text;
}
