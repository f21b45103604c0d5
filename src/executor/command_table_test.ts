import assert from "node:assert/strict";
import { bytesToBinary } from "../bytes/binary_string.ts";
import { OutBuffer } from "../protocol/out_buffer.ts";
import { RespReplyWriter } from "../protocol/resp_writer.ts";
import { Engine } from "../storage/engine.ts";
import { Store } from "../storage/store.ts";
import { COMMAND_FACTS } from "./command_facts.ts";
import {
  COMMAND_FLAG_BITS,
  type CommandDeclaration,
  type CommandHandler,
  newSession,
} from "./command_spec.ts";
import {
  buildCommandTable,
  lookupFullName,
  lookupRequest,
  unknownSubcommand,
} from "./command_table.ts";
import { COMMANDS } from "./commands.ts";
import { Executor } from "./executor.ts";
import { KVDB_FACTS } from "./kvdb_facts.ts";
import { failingCommitLog } from "../storage/_test_log.ts";

const FACTS = [COMMAND_FACTS, KVDB_FACTS];

function handler(name: string, summary = `${name} test`): CommandHandler {
  return { name, summary, run: (_ctx, _args, w) => w.status(name) };
}

function build(declarations: CommandDeclaration[]) {
  return buildCommandTable(declarations, FACTS);
}

/** Runs requests through a RESP executor; each reply as it went on the wire. */
function resp(store = new Store(new Engine(4), undefined), readOnly = false) {
  const executor = new Executor(store, { readOnly });
  const out = new OutBuffer(64);
  const w = new RespReplyWriter(out);
  return async (...args: string[]): Promise<string> => {
    out.reset();
    await executor.execute(args, w, newSession());
    return bytesToBinary(out.view());
  };
}

Deno.test("facts join: arity, flags and keys come from the facts, the rest from the handler", () => {
  const table = build([handler("GET"), handler("MSET"), handler("PING")]);
  const get = table.get("GET")!;
  assert.equal(get.arity, 2);
  assert.equal(get.fullName, "get");
  assert.equal(get.summary, "GET test");
  assert.equal(get.write, false);
  assert.equal(get.loading, false);
  assert.equal(get.firstKey, 1);
  assert.equal(get.flags, COMMAND_FLAG_BITS.readonly | COMMAND_FLAG_BITS.fast);
  assert.deepEqual(get.facts.aclCategories, ["@read", "@string", "@fast"]);
  const mset = table.get("MSET")!;
  assert.equal(mset.write, true);
  assert.equal(mset.arity, -3);
  assert.equal(table.get("PING")!.firstKey, 0);
  assert.deepEqual([...table.keys()], ["GET", "MSET", "PING"]);
});

Deno.test("facts join: the prefetched element is the handler's, the argument after the key by default", () => {
  const table = build([handler("HSET"), { ...handler("ZADD"), element: -1 }]);
  assert.equal(table.get("HSET")!.element, 1);
  assert.equal(table.get("ZADD")!.element, -1);
  // The shipped table: ZADD and ZINCRBY name their member last (options and a score before it).
  assert.equal(COMMANDS.get("ZADD")!.element, -1);
  assert.equal(COMMANDS.get("ZINCRBY")!.element, -1);
  assert.equal(COMMANDS.get("SADD")!.element, 1);
});

Deno.test("facts join: a table that builds is complete", () => {
  assert.throws(() => build([handler("NOSUCH")]), /NOSUCH: no facts/);
  assert.throws(() => build([handler("GET"), handler("GET")]), /GET declared twice/);
  assert.throws(() => build([handler("get")]), /upper case/);
  assert.throws(() => build([handler("CONFIG")]), /CONFIG: has subcommands/);
  assert.throws(
    () => build([{ name: "GET", summary: "", subcommands: [] }]),
    /GET: declared with subcommands, but has none/,
  );
  assert.throws(
    () => build([{ name: "CONFIG", summary: "", subcommands: [handler("NOSUCH")] }]),
    /CONFIG NOSUCH: no facts for config\|nosuch/,
  );
  // MIGRATE's key specs are incomplete: it needs a key procedure first.
  assert.throws(() => build([handler("MIGRATE")]), /migrate: .*key procedure/);
  // kvdb's own facts join like Redis's.
  assert.equal(build([handler("REPLSYNC")]).get("REPLSYNC")!.arity, -1);
});

Deno.test("containers: a subcommand table per container, HELP added from the facts", () => {
  const table = build([{ name: "CONFIG", summary: "c", subcommands: [handler("GET")] }]);
  const config = table.get("CONFIG")!;
  assert.equal(config.run, undefined);
  assert.deepEqual([...config.subcommands!.keys()], ["GET", "HELP"]);
  const get = config.subcommands!.get("GET")!;
  assert.equal(get.name, "CONFIG|GET");
  assert.equal(get.fullName, "config|get");
  assert.equal(get.arity, -3);
  assert.equal(get.loading, true);
  assert.equal(lookupFullName(table, "Config|Get"), get);
  assert.equal(lookupFullName(table, "config"), config);
  assert.equal(lookupFullName(table, "config|set"), undefined);
  assert.equal(lookupFullName(table, "config|get|x"), undefined);
  assert.equal(lookupFullName(table, "get|x"), undefined);
  assert.equal(lookupRequest(table, ["config", "get", "x"]), get);
  assert.equal(lookupRequest(table, ["CONFIG"]), config);
  assert.equal(lookupRequest(table, ["CONFIG", "nosuch"]), undefined);
});

Deno.test("container dispatch: Redis's errors, each subcommand's own arity", async () => {
  const run = resp();
  assert.equal(await run("CONFIG"), "-ERR wrong number of arguments for 'config' command\r\n");
  assert.equal(
    await run("CONFIG", "nosuch"),
    "-ERR unknown subcommand 'nosuch'. Try CONFIG HELP.\r\n",
  );
  assert.equal(
    await run("config", "set", "a", "b"),
    "-ERR Unknown option or number of arguments for CONFIG SET - 'a'\r\n",
  );
  assert.equal(
    await run("CONFIG", "GET"),
    "-ERR wrong number of arguments for 'config|get' command\r\n",
  );
  assert.equal(
    await run("CLIENT", "ID", "x"),
    "-ERR wrong number of arguments for 'client|id' command\r\n",
  );
  assert.match(await run("CLIENT", "id"), /^:\d+\r\n$/);
  assert.equal(
    await run("COMMAND", "COUNT", "x"),
    "-ERR wrong number of arguments for 'command|count' command\r\n",
  );
  assert.equal(
    await run("COMMAND", "GETKEYS", "GET"),
    "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
  );
  assert.equal(await run("COMMAND", "COUNT"), `:${COMMANDS.size}\r\n`);
  assert.match(await run("COMMAND"), new RegExp(`^\\*${COMMANDS.size}\r\n`));
  // A long subcommand is echoed cut at 128 bytes; line breaks become blanks.
  const long = "x".repeat(200);
  assert.equal(
    await run("CONFIG", long),
    `-ERR unknown subcommand '${"x".repeat(128)}'. Try CONFIG HELP.\r\n`,
  );
  assert.equal(
    await run("CONFIG", "a\r\nb"),
    "-ERR unknown subcommand 'a  b'. Try CONFIG HELP.\r\n",
  );
  assert.equal(unknownSubcommand("CONFIG", "a\nb").text, `unknown CONFIG subcommand '"a\\nb"'`);
  const help = await run("CONFIG", "HELP");
  assert.match(help, /^\*\d+\r\n\+CONFIG <subcommand> /);
  assert.ok(help.includes("+GET <parameter> [<parameter> ...]\r\n"), help);
});

Deno.test("dispatch reads the flags: write on a replica, loading while the keyspace is unusable", async () => {
  const replica = resp(undefined, true);
  assert.match(await replica("SET", "k", "v"), /^-READONLY /);
  assert.match(await replica("GETDEL", "k"), /^-READONLY /);
  assert.equal(await replica("GET", "k"), "$-1\r\n");

  // A log whose commit fails, and no way to reload: the store stays loading.
  const store = new Store(new Engine(4), failingCommitLog());
  const run = resp(store);
  assert.equal(await run("SET", "k", "v"), "+OK\r\n");
  await assert.rejects(store.commit());
  assert.equal(store.loading, true);
  const loading = "-LOADING kvdb is loading the dataset in memory\r\n";
  // Commands without Redis's `loading` flag are refused, as Redis does...
  assert.equal(await run("GET", "k"), loading);
  assert.equal(await run("PING"), loading);
  assert.equal(await run("DBSIZE"), loading);
  // ...and those with it are served.
  assert.equal(await run("ECHO", "hi"), "$2\r\nhi\r\n");
  assert.equal(await run("SELECT", "0"), "+OK\r\n");
  assert.match(await run("COMMAND", "COUNT"), /^:\d+\r\n$/);
  assert.equal(await run("CONFIG", "GET", "nosuch"), "*0\r\n");
  assert.match(await run("CLIENT", "ID"), /^:\d+\r\n$/);
  assert.match(await run("INFO", "server"), /^\$\d+\r\n# Server/);
});
