/**
 * redis-py (Debian's python3-redis, 4.x), unchanged and with its defaults,
 * against kvdb (issue 14): the scenarios in tests/_redis_py_scenarios.py —
 * strings and bitmaps as applications use them, `pipeline()` transactions,
 * `transaction()` with WATCH retries (also from 8 threads at once), `db=`
 * options, SELECT/MOVE/SWAPDB/FLUSHDB, DUMP/RESTORE — each run against a
 * redis-server first (so its assertions are Redis's behaviour), then
 * against kvdb (tests/_real_clients.ts).
 */

import { checkKnownGaps, judgeScenario, type KnownGaps, ServerPair } from "./_real_clients.ts";
import { ensureDebianPackage } from "./_debian.ts";

/** Debian's interpreter: the one python3-redis installs into (a pyenv python3 may be first). */
const PYTHON = "/usr/bin/python3";
const SCENARIOS_PY = new URL("./_redis_py_scenarios.py", import.meta.url).pathname;
/** All scenarios on one server (the thread contention one is the slowest, ~2 s). */
const RUN_TIMEOUT_MS = 120_000;

/** The scenarios kvdb is known to fail, and how it fails today. */
const KNOWN_GAPS: KnownGaps = {};

const decoder = new TextDecoder();

async function hasRedisPy(): Promise<boolean> {
  try {
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", "import redis"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** python3-redis, installed from Debian when absent (as .ci/run does). */
function ensureRedisPy(): Promise<void> {
  return ensureDebianPackage("python3-redis", hasRedisPy);
}

/** Every scenario's name, as the script lists them. */
async function scenarioNames(): Promise<string[]> {
  const source = await Deno.readTextFile(SCENARIOS_PY);
  return [...source.matchAll(/^@scenario\ndef (\w+)\(/gm)].map((m) => m[1]);
}

/** Runs every scenario against `port`: name -> undefined (passed) or the failure. */
async function runScenarios(port: number): Promise<Map<string, string | undefined>> {
  const child = new Deno.Command(PYTHON, {
    args: [SCENARIOS_PY, String(port)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
  const out = await child.output().finally(() => clearTimeout(timer));
  const stdout = decoder.decode(out.stdout);
  const last = stdout.trim().split("\n").pop() ?? "";
  let parsed: Record<string, string | null>;
  try {
    parsed = JSON.parse(last);
  } catch {
    throw new Error(
      `redis-py scenarios (exit ${out.code}) printed no result:\n${stdout}\n` +
        decoder.decode(out.stderr),
    );
  }
  return new Map(Object.entries(parsed).map(([k, v]) => [k, v ?? undefined]));
}

Deno.test("redis-py: scenarios against redis-server, then kvdb", async (t) => {
  await ensureRedisPy();
  const names = await scenarioNames();
  checkKnownGaps(names, KNOWN_GAPS);
  const pair = await ServerPair.start();
  try {
    const [onRedis, onKvdb] = await Promise.all(
      pair.both.map((server) => runScenarios(server.port)),
    );
    for (const name of names) {
      await t.step(name, () => {
        if (!onRedis.has(name) || !onKvdb.has(name)) throw new Error(`${name} did not run`);
        judgeScenario(name, onRedis.get(name), onKvdb.get(name), KNOWN_GAPS[name]);
      });
    }
  } catch (e) {
    if (e instanceof Error) e.message += `\n${pair.logs()}`;
    throw e;
  } finally {
    await pair.stop();
  }
});
