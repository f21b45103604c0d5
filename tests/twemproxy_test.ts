/**
 * twemproxy (`nutcracker`, `redis: true`) sharding keys over two groups
 * (issue 15 point 5), in the documented layout: twemproxy → HAProxy per
 * group → master and replica, every process started from the shipped
 * configs (configs/nutcracker.yml, configs/haproxy.cfg) with only addresses
 * changed. Run against redis-server groups (the reference) and kvdb groups:
 * keys land on both groups and nowhere twice, the same key lands on the
 * same group behind both, and every reply through twemproxy — twemproxy's
 * own refusals included — is the same for both.
 */

import assert from "node:assert/strict";
import { delay, encodeRespCommand, RespClient, type RespReply, RespStatus } from "./_helpers.ts";
import {
  ensureProxyTools,
  type Group,
  HaproxyProcess,
  NutcrackerProcess,
  startKvdbYamlGroup,
  startRedisGroup,
  versionLine,
} from "./_proxies.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const KEYS = 400;
const STATUS_TIMEOUT_MS = 10_000;
const CONVERGE_TIMEOUT_MS = 15_000;
/** How long a command twemproxy refuses may take to close the connection. */
const CLOSE_TIMEOUT_MS = 2_000;
const CLOSED = "(connection closed)";

/** A command and its reply through twemproxy, exactly as on the wire. */
type Transcript = [string, string][];

/**
 * Commands twemproxy forwards, on keys spread over both groups (the
 * multi-key ones are split per group and joined), then errors the servers
 * give. Each runs on one connection in order; TTLs are read right after
 * being set, so they are whole seconds on both.
 */
const SCRIPT: string[][] = [
  ["SET", "a", "1"],
  ["GET", "a"],
  ["GET", "missing"],
  ["SET", "b", "2", "NX"],
  ["SET", "b", "3", "XX"],
  ["SET", "b", "4", "NX"],
  ["SET", "t", "v", "EX", "100"],
  ["TTL", "t"],
  ["SET", "t", "w", "KEEPTTL", "GET"],
  ["TTL", "t"],
  ["GETSET", "b", "5"],
  ["MSET", "c", "3", "d", "4", "e", "5", "f", "6", "g", "7"],
  ["MGET", "a", "b", "c", "d", "e", "f", "g", "missing"],
  ["INCR", "n"],
  ["INCRBY", "n", "10"],
  ["DECR", "n"],
  ["DECRBY", "n", "2"],
  ["INCRBYFLOAT", "fl", "1.5"],
  ["INCRBYFLOAT", "fl", "2.25"],
  ["APPEND", "a", "xyz"],
  ["STRLEN", "a"],
  ["GETRANGE", "a", "0", "1"],
  ["SETRANGE", "a", "1", "ZZ"],
  ["GET", "a"],
  ["EXISTS", "a"],
  ["EXISTS", "missing"],
  ["TYPE", "a"],
  ["TYPE", "missing"],
  ["EXPIRE", "a", "100"],
  ["TTL", "a"],
  ["PERSIST", "a"],
  ["TTL", "a"],
  ["TTL", "missing"],
  ["EXPIRE", "missing", "100"],
  ["PEXPIRE", "c", "100000"],
  ["TTL", "c"],
  ["SETEX", "h", "50", "v"],
  ["TTL", "h"],
  ["PSETEX", "i", "50000", "v"],
  ["TTL", "i"],
  ["SETNX", "a", "x"],
  ["SETNX", "j", "x"],
  ["GETDEL", "j"],
  ["GETEX", "d", "EX", "200"],
  ["TTL", "d"],
  ["SETBIT", "bits", "7", "1"],
  ["GETBIT", "bits", "7"],
  ["BITCOUNT", "bits"],
  ["BITPOS", "bits", "1"],
  ["TOUCH", "a"],
  ["TOUCH", "a", "b", "c", "missing"],
  ["EXISTS", "a", "b", "c", "missing"],
  ["UNLINK", "e"],
  ["UNLINK", "f", "g", "missing"],
  ["DEL", "a", "b", "c", "missing"],
  ["MGET", "a", "b", "c", "d"],
  ["EXISTS", "a"],
  ["PING"],
  // Errors from the servers, passed on.
  ["INCR", "t"],
  ["SET", "x", "1", "EX", "0"],
  ["SET", "x", "1", "NX", "XX"],
  ["INCRBY", "n", "abc"],
  ["GETRANGE", "d", "a", "b"],
  ["EXPIRE", "d", "abc"],
];

/** Commands twemproxy refuses itself (each on its own connection). */
const REFUSED: string[][] = [
  ["KEYS", "*"],
  ["SCAN", "0"],
  ["INFO"],
  ["DBSIZE"],
  ["FLUSHALL"],
  ["FLUSHDB"],
  ["SELECT", "1"],
  ["MULTI"],
  ["CONFIG", "GET", "maxmemory"],
  ["RENAME", "a", "b"],
  ["RANDOMKEY"],
  ["MSETNX", "a", "1", "b", "2"],
  ["BITOP", "AND", "d", "a", "b"],
  ["WAIT", "0", "0"],
  ["CLIENT", "LIST"],
  ["SUBSCRIBE", "ch"],
  ["GET"],
  ["NOSUCHCOMMAND", "x"],
];

/** One command on an open connection: its raw reply (CRLF shown as \\r\\n), or CLOSED. */
async function rawCall(client: RespClient, args: string[]): Promise<string> {
  try {
    await client.send(encodeRespCommand(args));
    return (await client.read(CLOSE_TIMEOUT_MS)).raw.replaceAll("\r\n", "\\r\\n");
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("connection closed")) return CLOSED;
    throw e;
  }
}

/** SCRIPT on one connection (a new one after a close), then each of REFUSED on its own. */
async function transcripts(port: number): Promise<{ script: Transcript; refused: Transcript }> {
  const script: Transcript = [];
  let client = await RespClient.connect(port);
  try {
    for (const args of SCRIPT) {
      const reply = await rawCall(client, args);
      script.push([args.join(" "), reply]);
      if (reply === CLOSED) {
        client.close();
        client = await RespClient.connect(port);
      }
    }
  } finally {
    client.close();
  }
  const refused: Transcript = [];
  for (const args of REFUSED) {
    const fresh = await RespClient.connect(port);
    try {
      refused.push([args.join(" "), await rawCall(fresh, args)]);
    } finally {
      fresh.close();
    }
  }
  return { script, refused };
}

/** Every key of the server at `port` (directly, not through twemproxy). */
async function keysOf(port: number): Promise<string[]> {
  const client = await RespClient.connect(port);
  try {
    return ((await client.call("KEYS", "*")) as string[]).sort();
  } finally {
    client.close();
  }
}

/** Sends `commands` in one pipeline and returns the replies. */
async function pipeline(port: number, commands: string[][]): Promise<RespReply[]> {
  const client = await RespClient.connect(port);
  try {
    return await client.pipeline(commands);
  } finally {
    client.close();
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** What a layout did, for comparing redis-server's with kvdb's. */
interface Observed {
  /** Key -> index of the group holding it. */
  placement: Map<string, number>;
  script: Transcript;
  refused: Transcript;
}

/**
 * Two groups, twemproxy in front — through an HAProxy per group
 * (`haproxy: true`) or straight to each group's master — and the checks:
 * KEYS keys written through twemproxy land on both groups, nowhere twice,
 * none lost; MGET, INCR, EXPIRE/TTL and multi-key DEL through twemproxy
 * reach the right group; replicas follow; then the transcripts.
 */
async function runLayout(
  label: string,
  startGroup: () => Promise<Group>,
  options: { haproxy: boolean },
): Promise<Observed> {
  await ensureProxyTools();
  const groups: Group[] = [];
  const proxies: HaproxyProcess[] = [];
  let nutcracker: NutcrackerProcess | undefined;
  try {
    for (let g = 0; g < 2; g++) groups.push(await startGroup());
    const fronts: number[] = [];
    for (const group of groups) {
      if (!options.haproxy) {
        fronts.push(group.master.port);
        continue;
      }
      const proxy = await HaproxyProcess.start([
        { name: "master", port: group.master.port },
        { name: "replica", port: group.replica.port },
      ]);
      proxies.push(proxy);
      await proxy.waitStatuses({ master: "UP", replica: "DOWN" }, STATUS_TIMEOUT_MS);
      fronts.push(proxy.port);
    }
    nutcracker = await NutcrackerProcess.start(
      fronts.map((port, g) => ({ name: `group${g + 1}`, port })),
    );
    const port = nutcracker.port;
    const started = Date.now();

    // SET many keys through twemproxy; each group holds some, none twice.
    const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`);
    for (const chunk of chunks(keys, 100)) {
      const replies = await pipeline(port, chunk.map((k) => ["SET", k, `v-${k}`]));
      assert.deepEqual(replies, chunk.map(() => new RespStatus("OK")));
    }
    const held = await Promise.all(groups.map((g) => keysOf(g.master.port)));
    const placement = new Map<string, number>();
    held.forEach((list, g) => {
      assert.ok(list.length > 0, `${label}: group ${g + 1} holds no key`);
      for (const key of list) {
        assert.ok(!placement.has(key), `${label}: ${key} is on both groups`);
        placement.set(key, g);
      }
    });
    assert.deepEqual([...placement.keys()].sort(), [...keys].sort(), `${label}: union`);

    // MGET across groups, with a missing key in each request.
    for (const chunk of chunks(keys, 50)) {
      const [values] = await pipeline(port, [["MGET", ...chunk, "no-such-key"]]);
      assert.deepEqual(values, [...chunk.map((k) => `v-${k}`), null]);
    }

    // INCR and EXPIRE/TTL through twemproxy act on the group holding the key.
    const counters = Array.from({ length: 60 }, (_, i) => `ctr:${i}`);
    const incrs = await pipeline(port, counters.flatMap((k) => [["INCR", k], ["INCR", k]]));
    assert.deepEqual(incrs, counters.flatMap(() => [1, 2]));
    assert.deepEqual(
      await pipeline(port, counters.map((k) => ["EXPIRE", k, "100"])),
      counters.map(() => 1),
    );
    for (const ttl of await pipeline(port, counters.map((k) => ["TTL", k]))) {
      assert.ok(ttl === 100 || ttl === 99, `${label}: TTL ${ttl}`);
    }
    const counterHolders = await Promise.all(groups.map((g) => keysOf(g.master.port)));
    for (const key of counters) {
      const on = counterHolders.map((list) => list.includes(key));
      assert.equal(on.filter((x) => x).length, 1, `${label}: ${key} on ${on}`);
      const direct = await pipeline(groups[on.indexOf(true)].master.port, [["GET", key], [
        "TTL",
        key,
      ]]);
      assert.equal(direct[0], "2");
      assert.ok(direct[1] === 100 || direct[1] === 99, `${label}: direct TTL ${direct[1]}`);
    }
    assert.ok(
      counterHolders.every((list) => list.some((k) => k.startsWith("ctr:"))),
      `${label}: every group holds some counters`,
    );

    // Replicas follow their group's master.
    if (options.haproxy) {
      for (const group of groups) {
        const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
        const want = await keysOf(group.master.port);
        while (JSON.stringify(await keysOf(group.replica.port)) !== JSON.stringify(want)) {
          if (Date.now() > deadline) throw new Error(`${label}: a replica did not converge`);
          await delay(50);
        }
      }
    }

    // DEL of several keys across groups: counts summed over the groups.
    let deleted = 0;
    for (const chunk of chunks(keys, 50)) {
      const [count] = await pipeline(port, [["DEL", ...chunk, "no-such-key"]]);
      deleted += count as number;
    }
    assert.equal(deleted, KEYS);
    for (const group of groups) {
      assert.ok((await keysOf(group.master.port)).every((k) => k.startsWith("ctr:")));
    }
    const bulkMs = Date.now() - started;

    const { script, refused } = await transcripts(port);
    console.log(
      `${label}: ${KEYS} keys over the groups ${held.map((l) => l.length).join(" + ")}; ` +
        `checks through twemproxy took ${bulkMs} ms`,
    );
    return { placement, script, refused };
  } catch (e) {
    if (nutcracker) console.error(`nutcracker log:\n${nutcracker.logs.slice(-10).join("\n")}`);
    for (const p of proxies) console.error(`haproxy log:\n${p.logs.slice(-10).join("\n")}`);
    throw e;
  } finally {
    await nutcracker?.stop();
    for (const p of proxies) await p.stop();
    for (const g of groups) await g.stop();
  }
}

/** Asserts kvdb's run matched redis-server's, listing every difference. */
function assertSame(redis: Observed, kvdb: Observed): void {
  assert.deepEqual(kvdb.placement, redis.placement, "a key landed on another group");
  const diffs: string[] = [];
  for (
    const [name, ours, theirs] of [
      ["script", kvdb.script, redis.script],
      ["refused", kvdb.refused, redis.refused],
    ] as const
  ) {
    theirs.forEach(([command, reply], i) => {
      if (ours[i]?.[1] !== reply) {
        diffs.push(`${name}: ${command}: redis ${reply}, kvdb ${ours[i]?.[1]}`);
      }
    });
  }
  assert.deepEqual(diffs, [], "replies through twemproxy differ");
}

/** twemproxy's own refusals, as configs/nutcracker.yml describes them. */
function assertRefusedByTwemproxy(redis: Observed): void {
  const refused = new Map(redis.refused);
  for (const command of ["KEYS *", "SCAN 0", "INFO", "FLUSHALL", "MULTI", "SELECT 1"]) {
    assert.equal(refused.get(command), CLOSED, command);
  }
}

Deno.test("configs/nutcracker.yml as shipped is valid (nutcracker -t)", async () => {
  await ensureProxyTools();
  const out = await new Deno.Command("nutcracker", {
    args: ["-t", "-c", `${ROOT}configs/nutcracker.yml`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, said);
  assert.match(said, /syntax is ok/);
  console.log(await versionLine("nutcracker", ["--version"]));
});

Deno.test("twemproxy → HAProxy per group → master and replica: kvdb shards as redis-server does", async () => {
  const redis = await runLayout("redis-server", startRedisGroup, { haproxy: true });
  assertRefusedByTwemproxy(redis);
  const kvdb = await runLayout("kvdb", () => startKvdbYamlGroup("resp"), { haproxy: true });
  console.log(
    `replies compared: ${redis.script.length} commands, ${redis.refused.length} refused ` +
      `(${redis.refused.filter(([, r]) => r === CLOSED).length} close the connection)`,
  );
  assertSame(redis, kvdb);
});

Deno.test("twemproxy straight to kvdb masters in network.protocol auto: as redis-server", async () => {
  const redis = await runLayout("redis-server", startRedisGroup, { haproxy: false });
  const kvdb = await runLayout("kvdb (auto)", () => startKvdbYamlGroup("auto"), {
    haproxy: false,
  });
  assertSame(redis, kvdb);
});
