/**
 * The README's high-availability guide, as written: three servers from
 * copies of configs/ha/node*.yaml (ports 3223–3225, as shipped; copies
 * because Sentinel's CONFIG REWRITE writes into them), two made replicas
 * with REPLICAOF, three redis-sentinel processes from copies of
 * configs/ha/sentinel.conf; the master SIGKILLed; a replica is promoted
 * and takes writes, and the old master, restarted, comes back as a
 * replica of it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { callOnce, ensureRedisSentinel } from "./_sentinel.ts";
import { delay, freePort, RespStatus, ServerProcess } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const NODE_PORTS = [3223, 3224, 3225];
/** Room for one election retry (2 × the test's failover-timeout) after a split vote. */
const FAILOVER_TIMEOUT_MS = 45_000;

async function until<T>(what: string, timeoutMs: number, get: () => Promise<T | undefined>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(200);
  }
}

async function masterPort(sentinelPort: number): Promise<number | undefined> {
  const reply = await callOnce(sentinelPort, ["SENTINEL", "get-master-addr-by-name", "kvdb"]);
  return Array.isArray(reply) ? Number(reply[1]) : undefined;
}

Deno.test("the README's HA guide: configs/ha nodes under the shipped sentinel.conf fail over on SIGKILL", async () => {
  await ensureRedisSentinel();
  // Busy means something accepts there (a bind could succeed beside a
  // listener that shares the port).
  for (const port of NODE_PORTS) {
    const taken = await Deno.connect({ hostname: "127.0.0.1", port }).then((c) => {
      c.close();
      return true;
    }, () => false);
    if (taken) throw new Error(`port ${port} is busy: this test runs configs/ha/node*.yaml`);
  }
  const cwd = await Deno.makeTempDir();
  const nodes: ServerProcess[] = [];
  const sentinels: Deno.ChildProcess[] = [];
  try {
    // Copies: Sentinel's CONFIG REWRITE writes the roles into them.
    for (const [i, port] of NODE_PORTS.entries()) {
      const name = `node${i + 1}.yaml`;
      const shippedNode = await Deno.readTextFile(join(ROOT, "configs/ha", name));
      assert.doesNotMatch(shippedNode, /replica_type/, `the shipped ${name} names no role`);
      await Deno.copyFile(join(ROOT, "configs/ha", name), join(cwd, name));
      nodes.push(await ServerProcess.startWithConfigFile(join(cwd, name), cwd, port));
    }
    for (const port of NODE_PORTS.slice(1)) {
      assert.deepEqual(
        await callOnce(port, ["REPLICAOF", "127.0.0.1", "3223"]),
        new RespStatus("OK"),
      );
    }
    assert.deepEqual(await callOnce(3223, ["SET", "before", "1"]), new RespStatus("OK"));
    assert.equal(await callOnce(3223, ["WAIT", "2", "5000"]), 2);

    const shipped = await Deno.readTextFile(join(ROOT, "configs/ha/sentinel.conf"));
    const sentinelPorts = [freePort(), freePort(), freePort()];
    for (const port of sentinelPorts) {
      const path = join(cwd, `sentinel-${port}.conf`);
      // As the guide says: a copy per sentinel, its own port; a shorter
      // down-after keeps the test short, and a shorter failover-timeout
      // too: an election the sentinels' votes split is retried only after
      // twice failover-timeout (the shipped 60 s: two minutes).
      await Deno.writeTextFile(
        path,
        shipped.replace(/^port .*$/m, `port ${port}`)
          .replace(
            /^sentinel down-after-milliseconds kvdb .*$/m,
            "sentinel down-after-milliseconds kvdb 1500",
          )
          .replace(/^sentinel failover-timeout kvdb .*$/m, "sentinel failover-timeout kvdb 10000"),
      );
      sentinels.push(
        new Deno.Command("redis-sentinel", { args: [path], stdout: "null", stderr: "null" })
          .spawn(),
      );
    }
    await until("the sentinels to see both replicas", 20_000, async () => {
      const replicas = await callOnce(sentinelPorts[0], ["SENTINEL", "replicas", "kvdb"]);
      return Array.isArray(replicas) && replicas.length === 2 ? true : undefined;
    });

    await nodes[0].stop("SIGKILL");
    const promoted = await until("a replica to be promoted", FAILOVER_TIMEOUT_MS, async () => {
      const port = await masterPort(sentinelPorts[0]);
      return port !== undefined && port !== 3223 ? port : undefined;
    });
    await until(
      "the promoted replica to take writes",
      10_000,
      async () =>
        (await callOnce(promoted, ["SET", "after", "2"])) instanceof RespStatus ? true : undefined,
    );
    assert.equal(await callOnce(promoted, ["GET", "before"]), "1");

    // The old master comes back as a replica of the new one.
    nodes[0] = await ServerProcess.startWithConfigFile(join(cwd, "node1.yaml"), cwd, 3223);
    await until("the old master to follow the new one", FAILOVER_TIMEOUT_MS, async () => {
      const info = await callOnce(3223, ["INFO", "replication"]);
      return typeof info === "string" && info.includes("role:slave") &&
          info.includes(`master_port:${promoted}`) && info.includes("master_link_status:up")
        ? true
        : undefined;
    });
    assert.equal(await callOnce(3223, ["GET", "after"]), "2");
  } finally {
    for (const s of sentinels) {
      try {
        s.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await s.status;
    }
    for (const node of nodes) await node.stop();
  }
});
