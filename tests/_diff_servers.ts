/**
 * The servers of a differential test: a `redis-server` child process on a
 * free loopback port without persistence (installed from Debian when
 * missing), and kvdb started as tests/_helpers.ts `ServerProcess` does.
 *
 * ```ts
 * import { KvdbServer, RedisServer } from "./_diff_servers.ts";
 * const redis = await RedisServer.start({ args: ["--maxmemory", "1mb"] });
 * const kvdb = await KvdbServer.start({ engine: { partitions: 4 } });
 * // ... talk to redis.port and kvdb.port ...
 * await Promise.all([redis.stop(), kvdb.stop()]);
 * ```
 *
 * @module
 */

import { delay, freePort, ServerProcess, waitPortFree } from "./_helpers.ts";
import { RespConnection } from "./_resp_connection.ts";
import { binaryString } from "./_resp_frames.ts";
import { ensureDebianPackage, runs } from "./_debian.ts";

/** Longest a redis-server may take to answer its first PING. */
const REDIS_READY_TIMEOUT_MS = 10_000;
/** Log lines kept per server (a limit: the rest are dropped, oldest first). */
const MAX_LOG_LINES = 2_000;

/** A server the harness can talk to. */
export interface Target {
  /** Shown in reports: "kvdb", "redis". */
  readonly name: string;
  readonly port: number;
}

/** A server the harness started and will stop. */
export interface Server extends Target {
  stop(): Promise<void>;
  /** The last `lines` lines the server logged, for a failing test's message. */
  logTail(lines: number): string;
}

/**
 * Makes sure `redis-server` runs: installs Debian's redis-server with
 * apt-get (once per process) when it is missing, or throws saying why not.
 */
export function ensureRedisServer(): Promise<void> {
  return ensureDebianPackage("redis-server", () => runs("redis-server"));
}

function collectLines(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  return (async () => {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop()!;
      into.push(...parts);
      if (into.length > MAX_LOG_LINES) into.splice(0, into.length - MAX_LOG_LINES);
    }
    if (pending) into.push(pending);
  })();
}

/** A `redis-server` child process on a free loopback port, without persistence. */
/** Another process answered on the port a redis-server was started on. */
class PortTakenError extends Error {
  constructor(port: number) {
    super(`port ${port} is another process's`);
  }
}

export class RedisServer implements Server {
  readonly logs: string[] = [];

  private constructor(
    readonly name: string,
    readonly port: number,
    readonly child: Deno.ChildProcess,
    readonly dir: string,
    readonly output: Promise<void>,
  ) {}

  /**
   * Starts `redis-server --save "" --appendonly no --port N --bind
   * 127.0.0.1` plus `args` (more config, e.g. `["--maxmemory", "1mb"]`) and
   * waits until it answers PING. Retries on another port if the chosen one
   * was taken in between.
   */
  static async start(
    options: { args?: readonly string[]; name?: string } = {},
  ): Promise<RedisServer> {
    await ensureRedisServer();
    const dir = await Deno.makeTempDir({ prefix: "kvdb-redis-" });
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = freePort();
      const child = new Deno.Command("redis-server", {
        args: [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--daemonize",
          "no",
          "--dir",
          dir,
          "--logfile",
          "",
          ...options.args ?? [],
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const logs: string[] = [];
      const output = Promise.all([
        collectLines(child.stdout, logs),
        collectLines(child.stderr, logs),
      ]).then(() => {});
      const server = new RedisServer(options.name ?? "redis", port, child, dir, output);
      // Share the array the collectors fill.
      (server as { logs: string[] }).logs = logs;
      try {
        await server.#waitReady();
        return server;
      } catch (e) {
        lastError = e;
        await server.#kill();
        const taken = e instanceof PortTakenError ||
          logs.some((l) => l.includes("Address already in use"));
        if (!taken) break;
      }
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw lastError;
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + REDIS_READY_TIMEOUT_MS;
    let exited = false;
    this.child.status.then(() => exited = true);
    while (true) {
      if (exited) {
        await this.output;
        throw new Error(`redis-server exited at start:\n${this.logTail(30)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`redis-server did not answer PING in time:\n${this.logTail(30)}`);
      }
      let conn: RespConnection | undefined;
      try {
        conn = await RespConnection.connect(this.port);
        const pong = await conn.call(["PING"], 1_000);
        if (binaryString(pong.raw) === "+PONG\r\n") {
          // Another server that took the port first would answer too: only
          // this process's own pid says the port is this server's.
          const info = binaryString((await conn.call(["INFO", "server"], 1_000)).raw);
          if (info.includes(`\r\nprocess_id:${this.child.pid}\r\n`)) return;
          throw new PortTakenError(this.port);
        }
      } catch (e) {
        if (e instanceof PortTakenError) throw e;
        // Not listening yet, or still loading.
      } finally {
        conn?.close();
      }
      await delay(20);
    }
  }

  async #kill(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await this.child.status;
    await this.output;
  }

  /** SIGTERM (SIGKILL after 5 s), then waits for the port to be free and removes the dir. */
  async stop(): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }, 5_000);
    await this.child.status;
    clearTimeout(timer);
    await this.output;
    await waitPortFree(this.port);
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  logTail(lines: number): string {
    return this.logs.slice(-lines).join("\n");
  }
}

/** kvdb config sections, as tests/_helpers.ts `ServerProcess.start` takes them. */
export type KvdbConfig = Record<string, Record<string, unknown>>;

/**
 * kvdb's settings for differential runs: requests as large as the tests
 * send (Redis accepts 512 MB bulks; kvdb's default limit is 4 KB).
 */
export const KVDB_DIFF_DEFAULTS: KvdbConfig = { network: { max_message_size: "64MiB" } };

/** kvdb as a child process (tests/_helpers.ts `ServerProcess`), as a {@link Server}. */
export class KvdbServer implements Server {
  readonly name: string;

  private constructor(readonly process: ServerProcess, name: string) {
    this.name = name;
  }

  /** Starts kvdb with {@link KVDB_DIFF_DEFAULTS} overlaid by `config`, section by section. */
  static async start(config: KvdbConfig = {}, name = "kvdb"): Promise<KvdbServer> {
    const full: KvdbConfig = structuredClone(KVDB_DIFF_DEFAULTS);
    for (const [section, values] of Object.entries(config)) {
      full[section] = { ...full[section], ...values };
    }
    return new KvdbServer(await ServerProcess.start(full), name);
  }

  get port(): number {
    return this.process.port;
  }

  async stop(): Promise<void> {
    await this.process.stop("SIGKILL");
    await Deno.remove(this.process.dir, { recursive: true }).catch(() => {});
  }

  logTail(lines: number): string {
    return this.process.logs.slice(-lines).join("\n");
  }
}
