/**
 * The interactive loop shared by `kvdb client` and `kvdb cli`.
 *
 * On a terminal: the `> ` prompt, line editing and history (node:readline),
 * Tab completion of command names and a grey hint of the arguments (see
 * completion.ts), blank lines skipped, `exit` or `quit` (or Ctrl-D) to
 * leave. With piped standard input: request lines are read as raw bytes (so
 * any byte reaches the server), sent in batches, and only the replies are
 * printed; the loop exits 0 at end of input.
 *
 * A line is split into arguments by the text protocol's rules (quotes and
 * escapes as redis-cli writes them) and each reply is shown as display.ts
 * says, in the display mode given (`tty` or `raw`). SUBSCRIBE, PSUBSCRIBE,
 * SSUBSCRIBE and MONITOR keep printing what arrives until Ctrl-C (on a
 * terminal: back to the prompt) or the connection's end, as in redis-cli.
 *
 * @example
 * ```ts
 * const code = await runRepl(session, "tty");
 * ```
 * @module
 */

import { createInterface, type Interface } from "node:readline";
import process from "node:process";
import { binaryToBytes, bytesToBinary } from "../bytes/binary_string.ts";
import { writeAll } from "../bytes/io.ts";
import { asciiUpper } from "../executor/command_table.ts";
import { TextRequestDecoder } from "../protocol/text_decoder.ts";
import { type DisplayMode, formatReply } from "./display.ts";
import { complete, hint } from "./completion.ts";
import type { Reply } from "./reply.ts";
import type { ReplSession } from "./session.ts";

const PROMPT = "> ";
const HISTORY_LINES = 1000;
/** Piped requests sent to the session at once. */
const BATCH_LINES = 512;
/** The longest request line read from piped input. */
const MAX_LINE_BYTES = 512 * 1024 * 1024;
/** Whose replies keep coming after the first (redis-cli's pub/sub and monitor modes). */
const STREAMING: ReadonlySet<string> = new Set([
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "MONITOR",
]);
const SUBSCRIBING: ReadonlySet<string> = new Set(["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"]);
/** ANSI: grey text, back to normal, erase from the cursor to the end of the line. */
const GREY = "\x1b[90m";
const NORMAL = "\x1b[0m";
const ERASE_TO_END = "\x1b[K";

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

/** A request line split into arguments, or the error the text protocol gives for it. */
type Parsed = { args: string[]; error?: undefined } | { args: string[]; error: Reply };

function parseLine(decoder: TextRequestDecoder, line: Uint8Array): Parsed {
  const request = new Uint8Array(line.length + 1);
  request.set(line);
  request[line.length] = LF;
  // One line always decodes whole: an oversized one as an error.
  decoder.decode(request, 0, request.length);
  if (decoder.args !== undefined) return { args: decoder.args };
  const e = decoder.error!;
  // Shown as a reply to the line's first word (the three original commands
  // keep the text protocol's line).
  const first = bytesToBinary(line, 0, Math.min(line.length, 64)).trim().split(/[ \t]/)[0];
  return {
    args: [first],
    error: { type: "error", value: `${e.code} ${e.message}`, text: e.text },
  };
}

function writeOut(text: string): Promise<void> {
  return writeAll(Deno.stdout, binaryToBytes(text));
}

/** Runs requests, prints their replies; false when the session failed (said on stderr). */
async function runParsed(
  session: ReplSession,
  parsed: readonly Parsed[],
  display: DisplayMode,
): Promise<boolean> {
  try {
    const sent = parsed.filter((p) => p.error === undefined).map((p) => p.args);
    const replies = sent.length > 0 ? await session.run(sent) : [];
    let out = "";
    for (const push of session.takePushes()) out += formatReply([], push, display);
    let next = 0;
    for (const p of parsed) {
      out += formatReply(p.args, p.error ?? replies[next++], display);
    }
    // More replies than requests (a server's extra messages): shown too.
    while (next < replies.length) out += formatReply([], replies[next++], display);
    await writeOut(out);
    return true;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return false;
  }
}

/**
 * Runs one request (SUBSCRIBE, MONITOR) whose replies keep coming, printing
 * each as it arrives, until `signal`, an error reply or the connection's end.
 */
async function runStreaming(
  session: ReplSession,
  args: readonly string[],
  display: DisplayMode,
  signal: AbortSignal,
): Promise<boolean> {
  if (session.stream === undefined) return await runParsed(session, [{ args: [...args] }], display);
  if (display === "tty" && SUBSCRIBING.has(asciiUpper(args[0]))) {
    await writeOut("Reading messages... (press Ctrl-C to quit)\n");
  }
  try {
    await session.stream(args, (reply) => writeOut(formatReply(args, reply, display)), signal);
    return true;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return false;
  }
}

function isStreaming(p: Parsed): boolean {
  return p.error === undefined && STREAMING.has(asciiUpper(p.args[0]));
}

/**
 * Runs request lines (without newlines) through the session and prints the
 * replies. Returns false when the session failed (the reason is printed to
 * stderr).
 *
 * @example
 * ```ts
 * await runOnce(session, [["PING"]], "tty");
 * ```
 */
export async function runOnce(
  session: ReplSession,
  requests: readonly string[][],
  display: DisplayMode,
  signal: AbortSignal = new AbortController().signal,
): Promise<boolean> {
  const parsed = requests.map((args): Parsed => ({ args }));
  if (parsed.length === 1 && isStreaming(parsed[0])) {
    return await runStreaming(session, parsed[0].args, display, signal);
  }
  return await runParsed(session, parsed, display);
}

function lineDecoder(session: ReplSession): TextRequestDecoder {
  return new TextRequestDecoder(Math.min(session.maxRequestBytes, MAX_LINE_BYTES));
}

async function runPiped(session: ReplSession, display: DisplayMode): Promise<number> {
  const buffer = new Uint8Array(64 * 1024);
  let pending = new Uint8Array(0);
  let batch: Parsed[] = [];
  const never = new AbortController().signal;
  const flush = async () => {
    const ok = batch.length === 0 || await runParsed(session, batch, display);
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
      const parsed = parseLine(lineDecoder(session), line);
      if (isStreaming(parsed)) {
        if (!await flush()) return 1;
        // As redis-cli: a subscriber reads until the connection ends.
        return await runStreaming(session, parsed.args, display, never) ? 0 : 1;
      }
      batch.push(parsed);
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

/**
 * Shows the argument hint for what is typed, in grey after the cursor,
 * when the cursor is at the end and the hint fits on the line; the next
 * keystroke erases it before readline draws.
 */
function attachHints(rl: Interface): void {
  const state = rl as unknown as { line: string; cursor: number };
  const columns = () => process.stdout.columns || 80;
  let shown = false;
  process.stdin.prependListener("keypress", () => {
    if (shown) process.stdout.write(ERASE_TO_END);
    shown = false;
  });
  process.stdin.on("keypress", (_s: unknown, key: { name?: string } | undefined) => {
    if (key?.name === "return" || key?.name === "enter") return;
    const line = state.line;
    if (state.cursor !== line.length) return;
    // Cut to the line: a hint never wraps (erasing it could not reach back).
    const room = columns() - PROMPT.length - line.length - 1;
    const text = hint(line).slice(0, Math.max(room, 0));
    if (text === "") return;
    process.stdout.write(`${GREY}${text}${NORMAL}\x1b[${text.length}D`);
    shown = true;
  });
}

async function runTerminal(session: ReplSession, display: DisplayMode): Promise<number> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: PROMPT,
    terminal: true,
    historySize: HISTORY_LINES,
    completer: complete,
  });
  attachHints(rl);
  // Ctrl-C stops a SUBSCRIBE or MONITOR; at the prompt it leaves, as before.
  let streaming: AbortController | undefined;
  rl.on("SIGINT", () => {
    if (streaming !== undefined) streaming.abort();
    else rl.close();
  });
  rl.prompt();
  try {
    for await (const text of rl) {
      const line = encoder.encode(text);
      const kind = classify(line);
      if (kind === "exit") break;
      if (kind === "request") {
        const parsed = parseLine(lineDecoder(session), line);
        if (isStreaming(parsed)) {
          streaming = new AbortController();
          await runStreaming(session, parsed.args, display, streaming.signal);
          streaming = undefined;
        } else {
          await runParsed(session, [parsed], display);
        }
      }
      rl.prompt();
    }
  } finally {
    rl.close();
  }
  return 0;
}

/**
 * Runs the REPL on standard input until `exit`, `quit` or end of input,
 * showing replies in `display` mode. Returns the process exit code.
 *
 * @example
 * ```ts
 * Deno.exit(await runRepl(session, Deno.stdout.isTerminal() ? "tty" : "raw"));
 * ```
 */
export async function runRepl(session: ReplSession, display: DisplayMode): Promise<number> {
  try {
    return Deno.stdin.isTerminal()
      ? await runTerminal(session, display)
      : await runPiped(session, display);
  } finally {
    await session.close();
  }
}
