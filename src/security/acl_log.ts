/**
 * The ACL log (Redis 7.0's): refused commands, keys, channels and failed
 * logins, newest first, similar ones within a minute counted in one entry,
 * at most `maxEntries` kept.
 *
 * @example
 * ```ts
 * const log = new AclLog(128);
 * log.add({ reason: "auth", context: "toplevel", object: "AUTH", username: "bob", clientInfo: "" });
 * log.entries[0].count; // 1
 * ```
 * @module
 */

/** Redis's `acllog-max-len` default. */
export const ACL_LOG_MAX_ENTRIES = 128;
/** Entries this close in time, and otherwise alike, are one entry counted twice. */
const GROUPING_MAX_MS = 60_000;
/** Entries looked at for one to group with (Redis: 10). */
const GROUPING_SCAN = 10;

/** What one entry says. */
export interface AclLogEvent {
  reason: "command" | "key" | "channel" | "auth";
  context: "toplevel" | "multi" | "lua" | "module";
  /** The command, key or channel refused; AUTH/HELLO for a failed login. */
  object: string;
  username: string;
  /** CLIENT LIST's line of the client. */
  clientInfo: string;
}

/** One entry. */
export interface AclLogEntry extends AclLogEvent {
  count: number;
  /** `Date.now()` of its last occurrence. */
  timeMs: number;
}

/**
 * The log.
 *
 * @example
 * ```ts
 * new AclLog(128).reset();
 * ```
 */
export class AclLog {
  readonly entries: AclLogEntry[] = [];

  constructor(public maxEntries: number = ACL_LOG_MAX_ENTRIES) {}

  /** Records an event, grouping it with a recent alike entry (moved to the front). */
  add(event: AclLogEvent): void {
    const now = Date.now();
    const scan = Math.min(GROUPING_SCAN, this.entries.length);
    for (let i = 0; i < scan; i++) {
      const e = this.entries[i];
      if (
        e.reason === event.reason && e.context === event.context &&
        Math.abs(now - e.timeMs) <= GROUPING_MAX_MS && e.object === event.object &&
        e.username === event.username
      ) {
        e.count++;
        e.timeMs = now;
        e.clientInfo = event.clientInfo;
        this.entries.splice(i, 1);
        this.entries.unshift(e);
        return;
      }
    }
    this.entries.unshift({ ...event, count: 1, timeMs: now });
    if (this.entries.length > this.maxEntries) this.entries.length = this.maxEntries;
  }

  /** ACL LOG RESET. */
  reset(): void {
    this.entries.length = 0;
  }
}
