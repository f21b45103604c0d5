/**
 * A consumer group as applications run one (issue 19 point 5): a producer
 * adds jobs to a stream, three workers read them with XREADGROUP (BLOCK
 * after the restart) and acknowledge what they finish; kvdb is SIGKILLed
 * mid-run with entries pending for every worker, one of which "dies" with
 * its batch unacknowledged. After the restart the group is as it was —
 * position, read counter, every pending entry with its owner and delivery
 * count — each worker recovers its own history (ID 0), a live worker
 * takes the dead one's entries over with XAUTOCLAIM, the producer goes on,
 * and in the end every job was processed and acknowledged, none lost,
 * nothing pending, the lag 0.
 */

import assert from "node:assert/strict";
import { RespClient, type RespReply, ServerProcess, walConfig } from "./_helpers.ts";

const JOBS = 600;
const BEFORE_CRASH = 400;

type Entry = [string, string[]];

/** The entries of a one-stream XREADGROUP reply (none for nil). */
function entriesOf(reply: RespReply): Entry[] {
  if (reply === null) return [];
  const streams = reply as [string, Entry[]][];
  return streams[0][1];
}

/** Processes entries: records each job seen (by ID); acknowledges them unless `ack` is false. */
async function work(
  client: RespClient,
  entries: Entry[],
  done: Map<string, string>,
  ack = true,
): Promise<void> {
  const ids: string[] = [];
  for (const [id, fields] of entries) {
    if (fields === null) continue; // deleted while pending: nothing to do
    done.set(id, fields[1]);
    ids.push(id);
  }
  if (ack && ids.length > 0) {
    assert.equal(await client.call("XACK", "jobs", "workers", ...ids), ids.length);
  }
}

/** The group's pending entries without their idle times: ID, owner, deliveries. */
async function pendingList(client: RespClient): Promise<string[]> {
  const rows = await client.call("XPENDING", "jobs", "workers", "-", "+", "10000") as [
    string,
    string,
    number,
    number,
  ][];
  return rows.map(([id, owner, , count]) => `${id} ${owner} ${count}`);
}

Deno.test("a consumer group with three workers survives SIGKILL: pending entries, owners and positions kept, every job processed once acknowledged", async () => {
  const dir = await Deno.makeTempDir();
  const config = walConfig(dir);
  let server = await ServerProcess.start(config);
  const port = server.port;
  const clients: RespClient[] = [];
  try {
    let producer = await RespClient.connect(port);
    assert.equal(
      (await producer.call("XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM") as {
        text: string;
      }).text,
      "OK",
    );
    const added: string[] = [];
    for (let i = 0; i < BEFORE_CRASH; i++) {
      added.push(await producer.call("XADD", "jobs", "*", "job", `job-${i}`) as string);
    }
    let workers = [
      await RespClient.connect(port),
      await RespClient.connect(port),
      await RespClient.connect(port),
    ];
    clients.push(producer, ...workers);
    const done = new Map<string, string>();
    // Phase 1: each worker takes batches; w3 never acknowledges its last one.
    for (let round = 0; round < 10; round++) {
      for (let w = 0; w < 3; w++) {
        const reply = await workers[w].call(
          "XREADGROUP",
          "GROUP",
          "workers",
          `w${w + 1}`,
          "COUNT",
          "10",
          "STREAMS",
          "jobs",
          ">",
        );
        // Every worker's last batch stays pending (the crash comes first).
        await work(workers[w], entriesOf(reply), done, round < 9 && w !== 2);
      }
    }
    const pendingBefore = await pendingList(producer);
    assert.ok(
      pendingBefore.length > 30,
      `entries pending for every worker: ${pendingBefore.length}`,
    );
    const groupsBefore = await producer.call("XINFO", "GROUPS", "jobs");

    for (const c of clients) c.close();
    clients.length = 0;
    await server.stop("SIGKILL");
    server = await ServerProcess.start(config, { dir: server.dir, port });
    producer = await RespClient.connect(port);
    workers = [
      await RespClient.connect(port),
      await RespClient.connect(port),
      await RespClient.connect(port),
    ];
    clients.push(producer, ...workers);

    // The group as it was: position, counters, consumers, every pending entry.
    assert.deepEqual(await producer.call("XINFO", "GROUPS", "jobs"), groupsBefore);
    assert.deepEqual(await pendingList(producer), pendingBefore);
    assert.equal(await producer.call("XLEN", "jobs"), BEFORE_CRASH);
    const consumers = await producer.call("XINFO", "CONSUMERS", "jobs", "workers") as unknown[][];
    assert.deepEqual(consumers.map((c) => c[1]), ["w1", "w2", "w3"]);

    // Workers 1 and 2 recover their own history; worker 1 takes over worker 3's entries.
    for (let w = 0; w < 2; w++) {
      const history = await workers[w].call(
        "XREADGROUP",
        "GROUP",
        "workers",
        `w${w + 1}`,
        "STREAMS",
        "jobs",
        "0",
      );
      assert.ok(entriesOf(history).length > 0, `w${w + 1} had entries pending`);
      await work(workers[w], entriesOf(history), done);
    }
    const claimed = await workers[0].call(
      "XAUTOCLAIM",
      "jobs",
      "workers",
      "w1",
      "0",
      "0",
      "COUNT",
      "1000",
    ) as [string, Entry[], string[]];
    assert.equal(claimed[0], "0-0");
    assert.ok(claimed[1].length >= 10, "w3's unacknowledged batch");
    await work(workers[0], claimed[1], done);
    assert.deepEqual(await producer.call("XPENDING", "jobs", "workers"), [0, null, null, null]);

    // Phase 2: workers 1 and 2 block for new jobs while the producer adds the rest.
    let stop = false;
    const loop = async (w: number) => {
      while (!stop) {
        const reply = await workers[w].call(
          "XREADGROUP",
          "GROUP",
          "workers",
          `w${w + 1}`,
          "COUNT",
          "5",
          "BLOCK",
          "100",
          "STREAMS",
          "jobs",
          ">",
        );
        await work(workers[w], entriesOf(reply), done);
      }
    };
    const loops = [loop(0), loop(1)];
    for (let i = BEFORE_CRASH; i < JOBS; i++) {
      added.push(await producer.call("XADD", "jobs", "*", "job", `job-${i}`) as string);
    }
    const deadline = Date.now() + 15_000;
    while (done.size < JOBS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    stop = true;
    await Promise.all(loops);

    assert.equal(done.size, JOBS, "every job processed");
    assert.deepEqual([...done.keys()].sort(), [...added].sort());
    const jobs = new Set(done.values());
    for (let i = 0; i < JOBS; i++) assert.ok(jobs.has(`job-${i}`), `job-${i}`);
    assert.deepEqual(await producer.call("XPENDING", "jobs", "workers"), [0, null, null, null]);
    const groups = await producer.call("XINFO", "GROUPS", "jobs") as unknown[][];
    assert.deepEqual(groups[0].slice(6), [
      "last-delivered-id",
      added.at(-1),
      "entries-read",
      JOBS,
      "lag",
      0,
    ]);
  } finally {
    for (const c of clients) c.close();
    await server.stop("SIGKILL");
  }
});
