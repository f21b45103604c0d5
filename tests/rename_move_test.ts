/**
 * RENAME and MOVE of any value are one small log record (issue 16 point
 * 2: a collection of any size never makes a large record, nor a long
 * stall): a hash of 100 000 fields and a 4 MiB string renamed and moved
 * between databases grow the log by a few hundred bytes, not by their
 * size; expiry moves with the value, a destination of another type is
 * replaced, and a restart replays the moves exactly.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { dirBytes, RespClient, ServerProcess, walConfig } from "./_helpers.ts";

const FIELDS = 100_000;

/** What database 0 and 1 hold, type by type (hash fields counted and sampled). */
async function state(client: RespClient): Promise<string> {
  const lines: string[] = [];
  for (const db of ["0", "1"]) {
    await client.call("SELECT", db);
    for (const key of (await client.call("KEYS", "*") as string[]).sort()) {
      const type = (await client.call("TYPE", key) as { text: string }).text;
      const ttl = await client.call("PTTL", key) as number;
      const size = type === "hash"
        ? `${await client.call("HLEN", key)} ${await client.call("HGET", key, "f77777")}`
        : `${await client.call("STRLEN", key)}`;
      lines.push(`${db} ${key} ${type} ${size} ${ttl > 0}`);
    }
  }
  await client.call("SELECT", "0");
  return lines.join("\n");
}

Deno.test("RENAME and MOVE of a 100k-field hash and a 4 MiB string log a few bytes and replay exactly", async () => {
  const dir = await Deno.makeTempDir();
  const config = {
    network: { max_message_size: "8MiB" },
    ...walConfig(dir, { snapshot_threshold: "1GiB" }),
  };
  let server = await ServerProcess.start(config);
  let client = await RespClient.connect(server.port);
  try {
    for (let at = 0; at < FIELDS; at += 10_000) {
      const args = ["HSET", "big"];
      for (let f = at; f < at + 10_000; f++) args.push(`f${f}`, `value-${f}`);
      await client.call(...args);
    }
    await client.call("SET", "blob", "b".repeat(4 * 1024 * 1024));
    await client.call("PEXPIRE", "big", "3600000");
    await client.call("HSET", "other", "x", "y");
    const walBefore = await dirBytes(join(dir, "wal"));

    assert.equal((await client.call("RENAME", "big", "renamed") as { text: string }).text, "OK");
    // The destination held another type: replaced.
    assert.equal((await client.call("RENAME", "blob", "other") as { text: string }).text, "OK");
    assert.equal(await client.call("MOVE", "renamed", "1"), 1);
    assert.equal(await client.call("RENAMENX", "other", "blob2"), 1);
    assert.equal(await client.call("MOVE", "blob2", "1"), 1);

    const growth = (await dirBytes(join(dir, "wal"))) - walBefore;
    assert.ok(growth < 1024, `four moves grew the log by ${growth} bytes`);
    const expected = await state(client);
    assert.equal(
      expected,
      `1 blob2 string ${4 * 1024 * 1024} false\n1 renamed hash ${FIELDS} value-77777 true`,
    );

    client.close();
    await server.stop("SIGKILL");
    server = await ServerProcess.start(config, { dir: server.dir, port: server.port });
    client = await RespClient.connect(server.port);
    assert.equal(await state(client), expected, "the restart replays the moves");
  } finally {
    client.close();
    await server.stop("SIGKILL");
  }
});
