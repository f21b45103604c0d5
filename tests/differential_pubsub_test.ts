/**
 * Pub/sub (issue 14 point 6) against redis-server 7.0.15, frames compared
 * byte for byte in RESP2 and RESP3: (un)subscribe confirmations, messages
 * and pattern messages delivered to other connections (and to the
 * publisher itself in RESP3), a subscribed RESP2 connection's restricted
 * commands and its PING, PUBSUB's subcommands, shard channels, SUBSCRIBE
 * inside MULTI, RESET, and CLIENT REPLY OFF/SKIP beside pushes.
 *
 * A case is a function of the protocol: a confirmation or message is a
 * reply in RESP2 and a push in RESP3.
 */

import {
  CLIENT_LIST_FIELDS,
  differentialTest,
  DiffPair,
  shapeOnly,
  type Step,
  type StepLike,
} from "./_differential.ts";

/** Builds the steps of a case for RESP2 (`resp3` false) or RESP3. */
type Case = (p: Protocol) => StepLike[];

interface Protocol {
  /** A command answered by `n` confirmations (replies in RESP2, pushes in RESP3). */
  confirmed(conn: number, n: number, ...args: string[]): Step;
  /** Reads `n` messages on `conn` (replies in RESP2, pushes in RESP3). */
  messages(conn: number, n: number): Step;
  /** A command on `conn`, answered by one reply. */
  on(conn: number, ...args: string[]): Step;
  /** A command answered by one reply after `pushes` RESP3 pushes (RESP2: `pushes` + 1 replies). */
  withPushes(conn: number, pushes: number, ...args: string[]): Step;
  resp3: boolean;
}

function protocol(resp3: boolean): Protocol {
  return {
    resp3,
    confirmed: (conn, n, ...args) =>
      resp3 ? { conn, args, replies: 0, pushes: n } : { conn, args, replies: n },
    messages: (conn, n) => resp3 ? { conn, replies: 0, pushes: n } : { conn, replies: n },
    on: (conn, ...args) => ({ conn, args }),
    withPushes: (conn, pushes, ...args) =>
      resp3 ? { conn, args, replies: 1, pushes } : { conn, args, replies: 1 + pushes },
  };
}

const CASES: Record<string, Case> = {
  "SUBSCRIBE, PUBLISH from another connection, UNSUBSCRIBE": (p) => [
    p.confirmed(0, 2, "SUBSCRIBE", "news", "sport"),
    p.on(1, "PUBLISH", "news", "hello"),
    p.messages(0, 1),
    p.on(1, "PUBLISH", "nobody", "x"),
    p.on(1, "PUBLISH", "sport", "goal\r\n\x00binary\xff"),
    p.messages(0, 1),
    p.confirmed(0, 1, "UNSUBSCRIBE", "news"),
    p.confirmed(0, 1, "UNSUBSCRIBE", "never"),
    p.on(1, "PUBLISH", "news", "gone"),
    p.confirmed(0, 1, "UNSUBSCRIBE"),
    p.confirmed(0, 1, "UNSUBSCRIBE"),
    p.on(0, "GET", "k"),
  ],
  // Redis sends one message per matching pattern in its hash table's order
  // (random per process): each connection here matches one pattern.
  "PSUBSCRIBE: pmessage per matching pattern, after the channel's own message": (p) => [
    p.confirmed(0, 2, "PSUBSCRIBE", "n*", "n*"),
    p.confirmed(2, 1, "PSUBSCRIBE", "news.?"),
    p.confirmed(0, 1, "SUBSCRIBE", "news.1"),
    p.on(1, "PUBLISH", "news.1", "m"),
    p.messages(0, 2),
    p.messages(2, 1),
    p.on(1, "PUBSUB", "NUMPAT"),
    p.on(1, "PUBSUB", "NUMSUB", "news.1", "n*", "x"),
    p.on(1, "PUBSUB", "CHANNELS"),
    p.on(1, "PUBSUB", "CHANNELS", "news.*"),
    p.on(1, "PUBSUB", "CHANNELS", "x*"),
    p.confirmed(0, 1, "PUNSUBSCRIBE", "n*"),
    p.on(1, "PUBLISH", "news.1", "again"),
    p.messages(0, 1),
    p.messages(2, 1),
    p.confirmed(0, 1, "PUNSUBSCRIBE"),
    p.confirmed(0, 1, "PUNSUBSCRIBE"),
    p.confirmed(0, 1, "UNSUBSCRIBE", "news.1"),
  ],
  "a subscribed connection's commands": (p) => [
    p.confirmed(0, 1, "SUBSCRIBE", "c"),
    p.on(0, "GET", "k"),
    p.on(0, "GET"),
    p.on(0, "NOSUCH", "x"),
    p.on(0, "PING"),
    p.on(0, "PING", "hello"),
    { conn: 0, args: ["CLIENT", "LIST"], compare: CLIENT_LIST_FIELDS },
    p.on(0, "CLIENT", "NOSUCH"),
    p.on(0, "SET", "k", "v"),
    p.on(0, "MULTI"),
    p.on(0, "SELECT", "1"),
    // RESP3 allows MULTI here (and queues what follows): leave it.
    p.on(0, "DISCARD"),
    p.confirmed(0, 1, "SSUBSCRIBE", "s"),
    p.confirmed(0, 1, "UNSUBSCRIBE", "c"),
    p.on(0, "GET", "k"),
    p.confirmed(0, 1, "SUNSUBSCRIBE"),
    p.on(0, "GET", "k"),
  ],
  "shard channels: SSUBSCRIBE, SPUBLISH, PUBSUB SHARD*; patterns do not see them": (p) => [
    p.confirmed(0, 2, "SSUBSCRIBE", "s1", "s2"),
    p.confirmed(2, 1, "PSUBSCRIBE", "*"),
    p.on(1, "SPUBLISH", "s1", "m"),
    p.messages(0, 1),
    p.on(1, "PUBLISH", "s1", "plain"),
    p.messages(2, 1),
    p.on(1, "PUBSUB", "SHARDCHANNELS", "s1"),
    p.on(1, "PUBSUB", "SHARDNUMSUB", "s1", "s2", "s3"),
    p.on(1, "PUBSUB", "SHARDNUMSUB"),
    p.on(1, "PUBSUB", "SHARDCHANNELS", "a", "b"),
    p.confirmed(0, 2, "SUNSUBSCRIBE", "s1", "s2"),
    p.confirmed(0, 1, "SUNSUBSCRIBE"),
    p.on(1, "SPUBLISH", "s1", "m"),
  ],
  "PUBSUB errors and empty answers": (p) => [
    p.on(0, "PUBSUB"),
    p.on(0, "PUBSUB", "NOSUCH"),
    p.on(0, "PUBSUB", "NUMPAT", "x"),
    p.on(0, "PUBSUB", "CHANNELS", "a", "b"),
    p.on(0, "PUBSUB", "NUMSUB"),
    p.on(0, "PUBSUB", "CHANNELS"),
    p.on(0, "PUBLISH", "a"),
    p.on(0, "SUBSCRIBE"),
    p.on(0, "PSUBSCRIBE"),
    p.on(0, "SSUBSCRIBE"),
    p.on(0, "SPUBLISH", "a", "b"),
  ],
  "publishing to oneself: the message comes before PUBLISH's reply": (p) =>
    p.resp3
      ? [
        p.confirmed(0, 1, "SUBSCRIBE", "me"),
        p.withPushes(0, 1, "PUBLISH", "me", "hi"),
        p.on(0, "SET", "k", "v"),
        p.confirmed(0, 1, "UNSUBSCRIBE"),
      ]
      : [
        // RESP2: a subscribed connection cannot PUBLISH; another can.
        p.confirmed(0, 1, "SUBSCRIBE", "me"),
        p.on(0, "PUBLISH", "me", "hi"),
        p.on(1, "PUBLISH", "me", "hi"),
        p.messages(0, 1),
      ],
  "SUBSCRIBE inside MULTI; RESET leaves pub/sub mode": (p) => [
    p.on(0, "MULTI"),
    p.on(0, "SUBSCRIBE", "x"),
    p.resp3 ? { conn: 0, args: ["EXEC"], replies: 1 } : p.on(0, "EXEC"),
    p.on(0, "GET", "a"),
    p.on(1, "PUBLISH", "x", "m"),
    p.messages(0, 1),
    p.on(0, "RESET"),
    p.on(0, "GET", "a"),
    p.on(1, "PUBLISH", "x", "m"),
    p.on(1, "PUBSUB", "NUMSUB", "x"),
  ],
  "CLIENT REPLY OFF and SKIP hide replies, not confirmations or messages": (p) => [
    { conn: 0, args: ["CLIENT", "REPLY", "OFF"], replies: 0 },
    p.confirmed(0, 1, "SUBSCRIBE", "x"),
    p.on(1, "PUBLISH", "x", "m"),
    p.messages(0, 1),
    { conn: 0, args: ["PING"], replies: 0 },
    p.confirmed(0, 1, "UNSUBSCRIBE"),
    p.on(0, "CLIENT", "REPLY", "ON"),
    { conn: 0, args: ["CLIENT", "REPLY", "SKIP"], replies: 0 },
    { conn: 0, args: ["GET", "k"], replies: 0 },
    p.on(0, "PING"),
    p.on(0, "CLIENT", "REPLY", "X"),
  ],
  "a HELLO 2 while subscribed in RESP3 restricts the connection": (p) =>
    p.resp3
      ? [
        p.confirmed(0, 1, "SUBSCRIBE", "c"),
        p.on(0, "PING"),
        { conn: 0, args: ["HELLO", "2"], compare: shapeOnly },
        p.on(0, "PING"),
        p.on(0, "HELLO", "3"),
        p.on(0, "PUNSUBSCRIBE"),
        p.on(1, "PUBLISH", "c", "m"),
        { conn: 0, replies: 1 },
      ]
      : [],
};

differentialTest(
  "differential: pub/sub, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    for (const resp3 of [false, true]) {
      for (const [name, steps] of Object.entries(CASES)) {
        const label = `${name} (RESP${resp3 ? 3 : 2})`;
        const built = steps(protocol(resp3));
        if (built.length === 0) continue;
        await t.step(label, async () => {
          await pair.diff(built, { label, resp3 });
        });
      }
    }
  },
);
