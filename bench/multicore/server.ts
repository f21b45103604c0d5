/**
 * The multi-core prototype (issue 20 point 6; docs/multicore.md): N Deno
 * Workers, each with its own listener on one port (`reusePort`), answering
 * GET/SET/PING over RESP, with the keyspace either in one shared table
 * (`--variant shared`, locks per stripe) or in shards owned by the workers
 * with a message hop between them (`--variant shards`). Prints `ready`
 * once every worker listens. Only for measuring: see `_table.ts` for what
 * the table leaves out.
 *
 *     deno run --unstable-net --allow-net=127.0.0.1 bench/multicore/server.ts \
 *       --port 7000 --workers 2 --variant shards|shared [--hop message|ring] [--no-locks] \
 *       [--stripes 256] [--slots 4096] [--arena-kib 256]
 *
 * `--hop` is how variant A forwards requests: `postMessage` (the default)
 * or a mailbox in a `SharedArrayBuffer` per pair of workers.
 * `--no-locks` runs the shared table without locks: correct with one
 * worker only, to measure what the locks cost.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { WorkerInit } from "./_worker.ts";
import { mailboxBytes } from "./_ring_hop.ts";
import { tableBytes, type TableLayout } from "./_table.ts";

/** Most workers: more than any machine here has cores, fewer than the owner bits allow. */
const MAX_WORKERS = 256;

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    workers: { type: "string", default: "1" },
    variant: { type: "string", default: "shared" },
    hop: { type: "string", default: "message" },
    "no-locks": { type: "boolean", default: false },
    stripes: { type: "string", default: "256" },
    slots: { type: "string", default: "4096" },
    "arena-kib": { type: "string", default: "256" },
  },
});

const port = Number(flags.port);
const workers = Number(flags.workers);
const variant = flags.variant;
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error("--port: a TCP port");
if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
  throw new Error(`--workers: 1 to ${MAX_WORKERS}`);
}
if (variant !== "shared" && variant !== "shards") throw new Error("--variant: shared or shards");
const hop = flags.hop;
if (hop !== "message" && hop !== "ring") throw new Error("--hop: message or ring");
if (flags["no-locks"] && workers > 1) throw new Error("--no-locks needs --workers 1");
const layout: TableLayout = {
  stripes: Number(flags.stripes),
  slotsPerStripe: Number(flags.slots),
  arenaBytesPerStripe: Number(flags["arena-kib"]) * 1024,
};
const table = variant === "shared" ? new SharedArrayBuffer(tableBytes(layout)) : undefined;

// Variant A: one channel per pair of workers.
const ports: (MessagePort | undefined)[][] = Array.from(
  { length: workers },
  () => Array.from({ length: workers }, () => undefined),
);
// A mailbox per ordered pair: mailboxes[from][to].
const mailboxes: (SharedArrayBuffer | undefined)[][] = Array.from(
  { length: workers },
  (_, from) =>
    Array.from(
      { length: workers },
      (_, to) =>
        variant === "shards" && hop === "ring" && from !== to
          ? new SharedArrayBuffer(mailboxBytes())
          : undefined,
    ),
);
if (variant === "shards" && hop === "message") {
  for (let a = 0; a < workers; a++) {
    for (let b = a + 1; b < workers; b++) {
      const channel = new MessageChannel();
      ports[a][b] = channel.port1;
      ports[b][a] = channel.port2;
    }
  }
}

const ready: Promise<void>[] = [];
for (let id = 0; id < workers; id++) {
  const worker = new Worker(new URL("./_worker.ts", import.meta.url), { type: "module" });
  const { promise, resolve } = Promise.withResolvers<void>();
  worker.onmessage = () => resolve();
  worker.onerror = (event) => {
    console.error(`worker ${id}: ${event.message}`);
    Deno.exit(1);
  };
  const init: WorkerInit = {
    id,
    workers,
    variant,
    port,
    layout,
    table,
    locked: !flags["no-locks"],
    hop,
    ports: ports[id],
    mailboxesOut: mailboxes[id],
    mailboxesIn: mailboxes.map((row) => row[id]),
  };
  worker.postMessage(init, ports[id].filter((p): p is MessagePort => p !== undefined));
  ready.push(promise);
}
await Promise.all(ready);
console.log("ready");
