/**
 * node-redis (npm `redis`, major 6), unchanged and with its defaults,
 * against kvdb: it opens every connection with `HELLO 3` and gave up on the
 * `-NOPROTO` kvdb used to answer (issue 14).
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createClient, RESP_TYPES } from "redis";
import { ServerProcess, withServerLog } from "./_helpers.ts";

Deno.test("node-redis 6 with its defaults connects (HELLO 3) and does GET/SET", async () => {
  const server = await ServerProcess.start();
  const client = createClient({ url: `redis://127.0.0.1:${server.port}` });
  const errors: unknown[] = [];
  client.on("error", (e: unknown) => errors.push(e));
  try {
    // Before, the client retried HELLO 3 forever: give up after 10 s.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not connected in 10 s: ${errors}`)), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    assert.equal(await client.set("greeting", "hello world"), "OK");
    assert.equal(await client.get("greeting"), "hello world");
    assert.equal(await client.get("missing"), null);
    assert.deepEqual(await client.mGet(["greeting", "missing"]), ["hello world", null]);
    assert.equal(await client.set("n", "41"), "OK");
    assert.equal(await client.incr("n"), 42);
    assert.equal(await client.exists(["n", "missing"]), 1);
    assert.equal(await client.del(["n", "greeting"]), 2);
    // Binary values round-trip when the client asks for buffers.
    const bytes = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80]);
    assert.equal(await client.set("bin", bytes), "OK");
    const back = await client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).get("bin");
    assert.deepEqual(back, bytes);
    // The connection speaks RESP3: HELLO without a version reports it.
    const hello = await client.sendCommand(["HELLO"]) as unknown;
    const proto = hello instanceof Map
      ? hello.get("proto")
      : (hello as Record<string, unknown>)["proto"];
    assert.equal(proto, 3, `HELLO: ${JSON.stringify(hello)}`);
    assert.deepEqual(errors, []);
  } catch (e) {
    throw withServerLog(e, server);
  } finally {
    if (client.isOpen) await client.close().catch(() => client.destroy());
    await server.stop();
  }
});
