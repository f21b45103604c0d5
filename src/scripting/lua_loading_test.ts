import assert from "node:assert/strict";
import { luaLoaded } from "./lua_vm.ts";

// Issue 20: the Lua VM (~3.5 MB resident) loads on first use. What a server
// imports at start (the command table, with every scripting command, and
// the server) must not load it.
Deno.test("importing the server and its command table does not load the Lua VM", async () => {
  await import("../executor/commands.ts");
  await import("../cmd/server.ts");
  assert.equal(luaLoaded(), false);
});
