/**
 * An ACL selector (Redis 7.0's `aclSelector`): which commands (a bitmap
 * over {@link ACL_COMMANDS}, plus allowed first arguments), which keys
 * (patterns, each for reading, writing or both) and which channels it
 * permits. A user has a root selector and any number of `(...)` ones; a
 * command runs if one of them permits it.
 *
 * @example
 * ```ts
 * const s = new Selector(true);
 * s.apply("+get"); s.apply("~k*");
 * s.describe(); // "~k* resetchannels -@all +get"
 * ```
 * @module
 */

import {
  ACL_CATEGORIES,
  ACL_COMMAND_BITS,
  ACL_COMMANDS,
  ACL_TOP_COMMANDS,
  type AclCommand,
  aclCommand,
  categoryIndex,
  FUTURE_COMMANDS_BIT,
} from "./categories.ts";

/** A key pattern's permission bits. */
export const KEY_READ = 1;
export const KEY_WRITE = 2;
export const KEY_ALL = KEY_READ | KEY_WRITE;

/** Why a rule was refused: Redis's errno, which picks its message ({@link ruleErrorMessage}). */
export type RuleError = "EINVAL" | "ENOENT" | "EEXIST" | "EISDIR" | "ENODEV" | "EBADMSG" | "ECHILD";

/**
 * Redis's `ACLSetUserStringError` text for a {@link RuleError}.
 *
 * @example
 * ```ts
 * ruleErrorMessage("ENOENT"); // "Unknown command or category name in ACL"
 * ```
 */
export function ruleErrorMessage(error: RuleError): string {
  switch (error) {
    case "ENOENT":
      return "Unknown command or category name in ACL";
    case "EINVAL":
      return "Syntax error";
    case "EEXIST":
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    case "EISDIR":
      return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
    case "ENODEV":
      return "The password you are trying to remove from the user does not exist";
    case "EBADMSG":
      return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    case "ECHILD":
      return "Allowing first-arg of a subcommand is not supported";
  }
}

/** A key pattern and what it permits. */
export interface KeyPattern {
  readonly pattern: string;
  flags: number;
}

/**
 * Redis's `isspace` or NUL: refused in patterns and user names.
 *
 * @example
 * ```ts
 * hasSpaces("a b"); // true
 * ```
 */
export function hasSpaces(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // C's isspace: blank, \t \n \v \f \r; and NUL.
    if (c === 0 || c === 0x20 || (c >= 0x09 && c <= 0x0d)) return true;
  }
  return false;
}

/**
 * One selector.
 *
 * @example
 * ```ts
 * const s = new Selector(false);
 * s.apply("+@read"); // undefined: applied
 * ```
 */
export class Selector {
  /** A bit per command id, and {@link FUTURE_COMMANDS_BIT}. */
  allowed = new Uint8Array(ACL_COMMAND_BITS);
  /** `allcommands`/`+@all` and no command removed since. */
  allCommands = false;
  allKeys = false;
  allChannels = false;
  keys: KeyPattern[] = [];
  channels: string[] = [];
  /** Per command id, first arguments allowed while the command itself is not (`+select|0`). */
  firstArgs: Map<number, string[]> | undefined = undefined;

  constructor(readonly root: boolean) {}

  /** A copy (SETUSER works on one, so a refused rule changes nothing). */
  copy(): Selector {
    const s = new Selector(this.root);
    s.allowed = this.allowed.slice();
    s.allCommands = this.allCommands;
    s.allKeys = this.allKeys;
    s.allChannels = this.allChannels;
    s.keys = this.keys.map((k) => ({ pattern: k.pattern, flags: k.flags }));
    s.channels = [...this.channels];
    if (this.firstArgs !== undefined) {
      s.firstArgs = new Map([...this.firstArgs].map(([id, args]) => [id, [...args]]));
    }
    return s;
  }

  #setBit(id: number, on: boolean): void {
    this.allowed[id] = on ? 1 : 0;
    if (!on) this.allCommands = false;
  }

  /** Redis's `ACLChangeSelectorPerm`: a container takes its subcommands along. */
  #change(command: AclCommand, on: boolean): void {
    this.#setBit(command.id, on);
    this.firstArgs?.delete(command.id);
    for (const sub of command.subcommands) this.#setBit(sub.id, on);
  }

  #category(index: number, on: boolean): void {
    const bit = 1 << index;
    for (const command of ACL_COMMANDS) {
      if ((command.categories & bit) !== 0) this.#change(command, on);
    }
  }

  /**
   * Applies one selector rule (Redis's `ACLSetSelector`); returns why it
   * is refused, or undefined.
   */
  apply(op: string): RuleError | undefined {
    const lower = op.toLowerCase();
    if (lower === "allkeys" || op === "~*") {
      this.allKeys = true;
      this.keys = [];
    } else if (lower === "resetkeys") {
      this.allKeys = false;
      this.keys = [];
    } else if (lower === "allchannels" || op === "&*") {
      this.allChannels = true;
      this.channels = [];
    } else if (lower === "resetchannels") {
      this.allChannels = false;
      this.channels = [];
    } else if (lower === "allcommands" || lower === "+@all") {
      this.allowed.fill(1);
      this.allCommands = true;
      this.firstArgs = undefined;
    } else if (lower === "nocommands" || lower === "-@all") {
      this.allowed.fill(0);
      this.allCommands = false;
      this.firstArgs = undefined;
    } else if (op[0] === "~" || op[0] === "%") {
      return this.#addKeyPattern(op);
    } else if (op[0] === "&") {
      if (this.allChannels) return "EISDIR";
      const pattern = op.slice(1);
      if (hasSpaces(pattern)) return "EINVAL";
      if (!this.channels.includes(pattern)) this.channels.push(pattern);
      this.allChannels = false;
    } else if (op[0] === "+" && op[1] !== "@") {
      return this.#allowCommand(op.slice(1));
    } else if (op[0] === "-" && op[1] !== "@") {
      const command = aclCommand(op.slice(1));
      if (command === undefined) return "ENOENT";
      this.#change(command, false);
    } else if ((op[0] === "+" || op[0] === "-") && op[1] === "@") {
      const index = categoryIndex(op.slice(2));
      if (index < 0) return "ENOENT";
      this.#category(index, op[0] === "+");
    } else {
      return "EINVAL";
    }
    return undefined;
  }

  #addKeyPattern(op: string): RuleError | undefined {
    if (this.allKeys) return "EEXIST";
    let flags = 0;
    let offset = 1;
    if (op[0] === "%") {
      for (; offset < op.length; offset++) {
        const c = op[offset].toUpperCase();
        if (c === "R" && (flags & KEY_READ) === 0) flags |= KEY_READ;
        else if (c === "W" && (flags & KEY_WRITE) === 0) flags |= KEY_WRITE;
        else if (op[offset] === "~") {
          offset++;
          break;
        } else return "EINVAL";
      }
    } else {
      flags = KEY_ALL;
    }
    const pattern = op.slice(offset);
    if (hasSpaces(pattern)) return "EINVAL";
    const existing = this.keys.find((k) => k.pattern === pattern);
    if (existing === undefined) this.keys.push({ pattern, flags });
    else existing.flags |= flags;
    this.allKeys = false;
    return undefined;
  }

  #allowCommand(name: string): RuleError | undefined {
    const bar = name.lastIndexOf("|");
    if (bar < 0) {
      const command = aclCommand(name);
      if (command === undefined) return "ENOENT";
      this.#change(command, true);
      return undefined;
    }
    const command = aclCommand(name.slice(0, bar));
    const first = name.slice(bar + 1);
    if (command === undefined) return "ENOENT";
    if (command.parent !== undefined) return "ECHILD";
    if (first.length === 0) return "EINVAL";
    if (command.subcommands.length > 0) {
      const sub = aclCommand(name);
      if (sub === undefined) return "ENOENT";
      this.#change(sub, true);
      return undefined;
    }
    this.firstArgs ??= new Map();
    const list = this.firstArgs.get(command.id) ?? [];
    if (!list.some((a) => a.toLowerCase() === first.toLowerCase())) list.push(first);
    this.firstArgs.set(command.id, list);
    return undefined;
  }

  /** Commands allowed (on) and not (off) in category `index`. */
  #count(index: number): { on: number; off: number } {
    const bit = 1 << index;
    let on = 0;
    let off = 0;
    for (const command of ACL_COMMANDS) {
      if ((command.categories & bit) === 0) continue;
      if (this.allowed[command.id]) on++;
      else off++;
    }
    return { on, off };
  }

  /**
   * The command rules that rebuild this bitmap, as Redis 7.0 derives them
   * (`ACLDescribeSelectorCommandRules`): `+@all` or `-@all`, the
   * categories that fit best, then single commands.
   */
  describeCommands(): string {
    const additive = this.allowed[FUTURE_COMMANDS_BIT] === 0;
    const rules: string[] = [additive ? "-@all" : "+@all"];
    const fake = new Selector(false);
    fake.apply(rules[0]);
    const temp = new Selector(false);
    temp.allowed = this.allowed.slice();
    const applied = new Array(ACL_CATEGORIES.length).fill(false);
    for (;;) {
      let best = -1;
      let minDiff = Number.MAX_SAFE_INTEGER;
      let maxSame = 0;
      for (let j = 0; j < ACL_CATEGORIES.length; j++) {
        if (applied[j]) continue;
        const { on, off } = temp.#count(j);
        const diff = additive ? off : on;
        const same = additive ? on : off;
        if (same > diff && (diff < minDiff || (diff === minDiff && same > maxSame))) {
          best = j;
          minDiff = diff;
          maxSame = same;
        }
      }
      if (best === -1) break;
      const name = ACL_CATEGORIES[best];
      fake.apply(`${additive ? "+" : "-"}@${name}`);
      temp.apply(`${additive ? "-" : "+"}@${name}`);
      rules.push(`${additive ? "+" : "-"}@${name}`);
      applied[best] = true;
    }
    this.#singleCommands(ACL_TOP_COMMANDS, fake, rules);
    return rules.join(" ");
  }

  #singleCommands(commands: readonly AclCommand[], fake: Selector, rules: string[]): void {
    for (const command of commands) {
      const mine = this.allowed[command.id] === 1;
      const theirs = fake.allowed[command.id] === 1;
      if (mine !== theirs) {
        rules.push(`${mine ? "+" : "-"}${command.fullName}`);
        fake.#change(command, mine);
      }
      if (command.subcommands.length > 0) this.#singleCommands(command.subcommands, fake, rules);
      const firsts = this.firstArgs?.get(command.id);
      if (!mine && firsts !== undefined) {
        for (const first of firsts) rules.push(`+${command.fullName}|${first}`);
      }
    }
  }

  /** The key patterns as GETUSER shows them (`~a %R~b`). */
  describeKeys(): string {
    if (this.allKeys) return "~*";
    return this.keys.map(patternText).join(" ");
  }

  /** The channel patterns as GETUSER shows them (`&a &b`). */
  describeChannels(): string {
    if (this.allChannels) return "&*";
    return this.channels.map((c) => `&${c}`).join(" ");
  }

  /** Redis's `ACLDescribeSelector`: keys, channels, commands, as ACL LIST writes them. */
  describe(): string {
    let out = "";
    if (this.allKeys) out += "~* ";
    else for (const k of this.keys) out += patternText(k) + " ";
    if (this.allChannels) out += "&* ";
    else {
      out += "resetchannels ";
      for (const c of this.channels) out += `&${c} `;
    }
    return out + this.describeCommands();
  }
}

function patternText(k: KeyPattern): string {
  const prefix = k.flags === KEY_ALL ? "~" : k.flags === KEY_READ ? "%R~" : "%W~";
  return prefix + k.pattern;
}
