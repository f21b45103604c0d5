/**
 * Facts of the commands kvdb serves that Redis 7.0 does not have, in the
 * shape of command_facts.ts, written by hand: kvdb's replication handshake
 * (REPLSYNC), and CLIENT SETINFO (Redis 7.2's, which client libraries send
 * and kvdb accepts; these are 7.2's facts).
 *
 * @example
 * ```ts
 * KVDB_FACTS.map((f) => f.name); // ["replsync", "client|setinfo"]
 * ```
 * @module
 */

import type { CommandFacts } from "./command_facts_types.ts";

/** kvdb's own commands and subcommands (a subcommand joins its Redis container). */
export const KVDB_FACTS: readonly CommandFacts[] = [
  {
    // Any arguments reach the handler, which refuses them all where the
    // server is no master (a master's connections take REPLSYNC earlier).
    name: "replsync",
    arity: -1,
    flags: ["admin", "noscript", "no_async_loading", "no_multi"],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    aclCategories: ["@admin", "@slow", "@dangerous"],
    tips: [],
    keySpecs: [],
    group: "server",
    since: "1.0.0",
    docFlags: ["syscmd"],
    arguments: [{ name: "replicationid", type: "string" }, { name: "lsn", type: "integer" }],
  },
  {
    name: "client|setinfo",
    arity: 4,
    flags: ["noscript", "loading", "stale"],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    aclCategories: ["@slow", "@connection"],
    tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
    keySpecs: [],
    group: "connection",
    since: "7.2.0",
    docFlags: [],
    arguments: [{
      name: "attr",
      type: "oneof",
      arguments: [
        { name: "libname", type: "string", token: "LIB-NAME" },
        { name: "libver", type: "string", token: "LIB-VER" },
      ],
    }],
  },
];
