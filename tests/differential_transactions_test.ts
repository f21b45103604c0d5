/**
 * Transactions (issue 14 point 5) against redis-server 7.0, replies
 * compared byte for byte: MULTI/EXEC/DISCARD, errors at queue time and at
 * run time, and WATCH broken by other clients, by the watcher itself, by
 * expiry and by FLUSHALL — and left intact by what changes nothing.
 */

import { differentialTest, DiffPair, STANDARD_RULES, type StepLike } from "./_differential.ts";

/** A step on connection `conn` (0 is the default). */
function on(conn: number, ...args: string[]): StepLike {
  return { conn, args };
}

const CASES: Record<string, StepLike[]> = {
  "MULTI/EXEC: queued replies, a run-time error fails only its command": [
    ["MULTI"],
    ["SET", "a", "1"],
    ["INCR", "a"],
    ["SET", "b", "x"],
    ["INCR", "b"],
    ["MGET", "a", "b", "c"],
    ["EXEC"],
    ["GET", "a"],
    ["MULTI"],
    ["EXEC"],
  ],
  "errors while queuing abort the transaction; nothing runs": [
    ["MULTI"],
    ["SET", "a", "1"],
    ["NOSUCHCOMMAND", "x"],
    ["GET"],
    ["EXEC"],
    ["EXISTS", "a"],
    ["MULTI"],
    ["SET", "a", "1"],
    ["SAVE"],
    ["EXEC"],
    ["EXISTS", "a"],
  ],
  "nested MULTI and WATCH inside MULTI are refused without aborting": [
    ["MULTI"],
    ["MULTI"],
    ["WATCH", "a"],
    ["SET", "a", "1"],
    ["EXEC"],
    ["GET", "a"],
  ],
  "EXEC with arguments aborts the transaction, in MULTI or not": [
    ["MULTI"],
    ["SET", "a", "1"],
    ["EXEC", "x"],
    ["EXISTS", "a"],
    ["EXEC"],
    ["EXEC", "x", "y"],
    ["WATCH", "a"],
    ["EXEC", "x"],
    ["MULTI"],
    ["EXEC"],
  ],
  "EXEC and DISCARD without MULTI; DISCARD drops the queue": [
    ["EXEC"],
    ["DISCARD"],
    ["MULTI"],
    ["SET", "a", "1"],
    ["DISCARD"],
    ["EXISTS", "a"],
    ["EXEC"],
  ],
  "WATCH: another client's write breaks the transaction": [
    ["SET", "k", "1"],
    ["WATCH", "k"],
    on(1, "SET", "k", "2"),
    ["MULTI"],
    ["SET", "k", "3"],
    ["EXEC"],
    ["GET", "k"],
    // The failed EXEC unwatched: the next transaction runs.
    ["MULTI"],
    ["SET", "k", "3"],
    ["EXEC"],
  ],
  "WATCH: the watcher's own write before MULTI breaks it too": [
    ["WATCH", "k"],
    ["SET", "k", "mine"],
    ["MULTI"],
    ["GET", "k"],
    ["EXEC"],
  ],
  "WATCH a missing key: creating it breaks; deleting a missing key does not": [
    ["WATCH", "m"],
    on(1, "DEL", "m"),
    ["MULTI"],
    ["SET", "m", "1"],
    ["EXEC"],
    ["DEL", "m"],
    ["WATCH", "m"],
    on(1, "SET", "m", "created"),
    ["MULTI"],
    ["SET", "m", "1"],
    ["EXEC"],
    ["GET", "m"],
  ],
  "WATCH: expire, persist, append, incr, getdel by another client each break it": [
    ["SET", "w", "1"],
    ["WATCH", "w"],
    on(1, "EXPIRE", "w", "100"),
    ["MULTI"],
    ["PING"],
    ["EXEC"],
    ["WATCH", "w"],
    on(1, "PERSIST", "w"),
    ["MULTI"],
    ["PING"],
    ["EXEC"],
    ["WATCH", "w"],
    on(1, "APPEND", "w", "x"),
    ["MULTI"],
    ["PING"],
    ["EXEC"],
    ["WATCH", "w"],
    on(1, "SETRANGE", "w", "0", "9"),
    ["MULTI"],
    ["PING"],
    ["EXEC"],
    ["WATCH", "w"],
    on(1, "GETDEL", "w"),
    ["MULTI"],
    ["PING"],
    ["EXEC"],
  ],
  "WATCH: a key that expires before EXEC breaks it; one already expired does not": [
    ["SET", "e", "1", "PX", "100"],
    ["WATCH", "e"],
    { args: ["MULTI"], sleepMs: 250 },
    ["PING"],
    ["EXEC"],
    ["SET", "gone", "1", "PX", "50"],
    { args: ["WATCH", "gone"], sleepMs: 200 },
    ["MULTI"],
    ["PING"],
    ["EXEC"],
  ],
  "WATCH: FLUSHALL breaks it when the key existed, not when it did not": [
    ["SET", "f", "1"],
    ["WATCH", "f"],
    on(1, "FLUSHALL"),
    ["MULTI"],
    ["PING"],
    ["EXEC"],
    ["WATCH", "never"],
    on(1, "FLUSHALL"),
    ["MULTI"],
    ["PING"],
    ["EXEC"],
  ],
  "UNWATCH and DISCARD forget the watched keys": [
    ["SET", "u", "1"],
    ["WATCH", "u"],
    ["UNWATCH"],
    on(1, "SET", "u", "2"),
    ["MULTI"],
    ["GET", "u"],
    ["EXEC"],
    ["WATCH", "u"],
    ["MULTI"],
    ["DISCARD"],
    on(1, "SET", "u", "3"),
    ["MULTI"],
    ["GET", "u"],
    ["EXEC"],
  ],
  "WATCH several keys, one changes; WATCH twice the same key": [
    ["MSET", "x", "1", "y", "2"],
    ["WATCH", "x", "y", "z"],
    ["WATCH", "x"],
    on(1, "INCR", "y"),
    ["MULTI"],
    ["MGET", "x", "y"],
    ["EXEC"],
  ],
  "a transaction's writes are seen by other clients only after EXEC": [
    ["MULTI"],
    ["SET", "t1", "a"],
    ["SET", "t2", "b"],
    on(1, "MGET", "t1", "t2"),
    ["EXEC"],
    on(1, "MGET", "t1", "t2"),
  ],
  "commands inside MULTI keep their own argument errors": [
    ["MULTI"],
    ["SET", "k", "v", "EX", "0"],
    ["INCRBY", "k", "x"],
    ["SETRANGE", "k", "-1", "x"],
    ["EXEC"],
  ],
};

differentialTest(
  "differential: transactions, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    for (const resp3 of [false, true]) {
      for (const [name, steps] of Object.entries(CASES)) {
        const label = `${name} (RESP${resp3 ? 3 : 2})`;
        await t.step(label, async () => {
          await pair.diff(steps, { rules: STANDARD_RULES, label, resp3 });
        });
      }
    }
  },
);
