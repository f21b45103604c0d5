/**
 * One worker of the multi-core prototype (see server.ts): its own listener
 * on the shared port (`reusePort`: the kernel spreads connections over the
 * workers' sockets), serving GET, SET, PING and CONFIG (an empty array, for
 * redis-benchmark's start) over RESP.
 *
 * Variant `shared` (B): every worker probes one {@link ProtoTable} in a
 * `SharedArrayBuffer`, each operation under its stripe's lock. Variant
 * `shards` (A): each worker owns the keys whose hash selects it and keeps
 * them in a table of its own, without locks; a request for another
 * worker's key travels there and back through {@link ShardHop} (`postMessage`)
 * or {@link RingHop} (a mailbox in a `SharedArrayBuffer`, `Atomics.waitAsync`).
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL("./_worker.ts", import.meta.url), { type: "module" });
 * worker.postMessage(init, ports);
 * ```
 * @module
 */

import {
  CONFIG,
  EMPTY_ARRAY,
  FULL,
  GET,
  INCOMPLETE,
  MALFORMED,
  OK,
  PING,
  PONG,
  Replies,
  Request,
  SET,
  UNKNOWN,
  WRONG_ARITY,
} from "./_resp.ts";
import { hashBytes, ProtoTable, tableBytes, type TableLayout } from "./_table.ts";
import { type BatchReplies, type OutBatch, ShardHop } from "./_shard_hop.ts";
import { RingHop } from "./_ring_hop.ts";

/** What server.ts tells a worker. */
export interface WorkerInit {
  id: number;
  workers: number;
  variant: "shared" | "shards";
  port: number;
  layout: TableLayout;
  /** Variant B's table; absent for variant A (each worker makes its own). */
  table?: SharedArrayBuffer;
  /** Whether the shared table's operations take locks (off only to measure them). */
  locked: boolean;
  /** Variant A: how requests travel to their owner. */
  hop: "message" | "ring";
  /** Variant A by message: the channel to each other worker (undefined at `id`). */
  ports: (MessagePort | undefined)[];
  /** Variant A by ring: the mailbox to each other worker, and from each. */
  mailboxesOut: (SharedArrayBuffer | undefined)[];
  mailboxesIn: (SharedArrayBuffer | undefined)[];
}

/** Bytes one read may bring; a request larger than this closes its connection. */
const READ_BYTES = 64 * 1024;
/** Requests one read batch may hold (the smallest request is ~14 bytes). */
const MAX_BATCH_REQUESTS = READ_BYTES / 8;
/**
 * Which bits of a key's hash choose its owner in variant A: above the
 * slot bits (low) and below the stripe bits (high), so that each worker's
 * keys still spread over all its stripes and slots.
 */
const OWNER_SHIFT = 13;
const OWNER_MASK = 0x7ff;

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerInit>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (event) => {
  scope.onmessage = null;
  start(event.data);
};

function start(init: WorkerInit): void {
  const table = new ProtoTable(
    init.table ?? new ArrayBuffer(tableBytes(init.layout)),
    init.layout,
    init.table !== undefined && init.locked,
  );
  const request = new Request();

  /** Executes the parsed `request` in `bytes` locally, its reply into `out`. */
  const execute = (bytes: Uint8Array, out: Replies): void => {
    if (request.isCommand(bytes, GET)) {
      if (request.argc !== 2) return out.write(WRONG_ARITY);
      const start = request.starts[1];
      const end = request.ends[1];
      table.get(bytes, start, end, hashBytes(bytes, start, end), out);
    } else if (request.isCommand(bytes, SET)) {
      if (request.argc !== 3) return out.write(WRONG_ARITY);
      const start = request.starts[1];
      const end = request.ends[1];
      const hash = hashBytes(bytes, start, end);
      const done = table.set(bytes, start, end, hash, bytes, request.starts[2], request.ends[2]);
      out.write(done ? OK : FULL);
    } else if (request.isCommand(bytes, PING)) {
      out.write(PONG);
    } else if (request.isCommand(bytes, CONFIG)) {
      out.write(EMPTY_ARRAY);
    } else {
      out.write(UNKNOWN);
    }
  };

  /** The owner of the parsed request's key, or -1 for a keyless command. */
  const ownerOf = (bytes: Uint8Array): number => {
    if (init.variant !== "shards" || init.workers === 1 || request.argc < 2) return -1;
    if (!request.isCommand(bytes, GET) && !request.isCommand(bytes, SET)) return -1;
    const hash = hashBytes(bytes, request.starts[1], request.ends[1]);
    return ((hash >>> OWNER_SHIFT) & OWNER_MASK) % init.workers;
  };

  const hopReplies = new Replies();
  const executeBatch = (bytes: Uint8Array): BatchReplies => {
    hopReplies.length = 0;
    const ends: number[] = [];
    let at = 0;
    while (at < bytes.length) {
      at = request.parse(bytes, at, bytes.length);
      if (at < 0) throw new Error("a hop carried a broken request");
      execute(bytes, hopReplies);
      ends.push(hopReplies.length);
    }
    return { bytes: hopReplies.bytes.slice(0, hopReplies.length), ends: Int32Array.from(ends) };
  };
  const hop = init.hop === "ring"
    ? new RingHop(init.mailboxesOut, init.mailboxesIn, executeBatch)
    : new ShardHop(init.ports, executeBatch);

  async function serve(conn: Deno.Conn): Promise<void> {
    const input = new Uint8Array(READ_BYTES);
    const out = new Replies();
    // Variant A: each request's owner (-1: here), and its batch and index there.
    const owners = new Int32Array(MAX_BATCH_REQUESTS);
    const indices = new Int32Array(MAX_BATCH_REQUESTS);
    const starts = new Int32Array(MAX_BATCH_REQUESTS);
    const batches: (OutBatch | undefined)[] = [];
    let have = 0;
    try {
      for (;;) {
        const read = await conn.read(input.subarray(have));
        if (read === null) return;
        have += read;
        let at = 0;
        let count = 0;
        let remote = false;
        for (;;) {
          const end = request.parse(input, at, have);
          if (end === INCOMPLETE) break;
          if (end === MALFORMED) return;
          const owner = ownerOf(input);
          if (owner < 0 || owner === init.id) {
            owners[count] = -1;
          } else {
            const batch = hop.send(owner, input, at, end);
            owners[count] = owner;
            indices[count] = batch.count - 1;
            batches[count] = batch;
            remote = true;
          }
          starts[count++] = at;
          at = end;
          if (count === MAX_BATCH_REQUESTS) break;
        }
        if (!remote) {
          // Executing while parsing would be cheaper; re-parsing keeps one
          // path for both variants, and costs the same in both.
          for (let i = 0; i < count; i++) {
            request.parse(input, starts[i], have);
            execute(input, out);
          }
        } else {
          for (let i = 0; i < count; i++) {
            if (owners[i] < 0) {
              request.parse(input, starts[i], have);
              execute(input, out);
              continue;
            }
            const replies = await batches[i]!.done;
            const from = indices[i] === 0 ? 0 : replies.ends[indices[i] - 1];
            out.write(replies.bytes.subarray(from, replies.ends[indices[i]]));
          }
          // Let the batches go: their replies are copied.
          batches.fill(undefined, 0, count);
        }
        input.copyWithin(0, at, have);
        have -= at;
        if (have === input.length) return;
        let written = 0;
        while (written < out.length) {
          written += await conn.write(out.bytes.subarray(written, out.length));
        }
        out.length = 0;
      }
    } catch {
      // A reset connection ends its service.
    } finally {
      conn.close();
    }
  }

  const listener = Deno.listen({ hostname: "127.0.0.1", port: init.port, reusePort: true });
  (async () => {
    for await (const conn of listener) {
      conn.setNoDelay(true);
      serve(conn);
    }
  })();
  scope.postMessage({ ready: init.id });
}
