/**
 * TLS (issue point 3), with a CA and certificates made by openssl in a
 * temp dir: redis-cli --tls, redis-py (Debian's python3-redis) with
 * ssl=True and ssl_ca_certs, ioredis with `tls` options; a client trusting
 * another CA fails; the plain and TLS ports serve the same data;
 * tls-auth-clients yes demands a client certificate signed by the CA;
 * CONFIG SET tls-port starts, moves and stops the listener and refuses bad
 * values without changing anything; bad certificate files stop the start
 * naming the file; replication over TLS converges, and a replica refuses a
 * master whose certificate its CA did not sign.
 */

import assert from "node:assert/strict";
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
}

async function makeCerts(): Promise<Certs> {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-tls-" });
  for (const ca of ["ca", "other-ca"]) await makeCa(dir, ca);
  await makeSigned(dir, "ca", "server");
  await makeSigned(dir, "ca", "client");
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
    const good = await ServerProcess.start(replicaConfig("good", certs.ca));
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

Deno.test({
  name: "TLS: remove the generated certificates",
  fn: async () => {
    await Deno.remove((await certsPromise).dir, { recursive: true });
  },
});
