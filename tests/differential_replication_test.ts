/**
 * The replication commands a lone master answers (issue 15), kvdb against
 * redis-server byte for byte in RESP2 and RESP3: REPLICAOF / SLAVEOF NO ONE
 * on a master, their argument errors, WAIT's answers and errors with no
 * replica. (Following a master, promotion, WAIT with replicas and ROLE are
 * in tests/replicaof_test.ts and tests/sentinel_test.ts, which need several
 * servers. ROLE's offset is not compared here by design: kvdb's offsets are
 * log positions from the first write, which the harness's own FLUSHALL
 * already is, while a Redis master that never had a replica stays at 0.)
 */

import { differentialTest, DiffPair, STANDARD_RULES, type StepLike } from "./_differential.ts";

const CASES: Record<string, StepLike[]> = {
  "REPLICAOF / SLAVEOF NO ONE on a master": [
    ["REPLICAOF", "NO", "ONE"],
    ["SLAVEOF", "no", "one"],
    ["replicaof", "No", "One"],
  ],
  "REPLICAOF argument errors": [
    ["REPLICAOF", "127.0.0.1", "port"],
    ["REPLICAOF", "127.0.0.1", "99999999999999999999"],
    ["REPLICAOF", "127.0.0.1", "-1"],
    ["REPLICAOF", "127.0.0.1", "65536"],
    ["REPLICAOF", "127.0.0.1", "1.5"],
    ["REPLICAOF", "127.0.0.1"],
    ["REPLICAOF"],
    ["SLAVEOF", "127.0.0.1", "1", "2"],
  ],
  "WAIT with no replica": [
    ["SET", "k", "v"],
    ["WAIT", "0", "0"],
    ["WAIT", "1", "10"],
    ["WAIT", "-1", "0"],
    ["WAIT", "0", "100"],
  ],
  "WAIT argument errors": [
    ["WAIT", "x", "0"],
    ["WAIT", "1", "x"],
    ["WAIT", "1", "-1"],
    ["WAIT", "1.5", "0"],
    ["WAIT", "1"],
  ],
  "WAIT inside MULTI answers at once": [
    ["MULTI"],
    ["SET", "k", "v"],
    ["WAIT", "3", "0"],
    ["EXEC"],
  ],
};

differentialTest(
  "differential: replication commands on a lone master, kvdb vs redis-server 7.0, RESP2 and RESP3",
  // REPLICAOF needs the WAL in kvdb; a fresh log is at offset 0 as Redis's is.
  () => DiffPair.kvdbVsRedis({ kvdb: { wal: { enabled: true, data_directory: "wal" } } }),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
  },
);
