/**
 * Bad input (issue 5, point 6; DESIGN.md §8): one server with small limits
 * gets a bounded number of fuzz connections in both protocols — random
 * bytes, mutated valid requests and hand-picked edge cases — delivered in
 * random chunks with random delays, sometimes cut off mid-request, sometimes
 * half-closed. Meanwhile a well-behaved RESP client and a well-behaved text
 * client keep doing SET/GET/INCR on their own keys and must get exactly the
 * right answers. At the end the server must still run, answer, have freed
 * the fuzz connections, and not have grown its memory without bound.
 *
 * The second test (issue 14) fuzzes arguments instead of framing: 1,500
 * connections, half of them RESP3, each a pipeline of well-framed requests
 * with random arguments for the string and bitmap commands, the keyspace
 * commands (RENAME, COPY, the expiry family, OBJECT, SORT ...), MULTI/EXEC/
 * WATCH, SELECT/MOVE/SWAPDB/FLUSHDB (kept out of database 0, where the
 * well-behaved clients are), DUMP/RESTORE (crafted payloads with a valid
 * checksum), PUBLISH/PUBSUB and the harmless server commands (INFO, CONFIG
 * GET, CLIENT ID/SETNAME/INFO, MEMORY, COMMAND, TIME), generated and
 * checked by tests/_fuzz_commands.ts. (SUBSCRIBE, which changes what a
 * connection may send and how many frames answer it, has its own tests.) Meanwhile
 * a RESP2 client and a RESP3 client doing MULTI/EXEC and WATCH in database
 * 0 get exact replies. After it: every database's KEYS, SCAN, DBSIZE and
 * INFO keyspace agree, every value DUMPs and RESTOREs to itself, and a
 * restart from the WAL and snapshots brings back the same keyspace.
 *
 * Every fuzz case is a pure function of (seed, case index), so a failure
 * names both and reproduces with `KVDB_FUZZ_SEED=<seed>` (optionally
 * `KVDB_FUZZ_ONLY=<i>,<j>` to run only those cases, `KVDB_FUZZ_CASES=<n>` /
 * `KVDB_FUZZ_COMMAND_CASES=<n>` to change how many run).
 */

import assert from "node:assert/strict";
import { delay, ServerProcess, TcpClient } from "./_helpers.ts";
import {
  caseRng,
  checkCommandReplies,
  type CommandCase,
  commandCase,
  concat,
  dumpPayload,
  fromLatin1,
  FUZZ_COMMANDS,
  latin1,
  parseReplies,
  parseReply,
  preview,
  type Reply,
  respRequest,
  Rng,
  showReply,
} from "./_fuzz_commands.ts";

const MAX_MESSAGE_BYTES = 4000; // "4KB" in kvdb's units (decimal)
const MAX_CONNECTIONS = 200;
/** Fuzz connections at once (well under MAX_CONNECTIONS). */
const CONCURRENCY = 12;
const DEFAULT_CASES = 4000;
/** Cases run before the first memory reading (heap and caches warm up). */
const WARMUP_FRACTION = 0.15;
/**
 * Allowed growth of the server's resident memory between the end of the
 * warm-up and the end of the run (measured: ~60 MB idle, ~75 MB after the
 * warm-up, 0-20 MB growth over the run). What the server keeps by design is
 * small and bounded: at most CONCURRENCY + 3 connections with a 64 KiB read
 * buffer each (a request never outgrows it at a 4 KB limit) and 41 fuzz keys
 * with small values. The rest is V8 heap that grows and shrinks lazily with
 * the garbage of the fuzz traffic: tens of MB at most. 150 MB leaves room
 * for all of that several times over, and still catches the leaks that
 * matter: the run after the warm-up sends at least twice that many bytes
 * (asserted) over ~3,400 connections (x 64 KiB = over 200 MB), so a server
 * that kept what it read, or each closed connection's buffer, exceeds it.
 */
const MAX_RSS_GROWTH_BYTES = 150 * 1024 * 1024;
/** Bytes a run must send after the warm-up for the bound above to mean something. */
const MIN_BYTES_AFTER_WARMUP = 2 * MAX_RSS_GROWTH_BYTES;
/** How long a fuzz connection waits for more reply bytes before it hangs up. */
const QUIET_MS = 40;
/** Longest a fuzz connection keeps reading after it sent everything. */
const READ_CAP_MS = 3000;
/** Longest the server may take to close after the client's FIN. */
const EOF_CAP_MS = 5000;
/** Longest a single write may block (the server stopped reading). */
const WRITE_CAP_MS = 5000;
/** Longest a well-behaved client waits for a reply. */
const REPLY_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------
// Bytes and replies (the RNG, encoder and RESP2/RESP3 parser: tests/_fuzz_commands.ts)

function equalBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isProtocolError(r: Reply): boolean {
  return r.type === "error" && r.text.startsWith("ERR Protocol error");
}

/** A raw RESP connection that reads replies with a deadline. */
class RespClient {
  #buf = new Uint8Array(0);
  #pending: Promise<number | null> | undefined;
  readonly #chunk = new Uint8Array(64 * 1024);

  private constructor(readonly conn: Deno.TcpConn) {}

  static async connect(port: number): Promise<RespClient> {
    return new RespClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async send(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  async reply(timeoutMs = REPLY_TIMEOUT_MS): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const r = parseReply(this.#buf, 0);
      if (r !== undefined) {
        this.#buf = this.#buf.slice(r[1]);
        return r[0];
      }
      // One read in flight at a time: a timed-out read is kept, not lost.
      this.#pending ??= this.conn.read(this.#chunk);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.#pending,
        new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
        }),
      ]).finally(() => clearTimeout(timer));
      if (n === "timeout") throw new Error(`no reply within ${timeoutMs}ms`);
      this.#pending = undefined;
      if (n === null) throw new Error("connection closed by the server");
      this.#buf = concat([this.#buf, this.#chunk.subarray(0, n)]);
    }
  }

  async command(args: (string | Uint8Array)[]): Promise<Reply> {
    await this.send(respRequest(args));
    return await this.reply();
  }

  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
    await this.#pending?.catch(() => null);
  }
}

// ---------------------------------------------------------------------------
// Fuzz inputs

interface FuzzCase {
  generator: string;
  bytes: Uint8Array;
}

/** Keys and values the fuzz requests use: never the well-behaved clients' keys. */
function fuzzKey(rng: Rng): string {
  return `fz:${rng.int(0, 40)}`;
}

function fuzzValue(rng: Rng): string {
  return rng.chance(0.5) ? String(rng.int(-5, 1000)) : fromLatin1(rng.bytes(rng.int(0, 24)));
}

/**
 * A valid request's arguments. No command here touches keys other than
 * the fuzz keys named in it (no FLUSHALL/FLUSHDB), so the well-behaved
 * clients' keys stay theirs; mutations only change a few bytes, which cannot
 * turn `fz:N` into `wb-...`.
 */
function validArgs(rng: Rng): string[] {
  const k = fuzzKey(rng);
  switch (rng.int(0, 27)) {
    case 0:
      return ["PING"];
    case 1:
      return ["ECHO", fuzzValue(rng)];
    case 2:
      return ["SET", k, fuzzValue(rng)];
    case 3:
      return ["SET", k, fuzzValue(rng), rng.pick(["EX", "PX"]), String(rng.int(1, 5000)), "NX"];
    case 4:
      return ["GET", k];
    case 5:
      return ["INCR", k];
    case 6:
      return ["DEL", k, fuzzKey(rng)];
    case 7:
      return ["APPEND", k, fuzzValue(rng)];
    case 8:
      return ["STRLEN", k];
    case 9:
      return ["MGET", k, fuzzKey(rng), fuzzKey(rng)];
    case 10:
      return ["MSET", k, fuzzValue(rng), fuzzKey(rng), fuzzValue(rng)];
    case 11:
      return ["EXPIRE", k, String(rng.int(1, 100))];
    case 12:
      return ["TTL", k];
    case 13:
      return ["GETEX", k, "PX", String(rng.int(1, 5000))];
    case 14:
      return ["INCRBY", k, String(rng.int(-1000, 1000))];
    case 15:
      return ["SCAN", "0", "MATCH", "fz:*", "COUNT", String(rng.int(1, 50))];
    case 16:
      return ["INFO", rng.pick(["clients", "memory", "stats", "keyspace"])];
    case 17:
      return ["CLIENT", "SETNAME", "fuzz"];
    case 18:
      return ["HELLO", rng.pick(["2", "3"])];
    case 19:
      return ["COMMAND", "COUNT"];
    case 20:
      return ["TYPE", k];
    case 21:
      return [rng.pick(["GETDEL", "EXISTS", "PERSIST", "PTTL", "DBSIZE"]), k];
    default:
      return newCommandArgs(rng, k);
  }
}

/**
 * Issue 14's commands, valid (mutations make them otherwise). Offsets stay
 * small: SETRANGE and SETBIT may legitimately grow a value to 64 MiB, which
 * is storage, not the leak the memory bound looks for (see clipNumbers).
 * No FLUSHDB or SWAPDB: they would reach the well-behaved clients'
 * database (the command fuzz has them, kept out of database 0).
 */
function newCommandArgs(rng: Rng, k: string): string[] {
  const n = () => String(rng.int(-3, 3000));
  switch (rng.int(0, 21)) {
    case 0:
      return ["SETEX", k, String(rng.int(-1, 100)), fuzzValue(rng)];
    case 1:
      return ["PSETEX", k, String(rng.int(-1, 5000)), fuzzValue(rng)];
    case 2:
      return ["GETSET", k, fuzzValue(rng)];
    case 3:
      return [rng.pick(["GETRANGE", "SUBSTR"]), k, n(), String(rng.int(-50, 50))];
    case 4:
      return ["SETRANGE", k, n(), fuzzValue(rng)];
    case 5:
      return ["INCRBYFLOAT", k, rng.pick(["1.5", "-0.1", "1e10", "inf", "nan", "x", "3"])];
    case 6:
      return ["LCS", k, fuzzKey(rng), ...rng.pick([[], ["LEN"], ["IDX", "WITHMATCHLEN"]])];
    case 7:
      return ["SETBIT", k, String(rng.int(-1, 30000)), rng.pick(["0", "1", "2"])];
    case 8:
      return ["GETBIT", k, String(rng.int(-1, 30000))];
    case 9:
      return ["BITCOUNT", k, ...rng.pick([[], ["0", "-1"], [n(), n(), "BIT"]])];
    case 10:
      return ["BITPOS", k, rng.pick(["0", "1"]), ...rng.pick([[], [n()], ["0", "-1", "BIT"]])];
    case 11:
      return ["BITOP", rng.pick(["AND", "OR", "XOR", "NOT"]), k, fuzzKey(rng), fuzzKey(rng)];
    case 12:
      return ["BITFIELD", k, "INCRBY", rng.pick(["u8", "i5", "u64"]), n(), String(rng.int(-9, 9))];
    case 13:
      return ["BITFIELD_RO", k, "GET", rng.pick(["u8", "i16", "u63"]), n()];
    case 14:
      return ["MULTI"];
    case 15:
      return [rng.pick(["EXEC", "EXEC", "DISCARD"])];
    case 16:
      return [rng.pick(["WATCH", "WATCH", "UNWATCH"]), k];
    case 17:
      return ["SELECT", String(rng.int(0, 16))];
    case 18:
      return ["MOVE", k, String(rng.int(0, 16))];
    case 19:
      return ["DUMP", k];
    default:
      return [
        "RESTORE",
        k,
        rng.pick(["0", "100000"]),
        fromLatin1(dumpPayload(rng)),
        ...rng.pick([[], ["REPLACE"]]),
      ];
  }
}

/**
 * Mutations must not turn a small offset into a large one (SETRANGE fz:1
 * 3000 x -> 30000000 x would allocate 30 MB, legitimately): a run of 6 to
 * 10 digits is cut to its first 5. Longer runs (overflow cases) stay.
 */
function clipNumbers(b: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < b.length;) {
    let j = i;
    while (j < b.length && b[j] >= 0x30 && b[j] <= 0x39) j++;
    if (j === i) {
      out.push(b[i++]);
      continue;
    }
    const run = j - i;
    for (let x = i; x < (run >= 6 && run <= 10 ? i + 5 : j); x++) out.push(b[x]);
    i = j;
  }
  return new Uint8Array(out);
}

/** `args` as a text-protocol / inline line, quoting what needs it. */
function textLine(rng: Rng, args: string[]): string {
  const plain = /^[!#-&(-[\]-~]+$/; // printable, no blank, quote or backslash
  return args.map((a) => plain.test(a) ? a : quoteForText(latin1(a))).join(" ") +
    (rng.chance(0.5) ? "\r\n" : "\n");
}

/** Bytes biased toward what parsers look at. */
function protocolishBytes(rng: Rng, n: number): Uint8Array {
  const special = latin1("*$\r\n-+:0123456789\"'\\ \tx\0");
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = rng.chance(0.6) ? rng.pick([...special]) : rng.int(0, 255);
  }
  return out;
}

/** Flips, inserts, deletes, duplicates or truncates a few bytes. */
function mutate(rng: Rng, input: Uint8Array): Uint8Array {
  let b = input;
  const rounds = rng.int(1, 4);
  for (let r = 0; r < rounds && b.length > 0; r++) {
    const at = rng.int(0, b.length - 1);
    switch (rng.int(0, 5)) {
      case 0: { // flip a bit
        b = b.slice();
        b[at] ^= 1 << rng.int(0, 7);
        break;
      }
      case 1: // replace with a protocol byte
        b = b.slice();
        b[at] = protocolishBytes(rng, 1)[0];
        break;
      case 2: // insert
        b = concat([b.subarray(0, at), protocolishBytes(rng, rng.int(1, 8)), b.subarray(at)]);
        break;
      case 3: // delete
        b = concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.int(1, 6)))]);
        break;
      case 4: // duplicate a range
        b = concat([b.subarray(0, at), b.subarray(at, at + rng.int(1, 20)), b.subarray(at)]);
        break;
      default: // truncate
        b = b.subarray(0, at);
    }
  }
  return b;
}

function validResp(rng: Rng, n: number): Uint8Array {
  return concat(Array.from({ length: n }, () => respRequest(validArgs(rng))));
}

function validText(rng: Rng, n: number): Uint8Array {
  return concat(Array.from({ length: n }, () => textLine(rng, validArgs(rng))));
}

const LONG = (n: number, c = "a") => c.repeat(n);

/** RESP edge cases (each starts with `*`, so the connection speaks RESP). */
function respEdge(rng: Rng): FuzzCase {
  const ok = () => fromLatin1(respRequest(validArgs(rng)));
  const over = () => rng.int(MAX_MESSAGE_BYTES + 1, 3 * MAX_MESSAGE_BYTES);
  const cases: [string, () => string][] = [
    ["truncated-array", () => {
      const r = ok();
      return r.slice(0, rng.int(1, r.length - 1));
    }],
    ["negative-count", () => `*-${rng.int(1, 9)}\r\n` + ok()],
    ["negative-count-big", () => "*-99999999999999999999\r\n" + ok()],
    ["huge-count", () => "*99999999999\r\n" + ok()],
    ["count-over-limit", () => `*${rng.int(700, 5000)}\r\n$4\r\nPING\r\n`],
    ["negative-bulk", () => "*2\r\n$4\r\nECHO\r\n$-2\r\nab\r\n"],
    ["nil-bulk-in-request", () => "*2\r\n$4\r\nECHO\r\n$-1\r\n"],
    ["huge-bulk", () => "*2\r\n$4\r\nECHO\r\n$2147483648\r\nabc"],
    ["huge-bulk-int64", () => "*1\r\n$9223372036854775808\r\n"],
    ["bulk-over-limit", () => `*2\r\n$4\r\nECHO\r\n$${over()}\r\n` + LONG(100)],
    ["bulk-over-limit-sent", () => {
      const n = over();
      return `*2\r\n$4\r\nECHO\r\n$${n}\r\n` + LONG(n) + "\r\n" + ok();
    }],
    ["missing-crlf-after-bulk", () => "*1\r\n$4\r\nPINGxx" + ok()],
    ["lf-only", () => "*1\n$4\nPING\n"],
    ["lf-only-bulk-line", () => "*2\r\n$4\nECHO\r\n$1\r\nx\r\n"],
    ["cr-without-lf-count", () => "*1\r$4\r\nPING\r\n"],
    ["cr-without-lf-bulk", () => "*1\r\n$4\rPING\r\n"],
    ["cr-without-lf-data", () => "*1\r\n$4\r\nPING\r" + ok()],
    ["garbage-after-valid", () => ok() + fromLatin1(protocolishBytes(rng, rng.int(1, 200)))],
    ["nested-star-in-bulk", () => "*2\r\n$4\r\nECHO\r\n$14\r\n*1\r\n$4\r\nPING\r\n\r\n" + ok()],
    ["nested-array", () => "*2\r\n*1\r\n$4\r\nPING\r\n$1\r\nx\r\n"],
    ["star-instead-of-dollar", () => "*1\r\n*4\r\nPING\r\n"],
    ["inline-unbalanced-dq", () => ok() + 'SET fz:1 "abc\r\n' + ok()],
    ["inline-unbalanced-sq", () => ok() + "ECHO 'abc\\'\r\n"],
    ["inline-quote-then-char", () => ok() + 'ECHO "a"b\r\n'],
    ["inline-valid", () => ok() + textLine(rng, validArgs(rng)) + ok()],
    ["inline-long-with-newline", () => ok() + "PING " + LONG(over()) + "\r\n" + ok()],
    ["inline-long-no-newline", () => ok() + "ECHO " + LONG(rng.int(MAX_MESSAGE_BYTES, 70_000))],
    ["count-line-long", () => "*" + LONG(rng.int(20, 70_000), "1") + "\r\n"],
    ["count-line-long-no-cr", () => "*" + LONG(rng.int(MAX_MESSAGE_BYTES, 70_000), "1")],
    ["bulk-line-long", () => "*1\r\n$" + LONG(rng.int(20, 9000), "9") + "\r\n"],
    ["nul-in-bulk", () => "*2\r\n$4\r\nECHO\r\n$3\r\na\0b\r\n"],
    ["nul-in-count", () => "*\0\r\n" + ok()],
    ["nul-in-length", () => "*1\r\n$\0\r\n"],
    ["nul-inline", () => ok() + "\0\0\0\r\n" + ok()],
    ["leading-zero", () => "*01\r\n$4\r\nPING\r\n"],
    ["plus-sign", () => "*1\r\n$+4\r\nPING\r\n"],
    ["blank-in-length", () => "*1 \r\n$4\r\nPING\r\n"],
    ["empty-count", () => "*\r\n" + ok()],
    ["zero-count", () => "*0\r\n" + ok()],
    ["many-pipelined-then-garbage", () => {
      let s = "";
      for (let i = 0, n = rng.int(2, 40); i < n; i++) s += ok();
      return s + fromLatin1(rng.bytes(rng.int(1, 50)));
    }],
    ["empty-bulk-args", () => "*3\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n\r\n"],
    ["blank-inline-lines", () => ok() + "\r\n\n  \r\n" + ok()],
  ];
  const [name, make] = rng.pick(cases);
  return { generator: `resp-edge:${name}`, bytes: latin1(make()) };
}

/** Text edge cases (each starts with a byte other than `*`). */
function textEdge(rng: Rng): FuzzCase {
  const ok = () => fromLatin1(validText(rng, 1));
  const over = () => rng.int(MAX_MESSAGE_BYTES + 1, 3 * MAX_MESSAGE_BYTES);
  const cases: [string, () => string][] = [
    ["unbalanced-dq", () => 'SET fz:1 "abc\n' + ok()],
    ["unbalanced-sq", () => "SET fz:1 'abc\n" + ok()],
    ["escaped-closing-quote", () => 'ECHO "abc\\"\n' + ok()],
    ["quote-then-char", () => 'ECHO "a"b\n'],
    [
      "hex-escape-cut",
      () => rng.pick(['ECHO "\\x"\n', 'ECHO "\\x4"\n', 'ECHO "\\x4\n', 'ECHO "\\xZZ"\n']),
    ],
    ["trailing-backslash", () => 'ECHO "abc\\\n' + ok()],
    ["backslash-at-end", () => "ECHO 'abc\\\n"],
    ["long-line-newline", () => "SET fz:2 " + LONG(over()) + "\n" + ok()],
    ["long-line-no-newline", () => "SET fz:2 " + LONG(over())],
    ["long-line-crlf", () => "ECHO " + LONG(over()) + "\r\n" + ok()],
    ["line-at-limit", () => "ECHO " + LONG(MAX_MESSAGE_BYTES - 5) + "\r\n" + ok()],
    ["bare-cr", () => rng.pick(["PING\rPING\n", "\r\r\r\n", "GET\rfz:1\n", "\r"]) + ok()],
    ["nul", () => rng.pick(["\0\n", "GET \0\n", "SET fz:3 a\0b\n", "\0"]) + ok()],
    ["empty-lines", () => "\n\r\n \t\n" + ok()],
    ["resp-looking", () => " *1\r\n$4\r\nPING\r\n"],
    ["many-pipelined", () => {
      let s = "";
      for (let i = 0, n = rng.int(2, 60); i < n; i++) s += ok();
      return s;
    }],
    [
      "quote-storm",
      () => fromLatin1(protocolishBytes(rng, rng.int(1, 300))).replaceAll("*", "") + "\n",
    ],
  ];
  const [name, make] = rng.pick(cases);
  let s = make();
  if (s.startsWith("*")) s = " " + s;
  return { generator: `text-edge:${name}`, bytes: latin1(s) };
}

/** A large over-long text line, to check that discarding it costs no memory. */
function textFlood(rng: Rng): FuzzCase {
  const n = rng.int(512 * 1024, 4 * 1024 * 1024);
  const body = new Uint8Array(n).fill(0x61);
  const tail = rng.chance(0.7) ? "\nPING\n" : "";
  return { generator: "text-flood", bytes: concat(["SET fz:9 ", body, tail]) };
}

function generate(rng: Rng): FuzzCase {
  const r = rng.next();
  if (r < 0.10) {
    return {
      generator: "resp-random",
      bytes: concat(["*", protocolishBytes(rng, rng.int(0, 600))]),
    };
  }
  if (r < 0.17) {
    let b = rng.bytes(rng.int(1, 600));
    if (b[0] === 0x2a) b = concat(["x", b]);
    return { generator: "text-random", bytes: b };
  }
  if (r < 0.37) {
    let b = clipNumbers(mutate(rng, validResp(rng, rng.int(1, 4))));
    if (b[0] !== 0x2a) b = concat(["*", b]);
    return { generator: "resp-mutated", bytes: b };
  }
  if (r < 0.55) {
    let b = clipNumbers(mutate(rng, validText(rng, rng.int(1, 4))));
    if (b.length === 0 || b[0] === 0x2a) b = concat(["x", b]);
    return { generator: "text-mutated", bytes: b };
  }
  if (r < 0.78) return respEdge(rng);
  if (r < 0.90) return textEdge(rng);
  return textFlood(rng);
}

// ---------------------------------------------------------------------------
// Delivering a fuzz case

type Ending = "read" | "half-close" | "abort-mid" | "close-unread";

interface CaseOutcome {
  sent: number;
  received: Uint8Array;
  /** The server closed (EOF or reset) before we did. */
  closedByServer: boolean;
  /**
   * We waited until replies stopped (or EOF): the first `settledBytes` of
   * `received` end on a reply boundary. (Bytes may still arrive between that
   * and our close: the server can be slower than QUIET_MS under load.)
   */
  settled: boolean;
  settledBytes: number;
  ending: Ending;
}

async function deliver(port: number, c: FuzzCase, rng: Rng): Promise<CaseOutcome> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const ending = rng.pick<Ending>([
    "read",
    "read",
    "read",
    "half-close",
    "abort-mid",
    "close-unread",
  ]);
  const chunks: Uint8Array[] = [];
  let closedByServer = false;
  let closedByUs = false;
  let lastDataMs = Date.now();
  // A reader runs throughout, so the server's replies never back up.
  const reader = (async () => {
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        chunks.push(buf.slice(0, n));
        lastDataMs = Date.now();
      }
    } catch {
      // Reset by the server, or closed by us.
    }
    if (!closedByUs) closedByServer = true;
  })();

  const maxChunk = rng.pick([1, 7, 64, 1024, 65536]);
  const sendUpTo = ending === "abort-mid" ? rng.int(0, c.bytes.length) : c.bytes.length;
  let delays = 0;
  let sent = 0;
  let stalled = false;
  while (sent < sendUpTo && !closedByServer) {
    // At most ~500 writes per case, however large.
    const size = Math.max(rng.int(1, maxChunk), Math.ceil(c.bytes.length / 500));
    const n = Math.min(sendUpTo - sent, size);
    const chunk = c.bytes.subarray(sent, sent + n);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const write = (async () => {
      let w = 0;
      while (w < chunk.length) w += await conn.write(chunk.subarray(w));
    })();
    const result = await Promise.race([
      write.then(() => "ok" as const, () => "error" as const),
      new Promise<"stalled">((resolve) =>
        timer = setTimeout(() => resolve("stalled"), WRITE_CAP_MS)
      ),
    ]).finally(() => clearTimeout(timer));
    if (result === "stalled") {
      stalled = true;
      closedByUs = true;
      conn.close();
      await write.catch(() => {});
      break;
    }
    if (result === "error") break; // the server closed: fine after a protocol error
    sent += n;
    if (delays < 15 && rng.chance(0.25)) {
      delays++;
      await delay(rng.int(0, 4));
    }
  }

  let settled = false;
  let settledBytes = 0;
  if (!stalled) {
    if (ending === "half-close") {
      try {
        await conn.closeWrite();
      } catch {
        // Reset already.
      }
      const deadline = Date.now() + EOF_CAP_MS;
      while (!closedByServer && Date.now() < deadline) await delay(5);
      settled = closedByServer;
      settledBytes = chunks.reduce((n, b) => n + b.length, 0);
    } else if (ending === "read") {
      const sentAt = Date.now();
      const deadline = sentAt + READ_CAP_MS;
      while (!closedByServer && Date.now() < deadline) {
        // After a protocol error, wait for the close that must follow.
        if (Date.now() - Math.max(lastDataMs, sentAt) >= QUIET_MS && isSettled(c, chunks)) break;
        await delay(5);
      }
      settled = true;
      settledBytes = chunks.reduce((n, b) => n + b.length, 0);
    }
  }
  closedByUs = !closedByServer;
  try {
    conn.close();
  } catch {
    // Already closed (write stall).
  }
  await reader;
  if (stalled) throw new Error(`a write blocked for ${WRITE_CAP_MS}ms: the server stopped reading`);
  if (ending === "half-close" && !settled) {
    throw new Error(`the server did not close within ${EOF_CAP_MS}ms of the client's FIN`);
  }
  return { sent, received: concat(chunks), closedByServer, settled, settledBytes, ending };
}

/**
 * Whether the bytes received so far end on a reply boundary (and, in RESP,
 * hold no protocol error, after which the server must close).
 */
function isSettled(c: FuzzCase, chunks: Uint8Array[]): boolean {
  const b = concat(chunks);
  if (c.bytes[0] === 0x2a) {
    try {
      const { replies, rest } = parseReplies(b);
      return rest === 0 && !replies.some(isProtocolError);
    } catch {
      return true; // malformed: reported by the checks
    }
  }
  return b.length === 0 || b[b.length - 1] === 0x0a;
}

/**
 * What every fuzz connection's replies must satisfy: the failure, or
 * undefined. RESP: well-formed RESP2, nothing after a protocol error, and a
 * protocol error closes the connection. Text: whole lines, and the
 * connection stays open.
 */
function checkOutcome(c: FuzzCase, o: CaseOutcome): string | undefined {
  if (c.bytes[0] !== 0x2a) return checkTextOutcome(o);
  if (!o.settled) return undefined;
  let parsed: { replies: Reply[]; rest: number };
  try {
    parsed = parseReplies(o.received);
  } catch (e) {
    return `malformed RESP reply (${(e as Error).message}): ${preview(o.received)}`;
  }
  const upToSettled = parseReplies(o.received.subarray(0, o.settledBytes));
  if (upToSettled.rest !== 0) {
    return `incomplete RESP reply after ${READ_CAP_MS}ms: ${preview(o.received)}`;
  }
  const i = parsed.replies.findIndex(isProtocolError);
  if (i >= 0 && i !== parsed.replies.length - 1) {
    return `replies after a protocol error: ${parsed.replies.slice(i).map(showReply).join(" | ")}`;
  }
  // Left open for the rest of READ_CAP_MS after the error arrived.
  if (i >= 0 && i < upToSettled.replies.length && o.ending === "read" && !o.closedByServer) {
    return `connection left open after ${showReply(parsed.replies[i])}`;
  }
  return undefined;
}

function checkTextOutcome(o: CaseOutcome): string | undefined {
  // No text-protocol error closes the connection (text_decoder.ts); an
  // oversized request may (DESIGN.md §8).
  const text = fromLatin1(o.received);
  if (o.closedByServer && o.ending !== "half-close" && !text.includes("request larger than")) {
    return `the server closed a text connection: ${preview(o.received)}`;
  }
  if (!o.settled) return undefined;
  const n = o.settledBytes;
  if (n > 0 && o.received[n - 1] !== 0x0a) {
    return `text reply not ended by a newline: ${preview(o.received)}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// The well-behaved clients

interface WellBehaved {
  ops: number;
  failure: string | undefined;
}

/** SET/GET/INCR on its own keys over RESP, checking every reply exactly. */
async function respWellBehaved(
  client: RespClient,
  rng: Rng,
  running: () => boolean,
): Promise<WellBehaved> {
  const state: WellBehaved = { ops: 0, failure: undefined };
  const model = new Map<string, Uint8Array>();
  let counter = 0;
  type Op = { args: (string | Uint8Array)[]; expect: (r: Reply) => boolean; show: string };
  const nextOp = (): Op => {
    const key = `wb-resp-${rng.int(0, 15)}`;
    const r = rng.next();
    if (r < 0.35) {
      const value = rng.chance(0.5) ? rng.bytes(rng.int(0, 300)) : latin1(`v${rng.int(0, 1e6)}`);
      model.set(key, value);
      return {
        args: ["SET", key, value],
        expect: (rep) => rep.type === "simple" && rep.text === "OK",
        show: "+OK",
      };
    }
    if (r < 0.75) {
      const want = model.get(key) ?? null;
      return {
        args: ["GET", key],
        expect: (rep) => rep.type === "bulk" && equalBytes(rep.value, want),
        show: want === null ? "nil" : `bulk ${preview(want, 80)}`,
      };
    }
    const want = ++counter;
    return {
      args: ["INCR", "wb-resp-counter"],
      expect: (rep) => rep.type === "integer" && rep.value === BigInt(want),
      show: `:${want}`,
    };
  };
  try {
    while (running()) {
      // Sometimes a pipeline of several requests in one write.
      const ops = Array.from({ length: rng.chance(0.3) ? rng.int(2, 10) : 1 }, nextOp);
      await client.send(concat(ops.map((op) => respRequest(op.args))));
      for (const op of ops) {
        const rep = await client.reply();
        if (!op.expect(rep)) {
          const shown = op.args.map((a) => typeof a === "string" ? a : preview(a, 40)).join(" ");
          throw new Error(`${shown}: expected ${op.show}, got ${showReply(rep)}`);
        }
        state.ops++;
      }
    }
  } catch (e) {
    state.failure = `RESP client after ${state.ops} ops: ${(e as Error).message}`;
  }
  return state;
}

/** A value as a text-protocol argument: always quoted, escapes for all but [A-Za-z0-9 ]. */
function quoteForText(value: Uint8Array): string {
  let s = '"';
  for (const c of value) {
    const ch = String.fromCharCode(c);
    s += /[A-Za-z0-9 ]/.test(ch) ? ch : "\\x" + c.toString(16).padStart(2, "0");
  }
  return s + '"';
}

/**
 * Reads back a value as the text protocol shows it: bare, or in double
 * quotes with `\"`, `\\`, `\n`, `\r`, `\t`, `\a`, `\b`, `\xHH`.
 */
function unquoteText(line: Uint8Array): Uint8Array | undefined {
  if (line[0] !== 0x22) return line;
  const out: number[] = [];
  const named: Record<string, number> = { n: 10, r: 13, t: 9, a: 7, b: 8, '"': 0x22, "\\": 0x5c };
  let i = 1;
  for (; i < line.length - 1; i++) {
    if (line[i] !== 0x5c) {
      out.push(line[i]);
      continue;
    }
    const e = String.fromCharCode(line[++i]);
    if (e === "x") {
      const hex = fromLatin1(line.subarray(i + 1, i + 3));
      if (!/^[0-9a-f]{2}$/i.test(hex)) return undefined;
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (e in named) {
      out.push(named[e]);
    } else {
      return undefined;
    }
  }
  return i === line.length - 1 && line[i] === 0x22 ? new Uint8Array(out) : undefined;
}

/** SET/GET/INCR on its own keys over the text protocol, checking every reply exactly. */
async function textWellBehaved(
  client: TcpClient,
  rng: Rng,
  running: () => boolean,
): Promise<WellBehaved> {
  const state: WellBehaved = { ops: 0, failure: undefined };
  const model = new Map<string, Uint8Array>();
  let counter = 0;
  type Op = { line: string; expect: (reply: Uint8Array) => boolean; show: string };
  const nextOp = (): Op => {
    const key = `wb-text-${rng.int(0, 15)}`;
    const r = rng.next();
    if (r < 0.35) {
      const value = rng.chance(0.5) ? rng.bytes(rng.int(0, 300)) : latin1(`v${rng.int(0, 1e6)}`);
      model.set(key, value);
      return {
        line: `SET ${key} ${quoteForText(value)}`,
        expect: (rep) => fromLatin1(rep) === "OK",
        show: "OK",
      };
    }
    if (r < 0.75) {
      const want = model.get(key);
      return {
        line: `GET ${key}`,
        expect: (rep) =>
          want === undefined
            ? fromLatin1(rep) === "ERROR: key not found"
            : equalBytes(unquoteText(rep) ?? null, want),
        show: want === undefined ? "ERROR: key not found" : preview(want, 80),
      };
    }
    const want = ++counter;
    return {
      line: "INCR wb-text-counter",
      expect: (rep) => fromLatin1(rep) === String(want),
      show: String(want),
    };
  };
  try {
    while (running()) {
      const ops = Array.from({ length: rng.chance(0.3) ? rng.int(2, 10) : 1 }, nextOp);
      await client.send(ops.map((op) => op.line + "\n").join(""));
      for (const op of ops) {
        const rep = await client.readLineBytes(REPLY_TIMEOUT_MS);
        if (rep === null) throw new Error(`${op.line}: connection closed by the server`);
        if (!op.expect(rep)) {
          throw new Error(
            `${op.line.slice(0, 120)}: expected ${op.show}, got ${preview(rep, 120)}`,
          );
        }
        state.ops++;
      }
    }
  } catch (e) {
    state.failure = `text client after ${state.ops} ops: ${(e as Error).message}`;
  }
  return state;
}

// ---------------------------------------------------------------------------
// Process facts

async function residentBytes(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" })
    .output();
  const m = new TextDecoder().decode(out.stdout).match(/^VmRSS:\s+(\d+) kB$/m);
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

async function isRunning(server: ServerProcess): Promise<boolean> {
  const exited = await Promise.race([server.status.then(() => true), delay(0).then(() => false)]);
  return !exited;
}

async function connectedClients(client: TcpClient): Promise<number> {
  const reply = await client.command("INFO clients");
  const m = reply.match(/connected_clients:(\d+)/);
  if (m === null) throw new Error(`no connected_clients in ${reply}`);
  return Number(m[1]);
}

const MB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

// ---------------------------------------------------------------------------

Deno.test("fuzz: bad input in both protocols never hurts the server or other clients", async () => {
  const seedEnv = Deno.env.get("KVDB_FUZZ_SEED");
  if (seedEnv !== undefined && !/^\d+$/.test(seedEnv)) {
    throw new Error("KVDB_FUZZ_SEED: not a number");
  }
  const seed = seedEnv !== undefined
    ? Number(seedEnv) >>> 0
    : crypto.getRandomValues(new Uint32Array(1))[0];
  const only = Deno.env.get("KVDB_FUZZ_ONLY");
  const total = Number(Deno.env.get("KVDB_FUZZ_CASES") ?? DEFAULT_CASES);
  const indices = only !== undefined
    ? only.split(",").map(Number)
    : Array.from({ length: total }, (_, i) => i);
  const warmup = Math.floor(indices.length * WARMUP_FRACTION);
  console.log(
    `fuzz seed ${seed} (reproduce: KVDB_FUZZ_SEED=${seed}), ${indices.length} cases`,
  );

  const server = await ServerProcess.start({
    network: { max_message_size: "4KB", max_connections: MAX_CONNECTIONS, idle_timeout: "5m" },
  });
  const started = Date.now();
  const failures: string[] = [];
  const stats = new Map<string, number>();
  let bytesSent = 0;
  let connections = 0;
  let refused = 0;
  /** Fuzz connections answered with an error (the fuzz reaches the error paths). */
  let errorReplies = 0;
  let fuzzing = true;
  let crashed = false;
  /** Cases being sent, to name the suspects if the server dies. */
  const inFlight = new Map<number, FuzzCase>();
  let exitCode = -1;
  server.status.then(() => crashed = true);

  const respClient = await RespClient.connect(server.port);
  const textClient = await server.connect();
  const control = await server.connect();
  try {
    const wbRunning = () => fuzzing && !crashed && failures.length < 20;
    const respDone = respWellBehaved(respClient, new Rng(seed ^ 0x5e5), wbRunning);
    const textDone = textWellBehaved(textClient, new Rng(seed ^ 0x7e7), wbRunning);

    const runCases = async (list: number[]) => {
      let next = 0;
      const worker = async () => {
        while (next < list.length && !crashed && failures.length < 20) {
          const index = list[next++];
          const rng = caseRng(seed, index);
          const c = generate(rng);
          stats.set(c.generator, (stats.get(c.generator) ?? 0) + 1);
          connections++;
          inFlight.set(index, c);
          try {
            const outcome = await deliver(server.port, c, rng);
            bytesSent += outcome.sent;
            const text = fromLatin1(outcome.received);
            if (text.includes("max number of clients reached")) refused++;
            if (/Protocol error|^ERROR: /m.test(text)) errorReplies++;
            const problem = checkOutcome(c, outcome);
            if (problem !== undefined) {
              failures.push(
                `seed ${seed} case ${index} (${c.generator}, ${outcome.ending}): ${problem}\n` +
                  `  input: ${preview(c.bytes)}`,
              );
            }
          } catch (e) {
            failures.push(
              `seed ${seed} case ${index} (${c.generator}): ${(e as Error).message}\n` +
                `  input: ${preview(c.bytes)}`,
            );
          }
          if (!crashed) inFlight.delete(index);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    };

    await runCases(indices.slice(0, warmup));
    await delay(200);
    const rssAfterWarmup = await residentBytes(server.child.pid);
    const bytesAtWarmup = bytesSent;
    await runCases(indices.slice(warmup));
    fuzzing = false;
    const [respState, textState] = await Promise.all([respDone, textDone]);
    const fuzzMs = Date.now() - started;
    assert.ok(
      await isRunning(server),
      `seed ${seed}: the server exited during the fuzz run:\n${
        server.logs.slice(-20).join("\n")
      }\n` +
        `cases in flight: ${
          [...inFlight].map(([i, c]) => `${i} (${c.generator}) ${preview(c.bytes, 100)}`).join("\n")
        }`,
    );

    // The fuzz connections are gone: the server must have let go of them.
    let clients = -1;
    for (let i = 0; i < 100; i++) {
      clients = await connectedClients(control);
      if (clients <= 3) break;
      await delay(50);
    }
    await delay(200);
    const rssAtEnd = await residentBytes(server.child.pid);
    const sentAfterWarmup = bytesSent - bytesAtWarmup;

    console.log(
      `fuzz: ${connections} connections, ${MB(bytesSent)} sent in ${fuzzMs} ms; ` +
        `well-behaved ops: RESP ${respState.ops}, text ${textState.ops}; ` +
        `RSS ${MB(rssAfterWarmup)} after warm-up -> ${MB(rssAtEnd)} at end ` +
        `(${MB(sentAfterWarmup)} sent in between); connected_clients ${clients}; ` +
        `${errorReplies} connections got error replies`,
    );
    console.log(
      "fuzz cases by generator: " +
        [...stats].sort().map(([g, n]) => `${g} ${n}`).join(", "),
    );
    // A connection that dies of anything but a disconnect is logged as failed.
    const warnings = server.logs.filter((l) =>
      / (ERROR|FATAL) |connection failed|[Uu]ncaught|panicked/.test(l)
    );

    assert.ok(
      failures.length === 0,
      `${failures.length} fuzz cases failed:\n${failures.join("\n")}`,
    );
    assert.equal(respState.failure, undefined, `seed ${seed}: ${respState.failure}`);
    assert.equal(textState.failure, undefined, `seed ${seed}: ${textState.failure}`);
    // The well-behaved clients ran throughout, not just once.
    assert.ok(respState.ops >= 200, `RESP client did only ${respState.ops} ops`);
    assert.ok(textState.ops >= 200, `text client did only ${textState.ops} ops`);
    assert.equal(refused, 0, `${refused} fuzz connections refused: connection slots leak`);
    // The two well-behaved clients and the control connection.
    assert.ok(
      clients <= 3,
      `connected_clients stays at ${clients} after the fuzz connections closed`,
    );
    assert.deepEqual(warnings, [], `unexpected server errors:\n${warnings.join("\n")}`);

    // Still answers, in both protocols, on old and new connections.
    assert.equal(await control.command("PING"), "PONG");
    const fresh = await RespClient.connect(server.port);
    try {
      assert.equal(showReply(await fresh.command(["PING"])), '+"PONG"');
    } finally {
      await fresh.close();
    }
    assert.equal(
      showReply(await respClient.command(["ECHO", "still here"])),
      'bulk "still here"',
    );

    if (only === undefined && total === DEFAULT_CASES) {
      assert.ok(errorReplies >= connections / 10, `only ${errorReplies} error replies`);
      assert.ok(
        sentAfterWarmup >= MIN_BYTES_AFTER_WARMUP,
        `only ${MB(sentAfterWarmup)} sent after the warm-up: too little to test memory`,
      );
    }
    assert.ok(
      rssAtEnd - rssAfterWarmup < MAX_RSS_GROWTH_BYTES,
      `resident memory grew by ${MB(rssAtEnd - rssAfterWarmup)} (bound ${
        MB(MAX_RSS_GROWTH_BYTES)
      })`,
    );
  } finally {
    fuzzing = false;
    await respClient.close();
    textClient.close();
    control.close();
    exitCode = await server.stop();
  }
  assert.equal(exitCode, 0, "graceful shutdown after the fuzz run");
});

// ---------------------------------------------------------------------------
// The command fuzz (issue 14): well-framed requests, random arguments

/** Connections of command fuzz (KVDB_FUZZ_COMMAND_CASES overrides). */
const DEFAULT_COMMAND_CASES = 1500;
const COMMAND_CONCURRENCY = 8;
/** A fuzz connection that stops reading this often: MULTI/WATCH state left to the server to drop. */
const ABANDON_CHANCE = 0.1;

/**
 * MULTI/EXEC and WATCH over RESP3 in database 0, where no fuzz command
 * reaches: every transaction's replies checked exactly, and a WATCH that
 * nobody touches must never abort (SWAPDB and FLUSHDB of other databases
 * must not disturb it).
 */
async function resp3Transactions(
  client: RespClient,
  rng: Rng,
  running: () => boolean,
): Promise<WellBehaved> {
  const state: WellBehaved = { ops: 0, failure: undefined };
  let counter = 0;
  let watched: string | null = null;
  const expect = (r: Reply, want: string, what: string) => {
    if (showReply(r) !== want) throw new Error(`${what}: expected ${want}, got ${showReply(r)}`);
  };
  try {
    const hello = await client.command(["HELLO", "3"]);
    if (hello.type !== "array" || hello.wire !== "%") {
      throw new Error(`HELLO 3: ${showReply(hello)}`);
    }
    while (running()) {
      if (rng.chance(0.5)) {
        const value = `v${rng.int(0, 1e6)}`;
        await client.send(concat([
          respRequest(["MULTI"]),
          respRequest(["SET", "wb3-k", value]),
          respRequest(["INCR", "wb3-counter"]),
          respRequest(["GET", "wb3-k"]),
          respRequest(["GET", "wb3-missing"]),
          respRequest(["EXEC"]),
        ]));
        expect(await client.reply(), '+"OK"', "MULTI");
        for (let i = 0; i < 4; i++) expect(await client.reply(), '+"QUEUED"', "queued");
        counter++;
        expect(
          await client.reply(),
          `*[+"OK", :${counter}, bulk "${value}", nil(_)]`,
          "EXEC",
        );
      } else {
        const value = `w${rng.int(0, 1e6)}`;
        await client.send(concat([
          respRequest(["WATCH", "wb3-w"]),
          respRequest(["GET", "wb3-w"]),
          respRequest(["MULTI"]),
          respRequest(["SET", "wb3-w", value]),
          respRequest(["EXEC"]),
        ]));
        expect(await client.reply(), '+"OK"', "WATCH");
        expect(
          await client.reply(),
          watched === null ? "nil(_)" : `bulk "${watched}"`,
          "GET of the watched key",
        );
        expect(await client.reply(), '+"OK"', "MULTI");
        expect(await client.reply(), '+"QUEUED"', "queued");
        expect(await client.reply(), '*[+"OK"]', "EXEC of an untouched WATCH");
        watched = value;
      }
      state.ops++;
    }
  } catch (e) {
    state.failure = `RESP3 transactions after ${state.ops} ops: ${(e as Error).message}`;
  }
  return state;
}

/** One fuzz connection: its requests in batches, every reply read, then checked. */
async function runCommandCase(
  port: number,
  c: CommandCase,
  rng: Rng,
): Promise<{ problem?: string; replies: Reply[] }> {
  const client = await RespClient.connect(port);
  const replies: Reply[] = [];
  try {
    let sent = 0;
    for (const n of c.batches) {
      await client.send(concat(c.requests.slice(sent, sent + n).map((a) => respRequest(a))));
      sent += n;
      if (rng.chance(ABANDON_CHANCE / c.batches.length)) return { replies };
      for (let i = 0; i < n; i++) replies.push(await client.reply());
    }
  } catch (e) {
    return { problem: (e as Error).message, replies };
  } finally {
    await client.close();
  }
  return { problem: checkCommandReplies(c, replies), replies };
}

/** Every key of every database: `db/key` -> value and whether it has a TTL. */
type Keyspace = Map<string, { value: string; ttl: boolean }>;

/**
 * Reads every database's keys (KEYS, and SCAN, which must agree with it
 * and DBSIZE), each key's value, TTL and type; with `roundTrip`, also
 * DUMPs each and RESTOREs it beside itself, which must give the value back.
 */
async function readKeyspace(client: RespClient, roundTrip: boolean): Promise<Keyspace> {
  const out: Keyspace = new Map();
  const text = (r: Reply) => r.type === "bulk" && r.value !== null ? fromLatin1(r.value) : "";
  for (let db = 0; db < 16; db++) {
    assert.equal(showReply(await client.command(["SELECT", String(db)])), '+"OK"');
    const keysReply = await client.command(["KEYS", "*"]);
    assert.ok(keysReply.type === "array" && keysReply.items !== null);
    const keys = keysReply.items.map(text).sort();
    const size = await client.command(["DBSIZE"]);
    assert.equal(showReply(size), `:${keys.length}`, `db ${db}: DBSIZE vs KEYS`);
    const scanned = new Set<string>();
    let cursor = "0";
    do {
      const page = await client.command(["SCAN", cursor, "COUNT", "7"]);
      assert.ok(page.type === "array" && page.items?.length === 2, showReply(page));
      cursor = text(page.items[0]);
      const batch = page.items[1];
      assert.ok(batch.type === "array" && batch.items !== null);
      for (const k of batch.items) scanned.add(text(k));
    } while (cursor !== "0");
    assert.deepEqual([...scanned].sort(), keys, `db ${db}: SCAN vs KEYS`);
    for (const key of keys) {
      // One transaction reads the key whole, so that a time to live cannot
      // end it between its type and its value.
      assert.equal(showReply(await client.command(["MULTI"])), '+"OK"');
      for (const read of ["TYPE", "PTTL", "HGETALL", "GET", "DUMP"]) {
        assert.equal(showReply(await client.command([read, key])), '+"QUEUED"');
      }
      const exec = await client.command(["EXEC"]);
      assert.ok(exec.type === "array" && exec.items?.length === 5, showReply(exec));
      const [typeReply, pttl, all, value, dump] = exec.items;
      const type = showReply(typeReply);
      if (type === '+"none"') {
        // Listed, then gone: only a time to live ends a key while nobody
        // writes, and the fuzz's TTLs run from 1 ms. It is not read, as
        // INFO's count below allows.
        continue;
      }
      assert.ok(type === '+"string"' || type === '+"hash"', `${db}/${key}: ${type}`);
      assert.ok(pttl.type === "integer" && pttl.value >= -1n, `${db}/${key}: ${showReply(pttl)}`);
      if (type === '+"hash"') {
        // A hash: its fields and values, in a canonical order.
        assert.ok(
          all.type === "array" && all.items !== null && all.items.length > 0,
          `${db}/${key}`,
        );
        const pairs: string[] = [];
        for (let i = 0; i < all.items.length; i += 2) {
          pairs.push(JSON.stringify([text(all.items[i]), text(all.items[i + 1])]));
        }
        out.set(`${db}/${key}`, {
          value: `hash ${pairs.sort().join(",")}`,
          ttl: pttl.value !== -1n,
        });
        continue;
      }
      assert.ok(value.type === "bulk" && value.value !== null, `${db}/${key}: ${showReply(value)}`);
      out.set(`${db}/${key}`, { value: text(value), ttl: pttl.value !== -1n });
      if (!roundTrip) continue;
      assert.ok(dump.type === "bulk" && dump.value !== null, `DUMP ${db}/${key}`);
      const copy = "\x00roundtrip";
      const restored = await client.command(["RESTORE", copy, "0", dump.value, "REPLACE"]);
      assert.equal(showReply(restored), '+"OK"', `RESTORE of ${db}/${key}`);
      assert.equal(text(await client.command(["GET", copy])), text(value), `${db}/${key}`);
      assert.equal(showReply(await client.command(["DEL", copy])), ":1");
    }
  }
  assert.equal(showReply(await client.command(["SELECT", "0"])), '+"OK"');
  // INFO keyspace counts the same keys.
  const info = await client.command(["INFO", "keyspace"]);
  const counts = new Map<string, number>();
  for (const k of out.keys()) counts.set(k.split("/")[0], (counts.get(k.split("/")[0]) ?? 0) + 1);
  const listed = new Map(
    [...text(info).matchAll(/^db(\d+):keys=(\d+),/gm)].map((m) => [m[1], Number(m[2])]),
  );
  // A key with a time to live read above may have expired since (and been
  // deleted by the background expiry): INFO may count fewer of those, never
  // other keys.
  const expiring = new Map<string, number>();
  for (const [k, { ttl }] of out) {
    if (ttl) expiring.set(k.split("/")[0], (expiring.get(k.split("/")[0]) ?? 0) + 1);
  }
  for (const db of new Set([...listed.keys(), ...counts.keys()])) {
    const seen = listed.get(db) ?? 0;
    const read = counts.get(db) ?? 0;
    assert.ok(
      seen <= read && seen >= read - (expiring.get(db) ?? 0),
      `INFO keyspace db${db}: ${seen} keys, ${read} read: ${text(info)}`,
    );
  }
  return out;
}

Deno.test("fuzz: random arguments to issue 14's commands, RESP2 and RESP3, then the keyspace is consistent and survives a restart", async () => {
  const seedEnv = Deno.env.get("KVDB_FUZZ_SEED");
  const seed = seedEnv !== undefined && /^\d+$/.test(seedEnv)
    ? Number(seedEnv) >>> 0
    : crypto.getRandomValues(new Uint32Array(1))[0];
  const total = Number(Deno.env.get("KVDB_FUZZ_COMMAND_CASES") ?? DEFAULT_COMMAND_CASES);
  const only = Deno.env.get("KVDB_FUZZ_ONLY");
  const indices = only !== undefined
    ? only.split(",").map(Number)
    : Array.from({ length: total }, (_, i) => i);
  console.log(
    `command fuzz seed ${seed} (reproduce: KVDB_FUZZ_SEED=${seed}), ${indices.length} cases`,
  );
  const dir = await Deno.makeTempDir({ prefix: "kvdb-fuzz-commands-" });
  const config = {
    wal: { enabled: true, data_directory: `${dir}/wal`, snapshot_threshold: "128KiB" },
    network: { max_message_size: "1MB", max_connections: 200, idle_timeout: "5m" },
  };
  let server = await ServerProcess.start(config, { dir });
  const failures: string[] = [];
  const byCommand = new Map<string, number>();
  let errors = 0;
  let crashed = false;
  server.status.then(() => crashed = true);
  const wb = await RespClient.connect(server.port);
  const wb3 = await RespClient.connect(server.port);
  try {
    let fuzzing = true;
    const running = () => fuzzing && !crashed && failures.length < 10;
    const wbDone = respWellBehaved(wb, new Rng(seed ^ 0x1234), running);
    const wb3Done = resp3Transactions(wb3, new Rng(seed ^ 0x4321), running);
    const started = Date.now();
    let next = 0;
    await Promise.all(Array.from({ length: COMMAND_CONCURRENCY }, async () => {
      while (next < indices.length && !crashed && failures.length < 10) {
        const index = indices[next++];
        const rng = caseRng(seed ^ 0xc0ffee, index);
        const c = commandCase(rng);
        for (const args of c.requests) {
          const name = typeof args[0] === "string" ? args[0].toUpperCase() : "?";
          byCommand.set(name, (byCommand.get(name) ?? 0) + 1);
        }
        const { problem, replies } = await runCommandCase(server.port, c, rng);
        errors += replies.filter((r) => r.type === "error").length;
        if (problem !== undefined) {
          const shown = c.requests.map((a) =>
            a.map((x) => typeof x === "string" ? JSON.stringify(x) : preview(x, 40)).join(" ")
          );
          failures.push(
            `seed ${seed} case ${index}: ${problem}\n  requests:\n    ${shown.join("\n    ")}\n` +
              `  replies:\n    ${replies.map(showReply).join("\n    ")}`,
          );
        }
      }
    }));
    fuzzing = false;
    const [wbState, wb3State] = await Promise.all([wbDone, wb3Done]);
    const requests = [...byCommand.values()].reduce((a, b) => a + b, 0);
    console.log(
      `command fuzz: ${indices.length} connections, ${requests} requests (${errors} errors) in ` +
        `${Date.now() - started} ms; well-behaved ops: RESP2 ${wbState.ops}, RESP3 ` +
        `transactions ${wb3State.ops}`,
    );
    assert.ok(!crashed, `seed ${seed}: the server exited:\n${server.logs.slice(-30).join("\n")}`);
    assert.ok(failures.length === 0, `${failures.length} cases failed:\n${failures.join("\n\n")}`);
    assert.equal(wbState.failure, undefined, `seed ${seed}: ${wbState.failure}`);
    assert.equal(wb3State.failure, undefined, `seed ${seed}: ${wb3State.failure}`);
    assert.ok(wbState.ops >= 100 && wb3State.ops >= 50, "the well-behaved clients ran throughout");
    const warnings = server.logs.filter((l) =>
      / (ERROR|FATAL) |connection failed|[Uu]ncaught|panicked|internal error/.test(l)
    );
    assert.deepEqual(warnings, [], `unexpected server errors:\n${warnings.join("\n")}`);
    // Every command of the list was sent, and the arguments reached the handlers.
    const unsent = Object.keys(FUZZ_COMMANDS).filter((n) => !byCommand.has(n));
    if (only === undefined && total === DEFAULT_COMMAND_CASES) {
      assert.deepEqual(unsent, [], "commands the fuzz never sent");
      assert.ok(errors > requests / 20, `only ${errors} error replies of ${requests}`);
    }

    const control = await RespClient.connect(server.port);
    let before: Keyspace;
    try {
      before = await readKeyspace(control, true);
    } finally {
      await control.close();
    }
    await wb.close();
    await wb3.close();
    assert.equal(await server.stop(), 0, "graceful shutdown after the command fuzz");

    // The WAL and snapshots bring back exactly that keyspace (keys with a TTL may have expired).
    server = await ServerProcess.start(config, { dir });
    const again = await RespClient.connect(server.port);
    try {
      const after = await readKeyspace(again, false);
      for (const [key, { value, ttl }] of before) {
        const now = after.get(key);
        if (now === undefined) {
          assert.ok(ttl, `${key} (no TTL) is gone after the restart`);
          continue;
        }
        assert.equal(now.value, value, `${key}: its value after the restart`);
      }
      const appeared = [...after.keys()].filter((k) => !before.has(k));
      assert.deepEqual(appeared, [], "keys that appeared after the restart");
    } finally {
      await again.close();
    }
  } finally {
    await wb.close();
    await wb3.close();
    await server.stop("SIGKILL").catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
