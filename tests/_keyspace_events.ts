/**
 * Keyspace-notification differential tests: connection 0 writes, two
 * listeners (connections 1 and 2) hear `__keyevent@*__:*` and
 * `__keyspace@*__:*`, and after each command both must read exactly the
 * events Redis sends, in its order, on both servers (`KEAnm` on each).
 *
 * ```ts
 * keyspaceEventsTest("differential: list events", "list events", (e) => [
 *   ...e.listeners(),
 *   ...e.ev(2, "RPUSH", "l", "a"), // `new` and `rpush`
 * ]);
 * ```
 *
 * @module
 */

import {
  type Comparator,
  differentialTest,
  DiffPair,
  type Step,
  type StepLike,
} from "./_differential.ts";

type Arg = string | Uint8Array;

/** Step builders for one protocol (messages are replies in RESP2, pushes in RESP3). */
export class EventSteps {
  constructor(readonly resp3: boolean) {}

  /** Reads `n` messages on `conn`. */
  read(conn: number, n: number): Step {
    return this.resp3 ? { conn, replies: 0, pushes: n } : { conn, replies: n };
  }

  /** PSUBSCRIBE `pattern` on `conn`. */
  listen(conn: number, pattern: string): Step {
    return this.resp3
      ? { conn, args: ["PSUBSCRIBE", pattern], replies: 0, pushes: 1 }
      : { conn, args: ["PSUBSCRIBE", pattern] };
  }

  /** Connection 1 on keyevent channels, 2 on keyspace channels. */
  listeners(): Step[] {
    return [this.listen(1, "__keyevent@*__:*"), this.listen(2, "__keyspace@*__:*")];
  }

  /** A command on connection 0 and the `n` events it must cause on each listener. */
  ev(n: number, ...args: Arg[]): StepLike[] {
    return n === 0 ? [{ args }] : [{ args }, this.read(1, n), this.read(2, n)];
  }

  /** {@link ev} with the command's own reply compared by `compare`. */
  evCompared(n: number, compare: Comparator, ...args: Arg[]): StepLike[] {
    return [{ args, compare }, this.read(1, n), this.read(2, n)];
  }
}

/**
 * A test running `steps` in RESP2, then RESP3, against kvdb and a
 * redis-server, both with every keyspace event class on.
 */
export function keyspaceEventsTest(
  name: string,
  label: string,
  steps: (e: EventSteps) => StepLike[],
): void {
  differentialTest(
    name,
    () =>
      DiffPair.kvdbVsRedis({
        kvdb: { pubsub: { notify_keyspace_events: "KEAnm" } },
        redis: ["--notify-keyspace-events", "KEAnm"],
      }),
    async (t, pair) => {
      for (const resp3 of [false, true]) {
        const stepLabel = `${label} (RESP${resp3 ? 3 : 2})`;
        await t.step(stepLabel, async () => {
          await pair.diff(steps(new EventSteps(resp3)), { label: stepLabel, resp3 });
        });
      }
    },
  );
}
