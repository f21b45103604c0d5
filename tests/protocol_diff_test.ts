/**
 * Differential tests of the Redis protocol: the same bytes sent to kvdb and
 * to a real redis-server 7.0 (Debian's, started here), and the bytes that
 * come back — and whether the connection is closed — compared exactly.
 * Covers inline commands (sdssplitargs quoting, blank lines, NULs, limits),
 * malformed multibulk requests, and RESP3 (HELLO and its replies).
 *
 * Left out on purpose: two malformed inputs where kvdb is stricter than
 * Redis (a length line's `\r` not followed by `\n`, bulk data not followed by
 * `\r\n`: Redis skips those bytes unread, kvdb answers a protocol error; see
 * src/protocol/resp_decoder.ts), and counts or lengths past kvdb's
 * `max_message_size` (Redis allows 512 MB bulks).
 */

import assert from "node:assert/strict";
import {
  type RedisServerProcess,
  ServerProcess,
  startRedisServer,
  withServerLog,
} from "./_helpers.ts";

/** How long a connection must stay silent before its reply counts as complete. */
const QUIET_MS = 1000;
/** Longest kvdb may take to send what redis-server sent for the same bytes. */
const CATCH_UP_MS = 10_000;
/** Cases sent at once (each waits QUIET_MS at least, so many at a time). */
const CONCURRENT_CASES = 64;

function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function stringOf(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 8192)));
  }
  return s;
}

function resp(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
}

/** What a server did with some bytes: its reply bytes and whether it closed. */
interface Outcome {
  reply: string;
  closed: boolean;
}

/**
 * Sends `input` on a new connection and collects the outcome: until the
 * server closes it, or it has been silent for QUIET_MS — and, when
 * `expected` is given, has sent at least as many bytes (or CATCH_UP_MS
 * passed), so a busy machine cannot cut a reply short.
 */
async function exchange(port: number, input: string, expected?: Outcome): Promise<Outcome> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = bytesOf(input);
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
  let reply = "";
  let closed = false;
  const buffer = new Uint8Array(64 * 1024);
  let pending: Promise<number | null> | undefined;
  const deadline = Date.now() + CATCH_UP_MS;
  while (true) {
    pending ??= conn.read(buffer).catch(() => null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      pending,
      new Promise<"quiet">((resolve) => timer = setTimeout(() => resolve("quiet"), QUIET_MS)),
    ]);
    clearTimeout(timer);
    if (n === "quiet") {
      const behind = expected !== undefined && normalize(reply).length < expected.reply.length;
      if (!behind || Date.now() > deadline) break;
      continue;
    }
    pending = undefined;
    if (n === null) {
      closed = true;
      break;
    }
    reply += stringOf(buffer.subarray(0, n));
  }
  try {
    conn.close();
  } catch {
    // Closed by the server.
  }
  await pending;
  return { reply: normalize(reply), closed };
}

/**
 * Replaces what may differ between any two servers: HELLO's connection id
 * and version.
 */
function normalize(reply: string): string {
  return reply
    .replace(/(\$2\r\nid\r\n):\d+\r\n/g, "$1:<id>\r\n")
    .replace(/(\$7\r\nversion\r\n)\$\d+\r\n[^\r]*\r\n/g, "$1<version>\r\n");
}

function show(s: string): string {
  return JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}...(${s.length})` : s);
}

/** Sends every input to both servers and compares the outcomes. */
async function compare(
  kvdb: ServerProcess,
  redis: RedisServerProcess,
  inputs: string[],
): Promise<void> {
  const differences: string[] = [];
  for (let from = 0; from < inputs.length; from += CONCURRENT_CASES) {
    const batch = inputs.slice(from, from + CONCURRENT_CASES);
    await Promise.all(batch.map(async (input) => {
      const theirs = await exchange(redis.port, input);
      const ours = await exchange(kvdb.port, input, theirs);
      if (ours.reply !== theirs.reply || ours.closed !== theirs.closed) {
        differences.push(
          `${show(input)}:\n  kvdb:  ${show(ours.reply)}${ours.closed ? " (closed)" : ""}\n` +
            `  redis: ${show(theirs.reply)}${theirs.closed ? " (closed)" : ""}`,
        );
      }
    }));
  }
  assert.equal(differences.length, 0, `differs from redis-server:\n${differences.join("\n")}`);
}

/** Inline commands, blank lines, quoting and NULs (Redis's sdssplitargs and strchr). */
const INLINE_CASES = [
  "PING\r\n",
  "PING\n",
  "\r\n",
  "\n",
  "   \r\n",
  "\r\r\n",
  "\r\n\r\nPING\r\n\n",
  'ECHO "a b"\r\n',
  "ECHO 'a b'\r\n",
  'ECHO "a\r\n',
  'ECHO a"b c"\r\n',
  'ECHO "a"b\r\n',
  'ECHO "a""b"\r\n',
  'ECHO "\\x41\\n\\q\\xZZ\\t"\r\n',
  "ECHO 'it\\'s \\n'\r\n",
  "ECHO a\x0bb\r\n",
  "ECHO \x0ba\x0c\r\n",
  "ECHO ''\r\n",
  '  ECHO   "x"  \r\n',
  'ECHO "\\"\r\n',
  'ECHO "\r\n',
  'ECHO "abc\\\r\n',
  "PING\rPING\r\n",
  "PING \r \r\n",
  "ECHO \xe9t\xe9 \r\n",
  "SET k v\r\nGET k\r\nDEL k\r\nGET k\r\n",
  "PING\x00\r\nPING\r\n",
  'ECHO "a\x00b"\r\n',
  "PING\x00" + "x".repeat(70_000),
  "PING" + "x".repeat(70_000),
  "ECHO " + "x".repeat(60_000) + "\r\n",
  "PING\r\n" + resp("PING") + "PING\r\n" + "*x\r\n" + "PING\r\n",
  resp("PING") + "\r\n\r\nPING\r\n",
];

/** Malformed multibulk requests: Redis's exact errors, and the close after them. */
const MULTIBULK_CASES = [
  resp("PING"),
  "*x\r\n",
  "*-1\r\nPING\r\n",
  "*0\r\nPING\r\n",
  "*1\r\nPING\r\n",
  "*1\r\n$x\r\n",
  "*1\r\n$-1\r\n",
  "*01\r\n$4\r\nPING\r\n",
  "*+1\r\n$4\r\nPING\r\n",
  "*-01\r\n",
  "*2147483648\r\n",
  "*\r\n",
  "* 1\r\n",
  "*1\r\n$\r\n",
  "*1\r\n$03\r\nPING\r\n",
  "*1\r\n\r\n",
  "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
  "*1\r\n" + "x".repeat(10) + "\r\n",
  "*" + "1".repeat(70_000),
  "*1\r\n$" + "1".repeat(70_000),
  "*1\r\n$" + "1".repeat(30) + "\r\n",
  "*" + "1".repeat(30) + "\r\n",
  "*1\x00\r\n" + resp("PING"),
  "*1\r\n$4\x00\r\nPING\r\n",
  resp("SET", "k", "v") + resp("GET", "k") + "*1\r\n$x\r\n" + resp("PING"),
];

/** RESP3 through HELLO, and HELLO's argument parsing and errors. */
const HELLO_CASES = [
  resp("HELLO"),
  resp("HELLO", "2"),
  resp("HELLO", "3"),
  resp("HELLO", "4"),
  resp("HELLO", "1"),
  resp("HELLO", "-1"),
  resp("HELLO", "x"),
  resp("HELLO", "03"),
  resp("HELLO", " 3"),
  resp("HELLO", "3.0"),
  resp("HELLO", "99999999999999999999"),
  resp("HELLO", "AUTH", "default", "x"),
  resp("HELLO", "3", "AUTH", "default", "anything"),
  resp("HELLO", "3", "auth", "foo", "bar"),
  resp("HELLO", "3", "SETNAME", "a b"),
  resp("HELLO", "3", "SETNAME", ""),
  resp("HELLO", "3", "FOO"),
  resp("HELLO", "3", "AUTH", "a"),
  resp("HELLO", "3", "SETNAME"),
  resp("HELLO", "3", "SETNAME", "n1", "SETNAME", "n2") + resp("CLIENT", "GETNAME"),
  resp("HELLO", "2", "auth", "default", "pw", "setname", "cn") + resp("CLIENT", "GETNAME"),
  // RESP3 replies, then back to RESP2.
  resp("HELLO", "3") + resp("GET", "nope") + resp("MGET", "nope", "nope2") +
  resp("SET", "k3", "v") + resp("GET", "k3") + resp("EXISTS", "k3") + resp("DEL", "k3") +
  resp("PING") + resp("ECHO", "e") + resp("INCR", "n3") + resp("DEL", "n3") +
  resp("HELLO", "2") + resp("GET", "nope"),
  // HELLO inline, on a connection that starts inline.
  "HELLO 3\r\nGET nope\r\nHELLO 2\r\nGET nope\r\n",
  // A refused HELLO leaves the protocol as it was.
  resp("HELLO", "3") + resp("HELLO", "4") + resp("GET", "nope"),
];

Deno.test("resp mode: inline, multibulk and RESP3 framing byte for byte as redis-server", async () => {
  const redis = await startRedisServer();
  const kvdb = await ServerProcess.start({
    network: { protocol: "resp", max_message_size: "1MiB" },
  });
  try {
    await compare(kvdb, redis, [...INLINE_CASES, ...MULTIBULK_CASES, ...HELLO_CASES]);
  } catch (e) {
    throw withServerLog(e, kvdb);
  } finally {
    await kvdb.stop();
    await redis.stop();
  }
});

Deno.test("auto mode: a RESP connection's inline commands behave as redis-server's", async () => {
  const redis = await startRedisServer();
  const kvdb = await ServerProcess.start({ network: { max_message_size: "1MiB" } });
  try {
    // The first byte `*` makes the connection a RESP one; then the same.
    const first = resp("PING");
    await compare(
      kvdb,
      redis,
      [...INLINE_CASES, ...MULTIBULK_CASES, ...HELLO_CASES].map((input) => first + input),
    );
  } finally {
    await kvdb.stop();
    await redis.stop();
  }
});

Deno.test("resp mode: redis-benchmark's inline PING test, which made a text connection in auto mode", async () => {
  const kvdb = await ServerProcess.start({ network: { protocol: "resp" } });
  try {
    const out = await new Deno.Command("redis-benchmark", {
      args: ["-p", String(kvdb.port), "-t", "ping_inline,ping_mbulk,set,get", "-n", "2000", "-q"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    for (const test of ["PING_INLINE", "PING_MBULK", "SET", "GET"]) {
      assert.match(text, new RegExp(`${test}: [0-9.]+ requests per second`), text);
    }
    assert.doesNotMatch(text, /error/i);
    // A text client gets RESP too: resp mode means every connection.
    const conn = await kvdb.connect();
    await conn.send("GET nope\n");
    assert.equal(await conn.readLine(), "$-1\r");
    conn.close();
  } finally {
    await kvdb.stop();
  }
});

Deno.test("text mode: every connection speaks the text protocol, even one starting with *", async () => {
  const kvdb = await ServerProcess.start({ network: { protocol: "text" } });
  try {
    const conn = await kvdb.connect();
    await conn.send(resp("PING"));
    // "*1\r\n$4\r\nPING\r\n" is three text lines.
    assert.deepEqual(await conn.readLines(3), [
      "ERROR: invalid command '*1'",
      "ERROR: invalid command '$4'",
      "PONG",
    ]);
    conn.close();
  } finally {
    await kvdb.stop();
  }
});

Deno.test("resp mode: a client over max_connections gets a RESP error at once", async () => {
  const kvdb = await ServerProcess.start({ network: { protocol: "resp", max_connections: 1 } });
  try {
    const first = await kvdb.connect();
    assert.equal(await first.command("PING"), "+PONG\r");
    const started = Date.now();
    const second = await kvdb.connect();
    // It need not speak first: the protocol is known.
    assert.match((await second.readLine())!, /^-ERR max number of clients reached/);
    assert.ok(Date.now() - started < 5000);
    assert.ok(await second.closedByServer());
    first.close();
    second.close();
  } finally {
    await kvdb.stop();
  }
});
