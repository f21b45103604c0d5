/**
 * What `kvdb server` does on each signal that would otherwise end it at
 * once, without its graceful shutdown (found by sending every signal to a
 * running server):
 *
 * | signals | action | why |
 * |---|---|---|
 * | SIGTERM, SIGINT | graceful shutdown | a request to stop |
 * | SIGPWR, SIGXCPU | graceful shutdown | warnings that the process is about to be stopped or killed (power failure, CPU-time soft limit): flush while there is time |
 * | SIGHUP | ignored, logged | as Redis does: a closed terminal must not stop a database, and kvdb has nothing to reload |
 * | SIGUSR2, SIGALRM, SIGVTALRM, SIGIO, SIGSTKFLT | ignored, logged | they mean nothing to kvdb; one sent by mistake must not take the database down |
 * | SIGXFSZ | ignored, logged | the write past the file-size limit then fails with EFBIG and is handled as a failed write (reported, never acknowledged) |
 *
 * Left to their default: SIGKILL and SIGSTOP (cannot be caught), signals
 * that report a fault in the process itself (SIGSEGV, SIGBUS, SIGILL,
 * SIGFPE, SIGABRT, SIGTRAP, SIGSYS), SIGPROF (V8's profiler uses it), and
 * those Deno already absorbs (SIGUSR1, SIGQUIT, SIGPIPE) or that only stop
 * or resume the process (SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT).
 *
 * @example
 * ```ts
 * const signal = await watchSignals(log); // "SIGTERM" once asked to stop
 * ```
 * @module
 */

import type { Logger } from "../log/logger.ts";

/** Signals that start a graceful shutdown. */
export const SHUTDOWN_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGPWR", "SIGXCPU"];

/** Signals that are ignored (and logged). */
export const IGNORED_SIGNALS: readonly Deno.Signal[] = [
  "SIGHUP",
  "SIGUSR2",
  "SIGALRM",
  "SIGVTALRM",
  "SIGIO",
  "SIGSTKFLT",
  "SIGXFSZ",
];

/** An ignored signal is logged at most this often (a flood stays one line a second). */
const IGNORED_LOG_INTERVAL_MS = 1000;

/**
 * Installs the handlers; resolves with the first shutdown signal's name.
 * A signal this platform does not have is skipped.
 *
 * @example
 * ```ts
 * const stopped = watchSignals(log);
 * log.info("shutting down", { signal: await stopped });
 * ```
 */
export function watchSignals(log: Logger): Promise<Deno.Signal> {
  let loggedMs = 0;
  let unlogged = 0;
  for (const signal of IGNORED_SIGNALS) {
    listen(signal, () => {
      const now = Date.now();
      unlogged++;
      if (now - loggedMs < IGNORED_LOG_INTERVAL_MS) return;
      log.warn("signal ignored", { signal, count: unlogged });
      loggedMs = now;
      unlogged = 0;
    });
  }
  return new Promise((resolve) => {
    for (const signal of SHUTDOWN_SIGNALS) listen(signal, () => resolve(signal));
  });
}

function listen(signal: Deno.Signal, handler: () => void): void {
  try {
    Deno.addSignalListener(signal, handler);
  } catch (e) {
    // Not a signal of this platform (SIGPWR, SIGSTKFLT off Linux).
    if (!(e instanceof TypeError)) throw e;
  }
}
