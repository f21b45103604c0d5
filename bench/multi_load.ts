/**
 * A load generator for requests redis-benchmark cannot send: `clients`
 * connections, each sending one unit in one write and waiting for all its
 * replies before the next, until `transactions` units are done:
 *
 * - `--load multi` (default): `MULTI`, `SET key:<r> xxx`, `INCR counter:<r>`,
 *   `EXEC`;
 * - `--load wait`: `SET key:<r> xxx`, `WAIT 1 0` (a write confirmed by one
 *   replica, as an application that must not lose it across a failover
 *   sends it);
 * - `--load queue`: `RPUSH queue:<r> xxx`, `LPOP queue:<r>` (a job queued
 *   and taken), each of the `keyspace` queues first filled with
 *   `--queue-length` elements (default 20), so that they stay that long:
 *   short queues, which a database holds in its compact encoding.
 * - `--load board`: `ZINCRBY board:<r> 1 m<nn>`, `ZREVRANGE board:<r> 0 9
 *   WITHSCORES` (a score counted and the top ten read, as a leaderboard
 *   is), each of the `keyspace` sorted sets first given `--queue-length`
 *   members `m00`, `m01`... (<nn>: one of the first 100 of them).
 * Keys as redis-benchmark names them (`<r>`: a
 * random 12-digit number below `keyspace`), 3-byte values (its `-d 3`).
 * Prints one JSON line: transactions per second, latency percentiles (a
 * transaction's write to its EXEC reply) and this process's own CPU time,
 * which `bench/_servers.ts` uses to show that the generator is not what
 * limits the rate.
 *
 * redis-benchmark cannot send this load: it repeats one command per run,
 * and `MULTI` alone errors on its second repetition ("MULTI calls can not
 * be nested").
 *
 *     deno run --allow-net bench/multi_load.ts --port 6379 [--load multi|wait|queue|board] \
 *       [--clients 50] [--transactions 100000] [--keyspace 100000] [--no-check]
 *
 * `--no-check` accepts any four replies (for bench/floor_server.ts, which
 * answers `+OK` to everything); otherwise each unit's replies must be
 * `+OK`, `+QUEUED`, `+QUEUED` and a two-element array (multi), or `+OK`
 * and `:1` (wait), or it stops.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { cpuUsage } from "node:process";
import { readReplies, skipReply } from "./_resp_reply.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    clients: { type: "string", default: "50" },
    transactions: { type: "string", default: "100000" },
    keyspace: { type: "string", default: "100000" },
    "no-check": { type: "boolean", default: false },
    load: { type: "string", default: "multi" },
    "queue-length": { type: "string", default: "20" },
  },
});
const WAIT = flags.load === "wait";
const QUEUE = flags.load === "queue";
const BOARD = flags.load === "board";
if (!WAIT && !QUEUE && !BOARD && flags.load !== "multi") {
  throw new Error(`--load: multi, wait, queue or board, not ${flags.load}`);
}
const PORT = Number(flags.port);
const CLIENTS = Number(flags.clients);
const TRANSACTIONS = Number(flags.transactions);
const KEYSPACE = Number(flags.keyspace);
const CHECK = !flags["no-check"];
const READ_BYTES = 64 * 1024;
/** Replies per unit: MULTI, two QUEUED, EXEC; or the two commands' of the other loads. */
const REPLIES = WAIT || QUEUE || BOARD ? 2 : 4;
const QUEUE_LENGTH = Number(flags["queue-length"]);
if (BOARD && !(QUEUE_LENGTH >= 100 && QUEUE_LENGTH <= 128)) {
  // Members m00..m99 are scored; a board stays within the compact encoding's 128.
  throw new Error(`--load board: --queue-length 100..128, not ${QUEUE_LENGTH}`);
}

const encoder = new TextEncoder();

const TEMPLATE = encoder.encode(
  WAIT
    ? `*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000000\r\n$3\r\nxxx\r\n` +
      `*3\r\n$4\r\nWAIT\r\n$1\r\n1\r\n$1\r\n0\r\n`
    : QUEUE
    ? `*3\r\n$5\r\nRPUSH\r\n$18\r\nqueue:000000000000\r\n$3\r\nxxx\r\n` +
      `*2\r\n$4\r\nLPOP\r\n$18\r\nqueue:000000000000\r\n`
    : BOARD
    ? `*4\r\n$7\r\nZINCRBY\r\n$18\r\nboard:000000000000\r\n$1\r\n1\r\n$3\r\nm00\r\n` +
      `*5\r\n$9\r\nZREVRANGE\r\n$18\r\nboard:000000000000\r\n$1\r\n0\r\n$1\r\n9\r\n` +
      `$10\r\nWITHSCORES\r\n`
    : `*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000000\r\n$3\r\nxxx\r\n` +
      `*2\r\n$4\r\nINCR\r\n$20\r\ncounter:000000000000\r\n*1\r\n$4\r\nEXEC\r\n`,
);
const KEY_DIGITS = TEMPLATE.indexOf(0x3a) + 1; // after "key:" (or "queue:", "board:")
// After "counter:" (the wait load has one key: its digits are written twice).
const COUNTER_DIGITS = WAIT ? KEY_DIGITS : TEMPLATE.lastIndexOf(0x3a) + 1;
/** The board load's member's two digits, after its "m". */
const MEMBER_DIGITS = BOARD ? new TextDecoder().decode(TEMPLATE).indexOf("m00") + 1 : -1;

/** Writes a fresh random 12-digit number into both keys of `request` (the client's own copy). */
function randomize(request: Uint8Array): void {
  if (BOARD) {
    const m = Math.floor(Math.random() * 100);
    request[MEMBER_DIGITS] = 0x30 + Math.floor(m / 10);
    request[MEMBER_DIGITS + 1] = 0x30 + (m % 10);
  }
  let r = Math.floor(Math.random() * KEYSPACE);
  for (let i = 11; i >= 0; i--) {
    const digit = 0x30 + (r % 10);
    request[KEY_DIGITS + i] = digit;
    request[COUNTER_DIGITS + i] = digit;
    r = Math.floor(r / 10);
  }
}

/**
 * The replies of one transaction as they must start (the EXEC array's
 * items and RPUSH's length vary); a queue unit's must end with LPOP's
 * element.
 */
const EXPECTED_HEAD = encoder.encode(
  WAIT ? "+OK\r\n:1\r\n" : QUEUE ? ":" : BOARD ? "$" : "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n",
);
const EXPECTED_TAIL = encoder.encode(QUEUE ? "$3\r\nxxx\r\n" : "");

const latenciesMs = new Float64Array(TRANSACTIONS);
let issued = 0;
let completed = 0;

async function client(): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: PORT });
  conn.setNoDelay(true);
  const buf = new Uint8Array(READ_BYTES);
  const request = TEMPLATE.slice();
  try {
    while (issued < TRANSACTIONS) {
      issued++;
      randomize(request);
      const start = performance.now();
      let written = 0;
      while (written < request.length) written += await conn.write(request.subarray(written));
      let have = 0;
      let replies = 0;
      let at = 0;
      while (replies < REPLIES) {
        const n = await conn.read(buf.subarray(have));
        if (n === null) throw new Error("the server closed the connection");
        have += n;
        for (let next = skipReply(buf, at, have); next >= 0; next = skipReply(buf, at, have)) {
          at = next;
          if (++replies === REPLIES) break;
        }
      }
      if (at !== have) throw new Error("more replies than requests");
      const tail = have - EXPECTED_TAIL.length;
      if (
        CHECK && (!EXPECTED_HEAD.every((x, i) => buf[i] === x) ||
          !EXPECTED_TAIL.every((x, i) => buf[tail + i] === x))
      ) {
        throw new Error(
          `unexpected replies: ${JSON.stringify(new TextDecoder().decode(buf.subarray(0, have)))}`,
        );
      }
      latenciesMs[completed++] = performance.now() - start;
    }
  } finally {
    conn.close();
  }
}

/**
 * Fills each of the queues with {@link QUEUE_LENGTH} elements, or each of
 * the boards with as many members, in pipelined batches.
 */
async function fillQueues(): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: PORT });
  const buf = new Uint8Array(READ_BYTES);
  const digits = (i: number) => String(i).padStart(12, "0");
  try {
    const BATCH = 100;
    for (let first = 0; first < KEYSPACE; first += BATCH) {
      let batch = "";
      const last = Math.min(KEYSPACE, first + BATCH);
      for (let i = first; i < last; i++) {
        const key = `${BOARD ? "board" : "queue"}:${digits(i)}`;
        batch += `*2\r\n$3\r\nDEL\r\n$18\r\n${key}\r\n`;
        if (BOARD) {
          batch += `*${2 + 2 * QUEUE_LENGTH}\r\n$4\r\nZADD\r\n$18\r\n${key}\r\n`;
          for (let m = 0; m < QUEUE_LENGTH; m++) {
            const member = `m${String(m).padStart(2, "0")}`;
            batch += `$${String(m).length}\r\n${m}\r\n$${member.length}\r\n${member}\r\n`;
          }
        } else {
          batch += `*${2 + QUEUE_LENGTH}\r\n$5\r\nRPUSH\r\n$18\r\n${key}\r\n` +
            "$3\r\nxxx\r\n".repeat(QUEUE_LENGTH);
        }
      }
      const request = encoder.encode(batch);
      let written = 0;
      while (written < request.length) written += await conn.write(request.subarray(written));
      await readReplies(conn, buf, 2 * (last - first));
    }
  } finally {
    conn.close();
  }
}

if ((QUEUE || BOARD) && QUEUE_LENGTH > 0) await fillQueues();
const cpuBefore = cpuUsage();
const started = performance.now();
await Promise.all(Array.from({ length: CLIENTS }, client));
const seconds = (performance.now() - started) / 1000;
const cpu = cpuUsage(cpuBefore);
const sorted = latenciesMs.subarray(0, completed).sort();
const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
console.log(JSON.stringify({
  transactions: completed,
  tps: completed / seconds,
  p50Ms: at(0.5),
  p99Ms: at(0.99),
  meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  clientCpuUs: cpu.user + cpu.system,
}));
