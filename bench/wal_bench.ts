/**
 * WAL benchmark: raw fdatasync rate, group-committed append throughput,
 * and replay speed. Runs in a temp directory (on the same disk as $TMPDIR).
 *
 *     deno run --allow-read --allow-write --allow-env bench/wal_bench.ts [--replay-records N]
 *
 * @example
 * ```ts
 * // deno run --allow-read --allow-write --allow-env bench/wal_bench.ts
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { createLogger } from "../src/log/logger.ts";
import { Engine } from "../src/storage/engine.ts";
import { Wal, WalOp, type WalOptions } from "../src/wal/mod.ts";

const KEY_POOL = 4096;
const keys = Array.from({ length: KEY_POOL }, (_, i) => `key:${String(i).padStart(12, "0")}`);
const VALUE = "v".repeat(56) + "01234567"; // 64 bytes
const quietLogger = createLogger({ level: "warn", output: "stderr" });

interface Row {
  name: string;
  ops: number;
  ms: number;
  note: string;
}

function perSecond(ops: number, ms: number): string {
  return Math.round(ops / (ms / 1000)).toLocaleString("en-US");
}

function options(dir: string, batchSize: number): WalOptions {
  return {
    dir,
    maxSegmentBytes: 10 * 1024 * 1024,
    batchSize,
    batchTimeoutMs: 10,
    logger: quietLogger,
  };
}

async function rawFsync(dir: string, ops: number, async: boolean): Promise<Row> {
  const file = await Deno.open(join(dir, `raw-${async}`), {
    write: true,
    create: true,
    append: true,
  });
  const bytes = new Uint8Array(64).fill(1);
  const started = performance.now();
  for (let i = 0; i < ops; i++) {
    if (async) {
      await file.write(bytes);
      await file.syncData();
    } else {
      file.writeSync(bytes);
      file.syncDataSync();
    }
  }
  const ms = performance.now() - started;
  file.close();
  return {
    name: `raw 64 B write + fdatasync (${async ? "async" : "sync"})`,
    ops,
    ms,
    note: "1 record per fsync",
  };
}

async function groupCommit(dir: string, batchSize: number, records: number): Promise<Row> {
  const wal = await Wal.open(options(dir, batchSize), () => {});
  const started = performance.now();
  for (let done = 0; done < records;) {
    for (let i = 0; i < batchSize; i++, done++) {
      wal.append(WalOp.Set, 0, keys[done % KEY_POOL], VALUE, 0);
    }
    await wal.commit();
  }
  const ms = performance.now() - started;
  const { fsyncs, maxFsyncMs } = wal.stats();
  await wal.close();
  return {
    name: `append ${batchSize} then commit (batchSize ${batchSize})`,
    ops: records,
    ms,
    note: `${fsyncs} fsyncs, max fsync ${maxFsyncMs.toFixed(2)} ms`,
  };
}

async function concurrentCommitters(dir: string, clients: number, perClient: number): Promise<Row> {
  const wal = await Wal.open(options(dir, 100), () => {});
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; i < perClient; i++) {
      wal.append(WalOp.Set, 0, keys[(c * perClient + i) % KEY_POOL], VALUE, 0);
      await wal.commit();
    }
  }));
  const ms = performance.now() - started;
  const { fsyncs, records } = wal.stats();
  await wal.close();
  return {
    name: `${clients} concurrent append+commit loops (batchSize 100)`,
    ops: records,
    ms,
    note: `${fsyncs} fsyncs, ${(records / fsyncs).toFixed(1)} records/fsync`,
  };
}

async function replay(dir: string, records: number, rounds: number): Promise<Row[]> {
  const wal = await Wal.open(options(dir, 1000), () => {});
  const writeStarted = performance.now();
  for (let i = 0; i < records; i++) {
    wal.append(WalOp.Set, 0, `key:${String(i).padStart(12, "0")}`, VALUE, 0);
    if (i % 10000 === 9999) await wal.commit();
  }
  await wal.close();
  const writeMs = performance.now() - writeStarted;
  const rows: Row[] = [{
    name: `write ${records} records (batchSize 1000)`,
    ops: records,
    ms: writeMs,
    note: "",
  }];

  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let count = 0;
    const started = performance.now();
    const reopened = await Wal.open(options(dir, 1000), () => count++);
    times.push(performance.now() - started);
    if (count !== records) throw new Error(`replayed ${count} of ${records}`);
    await reopened.close();
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const segments = [...Deno.readDirSync(dir)].length;
  rows.push({
    name: `replay ${records} records, no-op apply (median of ${rounds})`,
    ops: records,
    ms: median,
    note: `${segments} segments; all: ${times.map((t) => t.toFixed(0)).join("/")} ms`,
  });

  const engine = new Engine(16);
  const started = performance.now();
  const withEngine = await Wal.open(
    { ...options(dir, 1000), logger: createLogger({ level: "info", output: "stderr" }) },
    (r) => engine.set(r.key, r.value, r.expiresAtMs),
  );
  const engineMs = performance.now() - started;
  await withEngine.close();
  rows.push({
    name: `replay ${records} records into the keyspace`,
    ops: records,
    ms: engineMs,
    note: `${engine.size} keys, 16 partitions`,
  });
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    strict: true,
    options: { "replay-records": { type: "string", default: "1000000" } },
  });
  const replayRecords = Number(values["replay-records"]);
  if (!Number.isSafeInteger(replayRecords) || replayRecords < 1) {
    throw new Error("--replay-records must be a positive integer");
  }
  const root = await Deno.makeTempDir({ prefix: "kvdb-wal-bench-" });
  const sub = async (name: string) => {
    const dir = join(root, name);
    await Deno.mkdir(dir);
    return dir;
  };
  try {
    const rows: Row[] = [];
    rows.push(await rawFsync(await sub("raw-sync"), 2000, false));
    rows.push(await rawFsync(await sub("raw-async"), 2000, true));
    rows.push(await groupCommit(await sub("gc-1"), 1, 2000));
    rows.push(await groupCommit(await sub("gc-100"), 100, 200_000));
    rows.push(await groupCommit(await sub("gc-1000"), 1000, 1_000_000));
    rows.push(await concurrentCommitters(await sub("gc-50"), 50, 400));
    rows.push(...await replay(await sub("replay"), replayRecords, 3));

    console.log(`kvdb WAL benchmark (Deno ${Deno.version.deno}, ${root})`);
    console.log("| measurement | records | ms | records/s | notes |");
    console.log("|---|---:|---:|---:|---|");
    for (const r of rows) {
      console.log(
        `| ${r.name} | ${r.ops.toLocaleString("en-US")} | ${r.ms.toFixed(0)} | ${
          perSecond(r.ops, r.ms)
        } | ${r.note} |`,
      );
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) await main();
