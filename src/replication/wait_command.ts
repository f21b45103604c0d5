/**
 * WAIT numreplicas timeout: how many replicas have acknowledged the
 * client's writes. Replicas acknowledge only what is durable in their own
 * WAL; until WAIT can prompt them to (issue 15: WAIT and min-replicas), it
 * answers at once with the count that has acknowledged everything written
 * so far — 0 on a server without replicas, as Redis answers there.
 *
 * @example
 * ```ts
 * WAIT_COMMANDS[0].name; // "WAIT"
 * ```
 * @module
 */

import { CommandError } from "../protocol/reply_writer.ts";
import { type CommandHandler, notAnInteger, parseInt64 } from "../executor/command_spec.ts";

function error(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

/** WAIT. */
export const WAIT_COMMANDS: CommandHandler[] = [
  {
    name: "WAIT",
    summary: "How many replicas have acknowledged this client's writes (does not wait yet).",
    run(ctx, args, w) {
      if (ctx.server.role === "slave") {
        throw error(
          "WAIT cannot be used with replica instances. Please also note that since Redis 4.0 " +
            "if a replica is configured to be writable (which is not the default) writes to " +
            "replicas are just local and are not propagated.",
        );
      }
      if (parseInt64(args[1]) === undefined) throw notAnInteger();
      const timeout = parseInt64(args[2]);
      if (timeout === undefined) throw error("timeout is not an integer or out of range");
      if (timeout < 0n) throw error("timeout is negative");
      w.integer(0);
    },
  },
];
