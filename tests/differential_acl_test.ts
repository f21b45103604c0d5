/**
 * AUTH and ACL against redis-server 7.0.15, frames compared byte for byte
 * in RESP2 and RESP3: ACL GETUSER / LIST descriptions (flags, password
 * hashes, key patterns with %R~/%W~, channels, command rules rebuilt from
 * the bitmap, selectors), SETUSER's errors, ACL CAT, DRYRUN, NOPERM for
 * commands, keys and channels, NOAUTH / WRONGPASS / HELLO before and after
 * requirepass, and the ACL LOG entries they leave.
 *
 * Where Redis's order is its hash table's (random per process) — the
 * single commands after the category rules, ACL CAT's commands — the
 * comparison ignores order; everything else must be the same bytes.
 */

import {
  binaryString,
  type Comparator,
  differentialTest,
  DiffPair,
  normalized,
  shapeOnly,
  type StepLike,
  unordered,
} from "./_differential.ts";

/**
 * Command rules with the single-command tokens (`+get`, `-config|set`,
 * `+select|0`) sorted within each selector: Redis emits them in its command
 * table's hash order.
 */
const singleCommandsUnordered: Comparator = normalized(
  "singleCommandsUnordered",
  (f) =>
    binaryString(f.raw).split("\r\n").map((line) =>
      line.split("(").map((part) => {
        const words = part.split(" ");
        const singles = words.filter((w) => /^[+-][^@]/.test(w)).sort();
        let next = 0;
        return words.map((w) => /^[+-][^@]/.test(w) ? singles[next++] : w).join(" ");
      }).join("(")
    ).join("\r\n"),
);

/** ACL LOG without what depends on the moment and the connection (age, client-info). */
const aclLogEntries: Comparator = normalized(
  "aclLogEntries",
  (f) =>
    binaryString(f.raw)
      .replace(/age-seconds\r\n(\$\d+\r\n)?[^\r\n]*\r\n/g, "age-seconds\r\n")
      .replace(/client-info\r\n\$\d+\r\n[^\r\n]*\r\n/g, "client-info\r\n"),
);

const describe = (...args: string[]): StepLike => ({ args, compare: singleCommandsUnordered });

const CASES: Record<string, readonly StepLike[]> = {
  "the default user, and users of every kind of rule as GETUSER and LIST show them": [
    ["ACL", "GETUSER", "default"],
    ["ACL", "LIST"],
    [
      "ACL",
      "SETUSER",
      "u1",
      "on",
      ">p1",
      "~k*",
      "%R~r*",
      "+get",
      "+@hash",
      "-hget",
      "&ch",
      "(+set ~s*)",
    ],
    describe("ACL", "GETUSER", "u1"),
    ["ACL", "SETUSER", "u2", "+@all", "-debug", "-config|set"],
    ["ACL", "SETUSER", "u3", "on", "nopass", "-@all", "+@read", "-get", "+config|get"],
    describe("ACL", "GETUSER", "u3"),
    ["ACL", "SETUSER", "u4", "on", "nopass", "-@all", "+select|0", "+config|get"],
    describe("ACL", "GETUSER", "u4"),
    ["ACL", "SETUSER", "u5", "on", "nopass", "+@all", "-@dangerous", "~*", "&*"],
    describe("ACL", "GETUSER", "u5"),
    [
      "ACL",
      "SETUSER",
      "u6",
      "on",
      "#" + "a".repeat(64),
      "-@all",
      "+@write",
      "+@read",
      "%W~w*",
      "%RW~b*",
    ],
    describe("ACL", "GETUSER", "u6"),
    [
      "ACL",
      "SETUSER",
      "u6",
      "!" + "a".repeat(64),
      ">x",
      ">x",
      ">y",
      "<y",
      "(",
      "+get",
      "~a)",
      "clearselectors",
    ],
    describe("ACL", "GETUSER", "u6"),
    ["ACL", "SETUSER", "u7", "reset"],
    [
      "ACL",
      "SETUSER",
      "u8",
      "on",
      "nopass",
      "allcommands",
      "allkeys",
      "allchannels",
      "skip-sanitize-payload",
    ],
    ["ACL", "SETUSER", "u8", "nocommands", "resetkeys", "resetchannels", "&a", "&b", "~x", "%R~x"],
    describe("ACL", "LIST"),
    ["ACL", "USERS"],
    ["ACL", "GETUSER", "nobody"],
    ["ACL", "DELUSER", "u1", "nobody", "u2", "u3", "u4", "u5", "u6", "u7", "u8"],
    ["ACL", "USERS"],
  ],
  "SETUSER refuses a bad rule and changes nothing": [
    ["ACL", "SETUSER", "z", "on", "+get"],
    ["ACL", "SETUSER", "z", "+set", "bogus"],
    ["ACL", "SETUSER", "z", "<c"],
    ["ACL", "SETUSER", "z", "!abc"],
    ["ACL", "SETUSER", "z", "#ABC" + "0".repeat(61)],
    ["ACL", "SETUSER", "z", "(+get", "~x"],
    ["ACL", "SETUSER", "a b"],
    ["ACL", "SETUSER", "z", "~*", "~x"],
    ["ACL", "SETUSER", "z", "&*", "&x"],
    ["ACL", "SETUSER", "z", "+config|get|x"],
    ["ACL", "SETUSER", "z", "+nosuch"],
    ["ACL", "SETUSER", "z", "-nosuch"],
    ["ACL", "SETUSER", "z", "+@nosuch"],
    ["ACL", "SETUSER", "z", "+get|"],
    ["ACL", "SETUSER", "z", "%X~a"],
    ["ACL", "SETUSER", "z", "~a b"],
    ["ACL", "GETUSER", "z"],
    ["ACL", "DELUSER", "default"],
    ["ACL", "DELUSER", "z"],
  ],
  "CAT, GENPASS, LOG and SAVE/LOAD without a file: answers and errors": [
    ["ACL", "CAT"],
    ["ACL", "CAT", "nosuch"],
    ...[
      "keyspace",
      "read",
      "write",
      "string",
      "hash",
      "list",
      "set",
      "sortedset",
      "bitmap",
      "pubsub",
      "transaction",
      "blocking",
      "hyperloglog",
      "geo",
      "stream",
      "scripting",
    ]
      .map((c): StepLike => ({ args: ["ACL", "CAT", c], compare: unordered })),
    ["ACL", "GENPASS", "0"],
    ["ACL", "GENPASS", "4097"],
    ["ACL", "GENPASS", "x"],
    ["ACL", "LOG", "x"],
    ["ACL", "LOG", "RESET"],
    ["ACL", "LOG"],
    ["ACL", "SAVE"],
    ["ACL", "LOAD"],
    ["ACL", "WHOAMI"],
    ["ACL", "NOSUCH"],
  ],
  "DRYRUN: commands, read and write keys, channels, selectors": [
    [
      "ACL",
      "SETUSER",
      "d",
      "on",
      "nopass",
      "~k*",
      "%R~r*",
      "+get",
      "+set",
      "+copy",
      "+publish",
      "+subscribe",
      "+psubscribe",
      "&ch*",
      "(+hset ~h*)",
    ],
    ["ACL", "DRYRUN", "nobody", "get", "x"],
    ["ACL", "DRYRUN", "d", "nocmd"],
    ["ACL", "DRYRUN", "d", "get", "k1"],
    ["ACL", "DRYRUN", "d", "get", "r1"],
    ["ACL", "DRYRUN", "d", "get", "zz"],
    ["ACL", "DRYRUN", "d", "set", "r1", "v"],
    ["ACL", "DRYRUN", "d", "set", "k1", "v"],
    ["ACL", "DRYRUN", "d", "copy", "r1", "k1"],
    ["ACL", "DRYRUN", "d", "copy", "k1", "r1"],
    ["ACL", "DRYRUN", "d", "hset", "h1", "f", "v"],
    ["ACL", "DRYRUN", "d", "hset", "k1", "f", "v"],
    ["ACL", "DRYRUN", "d", "hget", "h1", "f"],
    ["ACL", "DRYRUN", "d", "publish", "ch1", "m"],
    ["ACL", "DRYRUN", "d", "publish", "other", "m"],
    ["ACL", "DRYRUN", "d", "subscribe", "ch1", "other"],
    ["ACL", "DRYRUN", "d", "psubscribe", "ch*"],
    ["ACL", "DRYRUN", "d", "psubscribe", "ch1*"],
    ["ACL", "DRYRUN", "d", "config", "get", "x"],
    ["ACL", "DELUSER", "d"],
  ],
  "a user's connection: NOPERM for commands, keys and channels, and the ACL LOG": [
    ["ACL", "LOG", "RESET"],
    [
      "ACL",
      "SETUSER",
      "app",
      "on",
      ">pw",
      "~app:*",
      "%R~ro:*",
      "+@read",
      "+@write",
      "-flushall",
      "+publish",
      "&news",
      "+multi",
      "+exec",
      "+acl|whoami",
    ],
    { conn: 1, args: ["AUTH", "app", "wrong"] },
    { conn: 1, args: ["AUTH", "nobody", "pw"] },
    { conn: 1, args: ["AUTH", "app", "pw"] },
    { conn: 1, args: ["ACL", "WHOAMI"] },
    { conn: 1, args: ["SET", "app:1", "v"] },
    { conn: 1, args: ["GET", "app:1"] },
    { conn: 1, args: ["GET", "ro:1"] },
    { conn: 1, args: ["SET", "ro:1", "v"] },
    { conn: 1, args: ["GET", "other"] },
    { conn: 1, args: ["MSET", "app:2", "v", "other", "v"] },
    { conn: 1, args: ["FLUSHALL"] },
    { conn: 1, args: ["CONFIG", "GET", "maxmemory"] },
    { conn: 1, args: ["PUBLISH", "news", "m"] },
    { conn: 1, args: ["PUBLISH", "sport", "m"] },
    { conn: 1, args: ["MULTI"] },
    { conn: 1, args: ["GET", "other"] },
    { conn: 1, args: ["SET", "app:3", "v"] },
    { conn: 1, args: ["EXEC"] },
    ["ACL", "SETUSER", "app", "+flushall", "~other"],
    { conn: 1, args: ["GET", "other"] },
    ["ACL", "SETUSER", "app", "-get"],
    { conn: 1, args: ["GET", "other"] },
    { args: ["ACL", "LOG"], compare: aclLogEntries },
    { args: ["ACL", "LOG", "2"], compare: aclLogEntries },
    ["ACL", "LOG", "RESET"],
    ["ACL", "DELUSER", "app"],
  ],
  "requirepass: NOAUTH, HELLO, AUTH forms, WRONGPASS, and a connection that RESETs": [
    ["AUTH", "pw"],
    ["CONFIG", "SET", "requirepass", "s3cret"],
    ["CONFIG", "GET", "requirepass"],
    ["PING"],
    ["RESET"],
    ["PING"],
    ["GET", "k"],
    ["NOSUCH"],
    ["GET"],
    ["HELLO"],
    ["HELLO", "3"],
    ["HELLO", "3", "AUTH", "default", "bad"],
    ["AUTH", "bad"],
    ["AUTH", "default", "bad"],
    ["AUTH", "a", "b", "c"],
    ["AUTH", "s3cret"],
    ["ACL", "WHOAMI"],
    ["RESET"],
    ["AUTH", "default", "s3cret"],
    ["RESET"],
    // The client id in HELLO's reply differs: shape only.
    { args: ["HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "me"], compare: shapeOnly },
    ["CLIENT", "GETNAME"],
    { args: ["ACL", "LOG"], compare: aclLogEntries },
    ["ACL", "LOG", "RESET"],
    ["CONFIG", "SET", "requirepass", ""],
    ["AUTH", "x"],
  ],
};

differentialTest(
  "differential: AUTH and ACL, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, undefined);
  },
);
