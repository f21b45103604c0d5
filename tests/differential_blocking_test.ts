/**
 * The blocking list and sorted-set commands against redis-server 7.0.15,
 * frames compared byte for byte in RESP2 and RESP3, over the same timed
 * sequences of several clients: clients block (their replies not read
 * yet), others push, and the served replies are read in turn. Covered:
 * first blocked first served; a client on several keys served by the
 * first key made ready; a transaction's pushes served after EXEC, from its
 * final state; no blocking inside MULTI; timeouts (fractional, 0 = for
 * ever; the parsing errors); BLMOVE/BRPOPLPUSH chains and rotations;
 * WRONGTYPE at once and for BLMOVE's destination when served; a waited key
 * of another type; the arguments' errors in Redis's order; INFO clients
 * and CLIENT LIST while blocked; keyspace notifications of served pops; a
 * pipeline's replies before a blocking command.
 *
 * A step after a client blocks waits `SETTLE_MS`, so both servers have
 * registered the block before the next client acts.
 */

import {
  clientListFields,
  differentialTest,
  DiffPair,
  infoFields,
  type Step,
  type StepLike,
} from "./_differential.ts";

/** Time for both servers to register a block before the next step. */
const SETTLE_MS = 100;

/** A command on `conn`, its reply read. */
function on(conn: number, ...args: string[]): Step {
  return { conn, args };
}

/** A command on `conn` after the last block settled. */
function after(conn: number, ...args: string[]): Step {
  return { conn, args, sleepMs: SETTLE_MS };
}

/** A blocking command on `conn`, its reply not read yet. */
function block(conn: number, ...args: string[]): Step {
  return { conn, args, replies: 0, sleepMs: SETTLE_MS };
}

/** Reads the reply a blocked `conn` was served. */
function served(conn: number): Step {
  return { conn, replies: 1 };
}

const BLOCKED_INFO = infoFields(["blocked_clients", "clients_in_timeout_table"]);
/** CLIENT LIST on the fields a blocked client shows as in Redis (argv-mem: see the report). */
const BLOCKED_LIST = clientListFields(["name", "flags", "db", "multi", "cmd", "resp"]);

/** Cases as functions of the protocol (RESP3: notifications are pushes). */
const CASES: Record<string, (resp3: boolean) => StepLike[]> = {
  "several clients on one key: first blocked, first served": () => [
    block(1, "BRPOP", "q", "0"),
    block(2, "BRPOP", "q", "0"),
    block(3, "BLPOP", "q", "0"),
    { ...after(0, "INFO", "clients"), compare: BLOCKED_INFO },
    { ...on(0, "CLIENT", "LIST"), compare: BLOCKED_LIST },
    on(0, "RPUSH", "q", "1", "2"),
    served(1),
    served(2),
    on(0, "EXISTS", "q"),
    { ...on(0, "INFO", "clients"), compare: BLOCKED_INFO },
    on(0, "LPUSH", "q", "3", "4"),
    served(3),
    on(0, "LRANGE", "q", "0", "-1"),
  ],
  "BLPOP on several keys: served by the first key made ready, in a transaction": () => [
    block(1, "BLPOP", "a", "b", "c", "0"),
    block(2, "BRPOP", "c", "a", "0"),
    after(0, "MULTI"),
    on(0, "RPUSH", "c", "c1"),
    on(0, "RPUSH", "a", "a1", "a2"),
    on(0, "EXEC"),
    served(1),
    served(2),
    on(0, "LRANGE", "a", "0", "-1"),
    on(0, "EXISTS", "b", "c"),
  ],
  "a transaction's pushes serve from its final state": () => [
    block(1, "BLPOP", "m", "0"),
    block(2, "BZPOPMIN", "mz", "0"),
    block(3, "BLMPOP", "0", "1", "m", "RIGHT", "COUNT", "10"),
    after(0, "MULTI"),
    on(0, "RPUSH", "m", "a", "b", "c", "d"),
    on(0, "LPOP", "m"),
    on(0, "ZADD", "mz", "5", "five", "3", "three"),
    on(0, "ZINCRBY", "mz", "10", "three"),
    on(0, "EXEC"),
    served(1),
    served(2),
    served(3),
    on(0, "ZRANGE", "mz", "0", "-1", "WITHSCORES"),
    on(0, "EXISTS", "m"),
  ],
  "created and deleted inside one transaction: nobody is served": () => [
    block(1, "BLPOP", "t", "0.3"),
    after(0, "MULTI"),
    on(0, "RPUSH", "t", "x"),
    on(0, "DEL", "t"),
    on(0, "EXEC"),
    { conn: 1, replies: 1, timeoutMs: 3000 },
  ],
  "inside MULTI they never block: nil as on a timeout": () => [
    on(0, "MULTI"),
    on(0, "BLPOP", "none", "0"),
    on(0, "BRPOP", "none", "x", "0"),
    on(0, "BLMOVE", "none", "d", "LEFT", "RIGHT", "0"),
    on(0, "BRPOPLPUSH", "none", "d", "0"),
    on(0, "BLMPOP", "0", "1", "none", "LEFT"),
    on(0, "BZPOPMIN", "none", "0"),
    on(0, "BZPOPMAX", "none", "0"),
    on(0, "BZMPOP", "0", "1", "none", "MAX", "COUNT", "3"),
    on(0, "RPUSH", "full", "1", "2"),
    on(0, "BLPOP", "none", "full", "0"),
    on(0, "BLMOVE", "full", "d", "RIGHT", "LEFT", "0"),
    on(0, "EXEC"),
    on(0, "LRANGE", "d", "0", "-1"),
  ],
  "timeouts: fractional seconds answer nil; served before its time": () => [
    { ...on(0, "BLPOP", "none", "0.05"), timeoutMs: 3000 },
    { ...on(0, "BRPOP", "none", "other", ".05"), timeoutMs: 3000 },
    { ...on(0, "BLMOVE", "none", "d", "LEFT", "LEFT", "0.01"), timeoutMs: 3000 },
    { ...on(0, "BRPOPLPUSH", "none", "d", "0.01"), timeoutMs: 3000 },
    { ...on(0, "BLMPOP", "0.01", "1", "none", "LEFT"), timeoutMs: 3000 },
    { ...on(0, "BZPOPMIN", "none", "0.0001"), timeoutMs: 3000 },
    { ...on(0, "BZPOPMAX", "none", "1e-2"), timeoutMs: 3000 },
    { ...on(0, "BZMPOP", "0.01", "1", "none", "MIN"), timeoutMs: 3000 },
    block(1, "BLPOP", "soon", "5"),
    { ...after(0, "INFO", "clients"), compare: BLOCKED_INFO },
    on(0, "RPUSH", "soon", "in-time"),
    served(1),
    { ...on(0, "INFO", "clients"), compare: BLOCKED_INFO },
  ],
  "timeout 0 waits for ever; negative or bad timeouts are refused": () => [
    block(1, "BZPOPMIN", "forever", "0"),
    block(2, "BLPOP", "forever2", "-0.0005"),
    { ...on(0, "INFO", "clients"), sleepMs: 1000, compare: BLOCKED_INFO },
    on(0, "ZADD", "forever", "2", "two", "1", "one"),
    on(0, "RPUSH", "forever2", "x"),
    served(1),
    served(2),
    on(0, "BLPOP", "k", "-1"),
    on(0, "BLPOP", "k", "-0.0010001"),
    on(0, "BLPOP", "k", "inf"),
    on(0, "BLPOP", "k", "1e400"),
    on(0, "BLPOP", "k", "nan"),
    on(0, "BLPOP", "k", "abc"),
    on(0, "BLPOP", "k", ""),
    on(0, "BLPOP", "k", " 1"),
    on(0, "BZPOPMAX", "k", "1e-5000"),
    on(0, "BLMOVE", "k", "d", "LEFT", "RIGHT", "-1"),
    on(0, "BRPOPLPUSH", "k", "d", "x"),
    on(0, "BLMPOP", "-2", "1", "k", "LEFT"),
    on(0, "BZMPOP", "bad", "1", "k", "MIN"),
  ],
  "arguments: Redis's errors in Redis's order": () => [
    on(0, "BLPOP", "k"),
    on(0, "BZPOPMIN", "k"),
    on(0, "BLMOVE", "k", "d", "LEFT", "RIGHT"),
    on(0, "BLMOVE", "k", "d", "UP", "RIGHT", "x"),
    on(0, "BLMOVE", "k", "d", "left", "DOWN", "x"),
    on(0, "BLMOVE", "k", "d", "left", "right", "x"),
    on(0, "BLMPOP", "0", "0", "k", "LEFT"),
    on(0, "BLMPOP", "0", "x", "k", "LEFT"),
    on(0, "BLMPOP", "0", "2", "k", "LEFT"),
    on(0, "BLMPOP", "0", "1", "k", "MIDDLE"),
    on(0, "BLMPOP", "x", "1", "k", "LEFT", "COUNT", "0"),
    on(0, "BLMPOP", "x", "1", "k", "LEFT", "COUNT"),
    on(0, "BLMPOP", "x", "1", "k", "LEFT", "COUNT", "1", "COUNT", "2"),
    on(0, "BLMPOP", "x", "1", "k", "LEFT", "EXTRA"),
    on(0, "BZMPOP", "0", "0", "k", "MIN"),
    on(0, "BZMPOP", "0", "1", "k", "LEFT"),
    on(0, "BZMPOP", "x", "1", "k", "MAX", "COUNT", "-1"),
    on(0, "BZMPOP", "x", "1", "k", "max", "count", "2"),
  ],
  "WRONGTYPE at once, keys in order; a list before it is popped": () => [
    on(0, "SET", "s", "v"),
    on(0, "ZADD", "z", "1", "m", "2", "n"),
    on(0, "RPUSH", "l", "e1", "e2", "e3"),
    on(0, "BLPOP", "missing", "s", "0"),
    on(0, "BRPOP", "z", "l", "0"),
    on(0, "BLPOP", "l", "s", "0"),
    on(0, "BZPOPMIN", "l", "0"),
    on(0, "BZPOPMAX", "missing", "s", "z", "0"),
    on(0, "BZPOPMAX", "z", "s", "0"),
    on(0, "BLMOVE", "s", "d", "LEFT", "RIGHT", "0"),
    on(0, "BLMOVE", "l", "s", "LEFT", "RIGHT", "0"),
    on(0, "BRPOPLPUSH", "l", "z", "0"),
    on(0, "BLMPOP", "0", "3", "missing", "z", "l", "LEFT"),
    on(0, "BZMPOP", "0", "2", "l", "z", "MIN"),
    on(0, "BZMPOP", "0", "2", "missing", "z", "MIN"),
    on(0, "LRANGE", "l", "0", "-1"),
    on(0, "EXISTS", "z", "d"),
  ],
  "BLMOVE blocked with a destination of another type: WRONGTYPE when served": () => [
    on(0, "SET", "dst", "v"),
    block(1, "BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"),
    block(2, "BLPOP", "src", "0"),
    after(0, "RPUSH", "src", "1", "2"),
    served(1),
    served(2),
    on(0, "LRANGE", "src", "0", "-1"),
    on(0, "GET", "dst"),
  ],
  "ready order is creation order: a change to an existing key readies nothing": () => [
    block(1, "BLPOP", "z", "y", "0"),
    after(0, "ZADD", "z", "1", "m"),
    on(0, "MULTI"),
    on(0, "ZADD", "z", "2", "m2"),
    on(0, "RPUSH", "y", "from-y"),
    on(0, "DEL", "z"),
    on(0, "RPUSH", "z", "from-z"),
    on(0, "EXEC"),
    served(1),
    on(0, "LRANGE", "z", "0", "-1"),
  ],
  "a waited key of another type leaves them blocked": () => [
    block(1, "BLPOP", "t", "0"),
    block(2, "BZPOPMIN", "t", "0"),
    after(0, "SET", "t", "string"),
    on(0, "DEL", "t"),
    on(0, "ZADD", "t", "1", "m", "2", "n"),
    served(2),
    { ...on(0, "INFO", "clients"), compare: BLOCKED_INFO },
    on(0, "DEL", "t"),
    on(0, "RPUSH", "t", "finally"),
    served(1),
    on(0, "TYPE", "t"),
  ],
  "chains: BLMOVE, BRPOPLPUSH and BLMPOP served by one push": () => [
    block(1, "BLMOVE", "s1", "s2", "LEFT", "RIGHT", "0"),
    block(2, "BRPOPLPUSH", "s2", "s3", "0"),
    block(3, "BLMPOP", "0", "2", "nothing", "s3", "RIGHT", "COUNT", "5"),
    after(0, "RPUSH", "s1", "x", "y"),
    served(1),
    served(2),
    served(3),
    on(0, "LRANGE", "s1", "0", "-1"),
    on(0, "EXISTS", "s2", "s3"),
  ],
  "a rotation: BLMOVE of a key onto itself, then the next waiter": () => [
    block(1, "BLMOVE", "r", "r", "LEFT", "RIGHT", "0"),
    block(2, "BLPOP", "r", "0"),
    block(3, "BLPOP", "r", "r", "0"),
    after(0, "RPUSH", "r", "a", "b"),
    served(1),
    served(2),
    served(3),
    on(0, "EXISTS", "r"),
  ],
  "sorted sets: served pops, scores as RESP3 doubles, COUNT beyond the size": () => [
    block(1, "BZPOPMAX", "z1", "z2", "0"),
    block(2, "BZMPOP", "0", "2", "z2", "z1", "MIN", "COUNT", "10"),
    block(3, "BZPOPMIN", "z2", "0"),
    after(0, "ZADD", "z2", "1.5", "a", "-inf", "low", "inf", "high", "2e20", "big"),
    served(1),
    served(2),
    on(0, "ZADD", "z2", "0.1", "tenth"),
    served(3),
    on(0, "EXISTS", "z1", "z2"),
  ],
  "a pipeline's replies before a blocking command come when it blocks": () => [
    {
      conn: 1,
      raw: "*3\r\n$5\r\nRPUSH\r\n$5\r\nother\r\n$1\r\n1\r\n" +
        "*3\r\n$5\r\nBLPOP\r\n$4\r\nwait\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n",
      replies: 1,
    },
    after(0, "RPUSH", "wait", "w"),
    { conn: 1, replies: 2 },
  ],
  "BLPOP naming a key twice counts it once": () => [
    block(1, "BLPOP", "k", "k", "j", "k", "0"),
    block(2, "BLPOP", "k", "0"),
    after(0, "RPUSH", "k", "1", "2"),
    served(1),
    served(2),
  ],
  "keyspace notifications of a served pop": (resp3) => [
    on(3, "CONFIG", "SET", "notify-keyspace-events", "KEA"),
    resp3
      ? { conn: 4, args: ["PSUBSCRIBE", "__keyevent@0__:*"], replies: 0, pushes: 1 }
      : { conn: 4, args: ["PSUBSCRIBE", "__keyevent@0__:*"] },
    block(1, "BLPOP", "n", "0"),
    block(2, "BZPOPMIN", "nz", "0"),
    after(0, "RPUSH", "n", "v"),
    on(0, "ZADD", "nz", "1", "m"),
    served(1),
    served(2),
    resp3 ? { conn: 4, replies: 0, pushes: 6 } : { conn: 4, replies: 6 },
    on(3, "CONFIG", "SET", "notify-keyspace-events", ""),
  ],
};

differentialTest(
  "differential: blocking list and sorted-set commands, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    for (const resp3 of [false, true]) {
      for (const [name, steps] of Object.entries(CASES)) {
        const label = `${name} (RESP${resp3 ? 3 : 2})`;
        await t.step(label, async () => {
          await pair.diff(steps(resp3), { label, resp3 });
        });
      }
    }
  },
);
