/**
 * The error replies the executor sends, each in Redis's words and the text
 * protocol's (the original kvdb's, which its users know).
 *
 * @example
 * ```ts
 * w.error(wrongArity("get"));
 * ```
 * @module
 */

import { textToBinary } from "../bytes/binary_string.ts";
import { CommandError } from "../protocol/reply_writer.ts";
import { renderTextArgument } from "../protocol/text_quote.ts";

const MAX_ECHOED_CHARS = 64;

/** A user-supplied name, shortened and quoted so it prints safely. */
function shown(name: string): string {
  const cut = name.length > MAX_ECHOED_CHARS ? name.slice(0, MAX_ECHOED_CHARS) + "..." : name;
  return renderTextArgument(cut);
}

/**
 * An empty request line.
 *
 * @example
 * ```ts
 * emptyCommand().text; // "empty command"
 * ```
 */
export function emptyCommand(): CommandError {
  return new CommandError("ERR", "empty command", "empty command");
}

/**
 * A command name not in the table.
 *
 * @example
 * ```ts
 * unknownCommand("FOO", ["x"]).message; // "unknown command 'FOO', with args beginning with: 'x' "
 * ```
 */
export function unknownCommand(name: string, args: readonly string[] = []): CommandError {
  let beginning = "";
  for (const arg of args.slice(0, 8)) beginning += `'${shown(arg)}' `;
  return new CommandError(
    "ERR",
    `unknown command '${shown(name)}', with args beginning with: ${beginning}`,
    `invalid command '${shown(name)}'`,
  );
}

/**
 * A request with the wrong number of arguments for its command.
 *
 * @example
 * ```ts
 * wrongArity("set").message; // "wrong number of arguments for 'set' command"
 * ```
 */
export function wrongArity(name: string): CommandError {
  return new CommandError(
    "ERR",
    `wrong number of arguments for '${name}' command`,
    `invalid number of arguments for '${name}' command`,
  );
}

/**
 * A write sent to a read-only replica.
 *
 * @example
 * ```ts
 * readOnlyReplica().code; // "READONLY"
 * ```
 */
export function readOnlyReplica(): CommandError {
  return new CommandError(
    "READONLY",
    "You can't write against a read only replica.",
    "write operations not allowed on slave replica",
  );
}

/**
 * A write the log could not make durable (its reply must not say OK).
 *
 * @example
 * ```ts
 * writeFailed("disk full").text; // "write failed, not durable: disk full"
 * ```
 */
export function writeFailed(cause: string): CommandError {
  // Replies are binary strings; an OS message may hold any Unicode.
  const reason = textToBinary(cause);
  return new CommandError(
    "ERR",
    `write failed, not durable: ${reason}`,
    `write failed, not durable: ${reason}`,
  );
}

/**
 * A failure inside a command that is not the client's fault.
 *
 * @example
 * ```ts
 * internalError("bug").text; // "internal error: bug"
 * ```
 */
export function internalError(cause: string): CommandError {
  const reason = textToBinary(cause);
  return new CommandError(
    "ERR",
    `internal error: ${reason}`,
    `internal error: ${reason}`,
  );
}

/**
 * A write whose fate the log cannot tell (it failed and could not be cut
 * back): the next start's recovery decides.
 *
 * @example
 * ```ts
 * writeOutcomeUnknown("EIO").text; // "write outcome unknown (not acknowledged): EIO"
 * ```
 */
export function writeOutcomeUnknown(cause: string): CommandError {
  const reason = textToBinary(cause);
  const message = `write outcome unknown (not acknowledged): ${reason}`;
  return new CommandError("ERR", message, message);
}

/**
 * Commands refused while the keyspace is rebuilt from disk, in Redis's
 * code (clients retry on `LOADING`).
 *
 * @example
 * ```ts
 * loadingDataset().code; // "LOADING"
 * ```
 */
export function loadingDataset(): CommandError {
  return new CommandError(
    "LOADING",
    "kvdb is loading the dataset in memory",
    "kvdb is loading the dataset in memory",
  );
}

/** min-replicas-to-write refused a write: too few replicas acknowledged recently. */
export function noReplicas(): CommandError {
  return new CommandError(
    "NOREPLICAS",
    "Not enough good replicas to write.",
    "Not enough good replicas to write.",
  );
}

/** A replica that may hold writes its master never had serves no data until it caught up. */
export function masterDown(): CommandError {
  const text = "Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
  return new CommandError("MASTERDOWN", text, text);
}

/**
 * A command met a key holding another type (see `types/collection.ts`'s
 * `WrongTypeError`, which the storage layer throws).
 *
 * @example
 * ```ts
 * wrongType().code; // "WRONGTYPE"
 * ```
 */
export function wrongType(): CommandError {
  const message = "Operation against a key holding the wrong kind of value";
  return new CommandError("WRONGTYPE", message, message);
}
