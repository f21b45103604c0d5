/**
 * Load generators run on one core of their own (the machine's last), the
 * servers on the rest: `taskset -c <last> <command> ...`. The server is
 * left free (kvdb's V8 helper threads may use any core, as in production).
 *
 * Why: on this 2-core machine the scheduler sometimes put a server on the
 * generator's core and kept it there for a whole run, so a row's ratio
 * hung on where each process happened to land. Measured 2026-12-08,
 * EVALSHA of a one-GET script at pipeline 16, 50 clients, three runs of
 * fresh servers, five alternating rounds each (requests per second):
 *
 * - unpinned: redis-server 406-414k in one run, 274-289k in the next, and
 *   kvdb 254-377k: ratios 0.82-1.27 for the same build;
 * - generator pinned: redis-server 418-442k and kvdb 307-388k (the first
 *   round of a run lowest) in all three runs: 0.84-0.91, every round.
 *
 * Without `taskset` (util-linux) or with one core, commands run unpinned.
 *
 * @example
 * ```ts
 * const [command, args] = onClientCore("redis-benchmark", ["-t", "get"]);
 * new Deno.Command(command, { args });
 * ```
 * @module
 */

let core: number | null | undefined;

/** The core generators are pinned to, or null when they cannot be. */
function clientCore(): number | null {
  if (core !== undefined) return core;
  const cores = navigator.hardwareConcurrency;
  core = null;
  if (cores >= 2) {
    try {
      const probe = new Deno.Command("taskset", {
        args: ["-c", String(cores - 1), "true"],
        stdout: "null",
        stderr: "null",
      }).outputSync();
      if (probe.success) core = cores - 1;
    } catch {
      // No taskset: unpinned.
    }
  }
  return core;
}

/** `command args` as run on the generators' core (see the module comment). */
export function onClientCore(command: string, args: readonly string[]): [string, string[]] {
  const pinned = clientCore();
  if (pinned === null) return [command, [...args]];
  return ["taskset", ["-c", String(pinned), command, ...args]];
}

/** A line for the bench's header: where the generators ran. */
export function clientCoreNote(): string {
  const pinned = clientCore();
  return pinned === null
    ? "load generators unpinned (no taskset, or one core)"
    : `load generators pinned to core ${pinned} (taskset), servers unpinned`;
}
