/**
 * EVAL scripts' `#!lua` shebang and its flags (Redis 7.0), against
 * redis-server 7.0 byte for byte in RESP2 and RESP3: the shebang's forms
 * and errors, `no-writes` (writes refused, EVAL_RO allowed), line numbers
 * kept, and the flags' checks before the run — under `maxmemory` a script
 * with a shebang is refused unless `allow-oom` or `no-writes`, even if it
 * would only read, while one without a shebang runs as before; functions'
 * flags go through the same checks (FCALL, FCALL_RO).
 */

import {
  differentialTest,
  DiffPair,
  KvdbServer,
  RedisServer,
  STANDARD_RULES,
  type StepLike,
} from "./_differential.ts";
import { converges, replicatedConfigs, RespClient, ServerProcess } from "./_helpers.ts";

const READ = "return redis.call('GET', KEYS[1])";
const WRITE = "return redis.call('SET', KEYS[1], 'w')";
const LIBRARY = [
  "#!lua name=flagged",
  "redis.register_function('plain', function(keys) return redis.call('GET', keys[1]) end)",
  "redis.register_function{function_name='reader', flags={'no-writes'},",
  "  callback=function(keys) return redis.call('GET', keys[1]) end}",
  "redis.register_function{function_name='writer', flags={'allow-oom'},",
  "  callback=function(keys) return redis.call('SET', keys[1], 'f') end}",
].join("\n");

const CASES: Record<string, StepLike[]> = {
  "shebang forms: bare, every flag, empty flags=, quoted, CRLF": [
    ["EVAL", "#!lua\nreturn 1", "0"],
    [
      "EVAL",
      "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 2",
      "0",
    ],
    ["EVAL", "#!lua flags=\nreturn 3", "0"],
    ["EVAL", '#!lua "flags=no-writes"\nreturn 4', "0"],
    ["EVAL", "#!lua  flags=no-writes \r\nreturn 5", "0"],
    ["EVAL", "#!lua flags=no-writes flags=allow-oom\nreturn 6", "0"],
  ],
  "shebang errors in Redis's words": [
    ["EVAL", "#!lua flags=bogus\nreturn 1", "0"],
    ["EVAL", "#!lua flags=no-writes,\nreturn 1", "0"],
    ["EVAL", "#!lua flags=,\nreturn 1", "0"],
    ["EVAL", "#!python\nreturn 1", "0"],
    ["EVAL", "#!LUA\nreturn 1", "0"],
    ["EVAL", "#! lua\nreturn 1", "0"],
    ["EVAL", "#!\nreturn 1", "0"],
    ["EVAL", "#!lua", "0"],
    ["EVAL", "#!lua foo=bar\nreturn 1", "0"],
    ["EVAL", "#!lua name=lib\nreturn 1", "0"],
    ["EVAL", '#!lua "unterminated\nreturn 1', "0"],
    ["EVAL", "#!lua flags=bogus\nreturn (", "0"],
    ["EVAL", "#!lua\nreturn (", "0"],
    ["SCRIPT", "LOAD", "#!lua flags=bogus\nreturn 1"],
    ["SCRIPT", "LOAD", "#!lua"],
    ["EVAL", "# not a shebang\nreturn 1", "0"],
  ],
  "line numbers count the shebang line": [
    ["EVAL", "#!lua\n\nreturn redis.call('nosuch')", "0"],
    ["EVAL", "#!lua\nreturn x", "0"],
  ],
  "no-writes: writes refused, EVAL_RO and EVALSHA_RO allowed; a shebang without it is a write": [
    ["SET", "k", "v"],
    ["EVAL", `#!lua flags=no-writes\n${WRITE}`, "1", "k"],
    ["EVAL", `#!lua flags=no-writes\nreturn redis.pcall('DEL', KEYS[1])`, "1", "k"],
    ["EVAL", `#!lua flags=no-writes\n${READ}`, "1", "k"],
    ["EVAL_RO", `#!lua flags=no-writes\n${READ}`, "1", "k"],
    ["EVAL_RO", `#!lua\n${READ}`, "1", "k"],
    ["EVAL_RO", `#!lua flags=allow-oom\n${READ}`, "1", "k"],
    ["EVAL_RO", `#!lua\n${READ}`, "x", "k"],
    ["EVAL", `#!lua\n${WRITE}`, "1", "k"],
    ["GET", "k"],
    ["SCRIPT", "LOAD", `#!lua flags=no-writes\n${READ}`],
    ["EVALSHA_RO", "d623bfea8e37744c1ffa709b62269c5db88a6bc0", "1", "k"],
    ["SCRIPT", "LOAD", `#!lua\n${READ}`],
    ["EVALSHA_RO", "4d25d7b131e1e699e80aef3747613f83c48ead97", "1", "k"],
    ["EVALSHA", "4d25d7b131e1e699e80aef3747613f83c48ead97", "1", "k"],
  ],
  "maxmemory: a shebang without allow-oom is refused even to read; no shebang runs": [
    ["SET", "k", "v"],
    ["FUNCTION", "LOAD", "REPLACE", LIBRARY],
    ["SCRIPT", "LOAD", `#!lua\n${READ}`],
    ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    ["CONFIG", "SET", "maxmemory", "1"],
    ["EVAL", `#!lua\n${READ}`, "1", "k"],
    ["EVALSHA", "4d25d7b131e1e699e80aef3747613f83c48ead97", "1", "k"],
    ["EVAL", "#!lua\nreturn (", "0"],
    ["EVAL", `#!lua\n${READ}`, "x", "k"],
    ["EVAL_RO", `#!lua\n${READ}`, "1", "k"],
    ["EVAL", `#!lua flags=no-writes\n${READ}`, "1", "k"],
    ["EVAL", `#!lua flags=allow-oom\n${WRITE}`, "1", "k"],
    ["EVAL", READ, "1", "k"],
    ["FCALL", "plain", "1", "k"],
    ["FCALL", "plain", "x", "k"],
    ["FCALL_RO", "plain", "1", "k"],
    ["FCALL", "reader", "1", "k"],
    ["FCALL_RO", "reader", "1", "k"],
    ["FCALL", "writer", "1", "k"],
    ["FCALL", "nosuch", "x"],
    ["CONFIG", "SET", "maxmemory", "0"],
    ["EVAL", `#!lua\n${READ}`, "1", "k"],
    ["GET", "k"],
    ["FUNCTION", "DELETE", "flagged"],
  ],
};

differentialTest(
  "differential: EVAL shebang flags, kvdb vs redis-server 7.0, RESP2 and RESP3",
  () => DiffPair.kvdbVsRedis(),
  async (t, pair) => {
    await pair.diffCases(t, CASES, STANDARD_RULES);
  },
);

/** On a read-only replica: a script may run only if it declared no-writes. */
const ON_REPLICA: StepLike[] = [
  ["EVAL", `#!lua flags=no-writes\n${READ}`, "1", "k"],
  ["EVAL_RO", `#!lua flags=no-writes\n${READ}`, "1", "k"],
  ["EVAL", `#!lua\n${READ}`, "1", "k"],
  ["EVAL", `#!lua flags=allow-oom\n${READ}`, "1", "k"],
  ["EVAL_RO", `#!lua\n${READ}`, "1", "k"],
  ["EVAL", READ, "1", "k"],
  ["EVAL", WRITE, "1", "k"],
  ["FCALL", "plain", "1", "k"],
  ["FCALL", "reader", "1", "k"],
  ["FCALL_RO", "reader", "1", "k"],
  ["FCALL_RO", "plain", "1", "k"],
];

Deno.test("differential: shebang and function flags on a read-only replica, kvdb vs redis-server 7.0", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "kvdb-shebang-replica-" });
  const { master, replica } = replicatedConfigs(dir);
  const servers: { stop(): Promise<unknown> }[] = [];
  const clients: RespClient[] = [];
  try {
    const kvdbMaster = await ServerProcess.start(master);
    servers.push({ stop: () => kvdbMaster.stop("SIGKILL") });
    const redisMaster = await RedisServer.start({ name: "redis master" });
    servers.push(redisMaster);
    const kvdbReplica = await KvdbServer.start(replica("replica", kvdbMaster.port));
    servers.push(kvdbReplica);
    const redisReplica = await RedisServer.start({
      args: ["--replicaof", "127.0.0.1", String(redisMaster.port)],
    });
    servers.push(redisReplica);
    for (const port of [kvdbMaster.port, redisMaster.port]) {
      const client = await RespClient.connect(port);
      clients.push(client);
      await client.call("SET", "k", "v");
      await client.call("FUNCTION", "LOAD", "REPLACE", LIBRARY);
    }
    for (const port of [kvdbReplica.port, redisReplica.port]) {
      const client = await RespClient.connect(port);
      clients.push(client);
      await converges(
        async () => JSON.stringify(await client.call("FCALL", "reader", "1", "k")),
        '"v"',
        `the replica on ${port} has the key and the library`,
      );
    }
    const pair = new DiffPair(kvdbReplica, redisReplica);
    for (const resp3 of [false, true]) {
      await t.step(`on a replica (RESP${resp3 ? 3 : 2})`, async () => {
        await pair.diff(ON_REPLICA, { rules: STANDARD_RULES, resp3, flush: false });
      });
    }
  } finally {
    for (const client of clients) client.close();
    for (const server of servers.reverse()) await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
