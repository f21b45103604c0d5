import assert from "node:assert/strict";
import { binaryToBytes, bytesToBinary } from "../bytes/binary_string.ts";
import { OutBuffer } from "../protocol/out_buffer.ts";
import { splitTextArguments } from "../protocol/text_decoder.ts";
import { TextReplyWriter } from "../protocol/text_writer.ts";
import { Engine } from "../storage/engine.ts";
import { type LogWriter, Store } from "../storage/store.ts";
import { newSession } from "./command_spec.ts";
import { Executor } from "./executor.ts";
import { failingCommitLog } from "../storage/_test_log.ts";

function setup(readOnly = false) {
  const store = new Store(new Engine(16), undefined);
  const executor = new Executor(store, { readOnly });
  const out = new OutBuffer(64);
  const w = new TextReplyWriter(out);
  /** Runs one request and returns its reply line (without the newline). */
  const run = (...args: string[]): string => {
    out.reset();
    executor.execute(args, w, newSession());
    const reply = bytesToBinary(out.view());
    assert.ok(reply.endsWith("\n"), `reply ${JSON.stringify(reply)} ends with a newline`);
    assert.equal(reply.indexOf("\n"), reply.length - 1, `one line: ${JSON.stringify(reply)}`);
    return reply.slice(0, -1);
  };
  /** Runs a request line as the text protocol would split it. */
  const line = (text: string): string => {
    const bytes = binaryToBytes(text);
    return run(...splitTextArguments(bytes, 0, bytes.length));
  };
  return { store, executor, out, w, run, line };
}

Deno.test("the original's example session", () => {
  const { line } = setup();
  assert.equal(line("SET user1 John"), "OK");
  assert.equal(line("GET user1"), "John");
  assert.equal(line("DEL user1"), "OK");
  assert.equal(line("GET user1"), "ERROR: key not found");
});

Deno.test("SET/GET/DEL replies", () => {
  const { run, store } = setup();
  assert.equal(run("GET", "k"), "ERROR: key not found");
  assert.equal(run("SET", "k", "v"), "OK");
  assert.equal(store.get("k"), "v");
  assert.equal(run("GET", "k"), "v");
  assert.equal(run("SET", "k", "v2"), "OK");
  assert.equal(run("GET", "k"), "v2");
  assert.equal(run("DEL", "k"), "OK");
  assert.equal(run("DEL", "k"), "ERROR: key not found");
  assert.equal(run("GET", "k"), "ERROR: key not found");
  assert.equal(store.get("k"), undefined);
});

Deno.test("binary keys and values; GET quotes what is ambiguous", () => {
  const { run, line } = setup();
  assert.equal(run("SET", "\x00k\xff", "a b"), "OK");
  assert.equal(run("GET", "\x00k\xff"), "a b");
  assert.equal(run("SET", "k", "\x00\n\xff"), "OK");
  assert.equal(run("GET", "k"), '"\\x00\\n\\xff"');
  assert.equal(run("SET", "e", ""), "OK");
  assert.equal(run("GET", "e"), '""');
  assert.equal(run("SET", "err", "ERROR: key not found"), "OK");
  assert.equal(run("GET", "err"), '"ERROR: key not found"');
  assert.equal(line('SET "my key" "hello world "'), "OK");
  assert.equal(line("GET 'my key'"), '"hello world "');
});

Deno.test("DEL with several keys answers the count", () => {
  const { run, store } = setup();
  run("SET", "a", "1");
  run("SET", "b", "2");
  run("SET", "c", "3");
  assert.equal(run("DEL", "a", "b", "missing"), "2");
  assert.equal(run("DEL", "a", "b"), "0");
  assert.equal(run("DEL", "c", "c"), "1");
  assert.equal(store.engine.size, 0);
});

Deno.test("command names are case-insensitive", () => {
  const { run } = setup();
  assert.equal(run("set", "k", "v"), "OK");
  assert.equal(run("Get", "k"), "v");
  assert.equal(run("gEt", "K"), "ERROR: key not found");
  assert.equal(run("del", "k"), "OK");
  assert.equal(run("ping"), "PONG");
});

Deno.test("unknown command", () => {
  const { run } = setup();
  const reply = run("FOO", "x");
  assert.ok(reply.startsWith("ERROR: invalid command"), reply);
  assert.equal(reply, "ERROR: invalid command 'FOO'");
  assert.equal(run("\x00\xff"), `ERROR: invalid command '"\\x00\\xff"'`);
  const long = run("X".repeat(1000));
  assert.equal(long, `ERROR: invalid command '${"X".repeat(64)}...'`);
});

Deno.test("wrong number of arguments", () => {
  const { run, store } = setup();
  const cases: [string[], string][] = [
    [["SET", "k"], "set"],
    [["SET"], "set"],
    [["GET"], "get"],
    [["GET", "a", "b"], "get"],
    [["DEL"], "del"],
    [["get"], "get"],
  ];
  for (const [args, name] of cases) {
    const reply = run(...args);
    assert.ok(reply.startsWith("ERROR: invalid number of arguments"), reply);
    assert.equal(reply, `ERROR: invalid number of arguments for '${name}' command`);
  }
  // SET takes options since Redis's SET: an unknown one is a syntax error.
  assert.equal(run("SET", "k", "v", "x"), "ERROR: syntax error ('set' command)");
  assert.equal(store.engine.size, 0);
});

Deno.test("empty request", () => {
  const { run } = setup();
  assert.equal(run(), "ERROR: empty command");
});

Deno.test("read-only executor refuses writes, serves reads", () => {
  const { run, store } = setup(true);
  store.set("k", "v");
  assert.equal(run("SET", "k", "x"), "ERROR: write operations not allowed on slave replica");
  assert.equal(run("set", "n", "x"), "ERROR: write operations not allowed on slave replica");
  assert.equal(run("DEL", "k"), "ERROR: write operations not allowed on slave replica");
  assert.equal(run("DEL", "k", "j"), "ERROR: write operations not allowed on slave replica");
  assert.equal(run("GET", "k"), "v");
  assert.equal(run("GET", "n"), "ERROR: key not found");
  assert.equal(store.get("k"), "v");
  assert.equal(store.engine.size, 1);
});

Deno.test("replies to pipelined requests accumulate in order", async () => {
  const { executor, out, w } = setup();
  const requests = [["SET", "a", "1"], ["GET", "a"], ["DEL", "a"], ["GET", "a"], ["NOPE"], []];
  for (const args of requests) executor.execute(args, w, newSession());
  await executor.commit(out, w, requests.length);
  assert.equal(
    bytesToBinary(out.view()),
    "OK\n1\nOK\nERROR: key not found\nERROR: invalid command 'NOPE'\nERROR: empty command\n",
  );
});

/** A log whose every append fails with `message` (a disk that refuses). */
function logFailingWith(message: string): LogWriter {
  return {
    append() {
      throw new Error(message);
    },
    commit: () => Promise.resolve(),
    appendAt: () => {
      throw new Error("unused");
    },
    discardAll: () => Promise.resolve(),
    truncateAfter: () => Promise.resolve(""),
    beginGroup() {},
    endGroup() {},
    lastLsn: 0,
    durableLsn: 0,
  };
}

Deno.test("a handler that throws gets an error reply, not a crash", () => {
  const store = new Store(new Engine(4), logFailingWith("disk full"));
  const out = new OutBuffer();
  const w = new TextReplyWriter(out);
  new Executor(store, { readOnly: false }).execute(["SET", "k", "v"], w, newSession());
  assert.equal(bytesToBinary(out.view()), "ERROR: write failed, not durable: disk full\n");
  assert.equal(store.get("k"), undefined);
});

Deno.test("an error message with non-ASCII text reaches the client as UTF-8", () => {
  const store = new Store(new Engine(4), logFailingWith("cannot write /données/wal: disk full €"));
  const out = new OutBuffer();
  new Executor(store, { readOnly: false }).execute(
    ["SET", "k", "v"],
    new TextReplyWriter(out),
    newSession(),
  );
  assert.deepEqual(
    out.view(),
    new TextEncoder().encode(
      "ERROR: write failed, not durable: cannot write /données/wal: disk full €\n",
    ),
  );
});

Deno.test("commit failure replaces every reply of the batch with an error", async () => {
  const store = new Store(new Engine(4), failingCommitLog());
  const executor = new Executor(store, { readOnly: false });
  const out = new OutBuffer();
  const w = new TextReplyWriter(out);
  executor.execute(["SET", "a", "1"], w, newSession());
  executor.execute(["GET", "a"], w, newSession());
  assert.equal(bytesToBinary(out.view()), "OK\n1\n");
  await executor.commit(out, w, 2);
  assert.equal(
    bytesToBinary(out.view()),
    "ERROR: write failed, not durable: fsync failed\n".repeat(2),
  );
});

Deno.test("prefetch looks only at requests with keys and changes nothing", () => {
  const { executor, store, run } = setup();
  assert.equal(run("SET", "a", "1"), "OK");
  const requests: unknown[] = [
    ["GET", "a"],
    ["PING"],
    new Error("a decode failure"),
    ["NOSUCH", "x"],
    ["MSET", "b", "2", "c", "3"],
    [],
    ["GET", "missing"],
  ];
  executor.prefetch(requests, requests.length);
  executor.prefetch(requests, 0);
  assert.equal(store.size, 1);
  assert.equal(run("GET", "a"), "1");
  assert.equal(run("GET", "b"), "ERROR: key not found");
  assert.equal(executor.stats.commandsProcessed, 3);
});
