/**
 * `redis.log` writes to the server's log at the level given, respecting
 * the configured level (read from the log of a kvdb started here); its
 * argument errors are Redis's (compared with redis-server 7.0 byte for
 * byte).
 */

import assert from "node:assert/strict";
import { differentialTest, DiffPair, STANDARD_RULES, type StepLike } from "./_differential.ts";
import { delay, RespClient, withServer } from "./_helpers.ts";

const CASES: Record<string, StepLike[]> = {
  "redis.log's argument errors and its return value": [
    ["EVAL", "return redis.log(redis.LOG_WARNING)", "0"],
    ["EVAL", "return redis.log()", "0"],
    ["EVAL", "return redis.log('x', 'a')", "0"],
    ["EVAL", "return redis.log({}, 'a')", "0"],
    ["EVAL", "return redis.log(4, 'a')", "0"],
    ["EVAL", "return redis.log(-1, 'a')", "0"],
    ["EVAL", "return {pcall(redis.log, 5, 'a')}", "0"],
    ["EVAL", "return redis.pcall(redis.log, 5, 'a')", "0"],
    ["EVAL", "return redis.log('3', 'a', 1, 2.5, 10/2, {}, true, nil, 'z')", "0"],
    ["EVAL", "return redis.log(3.7, 'level 3')", "0"],
    ["EVAL", "return redis.log(redis.LOG_DEBUG, 'below the level')", "0"],
    [
      "EVAL",
      "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
      "0",
    ],
  ],
};

differentialTest(
  "differential: redis.log's replies and errors, kvdb vs redis-server 7.0",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
  },
);

/** The server's `redis.log` lines after `since` lines, as "LEVEL text". */
function scriptLines(logs: readonly string[], since: number): string[] {
  return logs.slice(since).filter((l) => l.includes(" redis.log ")).map((l) => {
    const m = / (DEBUG|INFO|WARN|ERROR) redis\.log text=(.*)$/.exec(l);
    assert.ok(m, `unexpected line ${l}`);
    return `${m[1]} ${m[2]}`;
  });
}

Deno.test("redis.log writes to the server's log at the level given, as configured", async () => {
  await withServer({ logging: { level: "info" } }, async (server) => {
    const client = await RespClient.connect(server.port);
    try {
      const all = "redis.log(redis.LOG_DEBUG, 'd') redis.log(redis.LOG_VERBOSE, 'v') " +
        "redis.log(redis.LOG_NOTICE, 'n') redis.log(redis.LOG_WARNING, 'w') return 1";
      let since = server.logs.length;
      assert.equal(await client.call("EVAL", all, "0"), 1);
      await delay(100);
      // At kvdb's default level (Redis's notice): no debug or verbose lines.
      assert.deepEqual(scriptLines(server.logs, since), ["INFO n", "WARN w"]);

      since = server.logs.length;
      await client.call("CONFIG", "SET", "loglevel", "debug");
      await client.call("EVAL", all, "0");
      await delay(100);
      assert.deepEqual(scriptLines(server.logs, since), ["DEBUG d", "DEBUG v", "INFO n", "WARN w"]);

      since = server.logs.length;
      await client.call("CONFIG", "SET", "loglevel", "warning");
      await client.call("EVAL", all, "0");
      await delay(100);
      assert.deepEqual(scriptLines(server.logs, since), ["WARN w"]);

      // Arguments joined as Redis joins them (Lua 5.1 numbers, non-strings
      // skipped); a newline cannot start a forged line: the text is quoted.
      since = server.logs.length;
      await client.call(
        "EVAL",
        "redis.log(redis.LOG_WARNING, 'a', 1, 2.5, 10/2, {}, true, 'z') " +
          "redis.log(redis.LOG_WARNING, 'x\\n2026-01-01T00:00:00.000Z ERROR forged') return 1",
        "0",
      );
      await delay(100);
      assert.deepEqual(scriptLines(server.logs, since), [
        'WARN "a 1 2.5 5 z"',
        'WARN "x\\n2026-01-01T00:00:00.000Z ERROR forged"',
      ]);
      assert.ok(!server.logs.some((l) => l.startsWith("2026-01-01T00:00:00.000Z ERROR forged")));

      // A function library's code logs while FUNCTION LOAD runs it, and its functions when called.
      since = server.logs.length;
      const library = "#!lua name=logging\nredis.log(redis.LOG_WARNING, 'loading')\n" +
        "redis.register_function('f', function() redis.log(redis.LOG_WARNING, 'called') return 1 end)";
      assert.equal(await client.call("FUNCTION", "LOAD", library), "logging");
      assert.equal(await client.call("FCALL", "f", "0"), 1);
      await delay(100);
      assert.deepEqual(scriptLines(server.logs, since), ["WARN loading", "WARN called"]);
    } finally {
      client.close();
    }
  });
});
