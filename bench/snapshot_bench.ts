/**
 * Snapshot benchmark: the worst event-loop pause while a snapshot of 1M keys
 * (16-byte keys, 64-byte values) is taken from a live store, measured by a
 * 1 ms ticker; plus the snapshot's time and size.
 *
 *     deno run --allow-read --allow-write --allow-env bench/snapshot_bench.ts [--keys N]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createLogger } from "../src/log/logger.ts";
import { takeSnapshot } from "../src/snapshot/take_snapshot.ts";
import { Engine } from "../src/storage/engine.ts";
import { Store } from "../src/storage/store.ts";
import { Wal } from "../src/wal/wal.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { keys: { type: "string", default: "1000000" } },
});
const keys = Number(values.keys);
const log = createLogger({ level: "warn", output: "stderr" });
const dir = await Deno.makeTempDir({ prefix: "kvdb-snapshot-bench-" });
try {
  const wal = await Wal.open(
    { dir, maxSegmentBytes: 64 << 20, batchSize: 1000, batchTimeoutMs: 10, logger: log },
    () => {},
  );
  const store = new Store(new Engine(16), wal, { expireKeys: true });
  const value = "v".repeat(64);
  for (let i = 0; i < keys; i++) {
    store.set(`key:${String(i).padStart(12, "0")}`, value);
    if (i % 10_000 === 9_999) await store.commit();
  }
  await store.commit();

  let last = performance.now();
  let worstPauseMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    worstPauseMs = Math.max(worstPauseMs, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 50));
  worstPauseMs = 0;
  last = performance.now();
  const result = await takeSnapshot(store, { dir, replid: "", log });
  clearInterval(ticker);
  await wal.close();
  console.log("| snapshot of | ms | MiB | longest slice, ms | worst event-loop pause, ms |");
  console.log("|---|---:|---:|---:|---:|");
  console.log(
    `| ${keys.toLocaleString("en-US")} keys | ${Math.round(result.durationMs)} | ${
      (result.bytes / 2 ** 20).toFixed(1)
    } | ${result.longestSliceMs.toFixed(1)} | ${worstPauseMs.toFixed(1)} |`,
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}
