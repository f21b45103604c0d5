/**
 * Durable servers that a BullMQ crash test can SIGKILL and start again on
 * the same data and the same port, so BullMQ's ioredis clients reconnect
 * to them as they would to a restarted production server: kvdb with its
 * WAL, and redis-server 7.0 with `appendfsync always` (the reference, to
 * show that the test's claims hold there too).
 *
 * ```ts
 * const server = await CrashableServer.kvdb({});
 * await server.kill();
 * await server.restart();
 * await server.stop();
 * ```
 *
 * @module
 */

import {
  collectLines,
  delay,
  ensureRedisServer,
  freePort,
  infoSection,
  RespClient,
  RespStatus,
  ServerProcess,
  waitPortFree,
  walConfig,
} from "./_helpers.ts";

const READY_TIMEOUT_MS = 20_000;

/** What a crash test does to its server: kill, restart on the same data and port, stop. */
export interface CrashableServer {
  readonly name: string;
  readonly port: number;
  /**
   * Whether what is on disk has the shape a crash should find: for kvdb,
   * a snapshot (so the restart recovers from it and the log after it).
   */
  readyToKill(): Promise<boolean>;
  /** SIGKILL; resolves once the process is gone and its port can be bound again. */
  kill(): Promise<void>;
  /** Starts the server again on the same data directory and port; resolves once it serves. */
  restart(): Promise<void>;
  /** Kills the server (if running) and removes its data. */
  stop(): Promise<void>;
  /** The last lines of the server's log, for a failure message. */
  logTail(lines: number): string;
}

/**
 * Starts a durable server: kvdb with its WAL on (and `config`'s other
 * sections), or redis-server with the AOF fsynced on every write.
 */
export const CrashableServer = {
  async kvdb(
    config: Record<string, Record<string, unknown>>,
    wal: Record<string, unknown> = {},
  ): Promise<CrashableServer> {
    const dir = await Deno.makeTempDir({ prefix: "kvdb-bullmq-" });
    const full = { ...config, ...walConfig(dir, wal) };
    let process: ServerProcess | undefined = await ServerProcess.start(full, { dir });
    const port = process.port;
    const logs: string[] = [];
    const server: CrashableServer = {
      name: "kvdb",
      port,
      async readyToKill() {
        const client = await RespClient.connect(port);
        try {
          return Number((await infoSection(client, "persistence")).get("snapshot_last_lsn")) > 0;
        } finally {
          client.close();
        }
      },
      async kill() {
        logs.push(...process!.logs);
        await process!.stop("SIGKILL");
        process = undefined;
      },
      async restart() {
        process = await ServerProcess.start(full, { dir, port });
      },
      async stop() {
        if (process !== undefined) await server.kill();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
      logTail(lines: number) {
        return [...logs, ...process?.logs ?? []].slice(-lines).join("\n");
      },
    };
    return server;
  },

  async redis(): Promise<CrashableServer> {
    await ensureRedisServer();
    const dir = await Deno.makeTempDir({ prefix: "kvdb-bullmq-redis-" });
    const port = freePort();
    const logs: string[] = [];
    const start = async () => {
      const child = new Deno.Command("redis-server", {
        args: [
          ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir],
          ...["--save", "", "--appendonly", "yes", "--appendfsync", "always"],
          ...["--daemonize", "no", "--logfile", ""],
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = Promise.all([
        collectLines(child.stdout, logs),
        collectLines(child.stderr, logs),
      ]);
      await waitServing(port, child, logs);
      return { child, output };
    };
    let running: Awaited<ReturnType<typeof start>> | undefined = await start();
    const server: CrashableServer = {
      name: "redis-server",
      port,
      readyToKill: () => Promise.resolve(true),
      async kill() {
        running!.child.kill("SIGKILL");
        await running!.child.status;
        await running!.output;
        running = undefined;
        await waitPortFree(port);
      },
      async restart() {
        running = await start();
      },
      async stop() {
        if (running !== undefined) await server.kill();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
      logTail(lines: number) {
        return logs.slice(-lines).join("\n");
      },
    };
    return server;
  },
};

/**
 * Waits until the redis-server `child` answers PING on `port` with PONG
 * (not `-LOADING`) and is the process listening there.
 */
async function waitServing(port: number, child: Deno.ChildProcess, logs: string[]) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  child.status.then(() => exited = true);
  while (true) {
    if (exited) throw new Error(`redis-server exited at start:\n${logs.join("\n")}`);
    if (Date.now() > deadline) throw new Error(`redis-server not serving:\n${logs.join("\n")}`);
    let client: RespClient | undefined;
    try {
      client = await RespClient.connect(port);
      const info = await client.call("INFO", "server");
      if (typeof info === "string" && info.includes(`\r\nprocess_id:${child.pid}\r\n`)) {
        if (await client.call("PING") instanceof RespStatus) return; // not -LOADING
      }
    } catch {
      // Not listening yet.
    } finally {
      client?.close();
    }
    await delay(20);
  }
}
