/**
 * `kvdb client` on a real terminal: `script` (util-linux) gives it a
 * pseudo-terminal, so this is the prompt, line editing and history a person
 * gets, driven by keystrokes.
 */

import assert from "node:assert/strict";
import { delay, KVDB_FLAGS, ServerProcess } from "./_helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Strips terminal control sequences and carriage returns. */
function plain(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replaceAll("\r", "");
}

Deno.test("client on a terminal: prompt, line editing, history, exit", async () => {
  const server = await ServerProcess.start();
  const command = [
    Deno.execPath(),
    "run",
    ...KVDB_FLAGS,
    MAIN,
    "client",
    "-a",
    `127.0.0.1:${server.port}`,
  ]
    .map((word) => `'${word}'`).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const keys = child.stdin.getWriter();
  const encoder = new TextEncoder();
  let screen = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) screen += chunk;
  })();
  const errors = new Response(child.stderr).text();
  try {
    // Type only once the prompt is up: keystrokes sent earlier would be
    // echoed by the terminal before the REPL owns it.
    for (let waited = 0; !plain(screen).includes("> "); waited += 50) {
      if (waited > 20_000) throw new Error(`no prompt within 20 s:\n${screen}`);
      await delay(50);
    }
    for (
      const keystrokes of [
        "SET a 1\r", // -> OK
        "GET a\r", // -> 1
        "\x1b[A\r", // up arrow: GET a again -> 1
        "GET ab\x7f\r", // backspace edits the line: GET a -> 1
        "GET \x1b[D\x1b[Cnope\r", // cursor left and right, then GET nope -> not found
        "exit\r",
      ]
    ) {
      await keys.write(encoder.encode(keystrokes));
      await delay(400);
    }
    await keys.close();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const status = await child.status;
    clearTimeout(timer);
    await reading;
    assert.equal(status.code, 0, await errors);
    screen = plain(screen);
    const lines = screen.split("\n").map((l) => l.trim());
    assert.ok(screen.includes("> "), `no prompt in:\n${screen}`);
    assert.ok(lines.includes("OK"), screen);
    assert.equal(lines.filter((l) => l === "1").length, 3, `three GETs answered 1:\n${screen}`);
    assert.ok(lines.includes("ERROR: key not found"), screen);
  } finally {
    await server.stop();
  }
});
