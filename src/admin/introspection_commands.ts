/**
 * SLOWLOG, LATENCY and MEMORY: what the server measured, in Redis 7.0's
 * reply layouts. The DOCTOR reports are kvdb's own words.
 *
 * @example
 * ```ts
 * INTROSPECTION_COMMANDS.map((c) => c.name); // ["SLOWLOG", "LATENCY", "MEMORY"]
 * ```
 * @module
 */

import { collectionMemoryBytes, DEFAULT_MEMORY_SAMPLES } from "./_collection_memory.ts";
import type { CommandContext, ContainerHandler } from "../executor/command_spec.ts";
import { parseInt64, syntaxError } from "../executor/command_spec.ts";
import { notAnInteger } from "../executor/command_spec.ts";
import { lookupFullName } from "../executor/command_table.ts";
import { COMMANDS } from "../executor/commands.ts";
import { Collection, type KeyValue } from "../types/collection.ts";
import { CommandError } from "../protocol/reply_writer.ts";
import { cumulativeHistogram } from "./command_stats.ts";
import type { CommandSpec } from "../executor/command_spec.ts";

/** Entries SLOWLOG GET returns without a count (Redis's default). */
const SLOWLOG_DEFAULT_COUNT = 10;

/** Redis's reply to a subcommand given the wrong number of arguments by its own handler. */
function subcommandSyntax(sub: string, container: string): CommandError {
  return new CommandError(
    "ERR",
    `unknown subcommand or wrong number of arguments for '${sub}'. Try ${container} HELP.`,
  );
}

const SLOWLOG_COMMAND: ContainerHandler = {
  name: "SLOWLOG",
  summary: "Reads and resets the log of commands slower than slowlog-log-slower-than.",
  subcommands: [
    {
      name: "GET",
      summary: "Returns the newest entries (10 by default, all for -1), newest first.",
      run(ctx, args, w) {
        if (args.length > 3) throw subcommandSyntax(args[1], "SLOWLOG");
        let count = SLOWLOG_DEFAULT_COUNT;
        if (args.length === 3) {
          const n = parseInt64(args[2]);
          if (n === undefined || n < -1n) {
            throw new CommandError("ERR", "count should be greater than or equal to -1");
          }
          count = n > 1_000_000n ? 1_000_000 : Number(n);
        }
        const entries = ctx.server.admin.slowlog.latest(count);
        w.array(entries.length);
        for (const e of entries) {
          w.array(6);
          w.integer(e.id);
          w.integer(e.timeSec);
          w.integer(e.durationUsec);
          w.array(e.args.length);
          for (const a of e.args) w.bulk(a);
          w.bulk(e.client);
          w.bulk(e.clientName);
        }
      },
    },
    {
      name: "LEN",
      summary: "Returns the number of entries.",
      run: (ctx, _args, w) => w.integer(ctx.server.admin.slowlog.length),
    },
    {
      name: "RESET",
      summary: "Empties the slow log.",
      run(ctx, _args, w) {
        ctx.server.admin.slowlog.reset();
        w.status("OK");
      },
    },
  ],
};

function latencyDoctor(ctx: CommandContext): string {
  const admin = ctx.server.admin;
  const threshold = admin.config.monitoring.latencyMonitorThresholdMs;
  if (threshold === 0) {
    return "The latency monitor is off: CONFIG SET latency-monitor-threshold <milliseconds> " +
      "turns it on (monitoring.latency_monitor_threshold in the config file).\n";
  }
  const latest = admin.latency.latest();
  if (latest.length === 0) {
    return `No latency spike of ${threshold} ms or more was recorded since the start ` +
      "(or the last LATENCY RESET).\n";
  }
  let text = `Latency spikes of ${threshold} ms or more, by event:\n\n`;
  for (const e of latest) {
    const samples = admin.latency.history(e.event);
    const mean = samples.reduce((s, x) => s + x.latencyMs, 0) / samples.length;
    text +=
      `${e.event}: ${samples.length} spikes in the last ${samples.length} seconds with one, ` +
      `average ${Math.round(mean)} ms, worst ${e.maxMs} ms, latest ${e.latestMs} ms ` +
      `at ${new Date(e.timeSec * 1000).toISOString()}.\n`;
  }
  text += "\nSLOWLOG GET names the commands; INFO latencystats gives their percentiles.\n";
  return text;
}

function replyHistograms(
  specs: CommandSpec[],
  ctx: CommandContext,
  w: import("../protocol/reply_writer.ts").ReplyWriter,
) {
  const withData = specs.filter((s) => s.stats.histogram !== undefined && s.stats.calls > 0);
  void ctx;
  w.map(withData.length);
  for (const spec of withData) {
    w.bulk(spec.fullName);
    w.map(2);
    w.bulk("calls");
    w.integer(spec.stats.calls);
    w.bulk("histogram_usec");
    const buckets = cumulativeHistogram(spec.stats);
    w.map(buckets.length);
    for (const [top, count] of buckets) {
      w.integer(top);
      w.integer(count);
    }
  }
}

const LATENCY_COMMAND: ContainerHandler = {
  name: "LATENCY",
  summary: "Reads and resets the latency monitor's spikes and the per-command histograms.",
  subcommands: [
    {
      name: "LATEST",
      summary: "Returns each event's latest spike: time, latency, and the worst seen.",
      run(ctx, _args, w) {
        const latest = ctx.server.admin.latency.latest();
        w.array(latest.length);
        for (const e of latest) {
          w.array(4);
          w.bulk(e.event);
          w.integer(e.timeSec);
          w.integer(e.latestMs);
          w.integer(e.maxMs);
        }
      },
    },
    {
      name: "HISTORY",
      summary: "Returns an event's spikes (time, latency ms), oldest first.",
      run(ctx, args, w) {
        const samples = ctx.server.admin.latency.history(args[2]);
        w.array(samples.length);
        for (const s of samples) {
          w.array(2);
          w.integer(s.timeSec);
          w.integer(s.latencyMs);
        }
      },
    },
    {
      name: "RESET",
      summary: "Forgets the named events' spikes (all without names); returns how many.",
      run: (ctx, args, w) => w.integer(ctx.server.admin.latency.reset(args.slice(2))),
    },
    {
      name: "DOCTOR",
      summary: "Describes the spikes recorded, in words.",
      run: (ctx, _args, w) => w.verbatim("txt", latencyDoctor(ctx)),
    },
    {
      name: "HISTOGRAM",
      summary:
        "Returns the latency histogram (µs, cumulative) of the named commands (all without).",
      run(ctx, args, w) {
        let specs: CommandSpec[];
        if (args.length === 2) {
          specs = [];
          for (const spec of COMMANDS.values()) {
            specs.push(spec);
            for (const sub of spec.subcommands?.values() ?? []) specs.push(sub);
          }
        } else {
          specs = [];
          for (const name of args.slice(2)) {
            const spec = lookupFullName(COMMANDS, name);
            if (spec !== undefined && !specs.includes(spec)) specs.push(spec);
          }
        }
        replyHistograms(specs, ctx, w);
      },
    },
  ],
};

/** Bytes of a key-table entry besides its key and value (slot words and hash slot). */
const ENTRY_OVERHEAD_BYTES = 24;
/** Bytes of an expiry-map entry (the key's string and a number in a Map). */
const EXPIRY_OVERHEAD_BYTES = 48;
/** Bytes of a value held outside the arena besides its bytes (object and buffer headers). */
const BIG_VALUE_OVERHEAD_BYTES = 96;

/**
 * kvdb's estimate of the memory one key costs: its key and value bytes as
 * the arena holds them (rounded to 8), the entry's slots, its expiry entry
 * if it has one, and a large value's own buffer.
 *
 * @example
 * ```ts
 * memoryUsage("k", "v", false); // 32
 * ```
 */
export function memoryUsage(
  key: string,
  value: KeyValue,
  expiring: boolean,
  samples = 0,
): number {
  const inline = typeof value === "string";
  const arena = (key.length + (inline ? value.length : 0) + 7) & ~7;
  let bytes = arena + ENTRY_OVERHEAD_BYTES;
  if (value instanceof Collection) bytes += collectionMemoryBytes(value, samples);
  else if (!inline) bytes += value.capacity + BIG_VALUE_OVERHEAD_BYTES;
  if (expiring) bytes += EXPIRY_OVERHEAD_BYTES + key.length;
  return bytes;
}

function memoryStats(ctx: CommandContext, w: import("../protocol/reply_writer.ts").ReplyWriter) {
  const admin = ctx.server.admin;
  const m = Deno.memoryUsage();
  const used = admin.usedMemory();
  const startup = admin.startupMemoryBytes;
  const dataset = Math.max(0, used - startup);
  let keys = 0;
  const dbs: [number, number, number][] = [];
  for (let i = 0; i < ctx.store.databaseCount; i++) {
    const engine = ctx.store.engineOf(i);
    if (engine.size === 0) continue;
    keys += engine.size;
    dbs.push([i, engine.size * ENTRY_OVERHEAD_BYTES, engine.expiringCount * EXPIRY_OVERHEAD_BYTES]);
  }
  const pairs: [string, (w: import("../protocol/reply_writer.ts").ReplyWriter) => void][] = [
    ["peak.allocated", (w) => w.integer(admin.peakMemoryBytes)],
    ["total.allocated", (w) => w.integer(used)],
    ["startup.allocated", (w) => w.integer(startup)],
    ["replication.backlog", (w) => w.integer(0)],
    ["clients.slaves", (w) => w.integer(0)],
    ["aof.buffer", (w) => w.integer(0)],
  ];
  for (const [db, main, expires] of dbs) {
    pairs.push([`db.${db}`, (w) => {
      w.map(2);
      w.bulk("overhead.hashtable.main");
      w.integer(main);
      w.bulk("overhead.hashtable.expires");
      w.integer(expires);
    }]);
  }
  pairs.push(
    ["overhead.total", (w) => w.integer(startup)],
    ["keys.count", (w) => w.integer(keys)],
    ["keys.bytes-per-key", (w) => w.integer(keys > 0 ? Math.floor(dataset / keys) : 0)],
    ["dataset.bytes", (w) => w.integer(dataset)],
    ["dataset.percentage", (w) => w.double(used > 0 ? dataset / used * 100 : 0)],
    ["peak.percentage", (w) => w.double(used / admin.peakMemoryBytes * 100)],
    ["heap.total", (w) => w.integer(m.heapTotal)],
    ["heap.used", (w) => w.integer(m.heapUsed)],
    ["external", (w) => w.integer(m.external)],
    ["rss", (w) => w.integer(m.rss)],
    ["fragmentation", (w) => w.double(used > 0 ? m.rss / used : 0)],
    ["fragmentation.bytes", (w) => w.integer(m.rss - used)],
  );
  w.map(pairs.length);
  for (const [name, reply] of pairs) {
    w.bulk(name);
    reply(w);
  }
}

function memoryDoctor(ctx: CommandContext): string {
  const admin = ctx.server.admin;
  const m = Deno.memoryUsage();
  const used = admin.usedMemory();
  const notes: string[] = [];
  if (used > 0 && m.rss / used > 1.5 && m.rss - used > 64 * 1024 ** 2) {
    notes.push(
      `The process holds ${(m.rss / used).toFixed(2)} times the memory in use ` +
        `(${m.rss} bytes resident, ${used} in use): freed memory not yet returned to the system, ` +
        "or the runtime's own. It is given back as the heap shrinks.",
    );
  }
  if (admin.peakMemoryBytes > used * 1.5 && admin.peakMemoryBytes - used > 64 * 1024 ** 2) {
    notes.push(
      `The peak (${admin.peakMemoryBytes} bytes) is well above the memory in use now (${used}).`,
    );
  }
  if (notes.length === 0) return "No memory problem found.\n";
  return notes.join("\n\n") + "\n";
}

const MEMORY_COMMAND: ContainerHandler = {
  name: "MEMORY",
  summary: "Reports memory: a key's cost, the server's totals, a diagnosis.",
  subcommands: [
    {
      name: "USAGE",
      summary: "Returns kvdb's estimate of the bytes a key and its value take (SAMPLES accepted).",
      run(ctx, args, w) {
        let samples = DEFAULT_MEMORY_SAMPLES;
        if (args.length !== 3) {
          if (args.length !== 5 || args[3].toUpperCase() !== "SAMPLES") throw syntaxError();
          const given = parseInt64(args[4]);
          if (given === undefined) throw notAnInteger();
          if (given < 0n) throw syntaxError();
          samples = given > 1_000_000_000n ? 0 : Number(given); // 0: every element
        }
        const entry = ctx.db.keyEntry(args[2]);
        if (entry === undefined) return w.nil();
        w.integer(memoryUsage(args[2], entry.value, entry.expiresAtMs > 0, samples));
      },
    },
    {
      name: "STATS",
      summary: "Returns the memory totals: in use, peak, at start, per database, the dataset.",
      run: (ctx, _args, w) => memoryStats(ctx, w),
    },
    {
      name: "DOCTOR",
      summary: "Describes memory problems, if any, in words.",
      run: (ctx, _args, w) => w.verbatim("txt", memoryDoctor(ctx)),
    },
    {
      name: "MALLOC-STATS",
      summary: "Returns the JavaScript runtime's memory figures (kvdb has no malloc of its own).",
      run(_ctx, _args, w) {
        const m = Deno.memoryUsage();
        w.verbatim(
          "txt",
          `V8 heap: total ${m.heapTotal} bytes, used ${m.heapUsed} bytes\n` +
            `external (buffers: the keyspace's arenas and large values): ${m.external} bytes\n` +
            `resident set: ${m.rss} bytes\n`,
        );
      },
    },
    {
      name: "PURGE",
      summary: "Nothing to purge (V8 returns memory on its own); replies OK.",
      run: (_ctx, _args, w) => w.status("OK"),
    },
  ],
};

/** SLOWLOG, LATENCY and MEMORY. */
export const INTROSPECTION_COMMANDS: ContainerHandler[] = [
  SLOWLOG_COMMAND,
  LATENCY_COMMAND,
  MEMORY_COMMAND,
];
