/**
 * The latency monitor (Redis's LATENCY): for each event class (`command`,
 * `fast-command`, ...), the latency spikes at or over
 * `latency-monitor-threshold` ms, one sample per second (the largest),
 * the last 160 kept.
 *
 * @example
 * ```ts
 * const monitor = new LatencyMonitor();
 * monitor.add("command", 250);
 * monitor.latest(); // [{ event: "command", timeSec, latestMs: 250, maxMs: 250 }]
 * ```
 * @module
 */

/** Samples kept per event (Redis's LATENCY_TS_LEN). */
export const LATENCY_HISTORY_LENGTH = 160;
/** Event classes kept at most (names come from kvdb's code, never from clients). */
const MAX_EVENTS = 64;

/** One sample: the largest latency of an event in one second. */
export interface LatencySample {
  timeSec: number;
  latencyMs: number;
}

/** LATENCY LATEST's view of one event. */
export interface LatencyLatest {
  event: string;
  timeSec: number;
  latestMs: number;
  maxMs: number;
}

interface EventHistory {
  samples: LatencySample[];
  maxMs: number;
}

/**
 * Latency spikes by event class.
 *
 * @example
 * ```ts
 * monitor.history("command"); // oldest first
 * ```
 */
export class LatencyMonitor {
  readonly #events = new Map<string, EventHistory>();

  /** Records a spike of `latencyMs` for `event` now. */
  add(event: string, latencyMs: number, nowMs = Date.now()): void {
    const timeSec = Math.floor(nowMs / 1000);
    let history = this.#events.get(event);
    if (history === undefined) {
      if (this.#events.size >= MAX_EVENTS) return;
      history = { samples: [], maxMs: 0 };
      this.#events.set(event, history);
    }
    const last = history.samples[history.samples.length - 1];
    if (last !== undefined && last.timeSec === timeSec) {
      last.latencyMs = Math.max(last.latencyMs, latencyMs);
    } else {
      history.samples.push({ timeSec, latencyMs });
      if (history.samples.length > LATENCY_HISTORY_LENGTH) history.samples.shift();
    }
    history.maxMs = Math.max(history.maxMs, latencyMs);
  }

  /** The last sample and the all-time maximum of every event. */
  latest(): LatencyLatest[] {
    const out: LatencyLatest[] = [];
    for (const [event, h] of this.#events) {
      const last = h.samples[h.samples.length - 1];
      out.push({ event, timeSec: last.timeSec, latestMs: last.latencyMs, maxMs: h.maxMs });
    }
    return out;
  }

  /** An event's samples, oldest first (none for an unknown event). */
  history(event: string): readonly LatencySample[] {
    return this.#events.get(event)?.samples ?? [];
  }

  /** Forgets the named events (all without names); returns how many were forgotten. */
  reset(events: readonly string[] = []): number {
    if (events.length === 0) {
      const n = this.#events.size;
      this.#events.clear();
      return n;
    }
    let n = 0;
    for (const event of events) if (this.#events.delete(event)) n++;
    return n;
  }

  /** Events with samples. */
  get eventCount(): number {
    return this.#events.size;
  }
}
