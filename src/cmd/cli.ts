/**
 * `kvdb cli`: the same REPL as `kvdb client`, on an engine in this process
 * built from a config file (with its WAL when enabled), without a network.
 *
 * @example
 * ```ts
 * Deno.exit(await cliMain(["--config", "configs/config.yaml"]));
 * ```
 * @module
 */

import { Executor } from "../executor/executor.ts";
import { standaloneServerState } from "../executor/standalone_state.ts";
import { Snapshotter } from "../snapshot/snapshotter.ts";
import { createLogger } from "../log/logger.ts";
import { LocalSession } from "../repl/local_session.ts";
import { runRepl } from "../repl/repl.ts";
import { openStore } from "../storage/open_store.ts";
import { DISPLAY_FLAGS, displayMode, loadConfigFlag, parseFlags } from "./_flags.ts";

/** Usage of `kvdb cli`. */
export const CLI_USAGE = `usage: kvdb cli [--config FILE] [--raw|--no-raw]

Runs the engine in this process (no server, no network) with the client's
REPL and display: a prompt on a terminal, or each reply in turn for piped
input. With the WAL enabled in the config, the session's writes are durable.

  -c, --config FILE   YAML config file (default: embedded defaults)
      --raw           raw replies even on a terminal
      --no-raw        replies for a person even when piped
  -h, --help          show this help`;

/**
 * Runs the local CLI; resolves to the process exit code.
 *
 * @example
 * ```ts
 * await cliMain([]);
 * ```
 */
export async function cliMain(args: string[]): Promise<number> {
  const parsed = parseFlags(
    args,
    { config: { type: "string", short: "c" }, ...DISPLAY_FLAGS },
    CLI_USAGE,
  );
  if (typeof parsed === "number") return parsed;
  const display = displayMode(parsed, CLI_USAGE);
  if (typeof display === "number") return display;
  const config = await loadConfigFlag(parsed.values.config as string | undefined);
  if (typeof config === "number") return config;
  // The REPL owns stdout; the engine's log lines go to stderr unless the
  // config names a file.
  const output = config.logging.output === "stdout" ? "stderr" : config.logging.output;
  const log = createLogger({ level: config.logging.level, output });
  let opened;
  try {
    opened = await openStore(config, log);
  } catch (e) {
    console.error(`kvdb: cannot open the store: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
  const { replication } = config;
  const readOnly = replication.enabled && replication.replicaType === "slave";
  // SAVE and BGSAVE work here too; automatic snapshots are the server's.
  const snapshotter = opened.wal
    ? new Snapshotter({
      store: opened.store,
      wal: opened.wal,
      thresholdBytes: Infinity,
      compact: true,
      replid: () => "",
      log,
    })
    : undefined;
  const executor = new Executor(opened.store, {
    readOnly,
    server: standaloneServerState(readOnly ? "slave" : "master", snapshotter),
  });
  const session = new LocalSession(
    executor,
    config.network.maxMessageBytes,
    async () => {
      await snapshotter?.settle();
      await opened.close();
      log.close();
    },
  );
  return await runRepl(session, display);
}
