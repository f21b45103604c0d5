/**
 * How `kvdb client` and `kvdb cli` show replies, checked against redis-cli
 * itself: the same command lines are sent by both clients to the same
 * redis-server, and the outputs compared byte for byte, for a person
 * (`--no-raw`, and a real terminal through `script`) and raw (piped), in
 * RESP2 and RESP3. The original kvdb's SET, GET and DEL keep their lines.
 */

import assert from "node:assert/strict";
import { RedisServer } from "./_diff_servers.ts";
import { delay, freePort, KVDB_FLAGS, runKvdb, ServerProcess } from "./_helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

/** Reply shapes: nesting, index widths, binary and Unicode strings, errors, nils, empties. */
const SHAPES = [
  String.raw`MSET a 1 b "" c "x\x00\xff\n\"y\\z" u "€uro ok" t "tab\there" e "\a\b\r"`,
  "MGET a b c u t e nope",
  "INCR a",
  "INCRBYFLOAT f 1.5",
  "FOO bar",
  "GETRANGE",
  "CONFIG GET maxmemory*",
  "INFO keyspace",
  "KEYS nothing*",
  "STRLEN c",
  "PING",
  `ECHO "line1\\nline2"`,
  `EVAL "return {1,{2,{3,'x'}},false,{err='E bad'},{ok='fine'},''}" 0`,
  `EVAL "local t={} for i=1,12 do t[i]=i end t[13]={1,2,3,4,5,6,7,8,9,10,11} return t" 0`,
  `EVAL "local t={} for i=1,101 do t[i]='v'..i end return {t}" 0`,
  `EVAL "return {}" 0`,
  `EVAL "return {{}}" 0`,
  `EVAL "return {{{1}}}" 0`,
  `EVAL "return 'plain'" 0`,
  `EVAL "return {err='ERR custom'}" 0`,
  "COMMAND INFO get",
];

/** RESP3 types, through Lua (`redis.setresp(3)`) and RESP3 replies of commands. */
const RESP3_SHAPES = [
  "HELLO 3",
  "CONFIG GET maxmemory*",
  "MGET a nope",
  `EVAL "redis.setresp(3); return {map={a={1,2},b={map={c=1}},d={},e={map={}},f={set={}}}}" 0`,
  `EVAL "redis.setresp(3); return {map={k={map={x=1,y=2}},s={set={'one'}},z={{1,2}}}}" 0`,
  `EVAL "redis.setresp(3); return {set={1,'two',{3}}}" 0`,
  `EVAL "redis.setresp(3); return {double=1.5}" 0`,
  `EVAL "redis.setresp(3); return {{double=0.1},{double=-3},true,false}" 0`,
  `EVAL "redis.setresp(3); return {map={}}" 0`,
  `EVAL "redis.setresp(3); return {set={}}" 0`,
  `EVAL "redis.setresp(3); return {verbatim_string={format='txt',string='two\\nlines'}}" 0`,
  `EVAL "redis.setresp(3); return {{map={k={set={1}}}},{map={one='1'}}}" 0`,
  "COMMAND DOCS get",
  "INCRBYFLOAT f 1",
];

/** `(integer) 12` / `id 12`: the connection's id differs between two clients. */
function maskIds(text: string): string {
  return text.replace(/("id" => \(integer\) |^id )\d+/gm, "$1N");
}

async function redisCli(port: number, args: string[], stdin: string): Promise<string> {
  const child = new Deno.Command("redis-cli", {
    args: ["-p", String(port), ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  return decoder.decode(out.stdout);
}

async function kvdbClient(port: number, args: string[], stdin: string): Promise<string> {
  const result = await runKvdb(["client", "-a", `127.0.0.1:${port}`, ...args], { stdin });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

/** Both clients' output for the same lines, in a fresh database each. */
async function bothOutputs(
  redis: RedisServer,
  lines: string[],
  flags: string[],
): Promise<[string, string]> {
  const input = lines.join("\n") + "\n";
  await redisCli(redis.port, [], "FLUSHALL\n");
  const theirs = await redisCli(redis.port, flags, input);
  await redisCli(redis.port, [], "FLUSHALL\n");
  const ours = await kvdbClient(redis.port, flags, input);
  return [maskIds(theirs), maskIds(ours)];
}

Deno.test("client shows every reply shape as redis-cli does, for a person and raw, RESP2 and RESP3", async () => {
  const redis = await RedisServer.start();
  try {
    for (const lines of [SHAPES, [...SHAPES.slice(0, 1), ...RESP3_SHAPES]]) {
      for (const flags of [["--no-raw"], []]) {
        const [theirs, ours] = await bothOutputs(redis, lines, flags);
        assert.ok(theirs.length > 200, `redis-cli said little:\n${theirs}`);
        assert.equal(ours, theirs, `${flags.join(" ") || "raw"}, ${lines[1]}...`);
      }
    }
  } finally {
    await redis.stop();
  }
});

/** Runs `command` (words) on a pseudo-terminal; returns what the terminal showed. */
async function onTerminal(words: string[]): Promise<string> {
  const command = words.map((w) => `'${w}'`).join(" ");
  const out = await new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return decoder.decode(out.stdout).replaceAll("\r\n", "\n");
}

Deno.test("one-shot on a terminal: the display for a person, as redis-cli's", async () => {
  const redis = await RedisServer.start();
  try {
    await redisCli(redis.port, [], `MSET k "a\\nb" n 7\nSET v "hello world"\n`);
    const kvdb = [Deno.execPath(), "run", ...KVDB_FLAGS, MAIN, "client", "-a"];
    for (
      const command of [["MGET", "k", "n", "nope"], ["INFO", "keyspace"], ["CONFIG", "GET", "port"]]
    ) {
      const theirs = await onTerminal(["redis-cli", "-p", String(redis.port), ...command]);
      const ours = await onTerminal([...kvdb, `127.0.0.1:${redis.port}`, ...command]);
      assert.ok(theirs.includes("\n"), theirs);
      assert.equal(ours, theirs, command.join(" "));
    }
    // The original's GET: the value as it is, where redis-cli quotes it.
    const got = await onTerminal([...kvdb, `127.0.0.1:${redis.port}`, "GET", "v"]);
    assert.equal(got, "hello world\n");
  } finally {
    await redis.stop();
  }
});

Deno.test("INFO shows its lines, not one quoted line of escapes (issue 14 point 8)", async () => {
  const server = await ServerProcess.start();
  try {
    const a = ["-a", `127.0.0.1:${server.port}`];
    for (const flags of [[], ["--no-raw"], ["--raw"]]) {
      const info = await runKvdb(["client", ...a, ...flags, "INFO", "replication"]);
      assert.equal(info.code, 0, info.stderr);
      assert.match(info.stdout, /^# Replication\r\nrole:master\r\n/);
      assert.ok(!info.stdout.includes("\\r\\n"), info.stdout);
    }
  } finally {
    await server.stop();
  }
});

Deno.test("the original's SET, GET and DEL keep their lines in every mode, from any server", async () => {
  const redis = await RedisServer.start();
  const kvdb = await ServerProcess.start();
  const input = [
    "SET user1 John",
    "GET user1",
    "DEL user1",
    "GET user1",
    "DEL user1",
    'SET "a b" "c\\x00d"',
    'GET "a b"',
    "SET k",
    "GET",
    "del a b",
    "MGET user1 nope",
    "EXISTS user1",
  ].join("\n") + "\n";
  const lines = [
    "OK",
    "John",
    "OK",
    "ERROR: key not found",
    "ERROR: key not found",
    "OK",
    '"c\\x00d"',
    "ERROR: invalid number of arguments for 'set' command",
    "ERROR: invalid number of arguments for 'get' command",
    "0",
  ];
  try {
    for (const port of [redis.port, kvdb.port]) {
      const person = await kvdbClient(port, ["--no-raw"], input);
      assert.equal(person, [...lines, "1) (nil)", "2) (nil)", "(integer) 0"].join("\n") + "\n");
      const raw = await kvdbClient(port, [], input);
      assert.equal(raw, [...lines, "", "", "0"].join("\n") + "\n");
    }
  } finally {
    await Promise.all([redis.stop(), kvdb.stop()]);
  }
});

Deno.test("cli shows what the client shows for the same replies", async () => {
  const server = await ServerProcess.start();
  const input = [
    "SET a 1",
    "MSET b 2 c x",
    "MGET a b c nope",
    "INCR a",
    "FOO",
    "KEYS zz*",
    "GET c",
    "GET nope",
    "HELLO 3",
    "COMMAND INFO get",
    "INCRBYFLOAT f 2.5",
    "SELECT 99",
    "EXISTS a b",
  ].join("\n") + "\n";
  try {
    for (const flags of [["--no-raw"], []]) {
      const client = await kvdbClient(server.port, flags, input);
      const cli = await runKvdb(["cli", ...flags], { stdin: input });
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(maskIds(cli.stdout), maskIds(client));
      await runKvdb(["client", "-a", `127.0.0.1:${server.port}`, "FLUSHALL"]);
    }
  } finally {
    await server.stop();
  }
});

Deno.test("a text-protocol server: the client shows its reply lines", async () => {
  const server = await ServerProcess.start({ network: { protocol: "text" } });
  try {
    const out = await kvdbClient(server.port, ["--no-raw"], "SET a 1\nGET a\nMGET a nope\n");
    assert.equal(out, "OK\n1\n1 (nil)\n");
  } finally {
    await server.stop();
  }
});

Deno.test("a request over max_message_size is refused by the client, the connection kept", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "64B" } });
  try {
    const big = "x".repeat(100);
    const result = await runKvdb(["client", "-a", `127.0.0.1:${server.port}`, "--no-raw"], {
      // The second line fits 64 bytes, its RESP request (with lengths) does not.
      stdin: `SET k ${big}\nMSET a 1 b 2 c 3 d 4 e 5 f 6 g 7\nMSET k v\nGET k\n`,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      "ERROR: request too large: over 64 bytes (network.max_message_size); discarded\n" +
        "(error) ERR Protocol error: request larger than 64 bytes (network.max_message_size)\n" +
        "OK\nv\n",
    );
    assert.equal(result.stderr, "", "no reconnect: the server never saw the request");
  } finally {
    await server.stop();
  }
});

/**
 * `kvdb client` on piped stdin, fed line by line: `send` writes lines,
 * `waitFor` waits until stdout holds `text`, `finish` ends stdin and
 * returns everything printed.
 */
function pipedClient(port: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...KVDB_FLAGS, MAIN, "client", "-a", `127.0.0.1:${port}`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const keys = child.stdin.getWriter();
  let stdout = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) stdout += chunk;
  })();
  const stderr = new Response(child.stderr).text();
  return {
    send: (text: string) => keys.write(new TextEncoder().encode(text)),
    async waitFor(text: string): Promise<void> {
      for (let waited = 0; !stdout.includes(text); waited += 50) {
        if (waited > 20_000) throw new Error(`no ${JSON.stringify(text)} within 20 s:\n${stdout}`);
        await delay(50);
      }
    },
    async finish(): Promise<{ stdout: string; stderr: string }> {
      await keys.close();
      await child.status;
      await reading;
      return { stdout, stderr: await stderr };
    },
  };
}

Deno.test("after an idle close the client reconnects into the database it had selected", async () => {
  const server = await ServerProcess.start({ network: { idle_timeout: "300ms" } });
  try {
    const client = pipedClient(server.port);
    await client.send("SELECT 3\nMSET k in-db-3\n");
    await client.waitFor("OK\nOK\n");
    await delay(1200); // the server closes the idle connection
    await client.send("MGET k\nDBSIZE\n");
    const out = await client.finish();
    assert.equal(out.stdout, "OK\nOK\nin-db-3\n1\n");
    assert.match(out.stderr, /\(reconnected to 127\.0\.0\.1:\d+\)/);
  } finally {
    await server.stop();
  }
});

Deno.test("the reconnect restores HELLO 3 and SELECT, against redis-server's idle timeout", async () => {
  const redis = await RedisServer.start({ args: ["--timeout", "1"] });
  try {
    const client = pipedClient(redis.port);
    await client.send("HELLO 3\nSELECT 2\n");
    await client.waitFor("\nOK\n");
    await delay(3000); // redis-server closes clients idle for over a second
    await client.send("CLIENT INFO\n");
    const out = await client.finish();
    const info = out.stdout.split("\n").find((l) => l.startsWith("id="));
    assert.ok(info, out.stdout);
    assert.match(info, / db=2 /);
    assert.match(info, / resp=3$/);
    assert.match(out.stderr, /\(reconnected to 127\.0\.0\.1:\d+\)/);
  } finally {
    await redis.stop();
  }
});

Deno.test("SUBSCRIBE keeps printing messages as they arrive, as redis-cli does", async () => {
  const redis = await RedisServer.start();
  try {
    const outputs: string[] = [];
    for (const program of ["redis-cli", "kvdb"]) {
      const args = program === "redis-cli" ? ["-p", String(redis.port), "SUBSCRIBE", "news"] : [
        "run",
        ...KVDB_FLAGS,
        MAIN,
        "client",
        "-a",
        `127.0.0.1:${redis.port}`,
        "SUBSCRIBE",
        "news",
      ];
      const child = new Deno.Command(program === "redis-cli" ? "redis-cli" : Deno.execPath(), {
        args,
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      let received = 0;
      for (let waited = 0; received === 0 && waited < 20_000; waited += 100) {
        await delay(100);
        received = Number(
          await redisCli(redis.port, ["PUBSUB", "NUMSUB", "news"], "").then((s) =>
            s.split("\n")[1]
          ),
        );
      }
      await redisCli(redis.port, ["PUBLISH", "news", "hello\nworld"], "");
      await redisCli(redis.port, ["PUBLISH", "news", "again"], "");
      await delay(300);
      child.kill("SIGINT");
      outputs.push(decoder.decode((await child.output()).stdout));
    }
    assert.equal(
      outputs[0],
      "subscribe\nnews\n1\nmessage\nnews\nhello\nworld\nmessage\nnews\nagain\n",
    );
    assert.equal(outputs[1], outputs[0]);
  } finally {
    await redis.stop();
  }
});

Deno.test("--raw and --no-raw together are a usage error", async () => {
  const result = await runKvdb(["client", "-a", `127.0.0.1:${freePort()}`, "--raw", "--no-raw"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--raw and --no-raw/);
});
