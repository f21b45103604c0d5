/**
 * REPLICAOF (and its old name SLAVEOF) and WAIT, as Redis answers them.
 *
 * REPLICAOF replies at once (`+OK`, or `+OK Already connected to specified
 * master`) and the change runs right after, one at a time (see
 * `controller.ts`): it can run inside MULTI/EXEC, as Sentinel sends it.
 * WAIT counts the replicas that acknowledged, as durable in their own WAL,
 * everything logged before it, and waits for more until `timeout` ms
 * (0: for ever); inside EXEC it answers at once, as Redis does.
 *
 * @example
 * ```ts
 * REPLICATION_COMMANDS.map((c) => c.name); // ["REPLICAOF", "SLAVEOF", "WAIT"]
 * ```
 * @module
 */

import { CommandError, type ReplyWriter } from "../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  notAnInteger,
  parseInt64,
} from "../executor/command_spec.ts";
import { asciiLower } from "../executor/command_table.ts";

/** How often a waiting WAIT checks that its client is still there. */
const CLOSED_CHECK_MS = 1000;

function error(message: string): CommandError {
  return new CommandError("ERR", message, message);
}

function replicaOf(ctx: CommandContext, args: string[], w: ReplyWriter): void {
  const control = ctx.server.replication();
  if (control === undefined) {
    throw error("kvdb replicates through its WAL: start the server with wal.enabled: true");
  }
  if (asciiLower(args[1]) === "no" && asciiLower(args[2]) === "one") {
    control.replicaOf(undefined).catch(() => {});
    w.status("OK");
    return;
  }
  const port = parseInt64(args[2]);
  if (port === undefined || port < 0n || port > 65535n) throw error("Invalid master port");
  const master = { hostname: args[1], port: Number(port) };
  const current = control.masterAddress;
  if (current && current.hostname === master.hostname && current.port === master.port) {
    w.status("OK Already connected to specified master");
    return;
  }
  control.replicaOf(master).catch(() => {});
  w.status("OK");
}

/** REPLICAOF, SLAVEOF, WAIT. */
export const REPLICATION_COMMANDS: CommandHandler[] = [
  {
    name: "REPLICAOF",
    summary: "Follows a master (host port), or stops following and accepts writes (NO ONE).",
    run: replicaOf,
  },
  {
    name: "SLAVEOF",
    summary: "REPLICAOF's old name.",
    run: replicaOf,
  },
  {
    name: "WAIT",
    summary: "Waits until this many replicas hold every write logged so far; how many do.",
    run(ctx, args, w) {
      if (ctx.server.role === "slave") {
        throw error(
          "WAIT cannot be used with replica instances. Please also note that since Redis 4.0 " +
            "if a replica is configured to be writable (which is not the default) writes to " +
            "replicas are just local and are not propagated.",
        );
      }
      const wanted = parseInt64(args[1]);
      if (wanted === undefined) throw notAnInteger();
      const timeout = parseInt64(args[2]);
      if (timeout === undefined) throw error("timeout is not an integer or out of range");
      if (timeout < 0n) throw error("timeout is negative");
      const master = ctx.server.replication()?.master;
      const target = ctx.store.log?.lastLsn ?? 0;
      const count = () => master?.acknowledged(target) ?? 0;
      if (master === undefined || count() >= wanted || ctx.session.inExec) {
        w.integer(count());
        return;
      }
      const session = ctx.session;
      return new Promise<void>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const done = () => {
          stop();
          clearTimeout(timer);
          clearInterval(watch);
          w.integer(count());
          resolve();
        };
        const stop = master.onAck(() => {
          if (count() >= wanted || master.closed) done();
        });
        if (timeout > 0n) timer = setTimeout(done, Number(timeout));
        // A client that left while waiting (no timeout, no replica) must
        // not leave its wait behind for ever.
        const watch = setInterval(() => {
          if (session.client?.io.closed === true) done();
        }, CLOSED_CHECK_MS);
      });
    },
  },
];
