/**
 * BullMQ (npm `bullmq`, pinned in deno.json) unchanged (issue 19 point 5):
 * producers add jobs — some delayed, some whose processor fails twice
 * before it succeeds (retried with backoff) — and three workers complete
 * each job exactly once. Bounded: 300 jobs, at most 60 s per server.
 *
 * The scenario runs on redis-server 7.0 (proof that the test itself holds)
 * and on kvdb.
 */

import assert from "node:assert/strict";
import { Queue, Worker } from "bullmq";
import { withServer } from "./_helpers.ts";
import { RedisServer } from "./_diff_servers.ts";

const JOBS = 300;
const DEADLINE_MS = 60_000;
/** BullMQ sends its Lua scripts with EVAL: ~20 KB requests, past kvdb's 4 KB default. */
const KVDB_CONFIG = { network: { max_message_size: "1MB" } };

async function scenario(port: number): Promise<void> {
  const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
  const queue = new Queue("orders", { connection });
  const completed = new Map<string, number>();
  const attempts = new Map<string, number>();
  const workers: Worker[] = [];
  try {
    for (let w = 0; w < 3; w++) {
      const worker = new Worker(
        "orders",
        (job) => {
          const n = (attempts.get(job.id!) ?? 0) + 1;
          attempts.set(job.id!, n);
          if (job.data.failTimes >= n) throw new Error(`planned failure ${n}`);
          return Promise.resolve({ doubled: job.data.i * 2 });
        },
        { connection, concurrency: 4 },
      );
      worker.on("completed", (job) => {
        completed.set(job.id!, (completed.get(job.id!) ?? 0) + 1);
      });
      workers.push(worker);
    }
    const added: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const job = await queue.add("order", { i, failTimes: i % 10 === 0 ? 2 : 0 }, {
        attempts: 3,
        backoff: { type: "fixed", delay: 50 },
        delay: i % 7 === 0 ? 200 : 0,
      });
      added.push(job.id!);
    }
    const start = Date.now();
    while (completed.size < JOBS && Date.now() - start < DEADLINE_MS) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(completed.size, JOBS, `completed ${completed.size} of ${JOBS}`);
    for (const id of added) assert.equal(completed.get(id), 1, `job ${id} completed once`);
    const counts = await queue.getJobCounts("completed", "failed", "waiting", "delayed");
    assert.deepEqual(counts, { completed: JOBS, failed: 0, waiting: 0, delayed: 0 });
    const retried = await queue.getJob(added[10]);
    assert.deepEqual(retried?.returnvalue, { doubled: 20 });
    assert.equal(retried?.attemptsMade, 3);
    assert.equal(attempts.get(added[10]), 3);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await queue.close();
  }
}

// BullMQ's connections and timers outlive close() by a tick.
const LENIENT = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  ...LENIENT,
  name: "BullMQ on redis-server 7.0: every job completes exactly once (the scenario itself)",
  fn: async () => {
    const redis = await RedisServer.start();
    try {
      await scenario(redis.port);
    } finally {
      await redis.stop();
    }
  },
});

Deno.test({
  ...LENIENT,
  name: "BullMQ on kvdb: producers, workers, retries and delays; every job completes exactly once",
  fn: async () => {
    await withServer(KVDB_CONFIG, (server) => scenario(server.port));
  },
});
