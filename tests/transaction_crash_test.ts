/**
 * Transactions through crashes (issue 14 point 5): clients stream
 * MULTI/EXEC transactions while the server is SIGKILLed, several times;
 * after each restart every transaction is there whole or not at all, and
 * every one whose EXEC was answered is there.
 */

import assert from "node:assert/strict";
import { delay, RespClient, ServerProcess, walConfig } from "./_helpers.ts";

const CLIENTS = 8;
/** Keys each transaction writes (a group of this many records, plus the counter's). */
const KEYS_PER_TRANSACTION = 12;

/** Runs transactions on a new connection until the server goes away; records answered ones. */
async function stream(port: number, client: number, answered: Set<string>): Promise<void> {
  let connection: RespClient;
  try {
    connection = await RespClient.connect(port);
  } catch {
    return;
  }
  try {
    for (let n = 0;; n++) {
      const id = `${client}-${n}-${crypto.randomUUID().slice(0, 8)}`;
      const commands: string[][] = [["MULTI"]];
      for (let k = 0; k < KEYS_PER_TRANSACTION; k++) {
        commands.push(["SET", `tx:${id}:${k}`, `${id}:${"v".repeat(k * 50)}`]);
      }
      commands.push(["INCR", `count:${id}`], ["EXEC"]);
      const replies = await connection.pipeline(commands);
      const exec = replies[replies.length - 1];
      assert.ok(Array.isArray(exec) && exec.length === KEYS_PER_TRANSACTION + 1, String(exec));
      answered.add(id);
    }
  } catch {
    // The server was killed mid-stream.
  } finally {
    connection.close();
  }
}

Deno.test("SIGKILL during MULTI/EXEC streams: each transaction whole or absent after restart", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir, { max_segment_size: "256KiB", snapshot_threshold: "1MiB" });
  let server = await ServerProcess.start(config);
  const answered = new Set<string>();
  try {
    for (let round = 0; round < 3; round++) {
      const streams = Array.from(
        { length: CLIENTS },
        (_, i) => stream(server.port, round * CLIENTS + i, answered),
      );
      await delay(300 + round * 150);
      await server.stop("SIGKILL");
      await Promise.all(streams);
      server = await ServerProcess.start(config, { dir: server.dir, port: server.port });
      const client = await RespClient.connect(server.port);
      const keys = (await client.call("KEYS", "tx:*")) as string[];
      const counts = (await client.call("KEYS", "count:*")) as string[];
      client.close();
      const perTransaction = new Map<string, number>();
      for (const key of keys) {
        const id = key.split(":")[1];
        perTransaction.set(id, (perTransaction.get(id) ?? 0) + 1);
      }
      const counted = new Set(counts.map((key) => key.slice("count:".length)));
      for (const [id, n] of perTransaction) {
        assert.equal(n, KEYS_PER_TRANSACTION, `transaction ${id} has ${n} of its keys`);
        assert.ok(counted.has(id), `transaction ${id} lost its counter`);
      }
      for (const id of counted) assert.ok(perTransaction.has(id), `counter of ${id} without keys`);
      for (const id of answered) assert.ok(perTransaction.has(id), `answered ${id} is missing`);
      assert.ok(answered.size > 0, "no transaction was answered before the kill");
    }
  } finally {
    await server.stop("SIGKILL");
  }
});
