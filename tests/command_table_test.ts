/**
 * kvdb's COMMAND replies against redis-server 7.0.15's, byte for byte, for
 * the commands kvdb serves; Redis's prose fields (summary, complexity,
 * history, key-spec notes, deprecation texts) are taken out of both before
 * comparing, and Redis's subcommand lists cut to the subcommands kvdb
 * serves (their order is a hash table's in Redis: compared as sets). Also
 * the key specs of commands kvdb does not serve yet, against Redis's
 * COMMAND GETKEYSANDFLAGS.
 */

import assert from "node:assert/strict";
import { COMMAND_FACTS } from "../src/executor/command_facts.ts";
import { COMMANDS } from "../src/executor/commands.ts";
import { KVDB_FACTS } from "../src/executor/kvdb_facts.ts";
import { commandKeys, needsKeysProcedure, newKeysResult } from "../src/executor/key_specs.ts";
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

const REDIS_SERVER = "/usr/bin/redis-server";
const decoder = new TextDecoder();

/** Debian's redis-server, installed when absent. */
async function ensureRedisServer(): Promise<void> {
  try {
    await Deno.stat(REDIS_SERVER);
    return;
  } catch {
    // Install it below.
  }
  for (const args of [["update"], ["install", "-y", "redis-server"]]) {
    const out = await new Deno.Command("apt-get", {
      args,
      stdout: "piped",
      stderr: "piped",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output();
    if (!out.success) {
      throw new Error(`apt-get ${args.join(" ")} failed:\n${decoder.decode(out.stderr)}`);
    }
  }
}

/** A redis-server child on a free loopback port, without persistence. */
async function startRedis(): Promise<{ port: number; stop: () => Promise<void> }> {
  await ensureRedisServer();
  const port = freePort();
  const child = new Deno.Command(REDIS_SERVER, {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + 10_000;
  while (true) {
    try {
      const probe = await RespClient.connect(port);
      const pong = await probe.call("PING");
      probe.close();
      if (pong instanceof RespStatus) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error("redis-server did not start");
    await delay(50);
  }
  return {
    port,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await waitPortFree(port);
    },
  };
}

/** A reply as RESP2 bytes (a binary string): what the normalized trees are compared as. */
function encode(reply: RespReply): string {
  if (reply instanceof RespStatus) return `+${reply.text}\r\n`;
  if (reply instanceof RespError) return `-${reply.text}\r\n`;
  if (typeof reply === "number") return `:${reply}\r\n`;
  if (typeof reply === "string") return `$${reply.length}\r\n${reply}\r\n`;
  if (reply === null) return "$-1\r\n";
  return `*${reply.length}\r\n${reply.map(encode).join("")}`;
}

const PROSE = new Set(["summary", "complexity", "history", "deprecated_since", "replaced_by"]);
const KVDB_OWN = new Set(
  KVDB_FACTS.map((f) => f.name),
);

/** Every full name kvdb serves (from its table), subcommands included. */
const SERVED = new Set(
  [...COMMANDS.values()].flatMap((s) => [s, ...(s.subcommands?.values() ?? [])]).map((s) =>
    s.fullName
  ),
);
/** Those Redis has too. */
const COMPARABLE = new Set([...SERVED].filter((name) => !KVDB_OWN.has(name)));

function pairs(flat: RespReply[]): [string, RespReply][] {
  const out: [string, RespReply][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1]]);
  return out;
}

function byName<T extends RespReply>(list: T[], name: (item: T) => string): T[] {
  return [...list].sort((a, b) => name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);
}

/** One COMMAND INFO entry: key-spec notes out, subcommands cut to kvdb's, sorted. */
function normalizeInfo(info: RespReply): RespReply {
  if (info === null) return null;
  const entry = [...info as RespReply[]];
  entry[8] = (entry[8] as RespReply[][]).map((spec) =>
    pairs(spec).filter(([k]) => k !== "notes").flat()
  );
  const subs = (entry[9] as RespReply[][]).filter((sub) => COMPARABLE.has(sub[0] as string));
  entry[9] = byName(subs, (sub) => sub[0] as string).map(normalizeInfo);
  return entry;
}

/** An argument's docs map, nested arguments included, without prose (`deprecated_since`). */
function normalizeArgument(argument: RespReply): RespReply {
  return pairs(argument as RespReply[]).filter(([k]) => !PROSE.has(k)).map((
    [k, v],
  ): [string, RespReply] => [k, k === "arguments" ? (v as RespReply[]).map(normalizeArgument) : v])
    .flat();
}

/** One COMMAND DOCS map: prose out, subcommands cut to kvdb's, sorted. */
function normalizeDocs(docs: RespReply): RespReply {
  return pairs(docs as RespReply[]).filter(([k]) => !PROSE.has(k)).map((
    [k, v],
  ): [string, RespReply] => {
    if (k === "arguments") return [k, (v as RespReply[]).map(normalizeArgument)];
    if (k !== "subcommands") return [k, v];
    const subs = pairs(v as RespReply[]).filter(([name]) => COMPARABLE.has(name));
    return [k, byName(subs, ([name]) => name).map(([n, d]) => [n, normalizeDocs(d)]).flat()];
  }).flat();
}

function normalizeDocsReply(reply: RespReply): string {
  const entries = pairs(reply as RespReply[]).map(([n, d]): [string, RespReply] => [
    n,
    normalizeDocs(d),
  ]);
  return encode(byName(entries, ([n]) => n).flat());
}

async function withServers(
  body: (kvdb: RespClient, redis: RespClient) => Promise<void>,
): Promise<void> {
  const server = await ServerProcess.start();
  const redisServer = await startRedis();
  const kvdb = await RespClient.connect(server.port);
  const redis = await RespClient.connect(redisServer.port);
  try {
    await body(kvdb, redis);
  } finally {
    kvdb.close();
    redis.close();
    await server.stop();
    await redisServer.stop();
  }
}

/** Both servers' raw replies to one request. */
async function both(kvdb: RespClient, redis: RespClient, args: string[]) {
  const [k, r] = [await kvdb.callRaw(...args), await redis.callRaw(...args)];
  return { kvdb: k, redis: r };
}

async function assertSame(kvdb: RespClient, redis: RespClient, args: string[]): Promise<void> {
  const got = await both(kvdb, redis, args);
  assert.equal(got.kvdb.raw, got.redis.raw, JSON.stringify(args));
}

Deno.test("COMMAND INFO, DOCS, COUNT, LIST as redis-server 7.0.15 answers them", async () => {
  await withServers(async (kvdb, redis) => {
    // Every command kvdb serves, one by one.
    for (const spec of COMMANDS.values()) {
      if (KVDB_OWN.has(spec.fullName)) continue;
      const args = ["COMMAND", "INFO", spec.fullName];
      const got = await both(kvdb, redis, args);
      const raw = spec.subcommands === undefined && !got.redis.raw.includes("$5\r\nnotes\r\n");
      // Without notes or subcommands the replies are the same bytes as sent.
      if (raw) assert.equal(got.kvdb.raw, got.redis.raw, spec.fullName);
      assert.equal(
        encode((got.kvdb.value as RespReply[]).map(normalizeInfo)),
        encode((got.redis.value as RespReply[]).map(normalizeInfo)),
        spec.fullName,
      );
      const docs = await both(kvdb, redis, ["COMMAND", "DOCS", spec.fullName]);
      assert.equal(normalizeDocsReply(docs.kvdb.value), normalizeDocsReply(docs.redis.value));
      // kvdb's summary is its own, and there.
      const summary = pairs(pairs(docs.kvdb.value as RespReply[])[0][1] as RespReply[])[0];
      assert.equal(summary[0], "summary");
      assert.ok((summary[1] as string).length > 0, `${spec.fullName} has no summary`);
    }
    // Subcommands by full name, names unknown, case, several at once.
    const names = ["get", "NOSUCH", "config|get", "CONFIG|GET", "get|x", "config|nosuch", "a|b|c"];
    const info = await both(kvdb, redis, ["COMMAND", "INFO", ...names]);
    assert.equal(
      encode((info.kvdb.value as RespReply[]).map(normalizeInfo)),
      encode((info.redis.value as RespReply[]).map(normalizeInfo)),
    );
    const docs = await both(kvdb, redis, ["COMMAND", "DOCS", ...names]);
    assert.equal(normalizeDocsReply(docs.kvdb.value), normalizeDocsReply(docs.redis.value));

    // COMMAND and COMMAND INFO without names: every command kvdb serves.
    const all = (await kvdb.call("COMMAND")) as RespReply[][];
    assert.equal(await kvdb.call("COMMAND", "COUNT"), COMMANDS.size);
    assert.equal(all.length, COMMANDS.size);
    assert.deepEqual(await kvdb.call("COMMAND", "INFO"), all);
    const redisAll = (await redis.call("COMMAND")) as RespReply[][];
    assert.equal(await redis.call("COMMAND", "COUNT"), redisAll.length);
    const redisByName = new Map(redisAll.map((e) => [e[0] as string, e]));
    for (const entry of all) {
      const name = entry[0] as string;
      if (KVDB_OWN.has(name)) continue;
      assert.equal(
        encode(normalizeInfo(entry)),
        encode(normalizeInfo(redisByName.get(name)!)),
        name,
      );
    }
    const allDocs = pairs(await kvdb.call("COMMAND", "DOCS") as RespReply[]);
    assert.deepEqual(allDocs.map(([n]) => n), all.map((e) => e[0]));

    // COMMAND LIST, with and without filters: Redis's names, cut to kvdb's.
    const list = async (client: RespClient, ...filter: string[]) =>
      new Set((await client.call("COMMAND", "LIST", ...filter)) as string[]);
    const served = await list(kvdb);
    assert.deepEqual(served, SERVED);
    for (
      const filter of [
        [],
        ["FILTERBY", "ACLCAT", "string"],
        ["filterby", "aclcat", "KEYSPACE"],
        ["FILTERBY", "ACLCAT", "connection"],
        ["FILTERBY", "ACLCAT", "dangerous"],
        ["FILTERBY", "ACLCAT", "nosuch"],
        ["FILTERBY", "PATTERN", "c*"],
        ["FILTERBY", "PATTERN", "CONFIG*"],
        ["FILTERBY", "PATTERN", "*|*"],
        ["FILTERBY", "PATTERN", "[a-e]*t"],
        ["FILTERBY", "MODULE", "x"],
      ]
    ) {
      const mine = [...await list(kvdb, ...filter)].filter((n) => !KVDB_OWN.has(n));
      const theirs = [...await list(redis, ...filter)].filter((n) => served.has(n));
      assert.deepEqual(mine.sort(), theirs.sort(), filter.join(" "));
    }
    for (
      const bad of [
        ["FILTERBY"],
        ["FILTERBY", "ACLCAT"],
        ["FILTERBY", "NOSUCH", "x"],
        ["FILTERBY", "ACLCAT", "string", "x"],
        ["NOSUCH"],
        ["FILTERBY", "ACLCAT", "a", "FILTERBY", "PATTERN", "b"],
      ]
    ) {
      await assertSame(kvdb, redis, ["COMMAND", "LIST", ...bad]);
    }
    // kvdb's own commands carry the same kind of facts.
    assert.ok(served.has("replsync") && served.has("client|setinfo"));
  });
});

Deno.test("COMMAND GETKEYS and GETKEYSANDFLAGS as redis-server answers them", async () => {
  await withServers(async (kvdb, redis) => {
    const cases = [
      "get k",
      "set k v",
      "set k v get",
      "set k v EX 10 GeT",
      "set k v getx",
      "mset a 1 b 2",
      "mset a 1 b",
      "msetnx a 1",
      "mget a b c",
      "del a",
      "del a b c",
      "exists a a",
      "getex k px 1",
      "getdel k",
      "append k v",
      "incrby k 2",
      "expire k 10 nx",
      "pexpireat k 10",
      "ttl k",
      "type k",
      "persist k",
      "strlen k",
      // Errors: no keys, unknown, arity, subcommands.
      "ping",
      "ping x",
      "nosuch a",
      "get",
      "get a b",
      "mset a",
      "config get x",
      "config nosuch x",
      "client id",
      "command",
      "keys *",
      "flushall",
      "dbsize",
    ];
    for (const line of cases) {
      const args = line.split(" ");
      await assertSame(kvdb, redis, ["COMMAND", "GETKEYS", ...args]);
      await assertSame(kvdb, redis, ["COMMAND", "GETKEYSANDFLAGS", ...args]);
    }
    await assertSame(kvdb, redis, ["COMMAND", "GETKEYS"]);
    await assertSame(kvdb, redis, ["COMMAND", "GETKEYS", "GET"]);
    await assertSame(kvdb, redis, ["COMMAND", "GETKEYSANDFLAGS", "GET"]);
  });
});

Deno.test("container errors as redis-server answers them", async () => {
  await withServers(async (kvdb, redis) => {
    const requests = [
      ["CONFIG"],
      ["config", "nosuch"],
      ["CONFIG", "GET"],
      ["Config", "Get"],
      ["CLIENT"],
      ["CLIENT", "nosuch", "a"],
      ["client", "id", "x"],
      ["CLIENT", "GETNAME", "x"],
      ["CLIENT", "SETNAME"],
      ["COMMAND", "nosuch"],
      ["COMMAND", "COUNT", "x"],
      ["COMMAND", "INFO", "nosuch"],
      ["COMMAND", "DOCS", "nosuch"],
      ["COMMAND", "HELP", "x"],
      ["CONFIG", "HELP", "x"],
      ["CONFIG", "x".repeat(200)],
      ["CONFIG", "a\r\nb"],
      ["CONFIG", "\xff\x00"],
    ];
    for (const args of requests) await assertSame(kvdb, redis, args);
    // HELP: kvdb's own words, the same shape and first line.
    for (const container of ["COMMAND", "CONFIG", "CLIENT"]) {
      const got = await both(kvdb, redis, [container, "HELP"]);
      const mine = got.kvdb.value as RespReply[];
      const theirs = got.redis.value as RespReply[];
      assert.ok(mine.every((line) => line instanceof RespStatus), container);
      assert.deepEqual(mine[0], theirs[0]);
      const words = (lines: RespReply[]) =>
        lines.map((l) => (l as RespStatus).text.split(" ")[0]).filter((w) => /^[A-Z-]+$/.test(w));
      for (const word of words(mine)) {
        if (KVDB_OWN.has(`${container}|${word}`.toLowerCase())) continue;
        assert.ok(words(theirs).includes(word), `${container} ${word}`);
      }
      assert.ok(words(mine).includes("HELP"));
    }
  });
});

Deno.test("key specs read from the facts find what redis-server finds, for commands kvdb does not serve yet", async () => {
  const redisServer = await startRedis();
  const redis = await RespClient.connect(redisServer.port);
  const all = COMMAND_FACTS.flatMap((f) => [f, ...(f.subcommands ?? [])]);
  const cases = [
    "eval s 2 a b x",
    "eval s 0",
    "eval s x a",
    "eval s 3 a b",
    "eval s 4294967297 a",
    "evalsha_ro s 1 a",
    "fcall f 2 a b c",
    "zunionstore d 2 a b weights 1 2",
    "zinterstore d 0 a",
    "zdiff 2 a b",
    "lmpop 2 a b left",
    "blmpop 0 2 a b left",
    "bzmpop 0 1 a min",
    "sintercard 2 a b limit 1",
    "xread count 2 streams s1 s2 0 0",
    "xread streams s1 s2 s3 0 0",
    "xread streams s",
    "xreadgroup group g c streams s 0",
    "georadius k 1 2 3 m store d",
    "georadius k 1 2 3 m storedist d",
    "georadiusbymember k m 3 km",
    "geosearchstore d s frommember m byradius 1 m",
    "bitop and d a b",
    "lcs a b",
    "object encoding k",
    "memory usage k",
    "xinfo stream s full",
    "rename a b",
    "smove a b m",
    "lmove a b left right",
    "hset h f v f2 v2",
    "pfmerge d a b",
    "rpoplpush a b",
    "sdiffstore d a b c",
    "xgroup create s g $",
    "xautoclaim s g c 0 0",
  ];
  try {
    let compared = 0;
    for (const line of cases) {
      const args = line.split(" ");
      const facts = all.find((f) => f.name === `${args[0]}|${args[1]}`) ??
        all.find((f) => f.name === args[0]);
      assert.ok(facts, line);
      if (needsKeysProcedure(facts)) continue;
      const out = newKeysResult();
      const count = commandKeys(facts, args, out);
      const mine: RespReply[] = out.positions.map((p, i) => [
        args[p],
        out.flags[i].map((f) => new RespStatus(f)),
      ]);
      const theirs = await redis.call("COMMAND", "GETKEYSANDFLAGS", ...args);
      if (theirs instanceof RespError) {
        assert.equal(count, 0, `${line}: redis says ${theirs.text}`);
      } else {
        assert.equal(encode(mine), encode(theirs), line);
      }
      compared++;
    }
    assert.ok(compared >= 30, `only ${compared} cases compared`);
  } finally {
    redis.close();
    await redisServer.stop();
  }
});
