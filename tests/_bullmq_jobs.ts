/**
 * The jobs of the BullMQ tests (tests/bullmq_test.ts, tests/bullmq_kill_test.ts):
 * what job `i` is (delayed, prioritized, failing before it succeeds), the
 * processor that runs it, a tally of the events stream, and the check that
 * every job completed exactly once.
 *
 * ```ts
 * const tally = await EventTally.start("orders", connection);
 * const { data, opts } = jobPlan(7);
 * const job = await queue.add("order", data, opts);
 * // ... workers running `processJob(runs)` finish ...
 * const { stalled } = await checkCompletedOnce(queue, [job.id!], tally, runs);
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ConnectionOptions, type Job, type Queue, QueueEvents } from "bullmq";
import { delay } from "./_helpers.ts";

/** Retries with this fixed backoff; the retried job is delayed meanwhile. */
const BACKOFF_MS = 100;

/** What job `i` is: its data and options. */
export interface JobPlan {
  data: { i: number; failTimes: number };
  opts: {
    attempts: number;
    backoff: { type: "fixed"; delay: number };
    delay: number;
    priority?: number;
  };
}

/**
 * Job `i`: every 10th fails twice before it succeeds (3 attempts, fixed
 * backoff), every 7th is delayed (100 ms to 1.3 s), every 11th has a
 * priority (1 to 3).
 */
export function jobPlan(i: number): JobPlan {
  return {
    data: { i, failTimes: i % 10 === 0 ? 2 : 0 },
    opts: {
      attempts: 3,
      backoff: { type: "fixed", delay: BACKOFF_MS },
      delay: i % 7 === 0 ? 100 + (i % 5) * 300 : 0,
      ...i % 11 === 0 ? { priority: 1 + (i % 3) } : {},
    },
  };
}

/** What the processor saw: successful runs per job id, and jobs started before their delay. */
export class Runs {
  readonly successes = new Map<string, number>();
  readonly early = new Set<string>();
}

/**
 * The processor: fails while the server's count of finished attempts is
 * below the job's planned failures (so a crash that loses a failure's
 * record only repeats that same failure), then returns `{ doubled: 2i }`.
 * Records in `runs` each successful run, and each job started before its
 * delay had passed (by the clock its timestamp was taken with: the test's).
 */
export function processJob(runs: Runs) {
  return async (job: Job): Promise<{ doubled: number }> => {
    if (Date.now() < job.timestamp + (job.opts.delay ?? 0)) runs.early.add(job.id!);
    if (job.attemptsMade < job.data.failTimes) {
      throw new Error(`planned failure ${job.attemptsMade + 1}`);
    }
    await delay(job.data.i % 3);
    runs.successes.set(job.id!, (runs.successes.get(job.id!) ?? 0) + 1);
    return { doubled: job.data.i * 2 };
  };
}

/**
 * The queue's events stream as one QueueEvents reads it from its start
 * (`0-0`: no event added before its first read is missed; across a
 * reconnect it resumes from the last id it read): `completed` and
 * `delayed` events counted per job, `failed` (for good) counted.
 */
export class EventTally {
  readonly completed = new Map<string, number>();
  readonly delayed = new Map<string, number>();
  failed = 0;

  private constructor(readonly events: QueueEvents) {}

  /** Starts reading the events of queue `name`; `onError` gets its connection's errors. */
  static async start(
    name: string,
    connection: ConnectionOptions,
    onError: (e: Error) => void,
  ): Promise<EventTally> {
    const tally = new EventTally(new QueueEvents(name, { connection, lastEventId: "0-0" }));
    const count = (map: Map<string, number>, id: string) => map.set(id, (map.get(id) ?? 0) + 1);
    tally.events.on("error", onError);
    tally.events.on("completed", ({ jobId }) => count(tally.completed, jobId));
    tally.events.on("delayed", ({ jobId }) => count(tally.delayed, jobId));
    tally.events.on("failed", () => tally.failed++);
    await tally.events.waitUntilReady();
    return tally;
  }

  close(): Promise<void> {
    return this.events.close();
  }
}

/** Waits until `done()`, or throws after `timeoutMs` saying what was awaited. */
export async function until(
  done: () => boolean | Promise<boolean>,
  what: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await delay(50);
  }
}

/**
 * Asserts that job `i` of `ids` (`ids[i]` its id) and no other job is in
 * the queue, completed, with its return value and `attemptsMade` its
 * planned failures + 1, not started before its delay; that the events stream says it completed exactly
 * once and was delayed exactly as planned (once if added with a delay,
 * once per retry); that nothing failed for good; and that the processor
 * succeeded for it at least once and at most 1 + its `stalledCounter`
 * times (a run whose job was lost to the stalled-jobs check after a
 * crash). Returns how many jobs stalled.
 */
export async function checkCompletedOnce(
  queue: Queue,
  ids: readonly string[],
  tally: EventTally,
  runs: Runs,
  describe: (id: string) => string = (id) => id,
): Promise<{ stalled: number }> {
  const counts = await queue.getJobCounts();
  const elsewhere = Object.entries(counts).filter(([state, n]) => state !== "completed" && n > 0);
  assert.deepEqual(elsewhere, [], `jobs not completed: ${JSON.stringify(counts)}`);
  assert.equal(counts.completed, ids.length, `completed jobs: ${JSON.stringify(counts)}`);
  const jobs = new Map((await queue.getJobs(["completed"], 0, -1)).map((j) => [j.id!, j]));
  assert.equal(jobs.size, ids.length);
  assert.equal(tally.failed, 0, "jobs failed for good");
  let stalled = 0;
  for (const [i, id] of ids.entries()) {
    const { data, opts } = jobPlan(i);
    const job = jobs.get(id);
    assert.ok(job, `${describe(id)} is lost`);
    assert.equal(job.data.i, i, `${id} holds job ${job.data.i}`);
    assert.deepEqual(job.returnvalue, { doubled: 2 * i }, id);
    assert.equal(job.attemptsMade, data.failTimes + 1, `${id}: attempts`);
    assert.ok(!runs.early.has(id), `${id} started before its delay had passed`);
    assert.equal(tally.completed.get(id), 1, `${id}: completed events`);
    const delays = (opts.delay > 0 ? 1 : 0) + data.failTimes;
    assert.equal(tally.delayed.get(id) ?? 0, delays, `${id}: delayed events`);
    const successes = runs.successes.get(id) ?? 0;
    assert.ok(
      successes >= 1 && successes <= 1 + job.stalledCounter,
      `${id}: ${successes} successful runs`,
    );
    if (job.stalledCounter > 0) stalled++;
  }
  assert.equal(tally.completed.size, ids.length, "completed events of unknown jobs");
  return { stalled };
}
