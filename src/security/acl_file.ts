/**
 * Redis's ACL file format: one `user <name> <rules...>` line per user, as
 * ACL LIST shows them; blank lines allowed, nothing else (comments would
 * be lost when ACL SAVE rewrites it). Parsing validates every line and
 * returns all errors in one line, in Redis's words, so a bad file changes
 * nothing.
 *
 * @example
 * ```ts
 * const users = parseAclFile("user app on >pw ~app:* +get\n", "users.acl");
 * renderAclFile([...(users as Map<string, User>).values()]);
 * ```
 * @module
 */

import { ruleErrorMessage } from "./selector.ts";
import { hasSpaces } from "./selector.ts";
import { mergeSelectorArguments, User } from "./user.ts";

/** Most bytes of an ACL file read (a bound on what a bad path can load). */
export const ACL_FILE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The users of an ACL file's text, or the errors (Redis's
 * `ACLLoadFromFile` messages, ending with its WARNING).
 *
 * @example
 * ```ts
 * parseAclFile("user app on nopass +get\n", "users.acl"); // Map { "app" => User }
 * ```
 */
export function parseAclFile(text: string, filename: string): Map<string, User> | string {
  if (text.length > ACL_FILE_MAX_BYTES) {
    return `${filename}: ACL file larger than ${ACL_FILE_MAX_BYTES} bytes`;
  }
  const users = new Map<string, User>();
  let errors = "";
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
    const lineNumber = i + 1;
    if (line === "") continue;
    const argv = line.split(" ").filter((w) => w !== "");
    if (argv.length === 0) continue;
    if (argv[0] !== "user" || argv.length < 2) {
      errors +=
        `${filename}:${lineNumber} should start with user keyword followed by the username. `;
      continue;
    }
    const name = argv[1];
    if (hasSpaces(name)) {
      errors += `'${filename}:${lineNumber}: username '${name}' contains invalid characters. `;
      continue;
    }
    if (users.has(name)) {
      errors += `WARNING: Duplicate user '${name}' found on line ${lineNumber}. `;
      continue;
    }
    const u = new User(name);
    users.set(name, u);
    const merged = mergeSelectorArguments(argv.slice(2));
    if (typeof merged === "number") {
      errors += `${filename}:${lineNumber}: Unmatched parenthesis in selector definition.`;
      continue;
    }
    for (const rule of merged) {
      const refused = u.apply(rule.replace(/^[\t\r\n]+|[\t\r\n]+$/g, ""));
      if (refused !== undefined) {
        errors += `${filename}:${lineNumber}: ${ruleErrorMessage(refused)}. `;
      }
    }
    u.refresh();
  }
  if (errors !== "") {
    return errors +
      "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";
  }
  return users;
}

/**
 * The file's text for `users` (in the order given), one line each.
 *
 * @example
 * ```ts
 * renderAclFile([acl.defaultUser]); // "user default on nopass ~* &* +@all\n"
 * ```
 */
export function renderAclFile(users: readonly User[]): string {
  return users.map((u) => `user ${u.name} ${u.describe()}\n`).join("");
}
