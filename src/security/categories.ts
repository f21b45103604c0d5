/**
 * Every command ACL rules can name — all of Redis 7.0's (so that rules and
 * their descriptions read as Redis's do, for commands kvdb does not serve
 * too) and kvdb's own — each with an id (its bit in a selector's bitmap)
 * and its ACL categories; and the categories in Redis's order.
 *
 * @example
 * ```ts
 * aclCommand("config|get")!.categories; // bits of @admin @slow @dangerous
 * ```
 * @module
 */

import { COMMAND_FACTS } from "../executor/command_facts.ts";
import type { CommandFacts } from "../executor/command_facts_types.ts";
import { KVDB_FACTS } from "../executor/kvdb_facts.ts";

/** Redis's categories, in its order (ACL CAT's, and the order rules are described in). */
export const ACL_CATEGORIES: readonly string[] = [
  "keyspace",
  "read",
  "write",
  "set",
  "sortedset",
  "list",
  "hash",
  "string",
  "bitmap",
  "hyperloglog",
  "geo",
  "stream",
  "pubsub",
  "admin",
  "fast",
  "slow",
  "blocking",
  "dangerous",
  "connection",
  "transaction",
  "scripting",
];

/** A command as ACL rules see it. */
export interface AclCommand {
  /** Its bit in a selector's bitmap. */
  readonly id: number;
  /** Lower-case full name: `get`, `config|get`. */
  readonly fullName: string;
  /** One bit per {@link ACL_CATEGORIES} index. */
  readonly categories: number;
  /** Its subcommands (a container), empty otherwise. */
  readonly subcommands: readonly AclCommand[];
  /** A subcommand's container. */
  readonly parent: AclCommand | undefined;
  /** Redis's `no_auth` flag (AUTH, HELLO, QUIT, RESET): any user may run it. */
  readonly noAuth: boolean;
  readonly facts: CommandFacts;
}

function categoryBits(facts: CommandFacts): number {
  let bits = 0;
  for (const name of facts.aclCategories) {
    const index = ACL_CATEGORIES.indexOf(name.slice(1));
    if (index >= 0) bits |= 1 << index;
  }
  return bits;
}

function build(): { all: AclCommand[]; top: AclCommand[]; byName: Map<string, AclCommand> } {
  const all: AclCommand[] = [];
  const top: AclCommand[] = [];
  const byName = new Map<string, AclCommand>();
  const make = (facts: CommandFacts, parent: AclCommand | undefined): AclCommand => {
    const subs: AclCommand[] = [];
    const command: AclCommand = {
      id: all.length,
      fullName: facts.name,
      categories: categoryBits(facts),
      subcommands: subs,
      parent,
      noAuth: facts.flags.includes("no_auth"),
      facts,
    };
    all.push(command);
    byName.set(facts.name, command);
    for (const sub of facts.subcommands ?? []) subs.push(make(sub, command));
    return command;
  };
  for (const list of [COMMAND_FACTS, KVDB_FACTS]) {
    for (const facts of list) {
      if (facts.name.includes("|")) {
        // kvdb's own subcommand of a Redis container (client|setinfo).
        const parent = byName.get(facts.name.split("|")[0]);
        if (parent === undefined) continue;
        const sub = make(facts, parent);
        (parent.subcommands as AclCommand[]).push(sub);
      } else if (!byName.has(facts.name)) {
        top.push(make(facts, undefined));
      }
    }
  }
  return { all, top, byName };
}

const TABLE = build();

/** Every command, container before its subcommands; `ACL_COMMANDS[id]`. */
export const ACL_COMMANDS: readonly AclCommand[] = TABLE.all;

/** Top-level commands, in table order. */
export const ACL_TOP_COMMANDS: readonly AclCommand[] = TABLE.top;

/** Bits in a selector's bitmap: one per command, and the "future commands" bit last. */
export const ACL_COMMAND_BITS = ACL_COMMANDS.length + 1;

/** The bit `+@all` sets and nothing else does: "may run commands added later". */
export const FUTURE_COMMANDS_BIT = ACL_COMMANDS.length;

/**
 * A command by full name, any case (`GET`, `config|get`), as ACL rules
 * name it; undefined if unknown.
 *
 * @example
 * ```ts
 * aclCommand("CONFIG|GET")?.parent?.fullName; // "config"
 * ```
 */
export function aclCommand(name: string): AclCommand | undefined {
  return TABLE.byName.get(name.toLowerCase());
}

/**
 * A category's index in {@link ACL_CATEGORIES}, any case; -1 if unknown.
 *
 * @example
 * ```ts
 * categoryIndex("Keyspace"); // 0
 * ```
 */
export function categoryIndex(name: string): number {
  return ACL_CATEGORIES.indexOf(name.toLowerCase());
}
