/**
 * Which arguments of a request are keys, and how the command uses each:
 * Redis 7's key specs (begin_search by index or keyword, find_keys by range
 * or key count) read from the command facts, with Redis's fallbacks for the
 * commands whose specs cannot say it alone. COMMAND GETKEYS and
 * GETKEYSANDFLAGS answer from here, and the ACL key checks will.
 *
 * @example
 * ```ts
 * const out = newKeysResult();
 * commandKeys(factsOf("mset"), ["MSET", "a", "1", "b", "2"], out); // 2
 * out.positions; // [1, 3]
 * out.flags[0]; // ["OW", "update"]
 * ```
 * @module
 */

import type { CommandFacts, KeySpecFacts } from "./command_facts_types.ts";
import { assert } from "../_assert.ts";
import { parseInt64 } from "./command_spec.ts";

/** Key positions found in a request, and the key-spec flags of each. */
export interface KeysResult {
  /** Argument indexes (0 is the command name). */
  positions: number[];
  /** Flags of the key at the same index: RO, RW, OW, RM, access, ... */
  flags: (readonly string[])[];
}

/**
 * An empty result, to be reused: {@link commandKeys} clears it first.
 *
 * @example
 * ```ts
 * const out = newKeysResult();
 * ```
 */
export function newKeysResult(): KeysResult {
  return { positions: [], flags: [] };
}

/**
 * A command's own way of finding its keys (Redis's `getkeys_proc`): for
 * commands whose key specs are incomplete or whose key flags depend on the
 * arguments. Returns the number of keys written to `out`.
 */
export type KeysProcedure = (args: readonly string[], out: KeysResult) => number;

const RW_ACCESS_UPDATE: readonly string[] = ["RW", "access", "update"];
const OW_UPDATE: readonly string[] = ["OW", "update"];

/** SET reads its key only when it has the GET option. */
function setKeys(args: readonly string[], out: KeysResult): number {
  let get = false;
  for (let i = 3; i < args.length && !get; i++) get = equalsIgnoringCase(args[i], "get");
  out.positions.push(1);
  out.flags.push(get ? RW_ACCESS_UPDATE : OW_UPDATE);
  return 1;
}

const RO_ACCESS: readonly string[] = ["RO", "access"];

/**
 * BITFIELD writes its key only when it has a SET or INCRBY; arguments that
 * do not parse count as a write (Redis's safer guess).
 */
function bitfieldKeys(args: readonly string[], out: KeysResult): number {
  let readOnly = true;
  for (let i = 2; i < args.length; i++) {
    const remaining = args.length - i - 1;
    if (equalsIgnoringCase(args[i], "get") && remaining >= 2) {
      i += 2;
    } else if (
      (equalsIgnoringCase(args[i], "set") || equalsIgnoringCase(args[i], "incrby")) &&
      remaining >= 3
    ) {
      readOnly = false;
      break;
    } else if (equalsIgnoringCase(args[i], "overflow") && remaining >= 1) {
      i += 1;
    } else {
      readOnly = false;
      break;
    }
  }
  out.positions.push(1);
  out.flags.push(readOnly ? RO_ACCESS : RW_ACCESS_UPDATE);
  return 1;
}

/** SORT_RO: its key, read. */
function sortReadOnlyKeys(_args: readonly string[], out: KeysResult): number {
  out.positions.push(1);
  out.flags.push(RO_ACCESS);
  return 1;
}

/**
 * SORT: its key, read, and the last STORE's destination, overwritten
 * (Redis's sortGetKeys: LIMIT skips two arguments, GET and BY one).
 */
function sortKeys(args: readonly string[], out: KeysResult): number {
  out.positions.push(1);
  out.flags.push(RO_ACCESS);
  let store = -1;
  for (let i = 2; i < args.length; i++) {
    if (equalsIgnoringCase(args[i], "limit")) i += 2;
    else if (equalsIgnoringCase(args[i], "get") || equalsIgnoringCase(args[i], "by")) i += 1;
    else if (equalsIgnoringCase(args[i], "store") && i + 1 < args.length) store = i + 1;
  }
  if (store < 0) return 1;
  out.positions.push(store);
  out.flags.push(OW_UPDATE);
  return 2;
}

/**
 * Key procedures by command full name. A command whose key specs cannot
 * find its keys alone ({@link needsKeysProcedure}) needs one here before
 * kvdb may serve it (the command table checks this at startup).
 */
export const KEY_PROCEDURES: ReadonlyMap<string, KeysProcedure> = new Map([
  ["set", setKeys],
  ["bitfield", bitfieldKeys],
  ["sort", sortKeys],
  ["sort_ro", sortReadOnlyKeys],
]);

function hasSpecFlag(spec: KeySpecFacts, flag: string): boolean {
  return spec.flags.includes(flag);
}

/**
 * Whether a command's key specs need a {@link KeysProcedure}: one of them is
 * incomplete (more keys than the spec can find), has variable flags, or
 * cannot say where its keys are (SORT's BY and GET patterns).
 *
 * @example
 * ```ts
 * needsKeysProcedure(factsOf("set")); // true: GET changes its key's flags
 * ```
 */
export function needsKeysProcedure(facts: CommandFacts): boolean {
  return facts.keySpecs.some((s) =>
    hasSpecFlag(s, "incomplete") || hasSpecFlag(s, "variable_flags") ||
    s.beginSearch.type === "unknown" || s.findKeys.type === "unknown"
  );
}

/**
 * Whether the command has key arguments at all (a key spec that is not
 * `not_key`, or a key procedure): Redis's test before COMMAND GETKEYS.
 *
 * @example
 * ```ts
 * hasKeys(factsOf("ping")); // false
 * ```
 */
export function hasKeys(facts: CommandFacts): boolean {
  return KEY_PROCEDURES.has(facts.name) || facts.keySpecs.some((s) => !hasSpecFlag(s, "not_key"));
}

function clear(out: KeysResult): void {
  out.positions.length = 0;
  out.flags.length = 0;
}

function lowerAscii(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** Redis compares keywords byte by byte, ignoring ASCII case only. */
function equalsIgnoringCase(a: string, keyword: string): boolean {
  if (a.length !== keyword.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (lowerAscii(a.charCodeAt(i)) !== lowerAscii(keyword.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * The keys the key specs alone find (Redis's `getKeysUsingKeySpecs`,
 * without partial results): their count, or -1 when a spec cannot be
 * applied to these arguments (a key count that is not a number or points
 * past the end, a range past the end, or an incomplete spec) — `out` is
 * then empty. Specs flagged `not_key` are skipped.
 *
 * @example
 * ```ts
 * keysFromSpecs(factsOf("eval"), ["EVAL", "s", "2", "a", "b", "x"], out); // 2: a, b
 * ```
 */
export function keysFromSpecs(
  facts: CommandFacts,
  args: readonly string[],
  out: KeysResult,
): number {
  clear(out);
  const argc = args.length;
  for (const spec of facts.keySpecs) {
    if (hasSpecFlag(spec, "not_key")) continue;
    let first = 0;
    const begin = spec.beginSearch;
    if (begin.type === "index") {
      first = begin.spec.index;
    } else if (begin.type === "keyword") {
      // From `startfrom` towards the end, or (negative) from the end
      // towards the start; the argument after the keyword is the first key.
      const { keyword, startfrom } = begin.spec;
      const start = startfrom > 0 ? startfrom : argc + startfrom;
      const end = startfrom > 0 ? argc - 1 : 1;
      for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (equalsIgnoringCase(args[i], keyword)) {
          first = i + 1;
          break;
        }
      }
      if (first === 0) continue; // keyword absent: this spec has no keys here
    } else {
      return invalid(out);
    }

    let last: number;
    let step: number;
    const find = spec.findKeys;
    if (find.type === "range") {
      const { lastkey, keystep, limit } = find.spec;
      step = keystep;
      if (lastkey >= 0) last = first + lastkey;
      else if (limit === 0) last = argc + lastkey;
      else last = first + (Math.trunc((argc - first) / limit) + lastkey);
    } else if (find.type === "keynum") {
      const { keynumidx, firstkey, keystep } = find.spec;
      step = keystep;
      // Redis 7.0 checks the count's offset, not its position, against the
      // end; a position past the end is no number either way.
      if (keynumidx >= argc) return invalid(out);
      const count = parseInt64(args[first + keynumidx] ?? "");
      if (count === undefined || count < 0n) return invalid(out);
      first += firstkey;
      // Redis holds the count in a C int: a larger one wraps.
      last = first + Number(BigInt.asIntN(32, count)) - 1;
    } else {
      return invalid(out);
    }

    if (last >= argc || last < first || first >= argc) return invalid(out);
    assert(step > 0, `${facts.name}: a key spec's step must be positive`);
    for (let i = first; i <= last; i += step) {
      out.positions.push(i);
      out.flags.push(spec.flags);
    }
    if (hasSpecFlag(spec, "incomplete")) return invalid(out);
  }
  return out.positions.length;
}

function invalid(out: KeysResult): number {
  clear(out);
  return -1;
}

/**
 * The keys of a request as Redis finds them (`getKeysFromCommandWithSpecs`):
 * from the key specs when they are complete and their flags fixed, else
 * (or when they cannot be applied) from the command's key procedure; 0 keys
 * when neither finds any. `args` is the whole request as sent, name
 * included (for a subcommand, `OBJECT ENCODING k`: Redis's key positions
 * count from the container's name).
 *
 * @example
 * ```ts
 * commandKeys(factsOf("set"), ["SET", "k", "v", "GET"], out); // 1, flags RW access update
 * ```
 */
export function commandKeys(facts: CommandFacts, args: readonly string[], out: KeysResult): number {
  clear(out);
  const fromSpecs = facts.keySpecs.some((s) => !hasSpecFlag(s, "not_key")) &&
    !facts.keySpecs.some((s) => hasSpecFlag(s, "variable_flags"));
  if (fromSpecs) {
    const found = keysFromSpecs(facts, args, out);
    if (found >= 0) return found;
  }
  const procedure = KEY_PROCEDURES.get(facts.name);
  return procedure === undefined ? 0 : procedure(args, out);
}
