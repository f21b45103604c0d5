import assert from "node:assert/strict";
import { applyFunctionRecord, FunctionLibraries, isFunctionOp } from "./function_libraries.ts";
import { entryProblem, isWalOp, WalOp } from "../wal/record.ts";
import { applyChange, EngineList } from "../storage/store.ts";
import { Engine } from "../storage/engine.ts";

Deno.test("function library records: load replaces, delete and flush remove, the version moves", () => {
  const libraries = new FunctionLibraries();
  const v0 = libraries.version;
  applyFunctionRecord(libraries, { op: WalOp.FunctionLoad, key: "a", value: "code1" });
  applyFunctionRecord(libraries, { op: WalOp.FunctionLoad, key: "b", value: "code2" });
  applyFunctionRecord(libraries, { op: WalOp.FunctionLoad, key: "a", value: "code3" });
  assert.equal(libraries.get("a"), "code3");
  assert.equal(libraries.size, 2);
  applyFunctionRecord(libraries, { op: WalOp.FunctionDelete, key: "b", value: "" });
  assert.deepEqual([...libraries.entries()], [["a", "code3"]]);
  assert.ok(libraries.version > v0);
  const before = libraries.version;
  applyFunctionRecord(libraries, { op: WalOp.FunctionDelete, key: "nosuch", value: "" });
  assert.equal(libraries.version, before, "deleting nothing changes nothing");
  applyFunctionRecord(libraries, { op: WalOp.FunctionFlush, key: "", value: "" });
  assert.equal(libraries.size, 0);
});

Deno.test("function ops are known WAL ops with strict fields, applied beside the keyspace", () => {
  for (const op of [WalOp.FunctionLoad, WalOp.FunctionDelete, WalOp.FunctionFlush]) {
    assert.ok(isWalOp(op) && isFunctionOp(op));
  }
  assert.equal(entryProblem(WalOp.FunctionLoad, "lib", "#!lua name=lib", 0), undefined);
  assert.match(entryProblem(WalOp.FunctionLoad, "", "x", 0)!, /names a library/);
  assert.match(entryProblem(WalOp.FunctionDelete, "lib", "x", 0)!, /no value/);
  assert.match(entryProblem(WalOp.FunctionFlush, "x", "", 0)!, /no key/);
  const keyspaces = new EngineList([new Engine(2)]);
  keyspaces.engineOf(0).set("k", "v", 0);
  applyChange(keyspaces, {
    lsn: 1,
    op: WalOp.FunctionLoad,
    db: 0,
    key: "lib",
    value: "c",
    expiresAtMs: 0,
  });
  applyChange(keyspaces, { lsn: 2, op: WalOp.FlushAll, db: 0, key: "", value: "", expiresAtMs: 0 });
  assert.equal(keyspaces.functions.get("lib"), "c", "FLUSHALL keeps functions, as in Redis");
  assert.equal(keyspaces.engineOf(0).size, 0);
});
