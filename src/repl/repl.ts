/**
 * The interactive loop shared by `kvdb client` and `kvdb cli`.
 *
 * On a terminal: the `> ` prompt, line editing and history (node:readline),
 * blank lines skipped, `exit` or `quit` (or Ctrl-D) to leave. With piped
 * standard input: request lines are read as raw bytes (so any byte reaches
 * the server), sent in batches, and only the replies are printed, one per
 * line; the loop exits 0 at end of input.
 *
 * @example
 * ```ts
 * const code = await runRepl(session);
 * ```
 * @module
 */

import { createInterface } from "node:readline";
import process from "node:process";
import { joinLines, writeAll } from "../bytes/io.ts";
import type { ReplSession } from "./session.ts";

const PROMPT = "> ";
const HISTORY_LINES = 1000;
/** Piped requests sent to the session at once. */
const BATCH_LINES = 512;
/** The longest request line read from piped input. */
const MAX_LINE_BYTES = 512 * 1024 * 1024;

const encoder = new TextEncoder();
const LF = 0x0a;

/** Whether a line is blank or an exit word (which ends the REPL). */
function classify(line: Uint8Array): "blank" | "exit" | "request" {
  const text = new TextDecoder().decode(
    line.length > 16 ? line.subarray(0, 16) : line,
  ).trim().toLowerCase();
  if (text === "" && line.every((b) => b === 0x20 || b === 0x09 || b === 0x0d)) {
    return "blank";
  }
  return text === "exit" || text === "quit" ? "exit" : "request";
}

function writeOut(lines: Uint8Array[]): Promise<void> {
  return writeAll(Deno.stdout, joinLines(lines));
}

/**
 * Runs `lines` through the session and prints the replies. Returns false
 * when the session failed (the reason is printed to stderr).
 *
 * @example
 * ```ts
 * await runOnce(session, [encoder.encode("PING")]);
 * ```
 */
export async function runOnce(
  session: ReplSession,
  lines: Uint8Array[],
): Promise<boolean> {
  try {
    await writeOut(await session.run(lines));
    return true;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return false;
  }
}

async function runPiped(session: ReplSession): Promise<number> {
  const buffer = new Uint8Array(64 * 1024);
  let pending = new Uint8Array(0);
  let batch: Uint8Array[] = [];
  const flush = async () => {
    const ok = batch.length === 0 || await runOnce(session, batch);
    batch = [];
    return ok;
  };
  while (true) {
    const n = await Deno.stdin.read(buffer);
    const chunk = n === null ? new Uint8Array([LF]) : buffer.subarray(0, n);
    const joined = new Uint8Array(pending.length + chunk.length);
    joined.set(pending);
    joined.set(chunk, pending.length);
    let start = 0;
    for (let i = joined.indexOf(LF); i >= 0; i = joined.indexOf(LF, start)) {
      const line = joined.slice(start, i);
      start = i + 1;
      const kind = classify(line);
      if (kind === "exit") return await flush() ? 0 : 1;
      if (kind === "blank") continue;
      batch.push(line);
      if (batch.length >= BATCH_LINES && !await flush()) return 1;
    }
    pending = joined.slice(start);
    if (pending.length > MAX_LINE_BYTES) {
      console.error(`input line longer than ${MAX_LINE_BYTES} bytes`);
      return 1;
    }
    if (!await flush()) return 1;
    if (n === null) return 0;
  }
}

async function runTerminal(session: ReplSession): Promise<number> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: PROMPT,
    terminal: true,
    historySize: HISTORY_LINES,
  });
  rl.prompt();
  try {
    for await (const text of rl) {
      const line = encoder.encode(text);
      const kind = classify(line);
      if (kind === "exit") break;
      if (kind === "request") await runOnce(session, [line]);
      rl.prompt();
    }
  } finally {
    rl.close();
  }
  return 0;
}

/**
 * Runs the REPL on standard input until `exit`, `quit` or end of input.
 * Returns the process exit code.
 *
 * @example
 * ```ts
 * Deno.exit(await runRepl(session));
 * ```
 */
export async function runRepl(session: ReplSession): Promise<number> {
  try {
    return Deno.stdin.isTerminal() ? await runTerminal(session) : await runPiped(session);
  } finally {
    await session.close();
  }
}
