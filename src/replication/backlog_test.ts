import assert from "node:assert/strict";
import { createLogger } from "../log/logger.ts";
import { OutBuffer } from "../protocol/out_buffer.ts";
import { Wal } from "../wal/wal.ts";
import { walOptions } from "../wal/_test_util.ts";
import { WalFlag, WalOp, type WalRecord } from "../wal/record.ts";
import { CHUNK_BYTES, ReplicationBacklog } from "./backlog.ts";
import { encodeRecords, FrameDecoder, FrameType } from "./frame.ts";

const log = createLogger({ level: "warn", output: "stderr" });

async function withBacklog(
  maxBytes: number,
  body: (backlog: ReplicationBacklog, wal: Wal) => Promise<void> | void,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const wal = await Wal.open(walOptions(dir, { logger: log }), () => {});
  try {
    await body(new ReplicationBacklog(wal, maxBytes), wal);
  } finally {
    await wal.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The frame copyFrame appends, decoded, and the LSN it returned. */
function copied(
  backlog: ReplicationBacklog,
  from: number,
  to: number,
  maxBytes: number,
): { records: WalRecord[]; next: number; bytes: Uint8Array } | undefined {
  const out = new OutBuffer(1024);
  const next = backlog.copyFrame(out, from, to, maxBytes);
  if (next === undefined) {
    assert.equal(out.length, 0, "nothing appended when the records are not kept");
    return undefined;
  }
  const bytes = out.view().slice();
  const decoder = new FrameDecoder(1 << 30);
  decoder.push(bytes);
  const frame = decoder.next();
  assert.ok(frame !== undefined && frame.type === FrameType.Records);
  assert.equal(decoder.next(), undefined);
  return { records: frame.records, next, bytes };
}

Deno.test("the backlog keeps records only from a replica's arrival until released", async () => {
  await withBacklog(1024 * 1024, async (backlog, wal) => {
    // No replica yet: the records reach the log, and nothing is held for them.
    backlog.append(WalOp.Set, 0, "a", "1", 0);
    backlog.append(WalOp.Set, 0, "b", "2", 0);
    await backlog.commit();
    assert.equal(backlog.active, false);
    assert.equal(backlog.firstLsn, undefined);
    assert.equal(backlog.bytes, 0);
    assert.equal(copied(backlog, 1, wal.durableLsn, 1024), undefined);

    backlog.activate();
    const lsn = backlog.append(WalOp.Set, 0, "c", "3", 0);
    await backlog.commit();
    assert.equal(backlog.firstLsn, lsn);
    assert.deepEqual(copied(backlog, lsn, wal.durableLsn, 1024)?.records.map((r) => r.key), ["c"]);
    assert.ok(backlog.bytes > 0);

    backlog.release();
    backlog.append(WalOp.Set, 0, "d", "4", 0);
    await backlog.commit();
    assert.equal(backlog.firstLsn, undefined);
    assert.equal(backlog.bytes, 0);
    // Everything is still in the log, where a replica is served from.
    assert.equal(wal.durableLsn, lsn + 1);
  });
});

Deno.test("a frame from the backlog is byte for byte the frame of the same records", async () => {
  await withBacklog(1024 * 1024, (backlog) => {
    backlog.activate();
    const records: WalRecord[] = [];
    backlog.beginGroup();
    for (let i = 0; i < 3; i++) {
      const key = `k\u00ff${i}`;
      const value = "v".repeat(i * 100) + "\x00";
      const lsn = backlog.append(WalOp.Set, 300 + i, key, value, i === 1 ? 1_800_000_000_000 : 0);
      records.push({ lsn, op: WalOp.Set, db: 300 + i, key, value, expiresAtMs: 0, flags: 0 });
    }
    backlog.endGroup();
    records[1].expiresAtMs = 1_800_000_000_000;
    records[0].flags = WalFlag.Continues;
    records[1].flags = WalFlag.Continues;
    const expected = new OutBuffer(1024);
    encodeRecords(expected, records);
    const got = copied(backlog, records[0].lsn, records[2].lsn, 1 << 20)!;
    assert.deepEqual(got.bytes, expected.view());
    assert.equal(got.next, records[2].lsn + 1);
  });
});

Deno.test("backlog frames stop near maxBytes at a group's end, and never past toLsn", async () => {
  await withBacklog(1 << 24, (backlog) => {
    backlog.activate();
    const first = backlog.append(WalOp.Set, 0, "a", "x".repeat(100), 0);
    backlog.beginGroup();
    for (let i = 0; i < 5; i++) backlog.append(WalOp.Set, 0, `g${i}`, "y".repeat(100), 0);
    backlog.endGroup();
    const last = backlog.append(WalOp.Set, 0, "z", "", 0);
    // 1 byte: one record, unless it continues a group — then the group's end.
    assert.deepEqual(copied(backlog, first, last, 1)?.records.length, 1);
    const group = copied(backlog, first + 1, last, 1)!;
    assert.deepEqual(group.records.map((r) => r.key), ["g0", "g1", "g2", "g3", "g4"]);
    assert.equal(group.next, last);
    assert.deepEqual(copied(backlog, first, first + 2, 1 << 20)?.records.length, 3);
    assert.equal(copied(backlog, last + 1, last + 1, 1 << 20), undefined);
    assert.equal(copied(backlog, first - 1, last, 1 << 20), undefined);
  });
});

Deno.test("the backlog spans chunks, drops whole old chunks past maxBytes, and keeps a group's flags across a chunk's end", async () => {
  await withBacklog(2 * CHUNK_BYTES, (backlog) => {
    backlog.activate();
    const value = "v".repeat(1000);
    const lsns: number[] = [];
    // Groups of two, so that some group straddles two chunks.
    for (let i = 0; i < 5000; i++) {
      backlog.beginGroup();
      lsns.push(backlog.append(WalOp.Set, 0, `a${i}`, value, 0));
      lsns.push(backlog.append(WalOp.Set, 0, `b${i}`, value, 0));
      backlog.endGroup();
    }
    // A record larger than a chunk has a chunk of its own.
    const big = backlog.append(WalOp.Set, 0, "big", "b".repeat(CHUNK_BYTES + 10), 0);
    assert.ok(backlog.bytes <= 2 * CHUNK_BYTES + CHUNK_BYTES + 100);
    assert.ok(backlog.bytes > CHUNK_BYTES);
    const first = backlog.firstLsn!;
    assert.ok(first > lsns[0], "the oldest records were dropped");
    // Everything kept comes back in order, with each group's first record continuing.
    const all: WalRecord[] = [];
    for (let at = first; at <= big;) {
      const frame = copied(backlog, at, big, 256 * 1024)!;
      all.push(...frame.records);
      at = frame.next;
    }
    assert.deepEqual(
      all.map((r) => r.lsn),
      Array.from({ length: big - first + 1 }, (_, i) => first + i),
    );
    for (const r of all) {
      if (r.key === "big") continue;
      assert.equal(r.flags, r.key.startsWith("a") ? WalFlag.Continues : 0, r.key);
      assert.equal(r.value, value);
    }
    assert.equal(all[all.length - 1].value.length, CHUNK_BYTES + 10);
  });
});
