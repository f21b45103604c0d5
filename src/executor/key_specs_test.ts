import assert from "node:assert/strict";
import { COMMAND_FACTS } from "./command_facts.ts";
import type { CommandFacts } from "./command_facts_types.ts";
import { COMMANDS } from "./commands.ts";
import {
  commandKeys,
  hasKeys,
  KEY_PROCEDURES,
  keysFromSpecs,
  needsKeysProcedure,
  newKeysResult,
} from "./key_specs.ts";

const ALL_FACTS = COMMAND_FACTS.flatMap((f) => [f, ...(f.subcommands ?? [])]);

function factsOf(name: string): CommandFacts {
  const facts = ALL_FACTS.find((f) => f.name === name);
  assert.ok(facts, `no facts for ${name}`);
  return facts;
}

/** The keys (with their flags) `commandKeys` finds in a request line. */
function keys(line: string): [string, string][] {
  const args = line.split(" ");
  const fullName = COMMAND_FACTS.find((f) => f.name === args[0].toLowerCase())?.subcommands
    ? `${args[0]}|${args[1]}`.toLowerCase()
    : args[0].toLowerCase();
  const out = newKeysResult();
  const count = commandKeys(factsOf(fullName), args, out);
  assert.equal(count, out.positions.length);
  return out.positions.map((p, i) => [args[p], out.flags[i].join(" ")]);
}

function specKeys(line: string): string[] | -1 {
  const args = line.split(" ");
  const out = newKeysResult();
  const count = keysFromSpecs(factsOf(args[0].toLowerCase()), args, out);
  return count < 0 ? -1 : out.positions.map((p) => args[p]);
}

Deno.test("key specs: the implemented commands' keys and flags", () => {
  assert.deepEqual(keys("GET k"), [["k", "RO access"]]);
  assert.deepEqual(keys("SET k v"), [["k", "OW update"]]);
  assert.deepEqual(keys("SET k v EX 10 get"), [["k", "RW access update"]]);
  assert.deepEqual(keys("SET k v GETX"), [["k", "OW update"]]);
  assert.deepEqual(keys("SET k v \xc7ET"), [["k", "OW update"]]);
  assert.deepEqual(keys("DEL a b c"), [["a", "RM delete"], ["b", "RM delete"], [
    "c",
    "RM delete",
  ]]);
  assert.deepEqual(keys("MSET a 1 b 2"), [["a", "OW update"], ["b", "OW update"]]);
  assert.deepEqual(keys("MSET a 1 b"), [["a", "OW update"], ["b", "OW update"]]);
  assert.deepEqual(keys("MGET a b"), [["a", "RO access"], ["b", "RO access"]]);
  assert.deepEqual(keys("APPEND k x"), [["k", "RW insert"]]);
  assert.deepEqual(keys("EXPIRE k 10 NX"), [["k", "RW update"]]);
  assert.deepEqual(keys("PING"), []);
  assert.deepEqual(keys("CONFIG GET maxmemory"), []);
});

Deno.test("key specs: every implemented command with fixed key positions agrees with them", () => {
  // Redis keeps the legacy first/last/step beside the specs; for a command
  // whose keys do not move they must find the same arguments.
  let checked = 0;
  for (const spec of COMMANDS.values()) {
    for (const row of [spec, ...(spec.subcommands?.values() ?? [])]) {
      const facts = row.facts;
      if (!hasKeys(facts) || facts.flags.includes("movablekeys")) continue;
      const argc = Math.max(Math.abs(facts.arity), 6) | 1; // odd: whole key/value pairs
      const args = Array.from({ length: argc }, (_, i) => `a${i}`);
      args[0] = row.name.split("|")[0];
      const out = newKeysResult();
      commandKeys(facts, args, out);
      const last = facts.lastKey < 0 ? argc + facts.lastKey : facts.lastKey;
      const legacy: number[] = [];
      for (let i = facts.firstKey; i <= last; i += facts.keyStep) legacy.push(i);
      assert.deepEqual(out.positions, legacy, `${facts.name} with ${argc} arguments`);
      checked++;
    }
  }
  assert.ok(checked >= 24, `only ${checked} commands checked`);
});

Deno.test("key specs: keynum (EVAL, ZUNIONSTORE, LMPOP) from the facts alone", () => {
  assert.deepEqual(specKeys("EVAL s 2 a b x"), ["a", "b"]);
  assert.deepEqual(specKeys("EVAL s 0"), -1); // no key: Redis then asks EVAL's own code
  assert.deepEqual(specKeys("EVAL s x a"), -1);
  assert.deepEqual(specKeys("EVAL s -1 a"), -1);
  assert.deepEqual(specKeys("EVAL s 03 a b c"), -1); // Redis's integers have no leading zeros
  assert.deepEqual(specKeys("EVAL s 3 a b"), -1);
  // Redis holds the count in a C int: 2^32 + 1 is 1.
  assert.deepEqual(specKeys("EVAL s 4294967297 a"), ["a"]);
  assert.deepEqual(specKeys("ZUNIONSTORE d 2 a b WEIGHTS 1 2"), ["d", "a", "b"]);
  assert.deepEqual(specKeys("LMPOP 2 a b LEFT"), ["a", "b"]);
  assert.deepEqual(specKeys("BLMPOP 0 2 a b LEFT"), ["a", "b"]);
  assert.deepEqual(specKeys("SINTERCARD 2 a b LIMIT 1"), ["a", "b"]);
  // EVAL without keys is fine (no_mandatory_keys): commandKeys answers 0.
  assert.deepEqual(keys("EVAL s 0"), []);
  assert.equal(needsKeysProcedure(factsOf("eval")), false);
});

Deno.test("key specs: keyword search (XREAD STREAMS with a limit, GEORADIUS STORE)", () => {
  // STREAMS is followed by keys then as many ids: half the rest are keys.
  assert.deepEqual(specKeys("XREAD COUNT 2 STREAMS s1 s2 0 0"), ["s1", "s2"]);
  assert.deepEqual(specKeys("XREAD STREAMS s1 s2 s3 0 0"), ["s1", "s2"]);
  assert.deepEqual(specKeys("XREAD sTrEaMs s 0"), ["s"]);
  assert.deepEqual(specKeys("XREAD \xd3TREAMS s 0"), []); // ASCII case only
  assert.deepEqual(specKeys("XREADGROUP GROUP g c STREAMS s 0"), ["s"]);
  assert.deepEqual(specKeys("GEORADIUS k 1 2 3 m STORE d"), ["k", "d"]);
  assert.deepEqual(specKeys("GEORADIUS k 1 2 3 m"), ["k"]); // keyword absent: no key from it
  // The keyword is searched from the end for a negative startfrom (MIGRATE
  // ... KEYS a b), and its spec is incomplete: the specs alone cannot say.
  assert.equal(specKeys("MIGRATE h p  0 0 KEYS a b"), -1);
  assert.equal(needsKeysProcedure(factsOf("migrate")), true);
});

Deno.test("key specs: several specs, subcommands, not_key", () => {
  assert.deepEqual(specKeys("BITOP AND d a b"), ["d", "a", "b"]);
  assert.deepEqual(specKeys("LCS a b"), ["a", "b"]);
  const out = newKeysResult();
  assert.equal(commandKeys(factsOf("object|encoding"), ["OBJECT", "ENCODING", "k"], out), 1);
  assert.deepEqual(out.positions, [2]);
  assert.deepEqual(out.flags, [["RO"]]);
  assert.equal(hasKeys(factsOf("ping")), false);
  assert.equal(hasKeys(factsOf("set")), true);
  // A range past the arguments: the specs cannot apply.
  assert.equal(specKeys("GET"), -1);
});

Deno.test("key specs: a result is reused without growing stale", () => {
  const out = newKeysResult();
  commandKeys(factsOf("mget"), ["MGET", "a", "b", "c"], out);
  assert.equal(out.positions.length, 3);
  commandKeys(factsOf("get"), ["GET", "x"], out);
  assert.deepEqual(out.positions, [1]);
  assert.equal(out.flags.length, 1);
  assert.equal(keysFromSpecs(factsOf("eval"), ["EVAL", "s", "x"], out), -1);
  assert.equal(out.positions.length, 0);
});

Deno.test("key specs: every command that needs a key procedure and is served has one", () => {
  for (const spec of COMMANDS.values()) {
    for (const row of [spec, ...(spec.subcommands?.values() ?? [])]) {
      if (needsKeysProcedure(row.facts)) assert.ok(KEY_PROCEDURES.has(row.fullName), row.fullName);
    }
  }
});
