import assert from "node:assert/strict";
import { join } from "node:path";
import { isDirectoryLocked, lockDirectory, WalLockedError } from "./lock.ts";
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

Deno.test("removing or replacing LOCK does not release the lock: it is on the directory", async () => {
  await using dir = await tempDir();
  const lock = await lockDirectory(dir.path);
  assert.equal((await Deno.readTextFile(join(dir.path, "LOCK"))).trim(), String(Deno.pid));
  await Deno.remove(join(dir.path, "LOCK"));
  await assert.rejects(lockDirectory(dir.path), WalLockedError);
  await Deno.writeTextFile(join(dir.path, "LOCK"), "");
  await assert.rejects(lockDirectory(dir.path), WalLockedError);
  assert.equal(await isDirectoryLocked(dir.path), true);
  lock.close();
  assert.equal(await isDirectoryLocked(dir.path), false);
  (await lockDirectory(dir.path)).close();
});

Deno.test("the refusal names the holder's PID when LOCK still says it", async () => {
  await using dir = await tempDir();
  const lock = await lockDirectory(dir.path);
  try {
    await assert.rejects(lockDirectory(dir.path), new RegExp(`\\(pid ${Deno.pid}\\)`));
  } finally {
    lock.close();
  }
});

Deno.test("the LOCK file and its temporary are not foreign files", async () => {
  await using dir = await tempDir();
  const lock = await lockDirectory(dir.path);
  lock.close();
  await Deno.writeTextFile(join(dir.path, "LOCK.tmp"), "1\n");
  assert.deepEqual((await listSegments(dir.path)).foreign, []);
});
