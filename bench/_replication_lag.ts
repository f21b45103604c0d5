/**
 * Replication lag: a master and a replica, writes at a steady rate on the
 * master; for a sample of them, the time from the master's OK to the value
 * being readable on the replica.
 *
 * @module
 */

import { TcpClient } from "../tests/_helpers.ts";
import { freePort, median, startKvdb } from "./_servers.ts";

/** Lag percentiles in ms, and the write rate reached. */
export interface LagResult {
  writesPerSecond: number;
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/**
 * Runs `seconds` of writes at `ratePerSecond` and measures the lag of one
 * write in `sampleEvery`.
 */
export async function replicationLag(
  dir: string,
  ratePerSecond = 10_000,
  seconds = 5,
  sampleEvery = 50,
): Promise<LagResult> {
  const replicationPort = freePort();
  const master = await startKvdb(`${dir}`, {
    wal: { enabled: true, data_directory: `${dir}/lag-master` },
    replication: {
      enabled: true,
      replica_type: "master",
      master_address: `127.0.0.1:${replicationPort}`,
    },
  });
  const slave = await startKvdb(`${dir}`, {
    wal: { enabled: true, data_directory: `${dir}/lag-slave` },
    replication: {
      enabled: true,
      replica_type: "slave",
      master_address: `127.0.0.1:${replicationPort}`,
    },
  });
  const lags: number[] = [];
  let written = 0;
  try {
    const writers = await Promise.all(
      Array.from({ length: 4 }, () => TcpClient.connect(master.port)),
    );
    const reader = await TcpClient.connect(slave.port);
    const tickMs = 10;
    const perTick = Math.round((ratePerSecond * tickMs) / 1000);
    const started = performance.now();
    const probes: Promise<void>[] = [];
    let tick = 0;
    while (performance.now() - started < seconds * 1000) {
      const due = started + tick * tickMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      tick++;
      const writer = writers[tick % writers.length];
      let batch = "";
      let probeKey: string | undefined;
      for (let i = 0; i < perTick; i++) {
        const n = written++;
        batch += `SET lag:${n} ${n}\n`;
        if (n % sampleEvery === 0) probeKey = `lag:${n}`;
      }
      await writer.send(batch);
      await writer.readLines(perTick);
      const ackedMs = performance.now();
      if (probeKey !== undefined) {
        const key = probeKey;
        // One probe at a time on the replica connection keeps replies in order.
        probes.push(
          (probes.at(-1) ?? Promise.resolve()).then(async () => {
            while ((await reader.command(`GET ${key}`)).startsWith("ERROR")) {
              if (performance.now() - ackedMs > 10_000) throw new Error(`${key} never replicated`);
            }
            lags.push(performance.now() - ackedMs);
          }),
        );
      }
    }
    const elapsedS = (performance.now() - started) / 1000;
    await Promise.all(probes);
    for (const w of writers) w.close();
    reader.close();
    lags.sort((a, b) => a - b);
    return {
      writesPerSecond: Math.round(written / elapsedS),
      samples: lags.length,
      p50Ms: median(lags),
      p99Ms: percentile(lags, 0.99),
      maxMs: lags[lags.length - 1],
    };
  } finally {
    await slave.stop();
    await master.stop();
  }
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-lag-" });
  console.log(await replicationLag(dir));
  await Deno.remove(dir, { recursive: true });
}
