/**
 * TLS (issue point 3), with a CA and certificates made by openssl in a
 * temp dir: redis-cli --tls, redis-py (Debian's python3-redis) with
 * ssl=True and ssl_ca_certs, ioredis with `tls` options; a client trusting
 * another CA fails; the plain and TLS ports serve the same data;
 * tls-auth-clients yes demands a client certificate signed by the CA;
 * CONFIG SET tls-port starts, moves and stops the listener and refuses bad
 * values without changing anything; bad certificate files stop the start
 * naming the file; replication over TLS converges, and a replica refuses a
 * master whose certificate its CA did not sign; network.address's port 0
 * serves TLS only (and a config that would listen nowhere is refused);
 * tls-auth-clients optional; one CONFIG SET installs a new certificate and
 * key together; CONFIG GET/SET of these answer as redis-server's.
 */

import assert from "node:assert/strict";
import * as nodeTls from "node:tls";
import { Redis } from "ioredis";
import {
  converges,
  delay,
  freePort,
  KVDB_FLAGS,
  replicatedConfigs,
  RespClient,
  RespError,
  RespStatus,
  ServerProcess,
  withServer,
  withServerLog,
} from "./_helpers.ts";
import { ensureDebianPackage, runs } from "./_debian.ts";
import { within } from "./_real_clients.ts";
import { makeCa, makeSigned } from "./_tls_certs.ts";
import { RedisServer } from "./_diff_servers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const PYTHON = "/usr/bin/python3";
const decoder = new TextDecoder();

/** The files openssl made: a CA, a server and a client it signed, and another CA's server. */
interface Certs {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCa: string;
  otherServerCert: string;
  otherServerKey: string;
  /** A second server certificate and key the same CA signed (CN server2). */
  server2Cert: string;
  server2Key: string;
}

async function makeCerts(): Promise<Certs> {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-tls-" });
  for (const ca of ["ca", "other-ca"]) await makeCa(dir, ca);
  await makeSigned(dir, "ca", "server");
  await makeSigned(dir, "ca", "client");
  await makeSigned(dir, "ca", "server2");
  await makeSigned(dir, "other-ca", "other-server");
  return {
    dir,
    ca: `${dir}/ca.crt`,
    serverCert: `${dir}/server.crt`,
    serverKey: `${dir}/server.key`,
    clientCert: `${dir}/client.crt`,
    clientKey: `${dir}/client.key`,
    otherCa: `${dir}/other-ca.crt`,
    otherServerCert: `${dir}/other-server.crt`,
    otherServerKey: `${dir}/other-server.key`,
    server2Cert: `${dir}/server2.crt`,
    server2Key: `${dir}/server2.key`,
  };
}

function tlsSection(certs: Certs, extra: Record<string, unknown> = {}) {
  return {
    port: freePort(),
    cert_file: certs.serverCert,
    key_file: certs.serverKey,
    ca_cert_file: certs.ca,
    ...extra,
  };
}

async function ensureRedisCli(): Promise<void> {
  await ensureDebianPackage("redis-tools", () => runs("redis-cli"));
}

/** Runs redis-cli; returns its stdout+stderr and whether it exited 0. */
async function redisCli(args: string[]): Promise<{ ok: boolean; out: string }> {
  const child = new Deno.Command("redis-cli", { args, stdout: "piped", stderr: "piped" }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const out = await child.output().finally(() => clearTimeout(timer));
  return {
    ok: out.success,
    out: (decoder.decode(out.stdout) + decoder.decode(out.stderr)).trim(),
  };
}

/** redis-cli over TLS to `port`, trusting `ca`, with `more` options, running `command`. */
function tlsCli(port: number, ca: string, command: string[], more: string[] = []) {
  return redisCli(["--tls", "--cacert", ca, ...more, "-p", String(port), ...command]);
}

const certsPromise = makeCerts();

Deno.test("TLS: redis-cli --tls reads the plain port's data; a client trusting another CA fails", async () => {
  await ensureRedisCli();
  const certs = await certsPromise;
  const tls = tlsSection(certs);
  await withServer({ tls }, async (server) => {
    const plain = await RespClient.connect(server.port);
    try {
      assertOk(await plain.call("SET", "k", "from-plain"));
      assert.deepEqual(await tlsCli(tls.port, certs.ca, ["GET", "k"]), {
        ok: true,
        out: "from-plain",
      });
      assert.deepEqual(await tlsCli(tls.port, certs.ca, ["SET", "k2", "from-tls"]), {
        ok: true,
        out: "OK",
      });
      assert.equal(await plain.call("GET", "k2"), "from-tls");
      const wrong = await tlsCli(tls.port, certs.otherCa, ["GET", "k"]);
      assert.match(wrong.out, /certificate verify failed/);
      // Plain RESP on the TLS port is not served either.
      const confused = await redisCli(["-p", String(tls.port), "GET", "k"]);
      assert.ok(!confused.out.includes("from-plain"), confused.out);
      // The server lives on for both ports.
      assert.equal(await plain.call("GET", "k"), "from-plain");
      assert.deepEqual(await tlsCli(tls.port, certs.ca, ["DBSIZE"]), { ok: true, out: "2" });
    } finally {
      plain.close();
    }
  });
});

Deno.test("TLS: redis-py ssl=True with ssl_ca_certs connects unchanged", async () => {
  await ensureDebianPackage("python3-redis", async () => {
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", "import redis"],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => undefined);
    return out?.success ?? false;
  });
  const certs = await certsPromise;
  const tls = tlsSection(certs, { auth_clients: true });
  await withServer({ tls }, async (server) => {
    const script = `
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), ssl=True, ssl_ca_certs=sys.argv[2],
                ssl_certfile=sys.argv[3], ssl_keyfile=sys.argv[4], socket_timeout=10)
r.set("py", "over tls")
p = r.pipeline()
p.incr("n"); p.incr("n"); p.get("py")
print(p.execute())
try:
    redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), ssl=True, ssl_ca_certs=sys.argv[5],
                socket_timeout=10).ping()
    print("other CA: connected")
except redis.exceptions.ConnectionError as e:
    print("other CA: refused")
`;
    const out = await new Deno.Command(PYTHON, {
      args: [
        "-c",
        script,
        String(tls.port),
        certs.ca,
        certs.clientCert,
        certs.clientKey,
        certs.otherCa,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = decoder.decode(out.stdout);
    assert.ok(out.success, decoder.decode(out.stderr));
    assert.equal(text, "[1, 2, b'over tls']\nother CA: refused\n");
    const plain = await RespClient.connect(server.port);
    try {
      assert.equal(await plain.call("GET", "py"), "over tls");
    } finally {
      plain.close();
    }
  });
});

Deno.test("TLS: ioredis with tls options connects unchanged", async () => {
  const certs = await certsPromise;
  const tls = tlsSection(certs);
  await withServer({ tls }, async (server) => {
    const client = new Redis({
      host: "127.0.0.1",
      port: tls.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      tls: { ca: Deno.readTextFileSync(certs.ca) },
    });
    client.on("error", () => {});
    try {
      await within(client.connect(), 10_000, "ioredis TLS connect");
      assert.equal(await client.set("io", "tls"), "OK");
      assert.deepEqual(
        await client.pipeline().incr("c").incr("c").get("io").exec(),
        [[null, 1], [null, 2], [null, "tls"]],
      );
    } finally {
      client.disconnect();
    }
    const plain = await RespClient.connect(server.port);
    try {
      assert.equal(await plain.call("GET", "io"), "tls");
    } finally {
      plain.close();
    }
  });
});

Deno.test("TLS: tls-auth-clients yes serves only clients with a certificate the CA signed", async () => {
  await ensureRedisCli();
  const certs = await certsPromise;
  const tls = tlsSection(certs, { auth_clients: true });
  await withServer({ tls }, async () => {
    const withCert = await tlsCli(tls.port, certs.ca, ["PING"], [
      "--cert",
      certs.clientCert,
      "--key",
      certs.clientKey,
    ]);
    assert.deepEqual(withCert, { ok: true, out: "PONG" });
    const without = await tlsCli(tls.port, certs.ca, ["PING"]);
    assert.ok(!without.out.includes("PONG"), without.out);
    const otherCa = await tlsCli(tls.port, certs.ca, ["PING"], [
      "--cert",
      certs.otherServerCert,
      "--key",
      certs.otherServerKey,
    ]);
    assert.ok(!otherCa.out.includes("PONG"), otherCa.out);
    // Still serving the good ones.
    assert.deepEqual(
      await tlsCli(tls.port, certs.ca, ["PING"], [
        "--cert",
        certs.clientCert,
        "--key",
        certs.clientKey,
      ]),
      withCert,
    );
  });
});

Deno.test("TLS: CONFIG SET tls-port starts, moves and stops the listener; bad values change nothing", async () => {
  await ensureRedisCli();
  const certs = await certsPromise;
  await withServer({}, async (server) => {
    const c = await RespClient.connect(server.port);
    try {
      await c.call("SET", "k", "v");
      const first = freePort();
      const refused = await c.call("CONFIG", "SET", "tls-port", String(first));
      assert.ok(refused instanceof RespError, String(refused));
      assert.match(refused.text, /tls-cert-file\) is not set/);
      const missing = await c.call("CONFIG", "SET", "tls-cert-file", `${certs.dir}/nope.crt`);
      assert.ok(missing instanceof RespError);
      assert.match(missing.text, /nope\.crt.*cannot read/);
      const notCert = await c.call("CONFIG", "SET", "tls-cert-file", certs.serverKey);
      assert.ok(notCert instanceof RespError);
      assert.match(notCert.text, /no PEM certificate/);
      assert.deepEqual(await c.call("CONFIG", "GET", "tls-cert-file"), ["tls-cert-file", ""]);
      assertOk(
        await c.call(
          "CONFIG",
          "SET",
          "tls-cert-file",
          certs.serverCert,
          "tls-key-file",
          certs.serverKey,
          "tls-ca-cert-file",
          certs.ca,
        ),
      );
      assertOk(await c.call("CONFIG", "SET", "tls-port", String(first)));
      await eventuallyCli(first, certs.ca, "v");
      // A busy port (the plain one) is refused; the listener stays.
      const busy = await c.call("CONFIG", "SET", "tls-port", String(server.port));
      assert.ok(busy instanceof RespError);
      assert.match(busy.text, /Unable to listen on this port/);
      assert.deepEqual(await c.call("CONFIG", "GET", "tls-port"), ["tls-port", String(first)]);
      // A key that is not the certificate's is refused while TLS runs.
      const mismatch = await c.call("CONFIG", "SET", "tls-key-file", certs.clientKey);
      assert.ok(mismatch instanceof RespError);
      assert.match(mismatch.text, /is not the key of tls\.cert_file/);
      await eventuallyCli(first, certs.ca, "v");
      // Move.
      const second = freePort();
      assertOk(await c.call("CONFIG", "SET", "tls-port", String(second)));
      await eventuallyCli(second, certs.ca, "v");
      assert.ok(!(await tlsCli(first, certs.ca, ["GET", "k"])).ok, "the old TLS port is closed");
      // Client authentication at run time.
      assertOk(await c.call("CONFIG", "SET", "tls-auth-clients", "yes"));
      await delay(300);
      const anonymous = await tlsCli(second, certs.ca, ["GET", "k"]);
      assert.notEqual(anonymous.out, "v", "a client without a certificate is not served");
      assert.deepEqual(
        await tlsCli(second, certs.ca, ["GET", "k"], [
          "--cert",
          certs.clientCert,
          "--key",
          certs.clientKey,
        ]),
        { ok: true, out: "v" },
      );
      // Stop.
      assertOk(await c.call("CONFIG", "SET", "tls-port", "0"));
      await delay(300);
      assert.match((await tlsCli(second, certs.ca, ["GET", "k"])).out, /refused/);
      assert.equal(await c.call("GET", "k"), "v");
    } finally {
      c.close();
    }
  });
});

function assertOk(reply: unknown): void {
  assert.ok(reply instanceof RespStatus && reply.text === "OK", JSON.stringify(reply));
}

async function eventuallyCli(port: number, ca: string, expected: string): Promise<void> {
  let last = { ok: false, out: "" };
  for (let i = 0; i < 50; i++) {
    last = await tlsCli(port, ca, ["GET", "k"]);
    if (last.out === expected) return;
    await delay(100);
  }
  assert.fail(`TLS port ${port} did not serve: ${last.out}`);
}

Deno.test("TLS: bad certificate files stop the start, naming the file", async () => {
  const certs = await certsPromise;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ cert_file: `${certs.dir}/missing.crt` }, /tls\.cert_file ".*missing\.crt": cannot read/],
    [{ cert_file: certs.serverKey }, /tls\.cert_file ".*server\.key": no PEM certificate/],
    [{ key_file: certs.serverCert }, /tls\.key_file ".*server\.crt": not a valid private key/],
    [{ key_file: certs.clientKey }, /tls\.key_file ".*client\.key" is not the key of/],
    [{ ca_cert_file: `${certs.dir}/nope` }, /tls\.ca_cert_file ".*nope": cannot read/],
  ];
  for (const [override, expected] of cases) {
    const dir = await Deno.makeTempDir({ prefix: "kvdb-tls-bad-" });
    try {
      const config = `network:\n  address: 127.0.0.1:${freePort()}\ntls:\n${
        Object.entries({ ...tlsSection(certs), ...override })
          .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join("\n")
      }\n`;
      await Deno.writeTextFile(`${dir}/config.yaml`, config);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...KVDB_FLAGS, MAIN, "server", "--config", `${dir}/config.yaml`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = decoder.decode(out.stderr);
      assert.equal(out.code, 2, stderr);
      assert.match(stderr, expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

/** The keys and values a server holds, sorted, one per line. */
async function dump(client: RespClient): Promise<string> {
  const keys = (await client.call("KEYS", "*")) as string[];
  const lines: string[] = [];
  for (const key of keys.sort()) lines.push(`${key}=${await client.call("GET", key)}`);
  return lines.join("\n");
}

Deno.test("TLS: replication over TLS converges; a replica refuses a master its CA did not sign", async () => {
  const certs = await certsPromise;
  const dir = await Deno.makeTempDir({ prefix: "kvdb-tls-repl-" });
  const { master, replica } = replicatedConfigs(dir);
  const masterTls = tlsSection(certs, { auth_clients: true });
  const master1 = await ServerProcess.start({ ...master, tls: masterTls });
  const servers: ServerProcess[] = [master1];
  try {
    const replicaConfig = (name: string, caFile: string) => ({
      ...replica(name, masterTls.port),
      tls: {
        replication: true,
        ca_cert_file: caFile,
        cert_file: certs.clientCert,
        key_file: certs.clientKey,
      },
    });
    // The good replica serves TLS clients too: as Redis, it then announces its TLS port.
    const goodTlsPort = freePort();
    const good = await ServerProcess.start({
      ...replicaConfig("good", certs.ca),
      tls: {
        ...replicaConfig("good", certs.ca).tls,
        port: goodTlsPort,
        cert_file: certs.serverCert,
        key_file: certs.serverKey,
      },
    });
    servers.push(good);
    const bad = await ServerProcess.start(replicaConfig("bad", certs.otherCa));
    servers.push(bad);
    const m = await RespClient.connect(master1.port);
    const g = await RespClient.connect(good.port);
    const b = await RespClient.connect(bad.port);
    try {
      for (let i = 0; i < 200; i++) await m.call("SET", `key:${i}`, `value ${i}`);
      const expected = await dump(m);
      await converges(() => dump(g), expected, "the TLS replica holds what the master holds");
      const info = String(await m.call("INFO", "replication"));
      assert.match(info, /connected_slaves:1\r\n/, info);
      assert.match(info, new RegExp(`slave0:ip=127\\.0\\.0\\.1,port=${goodTlsPort},`), info);
      // The other CA's replica keeps refusing the master, logs why, retries.
      await delay(1000);
      assert.equal(await b.call("DBSIZE"), 0);
      const refusals = bad.logs.filter((l) => l.includes("TLS handshake with the master failed"));
      assert.ok(refusals.length >= 1, bad.logs.join("\n"));
      assert.match(refusals[0], /master unreachable; serving reads, retrying/);
      // ... until it is told the right CA (CONFIG SET at run time).
      assertOk(await b.call("CONFIG", "SET", "tls-ca-cert-file", certs.ca));
      await converges(() => dump(b), expected, "the replica follows once it trusts the CA");
    } finally {
      m.close();
      g.close();
      b.close();
    }
  } catch (e) {
    throw withServerLog(e, servers[servers.length - 1]);
  } finally {
    for (const s of servers) await s.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

/** The TCP ports process `pid` listens on, from `ss` (sorted). */
async function listeningPorts(pid: number): Promise<number[]> {
  const out = await new Deno.Command("ss", { args: ["-Hltnp"], stdout: "piped" }).output();
  const ports = decoder.decode(out.stdout).split("\n")
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => Number(/:(\d+)\s/.exec(line.split(/\s+/).slice(3).join(" "))?.[1]));
  return [...new Set(ports)].sort((a, b) => a - b);
}

async function ensurePythonRedis(): Promise<void> {
  await ensureDebianPackage("python3-redis", async () => {
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", "import redis"],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => undefined);
    return out?.success ?? false;
  });
}

/** Starts a TLS-only redis-server (`--port 0`) with `certs`; resolves once it answers over TLS. */
async function startTlsOnlyRedis(certs: Certs, tlsPort: number) {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-redis-tls-" });
  const child = new Deno.Command("redis-server", {
    args: [
      ...["--port", "0", "--tls-port", String(tlsPort), "--bind", "127.0.0.1"],
      ...["--tls-cert-file", certs.serverCert, "--tls-key-file", certs.serverKey],
      ...["--tls-ca-cert-file", certs.ca, "--tls-auth-clients", "no"],
      ...["--save", "", "--appendonly", "no", "--dir", dir, "--logfile", ""],
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone.
    }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  for (let i = 0; i < 100; i++) {
    if ((await tlsCli(tlsPort, certs.ca, ["PING"])).out === "PONG") return { child, stop };
    await delay(50);
  }
  await stop();
  throw new Error("the TLS-only redis-server did not answer");
}

Deno.test("TLS: network.address port 0 serves TLS only, as redis-server --port 0; redis-cli and redis-py connect", async () => {
  await ensureRedisCli();
  await ensurePythonRedis();
  const certs = await certsPromise;
  const tls = tlsSection(certs);
  const redisTlsPort = freePort();
  const redis = await startTlsOnlyRedis(certs, redisTlsPort);
  try {
    await withServer({ network: { address: "127.0.0.1:0" }, tls }, async (server) => {
      // Nothing but the TLS port listens: no plain listener on any port.
      assert.deepEqual(await listeningPorts(server.child.pid), [tls.port]);
      assert.deepEqual(await listeningPorts(redis.child.pid), [redisTlsPort]);
      await assert.rejects(
        Deno.connect({ hostname: "127.0.0.1", port: server.port }),
        Deno.errors.ConnectionRefused,
        "the port ServerProcess would have given it is not listened on",
      );
      assert.deepEqual(await tlsCli(tls.port, certs.ca, ["SET", "k", "v"]), {
        ok: true,
        out: "OK",
      });
      assert.deepEqual(await tlsCli(tls.port, certs.ca, ["GET", "k"]), { ok: true, out: "v" });
      // CONFIG GET port and INFO's tcp_port say 0, as Redis's.
      for (const command of [["CONFIG", "GET", "port"], ["CONFIG", "GET", "tls-port"]]) {
        const kvdb = await tlsCli(tls.port, certs.ca, command);
        const reference = await tlsCli(redisTlsPort, certs.ca, command);
        assert.equal(
          kvdb.out.replace(String(tls.port), "<tls>"),
          reference.out.replace(String(redisTlsPort), "<tls>"),
        );
      }
      assert.equal((await tlsCli(tls.port, certs.ca, ["CONFIG", "GET", "port"])).out, "port\n0");
      const info = (await tlsCli(tls.port, certs.ca, ["INFO", "server"])).out;
      assert.match(info, /\ntcp_port:0\r?\n/);
      // Plain RESP on the TLS port is not served.
      assert.ok(!(await redisCli(["-p", String(tls.port), "GET", "k"])).out.includes("v\n"));
      // Closing the only listener is refused (Redis would accept it and listen nowhere).
      const close = await tlsCli(tls.port, certs.ca, ["CONFIG", "SET", "tls-port", "0"]);
      assert.match(
        close.out,
        /ERR CONFIG SET failed \(possibly related to argument 'tls-port'\) - kvdb has no plain listener/,
      );
      assert.equal((await tlsCli(tls.port, certs.ca, ["GET", "k"])).out, "v");
      // redis-py over TLS.
      const script = `
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), ssl=True, ssl_ca_certs=sys.argv[2],
                socket_timeout=10)
r.set("py", "tls only")
print(r.get("k"), r.get("py"), r.config_get("port"))
`;
      const out = await new Deno.Command(PYTHON, {
        args: ["-c", script, String(tls.port), certs.ca],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, decoder.decode(out.stderr));
      assert.equal(decoder.decode(out.stdout), "b'v' b'tls only' {'port': '0'}\n");
    });
  } finally {
    await redis.stop();
  }
});

/** Runs `kvdb server` with `yaml`; its exit code and stderr (killed after `timeoutMs`: it started). */
async function runServer(
  yaml: string,
  timeoutMs: number,
): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-tls-start-" });
  try {
    await Deno.writeTextFile(`${dir}/config.yaml`, yaml);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...KVDB_FLAGS, MAIN, "server", "--config", `${dir}/config.yaml`],
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const out = await child.output().finally(() => clearTimeout(timer));
    return { code: out.code, stderr: decoder.decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("TLS: a config with port 0 and no TLS port (listening nowhere), or tls.auth_clients not true/false/optional, stops the start", async () => {
  const certs = await certsPromise;
  const nowhere = await runServer("network:\n  address: 127.0.0.1:0\n", 10_000);
  assert.equal(nowhere.code, 2, nowhere.stderr);
  assert.match(
    nowhere.stderr,
    /config error: .*network\.address = 127\.0\.0\.1:0: port 0 means no plain listener, and tls\.port is 0 .*would listen nowhere/,
  );
  const tls = (authClients: string) =>
    `network:\n  address: 127.0.0.1:${freePort()}\ntls:\n${
      Object.entries({ ...tlsSection(certs), auth_clients: authClients })
        .map(([k, v]) => `  ${k}: ${k === "auth_clients" ? v : JSON.stringify(v)}`).join("\n")
    }\n`;
  const maybe = await runServer(tls("maybe"), 10_000);
  assert.equal(maybe.code, 2, maybe.stderr);
  assert.match(maybe.stderr, /tls\.auth_clients = "?maybe"?: must be true, false or optional/);
});

Deno.test("TLS: tls-auth-clients optional serves clients without a certificate and refuses another CA's", async () => {
  await ensureRedisCli();
  const certs = await certsPromise;
  const tls = tlsSection(certs, { auth_clients: "optional" });
  const clientCert = ["--cert", certs.clientCert, "--key", certs.clientKey];
  const otherCert = ["--cert", certs.otherServerCert, "--key", certs.otherServerKey];
  await withServer({ tls }, async (server) => {
    assert.deepEqual(await tlsCli(tls.port, certs.ca, ["PING"], clientCert), {
      ok: true,
      out: "PONG",
    });
    assert.deepEqual(await tlsCli(tls.port, certs.ca, ["PING"]), { ok: true, out: "PONG" });
    const other = await tlsCli(tls.port, certs.ca, ["SET", "from-other", "x"], otherCert);
    assert.ok(!other.ok && !other.out.includes("OK"), other.out);
    const c = await RespClient.connect(server.port);
    try {
      assert.equal(await c.call("EXISTS", "from-other"), 0, "nothing the refused client sent ran");
      assert.deepEqual(await c.call("CONFIG", "GET", "tls-auth-clients"), [
        "tls-auth-clients",
        "optional",
      ]);
      // Switched at run time: yes refuses the client without a certificate, no serves it.
      assertOk(await c.call("CONFIG", "SET", "tls-auth-clients", "yes"));
      await eventually(async () =>
        !(await tlsCli(tls.port, certs.ca, ["PING"])).out.includes("PONG")
      );
      assertOk(await c.call("CONFIG", "SET", "tls-auth-clients", "OPTIONAL"));
      await eventually(async () => (await tlsCli(tls.port, certs.ca, ["PING"])).out === "PONG");
      assert.ok(!(await tlsCli(tls.port, certs.ca, ["PING"], otherCert)).out.includes("PONG"));
      assert.deepEqual(await tlsCli(tls.port, certs.ca, ["PING"], clientCert), {
        ok: true,
        out: "PONG",
      });
      // Without a CA, optional is refused as yes is.
      const noCa = await c.call("CONFIG", "SET", "tls-ca-cert-file", "");
      assert.ok(noCa instanceof RespError);
      assert.match(noCa.text, /tls-auth-clients needs tls-ca-cert-file/);
    } finally {
      c.close();
    }
  });
});

async function eventually(check: () => Promise<boolean>, what = "condition"): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await check()) return;
    await delay(100);
  }
  assert.fail(`${what} never held`);
}

/** The CN of the certificate a new TLS connection to `port` is served, trusting the PEM `ca`. */
function servedName(port: number, ca: string): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      const socket = nodeTls.connect({ host: "127.0.0.1", port, ca }, () => {
        const name = String(socket.getPeerCertificate().subject?.CN);
        socket.destroy();
        resolve(name);
      });
      socket.on("error", reject);
    }),
    10_000,
    "TLS connect",
  );
}

Deno.test("TLS: one CONFIG SET installs a new certificate and key together; a bad pair changes nothing", async () => {
  const certs = await certsPromise;
  const caPem = Deno.readTextFileSync(certs.ca);
  const tls = tlsSection(certs);
  await withServer({ tls }, async (server) => {
    const c = await RespClient.connect(server.port);
    const open = new Redis({
      host: "127.0.0.1",
      port: tls.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      tls: { ca: Deno.readTextFileSync(certs.ca) },
    });
    open.on("error", () => {});
    try {
      await within(open.connect(), 10_000, "ioredis TLS connect");
      assert.equal(await open.set("k", "before"), "OK");
      assert.equal(await servedName(tls.port, caPem), "server");
      // A certificate with a key that is not its own: refused, nothing changes.
      const bad = await c.call(
        "CONFIG",
        "SET",
        "tls-cert-file",
        certs.server2Cert,
        "tls-key-file",
        certs.serverKey,
      );
      assert.ok(bad instanceof RespError, String(bad));
      assert.match(
        bad.text,
        /^ERR CONFIG SET failed \(possibly related to argument 'tls-cert-file'\) - tls\.key_file ".*server\.key" is not the key of tls\.cert_file ".*server2\.crt"$/,
      );
      assert.deepEqual(await c.call("CONFIG", "GET", "tls-cert-file", "tls-key-file"), [
        "tls-cert-file",
        certs.serverCert,
        "tls-key-file",
        certs.serverKey,
      ]);
      await delay(200);
      assert.equal(await servedName(tls.port, caPem), "server");
      // The new pair, in one SET.
      assertOk(
        await c.call(
          "CONFIG",
          "SET",
          "tls-cert-file",
          certs.server2Cert,
          "tls-key-file",
          certs.server2Key,
        ),
      );
      assert.deepEqual(await c.call("CONFIG", "GET", "tls-cert-file", "tls-key-file"), [
        "tls-cert-file",
        certs.server2Cert,
        "tls-key-file",
        certs.server2Key,
      ]);
      await eventually(async () => await servedName(tls.port, caPem).catch(() => "") === "server2");
      // The connection opened before is still served.
      assert.equal(await open.get("k"), "before");
      assert.equal(await open.set("k", "after"), "OK");
      // And back, key first.
      assertOk(
        await c.call(
          "CONFIG",
          "SET",
          "tls-key-file",
          certs.serverKey,
          "tls-cert-file",
          certs.serverCert,
        ),
      );
      await eventually(async () => await servedName(tls.port, caPem).catch(() => "") === "server");
      assert.equal(await open.get("k"), "after");
      assert.ok(
        !server.logs.some((l) => l.includes("cannot start the TLS listener")),
        "no restart ran with half a pair",
      );
    } finally {
      open.disconnect();
      c.close();
    }
  });
});

/** A reply as text, for comparing kvdb's with Redis's (paths are the same files). */
function shownReply(reply: unknown): string {
  if (reply instanceof RespError) return `-${reply.text}`;
  if (reply instanceof RespStatus) return `+${reply.text}`;
  return JSON.stringify(reply);
}

Deno.test("TLS: CONFIG GET/SET of tls-auth-clients and a certificate with its key answer as redis-server's", async () => {
  const certs = await certsPromise;
  const redisTls = freePort();
  const redis = await RedisServer.start({
    args: [
      ...["--tls-port", String(redisTls), "--tls-cert-file", certs.serverCert],
      ...["--tls-key-file", certs.serverKey, "--tls-ca-cert-file", certs.ca],
      ...["--tls-auth-clients", "no"],
    ],
  });
  try {
    await withServer({ tls: tlsSection(certs) }, async (server) => {
      const k = await RespClient.connect(server.port);
      const r = await RespClient.connect(redis.port);
      try {
        const same: string[][] = [
          ["CONFIG", "GET", "tls-auth-clients"],
          ["CONFIG", "SET", "tls-auth-clients", "optional"],
          ["CONFIG", "GET", "tls-auth-clients"],
          ["CONFIG", "SET", "tls-auth-clients", "maybe"],
          ["CONFIG", "SET", "tls-auth-clients", "YES"],
          ["CONFIG", "GET", "tls-auth-clients"],
          ["CONFIG", "SET", "tls-auth-clients", "no"],
          ["CONFIG", "SET", "tls-cert-file", certs.server2Cert, "tls-key-file", certs.server2Key],
          ["CONFIG", "GET", "tls-cert-file"],
          ["CONFIG", "GET", "tls-key-file"],
          ["CONFIG", "SET", "tls-key-file", certs.serverKey, "tls-cert-file", certs.serverCert],
          ["CONFIG", "GET", "tls-cert-file"],
        ];
        for (const command of same) {
          assert.equal(
            shownReply(await k.call(...command)),
            shownReply(await r.call(...command)),
            command.join(" "),
          );
        }
        // A bad pair: both refuse it, blaming the same argument (Redis's
        // reason is "Unable to update TLS configuration. Check server logs.").
        const bad = [
          "CONFIG",
          "SET",
          "tls-cert-file",
          certs.server2Cert,
          "tls-key-file",
          certs.serverKey,
        ];
        const [kBad, rBad] = [shownReply(await k.call(...bad)), shownReply(await r.call(...bad))];
        const blamed = /^-ERR CONFIG SET failed \(possibly related to argument '([a-z-]+)'\) - /;
        assert.equal(blamed.exec(kBad)?.[1], "tls-cert-file", kBad);
        assert.equal(blamed.exec(rBad)?.[1], "tls-cert-file", rBad);
        for (
          const command of [["CONFIG", "GET", "tls-cert-file"], ["CONFIG", "GET", "tls-key-file"]]
        ) {
          assert.equal(shownReply(await k.call(...command)), shownReply(await r.call(...command)));
        }
      } finally {
        k.close();
        r.close();
      }
    });
  } finally {
    await redis.stop();
  }
});

Deno.test({
  name: "TLS: remove the generated certificates",
  fn: async () => {
    await Deno.remove((await certsPromise).dir, { recursive: true });
  },
});
