/**
 * A master and two replicas for the Sentinel tests (issue 15 point 4),
 * either redis-server processes (the reference: their scenarios must pass
 * first) or kvdb processes, behind one interface so a scenario runs
 * unchanged on both; each node can be SIGKILLed and restarted on its port
 * and directory. Also what the scenarios measure with: the servers' INFO,
 * full data dumps, and writers that confirm every write with `WAIT`.
 *
 * ```ts
 * import { startRedisGroup } from "./_sentinel_groups.ts";
 *
 * const group = await startRedisGroup();
 * const [master, replicaA] = group.nodes;
 * await master.kill();
 * await master.restart();
 * await group.stop();
 * ```
 *
 * @module
 */

import {
  concatBytes,
  delay,
  encodeRespCommand,
  freePort,
  RespClient,
  RespError,
  type RespReply,
  RespStatus,
  ServerProcess,
  waitPortFree,
  walConfig,
} from "./_helpers.ts";
import { callOnce } from "./_sentinel.ts";

const READY_TIMEOUT_MS = 20_000;
const REPLICATING_TIMEOUT_MS = 30_000;
const POLL_MS = 100;
/** Keys fetched per MGET in a dump: the request fits kvdb's default max_message_size (4KB). */
const DUMP_CHUNK_KEYS = 100;

/** What the group's servers are. */
export type GroupKind = "redis" | "kvdb";

/** One server of a group. */
export interface GroupNode {
  readonly port: number;
  readonly dir: string;
  /** False between {@link kill} and {@link restart}. */
  readonly running: boolean;
  /** SIGKILL; resolves once the process is gone and its port can be bound again. */
  kill(): Promise<void>;
  /**
   * Starts the server again on its port, directory and config file (as the
   * server may have rewritten it: `CONFIG REWRITE`), and waits until it is
   * the one answering.
   */
  restart(): Promise<void>;
  /** The last log lines, for a failing test. */
  logs(lines?: number): string;
}

/** Starts a group: node 0 the master, nodes 1 and 2 its replicas, replicating. */
export type GroupStarter = () => Promise<ServerGroup>;

/** A redis-server with AOF fsynced on every write, configured by a file in its directory. */
class RedisNode implements GroupNode {
  #child: Deno.ChildProcess | undefined;
  #exit: Promise<Deno.CommandStatus> | undefined;
  #logs: string[] = [];

  private constructor(readonly port: number, readonly dir: string) {}

  static async create(port: number, masterPort?: number): Promise<RedisNode> {
    const dir = await Deno.makeTempDir({ prefix: "kvdb-ha-redis-" });
    await Deno.writeTextFile(
      `${dir}/redis.conf`,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        "daemonize no",
        'logfile ""',
        'save ""',
        "appendonly yes",
        "appendfsync always",
        // A full sync (the old master rejoining) starts at once instead of
        // waiting 5 s for more replicas to share it.
        "repl-diskless-sync-delay 0",
        ...(masterPort === undefined ? [] : [`replicaof 127.0.0.1 ${masterPort}`]),
        "",
      ].join("\n"),
    );
    const node = new RedisNode(port, dir);
    await node.#start();
    return node;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async #start(): Promise<void> {
    const child = new Deno.Command("redis-server", {
      args: [`${this.dir}/redis.conf`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const exit = child.status;
    this.#exit = exit;
    this.#collect(child.stdout);
    this.#collect(child.stderr);
    let exited = false;
    exit.then(() => exited = true);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (true) {
      if (exited) throw new Error(`redis-server ${this.port} exited:\n${this.logs()}`);
      // Ready, and ours: INFO names this child's pid.
      const server = await info(this.port, "server").catch(() => undefined);
      if (server?.process_id === String(child.pid)) return;
      if (Date.now() > deadline) {
        throw new Error(`redis-server ${this.port} not ready:\n${this.logs()}`);
      }
      await delay(20);
    }
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      this.#logs.push(...chunk.split("\n").filter((l) => l));
      if (this.#logs.length > 2000) this.#logs.splice(0, 1000);
    }
  }

  async kill(): Promise<void> {
    if (this.#child === undefined) return;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await this.#exit;
    this.#child = undefined;
    await waitPortFree(this.port);
  }

  async restart(): Promise<void> {
    if (this.#child !== undefined) throw new Error(`redis-server ${this.port} is running`);
    await this.#start();
  }

  logs(lines = 30): string {
    return this.#logs.slice(-lines).join("\n");
  }
}

/** A kvdb server with the WAL on, as a child process (tests/_helpers.ts). */
class KvdbNode implements GroupNode {
  #server: ServerProcess | undefined;
  #lastLogs: string[] = [];

  private constructor(readonly port: number, readonly dir: string, readonly configPath: string) {}

  static async create(port: number, masterPort?: number): Promise<KvdbNode> {
    const dir = await Deno.makeTempDir({ prefix: "kvdb-ha-kvdb-" });
    // Every node announces its client address and priority: the master too,
    // since it becomes a replica once a failover has passed it by.
    const replication: Record<string, unknown> = {
      sync_interval: "100ms",
      announce_address: `127.0.0.1:${port}`,
      replica_priority: 100,
    };
    if (masterPort !== undefined) {
      Object.assign(replication, {
        enabled: true,
        replica_type: "slave",
        master_address: `127.0.0.1:${masterPort}`,
      });
    }
    const server = await ServerProcess.start({ ...walConfig(dir), replication }, { dir, port });
    const node = new KvdbNode(port, dir, server.configPath);
    node.#server = server;
    return node;
  }

  get running(): boolean {
    return this.#server !== undefined;
  }

  async kill(): Promise<void> {
    if (this.#server === undefined) return;
    this.#lastLogs = this.#server.logs;
    await this.#server.stop("SIGKILL");
    this.#server = undefined;
  }

  async restart(): Promise<void> {
    if (this.#server !== undefined) throw new Error(`kvdb ${this.port} is running`);
    await waitPortFree(this.port);
    this.#server = await ServerProcess.startWithConfigFile(this.configPath, this.dir, this.port);
  }

  logs(lines = 30): string {
    return (this.#server?.logs ?? this.#lastLogs).slice(-lines).join("\n");
  }
}

/**
 * A master and its replicas; node 0 was the master at start.
 *
 * ```ts
 * const group = await startKvdbGroup();
 * console.log(group.node(group.nodes[1].port).running); // true
 * await group.stop();
 * ```
 */
export class ServerGroup {
  constructor(readonly kind: GroupKind, readonly nodes: readonly GroupNode[]) {}

  /** The node listening on `port`. */
  node(port: number): GroupNode {
    const node = this.nodes.find((n) => n.port === port);
    if (node === undefined) throw new Error(`no node on port ${port}`);
    return node;
  }

  /** Every node's last log lines, for a failing test. */
  logs(lines = 30): string {
    return this.nodes.map((n) => `--- ${this.kind} ${n.port}:\n${n.logs(lines)}`).join("\n");
  }

  /** Kills every node and removes their directories. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    await Promise.all(
      this.nodes.map((n) => Deno.remove(n.dir, { recursive: true }).catch(() => {})),
    );
  }
}

/** Distinct free ports. */
function freePorts(count: number): number[] {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(freePort());
  return [...ports];
}

async function startGroup(kind: GroupKind): Promise<ServerGroup> {
  const [masterPort, ...replicaPorts] = freePorts(3);
  const create = kind === "redis" ? RedisNode.create : KvdbNode.create;
  const nodes: GroupNode[] = [];
  try {
    nodes.push(await create(masterPort));
    for (const port of replicaPorts) nodes.push(await create(port, masterPort));
    const group = new ServerGroup(kind, nodes);
    await waitReplicating(masterPort, replicaPorts, REPLICATING_TIMEOUT_MS).catch((e) => {
      throw new Error(`${e.message}\n${group.logs()}`);
    });
    return group;
  } catch (e) {
    await new ServerGroup(kind, nodes).stop();
    throw e;
  }
}

/**
 * A group of three redis-server processes (master + 2 replicas).
 *
 * ```ts
 * const group = await startRedisGroup();
 * ```
 */
export const startRedisGroup: GroupStarter = () => startGroup("redis");

/**
 * A group of three kvdb processes (master + 2 replicas, WAL on).
 *
 * ```ts
 * const group = await startKvdbGroup();
 * ```
 */
export const startKvdbGroup: GroupStarter = () => startGroup("kvdb");

/**
 * `INFO <section>` of the server on `port` as field -> value.
 *
 * ```ts
 * const { role } = await info(6379, "replication");
 * ```
 */
export async function info(port: number, section: string): Promise<Record<string, string>> {
  const reply = await callOnce(port, ["INFO", section]);
  if (typeof reply !== "string") throw new Error(`INFO ${section}: ${JSON.stringify(reply)}`);
  const out: Record<string, string> = {};
  for (const line of reply.split("\r\n")) {
    const colon = line.indexOf(":");
    if (line.startsWith("#") || colon < 0) continue;
    out[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return out;
}

/**
 * Why `replicaPort` is not an up-to-date replica of `masterPort` as far as
 * its INFO says ("" when it is: role slave, that master, link up).
 *
 * ```ts
 * await replicaGap(6380, 6379); // ""
 * ```
 */
export async function replicaGap(replicaPort: number, masterPort: number): Promise<string> {
  const repl: Record<string, string> = await info(replicaPort, "replication")
    .catch((e) => ({ error: `${e}` }));
  if (repl.role !== "slave") return `${replicaPort}: ${JSON.stringify(repl).slice(0, 200)}`;
  if (repl.master_port !== String(masterPort)) {
    return `${replicaPort}: replica of ${repl.master_port}, not ${masterPort}`;
  }
  if (repl.master_link_status !== "up") return `${replicaPort}: link ${repl.master_link_status}`;
  return "";
}

/**
 * Polls until every replica's link to the master is up and the master counts them.
 *
 * ```ts
 * await waitReplicating(6379, [6380, 6381], 10_000);
 * ```
 */
export async function waitReplicating(
  masterPort: number,
  replicaPorts: number[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gap = "";
  while (Date.now() < deadline) {
    gap = "";
    for (const port of replicaPorts) gap ||= await replicaGap(port, masterPort);
    if (gap === "") {
      const master: Record<string, string> = await info(masterPort, "replication")
        .catch(() => ({}));
      if (master.connected_slaves === String(replicaPorts.length)) return;
      gap = `master ${masterPort}: connected_slaves ${master.connected_slaves}`;
    }
    await delay(POLL_MS);
  }
  throw new Error(`group not replicating after ${timeoutMs}ms: ${gap}`);
}

/**
 * Every key with its value on the server at `port` (`KEYS *`, then MGET).
 *
 * ```ts
 * const data = await dump(6379);
 * ```
 */
export async function dump(port: number): Promise<Map<string, string>> {
  const client = await RespClient.connect(port);
  try {
    const keys = await client.call("KEYS", "*");
    if (!Array.isArray(keys)) throw new Error(`KEYS * on ${port}: ${JSON.stringify(keys)}`);
    const out = new Map<string, string>();
    for (let i = 0; i < keys.length; i += DUMP_CHUNK_KEYS) {
      const chunk = keys.slice(i, i + DUMP_CHUNK_KEYS).map(String);
      const values = await client.call("MGET", ...chunk);
      if (!Array.isArray(values)) throw new Error(`MGET on ${port}: ${JSON.stringify(values)}`);
      // A key expired or deleted between KEYS and MGET would read nil: none here.
      chunk.forEach((k, j) => out.set(k, String(values[j])));
    }
    return out;
  } finally {
    client.close();
  }
}

/**
 * How two dumps differ, shortly ("" when equal).
 *
 * ```ts
 * describeDiff(await dump(6379), await dump(6380)); // ""
 * ```
 */
export function describeDiff(a: Map<string, string>, b: Map<string, string>): string {
  const out: string[] = [];
  for (const [k, v] of a) {
    if (!b.has(k)) out.push(`${JSON.stringify(k)} only on the first`);
    else if (b.get(k) !== v) out.push(`${JSON.stringify(k)}: ${v} vs ${b.get(k)}`);
  }
  for (const k of b.keys()) if (!a.has(k)) out.push(`${JSON.stringify(k)} only on the second`);
  if (out.length === 0) return "";
  return `${a.size} vs ${b.size} keys, ${out.length} differences, e.g. ${
    out.slice(0, 5).join("; ")
  }`;
}

/**
 * Polls until the group has settled: `resolveMaster()` names a node that
 * reports `role:master`, every other node is its replica with the link up,
 * and all hold identical data. Returns the master and its data.
 *
 * ```ts
 * const { master, data } = await waitConverged(group, async () => 6380, 30_000);
 * ```
 */
export async function waitConverged(
  group: ServerGroup,
  resolveMaster: () => Promise<number | undefined>,
  timeoutMs: number,
): Promise<{ master: number; data: Map<string, string> }> {
  const deadline = Date.now() + timeoutMs;
  let gap = "";
  while (Date.now() < deadline) {
    const outcome = await convergenceGap(group, resolveMaster).catch((e) => `${e}`);
    if (typeof outcome !== "string") return outcome;
    gap = outcome;
    await delay(200);
  }
  throw new Error(`group did not converge in ${timeoutMs}ms: ${gap}`);
}

async function convergenceGap(
  group: ServerGroup,
  resolveMaster: () => Promise<number | undefined>,
): Promise<string | { master: number; data: Map<string, string> }> {
  const master = await resolveMaster();
  if (master === undefined) return "sentinels disagree on the master";
  const role = (await info(master, "replication")).role;
  if (role !== "master") return `the agreed master ${master} reports role ${role}`;
  const others = group.nodes.filter((n) => n.port !== master);
  for (const node of others) {
    const gap = await replicaGap(node.port, master);
    if (gap !== "") return gap;
  }
  const data = await dump(master);
  for (const node of others) {
    const diff = describeDiff(data, await dump(node.port));
    if (diff !== "") return `master ${master} vs ${node.port}: ${diff}`;
  }
  return { master, data };
}

/** One write the server answered OK, with the number of replicas its WAIT reported. */
export interface WriteRecord {
  readonly key: string;
  readonly value: string;
  /** The port it was written to. */
  readonly port: number;
  /** When its WAIT answered (Date.now()). */
  readonly at: number;
  /** WAIT's reply: replicas that acknowledged it (0 on a WAIT error). */
  readonly replicas: number;
}

/** How the writers send: `batch` SETs then one WAIT per round trip, `pauseMs` between. */
export interface WritePace {
  batch: number;
  pauseMs: number;
}

/** Settings of {@link Writers}. */
export interface WriterOptions {
  /** Concurrent connections (3). */
  writers?: number;
  /** `WAIT <numreplicas>`: a write counts as confirmed when WAIT reports at least this (1). */
  confirmReplicas?: number;
  /** `WAIT`'s timeout (1000 ms). */
  waitTimeoutMs?: number;
  /** Where the master is now (asked before every (re)connection). */
  resolveMaster: () => Promise<number | undefined>;
}

/**
 * Writers that each loop: find the master through `resolveMaster`, send
 * `SET w<i>:<n> <value>` (each key written once), then `WAIT`, and record
 * every OK'd write with WAIT's count; on any error (connection gone,
 * `-READONLY`), and when WAIT falls short while `resolveMaster` names
 * another master, they reconnect through `resolveMaster`. Paced (a few ms
 * between round trips) so that three fsyncing servers on two cores leave
 * the sentinels' PINGs room.
 *
 * ```ts
 * const writers = Writers.start({ resolveMaster: async () => 6379 });
 * await writers.waitFor((r) => r.replicas >= 1, 10, 5000);
 * await writers.stop();
 * ```
 */
export class Writers {
  /** Every write answered OK whose WAIT answered too. */
  readonly records: WriteRecord[] = [];
  /** Shared by all writers; a scenario changes it to make a burst. */
  readonly pace: WritePace = { batch: 1, pauseMs: 5 };
  /** Connections lost or writes refused. */
  errors = 0;
  readonly confirmReplicas: number;
  #stopped = false;
  #loops: Promise<void>[] = [];

  private constructor(readonly options: Required<WriterOptions>) {
    this.confirmReplicas = options.confirmReplicas;
  }

  /** Starts the writers at once. */
  static start(options: WriterOptions): Writers {
    const writers = new Writers({
      writers: 3,
      confirmReplicas: 1,
      waitTimeoutMs: 1000,
      ...options,
    });
    for (let i = 0; i < writers.options.writers; i++) writers.#loops.push(writers.#loop(i));
    return writers;
  }

  /** Writes whose WAIT reached {@link confirmReplicas}. */
  confirmed(): WriteRecord[] {
    return this.records.filter((r) => r.replicas >= this.confirmReplicas);
  }

  /** Resolves with the first record for which `accept` holds once `count` have; throws after `timeoutMs`. */
  async waitFor(
    accept: (r: WriteRecord) => boolean,
    count: number,
    timeoutMs: number,
  ): Promise<WriteRecord> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const matching = this.records.filter(accept);
      if (matching.length >= count) return matching[0];
      if (Date.now() > deadline) {
        throw new Error(
          `only ${matching.length} of ${count} awaited writes in ${timeoutMs}ms ` +
            `(${this.records.length} writes, ${this.errors} errors)`,
        );
      }
      await delay(20);
    }
  }

  /** Stops every writer after its current round trip. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
  }

  async #loop(id: number): Promise<void> {
    let n = 0;
    while (!this.#stopped) {
      const port = await this.options.resolveMaster().catch(() => undefined);
      const client = port === undefined
        ? undefined
        : await RespClient.connect(port).catch(() => undefined);
      if (port === undefined || client === undefined) {
        this.errors++;
        await delay(100);
        continue;
      }
      try {
        while (!this.#stopped) {
          const batch: [string, string][] = [];
          for (let b = 0; b < this.pace.batch; b++, n++) {
            batch.push([`w${id}:${n}`, `v${n}@${port}`]);
          }
          const commands = batch.map(([k, v]) => ["SET", k, v]);
          commands.push(["WAIT", String(this.confirmReplicas), String(this.options.waitTimeoutMs)]);
          await client.send(concatBytes(commands.map(encodeRespCommand)));
          const replies: RespReply[] = [];
          for (let i = 0; i < commands.length; i++) {
            replies.push((await client.read(this.options.waitTimeoutMs + 5000)).value);
          }
          const waited = replies.pop();
          const replicas = typeof waited === "number" ? waited : 0;
          const at = Date.now();
          let refused = false;
          batch.forEach(([key, value], i) => {
            const reply = replies[i];
            if (reply instanceof RespStatus && reply.text === "OK") {
              this.records.push({ key, value, port, at, replicas });
            } else if (reply instanceof RespError) refused = true;
            else throw new Error(`SET ${key}: ${JSON.stringify(reply)}`);
          });
          if (refused) throw new Error("write refused"); // -READONLY: not the master any more
          // Too few replicas: maybe a failover left this master behind (it
          // accepts writes until Sentinel converts it); ask again.
          if (replicas < this.confirmReplicas && await this.#moved(port)) break;
          if (this.pace.pauseMs > 0) await delay(this.pace.pauseMs);
        }
      } catch (e) {
        if (e instanceof Error && e.message.startsWith("SET ")) throw e;
        this.errors++;
        await delay(50);
      } finally {
        client.close();
      }
    }
  }

  /** Whether Sentinel now names another master than `port`. */
  async #moved(port: number): Promise<boolean> {
    const now = await this.options.resolveMaster().catch(() => undefined);
    return now !== undefined && now !== port;
  }
}
