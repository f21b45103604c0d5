/**
 * BullMQ (npm `bullmq`, pinned in deno.json) unchanged (issue 19): four
 * producers add 2000 jobs — three one `Queue.add` at a time, one with
 * `addBulk` (its scripts inside MULTI/EXEC) — some delayed, some
 * prioritized, some failing twice before they succeed (retried after a
 * backoff); three workers complete each job exactly once: one successful
 * run, one `completed` event (from the worker and in the events stream),
 * no stalled job, nothing left in another state. Bounded: at most 60 s
 * per server.
 *
 * The scenario runs on redis-server 7.0 (proof that the test itself holds)
 * and on kvdb. The same jobs through a SIGKILL: tests/bullmq_kill_test.ts.
 */

import assert from "node:assert/strict";
import { Queue, Worker } from "bullmq";
import { withServer } from "./_helpers.ts";
import { RedisServer } from "./_diff_servers.ts";
import {
  checkCompletedOnce,
  EventTally,
  jobPlan,
  processJob,
  Runs,
  until,
} from "./_bullmq_jobs.ts";

const JOBS = 2000;
const PRODUCERS = 4;
const BULK = 25;
const DEADLINE_MS = 60_000;
/**
 * kvdb's embedded defaults: BullMQ's EVALs (~20 KB) fit its default
 * request limit (64 MiB; the original's 4 KB did not).
 */
const KVDB_CONFIG = {};

async function scenario(port: number): Promise<void> {
  const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
  const errors: string[] = [];
  const onError = (where: string) => (e: Error) => errors.push(`${where}: ${e.message}`);
  const producers = Array.from({ length: PRODUCERS }, () => {
    const queue = new Queue("orders", { connection, streams: { events: { maxLen: 100_000 } } });
    queue.on("error", onError("queue"));
    return queue;
  });
  const workers: Worker[] = [];
  let tally: EventTally | undefined;
  try {
    tally = await EventTally.start("orders", connection, onError("events"));
    const runs = new Runs();
    const workerCompleted = new Map<string, number>();
    for (let w = 0; w < 3; w++) {
      const worker = new Worker("orders", processJob(runs), { connection, concurrency: 4 });
      worker.on("error", onError("worker"));
      worker.on("completed", (job) => {
        workerCompleted.set(job.id!, (workerCompleted.get(job.id!) ?? 0) + 1);
      });
      workers.push(worker);
    }
    const started = Date.now();
    // ids[i]: the id BullMQ gave job i.
    const ids: string[] = new Array(JOBS);
    const adding = producers.map(async (queue, p) => {
      const mine = Array.from({ length: JOBS }, (_, i) => i).filter((i) => i % PRODUCERS === p);
      if (p === PRODUCERS - 1) {
        for (let at = 0; at < mine.length; at += BULK) {
          const batch = mine.slice(at, at + BULK);
          const jobs = await queue.addBulk(batch.map((i) => ({ name: "order", ...jobPlan(i) })));
          for (const [k, job] of jobs.entries()) ids[batch[k]] = job.id!;
        }
      } else {
        for (const i of mine) {
          const { data, opts } = jobPlan(i);
          ids[i] = (await queue.add("order", data, opts)).id!;
        }
      }
    });
    await Promise.all(adding);
    const addedMs = Date.now() - started;
    assert.equal(new Set(ids).size, JOBS, "job ids are distinct");
    await until(
      () => tally!.completed.size >= JOBS,
      () => `${tally!.completed.size} of ${JOBS} completed`,
      DEADLINE_MS,
    );
    assert.deepEqual(errors, []);
    const { stalled } = await checkCompletedOnce(producers[0], ids, tally, runs);
    assert.equal(stalled, 0, "jobs stalled");
    for (const id of ids) {
      assert.equal(runs.successes.get(id), 1, `${id}: successful runs`);
      assert.equal(workerCompleted.get(id), 1, `${id}: the worker's completed events`);
    }
    console.log(`${JOBS} jobs added in ${addedMs} ms, all completed in ${Date.now() - started} ms`);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await tally?.close();
    await Promise.all(producers.map((q) => q.close()));
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
