import assert from "node:assert/strict";
import { join } from "node:path";
import {
  flipByte,
  frameOffsets,
  openCollect,
  recordingLogger,
  segmentNames,
  tempDir,
  walOptions,
  writeLog,
} from "./_test_util.ts";
import { WalCorruptError } from "./errors.ts";
import { WalOp } from "./record.ts";
import { repairWal } from "./repair.ts";
import { SEGMENT_HEADER_BYTES } from "./segment.ts";
import { Wal } from "./wal.ts";

const FIRST = "0000000000000001.wal";

async function expectCorrupt(dir: string, file: string, offset: number): Promise<void> {
  const error = await assert.rejects(Wal.open(walOptions(dir), () => {}), (e: unknown) => {
    assert.ok(e instanceof WalCorruptError, String(e));
    assert.equal(e.file, join(dir, file));
    assert.equal(e.offset, offset);
    assert.ok(
      e.message.includes(join(dir, file)) && e.message.includes(`offset ${offset}`),
      e.message,
    );
    return true;
  });
  return error;
}

Deno.test("torn tail: garbage after the last record is cut with a warning", async () => {
  for (
    const garbage of [
      [1],
      [0, 0, 0, 0, 0, 0, 0, 0, 1],
      [0xff, 0xff, 0xff, 0xff, 1, 2, 3],
      Array(100).fill(7),
    ]
  ) {
    await using dir = await tempDir();
    await writeLog(walOptions(dir.path), 20);
    const path = join(dir.path, FIRST);
    const size = (await Deno.stat(path)).size;
    await Deno.writeFile(path, new Uint8Array(garbage), { append: true });
    const random = crypto.getRandomValues(new Uint8Array(garbage.length));
    if (garbage.length === 100) await Deno.writeFile(path, random, { append: true });

    const logger = recordingLogger();
    const { wal, records } = await openCollect(walOptions(dir.path, { logger }));
    assert.equal(records.length, 20);
    assert.equal((await Deno.stat(path)).size, size);
    const warn = logger.lines.find((l) => l.level === "warn");
    assert.ok(warn !== undefined, "warned");
    assert.equal(warn.fields.file, path);
    assert.equal(warn.fields.bytes, garbage.length === 100 ? 200 : garbage.length);
    assert.equal(wal.append(WalOp.Set, 0, "after", "x", 0), 21);
    await wal.close();
    const { wal: again, records: all } = await openCollect(walOptions(dir.path));
    assert.equal(all.length, 21);
    await again.close();
  }
});

Deno.test("torn tail: the last record cut mid-way at any offset", async () => {
  await using template = await tempDir();
  await writeLog(walOptions(template.path), 10, 40);
  const templateBytes = await Deno.readFile(join(template.path, FIRST));
  const offsets = await frameOffsets(join(template.path, FIRST));
  const last = offsets[offsets.length - 1];
  const frame = templateBytes.length - last;
  for (const keep of [1, 4, 7, 8, 12, 20, 31, 32, 40, frame - 8, frame - 1]) {
    await using dir = await tempDir();
    await Deno.writeFile(join(dir.path, FIRST), templateBytes.subarray(0, last + keep));
    const logger = recordingLogger();
    const { wal, records } = await openCollect(walOptions(dir.path, { logger }));
    assert.equal(records.length, 9, `cut after ${keep} bytes`);
    assert.equal(records[8].value, "v9".padEnd(40, "."));
    assert.equal((await Deno.stat(join(dir.path, FIRST))).size, last);
    assert.ok(logger.lines.some((l) => l.level === "warn" && l.fields.bytes === keep));
    await wal.close();
  }
});

Deno.test("corruption in the middle: a flipped byte in an early record stops the start", async () => {
  await using template = await tempDir();
  await writeLog(walOptions(template.path), 10, 40);
  const offsets = await frameOffsets(join(template.path, FIRST));
  // Positions in record 3: length field, CRC, LSN, op, key, value, padding.
  for (const delta of [0, 5, 9, 16, 33, 50, 70]) {
    await using dir = await tempDir();
    await Deno.copyFile(join(template.path, FIRST), join(dir.path, FIRST));
    await flipByte(join(dir.path, FIRST), offsets[2] + delta, delta === 0 ? 0x01 : 0x40);
    await expectCorrupt(dir.path, FIRST, offsets[2]);
  }
});

Deno.test("corruption of the second-to-last record is not mistaken for a torn tail", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path), 10, 40);
  const offsets = await frameOffsets(join(dir.path, FIRST));
  await flipByte(join(dir.path, FIRST), offsets[8] + 40);
  await expectCorrupt(dir.path, FIRST, offsets[8]);
});

Deno.test("damage in a segment that is not the last is corruption, even at its end", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path, { maxSegmentBytes: 1024 }), 100, 40);
  const names = await segmentNames(dir.path);
  assert.ok(names.length >= 3);
  const second = join(dir.path, names[1]);
  const size = (await Deno.stat(second)).size;
  await Deno.truncate(second, size - 3);
  const offsets = await frameOffsets(second);
  await expectCorrupt(dir.path, names[1], offsets[offsets.length - 1]);
});

Deno.test("a damaged header of an earlier segment is corruption at offset 0", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path, { maxSegmentBytes: 1024 }), 100, 40);
  const names = await segmentNames(dir.path);
  await flipByte(join(dir.path, names[1]), 2);
  await expectCorrupt(dir.path, names[1], 0);
});

Deno.test("a segment from another history breaks the chain", async () => {
  await using a = await tempDir();
  await using b = await tempDir();
  await writeLog(walOptions(a.path, { maxSegmentBytes: 1024 }), 60, 40);
  const wal = await Wal.open(walOptions(b.path, { maxSegmentBytes: 1024 }), () => {});
  for (let i = 1; i <= 60; i++) wal.append(WalOp.Set, 0, `other${i}`, "o".repeat(40), 0);
  await wal.close();
  const names = await segmentNames(a.path);
  assert.deepEqual(await segmentNames(b.path), names);
  await Deno.copyFile(join(b.path, names[1]), join(a.path, names[1]));
  await expectCorrupt(a.path, names[1], 16);
});

Deno.test("a last segment torn while being created is removed; appends continue", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path), 5);
  const torn = join(dir.path, "0000000000000006.wal");
  await Deno.writeFile(torn, new Uint8Array([0x4b, 0x57, 0x41, 0x4c, 1, 0]));
  const logger = recordingLogger();
  const { wal, records } = await openCollect(walOptions(dir.path, { logger }));
  assert.equal(records.length, 5);
  assert.ok(logger.lines.some((l) => l.level === "warn" && l.fields.file === torn));
  assert.deepEqual(await segmentNames(dir.path), [FIRST]);
  assert.equal(wal.append(WalOp.Set, 0, "k", "v", 0), 6);
  await wal.close();
});

Deno.test("an empty last segment (torn first record) is reused, not duplicated", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path, { maxSegmentBytes: 1024 }), 50, 40);
  const names = await segmentNames(dir.path);
  const last = join(dir.path, names[names.length - 1]);
  await Deno.truncate(last, SEGMENT_HEADER_BYTES + 5);
  const { wal, records } = await openCollect(walOptions(dir.path, { maxSegmentBytes: 1024 }));
  const kept = records.length;
  assert.equal(wal.append(WalOp.Set, 0, "k", "v", 0), kept + 1);
  await wal.close();
  assert.deepEqual(await segmentNames(dir.path), names);
  const reopened = await openCollect(walOptions(dir.path, { maxSegmentBytes: 1024 }));
  assert.equal(reopened.records.length, kept + 1);
  await reopened.wal.close();
});

Deno.test("foreign files in the directory stop the start, named", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path), 3);
  await Deno.writeTextFile(join(dir.path, "stray.txt"), "x");
  await assert.rejects(Wal.open(walOptions(dir.path), () => {}), /stray\.txt/);
});

Deno.test("deleting older segments keeps the rest verifiable (chain seed in header)", async () => {
  await using dir = await tempDir();
  await writeLog(walOptions(dir.path, { maxSegmentBytes: 1024 }), 100, 40);
  const names = await segmentNames(dir.path);
  await Deno.remove(join(dir.path, names[0]));
  await Deno.remove(join(dir.path, names[1]));
  const { wal, records } = await openCollect(walOptions(dir.path, { maxSegmentBytes: 1024 }));
  assert.equal(records[records.length - 1].lsn, 100);
  assert.equal(records[0].lsn, Number(names[2].slice(0, 16)));
  assert.equal(wal.append(WalOp.Set, 0, "k", "v", 0), 101);
  await wal.close();
});

Deno.test("recovery logs its summary; the directory is created if missing", async () => {
  await using dir = await tempDir();
  const walDir = join(dir.path, "a", "b", "wal");
  const logger = recordingLogger();
  const { wal } = await openCollect(walOptions(walDir, { logger }));
  wal.append(WalOp.Set, 0, "k", "v", 0);
  await wal.close();
  const again = recordingLogger();
  const { wal: reopened } = await openCollect(walOptions(walDir, { logger: again }));
  assert.ok(again.lines.some((l) => l.message === "wal recovered" && l.fields.records === 1));
  await reopened.close();
});

/** Copies a live log's directory (a crash image: the writer never finished). */
async function crashImage(records: number): Promise<{ dir: string; goodBytes: number }> {
  const live = await Deno.makeTempDir();
  const dir = await Deno.makeTempDir();
  const wal = await Wal.open(walOptions(live), () => {});
  for (let i = 1; i <= records; i++) wal.append(WalOp.Set, 0, `k${i}`, `v${i}`, 0);
  await wal.commit();
  await Deno.copyFile(join(live, FIRST), join(dir, FIRST));
  await wal.close();
  // After a clean close the segment is exactly its records.
  const goodBytes = (await Deno.stat(join(live, FIRST))).size;
  await Deno.remove(live, { recursive: true });
  return { dir, goodBytes };
}

Deno.test("preallocated zeros after the records end the log: no warning, appends resume after the records", async () => {
  const { dir, goodBytes } = await crashImage(20);
  try {
    const path = join(dir, FIRST);
    const preallocated = (await Deno.stat(path)).size;
    assert.ok(preallocated > goodBytes, `${preallocated} bytes preallocated, ${goodBytes} used`);
    const logger = recordingLogger();
    const { wal, records } = await openCollect(walOptions(dir, { logger }));
    assert.equal(records.length, 20);
    assert.deepEqual(logger.lines.filter((l) => l.level === "warn"), []);
    assert.equal((await Deno.stat(path)).size, preallocated, "zeros are not cut as a torn tail");
    assert.equal(wal.append(WalOp.Set, 0, "after", "x", 0), 21);
    await wal.close();
    const { wal: again, records: all } = await openCollect(walOptions(dir));
    assert.equal(all.length, 21);
    assert.equal(all[20].key, "after");
    await again.close();
    assert.ok((await Deno.stat(path)).size < preallocated, "a clean close trims the zeros");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a torn write over preallocated zeros (zeros, then data) is cut with a warning", async () => {
  const { dir, goodBytes } = await crashImage(20);
  try {
    const path = join(dir, FIRST);
    // A later page of an unfinished batch reached the disk, an earlier one not.
    const file = await Deno.open(path, { write: true });
    await file.seek(goodBytes + 4096, Deno.SeekMode.Start);
    await file.write(new Uint8Array(64).fill(0x5a));
    file.close();
    const logger = recordingLogger();
    const { wal, records } = await openCollect(walOptions(dir, { logger }));
    assert.equal(records.length, 20);
    const warn = logger.lines.find((l) => l.level === "warn");
    assert.ok(warn !== undefined && warn.fields.offset === goodBytes, JSON.stringify(logger.lines));
    assert.equal((await Deno.stat(path)).size, goodBytes);
    assert.equal(wal.append(WalOp.Set, 0, "after", "x", 0), 21);
    await wal.close();
    const { wal: again, records: all } = await openCollect(walOptions(dir));
    assert.equal(all.length, 21);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a hole with records after it stops the start, even one a torn write could leave; repair cuts it with a copy", async () => {
  const live = await Deno.makeTempDir();
  const dir = await Deno.makeTempDir();
  try {
    const wal = await Wal.open(walOptions(live), () => {});
    for (let i = 1; i <= 10; i++) wal.append(WalOp.Set, 0, `k${i}`, "a".repeat(400), 0);
    await wal.commit();
    // One batch (one write) of ten more records, 4 KiB or so.
    for (let i = 11; i <= 20; i++) wal.append(WalOp.Set, 0, `k${i}`, "b".repeat(400), 0);
    await wal.commit();
    await Deno.copyFile(join(live, FIRST), join(dir, FIRST));
    await wal.close();
    const path = join(dir, FIRST);
    const batchStart = (await frameOffsets(join(live, FIRST)))[10];
    // A power loss can leave the batch's first sectors unwritten (still
    // preallocated zeros) and its later ones written — whole records among
    // them. Those cannot be told from acknowledged records after damage,
    // so the start refuses (issue 13: cut only when nothing valid follows).
    const firstSectorAfter = Math.ceil((batchStart + 1) / 512) * 512 + 512;
    const image = await Deno.readFile(path);
    image.fill(0, batchStart, firstSectorAfter);
    await Deno.writeFile(path, image);
    await expectCorrupt(dir, FIRST, batchStart);
    const repaired = await repairWal(dir);
    assert.equal(repaired.plan?.cutOffset, batchStart);
    const copy = await Deno.readFile(join(repaired.backupDir!, `${FIRST}.cut-at-${batchStart}`));
    assert.deepEqual(copy, image.subarray(batchStart, image.length));
    const { wal: reopened, records } = await openCollect(walOptions(dir));
    assert.equal(records.length, 10);
    await reopened.close();
  } finally {
    await Deno.remove(live, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

/** A frame of the template: where it is and what must stay intact for it to be well-formed. */
interface Frame {
  start: number;
  end: number;
  /** Where its padding starts (the body ends). */
  bodyEnd: number;
}

/**
 * What a start must do with `damaged` (the template `original` changed), by
 * the rules a torn write dictates: refuse at the first changed frame when a
 * later frame is still whole (a record follows the damage), else cut there.
 */
function expectedOutcome(
  original: Uint8Array,
  damaged: Uint8Array,
  frames: Frame[],
): { refusedAt: number } | { kept: number; goodBytes: number } | { intact: true } {
  const same = (from: number, to: number) => {
    if (to > damaged.length) return false;
    for (let i = from; i < to; i++) if (original[i] !== damaged[i]) return false;
    return true;
  };
  const whole = (f: Frame) => same(f.start, f.start + 32) && same(f.bodyEnd, f.end);
  if (!same(0, SEGMENT_HEADER_BYTES)) {
    return frames.some(whole) ? { refusedAt: 0 } : { kept: 0, goodBytes: 0 };
  }
  const first = frames.findIndex((f) => !same(f.start, f.end));
  if (first < 0) return { intact: true };
  if (frames.slice(first + 1).some(whole)) return { refusedAt: frames[first].start };
  return { kept: first, goodBytes: frames[first].start };
}

Deno.test("the last segment zeroed, flipped or cut at many offsets: cut (with a copy) exactly where a torn write could explain it, else refused", async () => {
  // A crash image: 40 records, then one batch (the last write) of 20 more,
  // values of many lengths, preallocated zeros after.
  const live = await Deno.makeTempDir();
  const wal = await Wal.open(walOptions(live), () => {});
  for (let i = 1; i <= 40; i++) wal.append(WalOp.Set, 0, `k${i}`, "a".repeat((i * 37) % 300), 0);
  await wal.commit();
  for (let i = 41; i <= 60; i++) wal.append(WalOp.Set, 0, `k${i}`, "b".repeat((i * 53) % 400), 0);
  await wal.commit();
  const original = await Deno.readFile(join(live, FIRST));
  await wal.close();
  await Deno.remove(live, { recursive: true });
  const frames: Frame[] = [];
  const view = new DataView(original.buffer);
  for (let at = SEGMENT_HEADER_BYTES; view.getUint32(at, true) !== 0;) {
    const body = view.getUint32(at, true);
    const end = at + 8 + Math.ceil(body / 8) * 8;
    frames.push({ start: at, end, bodyEnd: at + 8 + body });
    at = end;
  }
  assert.equal(frames.length, 60);
  const dataEnd = frames[59].end;
  const lastWrite = frames[40].start;

  const cases: [string, Uint8Array][] = [];
  for (let o = 1; o < dataEnd; o += 89) {
    cases.push([`cut at ${o}`, original.slice(0, o)]);
    const sector = Math.floor(o / 512) * 512;
    const zeroed = original.slice();
    zeroed.fill(0, sector, sector + 512);
    cases.push([`sector ${sector} zeroed`, zeroed]);
    const flipped = original.slice();
    flipped[o] ^= 0x20;
    cases.push([`byte ${o} flipped`, flipped]);
  }
  // What a crash during the last write really leaves: a prefix of it (the
  // rest unwritten zeros, or the file ending there), or some sectors of it
  // unwritten among written ones.
  for (let b = Math.ceil(lastWrite / 512) * 512; b < dataEnd; b += 512) {
    const unwritten = original.slice();
    unwritten.fill(0, b);
    cases.push([`last write written up to sector ${b}`, unwritten]);
    cases.push([`last write, file ends at ${b + 100}`, original.slice(0, b + 100)]);
    const hole = original.slice();
    hole.fill(0, b, b + 512);
    cases.push([`last write with sector ${b} unwritten`, hole]);
  }

  let refused = 0;
  let cut = 0;
  for (const [name, damaged] of cases) {
    const expected = expectedOutcome(original, damaged, frames);
    await using dir = await tempDir();
    const path = join(dir.path, FIRST);
    await Deno.writeFile(path, damaged);
    if ("refusedAt" in expected) {
      refused++;
      await expectCorrupt(dir.path, FIRST, expected.refusedAt).catch((e) => {
        throw new Error(`${name}: ${e.message}`);
      });
      assert.deepEqual(await Deno.readFile(path), damaged, `${name}: nothing cut`);
      continue;
    }
    const { wal: opened, records } = await openCollect(walOptions(dir.path));
    await opened.close();
    if ("intact" in expected) {
      assert.equal(records.length, 60, name);
      continue;
    }
    cut++;
    assert.equal(records.length, expected.kept, name);
    if (expected.goodBytes === 0) continue; // the header: the segment is removed
    // The cut bytes that are not zeros were copied aside first.
    let end = damaged.length;
    while (end > expected.goodBytes && damaged[end - 1] === 0) end--;
    const backups = [...Deno.readDirSync(dir.path)].filter((e) => e.isDirectory);
    if (end === expected.goodBytes) continue;
    assert.equal(backups.length, 1, name);
    const copy = await Deno.readFile(
      join(dir.path, backups[0].name, `${FIRST}.cut-at-${expected.goodBytes}`),
    );
    assert.deepEqual(copy, damaged.subarray(expected.goodBytes, end), name);
  }
  assert.ok(refused > 50 && cut > 50, `${refused} refused, ${cut} cut`);
});
