/**
 * kvdb: an in-memory key-value database server.
 *
 *     kvdb server --config configs/master.yaml
 *     kvdb client --address 127.0.0.1:3223
 *     kvdb cli    --config configs/config.yaml
 *
 * This file only dispatches subcommands.
 *
 * @module
 */

import { cliMain } from "./src/cmd/cli.ts";
import { clientMain } from "./src/cmd/client.ts";
import { EXIT_USAGE } from "./src/cmd/_flags.ts";
import { serverMain } from "./src/cmd/server.ts";
import { walMain } from "./src/cmd/wal.ts";

const USAGE = `usage: kvdb <command> [flags]

commands:
  server   run the database server      (kvdb server --config FILE)
  client   talk to a server              (kvdb client --address HOST:PORT)
  cli      run the engine in-process     (kvdb cli --config FILE)
  wal      check or repair a WAL         (kvdb wal check --dir DIR)

Run 'kvdb <command> --help' for its flags.`;

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  server: serverMain,
  client: clientMain,
  cli: cliMain,
  wal: walMain,
};

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const run = SUBCOMMANDS[name];
  if (run === undefined) {
    console.error(`kvdb: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  return await run(rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
