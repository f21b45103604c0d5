/**
 * CLIENT PAUSE and UNPAUSE, through the executor's `gate`: while a pause
 * lasts, a client's command waits (ALL: every command; WRITE: commands
 * that write, and EXEC of a transaction holding one) and runs when the
 * pause ends — by its timeout or CLIENT UNPAUSE — in the order they came.
 * Commands queued inside MULTI are not held (they run at EXEC), as in
 * Redis 7.0. A new pause extends a running one to the later end and the
 * stricter kind, as Redis's `pauseClients` does. The gate is installed only
 * while paused: otherwise it costs dispatch nothing.
 *
 * @example
 * ```ts
 * const pause = new ClientPause(executor, lookup);
 * pause.pause(1000, "write");
 * ```
 * @module
 */

import type { CommandSpec, Session } from "../executor/command_spec.ts";
import type { Executor } from "../executor/executor.ts";

/** A held command's client was closed before the pause ended. */
export class ClientClosedError extends Error {
  override name = "ClientClosedError";
}

/** Finds the table row a request names (the command table's `lookupRequest`). */
export type CommandLookup = (args: readonly string[]) => CommandSpec | undefined;

/**
 * The pause state of a server.
 *
 * @example
 * ```ts
 * pause.unpause(); // held commands run now
 * ```
 */
export class ClientPause {
  #endMs = 0;
  #all = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resume: Promise<void> | undefined;
  #release: (() => void) | undefined;
  readonly #gate = (spec: CommandSpec, session: Session): Promise<void> | undefined => {
    if (!this.#all && !this.#holdsWrite(spec, session)) return undefined;
    // A client closed while held (CLIENT KILL, its peer left) must not run
    // its command afterwards: the rejection ends its connection instead.
    return this.#resume!.then(() => {
      if (session.client?.io.closed === true) throw new ClientClosedError();
    });
  };

  constructor(readonly executor: Executor, readonly lookup: CommandLookup) {}

  /** Whether a pause is in force. */
  get active(): boolean {
    return this.#resume !== undefined;
  }

  /** Pauses clients for `timeoutMs` (ALL or WRITE), or extends the pause in force. */
  pause(timeoutMs: number, kind: "all" | "write"): void {
    const endMs = Date.now() + timeoutMs;
    if (kind === "all") this.#all = true;
    if (this.#resume === undefined) {
      this.#resume = new Promise((resolve) => this.#release = resolve);
      this.executor.gate = this.#gate;
    }
    if (endMs > this.#endMs) {
      this.#endMs = endMs;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.unpause(), Math.max(0, timeoutMs));
    }
  }

  /** Ends the pause: the commands held run now, in order. */
  unpause(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#endMs = 0;
    this.#all = false;
    if (this.executor.gate === this.#gate) this.executor.gate = undefined;
    const release = this.#release;
    this.#resume = undefined;
    this.#release = undefined;
    release?.();
  }

  #holdsWrite(spec: CommandSpec, session: Session): boolean {
    if (session.multi !== undefined) {
      // Queued, not run: held at EXEC if it writes.
      if (spec.name !== "EXEC") return false;
      return session.multi.commands.some((args) => this.lookup(args)?.write === true);
    }
    return spec.write;
  }
}
