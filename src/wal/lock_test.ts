import assert from "node:assert/strict";
import { lockDirectory, WalLockedError } from "./lock.ts";
import { listSegments } from "./segment.ts";
import { openCollect, tempDir, walOptions } from "./_test_util.ts";

Deno.test("a second open of the same directory is refused until the first closes", async () => {
  await using dir = await tempDir();
  const { wal } = await openCollect(walOptions(dir.path));
  await assert.rejects(openCollect(walOptions(dir.path)), WalLockedError);
  await assert.rejects(lockDirectory(dir.path), /in use by another kvdb process/);
  await wal.close();
  const { wal: again } = await openCollect(walOptions(dir.path));
  await again.close();
});

Deno.test("the LOCK file is not a foreign file", async () => {
  await using dir = await tempDir();
  const lock = await lockDirectory(dir.path);
  lock.close();
  assert.deepEqual((await listSegments(dir.path)).foreign, []);
});
