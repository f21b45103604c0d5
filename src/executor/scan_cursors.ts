/**
 * SCAN's cursors. Each cursor is a live iterator over one partition's keys,
 * then the next partition's: a JS Map iterator visits every entry present
 * for its whole walk exactly once, whatever is added or deleted meanwhile —
 * the guarantee SCAN gives (keys present throughout are returned; keys added
 * or removed meanwhile may or may not be).
 *
 * Cursors are numbers handed out by the server, so they are bounded: at most
 * `MAX_SCAN_CURSORS` open at once (the least recently used is dropped), and
 * one idle for `SCAN_CURSOR_IDLE_MS` is dropped. A dropped or unknown cursor
 * is an error, never a silent restart.
 *
 * @example
 * ```ts
 * const cursors = new ScanCursors();
 * let cursor = 0;
 * do cursor = cursors.scan(engine, cursor, 10, (key) => keys.push(key));
 * while (cursor !== 0);
 * ```
 * @module
 */

import type { Engine } from "../storage/engine.ts";

/** Open cursors at most. */
export const MAX_SCAN_CURSORS = 10_000;
/** A cursor unused this long is dropped. */
export const SCAN_CURSOR_IDLE_MS = 10 * 60_000;

interface Walk {
  partition: number;
  keys: Iterator<string>;
  lastUsedMs: number;
}

/** A cursor the server does not hold. */
export class UnknownCursorError extends Error {}

/**
 * The open SCAN cursors of one server.
 *
 * @example
 * ```ts
 * new ScanCursors().scan(engine, 0, 100, console.log);
 * ```
 */
export class ScanCursors {
  /** In least-recently-used order (a Map keeps insertion order). */
  readonly #walks = new Map<number, Walk>();
  #nextId = 1;

  /** Open cursors. */
  get size(): number {
    return this.#walks.size;
  }

  /**
   * Visits up to `count` keys from `cursor` (0: a new walk); returns the
   * cursor to continue from, 0 when the walk is complete.
   */
  scan(engine: Engine, cursor: number, count: number, visit: (key: string) => void): number {
    const now = Date.now();
    this.#dropIdle(now);
    let walk: Walk;
    let id = cursor;
    if (cursor === 0) {
      walk = { partition: 0, keys: engine.partition(0).values.keys(), lastUsedMs: now };
      id = this.#nextId;
      this.#nextId = this.#nextId >= 2 ** 52 ? 1 : this.#nextId + 1;
    } else {
      const found = this.#walks.get(cursor);
      if (found === undefined) throw new UnknownCursorError(`cursor ${cursor}`);
      this.#walks.delete(cursor);
      walk = found;
    }
    for (let seen = 0; seen < count;) {
      const next = walk.keys.next();
      if (next.done) {
        if (++walk.partition >= engine.partitionCount) return 0;
        walk.keys = engine.partition(walk.partition).values.keys();
        continue;
      }
      visit(next.value);
      seen++;
    }
    walk.lastUsedMs = now;
    this.#walks.set(id, walk);
    if (this.#walks.size > MAX_SCAN_CURSORS) {
      this.#walks.delete(this.#walks.keys().next().value!);
    }
    return id;
  }

  /** Drops every cursor (FLUSHALL: the walks are meaningless now). */
  clear(): void {
    this.#walks.clear();
  }

  #dropIdle(now: number): void {
    for (const [id, walk] of this.#walks) {
      if (now - walk.lastUsedMs <= SCAN_CURSOR_IDLE_MS) return;
      this.#walks.delete(id);
    }
  }
}
