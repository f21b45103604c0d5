/**
 * Master–slave replication through real servers (issue 4): masters and
 * slaves run as child processes on free loopback ports; data is compared
 * as full key/value dumps (`KEYS *`, then `GET` of every key).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { splitTextArguments } from "../src/protocol/text_decoder.ts";
import { renderTextArgument, renderTextValue } from "../src/protocol/text_quote.ts";
import {
  delay,
  freePort,
  runKvdb,
  ServerProcess,
  setUntilGone,
  startWithConfigFile,
  TcpClient,
  waitPortFree,
} from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SYNC_INTERVAL = "200ms";
const CONVERGE_TIMEOUT_MS = 15_000;
const READONLY_TEXT = "ERROR: write operations not allowed on slave replica";
const READONLY_RESP = "-READONLY You can't write against a read only replica.\r";

const decoder = new TextDecoder();

type Config = Record<string, Record<string, unknown>>;

function masterConfig(
  dir: string,
  replPort: number,
  wal: Record<string, unknown> = {},
  replication: Record<string, unknown> = {},
): Config {
  return {
    wal: { enabled: true, data_directory: join(dir, "wal"), ...wal },
    replication: {
      enabled: true,
      replica_type: "master",
      master_address: `127.0.0.1:${replPort}`,
      sync_interval: SYNC_INTERVAL,
      ...replication,
    },
  };
}

function slaveConfig(dir: string, masterPort: number): Config {
  return {
    wal: { enabled: true, data_directory: join(dir, "wal") },
    replication: {
      enabled: true,
      replica_type: "slave",
      master_address: `127.0.0.1:${masterPort}`,
      sync_interval: SYNC_INTERVAL,
    },
  };
}

/** Keys and values with some that need quoting (blanks, quotes, binary). */
function entries(prefix: string, count: number, from = 0): [string, string][] {
  const out: [string, string][] = [];
  for (let i = from; i < from + count; i++) {
    const key = i % 101 === 7 ? `${prefix} sp ${i}` : `${prefix}${i}`;
    const value = i % 97 === 3 ? `b "q" \x00\xff\n${i}` : `v${i}-${"x".repeat(i % 30)}`;
    out.push([key, value]);
  }
  return out;
}

/** Pipelined SETs (in chunks); every reply must be OK. */
async function setMany(port: number, pairs: [string, string][]): Promise<void> {
  const client = await TcpClient.connect(port);
  try {
    for (let i = 0; i < pairs.length; i += 1000) {
      const chunk = pairs.slice(i, i + 1000);
      await client.send(
        chunk.map(([k, v]) => `SET ${renderTextArgument(k)} ${renderTextArgument(v)}\n`).join(""),
      );
      const replies = await client.readLines(chunk.length);
      replies.forEach((r, j) => assert.equal(r, "OK", `SET ${JSON.stringify(chunk[j][0])}`));
    }
  } finally {
    client.close();
  }
}

/** Every key with its GET reply, as the server at `port` holds them. */
async function dump(port: number): Promise<Map<string, string>> {
  const client = await TcpClient.connect(port);
  try {
    await client.send("KEYS *\n");
    const line = await client.readLineBytes();
    if (line === null) throw new Error(`port ${port}: connection closed on KEYS`);
    const text = decoder.decode(line);
    const map = new Map<string, string>();
    if (text === "(empty array)") return map;
    if (text.startsWith("ERROR")) throw new Error(`port ${port}: KEYS * -> ${text}`);
    const keys = splitTextArguments(line, 0, line.length);
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      await client.send(chunk.map((k) => `GET ${renderTextArgument(k)}\n`).join(""));
      const replies = await client.readLines(chunk.length);
      chunk.forEach((k, j) => map.set(k, replies[j]));
    }
    return map;
  } finally {
    client.close();
  }
}

/** A short description of how two dumps differ ("" when equal). */
function diff(a: Map<string, string>, b: Map<string, string>): string {
  const out: string[] = [];
  for (const [k, v] of a) {
    if (!b.has(k)) out.push(`${JSON.stringify(k)} missing on the second`);
    else if (b.get(k) !== v) {
      out.push(`${JSON.stringify(k)}: ${JSON.stringify(v)} vs ${JSON.stringify(b.get(k))}`);
    }
  }
  for (const k of b.keys()) if (!a.has(k)) out.push(`${JSON.stringify(k)} only on the second`);
  if (out.length === 0) return "";
  return `${a.size} vs ${b.size} keys, ${out.length} differences, e.g.\n  ` +
    out.slice(0, 8).join("\n  ");
}

async function dbsize(port: number): Promise<string> {
  const client = await TcpClient.connect(port);
  try {
    return await client.command("DBSIZE");
  } finally {
    client.close();
  }
}

/**
 * Polls until the slave's dump equals the master's; returns it. Fails with
 * the difference after `timeoutMs`.
 */
async function waitConverged(
  master: ServerProcess,
  slave: ServerProcess,
  timeoutMs = CONVERGE_TIMEOUT_MS,
): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (true) {
    // DBSIZE first: cheap, and a dump is only worth it once sizes agree.
    if (await dbsize(master.port) === await dbsize(slave.port)) {
      const m = await dump(master.port);
      const s = await dump(slave.port);
      last = diff(m, s);
      if (last === "") return m;
    } else {
      last = `DBSIZE ${await dbsize(master.port)} (master) vs ${await dbsize(slave.port)} (slave)`;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `slave :${slave.port} did not converge with master :${master.port} ` +
          `within ${timeoutMs}ms: ${last}`,
      );
    }
    await delay(150);
  }
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    }
    await delay(50);
  }
}

function linesWith(server: ServerProcess, text: string, from = 0): string[] {
  return server.logs.slice(from).filter((l) => l.includes(text));
}

function walSegmentCount(dir: string): number {
  return [...Deno.readDirSync(join(dir, "wal"))].filter((e) => e.name.endsWith(".wal")).length;
}

/**
 * The servers and directories of one test: stopped (and, on success,
 * removed) whatever happens; on failure their logs are added to the error.
 */
class Cluster {
  readonly #all: { name: string; server: ServerProcess; alive: boolean }[] = [];
  readonly #dirs: string[] = [];

  async dir(): Promise<string> {
    const dir = await Deno.makeTempDir({ prefix: "kvdb-repl-" });
    this.#dirs.push(dir);
    return dir;
  }

  async start(
    name: string,
    config: Config,
    options: { dir: string; port?: number },
  ): Promise<ServerProcess> {
    const server = await ServerProcess.start(config, options);
    this.#all.push({ name, server, alive: true });
    return server;
  }

  /** Registers a server started some other way. */
  add(name: string, server: ServerProcess): ServerProcess {
    this.#all.push({ name, server, alive: true });
    return server;
  }

  /** Stops `server`, then waits until `extraPorts` can be bound again too. */
  async stop(server: ServerProcess, signal: Deno.Signal = "SIGTERM", extraPorts: number[] = []) {
    const entry = this.#all.find((e) => e.server === server && e.alive);
    if (entry) entry.alive = false;
    await server.stop(signal);
    for (const port of extraPorts) await waitPortFree(port);
  }

  logs(): string {
    return this.#all.map(({ name, server }) =>
      `--- ${name} (:${server.port}) last log lines:\n` + server.logs.slice(-30).join("\n")
    ).join("\n");
  }

  async close(removeDirs: boolean): Promise<void> {
    // Newest first: a restarted server holds the port of the one it replaced.
    for (const entry of [...this.#all].reverse()) {
      if (!entry.alive) continue;
      entry.alive = false;
      await entry.server.stop("SIGKILL").catch(() => {});
    }
    if (removeDirs) {
      for (const dir of this.#dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}

function replicationTest(name: string, fn: (c: Cluster) => Promise<void>): void {
  Deno.test(name, async () => {
    const cluster = new Cluster();
    let ok = false;
    try {
      await fn(cluster);
      ok = true;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw new Error(`${message}\n${cluster.logs()}`, { cause: e });
    } finally {
      await cluster.close(ok);
    }
  });
}

/** A master on a fresh dir with its own replication port. */
async function startMaster(
  c: Cluster,
  wal: Record<string, unknown> = {},
  replication: Record<string, unknown> = {},
) {
  const dir = await c.dir();
  const replPort = freePort();
  const server = await c.start("master", masterConfig(dir, replPort, wal, replication), { dir });
  return { server, dir, replPort };
}

async function startSlave(c: Cluster, masterPort: number, name = "slave") {
  const dir = await c.dir();
  const server = await c.start(name, slaveConfig(dir, masterPort), { dir });
  return { server, dir };
}

replicationTest("catch-up: a slave started after 10k writes converges", async (c) => {
  const master = await startMaster(c);
  await setMany(master.server.port, entries("k", 10_000));
  assert.equal(await dbsize(master.server.port), "10000");
  const slave = await startSlave(c, master.server.port);
  const data = await waitConverged(master.server, slave.server);
  assert.equal(data.size, 10_000);
  await waitFor(
    "'replication caught up' in the slave's log",
    () => linesWith(slave.server, "replication caught up").length > 0,
  );
});

replicationTest("a slave serves reads and refuses writes (text and RESP)", async (c) => {
  const master = await startMaster(c);
  const setup = await master.server.connect();
  assert.equal(await setup.command("SET present v1"), "OK");
  setup.close();
  const slave = await startSlave(c, master.server.port);
  await waitConverged(master.server, slave.server);

  const text = await slave.server.connect();
  try {
    assert.equal(await text.command("SET k v"), READONLY_TEXT);
    assert.equal(await text.command("DEL k"), READONLY_TEXT);
    assert.equal(await text.command("DEL present"), READONLY_TEXT);
    assert.equal(await text.command("GET present"), "v1");
    assert.equal(await text.command("GET k"), "ERROR: key not found");
  } finally {
    text.close();
  }
  const resp = await slave.server.connect();
  try {
    await resp.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
    assert.equal(await resp.readLine(), READONLY_RESP);
    await resp.send("*2\r\n$3\r\nDEL\r\n$7\r\npresent\r\n");
    assert.equal(await resp.readLine(), READONLY_RESP);
    await resp.send("*2\r\n$3\r\nGET\r\n$7\r\npresent\r\n");
    assert.deepEqual(await resp.readLines(2), ["$2\r", "v1\r"]);
  } finally {
    resp.close();
  }
  const data = await waitConverged(master.server, slave.server);
  assert.deepEqual([...data], [["present", "v1"]]);
});

replicationTest("a SIGKILLed slave resumes from its own log, not from scratch", async (c) => {
  const master = await startMaster(c);
  await setMany(master.server.port, entries("a", 2000));
  const slaveDir = await c.dir();
  let slave = await c.start("slave", slaveConfig(slaveDir, master.server.port), { dir: slaveDir });
  const slavePort = slave.port;
  await waitConverged(master.server, slave);
  await delay(300); // Let the slave's group commit make what it applied durable.
  await c.stop(slave, "SIGKILL");

  await setMany(master.server.port, entries("b", 500));
  const del = await master.server.connect();
  assert.equal(await del.command("DEL a10"), "OK");
  del.close();
  const mark = master.server.logs.length;
  slave = await c.start("slave (restarted)", slaveConfig(slaveDir, master.server.port), {
    dir: slaveDir,
    port: slavePort,
  });
  const data = await waitConverged(master.server, slave);
  assert.equal(data.size, 2499);

  const handshakes = master.server.logs.slice(mark).filter((l) =>
    l.includes("replica resuming") || l.includes("replica resynchronising fully")
  );
  assert.ok(handshakes.length >= 1, "no handshake logged by the master after the restart");
  assert.match(handshakes[0], /replica resuming/, `the slave was resynchronised: ${handshakes[0]}`);
  const fromLsn = Number(handshakes[0].match(/fromLsn=(\d+)/)?.[1]);
  assert.ok(fromLsn > 2000, `resumed from LSN ${fromLsn}: the history was sent again`);
  assert.equal(
    handshakes.filter((l) => l.includes("resynchronising fully")).length,
    0,
    handshakes.join("\n"),
  );
  assert.ok(
    linesWith(slave, "resuming from this replica's log").length > 0,
    "the restarted slave did not log 'resuming from this replica's log'",
  );
});

replicationTest(
  "master SIGKILL under write load, restart: identical data, no lost ack",
  async (c) => {
    const master0 = await startMaster(c);
    const { dir: masterDir, replPort } = master0;
    const masterPort = master0.server.port;
    const slave = await startSlave(c, masterPort);
    await waitFor(
      "the slave to catch up",
      () => linesWith(slave.server, "replication caught up").length > 0,
    );

    const acked = new Map<string, string>();
    let stop = false;
    const writers = Array.from({ length: 6 }, async (_, w) => {
      await setUntilGone(
        masterPort,
        (n) => [`w${w}:${n}`, `v${n}-${"y".repeat(n % 40)}`],
        acked,
        () => stop,
      );
    });
    await delay(1000);
    await c.stop(master0.server, "SIGKILL", [replPort]);
    stop = true;
    await Promise.all(writers);
    assert.ok(acked.size > 100, `only ${acked.size} writes acknowledged before the kill`);

    const master = await c.start("master (restarted)", masterConfig(masterDir, replPort), {
      dir: masterDir,
      port: masterPort,
    });
    const more = entries("after", 1000);
    await setMany(masterPort, more);
    for (const [k, v] of more) acked.set(k, v);
    const data = await waitConverged(master, slave.server);
    const slaveData = await dump(slave.server.port);
    const missing: string[] = [];
    for (const [key, value] of acked) {
      const reply = renderTextValue(value); // How GET shows the value.
      if (data.get(key) !== reply || slaveData.get(key) !== reply) {
        missing.push(`${key}=${reply}: master ${data.get(key)}, slave ${slaveData.get(key)}`);
      }
    }
    assert.equal(
      missing.length,
      0,
      `${missing.length} of ${acked.size} acknowledged writes missing or wrong, e.g.\n  ` +
        missing.slice(0, 12).join("\n  "),
    );
  },
);

replicationTest("a slave started before its master waits, logs once, then syncs", async (c) => {
  const masterPort = freePort();
  const slave = await startSlave(c, masterPort);
  const client = await slave.server.connect();
  try {
    assert.equal(await client.command("GET x"), "ERROR: key not found");
  } finally {
    client.close();
  }
  // Nothing listening, then a "master" that hangs up on every connection:
  // the slave keeps retrying, quietly.
  await delay(800);
  const fake = Deno.listen({ hostname: "127.0.0.1", port: masterPort });
  let accepted = 0;
  const accepting = (async () => {
    for await (const conn of fake) {
      accepted++;
      conn.close();
    }
  })();
  await delay(1500);
  fake.close();
  await accepting.catch(() => {});
  assert.ok(accepted >= 3, `the slave dialled only ${accepted} times in 1.5 s`);
  const reads = await slave.server.connect();
  try {
    assert.equal(await reads.command("GET x"), "ERROR: key not found");
  } finally {
    reads.close();
  }
  assert.equal(
    linesWith(slave.server, "master unreachable").length,
    1,
    "'master unreachable' must be logged once for the whole outage",
  );

  await waitPortFree(masterPort);
  const dir = await c.dir();
  const master = await c.start("master", masterConfig(dir, freePort()), { dir, port: masterPort });
  await setMany(masterPort, entries("late", 300));
  const data = await waitConverged(master, slave.server);
  assert.equal(data.size, 300);
  assert.equal(linesWith(slave.server, "master unreachable").length, 1);
});

replicationTest("two slaves at once both converge", async (c) => {
  const master = await startMaster(c);
  await setMany(master.server.port, entries("p", 3000));
  const [one, two] = await Promise.all([
    startSlave(c, master.server.port, "slave 1"),
    startSlave(c, master.server.port, "slave 2"),
  ]);
  await setMany(master.server.port, entries("q", 1000));
  const a = await waitConverged(master.server, one.server);
  const b = await waitConverged(master.server, two.server);
  assert.equal(a.size, 4000);
  assert.equal(diff(a, b), "");
});

replicationTest("a late slave joins a master whose log spans 20+ segments", async (c) => {
  const master = await startMaster(c, { max_segment_size: "4KiB" });
  await setMany(master.server.port, entries("seg", 3000));
  const segments = walSegmentCount(master.dir);
  assert.ok(segments > 20, `only ${segments} segment files on the master`);
  const slave = await startSlave(c, master.server.port);
  const data = await waitConverged(master.server, slave.server);
  assert.equal(data.size, 3000);
});

replicationTest("a slave of a wiped master resynchronises fully", async (c) => {
  const master0 = await startMaster(c);
  const { dir: masterDir, replPort } = master0;
  const masterPort = master0.server.port;
  await setMany(masterPort, entries("old", 1500));
  const slave = await startSlave(c, masterPort);
  await waitConverged(master0.server, slave.server);

  await c.stop(master0.server, "SIGTERM", [replPort]);
  await Deno.remove(join(masterDir, "wal"), { recursive: true });
  const mark = slave.server.logs.length;
  const master = await c.start("master (wiped)", masterConfig(masterDir, replPort), {
    dir: masterDir,
    port: masterPort,
  });
  assert.equal(await dbsize(masterPort), "0");
  await setMany(masterPort, entries("new", 200));
  const data = await waitConverged(master, slave.server);
  assert.equal(data.size, 200);
  assert.ok([...data.keys()].every((k) => k.startsWith("new")), "old keys on the new master");
  assert.ok(
    linesWith(slave.server, "full resynchronisation", mark).length > 0,
    "the slave did not log 'full resynchronisation'",
  );
});

replicationTest(
  "a master whose log was cut by wal repair is a new history to its slaves",
  async (c) => {
    // No snapshot: the damaged segment then holds records a start needs, so
    // repair must cut them (damage a snapshot covers costs nothing).
    const master0 = await startMaster(c, {
      max_segment_size: "4KiB",
      snapshot_threshold: "1000GiB",
    });
    const { dir: masterDir, replPort } = master0;
    const masterPort = master0.server.port;
    await setMany(masterPort, entries("key", 600));
    const slave0 = await startSlave(c, masterPort);
    await waitConverged(master0.server, slave0.server);
    const slaveDir = slave0.dir;
    const slavePort = slave0.server.port;
    await c.stop(slave0.server, "SIGTERM");
    await c.stop(master0.server, "SIGTERM", [replPort]);

    // Damage a middle segment; repair cuts the log there (LSNs after it will
    // be reused for other writes).
    const walDir = join(masterDir, "wal");
    const segments = [...Deno.readDirSync(walDir)].map((e) => e.name).filter((n) =>
      n.endsWith(".wal")
    ).sort();
    assert.ok(segments.length >= 4, `${segments.length} segments`);
    const victim = join(walDir, segments[Math.floor(segments.length / 2)]);
    const bytes = Deno.readFileSync(victim);
    bytes[100] ^= 0x55;
    Deno.writeFileSync(victim, bytes);
    const repair = await runKvdb(["wal", "repair", "--dir", walDir]);
    assert.equal(repair.code, 0, repair.stdout + repair.stderr);

    const master = await c.start("master (repaired)", masterConfig(masterDir, replPort), {
      dir: masterDir,
      port: masterPort,
    });
    // More new writes than were cut: the master's log passes the slave's end,
    // so only the replication id can tell the slave its history is gone.
    await setMany(masterPort, entries("new", 700));
    const mark = 0; // the restarted slave's own log
    const slave = await c.start("slave (restarted)", slaveConfig(slaveDir, masterPort), {
      dir: slaveDir,
      port: slavePort,
    });
    await waitConverged(master, slave);
    assert.ok(
      linesWith(slave, "full resynchronisation", mark).length > 0,
      "the slave resumed over records its master no longer has",
    );
  },
);

replicationTest(
  "a slave joining a master whose early segments are gone gets the full state from a snapshot",
  async (c) => {
    const master = await startMaster(c, { max_segment_size: "4KiB", snapshot_threshold: "64KiB" });
    await setMany(master.server.port, entries("early", 1500));
    const admin = await master.server.connect();
    assert.equal(await admin.command("SAVE"), "OK");
    await setMany(master.server.port, entries("later", 500));
    assert.equal(await admin.command("SAVE"), "OK");
    admin.close();
    const walDir = join(master.dir, "wal");
    const first = [...Deno.readDirSync(walDir)].map((e) => e.name).filter((n) => n.endsWith(".wal"))
      .sort()[0];
    assert.notEqual(first, "0000000000000001.wal", "compaction removed the first segments");

    const slave = await startSlave(c, master.server.port);
    const data = await waitConverged(master.server, slave.server);
    assert.equal(data.size, 2000);
    assert.ok(linesWith(slave.server, "snapshot received from the master").length > 0);
    // The replica's log continues the snapshot: it acknowledges the
    // snapshot's LSN, so the master need not keep its log from LSN 1.
    await waitFor("the master to see the replica's ACK of the snapshot", async () => {
      const admin = await master.server.connect();
      try {
        await admin.send("INFO replication\n");
        const offset = /slave0:[^\\]*offset=(\d+)/.exec((await admin.readLine())!)?.[1];
        return Number(offset) >= 2000;
      } finally {
        admin.close();
      }
    });
    // The replica restarts from its own copy: snapshot + its log.
    await c.stop(slave.server, "SIGKILL");
    await setMany(master.server.port, entries("after", 100));
    const again = await c.start("slave (restarted)", slaveConfig(slave.dir, master.server.port), {
      dir: slave.dir,
      port: slave.server.port,
    });
    assert.equal((await waitConverged(master.server, again)).size, 2100);
    assert.equal(linesWith(again, "full resynchronisation").length, 0, "it resumed");
  },
);

replicationTest(
  "a slave behind by more than replication.retention_size resynchronises from a snapshot",
  async (c) => {
    const master = await startMaster(
      c,
      { max_segment_size: "4KiB", snapshot_threshold: "64KiB" },
      { retention_size: "8KiB" },
    );
    await setMany(master.server.port, entries("a", 300));
    const slave = await startSlave(c, master.server.port);
    await waitConverged(master.server, slave.server);
    await c.stop(slave.server, "SIGTERM");
    // Far more than the 8 KiB the master keeps for a replica that is behind,
    // with two snapshots after it, so compaction has something to drop.
    const admin = await master.server.connect();
    await setMany(master.server.port, entries("b", 1500));
    assert.equal(await admin.command("SAVE"), "OK");
    await setMany(master.server.port, entries("b", 1500, 1500));
    assert.equal(await admin.command("SAVE"), "OK");
    admin.close();
    const mark = 0;
    const again = await c.start("slave (restarted)", slaveConfig(slave.dir, master.server.port), {
      dir: slave.dir,
      port: slave.server.port,
    });
    assert.equal((await waitConverged(master.server, again)).size, 3300);
    assert.ok(
      linesWith(again, "full resynchronisation", mark).length > 0,
      "the slave was behind the master's retained log and had to resynchronise",
    );
    assert.ok(linesWith(again, "snapshot received from the master").length > 0);
  },
);

replicationTest(
  "a replica interrupted in a full resync (no identity) starts empty and resyncs",
  async (c) => {
    const master = await startMaster(c, { max_segment_size: "4KiB" });
    await setMany(master.server.port, entries("k", 800));
    const slave = await startSlave(c, master.server.port);
    await waitConverged(master.server, slave.server);
    await c.stop(slave.server, "SIGKILL");
    // What a crash in the middle of a resync leaves: no identity beside
    // whatever part of a log and snapshots remains.
    const walDir = join(slave.dir, "wal");
    await Deno.remove(join(walDir, "REPLICATION"));
    assert.ok([...Deno.readDirSync(walDir)].some((e) => e.name.endsWith(".wal")));
    const again = await c.start(
      "slave (after the crash)",
      slaveConfig(slave.dir, master.server.port),
      {
        dir: slave.dir,
        port: slave.server.port,
      },
    );
    assert.equal((await waitConverged(master.server, again)).size, 800);
    assert.ok(linesWith(again, "starting empty").length > 0);
  },
);

replicationTest("a slave can dial the master's replication port or its client port", async (c) => {
  const master = await startMaster(c);
  await setMany(master.server.port, entries("r", 500));
  const viaRepl = await startSlave(c, master.replPort, "slave via replication port");
  const viaClient = await startSlave(c, master.server.port, "slave via client port");
  await setMany(master.server.port, entries("s", 200));
  assert.equal((await waitConverged(master.server, viaRepl.server)).size, 700);
  assert.equal((await waitConverged(master.server, viaClient.server)).size, 700);
});

replicationTest(
  "requests pipelined before REPLSYNC on the client port are answered before the handshake",
  async (c) => {
    const master = await startMaster(c);
    const client = await master.server.connect();
    try {
      // One write: the server decodes requests ahead, and must stop at
      // REPLSYNC, handing what follows it ("PING\n", not a request any more)
      // to replication.
      await client.send("SET before 1\nGET before\nREPLSYNC - 1\nPING\n");
      const [set, get, handshake] = await client.readLines(3);
      assert.equal(set, "OK");
      assert.equal(get, "1");
      assert.match(handshake, /^\+(CONTINUE|FULLRESYNC) /);
    } finally {
      client.close();
    }
  },
);

replicationTest("the shipped master.yaml and slave.yaml work as they are", async (c) => {
  for (const port of [3223, 3224, 3232]) {
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch (e) {
      throw new Error(
        `port ${port} is busy (${e}): this test runs configs/master.yaml and ` +
          `configs/slave.yaml, which use 127.0.0.1:3223, :3224 and :3232; free them`,
      );
    }
  }
  const dir = await c.dir();
  for (const name of ["master.yaml", "slave.yaml"]) {
    await Deno.copyFile(join(ROOT, "configs", name), join(dir, name));
  }
  const master = c.add(
    "master.yaml",
    await startWithConfigFile(join(dir, "master.yaml"), dir, 3223),
  );
  const slave = c.add("slave.yaml", await startWithConfigFile(join(dir, "slave.yaml"), dir, 3224));
  try {
    const writer = await TcpClient.connect(3223);
    try {
      assert.equal(await writer.command("SET shipped yes"), "OK");
    } finally {
      writer.close();
    }
    const reader = await TcpClient.connect(3224);
    try {
      await waitFor(
        "the write on 3223 to be readable on 3224",
        async () => await reader.command("GET shipped") === "yes",
      );
      assert.equal(await reader.command("SET other x"), READONLY_TEXT);
    } finally {
      reader.close();
    }
    assert.ok(Deno.statSync(join(dir, "data/master/wal")).isDirectory);
    assert.ok(Deno.statSync(join(dir, "data/slave/wal")).isDirectory);
  } finally {
    await c.stop(slave);
    await c.stop(master, "SIGTERM", [3232]);
  }
});

Deno.test("replication without the WAL is refused at start with a clear message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-repl-" });
  try {
    const config = join(dir, "config.yaml");
    await Deno.writeTextFile(
      config,
      `network:\n  address: 127.0.0.1:${freePort()}\n` +
        `replication:\n  enabled: true\n  replica_type: master\n`,
    );
    const { code, stdout, stderr } = await runKvdb(["server", "--config", config], { cwd: dir });
    assert.notEqual(code, 0, `started anyway:\n${stdout}${stderr}`);
    assert.match(stderr, /replication needs the WAL/);
    assert.doesNotMatch(stdout, /kvdb server listening/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
