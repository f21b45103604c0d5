/**
 * redis-sentinel over a master and two replicas (issue 15 point 4): three
 * real `redis-sentinel` processes (quorum 2) watch the group; writers find
 * the master through Sentinel and count a write as confirmed only when
 * `WAIT` reports enough replicas. Each scenario is one exported function
 * taking a group starter, run against redis-server groups (the reference:
 * the scenarios must hold there) and against kvdb groups, the latter
 * behind {@link KVDB_HA_READY} until kvdb has run-time REPLICAOF, WAIT and
 * Redis's INFO replication (reported as ignored, not passed, until then).
 * Each scenario prints what it measured (`sentinel timing ...`).
 *
 * ```ts
 * import { masterKillScenario } from "./sentinel_test.ts";
 * import { startKvdbGroup } from "./_sentinel_groups.ts";
 *
 * Deno.test("failover over kvdb", () => masterKillScenario(startKvdbGroup));
 * ```
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { delay, RespStatus } from "./_helpers.ts";
import { callOnce, MASTER_NAME, SentinelSet } from "./_sentinel.ts";
import {
  type GroupNode,
  type GroupStarter,
  info,
  replicaGap,
  type ServerGroup,
  startKvdbGroup,
  startRedisGroup,
  waitConverged,
  type WriteRecord,
  Writers,
} from "./_sentinel_groups.ts";

/**
 * Flip to true once kvdb has REPLICAOF/SLAVEOF at run time, WAIT, ROLE and
 * INFO replication in Redis's format, `replication.announce_address` and
 * `replication.replica_priority`: the kvdb variants then run.
 */
const KVDB_HA_READY = true;

/** The bound on promoting a replica after the master dies. */
const PROMOTION_LIMIT_MS = 15_000;
/** A killed node restarted, converted by Sentinel and caught up (Sentinel waits 8 s + an INFO period). */
const REJOIN_TIMEOUT_MS = 40_000;
const CONVERGE_TIMEOUT_MS = 30_000;
const WRITES_TIMEOUT_MS = 15_000;
/** Debian's interpreter, the one python3-redis is installed for. */
const PYTHON = "/usr/bin/python3";

/** Prints what a scenario measured: durations in ms, then counts. */
function printTimings(
  scenario: string,
  group: ServerGroup,
  durationsMs: Record<string, number>,
  counts: Record<string, number> = {},
): void {
  const parts = [
    ...Object.entries(durationsMs).map(([k, v]) => `${k}=${v}ms`),
    ...Object.entries(counts).map(([k, v]) => `${k}=${v}`),
  ];
  console.log(`sentinel timing [${group.kind}] ${scenario}: ${parts.join(" ")}`);
}

/**
 * Starts a group and three sentinels on it, waits for discovery, runs
 * `fn`, and tears everything down; a failure carries the servers' and
 * sentinels' last log lines.
 */
async function withSentinels(
  start: GroupStarter,
  fn: (group: ServerGroup, sentinels: SentinelSet, discoveryMs: number) => Promise<void>,
): Promise<void> {
  const group = await start();
  let sentinels: SentinelSet | undefined;
  try {
    const [master, ...replicas] = group.nodes.map((n) => n.port);
    const started = Date.now();
    sentinels = await SentinelSet.start(master);
    await sentinels.waitDiscovery(master, replicas);
    await fn(group, sentinels, Date.now() - started);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(`${message}\n${group.logs()}\n${sentinels?.logs() ?? ""}`, { cause: e });
  } finally {
    await sentinels?.stop();
    await group.stop();
  }
}

/** The port of the node Sentinel promoted: all sentinels agree on it and it reports role:master. */
function waitPromoted(sentinels: SentinelSet, oldMaster: number): Promise<number> {
  return sentinels.waitAgreedMaster(async (port) => {
    if (port === oldMaster) return false;
    const role = await info(port, "replication").then((r) => r.role).catch(() => "");
    return role === "master";
  }, PROMOTION_LIMIT_MS);
}

/** Polls until every node in `nodes` replicates from the sentinels' current master with its link up. */
async function waitRejoined(
  sentinels: SentinelSet,
  nodes: GroupNode[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gap = "";
  while (Date.now() < deadline) {
    const master = await sentinels.agreedMasterPort();
    gap = master === undefined ? "sentinels disagree" : "";
    for (const node of nodes) if (master !== undefined) gap ||= await replicaGap(node.port, master);
    if (gap === "") return;
    await delay(200);
  }
  throw new Error(`killed nodes did not rejoin in ${timeoutMs}ms: ${gap}`);
}

/**
 * The old master came back as a master (its config says so): a sentinel
 * must have sent it SLAVEOF — `+convert-to-slave` usually, or
 * `+slave-reconf-sent` when a second failover re-pointed it.
 */
function assertConverted(sentinels: SentinelSet, oldMaster: GroupNode): void {
  const told = new RegExp(
    `\\+(convert-to-slave|slave-reconf-sent|slave-reconf-sent-be|fix-slave-config) ` +
      `slave 127\\.0\\.0\\.1:${oldMaster.port} `,
  );
  assert.ok(
    sentinels.events("").some((l) => told.test(l)),
    `no sentinel sent SLAVEOF to ${oldMaster.port}; their failover events:\n` +
      failoverEvents(sentinels),
  );
}

/** Sentinel log events that change or judge roles. */
const FAILOVER_EVENT =
  /[+-](sdown|odown|tilt|switch-master|convert-to-slave|fix-slave-config|slave-reconf|promoted|selected-slave|failover|config-update)/;

/** How many masters the sentinels switched to (1 per failover; 2 = a second, spurious one). */
function failovers(sentinels: SentinelSet): number {
  const targets = sentinels.events("+switch-master").map((l) => l.split(" ").slice(-2).join(":"));
  return new Set(targets).size;
}

/** The sentinels' role-changing log lines, for a failure message. */
function failoverEvents(sentinels: SentinelSet): string {
  return sentinels.events("").filter((l) => FAILOVER_EVENT.test(l)).join("\n");
}

/** Fails unless every sentinel still names `port` as the master (no failover has happened yet). */
async function assertMasterUnchanged(sentinels: SentinelSet, port: number): Promise<void> {
  const agreed = await sentinels.agreedMasterPort();
  assert.equal(
    agreed,
    port,
    `the sentinels moved the master before the test did anything:\n` +
      failoverEvents(sentinels),
  );
}

/**
 * Stops the writers, waits until the group has settled (one master agreed
 * by all sentinels, the two others its replicas, identical data), and
 * asserts that every confirmed write is there with its value. Returns the
 * writes WAIT confirmed with fewer replicas than required that are missing
 * (a number to report, not a failure).
 */
async function checkNoConfirmedWriteLost(
  group: ServerGroup,
  sentinels: SentinelSet,
  writers: Writers,
): Promise<number> {
  await writers.stop();
  const { data } = await waitConverged(
    group,
    () => sentinels.agreedMasterPort(),
    CONVERGE_TIMEOUT_MS,
  );
  const confirmed = writers.confirmed();
  assert.ok(confirmed.length > 0, "no write was confirmed at all");
  const lost = confirmed.filter((r) => data.get(r.key) !== r.value);
  assert.deepEqual(
    lost.slice(0, 10).map((r) => `${r.key}=${r.value} (WAIT ${r.replicas}) -> ${data.get(r.key)}`),
    [],
    `${lost.length} of ${confirmed.length} confirmed writes missing after the failover`,
  );
  // Each key is written once: a key present with another value is corruption.
  const changed = writers.records.filter((r) => data.has(r.key) && data.get(r.key) !== r.value);
  assert.deepEqual(
    changed.map((r) => r.key).slice(0, 10),
    [],
    "keys holding a value never written",
  );
  return writers.records.filter((r) =>
    r.replicas > 0 && r.replicas < writers.confirmReplicas && !data.has(r.key)
  ).length;
}

/**
 * Scenario 1: the sentinels find the master, both replicas (at their
 * listening ports, healthy, link up) and each other (through the
 * `__sentinel__:hello` channel: their configs name no other sentinel).
 */
export async function discoveryScenario(start: GroupStarter): Promise<void> {
  await withSentinels(start, async (group, sentinels, discoveryMs) => {
    const [master, ...replicas] = group.nodes.map((n) => n.port);
    for (const port of sentinels.ports) {
      const record = await sentinels.master(port);
      assert.equal(record.flags, "master", `sentinel ${port}: master flags`);
      assert.equal(record.port, String(master));
      assert.equal(record["num-slaves"], "2");
      assert.equal(record["num-other-sentinels"], "2");
      assert.match(record.runid, /^[0-9a-f]{40}$/, "the master's run_id as Sentinel read it");
      const found = await sentinels.replicas(port);
      assert.deepEqual(found.map((r) => Number(r.port)).sort(), [...replicas].sort());
      for (const r of found) {
        assert.equal(r.ip, "127.0.0.1");
        assert.equal(r.flags, "slave", `sentinel ${port}: replica ${r.port} flags`);
        assert.equal(r["role-reported"], "slave");
        assert.equal(r["master-link-status"], "ok");
        assert.equal(r["master-host"], "127.0.0.1");
        assert.equal(r["master-port"], String(master));
        assert.equal(r["slave-priority"], "100");
        assert.match(r.runid, /^[0-9a-f]{40}$/);
      }
      const others = await sentinels.sentinels(port);
      assert.deepEqual(
        others.map((s) => Number(s.port)).sort(),
        sentinels.ports.filter((p) => p !== port).sort(),
      );
      for (const s of others) assert.equal(s.flags, "sentinel");
      const quorum = await callOnce(port, ["SENTINEL", "ckquorum", MASTER_NAME]);
      assert.ok(quorum instanceof RespStatus, `SENTINEL CKQUORUM: ${JSON.stringify(quorum)}`);
      assert.match(quorum.text, /^OK 3 usable Sentinels/);
    }
    // Learned from hellos: each sentinel logged the two others it met.
    assert.equal((await sentinels.waitEvents("+sentinel sentinel", 6, 2000)).length, 6);
    printTimings("discovery", group, { discovery: discoveryMs });
  });
}

/** How a kill-the-master scenario goes. */
interface KillCase {
  name: string;
  /** Kill during unpaced pipelined writes (20 SETs per WAIT) instead of paced single ones. */
  burst: boolean;
  /** Kill a replica together with the master (only one is left to promote). */
  killReplica: boolean;
  /** WAIT's numreplicas; a write is confirmed when WAIT reports at least this. */
  confirmReplicas: number;
}

/**
 * SIGKILL the master (and maybe a replica) under concurrent confirmed
 * writes: a replica is promoted within 15 s, the writers find it through
 * Sentinel and resume, the killed nodes restarted on their ports and
 * directories are turned into its replicas, and at the end no confirmed
 * write is missing and all three hold identical data.
 */
async function killScenario(start: GroupStarter, c: KillCase): Promise<void> {
  await withSentinels(start, async (group, sentinels) => {
    const [master, replicaA, replicaB] = group.nodes;
    const writers = Writers.start({
      confirmReplicas: c.confirmReplicas,
      resolveMaster: () => sentinels.anyMasterPort(),
    });
    try {
      const confirmed = (r: WriteRecord) => r.replicas >= c.confirmReplicas;
      await writers.waitFor(confirmed, 50, WRITES_TIMEOUT_MS);
      if (c.burst) {
        const burstStart = Date.now();
        Object.assign(writers.pace, { batch: 20, pauseMs: 0 });
        await writers.waitFor((r) => r.at > burstStart, 100, WRITES_TIMEOUT_MS);
      }
      const victims = c.killReplica ? [master, replicaA] : [master];
      await assertMasterUnchanged(sentinels, master.port);
      const killed = Date.now();
      await Promise.all(victims.map((n) => n.kill()));
      const promoted = await waitPromoted(sentinels, master.port);
      const promotionMs = Date.now() - killed;
      assert.ok(promotionMs < PROMOTION_LIMIT_MS, `promotion took ${promotionMs}ms`);
      if (c.killReplica) assert.equal(promoted, replicaB.port, "the only live replica");
      Object.assign(writers.pace, { batch: 1, pauseMs: 5 });
      // With a replica dead too, WAIT 2 cannot be met until it returns: count OK'd writes.
      const resumed = await writers.waitFor(
        (r) => r.port === promoted && r.at > killed && (c.killReplica || confirmed(r)),
        1,
        WRITES_TIMEOUT_MS,
      );
      const restarted = Date.now();
      for (const node of victims.toReversed()) await node.restart();
      await waitRejoined(sentinels, victims, REJOIN_TIMEOUT_MS);
      const rejoined = Date.now();
      assertConverted(sentinels, master);
      // Writes confirmed with every node back, before the final comparison.
      await writers.waitFor((r) => r.at > rejoined && confirmed(r), 20, WRITES_TIMEOUT_MS);
      const lostWeaker = await checkNoConfirmedWriteLost(group, sentinels, writers);
      printTimings(c.name, group, {
        promotion: promotionMs,
        writesResumed: resumed.at - killed,
        rejoinAfterRestart: rejoined - restarted,
      }, {
        writes: writers.records.length,
        confirmed: writers.confirmed().length,
        lostWithFewerReplicas: lostWeaker,
        failovers: failovers(sentinels),
      });
    } finally {
      await writers.stop();
    }
  });
}

/** Scenario 2: SIGKILL of the master under paced writers confirmed by `WAIT 1`. */
export function masterKillScenario(start: GroupStarter): Promise<void> {
  return killScenario(start, {
    name: "master SIGKILL",
    burst: false,
    killReplica: false,
    confirmReplicas: 1,
  });
}

/** Scenario 3a: SIGKILL of the master during a burst of pipelined writes (`WAIT 1`). */
export function burstKillScenario(start: GroupStarter): Promise<void> {
  return killScenario(start, {
    name: "master SIGKILL in a burst",
    burst: true,
    killReplica: false,
    confirmReplicas: 1,
  });
}

/**
 * Scenario 3b: SIGKILL of the master and a replica at once. Confirmed
 * means `WAIT 2` (both replicas): with two of three nodes gone, a write
 * only one replica acknowledged may exist only on the dead replica, and
 * the survivor's history wins (Redis discards the dead replica's tail when
 * it rejoins, and so must kvdb). Writes WAIT counted with one replica that
 * went missing are printed (`lostWithFewerReplicas`), not asserted.
 */
export function masterAndReplicaKillScenario(start: GroupStarter): Promise<void> {
  return killScenario(start, {
    name: "master and replica SIGKILL",
    burst: false,
    killReplica: true,
    confirmReplicas: 2,
  });
}

/**
 * Scenario 4: `SENTINEL FAILOVER` on demand under writers: a replica
 * becomes master, the old master (alive) is turned into its replica, and
 * no confirmed write is lost. Confirmed means `WAIT 2`: the old master
 * accepts writes until Sentinel converts it (8 s or more), and the
 * replica not yet re-pointed can acknowledge them there; those writes are
 * discarded when it follows the new master (Redis does the same), whereas
 * a write both replicas hold is on the promoted one.
 */
export async function manualFailoverScenario(start: GroupStarter): Promise<void> {
  await withSentinels(start, async (group, sentinels) => {
    const [master] = group.nodes;
    const writers = Writers.start({
      confirmReplicas: 2,
      resolveMaster: () => sentinels.anyMasterPort(),
    });
    try {
      await writers.waitFor((r) => r.replicas >= 2, 50, WRITES_TIMEOUT_MS);
      await assertMasterUnchanged(sentinels, master.port);
      const asked = Date.now();
      await sentinels.failover();
      const promoted = await waitPromoted(sentinels, master.port);
      const switchMs = Date.now() - asked;
      const resumed = await writers.waitFor(
        (r) => r.port === promoted && r.at > asked,
        1,
        WRITES_TIMEOUT_MS,
      );
      await waitRejoined(sentinels, [master], REJOIN_TIMEOUT_MS);
      const converted = Date.now();
      assertConverted(sentinels, master);
      await writers.waitFor((r) => r.at > converted && r.replicas >= 2, 20, WRITES_TIMEOUT_MS);
      await checkNoConfirmedWriteLost(group, sentinels, writers);
      assert.equal(await sentinels.agreedMasterPort(), promoted, "the roles switched once");
      printTimings("SENTINEL FAILOVER", group, {
        switch: switchMs,
        writesResumed: resumed.at - asked,
        oldMasterConverted: converted - asked,
      }, {
        writes: writers.records.length,
        confirmed: writers.confirmed().length,
        failovers: failovers(sentinels),
      });
    } finally {
      await writers.stop();
    }
  });
}

/**
 * redis-py's `Sentinel.master_for` writing `py:last` = a counter in a
 * loop; a connection error is retried after 50 ms (the library itself
 * finds the master again). Stops when the file argv[3] exists, and prints
 * how it went and the master Sentinel names then.
 */
const REDIS_PY_WRITER = `
import json, os, sys, time
from redis.sentinel import Sentinel
from redis.exceptions import ConnectionError, TimeoutError, ReadOnlyError
ports, name, stop_file = sys.argv[1], sys.argv[2], sys.argv[3]
sentinel = Sentinel([("127.0.0.1", int(p)) for p in ports.split(",")], socket_timeout=1)
master = sentinel.master_for(name, socket_timeout=1)
n = errors = 0
deadline = time.time() + 90
while not os.path.exists(stop_file) and time.time() < deadline:
    try:
        master.set("py:last", n)
        n += 1
    except (ConnectionError, TimeoutError, ReadOnlyError):
        errors += 1
        time.sleep(0.05)
    time.sleep(0.01)
print(json.dumps({"writes": n, "errors": errors, "master": sentinel.discover_master(name)[1]}))
`;

/** The integer under `key` on `port` (-1 when absent or unreachable). */
async function counter(port: number, key: string): Promise<number> {
  const value = await callOnce(port, ["GET", key]).catch(() => null);
  return typeof value === "string" ? Number(value) : -1;
}

/** Polls until the counter under `key` on `port` has grown by `by` from its value now. */
async function waitCounterGrows(port: number, key: string, by: number): Promise<void> {
  const from = await counter(port, key);
  const deadline = Date.now() + WRITES_TIMEOUT_MS;
  while (await counter(port, key) < from + by) {
    if (Date.now() > deadline) throw new Error(`${key} on ${port} stuck near ${from}`);
    await delay(50);
  }
}

/**
 * Scenario 5: client libraries that find the master through Sentinel —
 * redis-py's `Sentinel` and ioredis's `sentinels` option — write to it,
 * and after the master is SIGKILLed write to the promoted replica by
 * themselves (the application only retries a failed command).
 */
export async function clientLibrariesScenario(start: GroupStarter): Promise<void> {
  await withSentinels(start, async (group, sentinels) => {
    const [master] = group.nodes;
    const dir = await Deno.makeTempDir({ prefix: "kvdb-sentinel-clients-" });
    const python = new Deno.Command(PYTHON, {
      args: ["-c", REDIS_PY_WRITER, sentinels.ports.join(","), MASTER_NAME, `${dir}/stop`],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const io = new Redis({
      sentinels: sentinels.ports.map((port) => ({ host: "127.0.0.1", port })),
      name: MASTER_NAME,
      connectTimeout: 1000,
      lazyConnect: true,
    });
    io.on("error", () => {}); // Reconnection is ioredis's job; commands report failures.
    let ioStopped = false;
    let ioErrors = 0;
    const ioLoop = (async () => {
      await io.connect();
      for (let n = 0; !ioStopped; n++) {
        await io.set("io:last", n).catch(() => ioErrors++);
        await delay(10);
      }
    })();
    try {
      await waitCounterGrows(master.port, "py:last", 5);
      await waitCounterGrows(master.port, "io:last", 5);
      const killed = Date.now();
      await master.kill();
      const promoted = await waitPromoted(sentinels, master.port);
      const promotionMs = Date.now() - killed;
      // The counters grow on the promoted replica only if the clients write there.
      await waitCounterGrows(promoted, "py:last", 5);
      const redisPyMs = Date.now() - killed;
      await waitCounterGrows(promoted, "io:last", 5);
      const ioredisMs = Date.now() - killed;
      await Deno.writeTextFile(`${dir}/stop`, "");
      const out = await python.output();
      const stdout = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, `redis-py writer failed:\n${new TextDecoder().decode(out.stderr)}`);
      const result = JSON.parse(stdout.trim().split("\n").pop()!);
      assert.equal(result.master, promoted, "redis-py's Sentinel names the promoted replica");
      ioStopped = true;
      await ioLoop;
      assert.equal(io.status, "ready");
      const ioRole = await io.call("INFO", "replication");
      assert.match(String(ioRole), /role:master/);
      printTimings("client libraries", group, {
        promotion: promotionMs,
        redisPyWritesOnNewMaster: redisPyMs,
        ioredisWritesOnNewMaster: ioredisMs,
      });
      console.log(
        `sentinel clients [${group.kind}]: redis-py ${result.writes} writes, ` +
          `${result.errors} retried errors; ioredis ${ioErrors} failed commands`,
      );
    } finally {
      ioStopped = true;
      await ioLoop.catch(() => {});
      io.disconnect();
      try {
        python.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await python.status;
      await Deno.remove(dir, { recursive: true });
    }
  });
}

const VARIANTS: { server: string; start: GroupStarter; ignore: boolean }[] = [
  { server: "redis-server", start: startRedisGroup, ignore: false },
  { server: "kvdb", start: startKvdbGroup, ignore: !KVDB_HA_READY },
];

for (const { server, start, ignore } of VARIANTS) {
  Deno.test({
    name: `sentinel over ${server}: discovers the master, both replicas at their ` +
      `listening ports (healthy, link up) and the two other sentinels via hello`,
    ignore,
    fn: () => discoveryScenario(start),
  });
  Deno.test({
    name: `sentinel over ${server}: master SIGKILLed under WAIT 1 writers -> replica ` +
      `promoted within 15 s, writes resume, old master rejoins, no confirmed write lost, ` +
      `identical data`,
    ignore,
    fn: () => masterKillScenario(start),
  });
  Deno.test({
    name: `sentinel over ${server}: master SIGKILLed during a burst of pipelined writes -> ` +
      `same guarantees`,
    ignore,
    fn: () => burstKillScenario(start),
  });
  Deno.test({
    name: `sentinel over ${server}: master and a replica SIGKILLed together -> the other ` +
      `replica promoted, both killed nodes rejoin, no WAIT 2 write lost, identical data`,
    ignore,
    fn: () => masterAndReplicaKillScenario(start),
  });
  Deno.test({
    name: `sentinel over ${server}: SENTINEL FAILOVER switches roles, the old master ` +
      `becomes a replica, no WAIT 2 write lost`,
    ignore,
    fn: () => manualFailoverScenario(start),
  });
  Deno.test({
    name: `sentinel over ${server}: redis-py Sentinel and ioredis sentinels find the ` +
      `master and write to the promoted replica by themselves after a SIGKILL`,
    ignore,
    fn: () => clientLibrariesScenario(start),
  });
}
