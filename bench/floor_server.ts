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

const { values: flags } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string" }, durable: { type: "string" } },
});
const READ_BYTES = 64 * 1024;
/** The log file wraps here: it is preallocated, as kvdb's segments are. */
const LOG_BYTES = 64 * 1024 * 1024;
const OK = new TextEncoder().encode("+OK\r\n");
const PONG = new TextEncoder().encode("+PONG\r\n");
const EMPTY_ARRAY = new TextEncoder().encode("*0\r\n");

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
    await answer(conn, log);
  } finally {
    conn.close();
  }
}

async function answer(conn: Deno.TcpConn, log: GroupLog | undefined): Promise<void> {
  conn.setNoDelay(true);
  const buffer = new Uint8Array(READ_BYTES);
  let out = new Uint8Array(READ_BYTES);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) return;
    let length = 0;
    for (let i = 0; i < n; i++) {
      if (buffer[i] !== 0x2a || (i > 0 && buffer[i - 1] !== 0x0a)) continue;
      // "*1\r\n$4\r\nPING": the command's first letter follows two CRLFs.
      const letter = i + 8 < n ? buffer[i + 8] : 0;
      const reply = letter === 0x50 ? PONG : letter === 0x43 ? EMPTY_ARRAY : OK;
      if (length + reply.length > out.length) {
        const grown = new Uint8Array(out.length * 2);
        grown.set(out);
        out = grown;
      }
      out.set(reply, length);
      length += reply.length;
    }
    await log?.append(buffer.subarray(0, n));
    let written = 0;
    while (written < length) written += await conn.write(out.subarray(written, length));
  }
}

const log = flags.durable ? new GroupLog(flags.durable) : undefined;
const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(flags.port) });
for await (const conn of listener) serve(conn, log).catch(() => {});
