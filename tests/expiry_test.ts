/**
 * Expiry against running servers (issue 5): lazy (invisible at once, removed
 * on access), active (reclaimed in the background with nobody reading),
 * through a restart with the WAL (absolute times), and through replication
 * (slaves hide expired keys but delete only when the master's DEL arrives).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  delay,
  freePort,
  RespClient,
  RespError,
  type RespReply,
  RespStatus,
  ServerProcess,
  waitPortFree,
} from "./_helpers.ts";

type Config = Record<string, Record<string, unknown>>;

/** The servers and directories of one test: all stopped and removed at the end. */
class Servers {
  readonly #all: { name: string; server: ServerProcess; stopped: boolean }[] = [];
  readonly #dirs: string[] = [];
  readonly #clients: RespClient[] = [];

  async dir(): Promise<string> {
    const dir = await Deno.makeTempDir({ prefix: "kvdb-expiry-" });
    this.#dirs.push(dir);
    return dir;
  }

  async start(
    name: string,
    config: Config,
    options: { dir?: string; port?: number } = {},
  ): Promise<ServerProcess> {
    const server = await ServerProcess.start(config, {
      dir: options.dir ?? await this.dir(),
      ...options,
    });
    this.#all.push({ name, server, stopped: false });
    return server;
  }

  async client(server: ServerProcess): Promise<RespClient> {
    const client = await RespClient.connect(server.port);
    this.#clients.push(client);
    return client;
  }

  async stop(server: ServerProcess, signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const entry = this.#all.find((e) => e.server === server && !e.stopped);
    if (entry) entry.stopped = true;
    await server.stop(signal);
  }

  logs(): string {
    return this.#all.map(({ name, server }) =>
      `--- ${name} (:${server.port}) last log lines:\n${server.logs.slice(-25).join("\n")}`
    ).join("\n");
  }

  async close(): Promise<void> {
    for (const client of this.#clients) client.close();
    for (const entry of [...this.#all].reverse()) {
      if (entry.stopped) continue;
      entry.stopped = true;
      await entry.server.stop("SIGKILL").catch(() => {});
    }
    for (const dir of this.#dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function expiryTest(name: string, fn: (s: Servers) => Promise<void>): void {
  Deno.test(name, async () => {
    const servers = new Servers();
    try {
      await fn(servers);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw new Error(`${message}\n${servers.logs()}`, { cause: e });
    } finally {
      await servers.close();
    }
  });
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  pollMs = 20,
): Promise<number> {
  const start = Date.now();
  while (!await check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs}ms: ${what}`);
    await delay(pollMs);
  }
  return Date.now() - start;
}

/** A field of an INFO reply, or undefined. */
function infoField(info: RespReply, name: string): string | undefined {
  assert.equal(typeof info, "string", "INFO must reply with a bulk string");
  const line = (info as string).split("\r\n").find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1);
}

/** `keys=N` of INFO keyspace's db0 line; 0 when there is no db0 line. */
async function infoKeys(client: RespClient): Promise<number> {
  const db0 = infoField(await client.call("INFO", "keyspace"), "db0");
  if (db0 === undefined) return 0;
  const keys = db0.match(/(?:^|,)keys=(\d+)/);
  assert.ok(keys, `INFO keyspace db0:${db0}`);
  return Number(keys[1]);
}

async function expiredKeys(client: RespClient): Promise<number> {
  return Number(infoField(await client.call("INFO", "stats"), "expired_keys"));
}

const OK = new RespStatus("OK");

function walConfig(dir: string): Config {
  return { wal: { enabled: true, data_directory: join(dir, "wal") } };
}

function masterConfig(dir: string, replPort: number): Config {
  return {
    ...walConfig(dir),
    replication: {
      enabled: true,
      replica_type: "master",
      master_address: `127.0.0.1:${replPort}`,
      sync_interval: "200ms",
    },
  };
}

function slaveConfig(dir: string, masterPort: number): Config {
  return {
    ...walConfig(dir),
    replication: {
      enabled: true,
      replica_type: "slave",
      master_address: `127.0.0.1:${masterPort}`,
      sync_interval: "200ms",
    },
  };
}

expiryTest("lazy: an expired key is invisible at once and removed on access", async (s) => {
  const server = await s.start("server", {});
  const c = await s.client(server);
  const text = await server.connect();
  try {
    // Around the expiry time: a read answered before it must see the
    // value; a read sent after it must not (even before any background
    // slice has run).
    const sentAt = Date.now();
    assert.deepEqual(await c.call("SET", "lazy", "v", "PX", "300"), OK);
    const ackedAt = Date.now();
    await delay(250 - (Date.now() - sentAt));
    let sawValue = false;
    let sawNil = false;
    while (Date.now() < ackedAt + 400) {
      const before = Date.now();
      const value = await c.call("GET", "lazy");
      const after = Date.now();
      if (after < sentAt + 300) {
        assert.equal(value, "v", `GET at +${after - sentAt}ms, before the expiry time`);
        sawValue = true;
      }
      if (before > ackedAt + 300) {
        assert.equal(value, null, `GET at +${before - ackedAt}ms after the expiry time`);
        sawNil = true;
      }
    }
    assert.ok(sawValue && sawNil, "the loop did not straddle the expiry time");

    // Every read path hides expired keys, in both protocols.
    assert.deepEqual(
      await c.pipeline([
        ["SET", "a", "1", "PX", "100"],
        ["SET", "b", "2", "PX", "100"],
        ["SET", "keep", "3"],
      ]),
      [OK, OK, OK],
    );
    await delay(150);
    assert.deepEqual(
      await c.pipeline([
        ["GET", "a"],
        ["EXISTS", "a", "b"],
        ["MGET", "a", "b", "keep"],
        ["TTL", "a"],
        ["PTTL", "b"],
        ["STRLEN", "a"],
        ["TYPE", "b"],
        ["KEYS", "*"],
        ["SCAN", "0", "COUNT", "100"],
        ["DBSIZE"],
      ]),
      [null, 0, [null, null, "3"], -2, -2, 0, new RespStatus("none"), ["keep"], ["0", ["keep"]], 1],
    );
    assert.equal(await text.command("SET t v PX 100"), "OK");
    await delay(150);
    assert.equal(await text.command("GET t"), "ERROR: key not found");
    assert.equal(await text.command("EXISTS t"), "0");
    assert.equal(await text.command("DEL t"), "ERROR: key not found");
    // Removal after access shows in DBSIZE and INFO.
    assert.equal(await c.call("DBSIZE"), 1);
    assert.equal(await infoKeys(c), 1);
    assert.ok(await expiredKeys(c) >= 4, `INFO stats expired_keys ${await expiredKeys(c)}`);

    // GETEX and SET ... GET also see an expired key as missing.
    assert.deepEqual(await c.call("SET", "g", "old", "PX", "100"), OK);
    await delay(150);
    assert.equal(await c.call("GETEX", "g", "PERSIST"), null);
    assert.equal(await c.call("SET", "g", "new", "GET"), null);
    assert.equal(await c.call("TTL", "g"), -1);
    assert.equal(await c.call("INCR", "g2"), 1);
    assert.deepEqual(await c.call("SET", "n", "10", "PX", "100"), OK);
    await delay(150);
    assert.equal(await c.call("INCR", "n"), 1, "INCR of an expired counter starts from 0");
    assert.equal(await c.call("TTL", "n"), -1);
  } finally {
    text.close();
  }
});

expiryTest("active: 2000 keys nobody reads are reclaimed in the background", async (s) => {
  const server = await s.start("server", {});
  const c = await s.client(server);
  const commands: string[][] = [];
  for (let i = 0; i < 2000; i++) commands.push(["SET", `dead:${i}`, `v${i}`, "PX", "100"]);
  for (let i = 0; i < 10; i++) commands.push(["SET", `live:${i}`, "v"]);
  const replies = await c.pipeline(commands);
  assert.ok(replies.every((r) => r instanceof RespStatus && r.text === "OK"));
  const setAt = Date.now();
  // Only DBSIZE and INFO from here on: neither reads a key.
  const elapsed = await waitFor(
    "DBSIZE to drop to the 10 keys without expiry",
    async () => await c.call("DBSIZE") === 10,
    3000,
    50,
  );
  assert.ok(elapsed <= 2500, `active expiry took ${Date.now() - setAt}ms for 2000 keys`);
  assert.equal(await infoKeys(c), 10);
  const keyspace = infoField(await c.call("INFO", "keyspace"), "db0")!;
  assert.match(keyspace, /(?:^|,)expires=0(?:,|$)/, `db0:${keyspace}`);
  assert.ok(await expiredKeys(c) >= 2000, `expired_keys ${await expiredKeys(c)}`);
  assert.deepEqual(
    (await c.call("KEYS", "*") as string[]).sort(),
    commands.slice(2000).map((c) => c[1]).sort(),
  );
});

expiryTest("through a restart with the WAL: absolute expiry times", async (s) => {
  const dir = await s.dir();
  const config = walConfig(dir);
  let server = await s.start("server", config, { dir });
  const port = server.port;
  let c = await s.client(server);
  const setup: [string[], RespReply][] = [
    [["SET", "long", "v", "EX", "1000"], OK],
    [["SET", "e", "v"], OK],
    [["PEXPIRE", "e", "600000"], 1],
    [["SET", "p", "v", "EX", "1000"], OK],
    [["PERSIST", "p"], 1],
    [["SET", "c", "1", "EX", "1000"], OK],
    [["INCR", "c"], 2],
    [["SET", "g", "v"], OK],
    [["GETEX", "g", "EXAT", String(Math.floor(Date.now() / 1000) + 2000)], "v"],
    [["SET", "short", "v", "PX", "400"], OK],
    [["SET", "s2", "v"], OK],
    [["PEXPIRE", "s2", "400"], 1],
  ];
  assert.deepEqual(await c.pipeline(setup.map(([cmd]) => cmd)), setup.map(([, r]) => r));
  const shortSetAt = Date.now();
  const before = await c.pipeline([["PTTL", "long"], ["PTTL", "e"], ["PTTL", "g"]]) as number[];
  const measuredAt = Date.now();
  for (const ttl of before) assert.ok(ttl > 0, `PTTL before restart: ${before}`);

  await s.stop(server, "SIGKILL");
  // Let the short keys expire while the server is down.
  await delay(Math.max(0, shortSetAt + 600 - Date.now()));
  server = await s.start("server (restarted)", config, { dir, port });
  c = await s.client(server);

  const after = await c.pipeline([["PTTL", "long"], ["PTTL", "e"], ["PTTL", "g"]]) as number[];
  const downMs = Date.now() - measuredAt;
  before.forEach((ttl, i) => {
    assert.ok(after[i] > 0, `key ${i}: PTTL ${after[i]} after restart`);
    assert.ok(after[i] <= ttl, `key ${i}: PTTL grew across the restart: ${ttl} -> ${after[i]}`);
    assert.ok(
      after[i] <= ttl - downMs + 100,
      `key ${i}: PTTL ${ttl} -> ${after[i]} after ${downMs}ms: the expiry was not absolute`,
    );
  });
  assert.deepEqual(
    await c.pipeline([
      ["GET", "short"],
      ["EXISTS", "short", "s2"],
      ["TTL", "p"],
      ["GET", "p"],
      ["GET", "c"],
      ["GET", "long"],
    ]),
    [null, 0, -1, "v", "2", "v"],
  );
  const ttlC = await c.call("TTL", "c") as number;
  assert.ok(ttlC > 900 && ttlC <= 1000, `INCR lost the TTL across the restart: TTL c ${ttlC}`);
  await waitFor("DBSIZE 5 after restart", async () => await c.call("DBSIZE") === 5, 2000);
});

expiryTest(
  "through replication: slaves hide expired keys, delete on the master's DEL",
  async (s) => {
    const masterDir = await s.dir();
    const replPort = freePort();
    let master = await s.start("master", masterConfig(masterDir, replPort), { dir: masterDir });
    const masterPort = master.port;
    const slave = await s.start("slave", slaveConfig(await s.dir(), masterPort));
    let m = await s.client(master);
    const r = await s.client(slave);

    // A key with PX 300: seen on the slave, gone on both after expiry.
    assert.deepEqual(await m.call("SET", "keep", "v"), OK);
    const sentAt = Date.now();
    assert.deepEqual(await m.call("SET", "k", "v", "PX", "300"), OK);
    const ackedAt = Date.now();
    await waitFor("k on the slave", async () => await r.call("GET", "k") === "v", 250, 5);
    assert.ok(Date.now() < sentAt + 300, "k reached the slave only after its expiry time");
    await delay(Math.max(0, ackedAt + 310 - Date.now()));
    assert.equal(await r.call("GET", "k"), null, "the slave shows an expired key");
    assert.equal(await r.call("EXISTS", "k"), 0);
    assert.equal(await r.call("TTL", "k"), -2);
    assert.equal(await m.call("GET", "k"), null);
    await waitFor(
      "the slave's DBSIZE to equal the master's (1)",
      async () => await m.call("DBSIZE") === 1 && await r.call("DBSIZE") === 1,
      5000,
    );
    assert.ok(await expiredKeys(m) >= 1, "the master did not count an expired key");
    assert.equal(await expiredKeys(r), 0, "the slave expired a key on its own clock");

    // EXPIRE, PERSIST, INCR and GETEX replicate as absolute times.
    assert.deepEqual(
      await m.pipeline([
        ["SET", "e", "v"],
        ["EXPIRE", "e", "100"],
        ["SET", "c", "1", "EX", "200"],
        ["INCR", "c"],
        ["SET", "g", "v"],
        ["GETEX", "g", "PX", "300000"],
      ]),
      [OK, 1, OK, 2, OK, "v"],
    );
    await waitFor("EXPIRE e 100 on the slave", async () => {
      const ttl = await r.call("TTL", "e") as number;
      return ttl >= 97 && ttl <= 100;
    }, 5000);
    await waitFor("INCR c on the slave", async () => await r.call("GET", "c") === "2", 5000);
    const ttlC = await r.call("TTL", "c") as number;
    assert.ok(ttlC >= 197 && ttlC <= 200, `TTL c on the slave after INCR: ${ttlC}`);
    await waitFor("GETEX g PX on the slave", async () => {
      const pttl = await r.call("PTTL", "g") as number;
      return pttl > 295_000 && pttl <= 300_000;
    }, 5000);
    assert.equal(await m.call("PERSIST", "e"), 1);
    await waitFor("PERSIST e on the slave", async () => await r.call("TTL", "e") === -1, 5000);
    const readOnly = await r.call("EXPIRE", "e", "5");
    assert.ok(readOnly instanceof RespError && readOnly.text.startsWith("READONLY"));

    // With the master down nothing may delete: the slave hides the key but keeps it.
    assert.deepEqual(await m.call("SET", "d", "v", "PX", "500"), OK);
    const dSetAt = Date.now();
    await waitFor("d on the slave", async () => await r.call("GET", "d") === "v", 400, 5);
    const slaveSize = await r.call("DBSIZE") as number;
    assert.equal(slaveSize, 5); // keep, e, c, g, d
    await s.stop(master, "SIGKILL");
    await waitPortFree(replPort);
    // Several active-expiry intervals past d's time.
    await delay(Math.max(0, dSetAt + 500 + 500 - Date.now()));
    assert.equal(await r.call("GET", "d"), null, "the slave shows an expired key");
    assert.equal(await r.call("EXISTS", "d"), 0);
    assert.deepEqual(await r.call("KEYS", "d"), []);
    assert.equal(
      await r.call("DBSIZE"),
      slaveSize,
      "the slave deleted an expired key on its own clock (its master is down)",
    );
    assert.equal(await expiredKeys(r), 0, "the slave expired a key on its own clock");
    // The restarted master expires d; its DEL reaches the slave.
    master = await s.start("master (restarted)", masterConfig(masterDir, replPort), {
      dir: masterDir,
      port: masterPort,
    });
    m = await s.client(master);
    await waitFor(
      "the master's DEL of d to reach the slave",
      async () => await m.call("DBSIZE") === 4 && await r.call("DBSIZE") === 4,
      10_000,
      50,
    );
    assert.equal(await r.call("GET", "keep"), "v");
  },
);
