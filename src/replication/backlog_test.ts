import assert from "node:assert/strict";
import { createLogger } from "../log/logger.ts";
import { Wal } from "../wal/wal.ts";
import { walOptions } from "../wal/_test_util.ts";
import { WalOp } from "../wal/record.ts";
import { ReplicationBacklog } from "./backlog.ts";

const log = createLogger({ level: "warn", output: "stderr" });

Deno.test("the backlog keeps records only from a replica's arrival until released", async () => {
  const dir = await Deno.makeTempDir();
  const wal = await Wal.open(walOptions(dir, { logger: log }), () => {});
  try {
    const backlog = new ReplicationBacklog(wal, 1024 * 1024);
    // No replica yet: the records reach the log, and nothing is held for them.
    backlog.append(WalOp.Set, 0, "a", "1", 0);
    backlog.append(WalOp.Set, 0, "b", "2", 0);
    await backlog.commit();
    assert.equal(backlog.active, false);
    assert.equal(backlog.firstLsn, undefined);
    assert.equal(backlog.bytes, 0);
    assert.equal(backlog.slice(1, wal.durableLsn, 1024), undefined);

    backlog.activate();
    const lsn = backlog.append(WalOp.Set, 0, "c", "3", 0);
    await backlog.commit();
    assert.equal(backlog.firstLsn, lsn);
    assert.deepEqual(backlog.slice(lsn, wal.durableLsn, 1024)?.map((r) => r.key), ["c"]);
    assert.ok(backlog.bytes > 0);

    backlog.release();
    backlog.append(WalOp.Set, 0, "d", "4", 0);
    await backlog.commit();
    assert.equal(backlog.firstLsn, undefined);
    assert.equal(backlog.bytes, 0);
    // Everything is still in the log, where a replica is served from.
    assert.equal(wal.durableLsn, lsn + 1);
  } finally {
    await wal.close();
    await Deno.remove(dir, { recursive: true });
  }
});
