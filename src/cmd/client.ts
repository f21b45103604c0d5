/**
 * `kvdb client`: the REPL against a server over TCP, or one command given
 * on the command line.
 *
 * @example
 * ```ts
 * Deno.exit(await clientMain(["--address", "127.0.0.1:3223", "GET", "k"]));
 * ```
 * @module
 */

import { textToBinary } from "../bytes/binary_string.ts";
import { parseAddress } from "../config/config.ts";
import { RemoteSession, SessionError } from "../repl/remote_session.ts";
import { runOnce, runRepl } from "../repl/repl.ts";
import { DISPLAY_FLAGS, displayMode, EXIT_USAGE, parseFlags } from "./_flags.ts";

/** Usage of `kvdb client`. */
export const CLIENT_USAGE =
  `usage: kvdb client [--address HOST:PORT] [--raw|--no-raw] [COMMAND [ARG...]]

Connects to a kvdb server. With a COMMAND, runs it, prints the reply and
exits. Otherwise reads commands: with a prompt on a terminal (exit or quit
to leave), or line by line from piped input, printing each reply.

Replies are shown as redis-cli shows them (SET, GET and DEL: as the
original kvdb did): for a person when standard output is a terminal,
raw for scripts otherwise.

  -a, --address HOST:PORT   server address (default 127.0.0.1:3223)
      --raw                 raw replies even on a terminal
      --no-raw              replies for a person even when piped
  -h, --help                show this help`;

/**
 * Runs the client; resolves to the process exit code.
 *
 * @example
 * ```ts
 * await clientMain(["PING"]);
 * ```
 */
export async function clientMain(args: string[]): Promise<number> {
  const parsed = parseFlags(
    args,
    { address: { type: "string", short: "a", default: "127.0.0.1:3223" }, ...DISPLAY_FLAGS },
    CLIENT_USAGE,
    true,
  );
  if (typeof parsed === "number") return parsed;
  const display = displayMode(parsed, CLIENT_USAGE);
  if (typeof display === "number") return display;
  let address;
  try {
    address = parseAddress(parsed.values.address);
  } catch (e) {
    console.error(
      `kvdb: --address ${JSON.stringify(parsed.values.address)}: ${
        e instanceof Error ? e.message : e
      }`,
    );
    return EXIT_USAGE;
  }
  let session: RemoteSession;
  try {
    session = await RemoteSession.connect(address);
  } catch (e) {
    if (!(e instanceof SessionError)) throw e;
    console.error(`kvdb: ${e.message}`);
    return 1;
  }
  if (parsed.positionals.length > 0) {
    const ok = await runOnce(session, [parsed.positionals.map(textToBinary)], display);
    await session.close();
    return ok ? 0 : 1;
  }
  return await runRepl(session, display);
}
