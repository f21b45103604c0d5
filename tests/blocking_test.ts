/**
 * The blocking list and sorted-set commands on the real server (issue 16):
 * several clients waiting on one key are served first blocked first; a
 * client on several keys by the first made ready; timeouts (fractional,
 * and 0 = for ever); a client that disconnects while blocked takes
 * nothing; a push inside MULTI serves after EXEC, seeing the final state;
 * a served BLMOVE's push serves the next client (a chain); CLIENT UNBLOCK
 * TIMEOUT and ERROR; WRONGTYPE at once, and for BLMOVE's destination when
 * served; a key of another type leaves clients blocked (Redis 7.0); the
 * replies before a blocking command in a pipeline are sent when it blocks;
 * INFO's blocked_clients, CLIENT LIST's `b`; no idle timeout while blocked;
 * SHUTDOWN and a turn to replica with clients blocked; and a replica (and
 * a restart from the WAL) holding what the served pops left.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  delay,
  freePort,
  RespClient,
  RespError,
  type RespReply,
  RespStatus,
  ServerProcess,
} from "./_helpers.ts";

/** INFO clients' field `name` as a number. */
async function infoClients(admin: RespClient, name: string): Promise<number> {
  const info = await admin.call("INFO", "clients") as string;
  const match = new RegExp(`^${name}:(\\d+)`, "m").exec(info);
  assert.ok(match, `INFO clients has ${name}: ${info}`);
  return Number(match[1]);
}

/** Waits until exactly `count` clients are blocked (so blocking order is known). */
async function waitBlocked(admin: RespClient, count: number): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 10) {
    if (await infoClients(admin, "blocked_clients") === count) return;
    await delay(10);
  }
  assert.fail(`blocked_clients never reached ${count}`);
}

/** Sends a command without reading its reply. */
function send(client: RespClient, ...args: string[]): Promise<void> {
  const encoded = args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
  return client.send(`*${args.length}\r\n${encoded}`);
}

/** Whether no reply comes within `ms` (the client is still blocked). */
async function silentFor(client: RespClient, ms: number): Promise<boolean> {
  try {
    await client.read(ms);
    return false;
  } catch (e) {
    return /no reply within/.test(String(e));
  }
}

function errorText(reply: RespReply): string {
  assert.ok(reply instanceof RespError, `an error: ${JSON.stringify(reply)}`);
  return reply.text;
}

async function withServer(
  config: Record<string, Record<string, unknown>>,
  run: (server: ServerProcess, admin: RespClient, open: () => Promise<RespClient>) => Promise<void>,
): Promise<void> {
  const server = await ServerProcess.start(config);
  const clients: RespClient[] = [];
  const open = async () => {
    const c = await RespClient.connect(server.port);
    clients.push(c);
    return c;
  };
  try {
    await run(server, await open(), open);
  } finally {
    for (const c of clients) c.close();
    await server.stop();
  }
}

Deno.test("blocking commands: fairness, timeouts, transactions, chains, unblocking, types", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-blocking-" });
  await withServer({ wal: { enabled: true, data_directory: join(dir, "wal") } }, async (
    _server,
    admin,
    open,
  ) => {
    const [c1, c2, c3] = [await open(), await open(), await open()];

    await t.step("several clients on one key: the first blocked is served first", async () => {
      await send(c1, "BRPOP", "q", "0");
      await waitBlocked(admin, 1);
      await send(c2, "BRPOP", "q", "0");
      await waitBlocked(admin, 2);
      await send(c3, "BLPOP", "q", "0");
      await waitBlocked(admin, 3);
      assert.equal(await admin.call("RPUSH", "q", "1", "2"), 2);
      assert.deepEqual((await c1.read()).value, ["q", "2"]);
      assert.deepEqual((await c2.read()).value, ["q", "1"]);
      assert.equal(await admin.call("EXISTS", "q"), 0, "emptied, so deleted");
      assert.ok(await silentFor(c3, 100), "the third is still blocked");
      assert.equal(await infoClients(admin, "blocked_clients"), 1);
      assert.equal(await admin.call("LPUSH", "q", "3"), 1);
      assert.deepEqual((await c3.read()).value, ["q", "3"]);
      await waitBlocked(admin, 0);
    });

    await t.step("a client on several keys is served by the first key made ready", async () => {
      await send(c1, "BLPOP", "a", "b", "c", "0");
      await waitBlocked(admin, 1);
      const exec = await admin.pipeline([
        ["MULTI"],
        ["RPUSH", "c", "from-c"],
        ["RPUSH", "a", "from-a"],
        ["EXEC"],
      ]);
      assert.deepEqual(exec[3], [1, 1]);
      assert.deepEqual((await c1.read()).value, ["c", "from-c"]);
      assert.deepEqual(await admin.call("LRANGE", "a", "0", "-1"), ["from-a"]);
      await admin.call("DEL", "a");
    });

    await t.step("timeouts: fractional seconds answer nil in their time; 0 waits", async () => {
      let started = Date.now();
      assert.equal(await c1.call("BLPOP", "none", "0.25"), null);
      let took = Date.now() - started;
      assert.ok(took >= 240 && took < 2000, `BLPOP 0.25 took ${took} ms`);
      started = Date.now();
      assert.equal(await c1.call("BZPOPMAX", "none", "0.05"), null);
      took = Date.now() - started;
      assert.ok(took >= 45 && took < 1500, `BZPOPMAX 0.05 took ${took} ms`);
      assert.equal(await c1.call("BLMOVE", "none", "d", "LEFT", "RIGHT", "0.01"), null);
      assert.equal(await c1.call("BLMPOP", "0.01", "1", "none", "LEFT"), null);
      assert.equal(await c1.call("BZMPOP", "0.01", "2", "none", "z", "MIN"), null);
      // 0 blocks for ever: still blocked well past any short timeout.
      await send(c2, "BZPOPMIN", "forever", "0");
      await waitBlocked(admin, 1);
      assert.equal(await infoClients(admin, "clients_in_timeout_table"), 0);
      assert.ok(await silentFor(c2, 1200));
      await admin.call("ZADD", "forever", "2", "two", "1", "one");
      assert.deepEqual((await c2.read()).value, ["forever", "one", "1"]);
      assert.equal(errorText(await c1.call("BLPOP", "k", "-1")), "ERR timeout is negative");
      assert.equal(
        errorText(await c1.call("BLPOP", "k", "soon")),
        "ERR timeout is not a float or out of range",
      );
      await admin.call("DEL", "forever");
    });

    await t.step("a client that disconnects while blocked takes nothing", async () => {
      const leaving = await open();
      await send(leaving, "BLPOP", "gone", "0");
      await send(c1, "BLPOP", "gone", "0.5"); // with a timeout: in the timeout table
      await waitBlocked(admin, 2);
      assert.equal(await infoClients(admin, "clients_in_timeout_table"), 1);
      leaving.close();
      await waitBlocked(admin, 1);
      assert.equal(await admin.call("RPUSH", "gone", "kept", "served"), 2);
      assert.deepEqual((await c1.read()).value, ["gone", "kept"]);
      assert.deepEqual(await admin.call("LRANGE", "gone", "0", "-1"), ["served"]);
      assert.equal(await infoClients(admin, "clients_in_timeout_table"), 0);
      await admin.call("DEL", "gone");
      // CLIENT KILL of a blocked client ends its wait the same way.
      const killed = await open();
      const id = String(await killed.call("CLIENT", "ID"));
      await send(killed, "BZPOPMIN", "gone", "0");
      await waitBlocked(admin, 1);
      assert.equal(await admin.call("CLIENT", "KILL", "ID", id), 1);
      assert.equal(await killed.closedByServer(2000), true);
      await waitBlocked(admin, 0);
      await admin.call("ZADD", "gone", "1", "kept");
      assert.deepEqual(await admin.call("ZRANGE", "gone", "0", "-1"), ["kept"]);
      await admin.call("DEL", "gone");
    });

    await t.step("a push inside MULTI serves after EXEC, from the final state", async () => {
      await send(c1, "BLPOP", "m", "0");
      await send(c2, "BZPOPMIN", "mz", "0");
      await waitBlocked(admin, 2);
      const replies = await admin.pipeline([
        ["MULTI"],
        ["RPUSH", "m", "a", "b", "c"],
        ["LPOP", "m"],
        ["ZADD", "mz", "5", "five"],
        ["ZADD", "mz", "3", "three"],
        ["EXEC"],
      ]);
      assert.deepEqual(replies[5], [3, "a", 1, 1]);
      assert.deepEqual((await c1.read()).value, ["m", "b"]);
      assert.deepEqual((await c2.read()).value, ["mz", "three", "3"]);
      assert.deepEqual(await admin.call("LRANGE", "m", "0", "-1"), ["c"]);
      await admin.call("DEL", "m", "mz");
      // Inside MULTI they never block: the nil of a timeout, even with timeout 0.
      const inMulti = await c1.pipeline([
        ["MULTI"],
        ["BLPOP", "m", "0"],
        ["BRPOPLPUSH", "m", "d", "0"],
        ["BZMPOP", "0", "1", "mz", "MAX"],
        ["EXEC"],
      ]);
      assert.deepEqual(inMulti[4], [null, null, null]);
    });

    await t.step("BLMOVE chains: a served move's push serves the next client", async () => {
      await send(c1, "BLMOVE", "s1", "s2", "LEFT", "RIGHT", "0");
      await waitBlocked(admin, 1);
      await send(c2, "BRPOPLPUSH", "s2", "s3", "0");
      await waitBlocked(admin, 2);
      await send(c3, "BLMPOP", "0", "2", "nothing", "s3", "RIGHT", "COUNT", "5");
      await waitBlocked(admin, 3);
      assert.equal(await admin.call("RPUSH", "s1", "x", "y"), 2);
      assert.equal((await c1.read()).value, "x");
      assert.equal((await c2.read()).value, "x");
      assert.deepEqual((await c3.read()).value, ["s3", ["x"]]);
      assert.deepEqual(await admin.call("LRANGE", "s1", "0", "-1"), ["y"]);
      assert.equal(await admin.call("EXISTS", "s2", "s3"), 0);
      assert.equal(await infoClients(admin, "blocked_clients"), 0);
      await admin.call("DEL", "s1");
    });

    await t.step("CLIENT UNBLOCK: TIMEOUT answers nil, ERROR -UNBLOCKED", async () => {
      const id = String(await c1.call("CLIENT", "ID"));
      assert.equal(await admin.call("CLIENT", "UNBLOCK", id), 0, "not blocked");
      await send(c1, "BLPOP", "u", "0");
      await waitBlocked(admin, 1);
      const list = await admin.call("CLIENT", "LIST") as string;
      const line = list.split("\n").find((l) => l.startsWith(`id=${id} `))!;
      assert.match(line, / flags=b /);
      assert.match(line, / cmd=blpop /);
      assert.equal(await admin.call("CLIENT", "UNBLOCK", id, "TIMEOUT"), 1);
      assert.equal((await c1.read()).value, null);
      await send(c1, "BZMPOP", "0", "1", "u", "MIN");
      await waitBlocked(admin, 1);
      assert.equal(await admin.call("CLIENT", "UNBLOCK", id, "ERROR"), 1);
      assert.equal(
        errorText((await c1.read()).value),
        "UNBLOCKED client unblocked via CLIENT UNBLOCK",
      );
      assert.equal(await admin.call("CLIENT", "UNBLOCK", id, "ERROR"), 0);
      assert.equal(await c1.call("PING") instanceof RespStatus, true, "the client goes on");
    });

    await t.step(
      "WRONGTYPE: at once, for BLMOVE's destination when served; types wait",
      async () => {
        await admin.call("SET", "str", "v");
        assert.match(errorText(await c1.call("BLPOP", "missing", "str", "0")), /^WRONGTYPE /);
        assert.match(errorText(await c1.call("BZPOPMIN", "str", "0")), /^WRONGTYPE /);
        assert.match(errorText(await c1.call("BLMOVE", "str", "d", "LEFT", "LEFT", "0")), /^WRONG/);
        // A list before the wrong type is popped: keys are taken in order.
        await admin.call("RPUSH", "l", "first");
        assert.deepEqual(await c1.call("BLPOP", "l", "str", "0"), ["l", "first"]);
        // Blocked with a destination of another type: served with WRONGTYPE, nothing moves.
        await send(c1, "BLMOVE", "src", "str", "LEFT", "RIGHT", "0");
        await waitBlocked(admin, 1);
        assert.equal(await admin.call("RPUSH", "src", "1", "2"), 2);
        assert.match(errorText((await c1.read()).value), /^WRONGTYPE /);
        assert.deepEqual(await admin.call("LRANGE", "src", "0", "-1"), ["1", "2"]);
        await admin.call("DEL", "src");
        // A waited key made a sorted set (or a string) leaves a BLPOP blocked.
        await send(c1, "BLPOP", "t", "0");
        await waitBlocked(admin, 1);
        await admin.call("ZADD", "t", "1", "m");
        assert.ok(await silentFor(c1, 150));
        await admin.call("DEL", "t");
        await admin.call("SET", "t", "s");
        assert.ok(await silentFor(c1, 150));
        assert.equal(await infoClients(admin, "blocked_clients"), 1);
        await admin.call("DEL", "t");
        await admin.call("RPUSH", "t", "now");
        assert.deepEqual((await c1.read()).value, ["t", "now"]);
        await admin.call("DEL", "str");
      },
    );

    await t.step(
      "the replies before a blocking command in a pipeline are sent when it blocks",
      async () => {
        await c1.send(
          "*3\r\n$5\r\nRPUSH\r\n$5\r\nother\r\n$1\r\n1\r\n" +
            "*3\r\n$5\r\nBLPOP\r\n$4\r\nwait\r\n$1\r\n0\r\n" +
            "*1\r\n$4\r\nPING\r\n",
        );
        assert.equal((await c1.read(2000)).value, 1);
        await waitBlocked(admin, 1);
        await admin.call("RPUSH", "wait", "w");
        assert.deepEqual((await c1.read()).value, ["wait", "w"]);
        assert.equal(((await c1.read()).value as RespStatus).text, "PONG");
        await admin.call("DEL", "other");
      },
    );

    await t.step("what a blocked client sends meanwhile runs after, in order", async () => {
      await send(c1, "BLPOP", "held", "0");
      await waitBlocked(admin, 1);
      // 300 KB of requests sent while blocked: read and held (many reads),
      // then run in order once it is served.
      const value = "v".repeat(1000);
      const count = 300;
      let requests = "";
      for (let i = 0; i < count; i++) {
        requests += `*3\r\n$6\r\nAPPEND\r\n$4\r\nheld\r\n$${value.length}\r\n${value}\r\n`;
      }
      requests += "*2\r\n$6\r\nSTRLEN\r\n$6\r\nlength\r\n";
      await c1.send(requests);
      assert.ok(await silentFor(c1, 200), "nothing runs while it is blocked");
      assert.equal(await admin.call("EXISTS", "held"), 0);
      await admin.call("RPUSH", "held", "x");
      assert.deepEqual((await c1.read()).value, ["held", "x"]);
      for (let i = 1; i <= count; i++) assert.equal((await c1.read()).value, i * value.length);
      assert.equal((await c1.read()).value, 0);
      assert.equal(await admin.call("STRLEN", "held"), count * value.length);
      await admin.call("DEL", "held");
    });
  });
});

Deno.test("blocking commands: no idle timeout while blocked; SHUTDOWN closes blocked clients", async () => {
  const server = await ServerProcess.start({ network: { idle_timeout: "300ms" } });
  const blocked = await RespClient.connect(server.port);
  const admin = await RespClient.connect(server.port);
  try {
    await send(blocked, "BLPOP", "k", "0");
    await waitBlocked(admin, 1);
    // The admin keeps itself active; the blocked client is silent for 3 idle timeouts.
    for (let i = 0; i < 9; i++) {
      await delay(100);
      await admin.call("PING");
    }
    assert.equal(await admin.call("RPUSH", "k", "v"), 1);
    assert.deepEqual((await blocked.read()).value, ["k", "v"], "blocked past the idle timeout");
    await send(blocked, "BZPOPMIN", "z", "0");
    await admin.call("PING");
    const started = Date.now();
    const code = await server.stop();
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 5000, "the blocked client does not hold SHUTDOWN");
    assert.equal(await blocked.closedByServer(2000), true);
  } finally {
    blocked.close();
    admin.close();
    await server.stop();
  }
});

Deno.test("blocking commands: served pops replicate and survive a restart; a turn to replica unblocks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-blocking-repl-" });
  const masterConfig = {
    wal: { enabled: true, data_directory: join(dir, "master") },
    replication: {
      enabled: true,
      replica_type: "master",
      master_address: `127.0.0.1:${freePort()}`,
      sync_interval: "100ms",
    },
  };
  let master = await ServerProcess.start(masterConfig);
  const replica = await ServerProcess.start({
    wal: { enabled: true, data_directory: join(dir, "replica") },
    replication: {
      enabled: true,
      replica_type: "slave",
      master_address: `127.0.0.1:${master.port}`,
      sync_interval: "100ms",
    },
  });
  let admin = await RespClient.connect(master.port);
  const onReplica = await RespClient.connect(replica.port);
  const waiters: RespClient[] = [];
  const dump = async (c: RespClient) =>
    JSON.stringify([
      await c.call("LRANGE", "jobs", "0", "-1"),
      await c.call("LRANGE", "done", "0", "-1"),
      await c.call("ZRANGE", "board", "0", "-1", "WITHSCORES"),
      (await c.call("KEYS", "*") as string[]).sort(),
    ]);
  try {
    assert.match(errorText(await onReplica.call("BLPOP", "jobs", "0")), /^READONLY /);
    for (let i = 0; i < 4; i++) waiters.push(await RespClient.connect(master.port));
    await send(waiters[0], "BLPOP", "jobs", "0");
    await send(waiters[1], "BLMOVE", "jobs", "done", "RIGHT", "LEFT", "0");
    await send(waiters[2], "BZPOPMAX", "board", "0");
    await send(waiters[3], "BZMPOP", "0", "1", "board", "MIN", "COUNT", "2");
    await waitBlocked(admin, 4);
    await admin.call("RPUSH", "jobs", "j1", "j2", "j3");
    await admin.call("ZADD", "board", "10", "a", "20", "b", "30", "c", "40", "d");
    assert.deepEqual((await waiters[0].read()).value, ["jobs", "j1"]);
    assert.equal((await waiters[1].read()).value, "j3");
    assert.deepEqual((await waiters[2].read()).value, ["board", "d", "40"]);
    assert.deepEqual((await waiters[3].read()).value, ["board", [["a", "10"], ["b", "20"]]]);
    const expected = await dump(admin);
    assert.equal(
      expected,
      JSON.stringify([["j2"], ["j3"], ["c", "30"], ["board", "done", "jobs"]]),
    );
    let seen = "";
    for (let waited = 0; waited < 10_000 && seen !== expected; waited += 100) {
      seen = await dump(onReplica);
      if (seen !== expected) await delay(100);
    }
    assert.equal(seen, expected, "the replica holds what the served pops left");
    // Restarted from its WAL, the master holds the same.
    admin.close();
    await master.stop("SIGKILL");
    master = await ServerProcess.start(masterConfig, { dir: master.dir, port: master.port });
    admin = await RespClient.connect(master.port);
    assert.equal(await dump(admin), expected, "the restarted master holds what it served");
    // A master turned replica unblocks its blocked clients with Redis's error and closes them.
    const waiting = await RespClient.connect(master.port);
    waiters.push(waiting);
    await send(waiting, "BLPOP", "never", "0");
    await waitBlocked(admin, 1);
    await admin.call("REPLICAOF", "127.0.0.1", String(freePort()));
    assert.equal(
      errorText((await waiting.read()).value),
      "UNBLOCKED force unblock from blocking operation, instance state changed " +
        "(master -> replica?)",
    );
    assert.equal(await waiting.closedByServer(2000), true);
  } finally {
    for (const w of waiters) w.close();
    admin.close();
    onReplica.close();
    await replica.stop();
    await master.stop();
  }
});
