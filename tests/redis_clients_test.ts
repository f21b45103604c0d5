/**
 * Real Redis tools, unchanged, against kvdb (issue 5): `redis-cli` and
 * `redis-benchmark` (Debian's redis-tools, installed here when absent). The
 * client libraries have their own files: ioredis_client_test.ts,
 * node_redis_test.ts, redis_py_client_test.ts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { RespClient, RespStatus, withServer } from "./_helpers.ts";
import {
  checkKnownGaps,
  flushAll,
  judgeScenario,
  type KnownGaps,
  runTool,
  ServerPair,
  type ToolResult,
} from "./_real_clients.ts";
import { ensureDebianPackage, runs } from "./_debian.ts";

// ---------------------------------------------------------------------------
// Tools.

/** redis-cli and redis-benchmark, installed from Debian's redis-tools if absent. */
function ensureRedisTools(): Promise<void> {
  return ensureDebianPackage(
    "redis-tools",
    async () => await runs("redis-cli") && await runs("redis-benchmark"),
  );
}

/** A program run to completion (killed after `timeoutMs`, 20 s by default here). */
function run(
  program: string,
  args: string[],
  options: { stdin?: Uint8Array; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return runTool(program, args, { timeoutMs: 20_000, ...options });
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

// ---------------------------------------------------------------------------
// redis-cli.

Deno.test("redis-cli: one-shot commands", async () => {
  await ensureRedisTools();
  await withServer({}, async (server) => {
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
  await withServer({}, async (server) => {
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
  await withServer({}, async (server) => {
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

/**
 * redis-benchmark 7.0's default test list, in its order: the name each
 * result line carries, and the `-t` selector that runs it alone.
 */
const DEFAULT_TESTS: readonly (readonly [name: string, selector: string])[] = [
  ["PING_INLINE", "ping_inline"],
  ["PING_MBULK", "ping_mbulk"],
  ["SET", "set"],
  ["GET", "get"],
  ["INCR", "incr"],
  ["LPUSH", "lpush"],
  ["RPUSH", "rpush"],
  ["LPOP", "lpop"],
  ["RPOP", "rpop"],
  ["SADD", "sadd"],
  ["HSET", "hset"],
  ["SPOP", "spop"],
  ["ZADD", "zadd"],
  ["ZPOPMIN", "zpopmin"],
  ["LPUSH (needed to benchmark LRANGE)", "lrange_100"],
  ["LRANGE_100 (first 100 elements)", "lrange_100"],
  ["LRANGE_300 (first 300 elements)", "lrange_300"],
  ["LRANGE_500 (first 500 elements)", "lrange_500"],
  ["LRANGE_600 (first 600 elements)", "lrange_600"],
  ["MSET (10 keys)", "mset"],
];

const BENCHMARK_REQUESTS = 1000;

Deno.test("redis-benchmark: the full default test list (network.protocol: resp)", async (t) => {
  await ensureRedisTools();
  const pair = await ServerPair.start({ kvdb: { network: { protocol: "resp" } } });
  const bench = (port: number, extra: string[] = []) =>
    runTool("redis-benchmark", [
      ...["-h", "127.0.0.1", "-p", String(port), "-n", String(BENCHMARK_REQUESTS), "-q"],
      ...extra,
    ], { timeoutMs: 120_000 });
  try {
    await t.step(
      "the list is redis-benchmark's: every test gives a rate on redis-server",
      async () => {
        const out = await bench(pair.redis.port);
        assert.equal(out.code, 0, out.stdout + out.stderr);
        assert.deepEqual(
          [...benchmarkRates(out.stdout).keys()],
          DEFAULT_TESTS.map(([name]) => name),
        );
      },
    );

    await t.step("kvdb: every test gives a rate", async () => {
      const out = await bench(pair.kvdb.port);
      const rates = benchmarkRates(out.stdout);
      assert.equal(out.code, 0, out.stdout + out.stderr);
      assert.deepEqual([...rates.keys()], DEFAULT_TESTS.map(([name]) => name));
      for (const [name, rate] of rates) assert.ok(rate > 0, `${name}: ${rate}`);
      // The connection-level contract still held: INCR ran exactly once per request.
      const c = await RespClient.connect(pair.kvdb.port);
      try {
        assert.equal(await c.call("GET", "counter:__rand_int__"), String(BENCHMARK_REQUESTS));
      } finally {
        c.close();
      }
    });

    // One by one: each selector runs the tests it runs on redis-server, with no error.
    for (const selector of new Set(DEFAULT_TESTS.map(([, s]) => s))) {
      await t.step(`kvdb: -t ${selector} alone`, async () => {
        const reference = benchmarkRates((await bench(pair.redis.port, ["-t", selector])).stdout);
        const out = await bench(pair.kvdb.port, ["-t", selector]);
        assert.equal(out.code, 0, out.stdout + out.stderr);
        assert.deepEqual(
          [...benchmarkRates(out.stdout).keys()],
          [...reference.keys()],
          out.stdout + out.stderr,
        );
        assert.doesNotMatch(out.stdout + out.stderr, /ERR|error/i);
      });
    }

    await t.step("kvdb: --dbnum 3 writes into database 3", async () => {
      await flushAll(pair.kvdb.port);
      const out = await bench(pair.kvdb.port, ["--dbnum", "3", "-t", "set,incr"]);
      assert.equal(out.code, 0, out.stdout + out.stderr);
      const c = await RespClient.connect(pair.kvdb.port);
      try {
        assert.equal(await c.call("EXISTS", "counter:__rand_int__"), 0);
        assert.deepEqual(await c.call("SELECT", "3"), new RespStatus("OK"));
        assert.equal(await c.call("GET", "counter:__rand_int__"), String(BENCHMARK_REQUESTS));
      } finally {
        c.close();
      }
    });

    await t.step("string and bitmap commands given on the command line", async () => {
      // (__rand_int__ is zero-padded: not an integer to Redis, so only in keys.)
      const commands = [
        ["SETEX", "cache:__rand_int__", "100", "v"],
        ["INCRBYFLOAT", "float:__rand_int__", "0.5"],
        ["SETRANGE", "range:__rand_int__", "10", "xyz"],
        ["GETRANGE", "range:__rand_int__", "0", "-1"],
        ["SETBIT", "bitmap:__rand_int__", "1000", "1"],
        ["BITCOUNT", "bitmap:__rand_int__"],
        ["BITFIELD", "fields:__rand_int__", "INCRBY", "u8", "#3", "1"],
      ];
      for (const server of pair.both) {
        for (const command of commands) {
          const out = await bench(server.port, ["-r", "100", ...command]);
          const what = `${server.name}: ${command.join(" ")}:\n${out.stdout}${out.stderr}`;
          assert.equal(out.code, 0, what);
          assert.equal(benchmarkRates(out.stdout).size, 1, what);
        }
      }
    });
  } catch (e) {
    if (e instanceof Error) e.message += `\n${pair.logs()}`;
    throw e;
  } finally {
    await pair.stop();
  }
});

// ---------------------------------------------------------------------------
// redis-cli, side by side with redis-server: the same invocations, the same output.

/** Commands in the Redis protocol, as a mass-insertion file holds them. */
function respCommands(commands: string[][]): string {
  return commands.map((args) =>
    `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("")
  ).join("");
}

/** One redis-cli run: its arguments after `-h -p`, and what it reads on stdin. */
interface CliRun {
  args: string[];
  stdin?: string;
}

/** Cases of redis-cli runs whose output (stdout, stderr, exit code) must equal Redis's. */
const CLI_CASES: Readonly<Record<string, readonly CliRun[]>> = {
  "strings and counters, raw and --no-raw": [
    { args: ["SETEX", "page", "100", "<html>"] },
    { args: ["PSETEX", "frag", "100000", "<p>"] },
    { args: ["GETSET", "page", "new"] },
    { args: ["--no-raw", "INCRBYFLOAT", "f", "10.5"] },
    { args: ["INCRBYFLOAT", "f", "0.1"] },
    { args: ["--no-raw", "INCRBYFLOAT", "f", "inf"] },
    { args: ["SETRANGE", "s", "3", "abc"] },
    { args: ["--no-raw", "GET", "s"] },
    { args: ["--no-raw", "GETRANGE", "s", "0", "4"] },
    { args: ["SUBSTR", "s", "3", "-1"] },
    { args: ["MSET", "k1", "ohmytext", "k2", "mynewtext"] },
    { args: ["LCS", "k1", "k2"] },
    { args: ["--no-raw", "LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"] },
    { args: ["--no-raw", "LCS", "k1", "k2", "LEN"] },
    { args: ["--no-raw", "SETRANGE", "s", "-1", "x"] },
  ],
  "bitmaps": [
    { args: ["SETBIT", "b", "7", "1"] },
    { args: ["SETBIT", "b", "100", "1"] },
    { args: ["--no-raw", "GETBIT", "b", "7"] },
    { args: ["--no-raw", "BITCOUNT", "b"] },
    { args: ["--no-raw", "BITCOUNT", "b", "0", "7", "BIT"] },
    { args: ["--no-raw", "BITPOS", "b", "1", "1"] },
    { args: ["--no-raw", "BITOP", "NOT", "nb", "b"] },
    { args: ["--no-raw", "GET", "nb"] },
    { args: ["--no-raw", "BITFIELD", "bf", "SET", "i8", "0", "-100", "GET", "u8", "0"] },
    { args: ["--no-raw", "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-100"] },
    { args: ["--no-raw", "BITFIELD_RO", "bf", "GET", "i8", "0"] },
    { args: ["--no-raw", "SETBIT", "b", "4294967296", "1"] },
  ],
  "MULTI/EXEC/DISCARD/WATCH from stdin (one connection)": [
    { args: [], stdin: "MULTI\nSET a 1\nINCR a\nGET a\nEXEC\n" },
    { args: ["--no-raw"], stdin: "MULTI\nSET a 1\nINCR a\nEXEC\n" },
    { args: ["--no-raw"], stdin: "MULTI\nSET a\nINCR a\nEXEC\nGET a\n" },
    { args: ["--no-raw"], stdin: "SET w abc\nMULTI\nINCR w\nSET x 1\nEXEC\nGET x\n" },
    { args: ["--no-raw"], stdin: "MULTI\nSET d 1\nDISCARD\nEXISTS d\nEXEC\nDISCARD\n" },
    { args: ["--no-raw"], stdin: "WATCH a\nMULTI\nMULTI\nWATCH a\nINCR a\nEXEC\nUNWATCH\n" },
  ],
  "databases: -n, SELECT from stdin, MOVE, SWAPDB, FLUSHDB": [
    { args: ["-n", "2", "SET", "k", "in2"] },
    { args: ["-n", "2", "GET", "k"] },
    { args: ["--no-raw", "GET", "k"] },
    { args: ["--no-raw", "-n", "2", "DBSIZE"] },
    { args: ["--no-raw"], stdin: "SELECT 2\nGET k\nMOVE k 5\nSELECT 5\nGET k\nSELECT 16\n" },
    { args: ["--no-raw", "SWAPDB", "5", "0"] },
    { args: ["GET", "k"] },
    { args: ["-n", "5", "--no-raw", "FLUSHDB"] },
    { args: ["--no-raw", "DBSIZE"] },
    { args: ["-n", "20", "PING"] },
  ],
  "DUMP/RESTORE": [
    { args: ["SET", "k", "hello"] },
    { args: ["--no-raw", "DUMP", "k"] },
    { args: ["--no-raw", "RESTORE", "k", "0", "junk"] },
    { args: ["--no-raw", "RESTORE", "k", "0", "x", "REPLACE"] },
  ],
  // Redis's mass-insertion recipe: the Redis protocol on stdin. (Inline
  // commands there would make the connection a text one under
  // `network.protocol: auto`; the redis-benchmark test, in `resp` mode, pipes those.)
  "--pipe mass insertion": [
    {
      args: ["--pipe"],
      stdin: respCommands([
        ...Array.from({ length: 500 }, (_, i) => [["SET", `key:${i}`, `${i}`], ["INCR", "n"]])
          .flat(),
        ["SETBIT", "bits", "1000", "1"],
        ["INCR", "key:1"],
        ["SETRANGE", "key:2", "0", "x"],
        ["MULTI"],
        ["INCR", "n"],
        ["EXEC"],
      ]),
    },
    { args: ["--no-raw", "DBSIZE"] },
    { args: ["GET", "n"] },
    { args: ["MGET", "key:0", "key:1", "key:2", "key:499"] },
  ],
  "-r repeat and --scan": [
    { args: ["-r", "5", "INCR", "c"] },
    { args: ["MSET", "u:1", "a", "u:2", "b", "v:1", "c"] },
  ],
  "RESP3 (-3): nulls, doubles-free replies, maps": [
    { args: ["-3", "--no-raw", "GET", "missing"] },
    { args: ["-3", "--no-raw", "MSET", "k1", "ohmytext", "k2", "mynewtext"] },
    { args: ["-3", "--no-raw", "LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4"] },
    { args: ["-3", "--no-raw", "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"] },
    { args: ["-3", "--no-raw"], stdin: "MULTI\nGET missing\nINCRBYFLOAT f 1.5\nEXEC\n" },
    { args: ["-3", "--no-raw"], stdin: "WATCH k1\nMULTI\nEXEC\n" },
  ],
  "RESP3 (-3): CONFIG GET is a map": [
    { args: ["-3", "--no-raw", "CONFIG", "GET", "appendonly"] },
  ],
  "EXEC with arguments aborts the transaction": [
    { args: ["--no-raw"], stdin: "MULTI\nSET a 1\nEXEC x\nEXISTS a\nEXEC\n" },
    { args: ["--no-raw", "EXEC", "x"] },
  ],
};

/** redis-cli cases where kvdb's output differs from Redis's, and how (matched against the diff). */
const CLI_KNOWN_GAPS: KnownGaps = {};

Deno.test("redis-cli: the same output from kvdb as from redis-server", async (t) => {
  await ensureRedisTools();
  checkKnownGaps(Object.keys(CLI_CASES), CLI_KNOWN_GAPS);
  const pair = await ServerPair.start();
  try {
    for (const [name, runs] of Object.entries(CLI_CASES)) {
      await t.step(name, async () => {
        const outputs: string[][] = [];
        for (const server of pair.both) {
          await flushAll(server.port);
          const shown: string[] = [];
          for (const r of runs) {
            const out = await runTool(
              "redis-cli",
              ["-h", "127.0.0.1", "-p", String(server.port), ...r.args],
              { stdin: r.stdin ?? "" },
            );
            shown.push(JSON.stringify({ exit: out.code, stdout: out.stdout, stderr: out.stderr }));
          }
          if (name === "-r repeat and --scan") {
            const scan = await runTool("redis-cli", [
              ...["-h", "127.0.0.1", "-p", String(server.port), "--scan", "--pattern", "u:*"],
            ]);
            shown.push(scan.stdout.split("\n").sort().join(","));
          }
          outputs.push(shown);
        }
        const differing = runs.map((r, i) => [r, outputs[0][i], outputs[1][i]] as const)
          .filter(([, a, b]) => a !== b)
          .map(([r, a, b]) =>
            `redis-cli ${r.args.join(" ")}${
              r.stdin ? ` < ${JSON.stringify(r.stdin.slice(0, 200))}` : ""
            }\n` +
            `  redis: ${a}\n  kvdb:  ${b}`
          );
        if (outputs[0].length > runs.length && outputs[0].at(-1) !== outputs[1].at(-1)) {
          differing.push(`--scan: redis ${outputs[0].at(-1)}, kvdb ${outputs[1].at(-1)}`);
        }
        judgeScenario(
          name,
          undefined,
          differing.length > 0 ? differing.join("\n") : undefined,
          CLI_KNOWN_GAPS[name],
        );
      });
    }
  } finally {
    await pair.stop();
  }
});

Deno.test("redis-cli --pipe with inline commands (network.protocol: resp)", async () => {
  await ensureRedisTools();
  const pair = await ServerPair.start({ kvdb: { network: { protocol: "resp" } } });
  try {
    const stdin = Array.from({ length: 300 }, (_, i) => `SET key:${i} "v ${i}"\r\nINCR n\r\n`)
      .join("") + "\r\nSETEX e 100 'quoted value'\r\nMULTI\r\nINCR n\r\nEXEC\r\n";
    const shown: string[] = [];
    for (const server of pair.both) {
      await flushAll(server.port);
      const base = ["-h", "127.0.0.1", "-p", String(server.port)];
      const out = await runTool("redis-cli", [...base, "--pipe"], { stdin });
      const check = await runTool("redis-cli", [...base, "MGET", "n", "key:299", "e"]);
      shown.push(JSON.stringify([out.code, out.stdout, out.stderr, check.stdout]));
    }
    assert.equal(shown[1], shown[0], "kvdb (second) differs from redis-server (first)");
    assert.match(shown[1], /errors: 0, replies: 604/);
  } catch (e) {
    if (e instanceof Error) e.message += `\n${pair.logs()}`;
    throw e;
  } finally {
    await pair.stop();
  }
});
