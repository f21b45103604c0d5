/**
 * CONFIG SET applied at run time by a real server (maxclients, timeout,
 * loglevel), refused with the reason for what needs a restart, CONFIG
 * REWRITE keeping the file's comments (and a restart reading what it
 * wrote), SHUTDOWN, and the error statistics and logs of issue 14 point 9.
 */

import assert from "node:assert/strict";
import {
  delay,
  RespClient,
  RespError,
  RespStatus,
  ServerProcess,
  startWithConfigFile,
  withServerLog,
} from "./_helpers.ts";
import { Executor } from "../src/executor/executor.ts";
import { Engine } from "../src/storage/engine.ts";
import { Store } from "../src/storage/store.ts";
import { OutBuffer } from "../src/protocol/out_buffer.ts";
import { RespReplyWriter } from "../src/protocol/resp_writer.ts";
import { newSession } from "../src/executor/command_spec.ts";

const decoder = new TextDecoder();

/** A status reply's text (anything else as JSON, to show in a failure). */
function status(reply: unknown): string {
  return reply instanceof RespStatus ? reply.text : JSON.stringify(reply);
}

/** A lone executor (no server, no config file), replies as RESP text. */
function lone(readOnly = false) {
  const executor = new Executor(new Store(new Engine(4), undefined), { readOnly });
  const out = new OutBuffer();
  const w = new RespReplyWriter(out);
  const session = newSession();
  return async (...args: string[]) => {
    out.reset();
    await executor.execute(args, w, session);
    return decoder.decode(out.view());
  };
}

Deno.test("CONFIG SET maxclients and timeout take effect at once", async () => {
  const server = await ServerProcess.start({ network: { request_timeout: "1s" } });
  const clients: RespClient[] = [];
  try {
    const admin = await RespClient.connect(server.port);
    clients.push(admin);
    assert.equal(status(await admin.call("CONFIG", "SET", "maxclients", "2")), "OK");
    const second = await RespClient.connect(server.port);
    clients.push(second);
    assert.equal(status(await second.call("PING")), "PONG");
    const third = await RespClient.connect(server.port);
    clients.push(third);
    const refused = await third.call("PING").catch((e) => e);
    assert.ok(
      refused instanceof RespError && /max number of clients/.test(refused.text),
      `a third client is refused: ${JSON.stringify(refused)}`,
    );
    assert.equal(
      status(await admin.call("CONFIG", "SET", "maxclients", "100", "timeout", "1")),
      "OK",
    );
    assert.deepEqual(await admin.call("CONFIG", "GET", "timeout"), ["timeout", "1"]);
    // The idle client is closed within the timeout and the sweep's tenth.
    await delay(2500);
    const closed = await second.call("PING").catch((e) => e);
    assert.ok(closed instanceof Error, `an idle client is closed: ${JSON.stringify(closed)}`);
  } catch (e) {
    throw withServerLog(e, server);
  } finally {
    for (const c of clients) c.close();
    await server.stop();
  }
});

Deno.test("CONFIG SET refuses what kvdb reads at start only, naming the YAML key", async () => {
  const server = await ServerProcess.start();
  const c = await RespClient.connect(server.port);
  try {
    for (
      const [name, value, key] of [
        ["port", "7000", "network.address"],
        ["appendonly", "yes", "wal.enabled"],
        ["kvdb-engine-partitions", "4", "engine.partitions"],
      ]
    ) {
      const e = await c.call("CONFIG", "SET", name, value);
      assert.ok(e instanceof RespError, `${name}: ${e}`);
      assert.equal(
        e.text,
        `ERR CONFIG SET failed (possibly related to argument '${name}') - kvdb reads ${key} at start only: edit the config file and restart`,
      );
    }
    const fixed = await c.call("CONFIG", "SET", "appendfsync", "everysec") as RespError;
    assert.match(fixed.text, /always fsyncs a write before acknowledging it/);
    // kvdb's own settings, in Redis's syntax: sizes in bytes (Redis's units accepted).
    assert.equal(status(await c.call("CONFIG", "SET", "kvdb-wal-snapshot-threshold", "1mb")), "OK");
    assert.deepEqual(await c.call("CONFIG", "GET", "kvdb-wal-snapshot-threshold"), [
      "kvdb-wal-snapshot-threshold",
      "1048576",
    ]);
    assert.deepEqual(await c.call("CONFIG", "GET", "kvdb-engine-partitions"), [
      "kvdb-engine-partitions",
      "16",
    ]);
  } finally {
    c.close();
    await server.stop();
  }
});

Deno.test("CONFIG REWRITE writes changed keys into the YAML file, comments kept; a restart reads them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-rewrite-" });
  const probe = await ServerProcess.start();
  const port = probe.port;
  await probe.stop();
  const path = `${dir}/kvdb.yaml`;
  const original = `# The team's kvdb.
network:
  address: 127.0.0.1:${port} # clients
  # how many at once
  max_connections: 100
logging:
  level: info
`;
  await Deno.writeTextFile(path, original);
  let server = await startWithConfigFile(path, dir, port);
  try {
    const c = await RespClient.connect(port);
    assert.equal(
      status(await c.call("CONFIG", "SET", "maxclients", "42", "slowlog-max-len", "7")),
      "OK",
    );
    assert.equal(status(await c.call("CONFIG", "SET", "loglevel", "debug")), "OK");
    assert.equal(status(await c.call("CONFIG", "REWRITE")), "OK");
    c.close();
    const text = await Deno.readTextFile(path);
    for (const kept of ["# The team's kvdb.", "# clients", "# how many at once"]) {
      assert.ok(text.includes(kept), `comment ${kept} kept:\n${text}`);
    }
    assert.match(text, /max_connections: 42/);
    assert.match(text, /level: debug\n/);
    assert.ok(text.includes("monitoring:\n  slowlog_max_len: 7\n"), text);
    assert.ok(!text.includes("partitions"), `unchanged defaults are not written:\n${text}`);
    await server.stop();
    server = await startWithConfigFile(path, dir, port);
    const again = await RespClient.connect(port);
    assert.deepEqual(await again.call("CONFIG", "GET", "maxclients"), ["maxclients", "42"]);
    assert.deepEqual(await again.call("CONFIG", "GET", "slowlog-max-len"), [
      "slowlog-max-len",
      "7",
    ]);
    assert.deepEqual(await again.call("CONFIG", "GET", "loglevel"), ["loglevel", "debug"]);
    again.close();
  } catch (e) {
    throw withServerLog(e, server);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CONFIG REWRITE without a config file answers Redis's error", async () => {
  const run = lone();
  assert.equal(
    await run("CONFIG", "REWRITE"),
    "-ERR The server is running without a config file\r\n",
  );
});

Deno.test("errorstats and commandstats count unknown commands, refused writes and failures", async () => {
  const run = lone(true);
  assert.match(await run("NOSUCH"), /^-ERR unknown command/);
  assert.match(await run("SET", "k", "v"), /^-READONLY /);
  assert.match(await run("GET"), /^-ERR wrong number/);
  const errors = await run("INFO", "errorstats");
  assert.match(errors, /errorstat_ERR:count=2\r\n/);
  assert.match(errors, /errorstat_READONLY:count=1\r\n/);
  const commands = await run("INFO", "commandstats");
  assert.match(
    commands,
    /cmdstat_set:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0/,
  );
  assert.match(
    commands,
    /cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0/,
  );
  assert.equal(await run("CONFIG", "RESETSTAT"), "+OK\r\n");
  assert.match(await run("INFO", "errorstats"), /^\$\d+\r\n# Errorstats\r\n\r\n$/);
});

Deno.test("CONFIG SET loglevel debug: unknown commands are logged, and not at the default level", async () => {
  const server = await ServerProcess.start();
  const c = await RespClient.connect(server.port);
  try {
    await c.call("NOSUCHBEFORE");
    assert.equal(status(await c.call("CONFIG", "SET", "loglevel", "debug")), "OK");
    await c.call("NOSUCHAFTER");
    await c.call("PING");
    const logs = server.logs.join("\n");
    assert.ok(!logs.includes("NOSUCHBEFORE"), logs);
    assert.match(logs, /DEBUG unknown command refused .*NOSUCHAFTER/);
  } catch (e) {
    throw withServerLog(e, server);
  } finally {
    c.close();
    await server.stop();
  }
});

Deno.test("SHUTDOWN stops the server gracefully; SHUTDOWN SAVE without the WAL is refused", async () => {
  const server = await ServerProcess.start();
  const c = await RespClient.connect(server.port);
  try {
    const refused = await c.call("SHUTDOWN", "SAVE") as RespError;
    assert.equal(refused.text, "ERR Errors trying to SHUTDOWN. Check logs.");
    assert.equal(status(await c.call("PING")), "PONG");
    const gone = await c.call("SHUTDOWN", "NOSAVE").catch((e) => e);
    assert.ok(gone instanceof Error, `no reply, the connection closes: ${JSON.stringify(gone)}`);
    const exit = await server.status;
    assert.equal(exit.code, 0);
    assert.ok(
      server.logs.some((l) => l.includes("shutting down signal=SHUTDOWN")),
      server.logs.join("\n"),
    );
    assert.ok(server.logs.some((l) => l.includes("kvdb server stopped")));
  } finally {
    c.close();
    await server.stop();
  }
});

Deno.test("CONFIG SET notify-keyspace-events and client-output-buffer-limit take effect at once", async () => {
  const server = await ServerProcess.start({ network: { max_message_size: "1MiB" } });
  const admin = await RespClient.connect(server.port);
  const subscriber = await RespClient.connect(server.port);
  const lazy = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    assert.deepEqual(await subscriber.call("SUBSCRIBE", "__keyevent@0__:set"), [
      "subscribe",
      "__keyevent@0__:set",
      1,
    ]);
    assert.equal(status(await admin.call("SET", "quiet", "1")), "OK");
    assert.equal(status(await admin.call("CONFIG", "SET", "notify-keyspace-events", "E$")), "OK");
    assert.equal(status(await admin.call("SET", "loud", "1")), "OK");
    // Only the second SET was notified: the first message is about "loud".
    assert.deepEqual((await subscriber.read()).value, ["message", "__keyevent@0__:set", "loud"]);

    assert.equal(
      status(await admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 64kb 0 0")),
      "OK",
    );
    // A subscriber that never reads passes 64 KiB and is closed.
    await lazy.write(new TextEncoder().encode("*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nnews\r\n"));
    await delay(200);
    const message = "x".repeat(64 * 1024);
    let receivers = 1;
    for (let i = 0; i < 400 && receivers > 0; i++) {
      receivers = await admin.call("PUBLISH", "news", message) as number;
    }
    assert.equal(receivers, 0, "the lazy subscriber was closed at the new limit");
    const info = await admin.call("INFO", "stats") as string;
    assert.match(info, /kvdb_clients_closed_pubsub_output_buffer_hard_limit:1/);
  } catch (e) {
    throw withServerLog(e, server);
  } finally {
    lazy.close();
    subscriber.close();
    admin.close();
    await server.stop();
  }
});
