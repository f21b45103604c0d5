/**
 * Real Redis clients, unchanged, against kvdb (issue 5): `redis-cli` and
 * `redis-benchmark` (Debian's redis-tools, installed here when absent) and
 * the npm library ioredis.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { Redis, ReplyError } from "ioredis";
import {
  delay,
  freePort,
  RespClient,
  ServerProcess,
  TcpClient,
  withServerLog,
} from "./_helpers.ts";

const decoder = new TextDecoder();

// ---------------------------------------------------------------------------
// Tools.

async function runs(name: string): Promise<boolean> {
  try {
    const out = await new Deno.Command(name, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

let toolsReady: Promise<void> | undefined;

/** redis-cli and redis-benchmark, installed from Debian's redis-tools if absent. */
function ensureRedisTools(): Promise<void> {
  toolsReady ??= (async () => {
    if (await runs("redis-cli") && await runs("redis-benchmark")) return;
    for (const args of [["update"], ["install", "-y", "redis-tools"]]) {
      const out = await new Deno.Command("apt-get", {
        args,
        stdout: "piped",
        stderr: "piped",
        env: { DEBIAN_FRONTEND: "noninteractive" },
      }).output().catch((e) => {
        throw new Error(`redis-tools missing and apt-get could not run: ${e}`);
      });
      if (!out.success) {
        throw new Error(`apt-get ${args.join(" ")} failed:\n${decoder.decode(out.stderr)}`);
      }
    }
    if (!await runs("redis-cli") || !await runs("redis-benchmark")) {
      throw new Error("redis-cli / redis-benchmark still missing after installing redis-tools");
    }
  })();
  return toolsReady;
}

interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
  bytes: Uint8Array;
}

/** Runs a program to completion (killed after `timeoutMs`), optionally feeding stdin. */
async function run(
  program: string,
  args: string[],
  options: { stdin?: Uint8Array; timeoutMs?: number } = {},
): Promise<ToolResult> {
  const child = new Deno.Command(program, {
    args,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, options.timeoutMs ?? 20_000);
  try {
    if (options.stdin) {
      const writer = child.stdin.getWriter();
      await writer.write(options.stdin);
      await writer.close();
    }
    const out = await child.output();
    if (timedOut) throw new Error(`${program} ${args.join(" ")} timed out`);
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      bytes: out.stdout,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** How redis-cli shows a bulk string outside raw mode (its `sdscatrepr`). */
function redisRepr(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (ch === "\\" || ch === '"') out += "\\" + ch;
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b === 0x07) out += "\\a";
    else if (b === 0x08) out += "\\b";
    else if (b >= 0x20 && b <= 0x7e) out += ch;
    else out += "\\x" + b.toString(16).padStart(2, "0");
  }
  return out + '"';
}

/** Rejects if `promise` does not settle within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms}ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` against a fresh server, stopped whatever happens. */
async function withServer(
  fn: (server: ServerProcess) => Promise<void>,
  config: Record<string, Record<string, unknown>> = {},
): Promise<void> {
  const server = await ServerProcess.start(config);
  try {
    await fn(server);
  } catch (e) {
    throw withServerLog(e, server);
  } finally {
    await server.stop("SIGKILL");
    await Deno.remove(server.dir, { recursive: true }).catch(() => {});
  }
}

// ---------------------------------------------------------------------------
// redis-cli.

Deno.test("redis-cli: one-shot commands", async () => {
  await ensureRedisTools();
  await withServer(async (server) => {
    const cli = async (...args: string[]) => {
      const out = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(server.port), ...args]);
      assert.equal(out.stderr, "", `redis-cli ${args.join(" ")}: stderr`);
      return out.stdout;
    };
    // Raw mode (stdout is not a terminal): values as they are, nil as "".
    assert.equal(await cli("PING"), "PONG\n");
    assert.equal(await cli("SET", "k", "hello world"), "OK\n");
    assert.equal(await cli("GET", "k"), "hello world\n");
    assert.equal(await cli("GET", "missing"), "\n");
    assert.equal(await cli("INCR", "n"), "1\n");
    assert.equal(await cli("INCRBY", "n", "41"), "42\n");
    assert.equal(await cli("MSET", "a", "1", "b", "2"), "OK\n");
    assert.equal(await cli("MGET", "a", "missing", "b"), "1\n\n2\n");
    assert.equal(await cli("SET", "e", "v", "EX", "100"), "OK\n");
    assert.match(await cli("TTL", "e"), /^(99|100)\n$/);
    assert.equal(await cli("EXISTS", "a", "b", "missing"), "2\n");
    assert.equal(await cli("DEL", "a", "b", "missing"), "2\n");
    assert.equal(await cli("DBSIZE"), "3\n");
    assert.equal((await cli("KEYS", "*")).split("\n").filter((l) => l).sort().join(","), "e,k,n");
    assert.match(await cli("INFO", "keyspace"), /# Keyspace\r?\ndb0:keys=3,/);
    assert.equal(await cli("TYPE", "k"), "string\n");
    // Not raw: redis-cli's type annotations, as against Redis.
    assert.equal(await cli("--no-raw", "GET", "missing"), "(nil)\n");
    assert.equal(await cli("--no-raw", "INCR", "n"), "(integer) 43\n");
    assert.equal(await cli("--no-raw", "GET", "k"), '"hello world"\n');
    assert.equal(await cli("--no-raw", "MGET", "k", "missing"), '1) "hello world"\n2) (nil)\n');
    assert.equal(await cli("--no-raw", "KEYS", "nomatch*"), "(empty array)\n");
    assert.equal(await cli("--no-raw", "PING"), "PONG\n");
    assert.equal(
      await cli("--no-raw", "SET", "k", "v", "NX", "XX"),
      "(error) ERR syntax error\n",
    );
    assert.match(await cli("--no-raw", "FOO"), /^\(error\) ERR unknown command 'FOO'/);
    // (redis-cli ends an error with an empty line in raw mode.)
    assert.match(await cli("INCR", "k"), /^ERR value is not an integer or out of range\n+$/);
    assert.match(await cli("GET"), /^ERR wrong number of arguments for 'get' command\n+$/);
  });
});

Deno.test("redis-cli: binary values with -x, shown with escapes by --no-raw", async () => {
  await ensureRedisTools();
  await withServer(async (server) => {
    const dir = await Deno.makeTempDir({ prefix: "kvdb-cli-" });
    try {
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const file = join(dir, "bytes.bin");
      await Deno.writeFile(file, all);
      const port = String(server.port);
      const set = await run("redis-cli", ["-p", port, "-x", "SET", "bin"], {
        stdin: await Deno.readFile(file),
      });
      assert.equal(set.stdout, "OK\n", set.stderr);
      // Raw: the very bytes, then redis-cli's newline.
      const raw = await run("redis-cli", ["-p", port, "GET", "bin"]);
      assert.deepEqual(raw.bytes, Uint8Array.from([...all, 0x0a]));
      // Not raw: a quoted string with escapes.
      const shown = await run("redis-cli", ["-p", port, "--no-raw", "GET", "bin"]);
      assert.equal(shown.stdout, redisRepr(all) + "\n");
      assert.ok(shown.stdout.startsWith('"\\x00\\x01'), shown.stdout.slice(0, 40));
      assert.equal(
        await run("redis-cli", ["-p", port, "STRLEN", "bin"]).then((r) => r.stdout),
        "256\n",
      );
      // The same bytes through a raw RESP client.
      const client = await RespClient.connect(server.port);
      try {
        assert.equal(await client.call("GET", "bin"), String.fromCharCode(...all));
      } finally {
        client.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

// ---------------------------------------------------------------------------
// redis-benchmark.

/** redis-benchmark -q's final line for each test: name -> requests per second. */
function benchmarkRates(stdout: string): Map<string, number> {
  const rates = new Map<string, number>();
  for (const line of stdout.split(/[\r\n]+/)) {
    const m = line.trim().match(/^(.+?): ([\d.]+) requests per second/);
    if (m) rates.set(m[1], Number(m[2]));
  }
  return rates;
}

Deno.test("redis-benchmark: set, get, incr, mset, plain and pipelined", async () => {
  await ensureRedisTools();
  await withServer(async (server) => {
    const base = ["-h", "127.0.0.1", "-p", String(server.port), "-t", "set,get,incr,mset"];
    const modes: [string, string[], string][] = [
      ["plain", [], "2000"],
      ["-P 16", ["-P", "16"], "4000"],
    ];
    for (const [label, extra, counter] of modes) {
      const out = await run("redis-benchmark", [...base, "-n", "2000", "-q", ...extra], {
        timeoutMs: 30_000,
      });
      assert.equal(out.code, 0, `${label}: exit ${out.code}\n${out.stdout}\n${out.stderr}`);
      assert.doesNotMatch(out.stdout + out.stderr, /ERR|error|WARNING/i, `${label} output`);
      const rates = benchmarkRates(out.stdout);
      for (const test of ["SET", "GET", "INCR", "MSET (10 keys)"]) {
        const rate = rates.get(test);
        assert.ok(
          rate !== undefined && rate > 0,
          `${label}: no rate for ${test} in\n${out.stdout}`,
        );
      }
      // Every INCR was executed exactly once.
      const client = await RespClient.connect(server.port);
      try {
        assert.equal(await client.call("GET", "counter:__rand_int__"), counter, label);
        assert.equal(await client.call("STRLEN", "key:__rand_int__"), 3, label);
      } finally {
        client.close();
      }
    }
  });
});

// ---------------------------------------------------------------------------
// ioredis.

/** An ioredis client that never reconnects (no timers left behind). */
async function ioredis(port: number): Promise<Redis> {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 5000,
  });
  client.on("error", () => {}); // Surfaced through the commands' promises.
  await within(client.connect(), 10_000, "ioredis connect");
  return client;
}

async function closeIoredis(client: Redis): Promise<void> {
  try {
    await within(client.quit(), 5000, "ioredis quit");
  } catch {
    client.disconnect();
  }
}

Deno.test("ioredis: commands, pipelines, Buffers, expiry, scanStream, errors", async (t) => {
  await withServer(async (server) => {
    const client = await ioredis(server.port);
    try {
      await t.step("plain commands", async () => {
        assert.equal(await client.ping(), "PONG");
        assert.equal(await client.set("k", "v"), "OK");
        assert.equal(await client.get("k"), "v");
        assert.equal(await client.get("missing"), null);
        assert.equal(await client.set("k", "w", "NX"), null);
        assert.equal(await client.set("k", "w", "XX", "GET"), "v");
        assert.equal(await client.incr("n"), 1);
        assert.equal(await client.incrby("n", 9), 10);
        assert.equal(await client.decr("n"), 9);
        assert.equal(await client.decrby("n", 10), -1);
        assert.equal(await client.mset({ a: "1", b: "2" }), "OK");
        assert.deepEqual(await client.mget("a", "missing", "b"), ["1", null, "2"]);
        assert.equal(await client.msetnx("a", "x", "c", "y"), 0);
        assert.equal(await client.setnx("c", "3"), 1);
        assert.equal(await client.exists("a", "b", "c", "missing"), 3);
        assert.equal(await client.append("c", "45"), 3);
        assert.equal(await client.strlen("c"), 3);
        assert.equal(await client.getdel("c"), "345");
        assert.equal(await client.del("a", "b", "missing"), 2);
        assert.equal(await client.expire("k", 100), 1);
        assert.ok([99, 100].includes(await client.ttl("k")));
        assert.equal(await client.persist("k"), 1);
        assert.equal(await client.ttl("k"), -1);
        assert.equal(await client.getex("k", "EX", 50), "w");
        assert.ok([49, 50].includes(await client.ttl("k")));
        assert.equal(await client.type("k"), "string");
        assert.deepEqual((await client.keys("*")).sort(), ["k", "n"]);
        assert.equal(await client.dbsize(), 2);
        assert.match(await client.info("server"), /redis_version:/);
        assert.equal(await client.echo("hi"), "hi");
        assert.equal(await client.select(0), "OK");
        assert.equal(await client.client("SETNAME", "ioredis-test"), "OK");
        assert.equal(await client.client("GETNAME"), "ioredis-test");
        assert.deepEqual(await client.config("GET", "appendonly"), ["appendonly", "no"]);
        assert.equal(await client.flushall(), "OK");
        assert.equal(await client.dbsize(), 0);
      });

      await t.step("a pipeline of 1000 commands, results in order", async () => {
        const pipeline = client.pipeline();
        for (let i = 0; i < 1000; i++) {
          if (i % 4 === 0) pipeline.set(`p:${i}`, `v${i}`);
          else if (i % 4 === 1) pipeline.get(`p:${i - 1}`);
          else if (i % 4 === 2) pipeline.incr("p:counter");
          else pipeline.exists(`p:${i - 3}`, `p:missing`);
        }
        const results = await within(pipeline.exec(), 15_000, "pipeline exec");
        assert.ok(results !== null && results.length === 1000);
        results.forEach(([error, value], i) => {
          assert.equal(error, null, `command ${i}`);
          const want = [
            "OK",
            `v${i - 1}`,
            Math.floor(i / 4) + 1,
            1,
          ][i % 4];
          assert.equal(value, want, `result ${i}`);
        });
      });

      await t.step("Buffers with every byte value as keys and values", async () => {
        assert.equal(await client.flushall(), "OK");
        const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const pipeline = client.pipeline();
        const pairs: [Buffer, Buffer][] = [];
        for (let b = 0; b < 256; b++) {
          const key = Buffer.from([0x62, b, 0x00, 0xff]);
          const value = Buffer.concat([all.subarray(b), all.subarray(0, b)]);
          pairs.push([key, value]);
          pipeline.set(key, value);
        }
        pairs.push([all, Buffer.from("the key holds every byte")]);
        pipeline.set(all, pairs[256][1]);
        const results = await within(pipeline.exec(), 15_000, "binary pipeline");
        assert.ok(results?.every(([e, v]) => e === null && v === "OK"));
        for (const [key, value] of pairs) {
          const got = await client.getBuffer(key);
          assert.ok(got !== null && value.equals(got), `getBuffer(${key.toString("hex")})`);
        }
        const keys = pairs.slice(0, 10).map(([k]) => k);
        const many = await client.mgetBuffer(...keys);
        many.forEach((got, i) => assert.ok(got !== null && pairs[i][1].equals(got)));
        assert.equal(await client.strlen(all), pairs[256][1].length);
        assert.equal(await client.dbsize(), 257);
        const listed = await client.keysBuffer("b*");
        assert.equal(listed.length, 256);
        assert.equal(await client.del(all), 1);
      });

      await t.step("expiry: set PX 100, then gone", async () => {
        assert.equal(await client.set("x", "v", "PX", 100), "OK");
        assert.equal(await client.get("x"), "v");
        const pttl = await client.pttl("x");
        assert.ok(pttl > 0 && pttl <= 100, `pttl ${pttl}`);
        await delay(150);
        assert.equal(await client.get("x"), null);
        assert.equal(await client.pttl("x"), -2);
        assert.equal(await client.exists("x"), 0);
      });

      await t.step("scanStream collects every key", async () => {
        await client.flushall();
        const want = new Set<string>();
        const args: string[] = [];
        for (let i = 0; i < 1000; i++) {
          want.add(`s:${i}`);
          args.push(`s:${i}`, "v");
          if (i % 100 === 0) args.push(`other:${i}`, "v");
        }
        const pipeline = client.pipeline();
        for (let i = 0; i < args.length; i += 100) pipeline.mset(...args.slice(i, i + 100));
        await pipeline.exec();
        const found = new Set<string>();
        await within(
          new Promise<void>((resolve, reject) => {
            const stream = client.scanStream({ match: "s:*", count: 37 });
            stream.on("data", (keys: string[]) => keys.forEach((k) => found.add(k)));
            stream.on("end", resolve);
            stream.on("error", reject);
          }),
          15_000,
          "scanStream",
        );
        assert.equal(found.size, want.size, `scanStream found ${found.size} of ${want.size}`);
        for (const key of found) assert.ok(want.has(key), `unexpected key ${key}`);
      });

      await t.step("error replies surface as ReplyError", async () => {
        await client.set("word", "abc");
        await assert.rejects(
          () => client.incr("word"),
          (e: Error) =>
            e instanceof ReplyError &&
            /^ERR value is not an integer or out of range/.test(e.message),
        );
        await assert.rejects(
          () => client.call("NOSUCHCOMMAND", "x"),
          (e: Error) => e instanceof ReplyError && /^ERR unknown command/.test(e.message),
        );
        await assert.rejects(
          () => client.call("GET"),
          (e: Error) =>
            e instanceof ReplyError &&
            e.message.startsWith("ERR wrong number of arguments for 'get' command"),
        );
        // The connection is still usable after errors.
        assert.equal(await client.get("word"), "abc");
      });
    } finally {
      await closeIoredis(client);
    }
  });
});

Deno.test("ioredis: a slave's -READONLY surfaces as an error", async () => {
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const clients: Redis[] = [];
  const dir = async () => {
    const d = await Deno.makeTempDir({ prefix: "kvdb-ioredis-" });
    dirs.push(d);
    return d;
  };
  try {
    const masterDir = await dir();
    const master = await ServerProcess.start({
      wal: { enabled: true, data_directory: join(masterDir, "wal") },
      replication: {
        enabled: true,
        replica_type: "master",
        master_address: `127.0.0.1:${freePort()}`,
        sync_interval: "200ms",
      },
    }, { dir: masterDir });
    servers.push(master);
    const slaveDir = await dir();
    const slave = await ServerProcess.start({
      wal: { enabled: true, data_directory: join(slaveDir, "wal") },
      replication: {
        enabled: true,
        replica_type: "slave",
        master_address: `127.0.0.1:${master.port}`,
        sync_interval: "200ms",
      },
    }, { dir: slaveDir });
    servers.push(slave);

    const onMaster = await ioredis(master.port);
    clients.push(onMaster);
    const onSlave = await ioredis(slave.port);
    clients.push(onSlave);
    assert.equal(await onMaster.set("shared", "from master"), "OK");
    const deadline = Date.now() + 10_000;
    while (await onSlave.get("shared") !== "from master") {
      assert.ok(Date.now() < deadline, "the write never reached the slave");
      await delay(20);
    }
    await assert.rejects(
      () => onSlave.set("k", "v"),
      (e: Error) =>
        e instanceof ReplyError &&
        e.message === "READONLY You can't write against a read only replica.",
    );
    await assert.rejects(() => onSlave.del("shared"), (e: Error) => /^READONLY/.test(e.message));
    await assert.rejects(() => onSlave.incr("n"), (e: Error) => /^READONLY/.test(e.message));
    assert.equal(await onSlave.get("shared"), "from master");
    const role = await onSlave.call("ROLE") as unknown[];
    assert.equal(role[0], "slave");
    // The text protocol on the slave says it the original's way.
    const text = await TcpClient.connect(slave.port);
    try {
      assert.equal(
        await text.command("SET k v"),
        "ERROR: write operations not allowed on slave replica",
      );
    } finally {
      text.close();
    }
  } finally {
    for (const client of clients) await closeIoredis(client);
    for (const server of servers.reverse()) await server.stop("SIGKILL").catch(() => {});
    for (const d of dirs) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
});
