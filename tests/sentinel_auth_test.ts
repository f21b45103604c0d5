/**
 * redis-sentinel over a password-protected kvdb group (issue point 4): a
 * master and two replicas, each with `security.requirepass` and
 * `replication.masterauth`, watched by three sentinels configured with
 * `sentinel auth-pass`. The master is killed: Sentinel promotes a replica
 * (logged in with auth-pass), the other replica follows it, and the old
 * master, restarted, is converted and rejoins as a replica with all the
 * data: every connection between the nodes logs in with masterauth.
 *
 * Twice: with `requirepass` (Sentinel's `auth-pass`, replicas' masterauth
 * as the default user), and with ACL users from an ACL file — Sentinel as
 * `auth-user` with the permissions Redis's Sentinel documentation lists,
 * replicas as `masteruser` allowed only REPLSYNC and PING, the default
 * user with a password of its own.
 */

import assert from "node:assert/strict";
import { delay, freePort, RespClient, RespStatus, ServerProcess, walConfig } from "./_helpers.ts";
import { SentinelSet } from "./_sentinel.ts";

/**
 * The default user's password, what the test logs in with. No blanks: it
 * sits unquoted in sentinel.conf's `sentinel auth-pass`.
 */
const PASSWORD = "sentinel-group-pw-7";
const SENTINEL_USER = "sentinel-user";
const SENTINEL_PASSWORD = "sentinel-user-pw-3";
const REPLICA_USER = "replica-user";
const REPLICA_PASSWORD = "replica-user-pw-5";
/**
 * The ACL file of every node in the ACL-users run. Sentinel's user gets
 * what Redis's Sentinel documentation lists, but `+script|kill` (kvdb
 * has no scripting yet: the rule would name an unknown command).
 */
const ACL_FILE = [
  `user default on >${PASSWORD} ~* &* +@all`,
  `user ${SENTINEL_USER} on >${SENTINEL_PASSWORD} allchannels +multi +slaveof +ping +exec ` +
  `+subscribe +config|rewrite +role +publish +info +client|setname +client|kill`,
  `user ${REPLICA_USER} on >${REPLICA_PASSWORD} +replsync +ping`,
  "",
].join("\n");

/** How the group authenticates. */
type Auth = "requirepass" | "acl-users";
const PROMOTION_LIMIT_MS = 15_000;
/** Sentinel converts a returning master after its INFO period (and 8 s of caution). */
const REJOIN_TIMEOUT_MS = 40_000;

async function login(port: number): Promise<RespClient> {
  const client = await RespClient.connect(port);
  const reply = await client.call("AUTH", PASSWORD);
  assert.ok(reply instanceof RespStatus && reply.text === "OK", JSON.stringify(reply));
  return client;
}

/** One authenticated command on a fresh connection. */
async function call(port: number, ...args: string[]): Promise<unknown> {
  const client = await login(port);
  try {
    return await client.call(...args);
  } finally {
    client.close();
  }
}

async function replicationInfo(port: number): Promise<Record<string, string>> {
  const text = String(await call(port, "INFO", "replication"));
  return Object.fromEntries(
    text.split("\r\n").filter((l) => l.includes(":")).map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i), l.slice(i + 1)];
    }),
  );
}

async function dump(port: number): Promise<string> {
  const client = await login(port);
  try {
    const keys = (await client.call("KEYS", "*")) as string[];
    const lines: string[] = [];
    for (const key of keys.sort()) lines.push(`${key}=${await client.call("GET", key)}`);
    return lines.join("\n");
  } finally {
    client.close();
  }
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms: ${what}`);
    await delay(100);
  }
}

/** Whether `port` replicates from `masterPort` with its link up. */
async function following(port: number, masterPort: number): Promise<boolean> {
  const r = await replicationInfo(port);
  return r.role === "slave" && r.master_port === String(masterPort) &&
    r.master_link_status === "up";
}

/** A node of the group: every one has the password(s) and the masterauth. */
async function startNode(
  auth: Auth,
  dir: string,
  port: number,
  masterPort?: number,
): Promise<ServerProcess> {
  const replication: Record<string, unknown> = {
    sync_interval: "100ms",
    announce_address: `127.0.0.1:${port}`,
    ...(auth === "requirepass"
      ? { masterauth: PASSWORD }
      : { masteruser: REPLICA_USER, masterauth: REPLICA_PASSWORD }),
  };
  let security: Record<string, unknown> = { requirepass: PASSWORD };
  if (auth === "acl-users") {
    const aclFile = `${dir}/users.acl`;
    await Deno.writeTextFile(aclFile, ACL_FILE);
    security = { acl_file: aclFile };
  }
  if (masterPort !== undefined) {
    Object.assign(replication, {
      enabled: true,
      replica_type: "slave",
      master_address: `127.0.0.1:${masterPort}`,
    });
  }
  return ServerProcess.start({ ...walConfig(dir), security, replication }, { dir, port });
}

Deno.test("Sentinel with auth-pass fails a password-protected kvdb group over; the old master rejoins", async () => {
  await failOver("requirepass");
});

Deno.test("Sentinel with auth-user fails a kvdb group of ACL users over; the old master rejoins", async () => {
  await failOver("acl-users");
});

async function failOver(auth: Auth): Promise<void> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(freePort());
  const [masterPort, ...replicaPorts] = [...ports];
  const dirs: string[] = [];
  for (let i = 0; i < 3; i++) dirs.push(await Deno.makeTempDir({ prefix: "kvdb-sentinel-auth-" }));
  const nodes = new Map<number, ServerProcess>();
  let sentinels: SentinelSet | undefined;
  try {
    nodes.set(masterPort, await startNode(auth, dirs[0], masterPort));
    for (const [i, port] of replicaPorts.entries()) {
      nodes.set(port, await startNode(auth, dirs[i + 1], port, masterPort));
    }
    for (const port of replicaPorts) {
      await until(`${port} follows ${masterPort}`, 20_000, () => following(port, masterPort));
    }
    sentinels = await SentinelSet.start(
      masterPort,
      auth === "requirepass"
        ? { authPass: PASSWORD }
        : { authUser: SENTINEL_USER, authPass: SENTINEL_PASSWORD },
    );
    await sentinels.waitDiscovery(masterPort, replicaPorts);
    const m = await login(masterPort);
    try {
      for (let i = 0; i < 50; i++) await m.call("SET", `before:${i}`, `v${i}`);
    } finally {
      m.close();
    }
    const before = await dump(masterPort);
    for (const port of replicaPorts) {
      await until(`${port} holds the writes`, 20_000, async () => await dump(port) === before);
    }

    const old = nodes.get(masterPort)!;
    await old.stop("SIGKILL");
    const promoted = await sentinels.waitAgreedMaster(async (port) => {
      if (port === masterPort) return false;
      return (await replicationInfo(port).catch(() => undefined))?.role === "master";
    }, PROMOTION_LIMIT_MS);
    const other = replicaPorts.find((p) => p !== promoted)!;
    await until(
      `${other} follows the promoted ${promoted}`,
      20_000,
      () => following(other, promoted),
    );
    const p = await login(promoted);
    try {
      for (let i = 0; i < 50; i++) await p.call("SET", `after:${i}`, `w${i}`);
    } finally {
      p.close();
    }

    nodes.set(
      masterPort,
      await ServerProcess.startWithConfigFile(old.configPath, old.dir, masterPort),
    );
    await until(
      `the old master ${masterPort} rejoins as a replica of ${promoted}`,
      REJOIN_TIMEOUT_MS,
      () => following(masterPort, promoted),
    );
    const after = await dump(promoted);
    assert.match(after, /after:49=w49/);
    for (const port of [masterPort, other]) {
      await until(`${port} holds the promoted master's data`, 20_000, async () => {
        return await dump(port) === after;
      });
    }
    if (auth === "acl-users") {
      // Sentinel and the replicas did everything with no more than their users allow.
      for (const port of [masterPort, ...replicaPorts]) {
        assert.deepEqual(await call(port, "ACL", "LOG"), [], `ACL LOG of ${port}`);
      }
    }
  } catch (e) {
    const logs = [...nodes].map(([port, s]) =>
      `--- kvdb ${port}:\n${s.logs.slice(-30).join("\n")}`
    );
    throw new Error(
      `${e instanceof Error ? e.message : e}\n${logs.join("\n")}\n${sentinels?.logs() ?? ""}`,
      { cause: e },
    );
  } finally {
    await sentinels?.stop();
    for (const server of nodes.values()) await server.stop("SIGKILL");
    for (const dir of dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
