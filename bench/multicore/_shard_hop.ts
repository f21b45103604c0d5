/**
 * Variant A's hop: a worker hands the requests whose keys another worker
 * owns to that worker, and gets their replies back, over a `MessagePort`
 * per pair of workers. Requests for one owner are gathered for a whole
 * turn of the event loop (all connections served in it) and sent as one
 * message, as Dragonfly batches a pipeline's commands per shard: the hop's
 * fixed cost (a structured clone, a wake-up of the owner's loop, the same
 * back) is then paid once per batch, not per request.
 *
 * @example
 * ```ts
 * const hop = new ShardHop(id, ports, execute);
 * const batch = hop.send(owner, bytes, start, end); // raw request bytes
 * const replies = await batch.done; // the owner's reply bytes and their ends
 * ```
 * @module
 */

import { setImmediate } from "node:timers";

/** The replies to one batch: their bytes in order, and where each ends. */
export interface BatchReplies {
  bytes: Uint8Array;
  ends: Int32Array;
}

/** Requests gathered for one owner in one turn of the event loop. */
export class OutBatch {
  bytes = new Uint8Array(4096);
  length = 0;
  count = 0;
  readonly done: Promise<BatchReplies>;
  resolve!: (replies: BatchReplies) => void;

  constructor() {
    this.done = new Promise((resolve) => this.resolve = resolve);
  }

  /** Appends one request's bytes; returns its index in the batch. */
  add(source: Uint8Array, start: number, end: number): number {
    const need = this.length + end - start;
    if (need > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < need) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(source.subarray(start, end), this.length);
    this.length = need;
    return this.count++;
  }
}

/** Executes a batch of raw requests: their replies and where each ends. */
export type BatchExecutor = (bytes: Uint8Array) => BatchReplies;

interface HopMessage {
  id: number;
  /** A request batch (`reply` false) or the replies to one. */
  reply: boolean;
  bytes: Uint8Array;
  ends?: Int32Array;
}

/** One worker's end of every pairwise channel. */
export class ShardHop {
  readonly #ports: (MessagePort | undefined)[];
  /** The batch being filled for each owner this turn. */
  readonly #open: (OutBatch | undefined)[];
  /** Batches sent and not yet answered, by id. */
  readonly #waiting = new Map<number, OutBatch>();
  #nextId = 1;
  #flushQueued = false;
  /** Batches and requests sent, for reports. */
  batchesSent = 0;
  requestsSent = 0;

  constructor(ports: (MessagePort | undefined)[], execute: BatchExecutor) {
    this.#ports = ports;
    this.#open = ports.map(() => undefined);
    for (const port of ports) {
      if (port === undefined) continue;
      port.onmessage = (event: MessageEvent<HopMessage>) => {
        const message = event.data;
        if (message.reply) {
          const batch = this.#waiting.get(message.id)!;
          this.#waiting.delete(message.id);
          batch.resolve({ bytes: message.bytes, ends: message.ends! });
          return;
        }
        const replies = execute(message.bytes);
        const answer: HopMessage = { id: message.id, reply: true, ...replies };
        port.postMessage(answer, [
          replies.bytes.buffer as ArrayBuffer,
          replies.ends.buffer as ArrayBuffer,
        ]);
      };
    }
  }

  /**
   * Queues the request `source[start..end)` for `owner`: the batch it
   * joined (sent at the end of this turn) and its index there.
   */
  send(owner: number, source: Uint8Array, start: number, end: number): OutBatch {
    let batch = this.#open[owner];
    if (batch === undefined) {
      batch = this.#open[owner] = new OutBatch();
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        setImmediate(() => this.#flush());
      }
    }
    batch.add(source, start, end);
    return batch;
  }

  #flush(): void {
    this.#flushQueued = false;
    for (let owner = 0; owner < this.#open.length; owner++) {
      const batch = this.#open[owner];
      if (batch === undefined) continue;
      this.#open[owner] = undefined;
      const id = this.#nextId++;
      this.#waiting.set(id, batch);
      const bytes = batch.bytes.slice(0, batch.length);
      const message: HopMessage = { id, reply: false, bytes };
      this.#ports[owner]!.postMessage(message, [bytes.buffer]);
      this.batchesSent++;
      this.requestsSent += batch.count;
    }
  }
}
