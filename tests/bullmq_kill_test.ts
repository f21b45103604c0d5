/**
 * BullMQ through a crash (issue 19): producers add jobs — some delayed,
 * some prioritized, some failing twice before they succeed — while three
 * workers process them; the server is SIGKILLed mid-run and started again
 * on the same data and port; BullMQ's clients reconnect by themselves
 * (ioredis's retryStrategy; nothing is recreated) and the workers finish.
 *
 * What "exactly once" can mean across a crash, and what is asserted:
 *
 * - A job whose `Queue.add` promise resolved (acknowledged) was durable
 *   when the reply was sent: it is never lost. Every acknowledged job
 *   ends in the completed set, with its return value and `attemptsMade`
 *   equal to its planned failures + 1, and in no other state.
 * - Adds carry their own job ids, so an add that ioredis re-sends after
 *   the reconnect (its reply was lost with the connection) finds the job
 *   and adds nothing: exactly one job per id, and no job nobody added.
 * - Completion is recorded exactly once: one `completed` event per job in
 *   the events stream, read by one QueueEvents across the crash (it
 *   resumes from the last id it read). A finishing script's effects are
 *   logged whole, and no client sees them before they are durable, so a
 *   completion read before the kill cannot be undone and done again.
 *   Likewise one `delayed` event per planned delay and per retry.
 * - The processor runs at least once (BullMQ's at-least-once after a
 *   crash): a job active at the kill whose lock expired before its
 *   finishing script reached the restarted server (or whose fetch reply
 *   the kill lost, so no worker holds it) is moved back to wait by the
 *   stalled-jobs check and runs again. So a job's successful runs are at
 *   most 1 + its `stalledCounter` (the server's count of such recoveries),
 *   and only jobs active around the kill stall: at most two per worker
 *   slot (one being processed, one fetched whose reply was lost).
 * - Nothing goes wrong before the kill: no error at all. After it, only
 *   the errors the crash explains: the lost connection's own, and those
 *   of finishing a job whose lock the crash took (`Missing lock`, `Lock
 *   mismatch`: see CRASH_ERRORS).
 *
 * The scenario runs on redis-server 7.0 with `appendfsync always` (proof
 * that these claims hold for the reference) and on kvdb with its WAL.
 */

import assert from "node:assert/strict";
import { Queue, Worker } from "bullmq";
import { delay } from "./_helpers.ts";
import { CrashableServer } from "./_bullmq_servers.ts";
import {
  checkCompletedOnce,
  EventTally,
  jobPlan,
  processJob,
  Runs,
  until,
} from "./_bullmq_jobs.ts";

const JOBS = 1000;
const PRODUCERS = 3;
const WORKERS = 3;
const CONCURRENCY = 4;
/** Kill once this many adds were acknowledged and this many jobs completed. */
const KILL_AFTER_ACKED = 400;
const KILL_AFTER_COMPLETED = 100;
/** Each phase's limit (before the kill; after the restart): generous, for a loaded machine. */
const PHASE_DEADLINE_MS = 90_000;
/** Short locks, frequent checks: a job the crash left active is recovered within seconds. */
const LOCK_DURATION_MS = 4_000;
const STALLED_INTERVAL_MS = 1_000;
/**
 * The only errors the crash explains (see the module comment): a lost
 * connection's, and those of finishing a job whose lock the crash took —
 * the script's first run finished it and its re-sent copy finds no lock,
 * or the lock expired during the outage and the job moved on.
 */
const CRASH_ERRORS = new RegExp(
  "^((read|write|connect) (ECONNRESET|ECONNREFUSED|EPIPE)( [\\d.:]+)?|Connection is closed\\." +
    "|(Missing lock for job|Lock mismatch for job|could not renew lock for job) job-\\d+\\b.*" +
    "|Job job-\\d+ is not in the active state\\..*)$",
);
/** kvdb's defaults but the WAL's: BullMQ's ~20 KB EVALs fit the default request limit. */
const KVDB_CONFIG = {};
/** Small segments and snapshots: the restart recovers from a snapshot and the log after it. */
const KVDB_WAL = { max_segment_size: "128KiB", snapshot_threshold: "512KiB" };

async function scenario(server: CrashableServer): Promise<void> {
  const connection = {
    host: "127.0.0.1",
    port: server.port,
    maxRetriesPerRequest: null,
    // Reconnect soon and forever (BullMQ's default waits at least 1 s between tries).
    retryStrategy: (times: number) => Math.min(times * 50, 500),
  };
  let killed = false;
  const errorsBefore = new Set<string>();
  const errorsAfter = new Set<string>();
  const onError = (where: string) => (e: Error) => {
    (killed ? errorsAfter : errorsBefore).add(`${where}: ${e.message}`);
  };
  const producers = Array.from({ length: PRODUCERS }, () => {
    const queue = new Queue("orders", { connection, streams: { events: { maxLen: 100_000 } } });
    queue.on("error", onError("queue"));
    return queue;
  });
  const workers: Worker[] = [];
  let tally: EventTally | undefined;
  try {
    tally = await EventTally.start("orders", connection, onError("events"));
    const completed = tally.completed;
    const runs = new Runs();
    for (let w = 0; w < WORKERS; w++) {
      const worker = new Worker("orders", processJob(runs), {
        connection,
        concurrency: CONCURRENCY,
        lockDuration: LOCK_DURATION_MS,
        stalledInterval: STALLED_INTERVAL_MS,
      });
      worker.on("error", onError("worker"));
      workers.push(worker);
    }
    const ids = Array.from({ length: JOBS }, (_, i) => `job-${i}`);
    const acked = new Set<string>();
    let addsFailed = 0;
    const produce = async (queue: Queue, first: number) => {
      for (let i = first; i < JOBS; i += PRODUCERS) {
        const { data, opts } = jobPlan(i);
        // Sent while the server is down, an add waits in ioredis's offline
        // queue; one that fails anyway is tried again with the same id, as
        // an application would (an add with an id is idempotent).
        while (true) {
          try {
            const job = await queue.add("order", data, { ...opts, jobId: ids[i] });
            assert.equal(job.id, ids[i]);
            acked.add(ids[i]);
            break;
          } catch (e) {
            addsFailed++;
            onError("add")(e as Error);
            await delay(50);
          }
        }
      }
    };
    const started = Date.now();
    const producing = Promise.all(producers.map((queue, p) => produce(queue, p)));
    await until(
      async () =>
        acked.size >= KILL_AFTER_ACKED && completed.size >= KILL_AFTER_COMPLETED &&
        await server.readyToKill(),
      () =>
        `${acked.size} adds acknowledged, ${completed.size} jobs completed before the kill ` +
        `(and ${server.name} ready to be killed: for kvdb, a snapshot taken)`,
      PHASE_DEADLINE_MS,
    );
    const ackedBeforeKill = new Set(acked);
    const killedAt = Date.now();
    killed = true;
    await server.kill();
    await server.restart();
    const outageMs = Date.now() - killedAt;
    await producing;
    await until(
      () => completed.size >= JOBS,
      () => `${completed.size} of ${JOBS} jobs completed after the restart`,
      PHASE_DEADLINE_MS,
    );

    assert.deepEqual([...errorsBefore], [], `errors before the kill: ${[...errorsBefore]}`);
    const unexplained = [...errorsAfter].filter((e) => !CRASH_ERRORS.test(e.replace(/^\w+: /, "")));
    assert.deepEqual(unexplained, [], `errors the crash does not explain: ${unexplained}`);
    assert.equal(acked.size, JOBS);
    const { stalled } = await checkCompletedOnce(
      producers[0],
      ids,
      tally,
      runs,
      (id) => `acknowledged ${id}${ackedBeforeKill.has(id) ? " (before the kill)" : ""}`,
    );
    assert.ok(
      stalled <= 2 * WORKERS * CONCURRENCY,
      `${stalled} jobs stalled: more than were active around the kill`,
    );
    console.log(
      `${server.name}: ${ackedBeforeKill.size} adds acknowledged before the kill ` +
        `(${killedAt - started} ms), outage ${outageMs} ms, all done at ` +
        `${Date.now() - started} ms; ${stalled} jobs stalled, ${addsFailed} adds failed`,
    );
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await tally?.close();
    await Promise.all(producers.map((q) => q.close()));
  }
}

// BullMQ's connections and timers outlive close() by a tick.
const LENIENT = { sanitizeOps: false, sanitizeResources: false };

async function withCrashable(start: () => Promise<CrashableServer>): Promise<void> {
  const server = await start();
  try {
    await scenario(server);
  } catch (e) {
    throw new Error(`${e}\n--- ${server.name} log:\n${server.logTail(20)}`, { cause: e });
  } finally {
    await server.stop();
  }
}

Deno.test({
  ...LENIENT,
  name: "BullMQ through SIGKILL of redis-server (appendfsync always): the scenario itself",
  fn: () => withCrashable(() => CrashableServer.redis()),
});

Deno.test({
  ...LENIENT,
  name: "BullMQ through SIGKILL of kvdb (WAL): no acknowledged job lost, each completed once",
  fn: () => withCrashable(() => CrashableServer.kvdb(KVDB_CONFIG, KVDB_WAL)),
});
