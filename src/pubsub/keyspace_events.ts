/**
 * Keyspace notifications, as Redis 7.0 sends them: a command that changes
 * (or misses) a key publishes `<event>` on `__keyspace@<db>__:<key>` and
 * `<key>` on `__keyevent@<db>__:<event>`, for the event classes chosen by
 * `notify-keyspace-events` (Redis's letters: `K` keyspace channel, `E`
 * keyevent channel, `g` generic, `$` string, `l` list, `s` set, `h` hash,
 * `z` sorted set, `x` expired, `e` evicted, `t` stream, `m` key miss, `d`
 * module, `n` new key, `A` = `g$lshzxetd`). The default is `""`: none.
 *
 * Commands call `ctx.notify(NOTIFY_STRING, "set", key)`; while nothing is
 * chosen that is one test of {@link KeyspaceEvents.active}.
 *
 * @example
 * ```ts
 * const events = new PubSub().events;
 * events.setText("KEA");
 * events.text; // "AKE" (Redis's order)
 * events.notify(NOTIFY_GENERIC, "del", "k", 0); // publishes on __keyspace@0__:k, __keyevent@0__:del
 * ```
 * @module
 */

import { CommandError } from "../protocol/reply_writer.ts";

/** `K`: publish on `__keyspace@<db>__:<key>`. */
export const NOTIFY_KEYSPACE = 1 << 0;
/** `E`: publish on `__keyevent@<db>__:<event>`. */
export const NOTIFY_KEYEVENT = 1 << 1;
/** `g`: generic commands (DEL, EXPIRE, RENAME, MOVE, COPY, RESTORE, ...). */
export const NOTIFY_GENERIC = 1 << 2;
/** `$`: string commands. */
export const NOTIFY_STRING = 1 << 3;
/** `l`: list commands. */
export const NOTIFY_LIST = 1 << 4;
/** `s`: set commands. */
export const NOTIFY_SET = 1 << 5;
/** `h`: hash commands. */
export const NOTIFY_HASH = 1 << 6;
/** `z`: sorted set commands. */
export const NOTIFY_ZSET = 1 << 7;
/** `x`: a key deleted because its time passed (`expired`). */
export const NOTIFY_EXPIRED = 1 << 8;
/** `e`: a key evicted for maxmemory (`evicted`). */
export const NOTIFY_EVICTED = 1 << 9;
/** `t`: stream commands. */
export const NOTIFY_STREAM = 1 << 10;
/** `m`: a read of a missing key (`keymiss`); not part of `A`. */
export const NOTIFY_KEY_MISS = 1 << 11;
/** `d`: module events (none in kvdb; accepted for compatibility). */
export const NOTIFY_MODULE = 1 << 13;
/** `n`: a key created (`new`); not part of `A`. */
export const NOTIFY_NEW = 1 << 14;
/** `A`: every class but key miss and new. */
export const NOTIFY_ALL = NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET |
  NOTIFY_HASH | NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE;

const LETTERS: Readonly<Record<string, number>> = {
  A: NOTIFY_ALL,
  g: NOTIFY_GENERIC,
  $: NOTIFY_STRING,
  l: NOTIFY_LIST,
  s: NOTIFY_SET,
  h: NOTIFY_HASH,
  z: NOTIFY_ZSET,
  x: NOTIFY_EXPIRED,
  e: NOTIFY_EVICTED,
  K: NOTIFY_KEYSPACE,
  E: NOTIFY_KEYEVENT,
  t: NOTIFY_STREAM,
  m: NOTIFY_KEY_MISS,
  d: NOTIFY_MODULE,
  n: NOTIFY_NEW,
};

/** The letters in the order Redis writes them back (after `A` or the classes). */
const CLASS_ORDER: readonly [string, number][] = [
  ["g", NOTIFY_GENERIC],
  ["$", NOTIFY_STRING],
  ["l", NOTIFY_LIST],
  ["s", NOTIFY_SET],
  ["h", NOTIFY_HASH],
  ["z", NOTIFY_ZSET],
  ["x", NOTIFY_EXPIRED],
  ["e", NOTIFY_EVICTED],
  ["t", NOTIFY_STREAM],
  ["d", NOTIFY_MODULE],
  ["n", NOTIFY_NEW],
];

/**
 * Parses Redis's letters into flags (`keyspaceEventsStringToFlags`);
 * undefined if a letter is not one of them.
 *
 * @example
 * ```ts
 * parseNotifyFlags("Ex") === (NOTIFY_KEYEVENT | NOTIFY_EXPIRED); // true
 * ```
 */
export function parseNotifyFlags(text: string): number | undefined {
  let flags = 0;
  for (const c of text) {
    const bit = LETTERS[c];
    if (bit === undefined) return undefined;
    flags |= bit;
  }
  return flags;
}

/**
 * Flags as Redis writes them (`keyspaceEventsFlagsToString`): `A` when every
 * class of `A` is set (then `n` is not written, as Redis 7.0 does), else
 * each class; then `K`, `E`, `m`.
 *
 * @example
 * ```ts
 * formatNotifyFlags(parseNotifyFlags("KEA")!); // "AKE"
 * ```
 */
export function formatNotifyFlags(flags: number): string {
  let text = "";
  if ((flags & NOTIFY_ALL) === NOTIFY_ALL) {
    text += "A";
  } else {
    for (const [letter, bit] of CLASS_ORDER) if (flags & bit) text += letter;
  }
  if (flags & NOTIFY_KEYSPACE) text += "K";
  if (flags & NOTIFY_KEYEVENT) text += "E";
  if (flags & NOTIFY_KEY_MISS) text += "m";
  return text;
}

/** Where notifications are published (the server's {@link PubSub}). */
export interface NotificationSink {
  publish(channel: string, message: string): number;
}

/**
 * The server's `notify-keyspace-events` and the publishing of events.
 *
 * @example
 * ```ts
 * if (events.active & NOTIFY_STRING) events.notify(NOTIFY_STRING, "set", "k", 0);
 * ```
 */
export class KeyspaceEvents {
  /**
   * The classes that publish something: the chosen classes when `K` or `E`
   * is chosen too, else 0 (Redis publishes nothing without a channel kind).
   * Callers test `active & type` before building anything.
   */
  active = 0;
  #flags = 0;
  /** Events published since start (for tests and INFO). */
  published = 0;

  constructor(readonly sink: NotificationSink) {}

  /** The chosen flags (NOTIFY_*). */
  get flags(): number {
    return this.#flags;
  }

  set flags(flags: number) {
    this.#flags = flags;
    this.active = flags & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT) ? flags : 0;
  }

  /** `notify-keyspace-events` as CONFIG GET answers it. */
  get text(): string {
    return formatNotifyFlags(this.#flags);
  }

  /**
   * Sets `notify-keyspace-events` from Redis's letters (CONFIG SET, YAML);
   * throws Redis's error, and changes nothing, on a letter it does not know.
   */
  setText(text: string): void {
    const flags = parseNotifyFlags(text);
    if (flags === undefined) throw invalidEventClass();
    this.flags = flags;
  }

  /**
   * Publishes `event` on `key` of database `db` if class `type` is chosen
   * (Redis's `notifyKeyspaceEvent`: the keyspace channel first).
   */
  notify(type: number, event: string, key: string, db: number): void {
    if ((this.active & type) === 0) return;
    this.published++;
    const flags = this.#flags;
    if (flags & NOTIFY_KEYSPACE) this.sink.publish(`__keyspace@${db}__:${key}`, event);
    if (flags & NOTIFY_KEYEVENT) this.sink.publish(`__keyevent@${db}__:${event}`, key);
  }
}

/** Redis's message for a bad letter (CONFIG SET wraps it in its own prefix). */
export function invalidEventClass(): CommandError {
  return new CommandError(
    "ERR",
    "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
    "invalid event class character; use 'Ag$lshzxeKEtmdn'",
  );
}
