import assert from "node:assert/strict";
import { join } from "node:path";
import { walMain } from "../cmd/wal.ts";
import {
  flipByte,
  frameOffsets,
  openCollect,
  segmentNames,
  tempDir,
  walOptions,
  writeLog,
} from "./_test_util.ts";
import { checkWal } from "./check.ts";
import { WalCorruptError } from "./errors.ts";
import { repairWal } from "./repair.ts";
import { Wal } from "./wal.ts";

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await walMain(args, { out: (l) => out.push(l), err: (l) => out.push(l) });
  return { code, out: out.join("\n") };
}

async function backupDirs(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isDirectory) found.push(join(dir, e.name));
  return found;
}

Deno.test("repair cuts at the first damage, backs up what it cuts, and the log opens", async () => {
  await using dir = await tempDir();
  const options = () => walOptions(dir.path, { maxSegmentBytes: 1024 });
  await writeLog(options(), 100, 30);
  const names = await segmentNames(dir.path);
  assert.ok(names.length >= 4);
  const damaged = join(dir.path, names[1]);
  const offsets = await frameOffsets(damaged);
  const original = await Deno.readFile(damaged);
  const laterCopies = await Promise.all(
    names.slice(2).map((n) => Deno.readFile(join(dir.path, n))),
  );
  await flipByte(damaged, offsets[3] + 36);
  await assert.rejects(Wal.open(options(), () => {}), WalCorruptError);

  const { code, out } = await run(["repair", "--dir", dir.path]);
  assert.equal(code, 0, out);
  assert.ok(
    out.includes(
      `cut: ${names[1]} from byte offset ${offsets[3]}: ${original.length - offsets[3]} bytes`,
    ),
    out,
  );
  assert.match(out, new RegExp(`cut: ${names.length - 2} later segment\\(s\\)`));
  assert.match(out, /the log is clean/);

  // The backup holds every byte that was cut.
  const [backup] = await backupDirs(dir.path);
  assert.match(backup, /repair-backup-\d{8}T\d{6}Z$/);
  const cut = await Deno.readFile(join(backup, `${names[1]}.cut-at-${offsets[3]}`));
  const expectedCut = original.slice(offsets[3]);
  expectedCut[36] ^= 0x40; // the flipped byte, as it was on disk
  assert.deepEqual(cut, expectedCut);
  for (let i = 2; i < names.length; i++) {
    assert.deepEqual(await Deno.readFile(join(backup, names[i])), laterCopies[i - 2]);
  }
  assert.match(await Deno.readTextFile(join(backup, "REPAIR.txt")), /first damage/);

  // The log opens with every record before the damage, and continues.
  const { wal, records } = await openCollect(options());
  const lastKept = Number(names[1].slice(0, 16)) + 2;
  assert.equal(records.length, lastKept);
  assert.equal(wal.lastLsn, lastKept);
  assert.equal(wal.append(1, 0, "k", "v", 0), lastKept + 1);
  await wal.close();
  assert.equal((await checkWal(dir.path)).damage.length, 0);
});

Deno.test("repair of a torn tail truncates it; of a bad header moves the segment", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path, { maxSegmentBytes: 1024 }), 60, 30);
  const names = await segmentNames(dir.path);
  const last = join(dir.path, names[names.length - 1]);
  await Deno.writeFile(last, new Uint8Array([9, 9, 9]), { append: true });
  const torn = await repairWal(dir.path, { now: new Date("2030-01-02T03:04:05Z") });
  assert.equal(torn.plan?.cutBytes, 3);
  assert.equal(torn.backupDir, join(dir.path, "repair-backup-20300102T030405Z"));

  await flipByte(join(dir.path, names[1]), 1);
  const header = await repairWal(dir.path, { now: new Date("2030-01-02T03:04:05Z") });
  assert.equal(header.plan?.cutOffset, 0);
  assert.equal(header.backupDir, join(dir.path, "repair-backup-20300102T030405Z-2"));
  assert.deepEqual(await segmentNames(dir.path), [names[0]]);
  const { wal, records } = await openCollect(walOptions(dir.path, { maxSegmentBytes: 1024 }));
  assert.equal(records.length, Number(names[1].slice(0, 16)) - 1);
  await wal.close();
});

Deno.test("repair: clean log, dry run, foreign files", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path), 10);
  const clean = await run(["repair", "--dir", dir.path]);
  assert.equal(clean.code, 0);
  assert.match(clean.out, /nothing to repair/);

  const path = join(dir.path, "0000000000000001.wal");
  await flipByte(path, (await frameOffsets(path))[1] + 33);
  const before = await Deno.readFile(path);
  const dry = await run(["repair", "--dir", dir.path, "--dry-run"]);
  assert.equal(dry.code, 0);
  assert.match(dry.out, /dry run: nothing changed/);
  assert.deepEqual(await Deno.readFile(path), before);
  assert.deepEqual(await backupDirs(dir.path), []);

  await Deno.writeTextFile(join(dir.path, "stray"), "x");
  const refused = await run(["repair", "--dir", dir.path]);
  assert.equal(refused.code, 1);
  assert.match(refused.out, /refusing to repair.*stray/);
  assert.deepEqual(await Deno.readFile(path), before);
});
