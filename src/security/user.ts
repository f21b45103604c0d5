/**
 * An ACL user (Redis 7.0's `user`): on/off, passwords (SHA-256 only),
 * nopass, and its selectors (the root one first). Rules apply one at a
 * time as ACL SETUSER and the ACL file give them.
 *
 * @example
 * ```ts
 * const u = new User("app");
 * u.apply("on"); u.apply(">secret"); u.apply("+get"); u.apply("~app:*");
 * u.describe(); // "on #2bb8... ~app:* resetchannels -@all +get"
 * ```
 * @module
 */

import { hashPassword, isPasswordHash } from "./password.ts";
import { type RuleError, Selector } from "./selector.ts";

/** Redis's user flags, in the order it shows them. */
const FLAG_NAMES = ["on", "off", "nopass", "skip-sanitize-payload", "sanitize-payload"] as const;
type FlagName = typeof FLAG_NAMES[number];

/**
 * One user.
 *
 * @example
 * ```ts
 * const u = new User("app");
 * u.apply("on"); u.refresh();
 * ```
 */
export class User {
  #flags = new Set<FlagName>(["off"]);
  /** SHA-256 hex of each password, in the order added. */
  passwords: string[] = [];
  /** The root selector first, then the `(...)` ones. */
  selectors: Selector[] = [new Selector(true)];
  /**
   * Every command, key and channel is permitted (the root selector has
   * allcommands, allkeys and allchannels): dispatch skips the checks.
   */
  unrestricted = false;

  constructor(readonly name: string) {}

  /** `on`: the user may authenticate. */
  get enabled(): boolean {
    return this.#flags.has("on");
  }

  /** `nopass`: any password authenticates it. */
  get nopass(): boolean {
    return this.#flags.has("nopass");
  }

  /** The flags, in Redis's order (GETUSER's `flags`). */
  flags(): string[] {
    return FLAG_NAMES.filter((f) => this.#flags.has(f));
  }

  get root(): Selector {
    return this.selectors[0];
  }

  /** A copy with the same rules (SETUSER stages changes on one). */
  copy(name = this.name): User {
    const u = new User(name);
    u.copyFrom(this);
    return u;
  }

  /** Takes `other`'s rules, keeping this name (Redis's `ACLCopyUser`). */
  copyFrom(other: User): void {
    this.#flags = new Set(other.#flags);
    this.passwords = [...other.passwords];
    this.selectors = other.selectors.map((s) => s.copy());
    this.refresh();
  }

  /** Recomputes {@link unrestricted} after a change. */
  refresh(): void {
    const root = this.root;
    this.unrestricted = root.allCommands && root.allKeys && root.allChannels;
  }

  /**
   * Applies one rule (Redis's `ACLSetUser`); returns why it is refused,
   * or undefined. Call {@link refresh} after a series.
   */
  apply(op: string): RuleError | undefined {
    if (op.length === 0) return undefined;
    const lower = op.toLowerCase();
    switch (lower) {
      case "on":
        this.#flags.add("on");
        this.#flags.delete("off");
        return undefined;
      case "off":
        this.#flags.add("off");
        this.#flags.delete("on");
        return undefined;
      case "skip-sanitize-payload":
        this.#flags.add("skip-sanitize-payload");
        this.#flags.delete("sanitize-payload");
        return undefined;
      case "sanitize-payload":
        this.#flags.delete("skip-sanitize-payload");
        this.#flags.add("sanitize-payload");
        return undefined;
      case "nopass":
        this.#flags.add("nopass");
        this.passwords = [];
        return undefined;
      case "resetpass":
        this.#flags.delete("nopass");
        this.passwords = [];
        return undefined;
      case "clearselectors":
        this.selectors.length = 1;
        return undefined;
      case "reset":
        for (
          const rule of [
            "resetpass",
            "resetkeys",
            "resetchannels",
            "off",
            "sanitize-payload",
            "clearselectors",
            "-@all",
          ]
        ) this.apply(rule);
        return undefined;
    }
    const first = op[0];
    if (first === ">" || first === "#") {
      let hash: string;
      if (first === ">") hash = hashPassword(op.slice(1));
      else {
        hash = op.slice(1);
        if (!isPasswordHash(hash)) return "EBADMSG";
      }
      if (!this.passwords.includes(hash)) this.passwords.push(hash);
      this.#flags.delete("nopass");
      return undefined;
    }
    if (first === "<" || first === "!") {
      let hash: string;
      if (first === "<") hash = hashPassword(op.slice(1));
      else {
        hash = op.slice(1);
        if (!isPasswordHash(hash)) return "EBADMSG";
      }
      const at = this.passwords.indexOf(hash);
      if (at < 0) return "ENODEV";
      this.passwords.splice(at, 1);
      return undefined;
    }
    if (first === "(" && op[op.length - 1] === ")") {
      const selector = new Selector(false);
      for (const rule of splitArgs(op.slice(1, -1))) {
        const refused = selector.apply(rule);
        if (refused !== undefined) return refused;
      }
      this.selectors.push(selector);
      return undefined;
    }
    return this.root.apply(op);
  }

  /** Redis's `ACLDescribeUser`: what ACL LIST and the ACL file hold after `user <name> `. */
  describe(): string {
    let out = "";
    for (const flag of this.flags()) out += flag + " ";
    for (const hash of this.passwords) out += `#${hash} `;
    for (const selector of this.selectors) {
      out += selector.root ? selector.describe() : ` (${selector.describe()})`;
    }
    return out;
  }
}

/**
 * Joins a selector given over several arguments (`(+get`, `~k)`) into one,
 * as Redis's `ACLMergeSelectorArguments`; a selector left open returns the
 * index of the argument that opened it.
 *
 * @example
 * ```ts
 * mergeSelectorArguments(["on", "(+get", "~k)"]); // ["on", "(+get ~k)"]
 * ```
 */
export function mergeSelectorArguments(args: readonly string[]): string[] | number {
  const out: string[] = [];
  let open = -1;
  let selector = "";
  for (let j = 0; j < args.length; j++) {
    const op = args[j];
    if (op[0] === "(" && op[op.length - 1] !== ")") {
      selector = op;
      open = j;
      continue;
    }
    if (open !== -1) {
      selector += " " + op;
      if (op[op.length - 1] === ")") {
        open = -1;
        out.push(selector);
      }
      continue;
    }
    out.push(op);
  }
  return open === -1 ? out : open;
}

/** Blank-separated words (a selector's rules; Redis's `sdssplitargs` without quotes). */
function splitArgs(text: string): string[] {
  return text.split(/[ \t\r\n]+/).filter((w) => w !== "");
}
