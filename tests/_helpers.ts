/**
 * Test helpers: start the real kvdb as a child process (`deno run` of
 * main.ts with the permission flags of the `kvdb` task in deno.json) on free
 * loopback ports, and talk to it over real TCP.
 *
 * @module
 */

import assert from "node:assert/strict";
import { stringify } from "yaml";
import { bytesToBinary } from "../src/bytes/binary_string.ts";
import { ensureDebianPackage, runs } from "./_debian.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const READY_TIMEOUT_MS = 20_000;

/** The permission flags users run kvdb with: those of the `kvdb` task. */
export const KVDB_FLAGS: string[] = (() => {
  const denoJson = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  const words = (denoJson.tasks.kvdb as string).split(/\s+/);
  return words.filter((w) => w.startsWith("--"));
})();

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A free loopback port below the ephemeral range (so no client's source
 * port can collide with it; see shared/TESTING_NOTES.md).
 */
export function freePort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      const listener = Deno.listen({ hostname: "127.0.0.1", port });
      listener.close();
      return port;
    } catch {
      // Taken; try another.
    }
  }
  throw new Error("no free port found");
}

/** Waits until `port` can be bound again (a killed server has let go). */
export async function waitPortFree(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`port ${port} still busy`);
      await delay(50);
    }
  }
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `kvdb <args>` to completion with optional stdin bytes. */
export async function runKvdb(
  args: string[],
  options: { stdin?: Uint8Array | string; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string; stdoutBytes: Uint8Array }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...KVDB_FLAGS, MAIN, ...args],
    cwd: options.cwd ?? ROOT,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(
      typeof options.stdin === "string" ? encoder.encode(options.stdin) : options.stdin,
    );
    await writer.close();
  }
  const out = await child.output();
  clearTimeout(timer);
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    stdoutBytes: out.stdout,
  };
}

/** A kvdb server running as a child process. */
export class ServerProcess {
  readonly logs: string[] = [];
  #exit: Promise<Deno.CommandStatus>;

  private constructor(
    readonly child: Deno.ChildProcess,
    readonly port: number,
    readonly dir: string,
    readonly configPath: string,
  ) {
    this.#exit = child.status;
  }

  /**
   * Starts `kvdb server` with `config` (a YAML-able object; the address
   * defaults to a free loopback port) and waits for its ready line.
   */
  static async start(
    config: Record<string, Record<string, unknown>> = {},
    options: { dir?: string; port?: number } = {},
  ): Promise<ServerProcess> {
    const dir = options.dir ?? await Deno.makeTempDir({ prefix: "kvdb-test-" });
    const port = options.port ?? freePort();
    const full = structuredClone(config);
    full.network = { address: `127.0.0.1:${port}`, ...full.network };
    full.logging = { level: "info", output: "stdout", ...full.logging };
    const configPath = `${dir}/config.yaml`;
    await Deno.writeTextFile(configPath, stringify(full));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...KVDB_FLAGS, MAIN, "server", "--config", configPath],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const server = new ServerProcess(child, port, dir, configPath);
    await server.#waitReady();
    return server;
  }

  /**
   * Starts `kvdb server --config <configPath>` with the config file as it
   * is, from `cwd` (relative paths in it are relative to that), and waits
   * for its ready line. `port` is the client port the config listens on.
   */
  static async startWithConfigFile(
    configPath: string,
    cwd: string,
    port: number,
  ): Promise<ServerProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...KVDB_FLAGS, MAIN, "server", "--config", configPath],
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const server = new ServerProcess(child, port, cwd, configPath);
    try {
      await server.#waitReady();
    } catch (e) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await server.#exit;
      throw e;
    }
    return server;
  }

  async #waitReady(): Promise<void> {
    const lines = this.#collect(this.child.stdout);
    this.#collect(this.child.stderr);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!this.logs.some((l) => l.includes("kvdb server listening"))) {
      const exited = await Promise.race([this.#exit.then(() => true), delay(20)]);
      if (exited || Date.now() > deadline) {
        await lines;
        throw new Error(`server did not start:\n${this.logs.join("\n")}`);
      }
    }
  }

  #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    return collectLines(stream, this.logs);
  }

  /** Sends a signal and waits for exit; returns the exit code. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
    try {
      this.child.kill(signal);
    } catch {
      // Already gone.
    }
    const status = await this.#exit;
    await waitPortFree(this.port);
    return status.code;
  }

  /** The exit status, once the process ends. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#exit;
  }

  /** Opens a TCP client to this server. */
  connect(): Promise<TcpClient> {
    return TcpClient.connect(this.port);
  }
}

/**
 * A TCP connection's incoming bytes, buffered: the reading both test
 * clients share. A read that outlives a timeout stays pending for the next
 * call, so the bytes it brings are not lost.
 */
class ByteStream {
  protected buffered = new Uint8Array(0);
  #closed = false;
  readonly #chunk = new Uint8Array(64 * 1024);
  #pendingRead: Promise<number | null> | undefined;

  protected constructor(readonly conn: Deno.TcpConn) {}

  /** Sends text (UTF-8) or bytes as they are. */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? this.encodeText(data) : data;
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  protected encodeText(text: string): Uint8Array {
    return encoder.encode(text);
  }

  /** Reads more bytes into `buffered`; false at end of stream; throws on timeout. */
  protected async fill(timeoutMs: number): Promise<boolean> {
    if (this.#closed) return false;
    this.#pendingRead ??= this.conn.read(this.#chunk).catch(() => null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      this.#pendingRead,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs}ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    this.#pendingRead = undefined;
    if (n === null) {
      this.#closed = true;
      return false;
    }
    // Room doubles, so a multi-megabyte reply costs linear copying, not quadratic.
    const length = this.buffered.length;
    if (this.buffered.byteOffset + length + n > this.buffered.buffer.byteLength) {
      const room = new Uint8Array(Math.max(64 * 1024, 2 * (length + n)));
      room.set(this.buffered);
      this.buffered = room.subarray(0, length);
    }
    const grown = new Uint8Array(
      this.buffered.buffer,
      this.buffered.byteOffset,
      length + n,
    );
    grown.set(this.#chunk.subarray(0, n), length);
    this.buffered = grown;
    return true;
  }

  /**
   * Whether the server closed the stream within `timeoutMs` (reads and
   * discards until end of stream); false on timeout.
   */
  async closedByServer(timeoutMs = 10_000): Promise<boolean> {
    try {
      while (await this.fill(timeoutMs)) { /* drain */ }
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** A raw TCP client reading reply lines. */
export class TcpClient extends ByteStream {
  private constructor(conn: Deno.TcpConn) {
    super(conn);
  }

  static async connect(port: number): Promise<TcpClient> {
    return new TcpClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Reads one line (without `\n`) as raw bytes; null at end of stream. */
  async readLineBytes(timeoutMs = 10_000): Promise<Uint8Array | null> {
    while (true) {
      const i = this.buffered.indexOf(0x0a);
      if (i >= 0) {
        const line = this.buffered.slice(0, i);
        this.buffered = this.buffered.slice(i + 1);
        return line;
      }
      if (!await this.fill(timeoutMs)) return null;
    }
  }

  /** Reads one line as text; null at end of stream. */
  async readLine(timeoutMs = 10_000): Promise<string | null> {
    const line = await this.readLineBytes(timeoutMs);
    return line === null ? null : decoder.decode(line);
  }

  /** Reads `count` lines; fails if the stream ends first. */
  async readLines(count: number, timeoutMs = 10_000): Promise<string[]> {
    const lines: string[] = [];
    while (lines.length < count) {
      const line = await this.readLine(timeoutMs);
      if (line === null) throw new Error(`stream ended after ${lines.length} of ${count} lines`);
      lines.push(line);
    }
    return lines;
  }

  /** Sends one request line and reads its reply. */
  async command(line: string): Promise<string> {
    await this.send(line + "\n");
    const reply = await this.readLine();
    if (reply === null) throw new Error(`connection closed after ${JSON.stringify(line)}`);
    return reply;
  }
}

/**
 * Starts kvdb with a config file as it is, from `cwd`; see
 * {@link ServerProcess.startWithConfigFile}.
 */
export function startWithConfigFile(
  path: string,
  cwd: string,
  port: number,
): Promise<ServerProcess> {
  return ServerProcess.startWithConfigFile(path, cwd, port);
}

/** A RESP2 status reply (`+OK`): distinct from a bulk string holding the same text. */
export class RespStatus {
  constructor(readonly text: string) {}
}

/** A RESP2 error reply (`-ERR ...`), without the `-`. */
export class RespError {
  constructor(readonly text: string) {}
}

/**
 * A decoded RESP2 reply: status, error, integer, bulk string (a binary
 * string: one char per byte), nil (`$-1` or `*-1`), or an array of replies.
 */
export type RespReply = RespStatus | RespError | number | string | null | RespReply[];

/** One reply: decoded, and exactly as it came on the wire (a binary string). */
export interface RespRead {
  value: RespReply;
  raw: string;
}

/** Encodes a request as a RESP2 array of bulk strings (strings are binary strings). */
export function encodeRespCommand(args: (string | Uint8Array)[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const ascii = (s: string) => binaryStringBytes(s);
  parts.push(ascii(`*${args.length}\r\n`));
  for (const arg of args) {
    const bytes = typeof arg === "string" ? binaryStringBytes(arg) : arg;
    parts.push(ascii(`$${bytes.length}\r\n`), bytes, ascii("\r\n"));
  }
  return concatBytes(parts);
}

/** The bytes of a binary string (every char code must be 0..255). */
export function binaryStringBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`char ${c} at ${i} is not a byte`);
    out[i] = c;
  }
  return out;
}

/** A binary string holding `bytes`. */
export function bytesBinaryString(bytes: Uint8Array): string {
  return bytesToBinary(bytes);
}

/**
 * A raw RESP2 client over TCP: sends requests as RESP arrays (or any bytes)
 * and reads one reply of any type at a time, nested arrays included.
 */
export class RespClient extends ByteStream {
  private constructor(conn: Deno.TcpConn) {
    super(conn);
  }

  static async connect(port: number): Promise<RespClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RespClient(conn);
  }

  /** Strings sent to a RESP server are binary strings (one byte per char). */
  protected override encodeText(text: string): Uint8Array {
    return binaryStringBytes(text);
  }

  /** Sends one command and reads its reply. */
  async call(...args: (string | Uint8Array)[]): Promise<RespReply> {
    return (await this.callRaw(...args)).value;
  }

  /** Sends one command and reads its reply, decoded and raw. */
  async callRaw(...args: (string | Uint8Array)[]): Promise<RespRead> {
    await this.send(encodeRespCommand(args));
    return await this.read();
  }

  /** Sends many commands in one write and reads their replies in order. */
  async pipeline(commands: (string | Uint8Array)[][]): Promise<RespReply[]> {
    const encoded = commands.map(encodeRespCommand);
    const all = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
    let at = 0;
    for (const e of encoded) {
      all.set(e, at);
      at += e.length;
    }
    await this.send(all);
    const replies: RespReply[] = [];
    for (let i = 0; i < commands.length; i++) replies.push((await this.read()).value);
    return replies;
  }

  /** Reads one complete reply; throws if the stream ends or nothing comes in time. */
  async read(timeoutMs = 10_000): Promise<RespRead> {
    while (true) {
      const parsed = parseRespReply(this.buffered, 0);
      if (parsed !== undefined) {
        const raw = bytesBinaryString(this.buffered.subarray(0, parsed.end));
        this.buffered = this.buffered.slice(parsed.end);
        return { value: parsed.value, raw };
      }
      if (!await this.fill(timeoutMs)) {
        throw new Error(
          `connection closed with ${this.buffered.length} bytes of an incomplete reply: ` +
            JSON.stringify(bytesBinaryString(this.buffered)),
        );
      }
    }
  }
}

/**
 * Parses one RESP2 reply at `start`: its value and the offset after it, or
 * undefined if `bytes` does not hold all of it yet. Throws on bytes that are
 * not RESP2.
 */
export function parseRespReply(
  bytes: Uint8Array,
  start: number,
): { value: RespReply; end: number } | undefined {
  const lineEnd = bytes.indexOf(0x0a, start);
  if (lineEnd < 0) return undefined;
  if (lineEnd === start || bytes[lineEnd - 1] !== 0x0d) {
    throw new Error(
      `malformed reply line: ${JSON.stringify(bytesBinaryString(bytes.slice(start)))}`,
    );
  }
  const line = bytesBinaryString(bytes.subarray(start + 1, lineEnd - 1));
  const next = lineEnd + 1;
  switch (bytes[start]) {
    case 0x2b: // +
      return { value: new RespStatus(line), end: next };
    case 0x2d: // -
      return { value: new RespError(line), end: next };
    case 0x3a: { // :
      if (!/^-?\d+$/.test(line)) throw new Error(`bad integer reply :${line}`);
      return { value: Number(line), end: next };
    }
    case 0x24: { // $
      const length = Number(line);
      if (!Number.isInteger(length) || length < -1) throw new Error(`bad bulk length $${line}`);
      if (length === -1) return { value: null, end: next };
      if (bytes.length < next + length + 2) return undefined;
      if (bytes[next + length] !== 0x0d || bytes[next + length + 1] !== 0x0a) {
        throw new Error(`bulk of length ${length} not followed by CRLF`);
      }
      return {
        value: bytesBinaryString(bytes.subarray(next, next + length)),
        end: next + length + 2,
      };
    }
    case 0x2a: { // *
      const count = Number(line);
      if (!Number.isInteger(count) || count < -1) throw new Error(`bad array length *${line}`);
      if (count === -1) return { value: null, end: next };
      const items: RespReply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseRespReply(bytes, at);
        if (item === undefined) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(
        `not a RESP2 reply: ${JSON.stringify(bytesBinaryString(bytes.subarray(start, next)))}`,
      );
  }
}

/** Bytes of the files directly in `dir` (a WAL directory's segments). */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) total += (await Deno.stat(`${dir}/${entry.name}`)).size;
  }
  return total;
}

/**
 * The configs of a durable master with replication on and of its replicas,
 * data under `dir`/<name>: `common` sections (engine, network) go to both,
 * `wal` overrides the master's WAL section.
 *
 * ```ts
 * const { master, replica } = replicatedConfigs(dir, { wal: { snapshot_threshold: "512KiB" } });
 * const m = await ServerProcess.start(master);
 * const r = await ServerProcess.start(replica("replica", m.port));
 * ```
 */
export function replicatedConfigs(
  dir: string,
  options: {
    common?: Record<string, unknown>;
    wal?: Record<string, unknown>;
    syncInterval?: string;
  } = {},
) {
  const common = options.common ?? {};
  const syncInterval = options.syncInterval ?? "100ms";
  return {
    master: {
      ...common,
      wal: { enabled: true, data_directory: `${dir}/master`, ...options.wal },
      replication: {
        enabled: true,
        replica_type: "master",
        master_address: `127.0.0.1:${freePort()}`,
        sync_interval: syncInterval,
      },
    },
    replica: (name: string, masterPort: number) => ({
      ...common,
      wal: { enabled: true, data_directory: `${dir}/${name}` },
      replication: {
        enabled: true,
        replica_type: "slave",
        master_address: `127.0.0.1:${masterPort}`,
        sync_interval: syncInterval,
      },
    }),
  };
}

/**
 * Reads `read()` until it equals `expected` or `timeoutMs` passes, then
 * asserts that it does: a replica catching up.
 */
export async function converges(
  read: () => Promise<string>,
  expected: string,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  let seen = await read();
  for (const start = Date.now(); seen !== expected && Date.now() - start < timeoutMs;) {
    await delay(200);
    seen = await read();
  }
  assert.equal(seen, expected, what);
}

/** A config section enabling the WAL in `dir`/wal, with overrides. */
export function walConfig(dir: string, wal: Record<string, unknown> = {}) {
  return { wal: { enabled: true, data_directory: `${dir}/wal`, ...wal } };
}

/**
 * Sends `SET key value` requests one at a time on a new connection to
 * `port`, recording in `acked` each one the server answered OK, until
 * `stop()` says so or the server goes away (a crash test kills it). A SET
 * sent but not answered is kept in `unanswered` (by key, until a later SET
 * of that key is answered): a crash between its fsync and its reply makes
 * it durable without an OK.
 */
export async function setUntilGone(
  port: number,
  entry: (n: number) => [string, string],
  acked: Map<string, string>,
  stop: () => boolean,
  unanswered = new Map<string, string>(),
): Promise<void> {
  const client = await TcpClient.connect(port);
  try {
    for (let n = 0; !stop(); n++) {
      const [key, value] = entry(n);
      unanswered.set(key, value);
      try {
        await client.send(`SET ${key} ${value}\n`);
      } catch {
        return;
      }
      const reply = await client.readLine(5000).catch(() => null);
      if (reply === null) return;
      if (reply !== "OK") throw new Error(`SET ${key}: ${reply}`);
      unanswered.delete(key);
      acked.set(key, value);
    }
  } finally {
    client.close();
  }
}

/**
 * `INFO <section>` of the server behind `client`, as a map of field to value.
 *
 * @example
 * ```ts
 * (await infoSection(client, "persistence")).get("rdb_bgsave_in_progress"); // "0"
 * ```
 */
export async function infoSection(
  client: RespClient,
  section: string,
): Promise<Map<string, string>> {
  const text = await client.call("INFO", section);
  if (typeof text !== "string") throw new Error(`INFO ${section} answered ${JSON.stringify(text)}`);
  const fields = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/**
 * Runs `fn` against a fresh server started with `config`, then kills it and
 * removes its directory whatever happened; a failure carries the server's
 * last log lines.
 */
export async function withServer(
  config: Record<string, Record<string, unknown>>,
  fn: (server: ServerProcess) => Promise<void>,
): Promise<void> {
  const server = await ServerProcess.start(config);
  try {
    await fn(server);
  } catch (e) {
    throw withServerLog(e, server);
  } finally {
    await server.stop("SIGKILL");
    await Deno.remove(server.dir, { recursive: true }).catch(() => {});
  }
}

/** `e` with the server's last log lines appended, for a failing test. */
export function withServerLog(e: unknown, server: ServerProcess): Error {
  return new Error(
    `${e instanceof Error ? e.message : e}\n--- server log:\n${server.logs.slice(-20).join("\n")}`,
    { cause: e },
  );
}

/** Resident memory of a process, in bytes (read through `cat`: Deno grants /proc/PID only with all access). */
export function rssBytes(pid: number): number {
  const out = new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" })
    .outputSync();
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(decoder.decode(out.stdout))?.[1]);
  if (!out.success || !Number.isFinite(kib)) throw new Error(`no VmRSS for process ${pid}`);
  return kib * 1024;
}

/** A redis-server child process (the reference implementation) on a free port. */
export interface RedisServerProcess {
  readonly port: number;
  /** SIGTERM, then waits for exit and the port to be free. */
  stop(): Promise<void>;
}

/** Installs Debian's redis-server when absent (apt-get update first). */
export function ensureRedisServer(): Promise<void> {
  return ensureDebianPackage("redis-server", () => runs("redis-server"));
}

/**
 * Starts `redis-server` with no persistence (`--save "" --appendonly no`)
 * in a temp directory on a free port, and waits until it answers PING.
 */
export async function startRedisServer(args: string[] = []): Promise<RedisServerProcess> {
  await ensureRedisServer();
  const dir = await Deno.makeTempDir({ prefix: "kvdb-redis-" });
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
      "--dir",
      dir,
      ...args,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (true) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(encoder.encode("PING\r\n"));
      const buf = new Uint8Array(16);
      const n = await conn.read(buf);
      conn.close();
      if (n !== null && decoder.decode(buf.subarray(0, n)) === "+PONG\r\n") break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error("redis-server did not start");
    }
    await delay(20);
  }
  return {
    port,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await child.status;
      await waitPortFree(port);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Appends each line `stream` carries to `lines` as it arrives (a child's log). */
export async function collectLines(
  stream: ReadableStream<Uint8Array>,
  lines: string[],
): Promise<void> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    const parts = pending.split("\n");
    pending = parts.pop()!;
    lines.push(...parts);
  }
  if (pending) lines.push(pending);
}

/** `parts` joined into one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
