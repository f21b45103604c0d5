/**
 * Command semantics against a running kvdb (issue 5), through both
 * protocols: raw RESP2 (exact reply bytes: `+OK`, `$-1`, `:1`, `*2`...) and
 * the text protocol (one line per reply: `ERROR: key not found`, digits,
 * `(nil)`, arrays on one line).
 *
 * Most groups are scenarios: a list of requests with the expected RESP reply
 * and the expected text line, run once over RESP and once over the text
 * protocol, each pass starting from an empty keyspace (FLUSHALL).
 */

import assert from "node:assert/strict";
import { splitTextArguments } from "../src/protocol/text_decoder.ts";
import { renderTextArgument } from "../src/protocol/text_quote.ts";
import {
  binaryStringBytes,
  delay,
  encodeRespCommand,
  RespClient,
  RespError,
  type RespReply,
  RespStatus,
  ServerProcess,
  TcpClient,
  withServerLog,
} from "./_helpers.ts";

// ---------------------------------------------------------------------------
// Expected RESP replies, as wire bytes.

const OK = "+OK\r\n";
const NIL = "$-1\r\n";
const int = (n: number | string) => `:${n}\r\n`;
const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;
const arr = (...items: string[]) => `*${items.length}\r\n${items.join("")}`;
const err = (message: string) => `-${message}\r\n`;
const status = (s: string) => `+${s}\r\n`;

const SYNTAX = "ERR syntax error";
const NOT_INT = "ERR value is not an integer or out of range";
const OVERFLOW = "ERR increment or decrement would overflow";
const arity = (cmd: string) => `ERR wrong number of arguments for '${cmd}' command`;
const TEXT_NOT_FOUND = "ERROR: key not found";

/**
 * What a reply must be: for RESP a string is the exact wire bytes, for text
 * the exact line; a RegExp is matched against them; a function gets the
 * decoded RESP value (or the text line) and asserts.
 */
type Expect = string | RegExp | ((got: RespReply) => void);
type Step = [cmd: string[], resp: Expect, text: Expect];

/** An integer reply (RESP) or line (text) within [lo, hi]. */
function between(lo: number, hi: number): (got: RespReply) => void {
  return (got) => {
    const n = typeof got === "string" ? Number(got) : got;
    assert.ok(
      typeof n === "number" && Number.isInteger(n) && n >= lo && n <= hi,
      `expected an integer in [${lo}, ${hi}], got ${JSON.stringify(got)}`,
    );
  };
}

/** A text line that is an error mentioning `words`. */
function textError(words: string): RegExp {
  return new RegExp(`^ERROR: .*${words.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`);
}

function check(got: RespReply, raw: string, expect: Expect, what: string): void {
  if (typeof expect === "string") assert.equal(raw, expect, what);
  else if (expect instanceof RegExp) {
    assert.match(raw, expect, `${what}: got ${JSON.stringify(raw)}, expected ${expect}`);
  } else {
    try {
      expect(got);
    } catch (e) {
      throw new Error(`${what}: ${e instanceof Error ? e.message : e}; raw ${JSON.stringify(raw)}`);
    }
  }
}

/** The words of a one-line text reply (a flat array's elements). */
function textWords(line: string): string[] {
  if (line === "(empty array)") return [];
  const bytes = binaryStringBytes(line);
  return splitTextArguments(bytes, 0, bytes.length);
}

/** SCAN's text line, `cursor [key key ...]` or `cursor []`: the cursor and the keys. */
function textScan(line: string): [string, string[]] {
  const words = textWords(line);
  assert.ok(words.length >= 2 && /^\d+$/.test(words[0]), `SCAN text line ${line}`);
  const rest = words.slice(1);
  if (rest.length === 1 && rest[0] === "[]") return [words[0], []];
  assert.ok(
    rest[0].startsWith("[") && rest[rest.length - 1].endsWith("]"),
    `SCAN text line ${line}`,
  );
  rest[0] = rest[0].slice(1);
  rest[rest.length - 1] = rest[rest.length - 1].slice(0, -1);
  return [words[0], rest];
}

interface Clients {
  port: number;
  resp: RespClient;
  text: TcpClient;
}

/**
 * Runs `steps` over RESP, then over the text protocol, each from an empty
 * keyspace; fails with every mismatch (later ones may follow from earlier).
 */
async function scenario(c: Clients, steps: Step[]): Promise<void> {
  const failures: string[] = [];
  const attempt = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      failures.push(e instanceof Error ? e.message : String(e));
    }
  };
  assert.equal((await c.resp.callRaw("FLUSHALL")).raw, OK);
  for (const [cmd, expect] of steps) {
    const { value, raw } = await c.resp.callRaw(...cmd);
    attempt(() => check(value, raw, expect, `RESP ${JSON.stringify(cmd)}`));
  }
  assert.equal((await c.resp.callRaw("FLUSHALL")).raw, OK);
  for (const [cmd, , expect] of steps) {
    const line = await c.text.command(cmd.map(renderTextArgument).join(" "));
    attempt(() => check(line, line, expect, `text ${JSON.stringify(cmd)}`));
  }
  if (failures.length > 0) {
    throw new Error(
      `${failures.length} of ${steps.length * 2} replies wrong:\n` + failures.join("\n"),
    );
  }
}

/** Runs `fn` against a fresh server with a RESP and a text connection. */
function commandTest(name: string, fn: (t: Deno.TestContext, c: Clients) => Promise<void>) {
  Deno.test(name, async (t) => {
    const server = await ServerProcess.start();
    let resp: RespClient | undefined;
    let text: TcpClient | undefined;
    try {
      resp = await RespClient.connect(server.port);
      text = await server.connect();
      await fn(t, { port: server.port, resp, text });
    } catch (e) {
      throw withServerLog(e, server);
    } finally {
      resp?.close();
      text?.close();
      await server.stop("SIGKILL");
      await Deno.remove(server.dir, { recursive: true }).catch(() => {});
    }
  });
}

function encodeRespCommands(commands: string[][]): Uint8Array {
  return binaryStringBytes(
    commands.map((cmd) => String.fromCharCode(...encodeRespCommand(cmd))).join(""),
  );
}

const nowS = () => Math.floor(Date.now() / 1000);

commandTest("string commands through RESP and text", async (t, c) => {
  const steps = async (name: string, list: Step[]) => {
    // A failed step fails the test; the others still run.
    await t.step(name, () => scenario(c, list));
  };

  await steps("PING, ECHO", [
    [["PING"], status("PONG"), "PONG"],
    [["ping", "hello"], bulk("hello"), "hello"],
    [["ECHO", "hello world"], bulk("hello world"), "hello world"],
    [["ECHO", ""], bulk(""), '""'],
    [["PING", "a", "b"], err(arity("ping")), textError("'ping'")],
    [["ECHO"], err(arity("echo")), textError("'echo'")],
  ]);

  await steps("SET and GET: conditions, GET option, KEEPTTL", [
    [["GET", "k"], NIL, TEXT_NOT_FOUND],
    [["SET", "k", "v1"], OK, "OK"],
    [["GET", "k"], bulk("v1"), "v1"],
    [["set", "k", "v2", "nx"], NIL, "(nil)"],
    [["GET", "k"], bulk("v1"), "v1"],
    [["SET", "other", "v", "XX"], NIL, "(nil)"],
    [["EXISTS", "other"], int(0), "0"],
    [["SET", "k", "v3", "XX"], OK, "OK"],
    [["SET", "k", "v4", "GET"], bulk("v3"), "v3"],
    [["SET", "fresh", "f", "GET"], NIL, "(nil)"],
    [["GET", "fresh"], bulk("f"), "f"],
    [["SET", "k", "v5", "NX", "GET"], bulk("v4"), "v4"],
    [["GET", "k"], bulk("v4"), "v4"],
    [["SET", "k", "v6", "EX", "100"], OK, "OK"],
    [["SET", "k", "v7", "KEEPTTL"], OK, "OK"],
    [["TTL", "k"], between(99, 100), between(99, 100)],
    [["SET", "k", "v8"], OK, "OK"],
    [["TTL", "k"], int(-1), "-1"],
    [["GET", "k"], bulk("v8"), "v8"],
  ]);

  await t.step("SET EX/PX/EXAT/PXAT set the expiry", () =>
    scenario(c, [
      [["SET", "ex", "v", "EX", "100"], OK, "OK"],
      [["TTL", "ex"], between(99, 100), between(99, 100)],
      [["PTTL", "ex"], between(98_000, 100_000), between(98_000, 100_000)],
      [["SET", "px", "v", "PX", "50000"], OK, "OK"],
      [["PTTL", "px"], between(48_000, 50_000), between(48_000, 50_000)],
      [["SET", "exat", "v", "EXAT", String(nowS() + 200)], OK, "OK"],
      [["TTL", "exat"], between(197, 200), between(197, 200)],
      [["SET", "pxat", "v", "PXAT", String(Date.now() + 300_000)], OK, "OK"],
      [["PTTL", "pxat"], between(297_000, 300_000), between(297_000, 300_000)],
      [["SET", "past", "v", "EXAT", "1"], OK, "OK"],
      [["GET", "past"], NIL, TEXT_NOT_FOUND],
      [["EXISTS", "past"], int(0), "0"],
    ]));

  await steps("SET option conflicts and bad expiry times", [
    [["SET", "k", "v", "EX", "10", "PX", "100"], err(SYNTAX), textError("syntax error")],
    [["SET", "k", "v", "NX", "XX"], err(SYNTAX), textError("syntax error")],
    [["SET", "k", "v", "EX", "10", "KEEPTTL"], err(SYNTAX), textError("syntax error")],
    [["SET", "k", "v", "KEEPTTL", "PX", "10"], err(SYNTAX), textError("syntax error")],
    [["SET", "k", "v", "EXAT", "10", "PXAT", "10"], err(SYNTAX), textError("syntax error")],
    [["SET", "k", "v", "EX"], err(SYNTAX), textError("syntax error")],
    [["SET", "k", "v", "BOGUS"], err(SYNTAX), textError("syntax error")],
    [
      ["SET", "k", "v", "EX", "0"],
      err("ERR invalid expire time in 'set' command"),
      textError("invalid expire time in 'set' command"),
    ],
    [
      ["SET", "k", "v", "PX", "-5"],
      err("ERR invalid expire time in 'set' command"),
      textError("invalid expire time"),
    ],
    [["SET", "k", "v", "EX", "ten"], err(NOT_INT), textError("not an integer")],
    [["SET", "k"], err(arity("set")), textError("'set'")],
    [["EXISTS", "k"], int(0), "0"],
  ]);

  // Redis's own test suite (unit/expire.tcl) has these: a time that does
  // not fit once converted or added to now is an invalid expire time, not a
  // bad integer; an absolute time far in the past or future is fine.
  const invalid = (cmd: string) => err(`ERR invalid expire time in '${cmd}' command`);
  await steps("expire times out of range, as in Redis's test suite", [
    [["SET", "foo", "bar", "EX", "10000000000000000"], invalid("set"), textError("'set'")],
    [["SET", "foo", "bar", "EX", "-9999999999999999"], invalid("set"), textError("'set'")],
    [["SET", "foo", "bar"], OK, "OK"],
    [["GETEX", "foo", "EX", "10000000000000000"], invalid("getex"), textError("'getex'")],
    [["EXPIRE", "foo", "10000000000000000"], invalid("expire"), textError("'expire'")],
    [["PEXPIRE", "foo", "9223372036854770000"], invalid("pexpire"), textError("'pexpire'")],
    [["EXPIRE", "foo", "-9999999999999999"], invalid("expire"), textError("'expire'")],
    [["TTL", "foo"], int(-1), "-1"],
    [["PEXPIREAT", "foo", "9223372036854770000"], int(1), "1"],
    [["TTL", "foo"], (got) => assert.ok(Number(got) > 1e12, `TTL ${got}`), /^\d{13,}$/],
    [["PEXPIREAT", "foo", "-9223372036854770000"], int(1), "1"],
    [["TTL", "foo"], int(-2), "-2"],
  ]);

  await steps("GETDEL, GETEX", [
    [["SET", "k", "v"], OK, "OK"],
    [["GETDEL", "k"], bulk("v"), "v"],
    [["GETDEL", "k"], NIL, TEXT_NOT_FOUND],
    [["GET", "k"], NIL, TEXT_NOT_FOUND],
    [["SET", "g", "gv"], OK, "OK"],
    [["GETEX", "g"], bulk("gv"), "gv"],
    [["TTL", "g"], int(-1), "-1"],
    [["GETEX", "g", "EX", "100"], bulk("gv"), "gv"],
    [["TTL", "g"], between(99, 100), between(99, 100)],
    [["GETEX", "g", "PX", "50000"], bulk("gv"), "gv"],
    [["PTTL", "g"], between(48_000, 50_000), between(48_000, 50_000)],
    [["GETEX", "g", "PERSIST"], bulk("gv"), "gv"],
    [["TTL", "g"], int(-1), "-1"],
    [["GETEX", "missing", "EX", "10"], NIL, TEXT_NOT_FOUND],
    [
      ["GETEX", "g", "EX", "0"],
      err("ERR invalid expire time in 'getex' command"),
      textError("invalid expire time in 'getex' command"),
    ],
    [["GETEX", "g", "EX", "10", "PERSIST"], err(SYNTAX), textError("syntax error")],
    [["GETEX", "g", "BOGUS"], err(SYNTAX), textError("syntax error")],
    [["TTL", "g"], int(-1), "-1"],
    // A time in the past: the value is returned, then the key is gone.
    [["GETEX", "g", "EXAT", "1"], bulk("gv"), "gv"],
    [["EXISTS", "g"], int(0), "0"],
  ]);

  await steps("DEL, EXISTS, MGET, MSET, MSETNX, SETNX", [
    [["MSET", "a", "1", "b", "2", "c", "3"], OK, "OK"],
    [["MSET", "a"], err(arity("mset")), textError("'mset'")],
    [["MSET", "a", "1", "b"], err(arity("mset")), textError("'mset'")],
    [
      ["MGET", "a", "b", "nope", "c"],
      arr(bulk("1"), bulk("2"), NIL, bulk("3")),
      "1 2 (nil) 3",
    ],
    [["MGET", "nope"], arr(NIL), "(nil)"],
    [["EXISTS", "a", "b", "nope", "a"], int(3), "3"],
    [["DEL", "a", "b", "nope"], int(2), "2"],
    [["DEL", "x1", "x2"], int(0), "0"],
    [["DEL", "c"], int(1), "OK"],
    [["DEL", "c"], int(0), TEXT_NOT_FOUND],
    [["EXISTS", "a", "b", "c"], int(0), "0"],
    [["MSETNX", "x", "1", "y", "2"], int(1), "1"],
    [["MSETNX", "y", "3", "z", "4"], int(0), "0"],
    [["MGET", "x", "y", "z"], arr(bulk("1"), bulk("2"), NIL), "1 2 (nil)"],
    [["MSETNX", "x"], err(arity("msetnx")), textError("'msetnx'")],
    [["MSETNX", "p", "1", "q"], err(arity("msetnx")), textError("'msetnx'")],
    [["SETNX", "s", "1"], int(1), "1"],
    [["SETNX", "s", "2"], int(0), "0"],
    [["GET", "s"], bulk("1"), "1"],
    [["DEL"], err(arity("del")), textError("'del'")],
  ]);

  await steps("INCR, DECR, INCRBY, DECRBY", [
    [["INCR", "n"], int(1), "1"],
    [["INCRBY", "n", "10"], int(11), "11"],
    [["DECR", "n"], int(10), "10"],
    [["DECRBY", "n", "20"], int(-10), "-10"],
    [["INCRBY", "n", "-5"], int(-15), "-15"],
    [["GET", "n"], bulk("-15"), "-15"],
    [["SET", "f", "1.5"], OK, "OK"],
    [["INCR", "f"], err(NOT_INT), textError("value is not an integer or out of range")],
    [["SET", "sp", " 1"], OK, "OK"],
    [["INCR", "sp"], err(NOT_INT), textError("not an integer")],
    [["SET", "w", "abc"], OK, "OK"],
    [["DECR", "w"], err(NOT_INT), textError("not an integer")],
    [["INCRBY", "n", "abc"], err(NOT_INT), textError("not an integer")],
    [["INCRBY", "n", "9223372036854775808"], err(NOT_INT), textError("not an integer")],
    [["GET", "n"], bulk("-15"), "-15"],
    [["SET", "m", "9223372036854775806"], OK, "OK"],
    [["INCR", "m"], int("9223372036854775807"), "9223372036854775807"],
    [["INCR", "m"], err(OVERFLOW), textError("increment or decrement would overflow")],
    [["INCRBY", "m", "1"], err(OVERFLOW), textError("would overflow")],
    [["GET", "m"], bulk("9223372036854775807"), "9223372036854775807"],
    [["SET", "lo", "-9223372036854775808"], OK, "OK"],
    [["DECR", "lo"], err(OVERFLOW), textError("would overflow")],
    [["DECRBY", "lo", "1"], err(OVERFLOW), textError("would overflow")],
    [["SET", "t", "5", "EX", "100"], OK, "OK"],
    [["INCR", "t"], int(6), "6"],
    [["INCRBY", "t", "4"], int(10), "10"],
    [["TTL", "t"], between(99, 100), between(99, 100)],
    [["INCR"], err(arity("incr")), textError("'incr'")],
  ]);

  await steps("APPEND, STRLEN", [
    [["APPEND", "a", "hello"], int(5), "5"],
    [["APPEND", "a", " world"], int(11), "11"],
    [["GET", "a"], bulk("hello world"), "hello world"],
    [["STRLEN", "a"], int(11), "11"],
    [["STRLEN", "nope"], int(0), "0"],
    [["SET", "e", "x", "EX", "100"], OK, "OK"],
    [["APPEND", "e", "yz"], int(3), "3"],
    [["TTL", "e"], between(99, 100), between(99, 100)],
  ]);

  await steps("EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, PERSIST", [
    [["EXPIRE", "nope", "10"], int(0), "0"],
    [["TTL", "nope"], int(-2), "-2"],
    [["PTTL", "nope"], int(-2), "-2"],
    [["SET", "k", "v"], OK, "OK"],
    [["TTL", "k"], int(-1), "-1"],
    [["PTTL", "k"], int(-1), "-1"],
    [["EXPIRE", "k", "100"], int(1), "1"],
    [["TTL", "k"], between(99, 100), between(99, 100)],
    [["PEXPIRE", "k", "50000"], int(1), "1"],
    [["PTTL", "k"], between(48_000, 50_000), between(48_000, 50_000)],
    [["EXPIREAT", "k", String(nowS() + 200)], int(1), "1"],
    [["TTL", "k"], between(197, 200), between(197, 200)],
    [["PEXPIREAT", "k", String(Date.now() + 300_000)], int(1), "1"],
    [["PTTL", "k"], between(297_000, 300_000), between(297_000, 300_000)],
    [["PERSIST", "k"], int(1), "1"],
    [["PERSIST", "k"], int(0), "0"],
    [["PERSIST", "nope"], int(0), "0"],
    [["TTL", "k"], int(-1), "-1"],
    // NX / XX / GT / LT.
    [["EXPIRE", "k", "100", "XX"], int(0), "0"],
    [["EXPIRE", "k", "100", "GT"], int(0), "0"], // no expiry counts as infinite
    [["EXPIRE", "k", "100", "NX"], int(1), "1"],
    [["EXPIRE", "k", "200", "NX"], int(0), "0"],
    [["TTL", "k"], between(99, 100), between(99, 100)],
    [["EXPIRE", "k", "200", "XX"], int(1), "1"],
    [["EXPIRE", "k", "150", "GT"], int(0), "0"],
    [["EXPIRE", "k", "300", "GT"], int(1), "1"],
    [["EXPIRE", "k", "400", "LT"], int(0), "0"],
    [["EXPIRE", "k", "50", "LT"], int(1), "1"],
    [["TTL", "k"], between(49, 50), between(49, 50)],
    [["SET", "q", "v"], OK, "OK"],
    [["EXPIRE", "q", "100", "LT"], int(1), "1"],
    [["TTL", "q"], between(99, 100), between(99, 100)],
    [
      ["EXPIRE", "k", "10", "NX", "XX"],
      err("ERR NX and XX, GT or LT options at the same time are not compatible"),
      textError("not compatible"),
    ],
    [
      ["EXPIRE", "k", "10", "GT", "LT"],
      err("ERR NX and XX, GT or LT options at the same time are not compatible"),
      textError("not compatible"),
    ],
    [["EXPIRE", "k", "10", "BOGUS"], err("ERR Unsupported option BOGUS"), textError("BOGUS")],
    [["EXPIRE", "k", "ten"], err(NOT_INT), textError("not an integer")],
    [["EXPIRE", "k"], err(arity("expire")), textError("'expire'")],
    [["TTL", "k"], between(49, 50), between(49, 50)],
    // A time in the past deletes the key.
    [["EXPIRE", "k", "-1"], int(1), "1"],
    [["EXISTS", "k"], int(0), "0"],
    [["TTL", "k"], int(-2), "-2"],
    [["SET", "k", "v"], OK, "OK"],
    [["PEXPIRE", "k", "0"], int(1), "1"],
    [["GET", "k"], NIL, TEXT_NOT_FOUND],
    [["SET", "k", "v"], OK, "OK"],
    [["EXPIREAT", "k", "1"], int(1), "1"],
    [["GET", "k"], NIL, TEXT_NOT_FOUND],
    [["SET", "k", "v"], OK, "OK"],
    [["PEXPIREAT", "k", String(Date.now() - 1000)], int(1), "1"],
    [["EXISTS", "k"], int(0), "0"],
    [["DBSIZE"], int(1), "1"], // only q is left
  ]);

  await steps("TYPE", [
    [["SET", "k", "v"], OK, "OK"],
    [["TYPE", "k"], status("string"), "string"],
    [["TYPE", "nope"], status("none"), "none"],
  ]);

  await steps("DBSIZE, FLUSHALL", [
    [["DBSIZE"], int(0), "0"],
    [["MSET", "a", "1", "b", "2", "c", "3"], OK, "OK"],
    [["DBSIZE"], int(3), "3"],
    [["FLUSHALL"], OK, "OK"],
    [["DBSIZE"], int(0), "0"],
    [["KEYS", "*"], arr(), "(empty array)"],
    [["GET", "a"], NIL, TEXT_NOT_FOUND],
  ]);

  await t.step("KEYS with glob patterns", async () => {
    const keys = ["hello", "hallo", "hxllo", "hllo", "heeeello", "a*b", "ab", "h[x]"];
    const cases: [string, string[]][] = [
      ["*", keys],
      ["h?llo", ["hello", "hallo", "hxllo"]],
      ["h*llo", ["hello", "hallo", "hxllo", "hllo", "heeeello"]],
      ["h[ae]llo", ["hello", "hallo"]],
      ["h[^e]llo", ["hallo", "hxllo"]],
      ["h[a-b]llo", ["hallo"]],
      ["a\\*b", ["a*b"]],
      ["h\\[x\\]", ["h[x]"]],
      ["nomatch*", []],
    ];
    const sorted = (list: string[]) => [...list].sort();
    const steps: Step[] = [[["MSET", ...keys.flatMap((k) => [k, "1"])], OK, "OK"]];
    for (const [pattern, want] of cases) {
      steps.push([
        ["KEYS", pattern],
        (got) => {
          assert.ok(Array.isArray(got), `KEYS ${pattern}: not an array`);
          assert.deepEqual(sorted(got as string[]), sorted(want), `KEYS ${pattern}`);
        },
        (got) =>
          assert.deepEqual(sorted(textWords(got as string)), sorted(want), `KEYS ${pattern}`),
      ]);
    }
    await scenario(c, steps);
  });

  await t.step("SCAN iterates 1000 keys with COUNT 37 and MATCH", async () => {
    await c.resp.call("FLUSHALL");
    const wanted = new Set<string>();
    const commands: string[][] = [];
    for (let i = 0; i < 1000; i += 50) {
      const cmd = ["MSET"];
      for (let j = i; j < i + 50; j++) {
        cmd.push(`scan:${j}`, "v", `other:${j}`, "v");
        wanted.add(`scan:${j}`);
      }
      commands.push(cmd);
    }
    for (const reply of await c.resp.pipeline(commands)) {
      assert.deepEqual(reply, new RespStatus("OK"));
    }
    assert.equal(await c.resp.call("DBSIZE"), 2000);

    // RESP.
    const seen = new Set<string>();
    let cursor = "0";
    let calls = 0;
    do {
      const reply = await c.resp.call("SCAN", cursor, "MATCH", "scan:*", "COUNT", "37");
      assert.ok(Array.isArray(reply) && reply.length === 2, `SCAN reply ${JSON.stringify(reply)}`);
      const [next, keys] = reply as [string, string[]];
      assert.equal(typeof next, "string", "the cursor must be a bulk string");
      assert.ok(Array.isArray(keys));
      for (const key of keys) {
        assert.match(key, /^scan:/, `SCAN MATCH scan:* returned ${key}`);
        seen.add(key);
      }
      cursor = next;
      assert.ok(++calls <= 2000, "SCAN did not reach cursor 0 within 2000 calls");
    } while (cursor !== "0");
    assert.equal(seen.size, wanted.size, `RESP SCAN saw ${seen.size} of ${wanted.size} keys`);
    assert.ok(calls >= 2000 / 37 / 2, `only ${calls} SCAN calls for 2000 keys with COUNT 37`);

    // Text protocol: "cursor [key key ...]".
    const seenText = new Set<string>();
    cursor = "0";
    calls = 0;
    do {
      const line = await c.text.command(`SCAN ${cursor} MATCH scan:* COUNT 37`);
      const [next, keys] = textScan(line);
      cursor = next;
      for (const key of keys) {
        assert.match(key, /^scan:/, `text SCAN returned ${key}`);
        seenText.add(key);
      }
      assert.ok(++calls <= 2000, "text SCAN did not reach cursor 0");
    } while (cursor !== "0");
    assert.equal(seenText.size, wanted.size, `text SCAN saw ${seenText.size} keys`);

    // A cursor is a position, kept by the client for as long as it likes
    // (as in Redis): one taken mid-walk resumes after a pause and after
    // other walks; one past the end of the keyspace ends the walk.
    const first = await c.resp.call("SCAN", "0", "MATCH", "scan:*", "COUNT", "1000");
    const [resume, firstKeys] = first as [string, string[]];
    assert.notEqual(resume, "0");
    for (let i = 0; i < 3; i++) await c.resp.call("SCAN", "0", "COUNT", "500");
    const rest = new Set<string>(firstKeys);
    cursor = resume;
    do {
      const [next, keys] = await c.resp.call("SCAN", cursor, "MATCH", "scan:*", "COUNT", "500") as [
        string,
        string[],
      ];
      for (const key of keys) {
        assert.ok(!rest.has(key), `${key} returned twice`);
        rest.add(key);
      }
      cursor = next;
    } while (cursor !== "0");
    assert.equal(rest.size, wanted.size);
    assert.deepEqual(await c.resp.call("SCAN", String(2 ** 50)), ["0", []]);
    assert.equal(await c.text.command(`SCAN ${2 ** 50}`), "0 []");

    // Bad cursors and options.
    assert.match((await c.resp.callRaw("SCAN", "abc")).raw, /^-ERR .*cursor/);
    assert.match(await c.text.command("SCAN -1"), /^ERROR: .*cursor/);
    assert.equal((await c.resp.callRaw("SCAN", "0", "COUNT", "0")).raw, err(SYNTAX));
    assert.equal((await c.resp.callRaw("SCAN", "0", "MATCH")).raw, err(SYNTAX));
    assert.equal((await c.resp.callRaw("SCAN")).raw, err(arity("scan")));
  });

  await t.step("INFO has every section", async () => {
    await c.resp.call("FLUSHALL");
    await c.resp.call("SET", "info-key", "v");
    const sections = [
      ["Server", "redis_version:"],
      ["Clients", "connected_clients:"],
      ["Memory", "used_memory:"],
      ["Persistence", "aof_enabled:"],
      ["Stats", "total_commands_processed:"],
      ["Replication", "role:master"],
      ["Keyspace", "db0:keys=1,"],
    ];
    const all = await c.resp.call("INFO");
    assert.equal(typeof all, "string", "INFO must be a bulk string");
    for (const [section, field] of sections) {
      assert.ok((all as string).includes(`# ${section}\r\n`), `INFO lacks # ${section}`);
      assert.ok((all as string).includes(`\r\n${field}`), `INFO lacks ${field}`);
    }
    for (const [section, field] of sections) {
      const one = await c.resp.call("INFO", section.toLowerCase()) as string;
      assert.equal(typeof one, "string");
      assert.ok(one.startsWith(`# ${section}\r\n`), `INFO ${section}: ${JSON.stringify(one)}`);
      assert.ok(one.includes(field), `INFO ${section} lacks ${field}`);
      const others = sections.filter(([s]) => s !== section);
      for (const [other] of others) {
        assert.ok(!one.includes(`# ${other}\r\n`), `INFO ${section} also has # ${other}`);
      }
    }
    // Text protocol: the bulk on one line, quoted with escapes.
    const line = await c.text.command("INFO keyspace");
    const words = textWords(line);
    assert.equal(words.length, 1, `INFO keyspace text line: ${line}`);
    assert.ok(words[0].startsWith("# Keyspace\r\ndb0:keys=1,"), `INFO keyspace text: ${line}`);
  });

  await t.step("ROLE, CONFIG GET", async () => {
    const role = await c.resp.call("ROLE");
    assert.ok(Array.isArray(role), "ROLE must be an array");
    assert.equal(role[0], "master");
    assert.equal(typeof role[1], "number");
    assert.deepEqual(role[2], []);
    assert.match(await c.text.command("ROLE"), /^master \d+ \[\]$/);

    const save = await c.resp.call("CONFIG", "GET", "save");
    assert.ok(Array.isArray(save) && save.length === 2 && save[0] === "save", `${save}`);
    assert.equal(typeof save[1], "string");
    assert.deepEqual(await c.resp.call("CONFIG", "GET", "appendonly"), ["appendonly", "no"]);
    assert.deepEqual(await c.resp.call("CONFIG", "GET", "nosuchparameter"), []);
    const both = await c.resp.call("CONFIG", "GET", "save", "appendonly") as string[];
    assert.deepEqual(both.filter((_, i) => i % 2 === 0).sort(), ["appendonly", "save"]);
    const glob = await c.resp.call("CONFIG", "GET", "max*") as string[];
    assert.ok(Array.isArray(glob) && glob.length % 2 === 0);
    const names = glob.filter((_, i) => i % 2 === 0);
    assert.ok(names.includes("maxmemory") && names.includes("maxclients"), `${names}`);
    assert.ok(names.every((n) => n.startsWith("max")), `CONFIG GET max* gave ${names}`);
    assert.equal(await c.text.command("CONFIG GET appendonly"), "appendonly no");
    assert.match((await c.resp.callRaw("CONFIG", "SET", "save", "900 1")).raw, /^-ERR /);
    assert.equal((await c.resp.callRaw("CONFIG")).raw, err(arity("config")));
  });

  await t.step("COMMAND COUNT, INFO, DOCS", async () => {
    const count = await c.resp.call("COMMAND", "COUNT");
    const all = await c.resp.call("COMMAND");
    assert.ok(Array.isArray(all), "COMMAND must be an array");
    assert.equal(count, all.length, "COMMAND COUNT differs from COMMAND's length");
    // Redis's arities and first keys for every command issue 5 lists.
    const redis: [string, number, number][] = [
      ["get", 2, 1],
      ["set", -3, 1],
      ["getdel", 2, 1],
      ["getex", -2, 1],
      ["del", -2, 1],
      ["exists", -2, 1],
      ["mget", -2, 1],
      ["mset", -3, 1],
      ["msetnx", -3, 1],
      ["setnx", 3, 1],
      ["incr", 2, 1],
      ["decr", 2, 1],
      ["incrby", 3, 1],
      ["decrby", 3, 1],
      ["append", 3, 1],
      ["strlen", 2, 1],
      ["expire", -3, 1],
      ["pexpire", -3, 1],
      ["expireat", -3, 1],
      ["pexpireat", -3, 1],
      ["ttl", 2, 1],
      ["pttl", 2, 1],
      ["persist", 2, 1],
      ["type", 2, 1],
      ["keys", 2, 0],
      ["scan", -2, 0],
      ["dbsize", 1, 0],
      ["flushall", -1, 0],
      ["info", -1, 0],
      ["role", 1, 0],
      ["config", -2, 0],
      ["command", -1, 0],
      ["client", -2, 0],
      ["select", 2, 0],
      ["quit", -1, 0],
      ["hello", -1, 0],
      ["ping", -1, 0],
      ["echo", 2, 0],
    ];
    const infos = await c.resp.call("COMMAND", "INFO", ...redis.map(([n]) => n)) as RespReply[][];
    assert.equal(infos.length, redis.length);
    redis.forEach(([name, arity, firstKey], i) => {
      const info = infos[i];
      assert.ok(Array.isArray(info), `COMMAND INFO ${name}: ${JSON.stringify(info)}`);
      assert.equal(info[0], name);
      assert.equal(info[1], arity, `arity of ${name}`);
      assert.ok(Array.isArray(info[2]), `flags of ${name}`);
      assert.equal(info[3], firstKey, `first key of ${name}`);
    });
    assert.equal((await c.resp.callRaw("COMMAND", "INFO", "nosuchcommand")).raw, arr(NIL));
    const docs = await c.resp.call("COMMAND", "DOCS", "get") as RespReply[];
    assert.ok(Array.isArray(docs) && docs.length === 2 && docs[0] === "get", JSON.stringify(docs));
    assert.ok(Array.isArray(docs[1]) && docs[1].includes("summary"), JSON.stringify(docs));
    assert.match(await c.text.command("COMMAND COUNT"), /^\d+$/);
    assert.equal(await c.text.command("COMMAND COUNT"), String(count));
  });

  await t.step("CLIENT SETNAME, GETNAME, ID, SETINFO", async () => {
    for (const [name, client] of [["resp", c.resp], ["text", c.text]] as const) {
      const call = async (...args: string[]): Promise<string> =>
        client instanceof RespClient
          ? (await client.callRaw(...args)).raw
          : await client.command(args.map(renderTextArgument).join(" "));
      const isResp = name === "resp";
      assert.equal(await call("CLIENT", "GETNAME"), isResp ? NIL : "(nil)");
      assert.equal(await call("CLIENT", "SETNAME", `conn-${name}`), isResp ? OK : "OK");
      assert.equal(
        await call("CLIENT", "GETNAME"),
        isResp ? bulk(`conn-${name}`) : `conn-${name}`,
      );
      assert.match(await call("CLIENT", "SETNAME", "a b"), isResp ? /^-ERR / : /^ERROR: /);
      assert.equal(await call("CLIENT", "SETINFO", "LIB-NAME", "kvdb-tests"), isResp ? OK : "OK");
      assert.equal(await call("CLIENT", "SETINFO", "LIB-VER", "1.2.3"), isResp ? OK : "OK");
      assert.match(await call("CLIENT", "ID"), isResp ? /^:\d+\r\n$/ : /^\d+$/);
      assert.match(await call("CLIENT", "NOSUCH"), isResp ? /^-ERR / : /^ERROR: /);
    }
    const a = await c.resp.call("CLIENT", "ID");
    const other = await RespClient.connect(c.port);
    try {
      const b = await other.call("CLIENT", "ID");
      assert.equal(typeof b, "number");
      assert.notEqual(a, b, "two connections share a CLIENT ID");
      assert.equal(await other.call("CLIENT", "GETNAME"), null);
    } finally {
      other.close();
    }
  });

  await steps("SELECT, HELLO, unknown commands, wrong arity", [
    [["SELECT", "0"], OK, "OK"],
    [["SELECT", "15"], OK, "OK"],
    [["SELECT", "16"], /^-ERR .*DB index is out of range/, textError("out of range")],
    [["SELECT", "0"], OK, "OK"],
    [["SELECT", "x"], err(NOT_INT), textError("not an integer")],
    [
      ["HELLO"],
      (got) => {
        assert.ok(Array.isArray(got), "HELLO must be an array");
        const map = new Map<RespReply, RespReply>();
        for (let i = 0; i < got.length; i += 2) map.set(got[i], got[i + 1]);
        assert.equal(map.get("proto"), 2);
        assert.equal(map.get("server"), "redis");
        assert.equal(typeof map.get("version"), "string");
      },
      /^server redis .*proto 2/,
    ],
    [["HELLO", "2"], /^\*\d+\r\n/, /proto 2/],
    [["HELLO", "2", "SETNAME", "via-hello"], /^\*\d+\r\n/, /proto 2/],
    [["CLIENT", "GETNAME"], bulk("via-hello"), "via-hello"],
    [["HELLO", "4"], /^-NOPROTO /, /^ERROR: /],
    [["FOO", "bar"], /^-ERR unknown command 'FOO'/, /^ERROR: invalid command 'FOO'/],
    [["GET"], err(arity("get")), /^ERROR: invalid number of arguments for 'get' command/],
    [["GET", "a", "b"], err(arity("get")), /^ERROR: invalid number of arguments/],
    [["GETDEL"], err(arity("getdel")), /^ERROR: invalid number of arguments/],
  ]);
});

// ---------------------------------------------------------------------------
// Connection-level behaviour.

commandTest("QUIT replies, then the server closes the connection", async (_t, c) => {
  // Pipelined: the requests before QUIT are answered, none after it.
  await c.resp.send(encodeRespCommands([["PING"], ["QUIT"], ["PING"]]));
  assert.equal((await c.resp.read()).raw, status("PONG"));
  assert.equal((await c.resp.read()).raw, OK);
  await assert.rejects(() => c.resp.read(5000), /connection closed with 0 bytes/);
  assert.equal(await c.text.command("QUIT"), "OK");
  assert.ok(await c.text.closedByServer(5000), "text connection still open after QUIT");
});

commandTest("malformed RESP: protocol error, then close; others unaffected", async (_t, c) => {
  // Redis's own words for each.
  const cases: [string, string][] = [
    ["*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n"],
    ["*2\r\n$3\r\nGET\r\n:1\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"],
    ["*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"],
    ["*1\r\n$-3\r\n", "-ERR Protocol error: invalid bulk length\r\n"],
  ];
  const port = c.port;
  for (const [bytes, want] of cases) {
    const bad = await RespClient.connect(port);
    try {
      await bad.send(bytes);
      const reply = await bad.read(5000);
      assert.equal(reply.raw, want, `reply to ${JSON.stringify(bytes)}`);
      assert.ok(reply.value instanceof RespError);
      assert.ok(await bad.closedByServer(5000), `still open after ${JSON.stringify(bytes)}`);
    } finally {
      bad.close();
    }
  }
  // Pipelined behind good requests in one write: those are answered first.
  const late = await RespClient.connect(port);
  try {
    const good = encodeRespCommands([["SET", "before-bad", "1"], ["GET", "before-bad"]]);
    await late.send(new Uint8Array([...good, ...binaryStringBytes("*1\r\n$x\r\n")]));
    assert.equal((await late.read(5000)).raw, OK);
    assert.equal((await late.read(5000)).raw, bulk("1"));
    assert.equal((await late.read(5000)).raw, "-ERR Protocol error: invalid bulk length\r\n");
    assert.ok(await late.closedByServer(5000), "still open after a bad request in a pipeline");
  } finally {
    late.close();
  }
  // The server and the other connections carry on.
  assert.equal((await c.resp.callRaw("PING")).raw, status("PONG"));
  assert.equal(await c.text.command("PING"), "PONG");
});

commandTest("inline commands on a RESP connection", async (_t, c) => {
  assert.equal((await c.resp.callRaw("PING")).raw, status("PONG"));
  // Empty multibulks and blank lines are skipped silently.
  await c.resp.send("*0\r\n*-1\r\n\r\n\n*1\r\n$4\r\nPING\r\n");
  assert.equal((await c.resp.read()).raw, status("PONG"));
  await c.resp.send('PING\r\nSET inline "a b"\r\nGET inline\r\nEXISTS inline nope\nGET nope\r\n');
  assert.equal((await c.resp.read()).raw, status("PONG"));
  assert.equal((await c.resp.read()).raw, OK);
  assert.equal((await c.resp.read()).raw, bulk("a b"));
  assert.equal((await c.resp.read()).raw, int(1));
  assert.equal((await c.resp.read()).raw, NIL);
  // Back to multibulk on the same connection.
  assert.equal((await c.resp.callRaw("GET", "inline")).raw, bulk("a b"));
});

commandTest("a RESP request split at every byte boundary", async (_t, c) => {
  const value = "v\r\n\x00\xff end";
  const requests = [
    `*3\r\n$3\r\nSET\r\n$6\r\nsplit!\r\n$${value.length}\r\n${value}\r\n`,
    "*2\r\n$3\r\nGET\r\n$6\r\nsplit!\r\n",
  ];
  const replies = [OK, bulk(value)];
  for (let r = 0; r < requests.length; r++) {
    const bytes = binaryStringBytes(requests[r]);
    for (let i = 0; i < bytes.length; i++) {
      await c.resp.send(bytes.subarray(i, i + 1));
      await delay(2);
    }
    assert.equal((await c.resp.read()).raw, replies[r], `request ${r} sent byte by byte`);
  }
  // Pipelined in one write, then split in the middle of a request.
  const many = Array.from({ length: 200 }, () => ["INCR", "counter"]);
  const out = await c.resp.pipeline(many);
  assert.deepEqual(out, Array.from({ length: 200 }, (_, i) => i + 1));
  const two = binaryStringBytes("*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n*1\r\n$4\r\nPING\r\n");
  for (let cut = 1; cut < two.length; cut++) {
    await c.resp.send(two.subarray(0, cut));
    await delay(1);
    await c.resp.send(two.subarray(cut));
    assert.equal((await c.resp.read()).raw, bulk("abc"), `cut at ${cut}`);
    assert.equal((await c.resp.read()).raw, status("PONG"), `cut at ${cut}`);
  }
});

commandTest(
  "binary keys and values round-trip through RESP and the text protocol",
  async (_t, c) => {
    let all = "";
    for (let b = 0; b < 256; b++) all += String.fromCharCode(b);
    const key = `bin\x00key\r\n\xff`;
    assert.equal((await c.resp.callRaw("SET", key, all)).raw, OK);
    assert.equal((await c.resp.callRaw("GET", key)).raw, bulk(all));
    assert.equal((await c.resp.callRaw("STRLEN", key)).raw, int(256));
    assert.deepEqual(await c.resp.call("KEYS", "bin*"), [key]);
    // The text protocol reads and writes the same bytes with escapes.
    assert.equal(await c.text.command(`GET ${renderTextArgument(key)}`), renderTextArgument(all));
    assert.equal(await c.text.command(`SET t ${renderTextArgument(all)}`), "OK");
    assert.equal((await c.resp.callRaw("GET", "t")).raw, bulk(all));
  },
);

Deno.test("MSET writes all or nothing: an oversized key refuses the whole command", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "4MiB" } });
  const client = await server.connect();
  try {
    const bigKey = "k".repeat(1024 * 1024 + 1);
    const reply = await client.command(`MSET a 1 ${bigKey} 2`);
    assert.match(reply, /^ERROR: key of 1048577 bytes exceeds the limit/);
    assert.equal(await client.command("GET a"), "ERROR: key not found");
    assert.match(await client.command(`SET ${bigKey} v`), /^ERROR: key of 1048577 bytes/);
    assert.equal(await client.command("DBSIZE"), "0");
  } finally {
    client.close();
    await server.stop();
  }
});
