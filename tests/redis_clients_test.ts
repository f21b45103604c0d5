/**
 * Real Redis tools, unchanged, against kvdb (issue 5): `redis-cli` and
 * `redis-benchmark` (Debian's redis-tools, installed here when absent). The
 * client libraries have their own files: ioredis_client_test.ts,
 * node_redis_test.ts, redis_py_client_test.ts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { RespClient, ServerProcess, withServerLog } from "./_helpers.ts";

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
