/**
 * The runtime's floor: the least a Deno server can do per request with the
 * I/O kvdb uses (`Deno.Conn.read` into a reused buffer, one `write` per
 * read), and no database behind it. It finds the requests in each read,
 * answers each with `+OK` (`+PONG` to PING), and, with `--durable`, first
 * appends the bytes read to one file and fdatasyncs them, once per turn of
 * the event loop for every connection served in it — kvdb's group commit
 * with nothing else. `bench/_runtime_floor.ts` runs it against kvdb and
 * redis-server to show how much of kvdb's cost per request is Deno's.
 *
 * Only for redis-benchmark's load: a request is found by the `*` that
 * starts it (its keys and values hold no `\n*`), CONFIG gets an empty
 * array, and at most 1 MiB may arrive in one turn of the loop (pipeline 1
 * sends far less; more closes the connection).
 *
 *     deno run --allow-net --allow-write bench/floor_server.ts \
 *       --port 7000 [--durable /tmp/floor.log]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { setImmediate } from "node:timers";
import { floorLoop } from "./_floor_loop.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string" }, durable: { type: "string" } },
});
/** The log file wraps here: it is preallocated, as kvdb's segments are. */
const LOG_BYTES = 64 * 1024 * 1024;

/** Appends bytes and makes them durable once per event-loop turn. */
class GroupLog {
  readonly #file: Deno.FsFile;
  #batch = new Uint8Array(1024 * 1024);
  #length = 0;
  #position = 0;
  #done: PromiseWithResolvers<void> | undefined;

  constructor(path: string) {
    this.#file = Deno.openSync(path, { create: true, write: true, truncate: true });
    this.#file.writeSync(new Uint8Array(LOG_BYTES));
    this.#file.syncSync();
  }

  /** Resolves once `bytes` are on disk. */
  append(bytes: Uint8Array): Promise<void> {
    if (this.#length + bytes.length > this.#batch.length) throw new Error("batch full");
    this.#batch.set(bytes, this.#length);
    this.#length += bytes.length;
    if (this.#done === undefined) {
      this.#done = Promise.withResolvers<void>();
      setImmediate(() => this.#flush());
    }
    return this.#done.promise;
  }

  #flush(): void {
    if (this.#position + this.#length > LOG_BYTES) this.#position = 0;
    this.#file.seekSync(this.#position, Deno.SeekMode.Start);
    let written = 0;
    while (written < this.#length) {
      written += this.#file.writeSync(this.#batch.subarray(written, this.#length));
    }
    this.#file.syncDataSync();
    this.#position += this.#length;
    this.#length = 0;
    const done = this.#done!;
    this.#done = undefined;
    done.resolve();
  }
}

async function serve(conn: Deno.TcpConn, log: GroupLog | undefined): Promise<void> {
  try {
    conn.setNoDelay(true);
    await floorLoop(conn, log === undefined ? undefined : (read) => log.append(read));
  } finally {
    conn.close();
  }
}

const log = flags.durable ? new GroupLog(flags.durable) : undefined;
const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(flags.port) });
for await (const conn of listener) serve(conn, log).catch(() => {});
