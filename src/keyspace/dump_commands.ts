/**
 * DUMP and RESTORE: a key's value as a portable payload (`dump_payload.ts`)
 * and back, with RESTORE's TTL, REPLACE, ABSTTL, IDLETIME and FREQ as
 * Redis parses them. IDLETIME and FREQ are checked and accepted; kvdb
 * keeps no access statistics to set from them yet (OBJECT IDLETIME and
 * FREQ come with the memory limits).
 *
 * @example
 * ```ts
 * DUMP_COMMANDS.map((c) => c.name); // ["DUMP", "RESTORE"]
 * ```
 * @module
 */

import { NOTIFY_GENERIC, NOTIFY_NEW } from "../pubsub/keyspace_events.ts";
import { lookupValue } from "./lookup.ts";
import { Collection } from "../types/collection.ts";
import { CommandError } from "../protocol/reply_writer.ts";
import {
  type CommandHandler,
  notAnInteger,
  parseInt64,
  syntaxError,
} from "../executor/command_spec.ts";
import { MAX_EXPIRES_AT_MS } from "../executor/commands/_expiry_options.ts";
import { decodeDump, encodeDump, encodeDumpValue } from "./dump_payload.ts";
import { fromRdbValue, toRdbValue } from "./_dump_glue.ts";
import { ENCODING_LIMITS } from "../types/encoding_limits.ts";

function error(message: string, code = "ERR"): CommandError {
  return new CommandError(code, message, message);
}

function int64Argument(s: string): bigint {
  const value = parseInt64(s);
  if (value === undefined) throw notAnInteger();
  return value;
}

/** DUMP and RESTORE. */
export const DUMP_COMMANDS: CommandHandler[] = [
  {
    name: "DUMP",
    summary: "A key's value as a payload RESTORE (kvdb's or Redis's) reads back.",
    run(ctx, args, w) {
      const value = lookupValue(ctx, args[1]);
      if (value === undefined) return w.nil();
      if (value instanceof Collection) {
        const rdb = toRdbValue(value);
        if (rdb === undefined) throw error(`DUMP of a ${value.typeName} is not supported by kvdb`);
        return w.bulkBytes(encodeDumpValue(rdb, ENCODING_LIMITS.listMaxListpackSize));
      }
      w.bulkBytes(encodeDump(typeof value === "string" ? value : value.peek()));
    },
  },
  {
    name: "RESTORE",
    summary: "Creates a key from a DUMP payload, with a TTL (0: none), REPLACE, ABSTTL.",
    run(ctx, args, w) {
      let replace = false;
      let absolute = false;
      let idle = false;
      let freq = false;
      for (let j = 4; j < args.length; j++) {
        const option = args[j].toUpperCase();
        const more = args.length - j - 1;
        if (option === "REPLACE") replace = true;
        else if (option === "ABSTTL") absolute = true;
        else if (option === "IDLETIME" && more >= 1 && !freq) {
          if (int64Argument(args[++j]) < 0n) throw error("Invalid IDLETIME value, must be >= 0");
          idle = true;
        } else if (option === "FREQ" && more >= 1 && !idle) {
          const f = int64Argument(args[++j]);
          if (f < 0n || f > 255n) throw error("Invalid FREQ value, must be >= 0 and <= 255");
          freq = true;
        } else throw syntaxError();
      }
      const key = args[1];
      if (!replace && ctx.db.exists(key)) {
        throw error("Target key name already exists.", "BUSYKEY");
      }
      const ttl = int64Argument(args[2]);
      if (ttl < 0n) throw error("Invalid TTL value, must be >= 0");
      const decoded = decodeDump(args[3]);
      if ("problem" in decoded) throw error(decoded.problem);
      const value = fromRdbValue(decoded.value);
      const now = ctx.store.nowMs();
      // Relative TTLs add up in 64 bits as in Redis: one that overflows is past.
      const at = ttl === 0n ? 0n : absolute ? ttl : BigInt.asIntN(64, ttl + BigInt(now));
      if (at !== 0n && at <= BigInt(now)) {
        // Already expired: nothing is created (an old key REPLACE names goes).
        if (replace && ctx.db.delete(key)) ctx.notify(NOTIFY_GENERIC, "del", key);
        return w.status("OK");
      }
      const expiresAtMs = at > BigInt(MAX_EXPIRES_AT_MS) ? MAX_EXPIRES_AT_MS : Number(at);
      ctx.db.put(key, value, expiresAtMs);
      // Redis deletes a replaced key first, so the key is always new.
      ctx.notify(NOTIFY_NEW, "new", key);
      ctx.notify(NOTIFY_GENERIC, "restore", key);
      w.status("OK");
    },
  },
];
