/**
 * MONITOR: every command a client runs, sent to the MONITOR clients as
 * redis-server 7.0 writes it — a status line
 * `+<unix seconds>.<micros> [<db> <addr>] "<name>" "<arg>" ...`, each
 * argument quoted as Redis's `sdscatrepr` does (`\"`, `\\`, `\n`, `\r`,
 * `\t`, `\a`, `\b`, other bytes outside 0x20–0x7e as `\xhh`).
 *
 * As Redis: commands with the `admin` or `skip_monitor` flag are not shown
 * (CONFIG, MONITOR, DEBUG, ...), nor refused ones (unknown, wrong arity);
 * AUTH's arguments and HELLO's AUTH credentials are `(redacted)`; a line
 * names the database after the command ran (SELECT shows the new one);
 * the commands of a transaction come before its EXEC.
 *
 * Fed by the executor's `onCommand` hook, installed only while someone
 * monitors: otherwise it costs dispatch nothing.
 *
 * @example
 * ```ts
 * const feed = new MonitorFeed(executor);
 * feed.add(client); // client now receives a line per command
 * ```
 * @module
 */

import { redactedPositions } from "../security/redaction.ts";
import { COMMAND_FLAG_BITS, type CommandSpec, type Session } from "../executor/command_spec.ts";
import type { Executor } from "../executor/executor.ts";
import { updateRestricted } from "../pubsub/context.ts";
import type { Client } from "./clients.ts";
import { repliesHidden, REPLY_DEFERRED } from "./reply_mode.ts";

const HIDDEN = COMMAND_FLAG_BITS.admin | COMMAND_FLAG_BITS.skip_monitor;

/** An EXEC whose line waits for the lines of the commands it runs. */
interface HeldExec {
  session: Session;
  line: string;
  queue: readonly string[][];
  next: number;
}

/**
 * The MONITOR clients of a server and the lines sent to them.
 *
 * @example
 * ```ts
 * feed.remove(client);
 * ```
 */
export class MonitorFeed {
  readonly #monitors = new Set<Client>();
  #held: HeldExec | undefined;
  readonly #hook = (args: string[], session: Session, spec: CommandSpec): void =>
    this.#onCommand(args, session, spec);

  constructor(readonly executor: Executor) {}

  /** Clients monitoring. */
  get size(): number {
    return this.#monitors.size;
  }

  /** Makes `client` a MONITOR client; false if it was one already. */
  add(client: Client): boolean {
    if (client.monitor) return false;
    client.monitor = true;
    updateRestricted(client.session);
    this.#monitors.add(client);
    this.executor.onCommand = this.#hook;
    return true;
  }

  /** Stops sending lines to `client` (RESET, or it closed). */
  remove(client: Client): void {
    if (!client.monitor) return;
    client.monitor = false;
    client.deferredLines = [];
    updateRestricted(client.session);
    this.#monitors.delete(client);
    if (this.#monitors.size === 0) {
      this.#release(false);
      if (this.executor.onCommand === this.#hook) this.executor.onCommand = undefined;
    }
  }

  #onCommand(args: string[], session: Session, spec: CommandSpec): void {
    const held = this.#held;
    if (held !== undefined) {
      if (held.session === session && held.queue[held.next] === args) {
        // One of the transaction's commands: its line, then EXEC's after the last.
        held.next++;
        if ((spec.flags & HIDDEN) === 0) this.#send(format(args, session.db, session), session);
        if (held.next === held.queue.length) this.#release(true);
        return;
      }
      this.#release(false);
    }
    if ((spec.flags & HIDDEN) !== 0) return;
    const db = spec.name === "SELECT" ? this.#selected(args, session) : session.db;
    const line = format(args, db, session);
    const multi = session.multi;
    if (spec.name === "EXEC" && multi !== undefined && !multi.failed && multi.commands.length > 0) {
      this.#held = { session, line, queue: multi.commands, next: 0 };
      // A transaction that does not run (a watched key changed) sends EXEC's line anyway.
      queueMicrotask(() => this.#release(false));
      return;
    }
    this.#send(line, session);
  }

  /** The database SELECT is about to select (the line shows it), or the current one. */
  #selected(args: string[], session: Session): number {
    const index = /^(0|[1-9][0-9]{0,8})$/.test(args[1] ?? "") ? Number(args[1]) : -1;
    return index >= 0 && index < this.executor.store.databaseCount ? index : session.db;
  }

  /** Sends the held EXEC line; `running`: from inside the EXEC (its client gets it after). */
  #release(running: boolean): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    this.#send(held.line, running ? held.session : undefined);
  }

  #send(line: string, from: Session | undefined): void {
    for (const client of this.#monitors) {
      if (client.session === from) {
        // Its own command: Redis writes the line after the reply (and
        // after CLIENT REPLY changed what it may be sent: see sendDeferred).
        client.deferredLines.push(line);
        client.session.replyFlags |= REPLY_DEFERRED;
        continue;
      }
      // CLIENT REPLY OFF hides MONITOR lines, as Redis's addReply does.
      if (repliesHidden(client.session)) continue;
      const w = client.io.outOfBand();
      if (w === undefined) continue;
      w.status(line);
      client.io.outOfBandDone();
    }
  }
}

/** A command as a MONITOR line (without the leading `+`). */
export function format(args: readonly string[], db: number, session: Session): string {
  const nowMicros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const seconds = Math.floor(nowMicros / 1_000_000);
  const micros = String(nowMicros % 1_000_000).padStart(6, "0");
  const where = session.client?.addr ?? "local";
  let line = `${seconds}.${micros} [${db} ${where}]`;
  const redacted = redactedPositions(args);
  for (let i = 0; i < args.length; i++) {
    line += " " + (redacted.includes(i) ? '"(redacted)"' : repr(args[i]));
  }
  return line;
}

/**
 * A binary string quoted as Redis's `sdscatrepr`.
 *
 * @example
 * ```ts
 * repr('a"b\n'); // "\"a\\\"b\\n\""
 * ```
 */
export function repr(s: string): string {
  // One pass of the regex engine: a large value without such bytes is not copied char by char.
  return '"' + s.replace(NEEDS_ESCAPE, escapeChar) + '"';
}

const NEEDS_ESCAPE = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/g;

const ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\x07": "\\a",
  "\b": "\\b",
};

function escapeChar(c: string): string {
  return ESCAPES[c] ?? "\\x" + (c.charCodeAt(0) & 0xff).toString(16).padStart(2, "0");
}
