/**
 * Real `redis-sentinel` processes (Debian's 7.0.15) watching a master for
 * the HA tests (issue 15 point 4): each gets a writable config in a temp
 * directory (Sentinel rewrites it at run time) and a free loopback port;
 * the harness waits until they agree on the master and have discovered the
 * replicas and each other, and asks them where the master is.
 *
 * ```ts
 * import { SentinelSet } from "./_sentinel.ts";
 *
 * const sentinels = await SentinelSet.start(6379);
 * await sentinels.waitDiscovery(6379, [6380, 6381]);
 * console.log(await sentinels.masterPort(sentinels.ports[0])); // 6379
 * await sentinels.stop();
 * ```
 *
 * # What Sentinel 7.0 sends to the instances it monitors, and what it reads
 *
 * Observed on the wire (a logging proxy in front of a redis-server master and
 * two replicas, through discovery, a SIGKILL failover, the old master's
 * return and a `SENTINEL FAILOVER`) and checked against redis 7.0's
 * sentinel.c. Every command is a RESP array; the replies Sentinel discards
 * are marked "(reply ignored)": it observes their effect in the next INFO.
 *
 * Links. Each sentinel opens two connections to every master and replica
 * (their addresses: the master from `sentinel monitor`, replicas from the
 * master's INFO `slaveN` lines) and one to every other sentinel:
 * - command link: `CLIENT SETNAME sentinel-<first 8 chars of its id>-cmd`
 *   (reply ignored), then `PING` at once. (`AUTH [user] pass` first when
 *   `sentinel auth-pass` is set.)
 * - pub/sub link: `CLIENT SETNAME sentinel-<id8>-pubsub` (reply ignored),
 *   `SUBSCRIBE __sentinel__:hello`. It expects pushes
 *   `*3 $7 message $18 __sentinel__:hello $N <payload>` and closes and
 *   reopens the link when nothing (its own hellos included) arrived for 6 s
 *   (3 × the 2 s hello period) once the link is 15 s old.
 * - When a transaction below runs `CLIENT KILL TYPE normal|pubsub`, the other
 *   sentinels' links to that instance die too; they reconnect the same way
 *   within a second. The sending connection itself must survive (Redis's
 *   `SKIPME yes` default), or the EXEC reply never arrives. Replication
 *   links are not `normal` clients in Redis (flag S): TYPE normal leaves
 *   them alone (a MONITOR connection, though, is killed).
 *
 * Monitoring, on the command link:
 * - `PING` every min(down-after-milliseconds, 1000) ms. `+PONG`,
 *   `-LOADING ...` and `-MASTERDOWN ...` count as "available"; any other
 *   reply or none for down-after-milliseconds makes the instance SDOWN. A
 *   `-BUSY ...` reply while SDOWN makes it send `SCRIPT KILL` once. A PING
 *   pending for more than down-after/2 on a link older than 15 s closes
 *   and reopens the link.
 * - `INFO` (no argument: the default sections must hold `run_id` and the
 *   replication fields) every 10 s; every 1 s to a replica while its
 *   master is ODOWN or failing over, or while the replica reports its link
 *   down.
 * - `PUBLISH __sentinel__:hello <payload>` every 2 s to masters, replicas
 *   and the other sentinels; `<payload>` is
 *   `<sentinel ip>,<sentinel port>,<sentinel id (40 hex)>,<current epoch>,`
 *   `<master name>,<master ip>,<master port>,<master config epoch>`. An
 *   error reply makes it retry after 100 ms. On a Redis master the
 *   PUBLISH is also propagated to the replicas (they see the master's
 *   hellos in their replication stream: `SELECT 0` then the PUBLISHes), but
 *   sentinels publish to every replica directly as well, so discovery does
 *   not depend on it. `PUBLISH` and `SUBSCRIBE` must work on a read-only
 *   replica.
 * - Sentinels learn of each other only through those hellos (received on
 *   any instance's pub/sub link); `SENTINEL sentinels <name>` lists them.
 *
 * INFO fields parsed (sentinel.c `sentinelRefreshInstanceInfo`), line by
 * line, `\r\n` separated, prefix-matched:
 * - `run_id:<exactly 40 chars>` (the line must be ≥ 47 chars); a change
 *   is logged as `+reboot`. Also the last tie-breaker when choosing a
 *   replica (lexicographically smaller wins).
 * - `role:master` / `role:slave`. A master reporting `role:slave` for
 *   down-after + 20 s is treated as down.
 * - Only while the instance is thought to be a master: every
 *   `slave<digits>:` line, new format `ip=<ip>,port=<port>,...` (only `ip=`
 *   and `port=` are read; `state`, `offset`, `lag` are not), old format
 *   `<ip>,<port>,<state>`. Each unknown ip:port becomes a replica
 *   (`+slave`) that Sentinel then connects to at that address, and keeps
 *   (down, if nothing answers there) until `SENTINEL RESET`: a wrong port
 *   must never appear, even briefly. `ip` must be
 *   reachable and `port` the replica's LISTENING port (Redis: the
 *   `REPLCONF listening-port` value, i.e. `replica-announce-port` or its
 *   port; ip from `replica-announce-ip` or the connection's peer address).
 * - `master_link_down_since_seconds:<s>` (reset to 0 when absent; Redis
 *   prints it only while the link is down, -1 if it never was up). A
 *   replica whose link has been down longer than the master's down time +
 *   10 × down-after is not promoted.
 * - Only after `role:slave` was seen in the same reply (so `role` must come
 *   before them, as in Redis): `master_host:` (compared as a string with the
 *   address Sentinel sent in SLAVEOF, case-insensitively), `master_port:`,
 *   `master_link_status:up|down`, `slave_priority:` (0 = never promote;
 *   lower wins), `slave_repl_offset:` (higher wins when priorities tie),
 *   `replica_announced:` (0 hides the replica from `SENTINEL replicas`).
 * - Nothing else (no `master_repl_offset`, `connected_slaves`,
 *   `master_replid`); the whole reply is kept for `SENTINEL INFO-CACHE`.
 *
 * Every reconfiguration is one transaction on the command link, all replies
 * ignored:
 *   `MULTI`, `SLAVEOF <host> <port>` (or `SLAVEOF NO ONE`),
 *   `CONFIG REWRITE`, `CLIENT KILL TYPE normal`, `CLIENT KILL TYPE pubsub`,
 *   `EXEC`.
 * `CONFIG REWRITE` failing (no config file) or `CLIENT KILL TYPE` being
 * unknown must not abort the transaction (errors inside EXEC are fine;
 * an error at queue time that makes EXEC answer `-EXECABORT` is not: the
 * SLAVEOF would never run). It is sent:
 * - promotion: to the chosen replica, `SLAVEOF NO ONE`, once the leader is
 *   elected; it then polls INFO every 1 s until `role:master`
 *   (`+promoted-slave`; aborts after failover-timeout).
 * - re-pointing: to the other replicas, `SLAVEOF <new master ip> <port>`,
 *   parallel-syncs at a time; a replica counts as done once INFO shows
 *   `master_host`/`master_port` = the new master (`+slave-reconf-inprog`)
 *   and then `master_link_status:up` (`+slave-reconf-done`).
 * - converting a returning old master (or any replica reporting
 *   `role:master`): `SLAVEOF <current master>` (`+convert-to-slave`) once it
 *   has reported `role:master` for 8 s (4 hello periods) and the current
 *   master looks sane (role:master, not down, INFO under 20 s old); with
 *   the 10 s INFO period that took 10–11.5 s here.
 * - fixing a replica that replicates from another address:
 *   `SLAVEOF <current master>` (`+fix-slave-config`) once its config has
 *   been stable for failover-timeout.
 * - `SENTINEL FAILOVER <name>` runs the same promotion and re-pointing
 *   without the vote; the old master, still up, is then converted like a
 *   returning one (it keeps accepting writes until then).
 *
 * Choosing the replica to promote: not SDOWN/ODOWN/disconnected, answered a
 * PING in the last 5 s, INFO refreshed in the last 5 s (30 s when the
 * master is not SDOWN), `slave_priority` not 0, link down no longer than
 * 10 × down-after plus the master's down time; then lowest
 * `slave_priority`, highest `slave_repl_offset`, smallest `run_id`. None
 * left: `-failover-abort-no-good-slave` (or `-NOGOODSLAVE` to
 * `SENTINEL FAILOVER`).
 *
 * What the replication link looked like (Redis to Redis, not Sentinel, for
 * comparison): the replica sends `PING`, `REPLCONF listening-port <port>`,
 * `REPLCONF capa eof capa psync2`, `PSYNC <replid> <offset>` (`? -1` the
 * first time), then `REPLCONF ACK <offset>` every second.
 *
 * Client libraries on top (not Sentinel): redis-py's `Sentinel` asks
 * `SENTINEL get-master-addr-by-name` and, on connect, sends `PING`; a
 * `-READONLY` reply on a master connection makes it reconnect. ioredis's
 * `sentinels` option asks the same and checks `role:` in `INFO` on connect
 * (its ready check), moving on when the role is not `master`.
 *
 * @module
 */

import {
  collectLines,
  delay,
  encodeRespCommand,
  freePort,
  RespClient,
  RespError,
  type RespReply,
  RespStatus,
  waitPortFree,
} from "./_helpers.ts";
import { ensureDebianPackage, runs } from "./_debian.ts";

/** The master group's name the sentinels monitor. */
export const MASTER_NAME = "kvdbha";
const READY_TIMEOUT_MS = 10_000;
const QUERY_TIMEOUT_MS = 3_000;
const POLL_MS = 100;

/** Sentinel settings for a test group (small, so a failover takes seconds). */
export interface SentinelOptions {
  /** Sentinel processes (3). */
  count?: number;
  /** Sentinels that must see the master down (2). */
  quorum?: number;
  /**
   * `down-after-milliseconds` (1500). Not 1000: the promotion's `CLIENT
   * KILL TYPE normal` cuts the other sentinels' links to the new master,
   * and with its last PONG up to a ping period (1 s) old, 1000 ms left no
   * room to reconnect: it was seen down and failed over a second time.
   */
  downAfterMs?: number;
  /** `failover-timeout` (3000). */
  failoverTimeoutMs?: number;
  /** `parallel-syncs` (1). */
  parallelSyncs?: number;
  /** `sentinel auth-pass` for a password-protected group ("": none). */
  authPass?: string;
  /** `sentinel auth-user`: the ACL user auth-pass belongs to ("": the default user). */
  authUser?: string;
}

/**
 * Installs Debian's redis-sentinel when absent (apt-get update first).
 *
 * ```ts
 * await ensureRedisSentinel();
 * ```
 */
export function ensureRedisSentinel(): Promise<void> {
  return ensureDebianPackage("redis-sentinel", () => runs("redis-sentinel"));
}

/**
 * Sends one command on a fresh connection to `port` and returns the reply;
 * throws when nothing answers within `timeoutMs`.
 *
 * ```ts
 * const role = await callOnce(6379, ["ROLE"]);
 * ```
 */
export async function callOnce(
  port: number,
  args: string[],
  timeoutMs = QUERY_TIMEOUT_MS,
): Promise<RespReply> {
  const client = await RespClient.connect(port);
  try {
    await client.send(encodeRespCommand(args));
    return (await client.read(timeoutMs)).value;
  } finally {
    client.close();
  }
}

/** A flat `[field, value, ...]` reply (SENTINEL REPLICAS entries) as a record. */
function fields(reply: RespReply): Record<string, string> {
  if (!Array.isArray(reply)) throw new Error(`not a field list: ${JSON.stringify(reply)}`);
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}

function fieldLists(reply: RespReply): Record<string, string>[] {
  if (reply instanceof RespError) throw new Error(reply.text);
  if (!Array.isArray(reply)) throw new Error(`not a list: ${JSON.stringify(reply)}`);
  return reply.map(fields);
}

/**
 * Whether a `flags` value says the instance is healthy (no s_down, o_down, disconnected).
 *
 * ```ts
 * healthyFlags("slave"); // true
 * healthyFlags("slave,s_down,disconnected"); // false
 * ```
 */
export function healthyFlags(flags: string | undefined): boolean {
  if (flags === undefined) return false;
  return !flags.split(",").some((f) => ["s_down", "o_down", "disconnected"].includes(f));
}

/** One redis-sentinel child process. */
class SentinelProcess {
  readonly logs: string[] = [];
  readonly #exit: Promise<Deno.CommandStatus>;

  constructor(readonly child: Deno.ChildProcess, readonly port: number) {
    this.#exit = child.status;
    this.#collect(child.stdout);
    this.#collect(child.stderr);
  }

  #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    return collectLines(stream, this.logs);
  }

  /** Waits until this process (not another on the port) answers PING. */
  async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let exited = false;
    this.#exit.then(() => exited = true);
    while (true) {
      if (exited) throw new Error(`redis-sentinel exited:\n${this.logs.join("\n")}`);
      // The "+monitor" line comes after the listener is open: the port is ours.
      if (this.logs.some((l) => l.includes("+monitor master"))) {
        const pong = await callOnce(this.port, ["PING"], 1000).catch(() => null);
        if (pong instanceof RespStatus && pong.text === "PONG") return;
      }
      if (Date.now() > deadline) {
        throw new Error(`redis-sentinel not ready on ${this.port}:\n${this.logs.join("\n")}`);
      }
      await delay(20);
    }
  }

  async stop(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await this.#exit;
    await waitPortFree(this.port);
  }
}

/**
 * N redis-sentinel processes monitoring one master group ({@link MASTER_NAME}).
 *
 * ```ts
 * const sentinels = await SentinelSet.start(6379, { downAfterMs: 1500 });
 * const master = await sentinels.agreedMasterPort();
 * await sentinels.stop();
 * ```
 */
export class SentinelSet {
  private constructor(
    readonly processes: SentinelProcess[],
    readonly dir: string,
    readonly options: Required<SentinelOptions>,
  ) {}

  /**
   * Starts the sentinels monitoring the master at 127.0.0.1:`masterPort`
   * and waits until each answers PING.
   */
  static async start(masterPort: number, options: SentinelOptions = {}): Promise<SentinelSet> {
    await ensureRedisSentinel();
    const full: Required<SentinelOptions> = {
      count: 3,
      quorum: 2,
      downAfterMs: 1500,
      failoverTimeoutMs: 3000,
      parallelSyncs: 1,
      authPass: "",
      authUser: "",
      ...options,
    };
    const dir = await Deno.makeTempDir({ prefix: "kvdb-sentinel-" });
    const processes: SentinelProcess[] = [];
    const set = new SentinelSet(processes, dir, full);
    try {
      for (let i = 0; i < full.count; i++) {
        const port = freePort();
        const conf = `${dir}/sentinel-${port}.conf`;
        await Deno.writeTextFile(
          conf,
          [
            `port ${port}`,
            "bind 127.0.0.1",
            "daemonize no",
            'logfile ""',
            `dir ${dir}`,
            `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} ${full.quorum}`,
            `sentinel down-after-milliseconds ${MASTER_NAME} ${full.downAfterMs}`,
            `sentinel failover-timeout ${MASTER_NAME} ${full.failoverTimeoutMs}`,
            `sentinel parallel-syncs ${MASTER_NAME} ${full.parallelSyncs}`,
            ...(full.authPass === "" ? [] : [`sentinel auth-pass ${MASTER_NAME} ${full.authPass}`]),
            ...(full.authUser === "" ? [] : [`sentinel auth-user ${MASTER_NAME} ${full.authUser}`]),
            "",
          ].join("\n"),
        );
        const child = new Deno.Command("redis-sentinel", {
          args: [conf],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const process = new SentinelProcess(child, port);
        processes.push(process);
        await process.waitReady();
      }
    } catch (e) {
      await set.stop();
      throw e;
    }
    return set;
  }

  /** The sentinels' ports. */
  get ports(): number[] {
    return this.processes.map((p) => p.port);
  }

  /** `SENTINEL get-master-addr-by-name`: the master's port as `port` sees it. */
  async masterPort(port: number): Promise<number | undefined> {
    const reply = await callOnce(port, ["SENTINEL", "get-master-addr-by-name", MASTER_NAME]);
    if (!Array.isArray(reply) || reply.length !== 2) return undefined;
    if (reply[0] !== "127.0.0.1") throw new Error(`master host ${reply[0]}, not 127.0.0.1`);
    return Number(reply[1]);
  }

  /** The master port every sentinel reports, or undefined while they disagree. */
  async agreedMasterPort(): Promise<number | undefined> {
    const ports = await Promise.all(
      this.ports.map((p) => this.masterPort(p).catch(() => undefined)),
    );
    return ports.every((p) => p !== undefined && p === ports[0]) ? ports[0] : undefined;
  }

  /** The master port any sentinel answers first (what a client would use). */
  async anyMasterPort(): Promise<number | undefined> {
    for (const port of this.ports) {
      const master = await this.masterPort(port).catch(() => undefined);
      if (master !== undefined) return master;
    }
    return undefined;
  }

  /** `SENTINEL replicas` as `port` sees them, one record per replica. */
  async replicas(port: number): Promise<Record<string, string>[]> {
    return fieldLists(await callOnce(port, ["SENTINEL", "replicas", MASTER_NAME]));
  }

  /** `SENTINEL sentinels`: the other sentinels `port` knows. */
  async sentinels(port: number): Promise<Record<string, string>[]> {
    return fieldLists(await callOnce(port, ["SENTINEL", "sentinels", MASTER_NAME]));
  }

  /** `SENTINEL master`: the master's record as `port` sees it. */
  async master(port: number): Promise<Record<string, string>> {
    const reply = await callOnce(port, ["SENTINEL", "master", MASTER_NAME]);
    if (reply instanceof RespError) throw new Error(reply.text);
    return fields(reply);
  }

  /**
   * Why discovery is not complete yet ("" once it is): every sentinel
   * reports `masterPort` as the master, knows exactly `replicaPorts` as
   * healthy replicas whose link to the master is up, and knows every other
   * sentinel as healthy.
   */
  async discoveryGap(masterPort: number, replicaPorts: number[]): Promise<string> {
    const wanted = [...replicaPorts].sort().join(",");
    for (const port of this.ports) {
      const master = await this.masterPort(port).catch((e) => `${e}`);
      if (master !== masterPort) return `sentinel ${port}: master ${master}`;
      const replicas = await this.replicas(port);
      const seen = replicas.map((r) => Number(r.port)).sort().join(",");
      if (seen !== wanted) return `sentinel ${port}: replicas ${seen}, not ${wanted}`;
      const bad = replicas.find((r) =>
        r.flags !== "slave" || r["master-link-status"] !== "ok" ||
        Number(r["master-port"]) !== masterPort
      );
      if (bad) return `sentinel ${port}: replica ${JSON.stringify(bad)}`;
      const others = await this.sentinels(port);
      const otherPorts = others.map((s) => Number(s.port)).sort().join(",");
      const wantedOthers = this.ports.filter((p) => p !== port).sort().join(",");
      if (otherPorts !== wantedOthers) {
        return `sentinel ${port}: knows sentinels ${otherPorts}, not ${wantedOthers}`;
      }
      const sick = others.find((s) => !healthyFlags(s.flags) || s.flags !== "sentinel");
      if (sick) return `sentinel ${port}: sentinel ${JSON.stringify(sick)}`;
    }
    return "";
  }

  /** Polls {@link discoveryGap} until it is "" or `timeoutMs` passes. */
  async waitDiscovery(
    masterPort: number,
    replicaPorts: number[],
    timeoutMs = 20_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let gap = "";
    while (Date.now() < deadline) {
      gap = await this.discoveryGap(masterPort, replicaPorts).catch((e) => `${e}`);
      if (gap === "") return;
      await delay(POLL_MS);
    }
    throw new Error(`sentinels did not discover the group in ${timeoutMs}ms: ${gap}`);
  }

  /**
   * Polls until every sentinel reports the same master and `accept(port)`
   * holds for it; returns that port.
   */
  async waitAgreedMaster(
    accept: (port: number) => boolean | Promise<boolean>,
    timeoutMs: number,
  ): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last: number | undefined;
    while (Date.now() < deadline) {
      last = await this.agreedMasterPort();
      if (last !== undefined && await accept(last)) return last;
      await delay(POLL_MS);
    }
    throw new Error(`sentinels did not agree on a new master in ${timeoutMs}ms (last ${last})`);
  }

  /** `SENTINEL FAILOVER` on the first sentinel (throws on an error reply). */
  async failover(): Promise<void> {
    const reply = await callOnce(this.ports[0], ["SENTINEL", "failover", MASTER_NAME]);
    if (reply instanceof RespError) throw new Error(`SENTINEL FAILOVER: ${reply.text}`);
  }

  /** Every sentinel's log lines mentioning `event` (e.g. "+switch-master"). */
  events(event: string): string[] {
    return this.processes.flatMap((p) => p.logs.filter((l) => l.includes(event)));
  }

  /** Polls until the sentinels logged `count` lines mentioning `event`; returns them all. */
  async waitEvents(event: string, count: number, timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events(event).length < count && Date.now() < deadline) await delay(20);
    return this.events(event);
  }

  /** The sentinels' last log lines, for a failing test. */
  logs(lines = 40): string {
    return this.processes.map((p) => `--- sentinel ${p.port}:\n${p.logs.slice(-lines).join("\n")}`)
      .join("\n");
  }

  /** Kills every sentinel and removes their directory. */
  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
