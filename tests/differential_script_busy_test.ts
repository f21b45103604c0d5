/**
 * A script past busy-reply-threshold (set to 300 ms on both servers), compared with redis-server 7.0 byte for byte: other clients
 * get BUSY while SCRIPT KILL still works and the killed script's client
 * gets Redis's error; a script that wrote cannot be killed (UNKILLABLE),
 * and a plain SHUTDOWN is refused with BUSY. The script's own client is
 * answered after the kill, so the event loop served sockets meanwhile.
 */

import assert from "node:assert/strict";
import { differentialTest, DiffPair, STANDARD_RULES, type StepLike } from "./_differential.ts";
import { delay, RespClient, RespError, type RespStatus, withServer } from "./_helpers.ts";

const THRESHOLD_MS = "300";
const PAST_THRESHOLD_MS = 700;
const LOOP = "local i = 0 while true do i = i + 1 end";
/** Writes, then runs 2 to 3 s by the server's clock (the same on both, whatever the VM's speed). */
const WROTE_THEN_LOOP = "redis.call('SET', 'w', '1') local t0 = tonumber(redis.call('TIME')[1]) " +
  "while tonumber(redis.call('TIME')[1]) - t0 < 3 do end return 'done'";

/** Reads the clock for 1 to 2 s (past the threshold), writing nothing. */
const SLOW_READ = "local t0 = tonumber(redis.call('TIME')[1]) " +
  "while tonumber(redis.call('TIME')[1]) - t0 < 2 do end return 'slow'";

/** Reads the clock for 1 to 2 s inside `f`, a made coroutine's body. */
const SLOW = "local t0 = tonumber(redis.call('TIME')[1]) " +
  "while tonumber(redis.call('TIME')[1]) - t0 < 2 do end";

/**
 * Coroutines (one nested in another, and one made by coroutine.wrap) that
 * run past the threshold between their own yields: the values the script
 * gets, and the statuses.
 */
const COROUTINES_PAST_THRESHOLD = "local inner = coroutine.create(function(a) " + SLOW +
  " local b = coroutine.yield(a + 1, 'x') " + SLOW + " return b * 2 end) " +
  "local outer = coroutine.create(function() local r = {coroutine.resume(inner, 1)} " +
  "coroutine.yield(#r, r[2], r[3]) return coroutine.resume(inner, 5) end) " +
  "local w = coroutine.wrap(function() " + SLOW + " coroutine.yield('w1') return 'w2' end) " +
  "local r1 = {coroutine.resume(outer)} local r2 = {coroutine.resume(outer)} " +
  "return {#r1, r1[2], r1[3], r1[4], #r2, tostring(r2[2]), r2[3], coroutine.status(outer), " +
  "coroutine.status(inner), w(), w()}";

/** string.format's floats go through the prelude's Lua code, past the threshold. */
const FORMAT_PAST_THRESHOLD = "local t0 = tonumber(redis.call('TIME')[1]) local n, s = 0 " +
  "while tonumber(redis.call('TIME')[1]) - t0 < 2 do " +
  "s = string.format('%s|%d|%q', n / 2, n / 2, n / 4) n = n + 1 end " +
  "return {type(s), string.format('%s|%d|%q', 7 / 2, 7 / 2, 7 / 4)}";

/**
 * A comparator and a gsub callback (Lua a library function calls) reading
 * the clock past the threshold in their first call.
 */
const SORT_PAST_THRESHOLD = "local first = true local t = {5, 3, 4, 1, 2} " +
  "table.sort(t, function(a, b) if first then first = false " + SLOW + " end " +
  "return a < b end) return t";
const GSUB_PAST_THRESHOLD = "local first = true return {string.gsub('ab', '%w', function(c) " +
  "if first then first = false " + SLOW + " end return c:upper() end)}";
/** Pushes to the list another client waits on, then runs past the threshold and reads it. */
const PUSH_THEN_SLOW = "redis.call('LPUSH', 'q', 'x') " + SLOW +
  " return redis.call('LLEN', 'q')";

const SORT_LOOP = "table.sort({3, 1, 2}, function(a, b) while true do end end)";
const GSUB_LOOP = "return string.gsub('abc', '%w', function(c) while true do end end)";

const COROUTINE_LOOP =
  "local f = coroutine.wrap(function() local i = 0 while true do i = i + 1 end end) " +
  "return f()";

/**
 * `script` run on connection 0 past the threshold while connection 1's GET
 * gets BUSY, then the script's reply.
 */
function runPastThreshold(script: string): StepLike[] {
  return [
    ["CONFIG", "SET", "busy-reply-threshold", THRESHOLD_MS],
    { conn: 1, args: ["PING"] },
    { conn: 0, args: ["EVAL", script, "0"], replies: 0 },
    { conn: 1, args: ["GET", "k"], sleepMs: PAST_THRESHOLD_MS },
    { conn: 0, replies: 1, timeoutMs: 8000 },
  ];
}

/** `script`, a loop on connection 0 past the threshold, stopped by connection 1's SCRIPT KILL. */
function killPastThreshold(script: string): StepLike[] {
  return [
    ["CONFIG", "SET", "busy-reply-threshold", THRESHOLD_MS],
    { conn: 1, args: ["PING"] },
    { conn: 0, args: ["EVAL", script, "0"], replies: 0 },
    { conn: 1, args: ["SCRIPT", "KILL"], sleepMs: PAST_THRESHOLD_MS },
    { conn: 0, replies: 1, timeoutMs: 5000 },
    { conn: 1, args: ["PING"] },
  ];
}

const CASES: Record<string, StepLike[]> = {
  "BUSY for others, SCRIPT KILL stops a script that did not write": [
    ["CONFIG", "SET", "busy-reply-threshold", THRESHOLD_MS],
    ["CONFIG", "GET", "lua-time-limit"],
    ["SET", "k", "v"],
    // Connections open (with a PING) before the server turns busy.
    { conn: 1, args: ["PING"] },
    { conn: 0, args: ["EVAL", LOOP, "0"], replies: 0 },
    { conn: 1, args: ["GET", "k"], sleepMs: PAST_THRESHOLD_MS },
    { conn: 1, args: ["SET", "k", "x"] },
    { conn: 1, args: ["SHUTDOWN"] },
    { conn: 1, args: ["SCRIPT", "KILL"] },
    { conn: 0, replies: 1, timeoutMs: 5000 },
    { conn: 1, args: ["GET", "k"] },
    { conn: 1, args: ["SCRIPT", "KILL"] },
  ],
  "a slow script inside MULTI runs to its end and EXEC answers": [
    ["CONFIG", "SET", "busy-reply-threshold", THRESHOLD_MS],
    ["MULTI"],
    ["EVAL", SLOW_READ, "0"],
    ["INCR", "after"],
    { args: ["EXEC"], timeoutMs: 5000 },
    ["GET", "after"],
  ],
  "a coroutine running past the threshold: only its own yields and values reach the script": [
    ...runPastThreshold(COROUTINES_PAST_THRESHOLD),
    { conn: 1, args: ["GET", "k"] },
  ],
  "a yield inside a prelude function (string.format's 5.1 path) resumes within it":
    runPastThreshold(FORMAT_PAST_THRESHOLD),
  "SCRIPT KILL stops a loop inside a coroutine": killPastThreshold(COROUTINE_LOOP),
  "a table.sort comparator past the threshold: BUSY for others, then the sorted table":
    runPastThreshold(SORT_PAST_THRESHOLD),
  "a string.gsub callback past the threshold: BUSY for others, then the replacements":
    runPastThreshold(GSUB_PAST_THRESHOLD),
  "SCRIPT KILL stops a loop inside a table.sort comparator": killPastThreshold(SORT_LOOP),
  "SCRIPT KILL stops a loop inside a string.gsub callback": killPastThreshold(GSUB_LOOP),
  "a client blocked on a key a busy script pushed to is served when the script ends": [
    ["CONFIG", "SET", "busy-reply-threshold", THRESHOLD_MS],
    { conn: 1, args: ["BLPOP", "q", "0"], replies: 0 },
    { conn: 0, args: ["EVAL", PUSH_THEN_SLOW, "0"], replies: 0, sleepMs: 100 },
    { conn: 0, replies: 1, timeoutMs: 8000 },
    { conn: 1, replies: 1, timeoutMs: 2000 },
    ["LLEN", "q"],
  ],
  "a script that wrote cannot be killed (UNKILLABLE) and runs to its end": [
    ["CONFIG", "SET", "lua-time-limit", THRESHOLD_MS],
    { conn: 1, args: ["PING"] },
    { conn: 0, args: ["EVAL", WROTE_THEN_LOOP, "0"], replies: 0 },
    { conn: 1, args: ["SCRIPT", "KILL"], sleepMs: PAST_THRESHOLD_MS },
    { conn: 1, args: ["GET", "w"] },
    { conn: 0, replies: 1, timeoutMs: 5000 },
    { conn: 1, args: ["GET", "w"] },
  ],
};

differentialTest(
  "differential: a script past busy-reply-threshold, kvdb vs redis-server 7.0",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
  },
);

Deno.test("SHUTDOWN NOSAVE stops a busy server whose script wrote", async () => {
  await withServer({}, async (server) => {
    const runner = await RespClient.connect(server.port);
    const other = await RespClient.connect(server.port);
    try {
      assert.equal(
        (await other.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD_MS) as RespStatus)
          .text,
        "OK",
      );
      const running = runner.call("EVAL", "redis.call('SET', 'w', '1') while true do end", "0")
        .catch((e) => e);
      await delay(PAST_THRESHOLD_MS);
      const killed = await other.call("SCRIPT", "KILL");
      assert.ok(
        killed instanceof RespError && killed.text.startsWith("UNKILLABLE"),
        String(killed),
      );
      const saving = await other.call("SHUTDOWN");
      assert.ok(saving instanceof RespError && saving.text.startsWith("BUSY"), String(saving));
      await other.call("SHUTDOWN", "NOSAVE").catch(() => undefined);
      const exit = await server.status;
      assert.equal(exit.success, true, `exit code ${exit.code}`);
      await running;
    } finally {
      runner.close();
      other.close();
    }
  });
});
