import assert from "node:assert/strict";
import { Engine } from "../storage/engine.ts";
import { executorRunner } from "../executor/_test_runner.ts";
import { Store } from "../storage/store.ts";
import { loadLua } from "./lua_vm.ts";

// The replies a client could compare with Redis's are the differential
// tests' (tests/differential_scripting_test.ts); this checks that the reuse
// of KEYS and ARGV between EVALs is on (the VM's table layout was
// recognised) and stops for a table a script reshaped.
Deno.test("EVAL refills the last call's KEYS and ARGV unless a script reshaped them", async () => {
  await loadLua();
  const run = executorRunner(new Store(new Engine(4), undefined));
  const ids = "return {tostring(KEYS), tostring(ARGV), #KEYS, #ARGV, KEYS[1], ARGV[2]}";
  const first = await run("EVAL", ids, "1", "a", "x", "y");
  const second = await run("EVAL", ids, "2", "b", "c", "z");
  const [keys, argv] = first.split("\r\n").filter((line) => line.startsWith("table: "));
  assert.ok(second.includes(keys) && second.includes(argv), `${first} then ${second}`);
  assert.ok(second.startsWith("*5\r\n") && second.endsWith(":2\r\n:1\r\n$1\r\nb\r\n"), second);
  // A metatable, a hash part: the next call gets a table of its own.
  await run("EVAL", "setmetatable(KEYS, {}) ARGV.n = 1 return 1", "1", "a", "x");
  const third = await run("EVAL", ids, "1", "a", "x", "y");
  assert.ok(!third.includes(keys) && !third.includes(argv), third);
  assert.ok(third.endsWith(":1\r\n:2\r\n$1\r\na\r\n$1\r\ny\r\n"), third);
});
