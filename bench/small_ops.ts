/**
 * Commands on one small collection — the sizes a listpack or intset holds —
 * over one connection, `--pipeline` commands a write (16 by default),
 * against any server: prints the time a command took, the client's own
 * work included (compare servers in one run, not the absolute figures).
 * The loads redis-benchmark cannot send: commands that change the
 * collection by turns (a push and a pop, an add and a removal), so that it
 * stays at its size.
 *
 *     deno run --allow-net=127.0.0.1 bench/small_ops.ts --port 6379 \
 *       --shape queue|lrange|lset|sadd|sismember|zincrby|zadd|zscore|hget|hgetall|hincrby \
 *       [--size 100] [--commands 32000] [--pipeline 16]
 *
 * The collection is the key `small_ops:<shape>`, filled with `--size`
 * elements first (deleted, then made anew); each shape's commands are
 * listed in {@link SHAPES}. A round runs once unmeasured (the server's JIT
 * warms), then once measured.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { readReplies } from "./_resp_reply.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    shape: { type: "string", default: "queue" },
    size: { type: "string", default: "100" },
    commands: { type: "string", default: "32000" },
    pipeline: { type: "string", default: "16" },
  },
});

/** A shape: the command that adds element `i` while filling, and the `i`th measured command. */
type Shape = { fill: (i: number) => string[]; command: (i: number, size: number) => string[] };

/** The loads, by name: element names as applications use them (`member:17`). */
const SHAPES: Record<string, Shape> = {
  queue: {
    fill: (i) => ["RPUSH", KEY, `job:${i}`],
    command: (i) => i % 2 === 0 ? ["RPUSH", KEY, `job:${i}`] : ["LPOP", KEY],
  },
  lrange: { fill: (i) => ["RPUSH", KEY, `job:${i}`], command: () => ["LRANGE", KEY, "0", "9"] },
  lset: {
    fill: (i) => ["RPUSH", KEY, `job:${i}`],
    command: (i, size) => ["LSET", KEY, String(i % size), "x"],
  },
  sadd: {
    fill: (i) => ["SADD", KEY, `member:${i}`],
    command: (i) => [i % 2 === 0 ? "SADD" : "SREM", KEY, "member:new"],
  },
  sismember: {
    fill: (i) => ["SADD", KEY, `member:${i}`],
    command: (i, size) => ["SISMEMBER", KEY, `member:${i % size}`],
  },
  zincrby: {
    fill: (i) => ["ZADD", KEY, String(i), `member:${i}`],
    command: (i, size) => ["ZINCRBY", KEY, "1", `member:${i % size}`],
  },
  zadd: {
    fill: (i) => ["ZADD", KEY, String(i), `member:${i}`],
    command: (i, size) =>
      i % 2 === 0 ? ["ZADD", KEY, `${i % size}.5`, "member:new"] : ["ZREM", KEY, "member:new"],
  },
  zscore: {
    fill: (i) => ["ZADD", KEY, String(i), `member:${i}`],
    command: (i, size) => ["ZSCORE", KEY, `member:${i % size}`],
  },
  hget: {
    fill: (i) => ["HSET", KEY, `field:${i}`, "1"],
    command: (i, size) => ["HGET", KEY, `field:${i % size}`],
  },
  hgetall: {
    fill: (i) => ["HSET", KEY, `field:${i}`, `value:${i}`],
    command: () => ["HGETALL", KEY],
  },
  hincrby: {
    fill: (i) => ["HSET", KEY, `field:${i}`, "1"],
    command: (i, size) => ["HINCRBY", KEY, `field:${i % size}`, "1"],
  },
};

const KEY = `small_ops:${flags.shape}`;
const shape = SHAPES[flags.shape!];
if (shape === undefined) throw new Error(`--shape: one of ${Object.keys(SHAPES).join(", ")}`);
const PORT = Number(flags.port);
const SIZE = Number(flags.size);
const COMMANDS = Number(flags.commands);
const PIPELINE = Number(flags.pipeline);
const READ_BYTES = 1 << 20;

const encoder = new TextEncoder();

function request(args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
}

const conn = await Deno.connect({ hostname: "127.0.0.1", port: PORT });
conn.setNoDelay(true);
const buf = new Uint8Array(READ_BYTES);

/** Sends the commands in one write and reads their replies (an error reply throws). */
async function send(commands: string[][]): Promise<void> {
  const bytes = encoder.encode(commands.map(request).join(""));
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
  await readReplies(conn, buf, commands.length, true);
}

await send([["DEL", KEY]]);
for (let i = 0; i < SIZE; i += PIPELINE) {
  const fills: string[][] = [];
  for (let j = i; j < Math.min(SIZE, i + PIPELINE); j++) fills.push(shape.fill(j));
  await send(fills);
}
let usPerCommand = 0;
for (let round = 0; round < 2; round++) {
  const started = performance.now();
  for (let i = 0; i < COMMANDS; i += PIPELINE) {
    const batch: string[][] = [];
    for (let j = i; j < i + PIPELINE; j++) batch.push(shape.command(j, SIZE));
    await send(batch);
  }
  usPerCommand = (performance.now() - started) * 1000 / COMMANDS;
}
await send([["DEL", KEY]]);
conn.close();
console.log(JSON.stringify({ shape: flags.shape, size: SIZE, port: PORT, usPerCommand }));
