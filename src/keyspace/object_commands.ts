/**
 * OBJECT: what Redis reports of a key's value without touching it —
 * ENCODING (a string is `int`, `embstr` or `raw` by Redis's rules: an
 * integer of at most 20 characters is `int`, up to 44 bytes `embstr`,
 * anything longer or written in place `raw`; see `EncodingHint`), REFCOUNT
 * (Redis shares the integers 0–9999), IDLETIME (seconds since last used,
 * from the access clock; refused under an LFU policy, whose counters take
 * the clock's bits, as in Redis), FREQ (the decayed LFU counter; refused
 * without an LFU policy, as Redis refuses it); HELP comes from the command
 * table.
 *
 * @example
 * ```ts
 * OBJECT_COMMANDS[0].name; // "OBJECT"
 * ```
 * @module
 */

import { CommandError } from "../protocol/reply_writer.ts";
import {
  type CommandContext,
  type CommandDeclaration,
  parseInt64,
} from "../executor/command_spec.ts";
import { accessClockMs, EncodingHint, idleSeconds } from "../storage/key_table.ts";
import { lfuCounter } from "../memory/lfu.ts";
import { Collection, type KeyValue } from "../types/collection.ts";
import { noteRead } from "./lookup.ts";

/** Redis's largest embedded string (OBJ_ENCODING_EMBSTR_SIZE_LIMIT). */
const EMBSTR_MAX_BYTES = 44;
/** Redis's shared integers: 0 .. this - 1 (OBJ_SHARED_INTEGERS). */
const SHARED_INTEGERS = 10_000n;
/** The refcount Redis reports for a shared object. */
const SHARED_REFCOUNT = 2_147_483_647;

/** Redis's tail of the IDLETIME/FREQ refusals. */
const SWITCHING_NOTE = "Please note that when switching between policies at runtime LRU " +
  "and LFU data will take some time to adjust.";

/** Whether the maxmemory policy is an LFU one (keys' access words hold counters). */
function lfuPolicy(ctx: CommandContext): boolean {
  return ctx.store.memory.settings.policy.endsWith("-lfu");
}

/** Whether Redis would hold `value` as an integer (tryObjectEncoding's test). */
function asInteger(value: KeyValue, hint: number): bigint | undefined {
  if (typeof value !== "string" || value.length > 20) return undefined;
  if ((hint & (EncodingHint.Raw | EncodingHint.NotInt)) !== 0) return undefined;
  return parseInt64(value);
}

function encodingOf(value: KeyValue, hint: number): string {
  if (value instanceof Collection) return value.encoding();
  if (typeof value !== "string" || (hint & EncodingHint.Raw) !== 0) return "raw";
  if (asInteger(value, hint) !== undefined) return "int";
  return value.length <= EMBSTR_MAX_BYTES ? "embstr" : "raw";
}

/** The value OBJECT describes, unchanged by the look (counted as a read, a miss not notified). */
function peekRead(ctx: CommandContext, key: string): KeyValue | undefined {
  const value = ctx.db.peek(key);
  noteRead(ctx, key, value !== undefined, false);
  return value;
}

/** The OBJECT container. */
export const OBJECT_COMMANDS: CommandDeclaration[] = [
  {
    name: "OBJECT",
    summary: "Facts about a key's value: ENCODING, REFCOUNT, IDLETIME, FREQ.",
    subcommands: [
      {
        name: "ENCODING",
        summary: "How a key's value is held (Redis's encoding names).",
        run(ctx, args, w) {
          const value = peekRead(ctx, args[2]);
          if (value === undefined) return w.nil();
          w.bulk(encodingOf(value, ctx.db.engine.objectFacts(args[2])!.hint));
        },
      },
      {
        name: "REFCOUNT",
        summary: "References to a key's value (the shared small integers: 2147483647).",
        run(ctx, args, w) {
          const value = peekRead(ctx, args[2]);
          if (value === undefined) return w.nil();
          const hint = ctx.db.engine.objectFacts(args[2])!.hint;
          const integer = asInteger(value, hint);
          const shared = integer !== undefined && integer >= 0n && integer < SHARED_INTEGERS &&
            (hint & EncodingHint.Unshared) === 0;
          w.integer(shared ? SHARED_REFCOUNT : 1);
        },
      },
      {
        name: "IDLETIME",
        summary: "Seconds since a key was last read or written.",
        run(ctx, args, w) {
          if (peekRead(ctx, args[2]) === undefined) return w.nil();
          if (lfuPolicy(ctx)) {
            const message = "An LFU maxmemory policy is selected, idle time not tracked. " +
              SWITCHING_NOTE;
            throw new CommandError("ERR", message, message);
          }
          w.integer(idleSeconds(ctx.db.engine.objectFacts(args[2])!.accessedAt));
        },
      },
      {
        name: "FREQ",
        summary: "A key's access frequency counter (needs an LFU maxmemory policy).",
        run(ctx, args, w) {
          if (peekRead(ctx, args[2]) === undefined) return w.nil();
          if (!lfuPolicy(ctx)) {
            const message = "An LFU maxmemory policy is not selected, access frequency not " +
              "tracked. " + SWITCHING_NOTE;
            throw new CommandError("ERR", message, message);
          }
          const word = ctx.db.engine.objectFacts(args[2])!.accessedAt;
          w.integer(lfuCounter(word, accessClockMs(), ctx.store.memory.settings.lfuDecayMinutes));
        },
      },
    ],
  },
];
