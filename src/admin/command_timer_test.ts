import assert from "node:assert/strict";
import { CommandTimer } from "./command_timer.ts";
import { LatencyMonitor } from "./latency_monitor.ts";
import { SlowLog } from "./slowlog.ts";
import { COMMANDS } from "../executor/commands.ts";
import { newSession } from "../executor/command_spec.ts";

function block(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function timer(slowlogUsec: number, latencyMs = 0) {
  const slowlog = new SlowLog(128);
  const latency = new LatencyMonitor();
  const t = new CommandTimer({ slowlog, latency, clientAddress: () => "127.0.0.1:1" });
  t.configure({ slowlogUsec, latencyMs, tracking: true });
  return { t, slowlog, latency };
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("a stalled stretch of light commands: each is logged with the stretch's time", async () => {
  const { t, slowlog, latency } = timer(20_000, 20);
  const get = COMMANDS.get("GET")!;
  const session = newSession();
  // Light commands are not timed alone (unless sampled: a sampled one is
  // timed exactly and caught there); the stall falls among them.
  let alone = 0;
  for (let i = 0; i < 5; i++) {
    if (t.before(get, ["GET", `k${i}`], session)) {
      alone++;
      t.afterAlone(get, ["GET", `k${i}`], session);
    }
    if (i === 2) block(30);
  }
  await tick();
  assert.ok(slowlog.length >= 1, "the stall is in the slow log");
  for (const e of slowlog.latest(-1)) {
    assert.equal(e.args[0], "get");
    assert.ok(e.durationUsec >= 20_000, `${e.durationUsec}`);
  }
  assert.equal(latency.latest()[0].event, "fast-command");
  assert.ok(alone <= 5);
});

Deno.test("a heavy command is timed alone, exactly; a quick stretch logs nothing", async () => {
  const { t, slowlog } = timer(20_000);
  const keys = COMMANDS.get("KEYS")!;
  const get = COMMANDS.get("GET")!;
  const session = newSession();
  assert.equal(t.before(get, ["GET", "a"], session), false);
  assert.equal(t.before(keys, ["KEYS", "*"], session), true);
  block(25);
  t.afterAlone(keys, ["KEYS", "*"], session);
  t.before(get, ["GET", "b"], session);
  await tick();
  const entries = slowlog.latest(-1);
  assert.equal(entries.length, 1, JSON.stringify(entries));
  assert.deepEqual(entries[0].args, ["KEYS", "*"]);
  assert.ok(entries[0].durationUsec >= 25_000 && entries[0].durationUsec < 60_000);
  assert.ok(keys.stats.timed >= 1);
});

Deno.test("below 1 ms thresholds every command is timed alone", () => {
  const { t } = timer(0);
  const get = COMMANDS.get("GET")!;
  assert.equal(t.before(get, ["GET", "a"], newSession()), true);
});
