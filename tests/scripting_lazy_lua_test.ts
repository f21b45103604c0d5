/**
 * The Lua VM loads on a server's first scripting command (issue 20), not
 * at start: the first EVAL, EVALSHA, SCRIPT LOAD, FUNCTION LOAD or FCALL
 * waits for it with its reply in order among its client's replies; an
 * EXEC whose queue holds one waits for it before it runs (the commands
 * EXEC runs reply at once); libraries restored at start compile on the
 * first function command.
 */

import assert from "node:assert/strict";
import { RespClient, RespStatus, ServerProcess, walConfig, withServer } from "./_helpers.ts";

const SCRIPT = "return redis.call('GET', KEYS[1])";
const LIBRARY = "#!lua name=lib\nredis.register_function('getk', function(keys) " +
  "return redis.call('GET', keys[1]) end)";

Deno.test("a fresh server's first scripts, pipelined among other commands, reply in order", async () => {
  await withServer({}, async (server) => {
    const client = await RespClient.connect(server.port);
    const replies = await client.pipeline([
      ["SET", "k", "v1"],
      ["EVAL", SCRIPT, "1", "k"],
      ["SET", "k", "v2"],
      ["EVALSHA", "d3c21d0c2b9ca22f82737626a27bcaf5d288f99f", "1", "k"],
      ["SCRIPT", "EXISTS", "d3c21d0c2b9ca22f82737626a27bcaf5d288f99f"],
      ["GET", "k"],
    ]);
    assert.deepEqual(replies.slice(1), ["v1", new RespStatus("OK"), "v2", [1], "v2"]);
    client.close();
  });
});

Deno.test("a fresh server's first EVAL and FUNCTION LOAD inside MULTI: EXEC waits for Lua", async () => {
  await withServer({}, async (server) => {
    const client = await RespClient.connect(server.port);
    const replies = await client.pipeline([
      ["MULTI"],
      ["SET", "k", "v"],
      ["EVAL", SCRIPT, "1", "k"],
      ["FUNCTION", "LOAD", LIBRARY],
      ["FCALL", "getk", "1", "k"],
      ["INCR", "n"],
      ["EXEC"],
      ["GET", "n"],
    ]);
    assert.deepEqual(replies[6], [new RespStatus("OK"), "v", "lib", "v", 1]);
    assert.equal(replies[7], "1");
    client.close();
  });
});

Deno.test("a library restored at start compiles on the first FCALL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-lazy-lua-" });
  try {
    const config = walConfig(`${dir}/data`);
    let server = await ServerProcess.start(config, { dir });
    let client = await RespClient.connect(server.port);
    assert.equal(await client.call("FUNCTION", "LOAD", LIBRARY), "lib");
    assert.ok((await client.call("SET", "k", "v")) instanceof RespStatus);
    client.close();
    await server.stop("SIGKILL");
    server = await ServerProcess.start(config, { dir });
    client = await RespClient.connect(server.port);
    assert.equal(await client.call("FCALL", "getk", "1", "k"), "v");
    client.close();
    await server.stop();
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
