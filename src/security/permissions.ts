/**
 * Whether a user may run a request (Redis 7.0's `ACLCheckAllUserCommandPerm`):
 * a selector permits it if it allows the command (or its first argument),
 * every key the command touches — read and write apart, by the command's
 * key specs — and every channel it names. The first selector that permits
 * it wins; otherwise the most telling refusal is reported.
 *
 * @example
 * ```ts
 * const denial = checkPermission(user, aclCommand("get")!, ["GET", "k"]);
 * denial.result; // ACL_OK, ACL_DENIED_CMD, ACL_DENIED_KEY or ACL_DENIED_CHANNEL
 * ```
 * @module
 */

import { globMatch } from "../executor/glob.ts";
import { commandKeys, hasKeys, type KeysResult, newKeysResult } from "../executor/key_specs.ts";
import type { AclCommand } from "./categories.ts";
import { KEY_READ, KEY_WRITE, type Selector } from "./selector.ts";
import type { User } from "./user.ts";

/** Redis's ACL results (their order ranks refusals). */
export const ACL_OK = 0;
export const ACL_DENIED_CMD = 1;
export const ACL_DENIED_KEY = 2;
export const ACL_DENIED_AUTH = 3;
export const ACL_DENIED_CHANNEL = 4;

/** A check's outcome: the result, and the argument refused (a key or channel). */
export interface PermissionCheck {
  result: number;
  /** Index in the request of the key or channel refused. */
  index: number;
}

/** Scratch for the keys of the request being checked (one check at a time). */
const keys: KeysResult = newKeysResult();
const check: PermissionCheck = { result: ACL_OK, index: 0 };

function keyFlags(specFlags: readonly string[]): number {
  let flags = 0;
  for (const f of specFlags) {
    if (f === "access") flags |= KEY_READ;
    else if (f === "insert" || f === "delete" || f === "update") flags |= KEY_WRITE;
  }
  return flags;
}

function keyAllowed(selector: Selector, key: string, flags: number): boolean {
  if (selector.allKeys) return true;
  for (const p of selector.keys) {
    if ((p.flags & flags) !== flags) continue;
    if (globMatch(p.pattern, key)) return true;
  }
  return false;
}

function channelAllowed(selector: Selector, channel: string, literal: boolean): boolean {
  for (const pattern of selector.channels) {
    if (literal ? pattern === channel : globMatch(pattern, channel)) return true;
  }
  return false;
}

/** Where a command's channels are: [first, count, literal] or undefined. */
function channelArguments(
  fullName: string,
  argc: number,
): [number, number, boolean] | undefined {
  switch (fullName) {
    case "publish":
    case "spublish":
      return [1, 1, false];
    case "subscribe":
    case "ssubscribe":
      return [1, argc - 1, false];
    case "psubscribe":
      return [1, argc - 1, true];
  }
  return undefined;
}

/** `keysFound`: -1 until the request's keys are looked up (once, for all selectors). */
function checkSelector(
  selector: Selector,
  command: AclCommand,
  args: readonly string[],
  state: { keysFound: number; index: number },
): number {
  if (!selector.allCommands && !command.noAuth && selector.allowed[command.id] === 0) {
    const firsts = selector.firstArgs?.get(command.id);
    if (firsts === undefined || args.length < 2) return ACL_DENIED_CMD;
    const arg = args[command.parent !== undefined ? 2 : 1]?.toLowerCase();
    if (!firsts.some((f) => f.toLowerCase() === arg)) return ACL_DENIED_CMD;
  }
  if (!selector.allKeys && hasKeys(command.facts)) {
    if (state.keysFound < 0) state.keysFound = Math.max(0, commandKeys(command.facts, args, keys));
    for (let j = 0; j < state.keysFound; j++) {
      const at = keys.positions[j];
      if (!keyAllowed(selector, args[at], keyFlags(keys.flags[j]))) {
        state.index = at;
        return ACL_DENIED_KEY;
      }
    }
  }
  if (!selector.allChannels) {
    const where = channelArguments(command.fullName, args.length);
    if (where !== undefined) {
      const [first, count, literal] = where;
      for (let j = first; j < first + count; j++) {
        if (!channelAllowed(selector, args[j], literal)) {
          state.index = j;
          return ACL_DENIED_CHANNEL;
        }
      }
    }
  }
  return ACL_OK;
}

/**
 * Checks a request (`args` as sent, name first) against `user`'s
 * selectors. The returned object is reused by the next call.
 *
 * @example
 * ```ts
 * checkPermission(user, aclCommand("set")!, ["SET", "k", "v"]).result === ACL_OK;
 * ```
 */
export function checkPermission(
  user: User,
  command: AclCommand,
  args: readonly string[],
): PermissionCheck {
  let relevant = ACL_DENIED_CMD;
  let lastIndex = 0;
  const state = { keysFound: -1, index: 0 };
  for (const selector of user.selectors) {
    state.index = 0;
    const result = checkSelector(selector, command, args, state);
    if (result === ACL_OK) {
      check.result = ACL_OK;
      check.index = 0;
      return check;
    }
    if (result > relevant || (result === relevant && state.index > lastIndex)) {
      relevant = result;
      lastIndex = state.index;
    }
  }
  check.result = relevant;
  check.index = lastIndex;
  return check;
}
