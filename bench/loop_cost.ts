/**
 * The JavaScript cost of a request through kvdb's whole connection path —
 * `Server`, `Connection`, decoder, executor, keyspace, reply writer — in
 * this process, with no socket: connections whose reads and writes
 * complete in batches on the next macrotask (`setImmediate`), as the
 * runtime's ops complete in a turn of its event loop. Beside it the same
 * connections run `bench/floor_server.ts`'s loop (find each request, answer
 * `+OK`): the difference is kvdb's own work per request, free of the
 * kernel and of this shared machine's phases, which move a server-CPU
 * figure by more than a change of a few percent does.
 *
 *     deno run --allow-read --allow-env bench/loop_cost.ts \
 *       [--root <checkout>] [--command "RPUSH mylist xxx"] [--pipeline 16] \
 *       [--clients 50] [--reads 2000] [--rounds 5]
 *
 * `--command` is a request's words; `KEY` in them becomes one of 1,000
 * keys of 100,000 (GET and the other one-key commands may be named alone;
 * SET gets a 3-byte value). Each round serves `--clients` connections of
 * `--reads` reads of `--pipeline` requests; one unmeasured round warms
 * the JIT first. Prints ns per request: the median round and every round.
 * Compare checkouts by running it in each (alternating), not figures from
 * different times.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { setImmediate } from "node:timers";
import { floorLoop } from "./_floor_loop.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    root: { type: "string" },
    command: { type: "string", default: "SET" },
    pipeline: { type: "string", default: "16" },
    clients: { type: "string", default: "50" },
    reads: { type: "string", default: "2000" },
    rounds: { type: "string", default: "5" },
  },
});
const ROOT = flags.root ?? new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const PIPELINE = Number(flags.pipeline);
const CLIENTS = Number(flags.clients);
const READS = Number(flags.reads);
/** Distinct read payloads the connections take in turn. */
const PAYLOADS = 1000;

const { Executor } = await import(`${ROOT}/src/executor/executor.ts`);
const { Store } = await import(`${ROOT}/src/storage/store.ts`);
const { Engine } = await import(`${ROOT}/src/storage/engine.ts`);
const { Server } = await import(`${ROOT}/src/server/server.ts`);
const { createLogger } = await import(`${ROOT}/src/log/logger.ts`);
const { configFromDocument } = await import(`${ROOT}/src/config/config.ts`);

const encoder = new TextEncoder();

/** Read `i`'s bytes: `--pipeline` copies of the request on one key. */
function payload(i: number): Uint8Array {
  const key = `key:${String((i * 7919) % 100_000).padStart(12, "0")}`;
  const words = flags.command!.split(" ");
  const args = words.length > 1
    ? words.map((w) => w === "KEY" ? key : w)
    : words[0].toUpperCase() === "SET"
    ? ["SET", key, "xxx"]
    : [words[0], key];
  let request = `*${args.length}\r\n`;
  for (const arg of args) request += `$${arg.length}\r\n${arg}\r\n`;
  return encoder.encode(request.repeat(PIPELINE));
}
const PAYLOAD = Array.from({ length: PAYLOADS }, (_, i) => payload(i));
/** What one read may deliver: the connection's smallest read buffer. */
const MAX_READ_BYTES = 64 * 1024;
if (PAYLOAD.some((bytes) => bytes.length > MAX_READ_BYTES)) {
  throw new Error(
    `--command times --pipeline must fit one read of ${MAX_READ_BYTES} bytes; ` +
      `lower --pipeline`,
  );
}

/** Operations that complete together on the next macrotask, as a turn of the event loop. */
let due: (() => void)[] = [];
let turnQueued = false;
function nextTurn(complete: () => void): void {
  due.push(complete);
  if (turnQueued) return;
  turnQueued = true;
  setImmediate(() => {
    turnQueued = false;
    const now = due;
    due = [];
    for (const f of now) f();
  });
}

let open = 0;
let allClosed: () => void = () => {};

/** A connection that reads `reads` payloads, then its end; writes are taken whole. */
class LoopConn {
  readonly remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  readonly localAddr = { transport: "tcp", hostname: "127.0.0.1", port: 2 };
  #left: number;
  #next: number;

  constructor(reads: number, first: number) {
    this.#left = reads;
    this.#next = first;
  }

  read(into: Uint8Array): Promise<number | null> {
    return new Promise((resolve) =>
      nextTurn(() => {
        if (this.#left-- === 0) return resolve(null);
        const bytes = PAYLOAD[this.#next++ % PAYLOADS];
        into.set(bytes);
        resolve(bytes.length);
      })
    );
  }

  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve) => nextTurn(() => resolve(bytes.length)));
  }

  close(): void {
    if (--open === 0) allClosed();
  }

  setNoDelay(): void {}
}

/** Hands the server its connections (the `Acceptor` a TLS listener also is). */
class LoopAcceptor {
  readonly addr = { transport: "tcp", hostname: "127.0.0.1", port: 3 };
  readonly #waiting: { resolve: (c: LoopConn) => void; reject: (e: unknown) => void }[] = [];
  readonly #ready: LoopConn[] = [];

  accept(): Promise<LoopConn> {
    const conn = this.#ready.shift();
    if (conn !== undefined) return Promise.resolve(conn);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  give(conn: LoopConn): void {
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter.resolve(conn);
    else this.#ready.push(conn);
  }

  close(): void {
    for (const w of this.#waiting) w.reject(new Deno.errors.BadResource("closed"));
  }
}

const executor = new Executor(new Store(new Engine(16), undefined), { readOnly: false });
// The embedded default config's network section (what `deno task start` serves with).
const { network } = configFromDocument({ network: { max_connections: CLIENTS + 10 } }, "loop_cost");
const server = new Server(
  { network },
  executor,
  createLogger({ level: "error", output: "stderr" }),
);
const acceptor = new LoopAcceptor();
server.serve(acceptor);

/** ns per request of one round: `serve` starts each connection. */
async function round(serve: (conn: LoopConn) => void): Promise<number> {
  open = CLIENTS;
  const closed = new Promise<void>((resolve) => (allClosed = resolve));
  const startMs = performance.now();
  for (let c = 0; c < CLIENTS; c++) serve(new LoopConn(READS, c * 131));
  await closed;
  return (performance.now() - startMs) * 1e6 / (CLIENTS * READS * PIPELINE);
}

const sides = {
  kvdb: (conn: LoopConn) => acceptor.give(conn),
  floor: (conn: LoopConn) => void floorLoop(conn).finally(() => conn.close()),
};
const results: Record<string, number[]> = { kvdb: [], floor: [] };
for (const serve of Object.values(sides)) await round(serve);
for (let r = 0; r < Number(flags.rounds); r++) {
  for (const [name, serve] of Object.entries(sides)) results[name].push(await round(serve));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const k = median(results.kvdb);
const f = median(results.floor);
console.log(
  `${flags.command}, ${CLIENTS} clients, pipeline ${PIPELINE}: kvdb ${k.toFixed(0)} ns/request ` +
    `(rounds ${results.kvdb.map((x) => x.toFixed(0)).join(" ")}), floor's loop ${f.toFixed(0)}, ` +
    `kvdb's own ${(k - f).toFixed(0)}`,
);
Deno.exit(0);
