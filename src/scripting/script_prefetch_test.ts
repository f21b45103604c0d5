import assert from "node:assert/strict";
import { COMMANDS } from "../executor/commands.ts";

// The executor prefetches each pipelined request's first key (`firstKey`).
// Redis's legacy first key of the scripting commands is 0 (their keys
// follow numkeys), so a script's key was never prefetched and its GET
// missed the cache. The rows point at the first key after numkeys.
Deno.test("EVAL, EVALSHA and FCALL rows prefetch the first key after numkeys", () => {
  for (const name of ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"]) {
    assert.equal(COMMANDS.get(name)!.firstKey, 3, name);
  }
  // Counted keys elsewhere follow the same rule; a legacy first key is kept.
  assert.equal(COMMANDS.get("ZUNION")!.firstKey, 2);
  assert.equal(COMMANDS.get("GET")!.firstKey, 1);
  // COMMAND INFO still answers Redis's legacy 0.
  assert.equal(COMMANDS.get("EVALSHA")!.facts.firstKey, 0);
});
