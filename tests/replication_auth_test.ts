/**
 * Replication with authentication (issue point 4): a master with
 * `security.requirepass` (or an ACL user) serves a replica that logs in
 * with `replication.masterauth` / `masteruser`, plain and over TLS; a
 * replica with a wrong or missing password is refused, logs the master's
 * reply, keeps serving reads and retrying, and follows once CONFIG SET
 * masterauth gives it the right one; a client that is not an authenticated
 * replica gets nothing of the dataset through the replication protocol, on
 * the client port or the replication-only port.
 */

import assert from "node:assert/strict";
import {
  converges,
  delay,
  freePort,
  replicatedConfigs,
  RespClient,
  RespError,
  RespStatus,
  ServerProcess,
  TcpClient,
  withServerLog,
} from "./_helpers.ts";
import { makeServerCerts } from "./_tls_certs.ts";

/** Blanks and quotes: the replica's AUTH line must carry them intact. */
const PASSWORD = `s3cret "pw" it's`;
const REFUSED = "refused this replica's authentication";
/** What every master holds: a value no refused client may see. */
const SECRET_VALUE = "the-dataset-itself";

function assertOk(reply: unknown): void {
  assert.ok(reply instanceof RespStatus && reply.text === "OK", JSON.stringify(reply));
}

async function dump(client: RespClient): Promise<string> {
  const keys = (await client.call("KEYS", "*")) as string[];
  const lines: string[] = [];
  for (const key of keys.sort()) lines.push(`${key}=${await client.call("GET", key)}`);
  return lines.join("\n");
}

/** A client logged in to `port` (with `user` when given). */
async function login(port: number, password: string, user?: string): Promise<RespClient> {
  const client = await RespClient.connect(port);
  assertOk(await client.call("AUTH", ...(user === undefined ? [] : [user]), password));
  return client;
}

/** Runs `fn` with servers it starts into `servers`, stopping them all after. */
async function withServers(
  fn: (servers: ServerProcess[], dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-repl-auth-" });
  const servers: ServerProcess[] = [];
  try {
    await fn(servers, dir);
  } catch (e) {
    throw servers.length === 0 ? e : withServerLog(e, servers[servers.length - 1]);
  } finally {
    for (const s of servers) await s.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function writeKeys(client: RespClient, count: number): Promise<void> {
  for (let i = 0; i < count; i++) assertOk(await client.call("SET", `key:${i}`, SECRET_VALUE));
}

Deno.test("replication auth: masterauth converges; a wrong one is refused, logged, retried, fixed by CONFIG SET", async () => {
  await withServers(async (servers, dir) => {
    const { master, replica } = replicatedConfigs(dir);
    const m = await ServerProcess.start({ ...master, security: { requirepass: PASSWORD } });
    servers.push(m);
    const replicationPort = Number(master.replication.master_address.split(":")[1]);
    const good = await ServerProcess.start({
      ...replica("good", m.port),
      replication: { ...replica("good", m.port).replication, masterauth: PASSWORD },
    });
    servers.push(good);
    // The wrong one dials the replication-only listener: the same login there.
    const bad = await ServerProcess.start({
      ...replica("bad", replicationPort),
      replication: { ...replica("bad", replicationPort).replication, masterauth: "wrong" },
    });
    servers.push(bad);
    const none = await ServerProcess.start(replica("none", m.port));
    servers.push(none);
    const mc = await login(m.port, PASSWORD);
    const g = await RespClient.connect(good.port);
    const b = await RespClient.connect(bad.port);
    const n = await RespClient.connect(none.port);
    try {
      await writeKeys(mc, 100);
      const expected = await dump(mc);
      await converges(() => dump(g), expected, "the replica with masterauth follows");
      // The refused ones keep serving reads (empty), log the master's reply once, retry.
      await delay(1000);
      assert.equal(await b.call("DBSIZE"), 0);
      assert.equal(await n.call("DBSIZE"), 0);
      const badLog = bad.logs.filter((l) => l.includes(REFUSED));
      assert.equal(badLog.length, 1, bad.logs.join("\n"));
      assert.match(badLog[0], /invalid username-password pair/);
      const noneLog = none.logs.filter((l) => l.includes(REFUSED));
      assert.equal(noneLog.length, 1, none.logs.join("\n"));
      assert.match(noneLog[0], /Authentication required/);
      // CONFIG GET shows it as Redis does; CONFIG SET applies at the next dial.
      assert.deepEqual(await b.call("CONFIG", "GET", "masterauth"), ["masterauth", "wrong"]);
      assertOk(await b.call("CONFIG", "SET", "masterauth", PASSWORD));
      assert.deepEqual(await b.call("CONFIG", "GET", "masterauth"), ["masterauth", PASSWORD]);
      assertOk(await n.call("CONFIG", "SET", "masterauth", PASSWORD));
      await converges(() => dump(b), expected, "the replica follows once its masterauth is right");
      await converges(() => dump(n), expected, "a replica given masterauth live follows");
      const info = String(await mc.call("INFO", "replication"));
      assert.match(info, /connected_slaves:3\r\n/, info);
    } finally {
      for (const c of [mc, g, b, n]) c.close();
    }
  });
});

Deno.test("replication auth: masteruser logs in as an ACL user with +replsync; one without it is refused", async () => {
  await withServers(async (servers, dir) => {
    const { master, replica } = replicatedConfigs(dir);
    const m = await ServerProcess.start({ ...master, security: { requirepass: PASSWORD } });
    servers.push(m);
    const mc = await login(m.port, PASSWORD);
    try {
      assertOk(await mc.call("ACL", "SETUSER", "repl", "on", ">repl pw", "+replsync"));
      assertOk(await mc.call("ACL", "SETUSER", "reader", "on", ">read", "~*", "+@read"));
      const withUser = (name: string, user: string, password: string) => {
        const config = replica(name, m.port);
        return {
          ...config,
          replication: { ...config.replication, masteruser: user, masterauth: password },
        };
      };
      const repl = await ServerProcess.start(withUser("repl", "repl", "repl pw"));
      servers.push(repl);
      const reader = await ServerProcess.start(withUser("reader", "reader", "read"));
      servers.push(reader);
      await writeKeys(mc, 50);
      const expected = await dump(mc);
      const r = await RespClient.connect(repl.port);
      const d = await RespClient.connect(reader.port);
      try {
        await converges(() => dump(r), expected, "the replica logged in as repl follows");
        assert.deepEqual(await r.call("CONFIG", "GET", "masteruser"), ["masteruser", "repl"]);
        await delay(1000);
        assert.equal(await d.call("DBSIZE"), 0);
        const refusals = reader.logs.filter((l) => l.includes(REFUSED));
        assert.equal(refusals.length, 1, reader.logs.join("\n"));
        assert.match(refusals[0], /no permissions to run the 'replsync' command/);
        // Given the permission, the same user's next connection follows.
        assertOk(await mc.call("ACL", "SETUSER", "reader", "+replsync"));
        await converges(() => dump(d), expected, "the reader follows once it may replicate");
      } finally {
        r.close();
        d.close();
      }
    } finally {
      mc.close();
    }
  });
});

/** Everything `client` receives until the server closes it (or 1 s of silence). */
async function drain(client: TcpClient): Promise<string> {
  const lines: string[] = [];
  for (;;) {
    const line = await client.readLine(1000).catch(() => null);
    if (line === null) return lines.join("\n");
    lines.push(line);
  }
}

Deno.test("replication auth: a client that is not an authenticated replica gets nothing of the dataset", async () => {
  await withServers(async (servers, dir) => {
    const { master } = replicatedConfigs(dir);
    const m = await ServerProcess.start({ ...master, security: { requirepass: PASSWORD } });
    servers.push(m);
    const replicationPort = Number(master.replication.master_address.split(":")[1]);
    const mc = await login(m.port, PASSWORD);
    try {
      await writeKeys(mc, 20);
      // A snapshot too: a full resynchronisation would send it first.
      assertOk(await mc.call("SAVE"));
      assertOk(
        await mc.call("ACL", "SETUSER", "reader", "on", ">read", "~*", "+@all", "-replsync"),
      );
    } finally {
      mc.close();
    }
    const attempts: { name: string; port: number; lines: string[]; refusal: RegExp }[] = [];
    for (const port of [m.port, replicationPort]) {
      for (const request of ["REPLSYNC - 1", "REPLSYNC - 1 127.0.0.1 1"]) {
        attempts.push({
          name: `${request} on ${port}`,
          port,
          lines: [request],
          refusal: /Authentication required/,
        });
      }
      // Redis's names for it are no way in either (unknown here, or NOAUTH).
      for (const request of ["SYNC", "PSYNC ? -1", "REPLCONF listening-port 1"]) {
        attempts.push({
          name: `${request} on ${port}`,
          port,
          lines: [request],
          refusal: /ERROR: /,
        });
      }
      attempts.push({
        name: `wrong AUTH then REPLSYNC on ${port}`,
        port,
        lines: ["AUTH nope", "REPLSYNC - 1"],
        refusal: /invalid username-password pair/,
      });
      attempts.push({
        name: `a user without +replsync on ${port}`,
        port,
        lines: ["AUTH reader read", "REPLSYNC - 1"],
        refusal: /no permissions to run the 'replsync' command/,
      });
    }
    for (const attempt of attempts) {
      const client = await TcpClient.connect(attempt.port);
      try {
        // Pipelined, as a client hoping the data starts before the refusal.
        await client.send(attempt.lines.map((l) => `${l}\n`).join(""));
        const got = await drain(client);
        assert.match(got, attempt.refusal, `${attempt.name}: ${got}`);
        assert.ok(!got.includes(SECRET_VALUE), `${attempt.name} got the data: ${got}`);
        assert.ok(!got.includes("key:"), `${attempt.name} got keys: ${got}`);
        assert.ok(!/CONTINUE|FULLRESYNC|TRUNCATE/.test(got), `${attempt.name}: ${got}`);
      } finally {
        client.close();
      }
    }
    // The same over RESP (the master's other protocol).
    const resp = await RespClient.connect(m.port);
    try {
      const reply = await resp.call("REPLSYNC", "-", "1");
      assert.ok(reply instanceof RespError && reply.text.startsWith("NOAUTH"), String(reply));
    } finally {
      resp.close();
    }
  });
});

Deno.test("replication auth: TLS and masterauth together", async () => {
  await withServers(async (servers, dir) => {
    const certs = await makeServerCerts(dir);
    const { master, replica } = replicatedConfigs(dir);
    const tlsPort = freePort();
    const m = await ServerProcess.start({
      ...master,
      security: { requirepass: PASSWORD },
      tls: { port: tlsPort, cert_file: certs.cert, key_file: certs.key, ca_cert_file: certs.ca },
    });
    servers.push(m);
    const config = replica("tls", tlsPort);
    const withAuth = (password: string) => ({
      ...config,
      replication: { ...config.replication, masterauth: password },
      tls: { replication: true, ca_cert_file: certs.ca },
    });
    const r = await ServerProcess.start(withAuth(PASSWORD));
    servers.push(r);
    const wrong = await ServerProcess.start({
      ...withAuth("wrong"),
      wal: { enabled: true, data_directory: `${dir}/wrong` },
    });
    servers.push(wrong);
    const mc = await login(m.port, PASSWORD);
    const rc = await RespClient.connect(r.port);
    const wc = await RespClient.connect(wrong.port);
    try {
      await writeKeys(mc, 50);
      await converges(() => dump(rc), await dump(mc), "the TLS replica with masterauth follows");
      await delay(500);
      assert.equal(await wc.call("DBSIZE"), 0);
      const refusals = wrong.logs.filter((l) => l.includes(REFUSED));
      assert.equal(refusals.length, 1, wrong.logs.join("\n"));
      assert.match(refusals[0], /invalid username-password pair/);
    } finally {
      for (const c of [mc, rc, wc]) c.close();
    }
  });
});
