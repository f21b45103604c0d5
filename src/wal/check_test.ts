import assert from "node:assert/strict";
import { join } from "node:path";
import { walMain } from "../cmd/wal.ts";
import { WalOp } from "./record.ts";
import { Wal } from "./wal.ts";
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

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await walMain(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("check: a clean log lists every segment, exit 0", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path, { maxSegmentBytes: 1024 }), 60, 30);
  const report = await checkWal(dir.path);
  assert.equal(report.damage.length, 0);
  assert.equal(report.records, 60);
  assert.equal(report.segments[0].firstLsn, 1);
  assert.equal(report.segments[report.segments.length - 1].lastLsn, 60);
  const { code, out } = await run(["check", "--dir", dir.path]);
  assert.equal(code, 0);
  assert.match(out, /0000000000000001\.wal +\d+ bytes +\d+ record\(s\) +LSN 1\.\.\d+/);
  assert.match(out, /clean/);
});

Deno.test("check: corruption in the middle is reported with file and offset, exit 1", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path, { maxSegmentBytes: 1024 }), 60, 30);
  const names = await segmentNames(dir.path);
  const path = join(dir.path, names[0]);
  const offsets = await frameOffsets(path);
  await flipByte(path, offsets[2] + 40);
  const report = await checkWal(dir.path);
  assert.deepEqual(report.damage.map((d) => [d.kind, d.file, d.offset]), [[
    "corrupt",
    path,
    offsets[2],
  ]]);
  // Later segments still verify on their own and are reported in full.
  assert.equal(report.segments[1].records > 0, true);
  assert.equal(report.canStart, false);
  const { code, out } = await run(["check", "--dir", dir.path]);
  assert.equal(code, 1);
  assert.ok(
    out.includes(`DAMAGE corrupt: ${path} at byte offset ${offsets[2]}: checksum mismatch`),
    out,
  );
  assert.match(out, /damaged: the server cannot start/);
});

Deno.test("check: a torn tail is reported as such, exit 1", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path), 10);
  const path = join(dir.path, "0000000000000001.wal");
  await Deno.writeFile(path, new Uint8Array([1, 2, 3]), { append: true });
  const report = await checkWal(dir.path);
  assert.deepEqual(report.damage.map((d) => d.kind), ["torn-tail"]);
  assert.equal(report.canStart, true);
  const { code, out } = await run(["check", "--dir", dir.path]);
  assert.equal(code, 1);
  assert.match(out, /torn-tail/);
  assert.match(out, /damaged, but the server can start/);
});

Deno.test("check: a segment that does not continue the chain is flagged", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path, { maxSegmentBytes: 1024 }), 60, 30);
  const names = await segmentNames(dir.path);
  await Deno.remove(join(dir.path, names[1]));
  const report = await checkWal(dir.path);
  assert.equal(report.damage[0].file, join(dir.path, names[2]));
  assert.equal(report.damage[0].offset, 8);
  assert.match(report.damage[0].reason, /previous segment ends/);
});

Deno.test("check: foreign files and a missing directory", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path), 3);
  await Deno.writeTextFile(join(dir.path, "junk"), "x");
  const { code, out } = await run(["check", "--dir", dir.path]);
  assert.equal(code, 1);
  assert.match(out, /DAMAGE foreign: .*junk/);
  const missing = await run(["check", "--dir", join(dir.path, "nope")]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope/);
});

Deno.test("wal command: usage", async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /kvdb wal check/);
  for (
    const args of [
      [],
      ["frob"],
      ["check"],
      ["check", "--dir"],
      ["check", "--bogus", "--dir", "x"],
      ["check", "--dir", "x", "extra"],
      ["check", "--dir", "x", "--dry-run"],
    ]
  ) {
    const { code, err } = await run(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(err.split("\n")[0], /^kvdb wal: /);
    assert.match(err, /Usage:/);
  }
});

Deno.test("check: hash records (HashSet, HashDel) are understood; the log replays them in order", async () => {
  await using dir = await tempDir();
  const options = walOptions(dir.path);
  const wal = await Wal.open(options, () => {});
  wal.beginGroup();
  wal.append(WalOp.HashSet, 0, "h", "fieldvalue", 5);
  wal.append(WalOp.HashSet, 0, "h", "\x00\xff", 1);
  wal.endGroup();
  wal.append(WalOp.HashDel, 0, "h", "field", 0);
  await wal.close();
  const report = await checkWal(dir.path);
  assert.deepEqual(report.damage, []);
  assert.equal(report.records, 3);
  const { code } = await run(["check", "--dir", dir.path]);
  assert.equal(code, 0);
  const { wal: reopened, records } = await openCollect(options);
  await reopened.close();
  assert.deepEqual(records.map((r) => [r.op, r.value, r.expiresAtMs]), [
    [WalOp.HashSet, "fieldvalue", 5],
    [WalOp.HashSet, "\x00\xff", 1],
    [WalOp.HashDel, "field", 0],
  ]);
});
