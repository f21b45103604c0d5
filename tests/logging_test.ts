/** Logging goes where `logging.output` says, at `logging.level` and above. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { stringify } from "yaml";
import { delay, freePort, KVDB_FLAGS, TcpClient, waitPortFree } from "./_helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function runWithLogFile(level: string): Promise<{ lines: string[]; stdout: string }> {
  const dir = await Deno.makeTempDir();
  const logPath = join(dir, "kvdb.log");
  const port = freePort();
  const configPath = join(dir, "config.yaml");
  await Deno.writeTextFile(
    configPath,
    stringify({ network: { address: `127.0.0.1:${port}` }, logging: { level, output: logPath } }),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...KVDB_FLAGS, MAIN, "server", "--config", configPath],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Ready when it answers (the log may hold no ready line at warn).
  let client: TcpClient | undefined;
  for (let i = 0; i < 400 && client === undefined; i++) {
    client = await TcpClient.connect(port).catch(() => undefined);
    if (client === undefined) await delay(50);
  }
  assert.ok(client, "the server answers");
  for (let i = 0; i < 100; i++) assert.equal(await client.command(`SET k${i} v`), "OK");
  client.close();
  child.kill("SIGTERM");
  const out = await child.output();
  assert.equal(out.code, 0);
  await waitPortFree(port);
  return {
    lines: (await Deno.readTextFile(logPath)).trim().split("\n").filter((l) => l !== ""),
    stdout: new TextDecoder().decode(out.stdout),
  };
}

Deno.test("logging.output names a file: lines go there, not to stdout; no line per request", async () => {
  const { lines, stdout } = await runWithLogFile("info");
  assert.equal(stdout, "");
  assert.ok(lines.some((l) => / INFO kvdb server listening /.test(l)), lines.join("\n"));
  assert.ok(lines.some((l) => / INFO kvdb server stopped/.test(l)));
  assert.ok(lines.length < 10, `${lines.length} lines for 100 requests`);
});

Deno.test("logging.level warn leaves info lines out", async () => {
  const { lines } = await runWithLogFile("warn");
  assert.deepEqual(lines.filter((l) => / (INFO|DEBUG) /.test(l)), []);
});
