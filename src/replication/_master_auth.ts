/**
 * How a replica logs in to its master before `REPLSYNC`
 * (`replication.masterauth` / `masteruser`): the `AUTH` request line, and
 * which replies are the master refusing it.
 *
 * The line quotes every byte as `\xHH` inside double quotes, which both of
 * the master's request parsers read (the text protocol, and RESP's inline
 * commands), so a password may hold blanks, quotes or any other byte.
 *
 * @example
 * ```ts
 * authLine({ user: "", password: "a b" }); // 'AUTH "\\x61\\x20\\x62"\n'
 * isAuthRefusal("ERROR: Authentication required."); // true
 * ```
 * @module
 */

import { binaryToBytes } from "../bytes/binary_string.ts";
import { noAuth, wrongPass } from "../security/acl_commands.ts";

/** What a replica logs in to its master with. */
export interface MasterCredentials {
  /** The ACL user ("" for `default`: `AUTH <password>`). */
  user: string;
  password: string;
}

/** Error codes with which a master refuses a login or a `REPLSYNC` for lack of one (RESP). */
const REFUSALS: ReadonlySet<string> = new Set(["NOAUTH", "WRONGPASS", "NOPERM"]);
/** The same refusals' text-protocol wording, which carries no code. */
const TEXT_REFUSALS: readonly string[] = [
  noAuth().text,
  wrongPass().text,
  "this user has no permissions to run",
];

function quoted(value: string): string {
  // As the master's own requirepass: one byte per char (a binary string).
  let out = '"';
  for (const byte of binaryToBytes(value)) out += `\\x${byte.toString(16).padStart(2, "0")}`;
  return `${out}"`;
}

/**
 * The `AUTH` request a replica sends first, newline-terminated.
 *
 * @example
 * ```ts
 * authLine({ user: "repl", password: "pw" }); // 'AUTH "\\x72\\x65\\x70\\x6c" "\\x70\\x77"\n'
 * ```
 */
export function authLine(credentials: MasterCredentials): string {
  const user = credentials.user === "" ? "" : ` ${quoted(credentials.user)}`;
  return `AUTH${user} ${quoted(credentials.password)}\n`;
}

/**
 * Whether a reply line accepts the login: `+OK` (RESP) or `OK` (text).
 *
 * @example
 * ```ts
 * authAccepted("+OK"); // true
 * ```
 */
export function authAccepted(line: string): boolean {
  return line === "+OK" || line === "OK";
}

/**
 * Whether a reply line (to `AUTH`, or to `REPLSYNC`) is the master refusing
 * this replica's credentials or their absence: `-NOAUTH`, `-WRONGPASS`,
 * `-NOPERM` (RESP), or their wording after `ERROR: ` (text).
 *
 * @example
 * ```ts
 * isAuthRefusal("-NOAUTH Authentication required."); // true
 * ```
 */
export function isAuthRefusal(line: string): boolean {
  if (line.startsWith("-")) return REFUSALS.has(line.slice(1).split(" ", 1)[0]);
  if (!line.startsWith("ERROR: ")) return false;
  const text = line.slice("ERROR: ".length);
  return TEXT_REFUSALS.some((refusal) => text.startsWith(refusal));
}

/**
 * Whether a reply line is an error (RESP `-...`, text `ERROR: ...`): the
 * master's answer to an `AUTH` it refused, whatever the reason.
 *
 * @example
 * ```ts
 * isErrorReply("ERROR: invalid username-password pair or user is disabled."); // true
 * ```
 */
export function isErrorReply(line: string): boolean {
  return line.startsWith("-") || line.startsWith("ERROR: ");
}
