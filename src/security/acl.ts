/**
 * The server's users (Redis 7.0's ACL state): the default user — whose
 * password `requirepass` sets — and those ACL SETUSER or the ACL file
 * define; authentication; the ACL log. A user is one object for its whole
 * life, so a change reaches the connections authenticated as it at once.
 *
 * @example
 * ```ts
 * const acl = new Acl({ requirepass: "secret", aclFile: "" });
 * acl.authenticate("default", "secret") === acl.defaultUser; // true
 * ```
 * @module
 */

import { AclLog } from "./acl_log.ts";
import { parseAclFile, renderAclFile } from "./acl_file.ts";
import { hashPassword, passwordMatches } from "./password.ts";
import { ruleErrorMessage } from "./selector.ts";
import { hasSpaces } from "./selector.ts";
import { mergeSelectorArguments, User } from "./user.ts";

/** What the ACL state starts from (the `security` config). */
export interface AclOptions {
  /** The default user's password; "" for none (nopass). */
  requirepass: string;
  /** `security.acl_file`; "" for none. */
  aclFile: string;
}

/** Redis's default user: every command, key and channel, no password. */
function defaultUser(): User {
  const u = new User("default");
  for (const rule of ["+@all", "~*", "&*", "on", "nopass"]) u.apply(rule);
  u.refresh();
  return u;
}

/**
 * The users and the log.
 *
 * @example
 * ```ts
 * const acl = new Acl({ requirepass: "", aclFile: "" });
 * acl.setUser("app", ["on", ">pw", "~app:*", "+@read"]);
 * ```
 */
export class Acl {
  readonly users = new Map<string, User>();
  readonly defaultUser: User = defaultUser();
  readonly log = new AclLog();
  aclFile: string;

  constructor(options: AclOptions) {
    this.users.set("default", this.defaultUser);
    this.aclFile = options.aclFile;
    if (options.requirepass !== "") this.setRequirePass(options.requirepass);
    if (this.aclFile !== "") {
      const errors = this.loadFile(Deno.readTextFileSync(this.aclFile));
      if (errors !== undefined) throw new Error(errors);
    }
  }

  /**
   * Whether a new connection must authenticate first: the default user
   * needs a password, or is off (Redis's `authRequired`).
   */
  get authRequired(): boolean {
    return !this.defaultUser.nopass || !this.defaultUser.enabled;
  }

  /** `requirepass`: the default user's only password ("" makes it nopass). */
  setRequirePass(password: string): void {
    const u = this.defaultUser;
    u.apply("resetpass");
    u.apply(password === "" ? "nopass" : `>${password}`);
    u.refresh();
  }

  /** The user `name` authenticates as with `password`, or undefined. */
  authenticate(name: string, password: string): User | undefined {
    const u = this.users.get(name);
    // Hashed even when no such user exists, so timing does not tell.
    const given = hashPassword(password);
    if (u === undefined || !u.enabled) return undefined;
    if (u.nopass) return u;
    let ok = false;
    for (const stored of u.passwords) ok = passwordMatches(stored, given) || ok;
    return ok ? u : undefined;
  }

  /** Users in name order (byte order, as Redis's radix tree). */
  sortedUsers(): User[] {
    return [...this.users.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  /**
   * ACL SETUSER: applies every rule to a copy, then (all valid) to the
   * user itself; returns the error text, or the user.
   */
  setUser(name: string, rules: readonly string[]): User | string {
    if (hasSpaces(name)) return "Usernames can't contain spaces or null characters";
    const merged = mergeSelectorArguments(rules);
    if (typeof merged === "number") {
      return `Unmatched parenthesis in acl selector starting at '${rules[merged]}'.`;
    }
    const existing = this.users.get(name);
    const staged = existing?.copy() ?? new User(name);
    for (const rule of merged) {
      const refused = staged.apply(rule);
      if (refused !== undefined) {
        return `Error in ACL SETUSER modifier '${rule}': ${ruleErrorMessage(refused)}`;
      }
    }
    staged.refresh();
    if (existing === undefined) {
      this.users.set(name, staged);
      return staged;
    }
    existing.copyFrom(staged);
    return existing;
  }

  /** Removes users (never "default"); returns those removed. */
  deleteUsers(names: readonly string[]): User[] {
    const removed: User[] = [];
    for (const name of names) {
      const u = this.users.get(name);
      if (u === undefined || u === this.defaultUser) continue;
      this.users.delete(name);
      removed.push(u);
    }
    return removed;
  }

  /**
   * Replaces the users with those of an ACL file's text (the default user
   * keeps its identity and takes the file's rules, or Redis's defaults);
   * on any error nothing changes and the errors are returned. Returns the
   * users that no longer exist as they were (their clients must go).
   */
  loadFile(text: string): string | undefined {
    const parsed = parseAclFile(text, this.aclFile);
    if (typeof parsed === "string") return parsed;
    const fresh = parsed.get("default") ?? defaultUser();
    this.users.clear();
    this.defaultUser.copyFrom(fresh);
    this.users.set("default", this.defaultUser);
    for (const [name, u] of parsed) if (name !== "default") this.users.set(name, u);
    return undefined;
  }

  /** The ACL file's text for the current users (ACL SAVE). */
  renderFile(): string {
    return renderAclFile(this.sortedUsers());
  }
}
