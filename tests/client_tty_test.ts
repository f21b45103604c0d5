/**
 * `kvdb client` and `kvdb cli` on a real terminal: `script` (util-linux)
 * gives them a pseudo-terminal, so this is the prompt, line editing,
 * history, completion, hints and display a person gets, driven by
 * keystrokes.
 */

import assert from "node:assert/strict";
import { delay, KVDB_FLAGS, ServerProcess } from "./_helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Strips terminal control sequences and carriage returns. */
function plain(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replaceAll("\r", "");
}

/**
 * Runs `kvdb <args>` on a pseudo-terminal, types each of `keystrokes` (a
 * pause after each), and returns the exit code and the raw screen output.
 */
async function typeAtTerminal(
  args: string[],
  keystrokes: string[],
): Promise<{ code: number; screen: string }> {
  const command = [Deno.execPath(), "run", ...KVDB_FLAGS, MAIN, ...args]
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
  // Type only once the prompt is up: keystrokes sent earlier would be
  // echoed by the terminal before the REPL owns it.
  for (let waited = 0; !plain(screen).includes("> "); waited += 50) {
    if (waited > 20_000) throw new Error(`no prompt within 20 s:\n${screen}`);
    await delay(50);
  }
  for (const keystroke of keystrokes) {
    await keys.write(encoder.encode(keystroke));
    await delay(400);
  }
  await keys.close();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const status = await child.status;
  clearTimeout(timer);
  await reading;
  assert.equal(status.code, 0, await errors);
  return { code: status.code, screen };
}

Deno.test("client on a terminal: prompt, line editing, history, exit", async () => {
  const server = await ServerProcess.start();
  try {
    const { screen: raw } = await typeAtTerminal(["client", "-a", `127.0.0.1:${server.port}`], [
      "SET a 1\r", // -> OK
      "GET a\r", // -> 1
      "\x1b[A\r", // up arrow: GET a again -> 1
      "GET ab\x7f\r", // backspace edits the line: GET a -> 1
      "GET \x1b[D\x1b[Cnope\r", // cursor left and right, then GET nope -> not found
      "exit\r",
    ]);
    const screen = plain(raw);
    const lines = screen.split("\n").map((l) => l.trim());
    assert.ok(screen.includes("> "), `no prompt in:\n${screen}`);
    assert.ok(lines.includes("OK"), screen);
    assert.equal(lines.filter((l) => l === "1").length, 3, `three GETs answered 1:\n${screen}`);
    assert.ok(lines.includes("ERROR: key not found"), screen);
  } finally {
    await server.stop();
  }
});

Deno.test("client on a terminal: Tab completes command names, a grey hint shows the arguments", async () => {
  const server = await ServerProcess.start();
  try {
    const { screen } = await typeAtTerminal(["client", "-a", `127.0.0.1:${server.port}`], [
      "incrbyf\t", // -> incrbyfloat, hint " <key> <increment>"
      " k 2.5\r", // -> "2.5"
      "CONFIG G\t", // subcommand -> CONFIG GET, hint " <parameter> ..."
      " port\r",
      "MSET x 1\r",
      "MGET x nope\r",
      "exit\r",
    ]);
    // What the terminal shows once the grey hints are erased.
    // deno-lint-ignore no-control-regex
    const typed = plain(screen.replace(/\x1b\[90m.*?\x1b\[0m/g, ""));
    assert.ok(typed.includes("> incrbyfloat k 2.5\n"), `not completed:\n${typed}`);
    assert.ok(typed.includes("> CONFIG GET port\n"), `subcommand not completed:\n${typed}`);
    assert.ok(screen.includes("\x1b[90m <key> <increment>\x1b[0m"), `no hint:\n${screen}`);
    assert.ok(screen.includes("\x1b[90m <increment>\x1b[0m"), `hint not shortened:\n${screen}`);
    assert.ok(screen.includes("\x1b[90m <parameter> [<parameter> ...]\x1b[0m"), screen);
    const text = plain(screen);
    assert.ok(text.includes('\n"2.5"\n'), text);
    assert.ok(text.includes(`\n1) "port"\n2) "${server.port}"\n`), text);
    assert.ok(text.includes('\n1) "1"\n2) (nil)\n'), text);
  } finally {
    await server.stop();
  }
});

Deno.test("cli on a terminal: the client's display", async () => {
  const { screen } = await typeAtTerminal(["cli"], [
    "MSET a 1 b 2\r",
    "MGET a nope b\r",
    "INCR a\r",
    "GET a\r",
    "exit\r",
  ]);
  const text = plain(screen);
  assert.ok(text.includes('\n1) "1"\n2) (nil)\n3) "2"\n'), text);
  assert.ok(text.includes("\n(integer) 2\n"), text);
  assert.ok(text.includes("\n2\n"), `GET shows the bare value:\n${text}`);
});
