import assert from "node:assert/strict";
import {
  cpuTicks,
  measuredRun,
  medianCpu,
  parseStat,
  perRequest,
  stopCpuReader,
} from "./_server_cpu.ts";

Deno.test("parseStat: utime and stime are counted after the command name, which may hold ') '", () => {
  // Fields 3.. after "(comm)": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
  const line = "4242 (a) b (c)) S 1 2 3 4 5 6 7 8 9 10 1234 56 0 0 20 0 3 0";
  assert.deepEqual(parseStat(line), { user: 1234, kernel: 56 });
  assert.throws(() => parseStat("not a stat line"), /not a \/proc/);
});

Deno.test("perRequest and medianCpu: ticks to µs per request; the median run's own split", () => {
  assert.deepEqual(perRequest({ user: 40, kernel: 60 }, 100_000), {
    totalUs: 10,
    userUs: 4,
    kernelUs: 6,
    ticks: 100,
  });
  const a = { totalUs: 10, userUs: 4, kernelUs: 6, ticks: 100 };
  const b = { totalUs: 12, userUs: 7, kernelUs: 5, ticks: 120 };
  const c = { totalUs: 30, userUs: 1, kernelUs: 29, ticks: 300 };
  // b's split, not the median user (4) and the median kernel (6), which would not add up to 12.
  assert.deepEqual(medianCpu([c, a, b]), b);
  assert.deepEqual(medianCpu([a, b]), { totalUs: 11, userUs: 5.5, kernelUs: 5.5, ticks: 110 });
});

Deno.test("measuredRun: a busy process's CPU lands in the line it was used before", async () => {
  // A process that burns user CPU, standing for a server under load.
  const busy = new Deno.Command("sh", { args: ["-c", "while :; do :; done"], stdout: "null" })
    .spawn();
  try {
    const run = await measuredRun(busy.pid, "sh", [
      "-c",
      "sleep 0.5; echo one; sleep 0.5; echo two",
    ]);
    assert.equal(run.success, true);
    assert.deepEqual(run.lines.map((l) => l.text), ["one", "two"]);
    for (const line of run.lines) {
      // 0.5 s of wall time: 20 ms of CPU or more even on a crowded 2-core machine (a line
      // sampled anywhere else would get none), and a shell loop's time is user time.
      assert.ok(line.cpu.user + line.cpu.kernel >= 2, JSON.stringify(line));
      assert.ok(line.cpu.user >= line.cpu.kernel, JSON.stringify(line));
    }
    const inLines = run.lines.reduce((sum, l) => sum + l.cpu.user + l.cpu.kernel, 0);
    assert.ok(run.total.user + run.total.kernel >= inLines);
    // An idle process uses no CPU over the same kind of run.
    const idle = await measuredRun(Deno.pid, "sh", ["-c", "sleep 0.3; echo done"]);
    assert.ok(idle.total.user + idle.total.kernel <= 5, JSON.stringify(idle.total));
  } finally {
    busy.kill("SIGKILL");
    await busy.status;
    await stopCpuReader();
  }
});

Deno.test("cpuTicks: a process that is gone is an error, and the reader goes on after it", async () => {
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  try {
    await assert.rejects(cpuTicks(gone.pid), /cannot read \/proc\/\d+\/stat/);
    const own = await cpuTicks(Deno.pid);
    assert.ok(own.user >= 0 && own.kernel >= 0);
  } finally {
    await stopCpuReader();
  }
});
