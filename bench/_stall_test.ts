import assert from "node:assert/strict";
import { startRedis } from "./_servers.ts";
import { stopCpuReader } from "./_server_cpu.ts";
import { parseLatencyReport, stallRows } from "./_stall.ts";

Deno.test("parseLatencyReport: the p99.9 is the first percentile step at or above 99.9%", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-stall-" });
  const redis = await startRedis(dir);
  try {
    const out = await new Deno.Command("redis-benchmark", {
      args: ["-p", String(redis.port), "-t", "get", "-n", "20000", "-c", "10", "--precision", "3"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const report = parseLatencyReport(text);
    const step = text.split("\n").find((l) => /^99\.9\d*% <=/.test(l))!;
    assert.ok(step !== undefined, text);
    assert.equal(report.p999Step, Number(step.split("%")[0]));
    assert.equal(report.p999Ms, Number(/<= ([\d.]+) milliseconds/.exec(step)![1]));
    assert.ok(report.p50Ms <= report.p999Ms && report.p999Ms <= report.maxMs);
    assert.ok(report.rps > 0);
    assert.throws(() => parseLatencyReport('"GET","1000.00"'), /not a redis-benchmark/);
  } finally {
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stallRows: each case ran against both servers, snapshots and the UNLINK under the load", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-stall-" });
  try {
    const { rows, table } = await stallRows(dir, { rounds: 1, keys: 10_000, requests: 10_000 });
    assert.deepEqual(rows.map((r) => r.case), ["alone", "snapshot", "unlink"]);
    for (const row of rows) {
      for (const load of [row.kvdb, row.redis]) {
        assert.ok(load.p999Ms > 0 && load.p999Ms <= load.maxMs, JSON.stringify(load));
        assert.ok(load.cpu.ticks >= 0);
      }
    }
    const [, snapshot, unlink] = rows;
    assert.ok(snapshot.kvdb.event >= 1 && snapshot.redis.event >= 1, JSON.stringify(snapshot));
    // The UNLINK's reply time, measured only when it went out under the load.
    assert.ok(Number.isFinite(unlink.kvdb.event) && Number.isFinite(unlink.redis.event));
    assert.match(table, /kvdb ≤ 2× alone: (met|missed)/);
  } finally {
    await stopCpuReader();
    await Deno.remove(dir, { recursive: true });
  }
});
