/**
 * Test helpers: real HAProxy and twemproxy (`nutcracker`) child processes,
 * started from configs generated from the shipped templates
 * (configs/haproxy.cfg, configs/nutcracker.yml) with only addresses and the
 * stats socket path changed, on free loopback ports. Debian's `haproxy` and
 * `nutcracker` are installed with apt-get when absent.
 *
 * @module
 */

import {
  delay,
  freePort,
  ServerProcess,
  startRedisServer,
  waitPortFree,
  walConfig,
} from "./_helpers.ts";
import { ensureDebianPackage, runs } from "./_debian.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const HAPROXY_TEMPLATE = `${ROOT}configs/haproxy.cfg`;
const NUTCRACKER_TEMPLATE = `${ROOT}configs/nutcracker.yml`;
const READY_TIMEOUT_MS = 10_000;
const STATS_TIMEOUT_MS = 2_000;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * HAProxy and nutcracker, installed from Debian's `haproxy` and
 * `nutcracker` packages when absent (apt-get update first).
 *
 * @example
 * ```ts
 * await ensureProxyTools();
 * ```
 */
export async function ensureProxyTools(): Promise<void> {
  await ensureDebianPackage("haproxy", () => runs("haproxy", ["-v"]));
  await ensureDebianPackage("nutcracker", () => runs("nutcracker", ["--version"]));
}

/** The first line of `program <args>`'s output (its version banner). */
export async function versionLine(program: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).output();
  return (decoder.decode(out.stdout) + decoder.decode(out.stderr)).split("\n")[0];
}

/** Replaces every match of `pattern` (global) and checks how many there were. */
function replaceCounted(
  text: string,
  pattern: RegExp,
  expected: number,
  replace: (match: string, index: number) => string,
): string {
  const found = text.match(pattern)?.length ?? 0;
  if (found !== expected) {
    throw new Error(`template: ${pattern} matched ${found} times, expected ${expected}`);
  }
  let index = 0;
  return text.replace(pattern, (match) => replace(match, index++));
}

/** How the HAProxy check of a generated config sends its commands. */
export type CheckFraming = "inline" | "resp";

/** One server of an HAProxy backend or a twemproxy pool: its name and port. */
export interface NamedPort {
  name: string;
  port: number;
}

/** HAProxy's check timing, as configs/haproxy.cfg sets it (milliseconds, counts). */
export interface CheckTiming {
  interMs: number;
  fastinterMs: number;
  timeoutCheckMs: number;
  fall: number;
  rise: number;
}

function durationMs(text: string): number {
  const m = /^(\d+)(ms|s)?$/.exec(text);
  if (!m) throw new Error(`template: bad duration ${text}`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}

/**
 * The check timing configs/haproxy.cfg sets; a test derives its time
 * bounds from these.
 *
 * @example
 * ```ts
 * const { interMs, fall } = haproxyCheckTiming(await Deno.readTextFile("configs/haproxy.cfg"));
 * ```
 */
export function haproxyCheckTiming(config: string): CheckTiming {
  const server = /^\s*default-server\b(.*)$/m.exec(config)?.[1];
  const timeout = /^\s*timeout check (\S+)/m.exec(config)?.[1];
  if (server === undefined || timeout === undefined) {
    throw new Error("template: no default-server or timeout check line");
  }
  const word = (name: string) => {
    const value = new RegExp(`\\b${name} (\\S+)`).exec(server)?.[1];
    if (value === undefined) throw new Error(`template: default-server has no ${name}`);
    return value;
  };
  return {
    interMs: durationMs(word("inter")),
    fastinterMs: durationMs(word("fastinter")),
    timeoutCheckMs: durationMs(timeout),
    fall: Number(word("fall")),
    rise: Number(word("rise")),
  };
}

/**
 * configs/haproxy.cfg with its frontend bound to `frontendPort`, its two
 * servers renamed and pointed at `servers`, and its stats socket at
 * `statsSocket`. `framing: "resp"` swaps the three check `send` lines for
 * the RESP-framed ones the template gives in comments (for kvdb in `auto`
 * protocol mode).
 *
 * @example
 * ```ts
 * const cfg = haproxyConfig(template, { frontendPort: 6380, servers, statsSocket: "/tmp/s" });
 * ```
 */
export function haproxyConfig(
  template: string,
  options: {
    frontendPort: number;
    servers: NamedPort[];
    statsSocket: string;
    framing?: CheckFraming;
  },
): string {
  const { servers } = options;
  let text = replaceCounted(
    template,
    /^(\s*bind )\S+$/gm,
    1,
    (m) => m.replace(/\S+$/, `127.0.0.1:${options.frontendPort}`),
  );
  text = replaceCounted(
    text,
    /^(\s*server )\S+ \S+$/gm,
    servers.length,
    (m, i) => m.replace(/\S+ \S+$/, `${servers[i].name} 127.0.0.1:${servers[i].port}`),
  );
  text = replaceCounted(
    text,
    /^(\s*stats socket )\S+/gm,
    1,
    (m) => m.replace(/\S+$/, options.statsSocket),
  );
  if (options.framing === "resp") {
    const framed = [...text.matchAll(/^\s*#(tcp-check send \*.*)$/gm)].map((m) => m[1]);
    if (framed.length !== 3) throw new Error("template: expected 3 RESP-framed send lines");
    text = replaceCounted(
      text,
      /^(\s*)tcp-check send .*$/gm,
      3,
      (m, i) => m.replace(/tcp-check send .*$/, framed[i]),
    );
  }
  return text;
}

/** A server's state in HAProxy's `show stat`: `UP`, `DOWN`, `UP 1/2`, `no check`... */
export type ServerStatus = string;

/** An HAProxy child process serving one group (configs/haproxy.cfg). */
export class HaproxyProcess {
  readonly logs: string[] = [];

  private constructor(
    readonly child: Deno.ChildProcess,
    /** The frontend's port: where clients connect. */
    readonly port: number,
    readonly statsSocket: string,
    readonly dir: string,
    readonly timing: CheckTiming,
  ) {
    this.#collect(child.stdout);
    this.#collect(child.stderr);
  }

  /**
   * Starts `haproxy -db` with configs/haproxy.cfg pointed at `servers`, and
   * waits until its stats socket answers.
   */
  static async start(
    servers: NamedPort[],
    options: { framing?: CheckFraming } = {},
  ): Promise<HaproxyProcess> {
    await ensureProxyTools();
    const template = await Deno.readTextFile(HAPROXY_TEMPLATE);
    const dir = await Deno.makeTempDir({ prefix: "kvdb-haproxy-" });
    const port = freePort();
    const statsSocket = `${dir}/admin.sock`;
    const config = haproxyConfig(template, {
      frontendPort: port,
      servers,
      statsSocket,
      framing: options.framing,
    });
    const configPath = `${dir}/haproxy.cfg`;
    await Deno.writeTextFile(configPath, config);
    const child = new Deno.Command("haproxy", {
      args: ["-db", "-f", configPath],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const proxy = new HaproxyProcess(child, port, statsSocket, dir, haproxyCheckTiming(config));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (true) {
      try {
        await proxy.statuses();
        return proxy;
      } catch (e) {
        if (Date.now() > deadline) {
          await proxy.stop();
          throw new Error(`haproxy did not start (${e}):\n${proxy.logs.join("\n")}`);
        }
        await delay(50);
      }
    }
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      this.logs.push(...chunk.split("\n").filter((l) => l));
    }
  }

  /** Sends one command to the stats socket and returns its whole answer. */
  async admin(command: string): Promise<string> {
    const conn = await Deno.connect({ transport: "unix", path: this.statsSocket });
    const timer = setTimeout(() => conn.close(), STATS_TIMEOUT_MS);
    try {
      await conn.write(encoder.encode(command + "\n"));
      let out = "";
      const buf = new Uint8Array(16 * 1024);
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        out += decoder.decode(buf.subarray(0, n));
      }
      return out;
    } finally {
      clearTimeout(timer);
      try {
        conn.close();
      } catch {
        // Closed by the timer or by HAProxy.
      }
    }
  }

  /** Each backend server's status (`show stat`), by server name. */
  async statuses(): Promise<Map<string, ServerStatus>> {
    const csv = (await this.admin("show stat")).split("\n").filter((l) => l);
    const header = csv[0]?.replace(/^# /, "").split(",");
    const name = header?.indexOf("svname") ?? -1;
    const status = header?.indexOf("status") ?? -1;
    if (name < 0 || status < 0) throw new Error(`unexpected show stat: ${csv[0]}`);
    const out = new Map<string, ServerStatus>();
    for (const line of csv.slice(1)) {
      const fields = line.split(",");
      if (fields[name] === "FRONTEND" || fields[name] === "BACKEND") continue;
      out.set(fields[name], fields[status]);
    }
    return out;
  }

  /**
   * Waits until every server named in `expected` has that status; returns
   * the milliseconds it took.
   */
  async waitStatuses(
    expected: Record<string, ServerStatus>,
    timeoutMs: number,
  ): Promise<number> {
    const start = Date.now();
    let last = new Map<string, ServerStatus>();
    while (true) {
      last = await this.statuses();
      if (Object.entries(expected).every(([n, s]) => last.get(n) === s)) {
        return Date.now() - start;
      }
      if (Date.now() - start > timeoutMs) {
        throw new Error(
          `haproxy: wanted ${JSON.stringify(expected)}, have ${
            JSON.stringify(Object.fromEntries(last))
          } after ${timeoutMs} ms\n${this.logs.slice(-10).join("\n")}`,
        );
      }
      await delay(25);
    }
  }

  /** SIGTERM, then waits for exit and the frontend port to be free. */
  stop(): Promise<void> {
    return stopProxy(this.child, this.port, this.dir);
  }
}

/**
 * configs/nutcracker.yml listening on `listenPort` with its servers renamed
 * and pointed at `servers` (one per group).
 *
 * @example
 * ```ts
 * const yml = nutcrackerConfig(template, 22121, [{ name: "group1", port: 6380 }]);
 * ```
 */
export function nutcrackerConfig(
  template: string,
  listenPort: number,
  servers: NamedPort[],
): string {
  let text = replaceCounted(
    template,
    /^(\s*listen: )\S+$/gm,
    1,
    (m) => m.replace(/\S+$/, `127.0.0.1:${listenPort}`),
  );
  const lines = /^(\s*- )\S+:\d+:(\d+) \S+$/gm;
  const count = text.match(lines)?.length ?? 0;
  if (count < servers.length) {
    throw new Error(`template has ${count} server lines, ${servers.length} needed`);
  }
  let index = 0;
  text = text.replace(lines, (_m, indent: string, weight: string) => {
    const server = servers[index++];
    return server ? `${indent}127.0.0.1:${server.port}:${weight} ${server.name}` : "";
  });
  return text;
}

/** A twemproxy (`nutcracker`) child process sharding over groups. */
export class NutcrackerProcess {
  readonly logs: string[] = [];

  private constructor(
    readonly child: Deno.ChildProcess,
    /** Where clients connect. */
    readonly port: number,
    readonly dir: string,
  ) {
    this.#collect(child.stderr);
  }

  /**
   * Starts nutcracker with configs/nutcracker.yml pointed at `servers` (its
   * stats port free too), checks the config with `-t` first, and waits
   * until it answers `PING`.
   */
  static async start(servers: NamedPort[]): Promise<NutcrackerProcess> {
    await ensureProxyTools();
    const template = await Deno.readTextFile(NUTCRACKER_TEMPLATE);
    const dir = await Deno.makeTempDir({ prefix: "kvdb-nutcracker-" });
    const port = freePort();
    const configPath = `${dir}/nutcracker.yml`;
    await Deno.writeTextFile(configPath, nutcrackerConfig(template, port, servers));
    const check = await new Deno.Command("nutcracker", {
      args: ["-t", "-c", configPath],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!check.success) {
      throw new Error(`nutcracker -t: ${decoder.decode(check.stderr)}`);
    }
    const child = new Deno.Command("nutcracker", {
      args: ["-c", configPath, "-s", String(freePort()), "-a", "127.0.0.1", "-v", "5"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const proxy = new NutcrackerProcess(child, port, dir);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (true) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        try {
          await conn.write(encoder.encode("*1\r\n$4\r\nPING\r\n"));
          const buf = new Uint8Array(16);
          const n = await conn.read(buf);
          if (n !== null && decoder.decode(buf.subarray(0, n)) === "+PONG\r\n") return proxy;
        } finally {
          conn.close();
        }
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        await proxy.stop();
        throw new Error(`nutcracker did not start:\n${proxy.logs.join("\n")}`);
      }
      await delay(50);
    }
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      this.logs.push(...chunk.split("\n").filter((l) => l));
    }
  }

  /** SIGTERM, then waits for exit and the port to be free. */
  stop(): Promise<void> {
    return stopProxy(this.child, this.port, this.dir);
  }
}

/** A master–replica group: the replica follows the master from the start. */
export interface Group {
  master: { port: number };
  replica: { port: number };
  /** Stops both servers and removes their files. */
  stop(): Promise<void>;
}

const GROUP_SYNC_INTERVAL = "200ms";

/**
 * A kvdb master and a replica following it, both set up by YAML
 * (`replication.replica_type`), with the WAL on and `network.protocol` as
 * given. The replica dials the master's client port.
 *
 * @example
 * ```ts
 * const group = await startKvdbYamlGroup("resp");
 * await group.stop();
 * ```
 */
export async function startKvdbYamlGroup(
  protocol: "resp" | "auto",
): Promise<{ master: ServerProcess; replica: ServerProcess; stop(): Promise<void> }> {
  const masterDir = await Deno.makeTempDir({ prefix: "kvdb-group-master-" });
  const replicaDir = await Deno.makeTempDir({ prefix: "kvdb-group-replica-" });
  const servers: ServerProcess[] = [];
  const stop = async () => {
    for (const s of servers) await s.stop();
    for (const d of [masterDir, replicaDir]) {
      await Deno.remove(d, { recursive: true }).catch(() => {});
    }
  };
  try {
    const master = await ServerProcess.start({
      ...walConfig(masterDir),
      network: { protocol },
      replication: {
        enabled: true,
        replica_type: "master",
        master_address: `127.0.0.1:${freePort()}`,
        sync_interval: GROUP_SYNC_INTERVAL,
      },
    }, { dir: masterDir });
    servers.push(master);
    const replica = await ServerProcess.start({
      ...walConfig(replicaDir),
      network: { protocol },
      replication: {
        enabled: true,
        replica_type: "slave",
        master_address: `127.0.0.1:${master.port}`,
        sync_interval: GROUP_SYNC_INTERVAL,
      },
    }, { dir: replicaDir });
    servers.push(replica);
    return { master, replica, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * A redis-server master and a redis-server replica of it (`--replicaof`).
 *
 * @example
 * ```ts
 * const group = await startRedisGroup();
 * await group.stop();
 * ```
 */
export async function startRedisGroup(): Promise<Group> {
  // No 5 s wait before the replica's first sync (Redis 7's default delay).
  const master = await startRedisServer(["--repl-diskless-sync-delay", "0"]);
  try {
    const replica = await startRedisServer(["--replicaof", "127.0.0.1", String(master.port)]);
    return {
      master,
      replica,
      async stop() {
        await replica.stop();
        await master.stop();
      },
    };
  } catch (e) {
    await master.stop();
    throw e;
  }
}

/** SIGTERM, then waits for exit and `port` to be free, and removes `dir`. */
async function stopProxy(child: Deno.ChildProcess, port: number, dir: string): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  await child.status;
  await waitPortFree(port);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
