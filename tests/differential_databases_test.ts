/**
 * The numbered databases (issue 14 point 2) against redis-server 7.0:
 * SELECT, MOVE, SWAPDB, FLUSHDB, FLUSHALL, DBSIZE, KEYS, SCAN and INFO
 * keyspace per database, and WATCH across them.
 */

import {
  differentialTest,
  DiffPair,
  normalized,
  parseInfo,
  STANDARD_RULES,
  type StepLike,
  unordered,
} from "./_differential.ts";

function on(conn: number, ...args: string[]): StepLike {
  return { conn, args };
}

/**
 * INFO keyspace's keys= and expires= per database. avg_ttl is Redis's
 * running estimate from its expiry cycle's samples (10 per second), so its
 * value depends on when the cycle ran: it is left out of the comparison.
 */
const keyspace: StepLike = {
  args: ["INFO", "keyspace"],
  compare: normalized("keyspace keys and expires", (f) => {
    const fields = parseInfo(f);
    return ["db0", "db1", "db2", "db3", "db15"]
      .map((db) => `${db}:${fields.get(db)?.replace(/,avg_ttl=\d+$/, "") ?? "-"}`)
      .join(" ");
  }),
};

const CASES: Record<string, StepLike[]> = {
  "SELECT keeps databases apart": [
    ["SET", "k", "zero"],
    ["SELECT", "1"],
    ["GET", "k"],
    ["SET", "k", "one"],
    ["DBSIZE"],
    ["SELECT", "0"],
    ["GET", "k"],
    ["SELECT", "15"],
    ["SELECT", "16"],
    ["SELECT", "-1"],
    ["SELECT", "x"],
    ["SELECT", "99999999999"],
    ["GET", "k"],
    keyspace,
  ],
  "MOVE": [
    ["SET", "m", "v", "EX", "1000"],
    ["MOVE", "m", "2"],
    ["EXISTS", "m"],
    ["MOVE", "m", "2"],
    ["SELECT", "2"],
    ["GET", "m"],
    ["TTL", "m"],
    ["MOVE", "m", "2"],
    ["SET", "clash", "here"],
    ["SELECT", "0"],
    ["SET", "clash", "there"],
    ["MOVE", "clash", "2"],
    ["MOVE", "missing", "2"],
    ["MOVE", "clash", "16"],
    ["MOVE", "clash", "x"],
    keyspace,
  ],
  "SWAPDB swaps contents, not selections": [
    ["SET", "a", "in0"],
    ["SELECT", "1"],
    ["SET", "b", "in1"],
    ["SWAPDB", "0", "1"],
    ["GET", "a"],
    ["GET", "b"],
    ["SELECT", "0"],
    ["GET", "b"],
    ["SWAPDB", "0", "0"],
    ["SWAPDB", "0", "16"],
    ["SWAPDB", "x", "1"],
    ["SWAPDB", "1", "y"],
    keyspace,
  ],
  "FLUSHDB empties one database, FLUSHALL all": [
    ["SET", "a", "1"],
    ["SELECT", "3"],
    ["SET", "b", "2"],
    ["FLUSHDB"],
    ["DBSIZE"],
    ["SELECT", "0"],
    ["DBSIZE"],
    ["FLUSHDB", "ASYNC"],
    ["FLUSHDB", "BOGUS"],
    ["SET", "a", "1"],
    ["SELECT", "3"],
    ["SET", "b", "2"],
    ["FLUSHALL", "SYNC"],
    ["DBSIZE"],
    keyspace,
  ],
  "KEYS and SCAN see the selected database only": [
    ["MSET", "x1", "1", "x2", "2"],
    ["SELECT", "1"],
    ["MSET", "y1", "1", "y2", "2", "y3", "3"],
    { args: ["KEYS", "*"], compare: unordered },
    ["SELECT", "0"],
    { args: ["KEYS", "*"], compare: unordered },
  ],
  "WATCH: a key changed in the same database breaks it, in another does not": [
    ["SET", "w", "1"],
    ["WATCH", "w"],
    on(1, "SELECT", "1"),
    on(1, "SET", "w", "other db"),
    ["MULTI"],
    ["GET", "w"],
    ["EXEC"],
    ["WATCH", "w"],
    on(1, "SELECT", "0"),
    on(1, "SET", "w", "2"),
    ["MULTI"],
    ["GET", "w"],
    ["EXEC"],
  ],
  "WATCH: SWAPDB, FLUSHDB and MOVE break it": [
    ["SET", "w", "1"],
    ["WATCH", "w"],
    on(1, "SWAPDB", "0", "1"),
    ["MULTI"],
    ["PING"],
    ["EXEC"],
    on(1, "SWAPDB", "0", "1"),
    ["WATCH", "w"],
    on(1, "FLUSHDB"),
    ["MULTI"],
    ["PING"],
    ["EXEC"],
    ["SET", "w", "1"],
    ["WATCH", "w"],
    on(1, "MOVE", "w", "4"),
    ["MULTI"],
    ["PING"],
    ["EXEC"],
  ],
  "SELECT inside MULTI applies to the commands after it": [
    ["MULTI"],
    ["SET", "t", "zero"],
    ["SELECT", "5"],
    ["SET", "t", "five"],
    ["EXEC"],
    ["GET", "t"],
    ["SELECT", "0"],
    ["GET", "t"],
  ],
};

differentialTest(
  "differential: databases, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
  },
);
