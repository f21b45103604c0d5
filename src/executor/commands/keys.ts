/**
 * Keyspace commands: DEL, EXISTS, the expiry family, TYPE, KEYS, SCAN,
 * DBSIZE, FLUSHALL. Expiry changes are logged as absolute times, so a
 * restart or a replica reaches the same state whatever its clock says.
 *
 * @example
 * ```ts
 * KEY_COMMANDS.map((c) => c.name); // ["DEL", "EXISTS", ...]
 * ```
 * @module
 */

import { CommandError, type TextRendering } from "../../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandHandler,
  integerArgument,
  syntaxError,
} from "../command_spec.ts";
import { globMatch } from "../glob.ts";
import { expiryTime } from "./_expiry_options.ts";
import { scan } from "../scan.ts";
import { lookupType, noteRead } from "../../keyspace/lookup.ts";
import { typeName } from "../../types/registry.ts";
import { NOTIFY_GENERIC } from "../../pubsub/keyspace_events.ts";

/** The original's reply for a one-key DEL; a count for several keys. */
const DEL_TEXT: TextRendering = {
  integer: (deleted, argc) =>
    argc > 2 ? String(deleted) : deleted === 1 ? "OK" : "ERROR: key not found",
};

/**
 * EXPIRE and its kin: `unitMs` 1000 or 1; `absolute` for the *AT forms.
 * Options NX (no expiry yet), XX (has one), GT / LT (later / earlier than
 * the current one, a key without expiry counting as infinitely late).
 */
function expireCommand(name: string, unitMs: number, absolute: boolean): CommandHandler {
  return {
    name,
    summary: `Sets a key's expiry (${absolute ? "at a Unix time" : "after a time"}, in ${
      unitMs === 1 ? "milliseconds" : "seconds"
    }); NX, XX, GT, LT conditions; 1 if set.`,
    run(ctx, args, w) {
      let nx = false, xx = false, gt = false, lt = false;
      for (let i = 3; i < args.length; i++) {
        const option = args[i].toUpperCase();
        if (option === "NX") nx = true;
        else if (option === "XX") xx = true;
        else if (option === "GT") gt = true;
        else if (option === "LT") lt = true;
        else {
          throw new CommandError(
            "ERR",
            `Unsupported option ${args[i]}`,
            `unsupported option ${args[i]}`,
          );
        }
      }
      if ((nx && (xx || gt || lt)) || (gt && lt)) {
        throw new CommandError(
          "ERR",
          "NX and XX, GT or LT options at the same time are not compatible",
          "NX and XX, GT or LT options at the same time are not compatible",
        );
      }
      const at = expiryTime(
        args[2],
        unitMs === 1 ? 1n : 1000n,
        !absolute,
        ctx.store.nowMs(),
        name.toLowerCase(),
      );
      const current = ctx.db.expiryOf(args[1]);
      if (current < 0) return w.integer(0);
      if (
        (nx && current !== 0) || (xx && current === 0) ||
        (gt && (current === 0 || at <= current)) || (lt && current !== 0 && at >= current)
      ) return w.integer(0);
      // A time at or before now deletes the key (and logs a delete).
      ctx.db.setExpiry(args[1], Math.max(at, 1));
      ctx.notify(NOTIFY_GENERIC, at <= ctx.store.nowMs() ? "del" : "expire", args[1]);
      w.integer(1);
    },
  };
}

function ttlCommand(name: string, unitMs: number): CommandHandler {
  return {
    name,
    summary: `Returns a key's remaining time to live in ${
      unitMs === 1 ? "milliseconds" : "seconds"
    }; -1 without expiry, -2 without the key.`,
    run(ctx, args, w) {
      // Redis's TTL does not mark the key used (LOOKUP_NOTOUCH).
      const expiresAtMs = ctx.db.expiryOf(args[1], false);
      noteRead(ctx, args[1], expiresAtMs >= 0);
      if (expiresAtMs < 0) return w.integer(-2);
      if (expiresAtMs === 0) return w.integer(-1);
      const remainingMs = Math.max(0, expiresAtMs - ctx.store.nowMs());
      w.integer(unitMs === 1 ? remainingMs : Math.floor((remainingMs + 500) / 1000));
    },
  };
}

function collectKeys(ctx: CommandContext, pattern: string): string[] {
  const { engine } = ctx.db;
  const keys: string[] = [];
  for (let i = 0; i < engine.partitionCount; i++) {
    for (const key of engine.partition(i).values.keys()) {
      // Only expired keys are left out: KEYS marks none used, as Redis's.
      if ((pattern === "*" || globMatch(pattern, key)) && ctx.db.typeOf(key, false) >= 0) {
        keys.push(key);
      }
    }
  }
  return keys;
}

/** DEL and UNLINK: deletes `args[1..]`, notifying each; the count deleted. */
export function deleteKeys(ctx: CommandContext, args: string[]): number {
  let deleted = 0;
  for (let i = 1; i < args.length; i++) {
    if (ctx.db.delete(args[i])) {
      ctx.notify(NOTIFY_GENERIC, "del", args[i]);
      deleted++;
    }
  }
  return deleted;
}

/**
 * EXISTS and TOUCH: how many of `args[1..]` exist, each read counted (a
 * repeat twice); marks them used only if `touch` (TOUCH: Redis's EXISTS
 * looks with LOOKUP_NOTOUCH).
 */
export function countExisting(ctx: CommandContext, args: string[], touch: boolean): number {
  let found = 0;
  for (let i = 1; i < args.length; i++) if (lookupType(ctx, args[i], touch) >= 0) found++;
  return found;
}

/** The keyspace commands. */
export const KEY_COMMANDS: CommandHandler[] = [
  {
    name: "DEL",
    text: DEL_TEXT,
    summary: "Deletes keys; returns how many existed.",
    run(ctx, args, w) {
      w.integer(deleteKeys(ctx, args));
    },
  },
  {
    name: "EXISTS",
    summary: "Counts the given keys that exist (a key named twice counts twice).",
    run(ctx, args, w) {
      w.integer(countExisting(ctx, args, false));
    },
  },
  expireCommand("EXPIRE", 1000, false),
  expireCommand("PEXPIRE", 1, false),
  expireCommand("EXPIREAT", 1000, true),
  expireCommand("PEXPIREAT", 1, true),
  ttlCommand("TTL", 1000),
  ttlCommand("PTTL", 1),
  {
    name: "PERSIST",
    summary: "Removes a key's expiry; 1 if it had one.",
    run(ctx, args, w) {
      if (ctx.db.expiryOf(args[1]) <= 0) return w.integer(0);
      ctx.db.setExpiry(args[1], 0);
      ctx.notify(NOTIFY_GENERIC, "persist", args[1]);
      w.integer(1);
    },
  },
  {
    name: "TYPE",
    summary: "Returns the type of a key's value: string, hash..., or none.",
    run(ctx, args, w) {
      // Redis's TYPE does not mark the key used (LOOKUP_NOTOUCH).
      const type = lookupType(ctx, args[1], false);
      w.status(type < 0 ? "none" : typeName(type));
    },
  },
  {
    name: "KEYS",
    summary: "Returns every key matching a glob pattern (walks the whole keyspace).",
    run(ctx, args, w) {
      const keys = collectKeys(ctx, args[1]);
      w.array(keys.length);
      for (const key of keys) w.bulk(key);
    },
  },
  {
    name: "SCAN",
    summary: "Iterates the keyspace: SCAN cursor [MATCH pattern] [COUNT n] [TYPE type].",
    run(ctx, args, w) {
      const cursor = Number(args[1]);
      if (!/^\d+$/.test(args[1]) || !Number.isSafeInteger(cursor)) {
        throw new CommandError("ERR", "invalid cursor", "invalid cursor");
      }
      let pattern = "*";
      let count = 10;
      let type: string | undefined;
      for (let i = 2; i < args.length; i += 2) {
        const option = args[i].toUpperCase();
        const value = args[i + 1];
        if (value === undefined) throw syntaxError();
        if (option === "MATCH") pattern = value;
        else if (option === "COUNT") {
          count = integerArgument(value);
          if (count < 1) throw syntaxError();
        } else if (option === "TYPE") type = value.toLowerCase();
        else throw syntaxError();
      }
      const keys: string[] = [];
      const next = scan(ctx.db.engine, cursor, Math.min(count, 100_000), (key) => {
        if (pattern !== "*" && !globMatch(pattern, key)) return;
        const found = ctx.db.typeOf(key, false); // SCAN marks no key used, as Redis's
        if (found >= 0 && (type === undefined || typeName(found) === type)) {
          keys.push(key);
        }
      });
      w.array(2);
      w.bulk(String(next));
      w.array(keys.length);
      for (const key of keys) w.bulk(key);
    },
  },
  {
    name: "DBSIZE",
    summary: "Returns the number of keys.",
    run(ctx, _args, w) {
      w.integer(ctx.db.size);
    },
  },
];
