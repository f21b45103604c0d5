/**
 * redis-sentinel over a password-protected kvdb group (issue point 4): a
 * master and two replicas, each with `security.requirepass` and
 * `replication.masterauth`, watched by three sentinels configured with
 * `sentinel auth-pass`. The master is killed: Sentinel promotes a replica
 * (logged in with auth-pass), the other replica follows it, and the old
 * master, restarted, is converted and rejoins as a replica with all the
 * data: every connection between the nodes logs in with masterauth.
 */

import assert from "node:assert/strict";
import { delay, freePort, RespClient, RespStatus, ServerProcess, walConfig } from "./_helpers.ts";
import { SentinelSet } from "./_sentinel.ts";

/** No blanks: it sits unquoted in sentinel.conf's `sentinel auth-pass`. */
const PASSWORD = "sentinel-group-pw-7";
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

/** A node of the group: every one has the password and the masterauth. */
function startNode(dir: string, port: number, masterPort?: number): Promise<ServerProcess> {
  const replication: Record<string, unknown> = {
    sync_interval: "100ms",
    announce_address: `127.0.0.1:${port}`,
    masterauth: PASSWORD,
  };
  if (masterPort !== undefined) {
    Object.assign(replication, {
      enabled: true,
      replica_type: "slave",
      master_address: `127.0.0.1:${masterPort}`,
    });
  }
  return ServerProcess.start({
    ...walConfig(dir),
    security: { requirepass: PASSWORD },
    replication,
  }, { dir, port });
}

Deno.test("Sentinel with auth-pass fails a password-protected kvdb group over; the old master rejoins", async () => {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(freePort());
  const [masterPort, ...replicaPorts] = [...ports];
  const dirs: string[] = [];
  for (let i = 0; i < 3; i++) dirs.push(await Deno.makeTempDir({ prefix: "kvdb-sentinel-auth-" }));
  const nodes = new Map<number, ServerProcess>();
  let sentinels: SentinelSet | undefined;
  try {
    nodes.set(masterPort, await startNode(dirs[0], masterPort));
    for (const [i, port] of replicaPorts.entries()) {
      nodes.set(port, await startNode(dirs[i + 1], port, masterPort));
    }
    for (const port of replicaPorts) {
      await until(`${port} follows ${masterPort}`, 20_000, () => following(port, masterPort));
    }
    sentinels = await SentinelSet.start(masterPort, { authPass: PASSWORD });
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
});
