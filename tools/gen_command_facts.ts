/**
 * Writes src/executor/command_facts.ts: the facts of every command of the
 * reference redis-server (Debian's 7.0.15), read from its `COMMAND INFO` and
 * `COMMAND DOCS` in RESP3 (whose maps and sets keep the structure that RESP2
 * flattens). Facts only: the summary, complexity, history, key-spec notes
 * and the deprecation prose are Redis's sentences and are left out.
 *
 * Run with `deno task gen-command-facts` (it formats the file afterwards);
 * `REDIS_SERVER=/path/to/redis-server` picks another binary.
 *
 * @example
 * ```ts
 * // deno task gen-command-facts
 * ```
 * @module
 */

import type {
  ArgumentFacts,
  BeginSearch,
  CommandFacts,
  FindKeys,
  KeySpecFacts,
} from "../src/executor/command_facts_types.ts";

const OUTPUT = new URL("../src/executor/command_facts.ts", import.meta.url);
const REDIS_SERVER = Deno.env.get("REDIS_SERVER") ?? "/usr/bin/redis-server";
const READY_TIMEOUT_MS = 10_000;
const REPLY_TIMEOUT_MS = 10_000;
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

/** A decoded RESP3 reply; maps keep their key order. */
type Reply =
  | { kind: "status"; text: string }
  | { kind: "error"; text: string }
  | { kind: "map"; entries: [string, Reply][] }
  | { kind: "set"; items: Reply[] }
  | { kind: "array"; items: Reply[] }
  | string
  | number
  | null;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encodeCommand(args: string[]): Uint8Array {
  let s = `*${args.length}\r\n`;
  for (const arg of args) s += `$${encoder.encode(arg).length}\r\n${arg}\r\n`;
  return encoder.encode(s);
}

/** Parses one reply at `at`; undefined if incomplete. */
function parse(bytes: Uint8Array, at: number): [Reply, number] | undefined {
  const lineEnd = bytes.indexOf(0x0a, at);
  if (lineEnd < 0) return undefined;
  const line = decoder.decode(bytes.subarray(at + 1, lineEnd - 1));
  let next = lineEnd + 1;
  const type = String.fromCharCode(bytes[at]);
  switch (type) {
    case "+":
      return [{ kind: "status", text: line }, next];
    case "-":
      return [{ kind: "error", text: line }, next];
    case ":":
      return [Number(line), next];
    case "_":
      return [null, next];
    case "$": {
      const length = Number(line);
      if (bytes.length < next + length + 2) return undefined;
      return [decoder.decode(bytes.subarray(next, next + length)), next + length + 2];
    }
    case "*":
    case "~":
    case "%": {
      const count = Number(line) * (type === "%" ? 2 : 1);
      const items: Reply[] = [];
      for (let i = 0; i < count; i++) {
        const item = parse(bytes, next);
        if (item === undefined) return undefined;
        items.push(item[0]);
        next = item[1];
      }
      if (type === "*") return [{ kind: "array", items }, next];
      if (type === "~") return [{ kind: "set", items }, next];
      const entries: [string, Reply][] = [];
      for (let i = 0; i < count; i += 2) entries.push([text(items[i]), items[i + 1]]);
      return [{ kind: "map", entries }, next];
    }
    default:
      throw new Error(`unexpected RESP3 type byte ${JSON.stringify(type)}`);
  }
}

class Connection {
  #buffered = new Uint8Array(0);
  constructor(readonly conn: Deno.TcpConn) {}

  async call(...args: string[]): Promise<Reply> {
    await this.conn.write(encodeCommand(args));
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    while (true) {
      const parsed = parse(this.#buffered, 0);
      if (parsed !== undefined) {
        this.#buffered = this.#buffered.slice(parsed[1]);
        if (typeof parsed[0] === "object" && parsed[0]?.kind === "error") {
          throw new Error(`${args.join(" ")}: ${parsed[0].text}`);
        }
        return parsed[0];
      }
      if (Date.now() > deadline) throw new Error(`no complete reply to ${args.join(" ")}`);
      const chunk = new Uint8Array(1 << 16);
      const n = await this.conn.read(chunk);
      if (n === null) throw new Error(`connection closed during ${args.join(" ")}`);
      if (this.#buffered.length + n > MAX_REPLY_BYTES) throw new Error("reply too large");
      const grown = new Uint8Array(this.#buffered.length + n);
      grown.set(this.#buffered);
      grown.set(chunk.subarray(0, n), this.#buffered.length);
      this.#buffered = grown;
    }
  }
}

// Accessors that fail loudly when the reply is not shaped as expected.

function text(r: Reply): string {
  if (typeof r === "string") return r;
  if (typeof r === "object" && r !== null && r.kind === "status") return r.text;
  throw new Error(`expected a string, got ${JSON.stringify(r)}`);
}

function int(r: Reply): number {
  if (typeof r !== "number") throw new Error(`expected an integer, got ${JSON.stringify(r)}`);
  return r;
}

function items(r: Reply): Reply[] {
  if (typeof r === "object" && r !== null && (r.kind === "array" || r.kind === "set")) {
    return r.items;
  }
  throw new Error(`expected an array or set, got ${JSON.stringify(r)}`);
}

function map(r: Reply, known: readonly string[], where: string): Map<string, Reply> {
  if (typeof r !== "object" || r === null || r.kind !== "map") {
    throw new Error(`${where}: expected a map, got ${JSON.stringify(r)}`);
  }
  for (const [key] of r.entries) {
    if (!known.includes(key)) {
      throw new Error(`${where}: field ${JSON.stringify(key)} unknown to this generator`);
    }
  }
  return new Map(r.entries);
}

function strings(r: Reply): string[] {
  return items(r).map(text);
}

function beginSearch(r: Reply, where: string): BeginSearch {
  const m = map(r, ["type", "spec"], where);
  const type = text(m.get("type")!);
  const spec = map(m.get("spec")!, ["index", "keyword", "startfrom"], where);
  if (type === "index") return { type, spec: { index: int(spec.get("index")!) } };
  if (type === "keyword") {
    return {
      type,
      spec: { keyword: text(spec.get("keyword")!), startfrom: int(spec.get("startfrom")!) },
    };
  }
  if (type === "unknown" && spec.size === 0) return { type, spec: {} };
  throw new Error(`${where}: begin_search type ${type}`);
}

function findKeys(r: Reply, where: string): FindKeys {
  const m = map(r, ["type", "spec"], where);
  const type = text(m.get("type")!);
  const spec = map(
    m.get("spec")!,
    ["lastkey", "keystep", "limit", "keynumidx", "firstkey"],
    where,
  );
  if (type === "range") {
    return {
      type,
      spec: {
        lastkey: int(spec.get("lastkey")!),
        keystep: int(spec.get("keystep")!),
        limit: int(spec.get("limit")!),
      },
    };
  }
  if (type === "keynum") {
    return {
      type,
      spec: {
        keynumidx: int(spec.get("keynumidx")!),
        firstkey: int(spec.get("firstkey")!),
        keystep: int(spec.get("keystep")!),
      },
    };
  }
  if (type === "unknown" && spec.size === 0) return { type, spec: {} };
  throw new Error(`${where}: find_keys type ${type}`);
}

function keySpec(r: Reply, where: string): KeySpecFacts {
  // `notes` is Redis's prose: read past it, never kept.
  const m = map(r, ["notes", "flags", "begin_search", "find_keys"], where);
  return {
    flags: strings(m.get("flags")!),
    beginSearch: beginSearch(m.get("begin_search")!, where),
    findKeys: findKeys(m.get("find_keys")!, where),
  };
}

const ARGUMENT_FIELDS = [
  "name",
  "type",
  "key_spec_index",
  "token",
  "since",
  "flags",
  "arguments",
  // Prose or deprecation notes: read past, never kept.
  "summary",
  "deprecated_since",
] as const;

function argument(r: Reply, where: string): ArgumentFacts {
  const m = map(r, ARGUMENT_FIELDS, where);
  const name = text(m.get("name")!);
  const out: {
    name: string;
    type: string;
    keySpecIndex?: number;
    token?: string;
    since?: string;
    flags?: string[];
    arguments?: ArgumentFacts[];
  } = { name, type: text(m.get("type")!) };
  if (m.has("key_spec_index")) out.keySpecIndex = int(m.get("key_spec_index")!);
  if (m.has("token")) out.token = text(m.get("token")!);
  if (m.has("since")) out.since = text(m.get("since")!);
  if (m.has("flags")) out.flags = strings(m.get("flags")!);
  if (m.has("arguments")) {
    out.arguments = items(m.get("arguments")!).map((a) => argument(a, `${where} ${name}`));
  }
  return out;
}

const DOC_FIELDS = [
  "summary",
  "since",
  "group",
  "complexity",
  "doc_flags",
  "deprecated_since",
  "replaced_by",
  "history",
  "arguments",
  "subcommands",
] as const;

/** COMMAND INFO's entry and COMMAND DOCS's map joined into one command's facts. */
function command(info: Reply, docs: Map<string, Reply>): CommandFacts {
  const [name, arity, flags, first, last, step, acl, tips, specs, subs] = items(info);
  const fullName = text(name);
  const doc = map(docs.get(fullName) ?? null, DOC_FIELDS, fullName);
  const subDocs = doc.has("subcommands")
    ? map(doc.get("subcommands")!, [...items(subs)].map((s) => text(items(s)[0])), fullName)
    : new Map<string, Reply>();
  const facts: CommandFacts = {
    name: fullName,
    arity: int(arity),
    flags: strings(flags),
    firstKey: int(first),
    lastKey: int(last),
    keyStep: int(step),
    aclCategories: strings(acl),
    tips: strings(tips),
    keySpecs: items(specs).map((s) => keySpec(s, fullName)),
    group: text(doc.get("group")!),
    since: text(doc.get("since")!),
    docFlags: doc.has("doc_flags") ? strings(doc.get("doc_flags")!) : [],
    ...(doc.has("arguments")
      ? { arguments: items(doc.get("arguments")!).map((a) => argument(a, fullName)) }
      : {}),
    ...(items(subs).length > 0
      ? {
        subcommands: items(subs).map((s) => command(s, subDocs)).sort(byName),
      }
      : {}),
  };
  return facts;
}

function byName(a: CommandFacts, b: CommandFacts): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A TypeScript literal: identifier keys unquoted, undefined fields left out. */
function literal(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(literal).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    const fields = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${/^[A-Za-z_]\w*$/.test(k) ? k : JSON.stringify(k)}: ${literal(v)}`);
    return `{ ${fields.join(", ")} }`;
  }
  return JSON.stringify(value);
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function connectWhenReady(port: number, server: Deno.ChildProcess): Promise<Deno.TcpConn> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  server.status.then(() => exited = true);
  while (true) {
    try {
      return await Deno.connect({ hostname: "127.0.0.1", port });
    } catch (e) {
      if (exited || Date.now() > deadline) throw new Error(`${REDIS_SERVER} did not start: ${e}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function main(): Promise<void> {
  const port = freePort();
  const server = new Deno.Command(REDIS_SERVER, {
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
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    const connection = new Connection(await connectWhenReady(port, server));
    const hello = map(await connection.call("HELLO", "3"), [
      "server",
      "version",
      "proto",
      "id",
      "mode",
      "role",
      "modules",
    ], "HELLO");
    const version = text(hello.get("version")!);
    const infos = items(await connection.call("COMMAND", "INFO"));
    const docReply = await connection.call("COMMAND", "DOCS");
    const docNames = items(await connection.call("COMMAND", "LIST")).map(text);
    const docs = map(docReply, docNames, "COMMAND DOCS");
    connection.conn.close();
    const facts = infos.map((info) => command(info, docs)).sort(byName);
    let out = "// Generated by tools/gen_command_facts.ts (`deno task gen-command-facts`)\n" +
      `// from redis-server ${version}'s COMMAND INFO and COMMAND DOCS. Do not edit.\n` +
      "// Facts only: Redis's summaries, complexity, history and notes are left out.\n\n" +
      `/**\n * Every command of Redis ${version} as facts (see command_facts_types.ts).\n` +
      " *\n * @example\n * ```ts\n" +
      ' * COMMAND_FACTS.find((f) => f.name === "get")!.arity; // 2\n' +
      " * ```\n * @module\n */\n\n" +
      'import type { CommandFacts } from "./command_facts_types.ts";\n\n' +
      `/** The Redis version these facts were read from. */\n` +
      `export const FACTS_REDIS_VERSION = ${JSON.stringify(version)};\n\n` +
      "/** Every command, by name; subcommands inside their container. */\n" +
      "export const COMMAND_FACTS: readonly CommandFacts[] = [\n";
    for (const f of facts) out += `  ${literal(f)},\n`;
    out += "];\n";
    await Deno.writeTextFile(OUTPUT, out);
    console.log(
      `wrote ${facts.length} commands from redis-server ${version} to ${OUTPUT.pathname}`,
    );
  } finally {
    server.kill("SIGTERM");
    await server.status;
  }
}

if (import.meta.main) await main();
