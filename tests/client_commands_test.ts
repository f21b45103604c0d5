/**
 * CLIENT, MONITOR and RESET (issue 14 point 7) against redis-server 7.0.15
 * — every error reply byte for byte, CLIENT LIST / INFO field by field
 * (names in Redis's order, values where they are not by nature different),
 * CLIENT KILL's filters, MONITOR's lines (times and addresses normalized) —
 * and against kvdb alone what needs a clock: CLIENT PAUSE holds commands
 * and UNPAUSE or the timeout releases them.
 */

import assert from "node:assert/strict";
import {
  binaryString,
  CLIENT_LIST_FIELDS,
  type Comparator,
  differentialTest,
  DiffPair,
  type Frame,
  normalized,
  parseClientList,
  type StepLike,
} from "./_differential.ts";
import { encodeRespCommand, RespClient, RespStatus, ServerProcess } from "./_helpers.ts";

/** CLIENT LIST / INFO: Redis's field names in Redis's order, and the values above. */
const CLIENT_LINES: Comparator = {
  name: "client lines (field names in order; values of " + CLIENT_LIST_FIELDS.name + ")",
  equal(a, b) {
    const names = (f: Frame) => parseClientList(f).map((line) => [...line.keys()].join(" "));
    return CLIENT_LIST_FIELDS.equal(a, b) && JSON.stringify(names(a)) === JSON.stringify(names(b));
  },
};

/** A MONITOR line with its time and client address replaced. */
const MONITOR_LINE = normalized(
  "monitor line (time and address out)",
  (f) => binaryString(f.raw).replace(/^\+\d+\.\d{6} \[(\d+) [^\]]+\]/, "+<time> [$1 <addr>]"),
);

const ERRORS: StepLike[] = [
  ["CLIENT", "KILL", "1.2.3.4:5"],
  ["CLIENT", "KILL", "ID", "99999"],
  ["CLIENT", "KILL", "ID", "x"],
  ["CLIENT", "KILL", "ID", "0"],
  ["CLIENT", "KILL", "ID", "-1"],
  ["CLIENT", "KILL", "TYPE", "x"],
  ["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "maybe"],
  ["CLIENT", "KILL", "USER", "nobody"],
  ["CLIENT", "KILL", "ADDR"],
  ["CLIENT", "KILL", "FOO", "bar"],
  ["CLIENT", "KILL", "LADDR", "1.1.1.1:1"],
  ["CLIENT", "KILL", "ID", "1", "TYPE"],
  ["CLIENT", "PAUSE", "x"],
  ["CLIENT", "PAUSE", "-1"],
  ["CLIENT", "PAUSE", "10", "FOO"],
  ["CLIENT", "PAUSE", "x", "FOO"],
  ["CLIENT", "PAUSE", "10", "WRITE", "X"],
  ["CLIENT", "PAUSE", "10"],
  ["CLIENT", "UNPAUSE"],
  ["CLIENT", "UNPAUSE", "x"],
  ["CLIENT", "REPLY", "X"],
  ["CLIENT", "NO-EVICT", "x"],
  ["CLIENT", "NO-EVICT", "ON"],
  ["CLIENT", "NO-EVICT", "off"],
  ["CLIENT", "GETREDIR"],
  ["CLIENT", "UNBLOCK", "1"],
  ["CLIENT", "UNBLOCK", "x"],
  ["CLIENT", "UNBLOCK", "1", "FOO"],
  ["CLIENT", "UNBLOCK", "x", "FOO"],
  ["CLIENT", "UNBLOCK", "99", "TIMEOUT"],
  ["CLIENT", "UNBLOCK", "1", "ERROR", "x"],
  ["CLIENT", "SETNAME", "a b"],
  ["CLIENT", "SETNAME", "bob"],
  ["CLIENT", "GETNAME"],
  ["CLIENT", "SETNAME", ""],
  ["CLIENT", "GETNAME"],
  ["CLIENT", "ID", "x"],
  ["CLIENT", "INFO", "x"],
  ["CLIENT", "NOPE"],
  ["CLIENT"],
  ["CLIENT", "LIST", "TYPE", "foo"],
  ["CLIENT", "LIST", "ID", "x"],
  ["CLIENT", "LIST", "ID"],
  ["CLIENT", "LIST", "XX"],
  ["CLIENT", "LIST", "ID", "99999"],
  ["RESET", "x"],
  ["MONITOR", "x"],
];

const CASES: Record<string, StepLike[]> = {
  "errors and simple replies": ERRORS,
  "CLIENT LIST and INFO: flags, db, subscriptions, transaction, last command": [
    { conn: 1, args: ["SUBSCRIBE", "x", "y"], replies: 2 },
    { conn: 1, args: ["PSUBSCRIBE", "p*"] },
    { conn: 2, args: ["MULTI"] },
    { conn: 2, args: ["SET", "a", "b"] },
    { conn: 3, args: ["CLIENT", "SETNAME", "named"] },
    { conn: 3, args: ["SELECT", "2"] },
    { conn: 3, args: ["CLIENT", "NO-EVICT", "on"] },
    { conn: 4, args: ["GET", "k"] },
    { conn: 4, args: ["NOSUCH"] },
    { args: ["CLIENT", "LIST"], compare: CLIENT_LINES },
    { args: ["CLIENT", "INFO"], compare: CLIENT_LINES },
    { args: ["CLIENT", "LIST", "TYPE", "pubsub"], compare: CLIENT_LINES },
    { args: ["CLIENT", "LIST", "TYPE", "NORMAL"], compare: CLIENT_LINES },
    { args: ["CLIENT", "LIST", "TYPE", "replica"], compare: CLIENT_LINES },
  ],
  "CLIENT KILL by type, with and without SKIPME": [
    { conn: 1, args: ["SUBSCRIBE", "x"] },
    { conn: 2, args: ["PING"] },
    ["CLIENT", "KILL", "TYPE", "pubsub"],
    { conn: 1, replies: 0, awaitCloseMs: 1000 },
    ["CLIENT", "KILL", "TYPE", "normal"],
    { conn: 2, replies: 0, awaitCloseMs: 1000 },
    ["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no"],
    { replies: 0, awaitCloseMs: 1000 },
  ],
  "MONITOR: lines after execution, database after SELECT, transactions, admin hidden": [
    ["MONITOR"],
    { conn: 1, args: ["SET", "k", 'a b"c\\\x01\n\t\x07\x08\r\xff'] },
    { conn: 1, args: ["SELECT", "1"] },
    { conn: 1, args: ["GET", "k"] },
    { conn: 1, args: ["SELECT", "99"] },
    { conn: 1, args: ["SELECT", "0"] },
    { conn: 1, args: ["MULTI"] },
    { conn: 1, args: ["SET", "x", "1"] },
    { conn: 1, args: ["INCR", "x"] },
    { conn: 1, args: ["EXEC"] },
    { conn: 1, args: ["NOSUCH"] },
    { conn: 1, args: ["GET"] },
    { conn: 1, args: ["CONFIG", "GET", "maxmemory"], compare: normalized("any", () => "") },
    { conn: 1, args: ["CLIENT", "SETNAME", "bob"] },
    {
      conn: 1,
      args: ["HELLO", "2", "AUTH", "default", "pw"],
      compare: normalized("any", () => ""),
    },
    { conn: 1, args: ["WATCH", "x"] },
    { conn: 2, args: ["SET", "x", "9"] },
    { conn: 1, args: ["MULTI"] },
    { conn: 1, args: ["GET", "x"] },
    { conn: 1, args: ["EXEC"] },
    { replies: 17, compare: MONITOR_LINE },
    { args: ["GET", "k"] },
    { args: ["PING"], replies: 2, compare: MONITOR_LINE },
    { args: ["MONITOR"], replies: 0 },
    { args: ["CLIENT", "REPLY", "OFF"], replies: 0 },
    { conn: 1, args: ["PING"] },
    { args: ["CLIENT", "REPLY", "ON"], replies: 2, compare: MONITOR_LINE },
    { args: ["RESET"] },
    { conn: 1, args: ["PING"] },
    { args: ["GET", "k"] },
  ],
  "RESET: database, name, transaction, protocol, subscriptions": [
    ["SELECT", "3"],
    ["CLIENT", "SETNAME", "n"],
    ["MULTI"],
    ["SET", "a", "1"],
    ["RESET"],
    ["CLIENT", "GETNAME"],
    ["EXEC"],
    ["GET", "a"],
    { args: ["CLIENT", "INFO"], compare: CLIENT_LINES },
  ],
};

differentialTest(
  "differential: CLIENT, MONITOR, RESET, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    for (const resp3 of [false, true]) {
      for (const [name, steps] of Object.entries(CASES)) {
        // Subscription replies are pushes in RESP3; those cases run in RESP2.
        if (resp3 && name !== "errors and simple replies" && !name.startsWith("MONITOR")) continue;
        const label = `${name} (RESP${resp3 ? 3 : 2})`;
        await t.step(label, async () => {
          await pair.diff(steps, { label, resp3 });
        });
      }
    }
  },
);

const OK = new RespStatus("OK");

/** Time from sending `args` until its reply. */
async function timed(client: RespClient, ...args: string[]): Promise<number> {
  const start = performance.now();
  await client.call(...args);
  return performance.now() - start;
}

Deno.test("CLIENT PAUSE WRITE holds writes, not reads; UNPAUSE releases them at once", async () => {
  const server = await ServerProcess.start();
  const [admin, writer] = [
    await RespClient.connect(server.port),
    await RespClient.connect(server.port),
  ];
  try {
    assert.deepEqual(await admin.call("CLIENT", "PAUSE", "400", "WRITE"), OK);
    assert.ok(await timed(writer, "GET", "k") < 200, "a read is not held");
    assert.ok(await timed(writer, "PUBLISH", "c", "m") < 200, "PUBLISH is not a write");
    const held = await timed(writer, "SET", "k", "v");
    assert.ok(held >= 300, `a write waits for the pause to end (${held} ms)`);
    assert.equal(await writer.call("GET", "k"), "v");
    // Queued inside MULTI: not held; EXEC of a write: held.
    assert.deepEqual(await admin.call("CLIENT", "PAUSE", "10000", "WRITE"), OK);
    assert.deepEqual(await writer.call("MULTI"), OK);
    assert.ok(await timed(writer, "SET", "k", "w") < 200, "queuing is not held");
    const exec = writer.call("EXEC");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await admin.call("GET", "k"), "v", "EXEC is held");
    const start = performance.now();
    assert.deepEqual(await admin.call("CLIENT", "UNPAUSE"), OK);
    assert.deepEqual(await exec, [OK]);
    assert.ok(performance.now() - start < 1000, "UNPAUSE releases held commands");
  } finally {
    admin.close();
    writer.close();
    await server.stop();
  }
});

Deno.test("CLIENT PAUSE ALL holds every command, in order, until its time passes", async () => {
  const server = await ServerProcess.start();
  const [admin, other] = [
    await RespClient.connect(server.port),
    await RespClient.connect(server.port),
  ];
  try {
    assert.deepEqual(await admin.call("CLIENT", "PAUSE", "300", "ALL"), OK);
    const replies = other.pipeline([["SET", "a", "1"], ["GET", "a"], ["CLIENT", "UNPAUSE"]]);
    const start = performance.now();
    assert.deepEqual(await replies, [OK, "1", OK]);
    const waited = performance.now() - start;
    assert.ok(waited >= 200, `held until the pause ended (${waited} ms)`);
    // A shorter, milder pause does not cut a longer one short.
    assert.deepEqual(await admin.call("CLIENT", "PAUSE", "400", "WRITE"), OK);
    assert.deepEqual(await admin.call("CLIENT", "PAUSE", "10", "WRITE"), OK);
    const held = await timed(other, "SET", "a", "2");
    assert.ok(held >= 250, `still held by the longer pause (${held} ms)`);
  } finally {
    admin.close();
    other.close();
    await server.stop();
  }
});

Deno.test("a client killed while its command is held by CLIENT PAUSE never runs it", async () => {
  const server = await ServerProcess.start();
  const [admin, held] = [
    await RespClient.connect(server.port),
    await RespClient.connect(server.port),
  ];
  try {
    const id = await held.call("CLIENT", "ID") as number;
    assert.deepEqual(await admin.call("CLIENT", "PAUSE", "10000", "WRITE"), OK);
    await held.send(encodeRespCommand(["SET", "k", "written after the kill"]));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await admin.call("CLIENT", "KILL", "ID", String(id)), 1);
    assert.deepEqual(await admin.call("CLIENT", "UNPAUSE"), OK);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await admin.call("GET", "k"), null);
    assert.ok(!server.logs.some((l) => l.includes("connection failed")), server.logs.join("\n"));
  } finally {
    admin.close();
    held.close();
    await server.stop();
  }
});

Deno.test("CLIENT LIST's idle counts whole seconds from a client's last request", async () => {
  const server = await ServerProcess.start();
  const [watcher, quiet, busy] = [
    await RespClient.connect(server.port),
    await RespClient.connect(server.port),
    await RespClient.connect(server.port),
  ];
  const idleOf = async (client: RespClient): Promise<number> => {
    const id = await client.call("CLIENT", "ID") as number;
    const list = await watcher.call("CLIENT", "LIST", "ID", String(id)) as string;
    const idle = /\bidle=(\d+)\b/.exec(list);
    assert.ok(idle, list);
    return Number(idle[1]);
  };
  try {
    const quietId = String(await quiet.call("CLIENT", "ID"));
    const busyStartMs = Date.now();
    // `busy` sends a request every 50 ms for 2.3 s while `quiet` sends none.
    while (Date.now() - busyStartMs < 2300) {
      assert.deepEqual(await busy.call("PING"), new RespStatus("PONG"));
      await new Promise((r) => setTimeout(r, 50));
    }
    const quietLine = await watcher.call("CLIENT", "LIST", "ID", quietId) as string;
    assert.match(quietLine, /\bidle=2\b/, quietLine);
    const busyId = String(await busy.call("CLIENT", "ID"));
    const busyLine = await watcher.call("CLIENT", "LIST", "ID", busyId) as string;
    assert.match(busyLine, /\bidle=0\b/, busyLine);
    // A request makes the quiet client active again at once.
    assert.equal(await idleOf(quiet), 0);
  } finally {
    watcher.close();
    quiet.close();
    busy.close();
    await server.stop();
  }
});
