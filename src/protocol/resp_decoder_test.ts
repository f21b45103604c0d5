import assert from "node:assert/strict";
import { RespRequestDecoder } from "./resp_decoder.ts";

/** Bytes of a string whose char codes are all < 256 (one byte each). */
function bin(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new Error("not a binary string");
    out[i] = c;
  }
  return out;
}

/** A multibulk request for `args` (binary strings). */
function resp(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
}

/** One decoder event: a request, a fatal error, or bytes skipped silently. */
type Event = { args: string[] } | { error: string } | { skipped: true };

/**
 * Feeds `chunks` the way a connection does: append to the unconsumed bytes,
 * decode until a call uses 0 bytes, keep the rest for the next read. The
 * rest is moved to a new buffer at a new offset, as a connection may.
 * Stops at a fatal error, as a connection closes.
 */
function feed(decoder: RespRequestDecoder, chunks: Uint8Array[]): Event[] {
  const events: Event[] = [];
  let pending = new Uint8Array(0);
  for (const chunk of chunks) {
    const offset = pending.length % 3;
    const joined = new Uint8Array(offset + pending.length + chunk.length);
    joined.fill(0x2a, 0, offset); // stray bytes before start must be ignored
    joined.set(pending, offset);
    joined.set(chunk, offset + pending.length);
    let at = offset;
    while (at < joined.length) {
      const used = decoder.decode(joined, at, joined.length);
      if (used === 0) break;
      assert.ok(used > 0 && at + used <= joined.length, `decode used ${used}`);
      at += used;
      if (decoder.args !== undefined) {
        assert.equal(decoder.error, undefined, "args and error both set");
        events.push({ args: decoder.args });
      } else if (decoder.error !== undefined) {
        assert.equal(decoder.error.code, "ERR");
        assert.equal(decoder.fatal, true, "protocol errors are fatal");
        assert.equal(at, joined.length, "a fatal error uses every byte");
        events.push({ error: decoder.error.message });
        return events;
      } else {
        assert.equal(decoder.fatal, false);
        events.push({ skipped: true });
      }
    }
    pending = joined.slice(at);
    assert.ok(
      pending.length < decoder.maxBufferedBytes,
      `decoder waits on ${pending.length} bytes, maxBufferedBytes ${decoder.maxBufferedBytes}`,
    );
  }
  return events;
}

function whole(input: string | Uint8Array, max = 4096): Event[] {
  const bytes = typeof input === "string" ? bin(input) : input;
  return feed(new RespRequestDecoder(max), [bytes]);
}

function byteByByte(input: string | Uint8Array, max = 4096): Event[] {
  const bytes = typeof input === "string" ? bin(input) : input;
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
  return feed(new RespRequestDecoder(max), chunks);
}

/** Events for `input`, checked to be the same however it is split. */
function decodeAll(input: string, max = 4096): Event[] {
  const events = whole(input, max);
  assert.deepEqual(byteByByte(input, max), events, "byte by byte differs");
  return events;
}

function protocolError(what: string): Event[] {
  return [{ error: `Protocol error: ${what}` }];
}

Deno.test("decodes one request and reports the bytes used", () => {
  const d = new RespRequestDecoder(4096);
  const bytes = bin(resp("SET", "k", "v") + "tail");
  assert.equal(d.decode(bytes, 0, bytes.length), bytes.length - 4);
  assert.deepEqual(d.args, ["SET", "k", "v"]);
  assert.equal(d.error, undefined);
  assert.equal(d.fatal, false);
});

Deno.test("an incomplete request uses nothing", () => {
  const bytes = bin(resp("GET", "key"));
  for (let end = 0; end < bytes.length; end++) {
    const d = new RespRequestDecoder(4096);
    assert.equal(d.decode(bytes, 0, end), 0, `end ${end}`);
    assert.equal(d.args, undefined);
    assert.equal(d.error, undefined);
  }
});

Deno.test("pipelined requests come out one per call, in order", () => {
  const input = resp("PING") + resp("SET", "a", "1") + resp("GET", "a") + resp("DEL", "a", "b");
  assert.deepEqual(decodeAll(input), [
    { args: ["PING"] },
    { args: ["SET", "a", "1"] },
    { args: ["GET", "a"] },
    { args: ["DEL", "a", "b"] },
  ]);
});

Deno.test("every split point of a pipelined buffer decodes the same", () => {
  const binaryValue = "a\r\nb\x00\xff\r\n$3\r\n*1\r\n";
  const input = bin(
    resp("SET", "key", binaryValue) + "*0\r\n" + 'GET "k y"\r\n' + resp("GET", "key") +
      resp("", "x"),
  );
  const expected: Event[] = [
    { args: ["SET", "key", binaryValue] },
    { skipped: true },
    { args: ["GET", "k y"] },
    { args: ["GET", "key"] },
    { args: ["", "x"] },
  ];
  assert.deepEqual(whole(input), expected);
  assert.deepEqual(byteByByte(input), expected);
  for (let i = 0; i <= input.length; i++) {
    for (let j = i; j <= input.length; j++) {
      const chunks = [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
      assert.deepEqual(feed(new RespRequestDecoder(4096), chunks), expected, `split ${i} ${j}`);
    }
  }
});

Deno.test("a request over many reads is resumed, not restarted", () => {
  const values = Array.from({ length: 200 }, (_, i) => `value-${i}`);
  const input = bin(resp("MSET", ...values));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < input.length; i += 7) chunks.push(input.subarray(i, i + 7));
  assert.deepEqual(feed(new RespRequestDecoder(4096), chunks), [{ args: ["MSET", ...values] }]);
});

Deno.test("binary safe: all 256 byte values in keys and values", () => {
  let all = "";
  for (let b = 0; b < 256; b++) all += String.fromCharCode(b);
  assert.deepEqual(decodeAll(resp("SET", all, all)), [{ args: ["SET", all, all] }]);
  const singles = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));
  assert.deepEqual(decodeAll(resp("MSET", ...singles)), [{ args: ["MSET", ...singles] }]);
});

Deno.test("*0 and negative counts are empty requests, skipped", () => {
  for (const count of ["0", "-1", "-5", "-9223372036854775808"]) {
    assert.deepEqual(
      decodeAll(`*${count}\r\n` + resp("PING")),
      [{ skipped: true }, { args: ["PING"] }],
      count,
    );
  }
});

Deno.test("inline commands, as Redis accepts them", () => {
  assert.deepEqual(decodeAll("PING\r\n"), [{ args: ["PING"] }]);
  assert.deepEqual(decodeAll("SET k v\n"), [{ args: ["SET", "k", "v"] }]);
  assert.deepEqual(decodeAll("  GET\t k  \r\n"), [{ args: ["GET", "k"] }]);
  assert.deepEqual(decodeAll('SET "a b" "\\x00\\xff\\r\\n\\""\r\n'), [
    { args: ["SET", "a b", '\x00\xff\r\n"'] },
  ]);
  assert.deepEqual(decodeAll("SET k 'it\\'s'\n"), [{ args: ["SET", "k", "it's"] }]);
  assert.deepEqual(decodeAll('SET k ""\n'), [{ args: ["SET", "k", ""] }]);
});

Deno.test("inline: blank lines are consumed silently", () => {
  assert.deepEqual(decodeAll("\r\n\n \t \r\nPING\n"), [
    { skipped: true },
    { skipped: true },
    { skipped: true },
    { args: ["PING"] },
  ]);
});

Deno.test("inline and multibulk requests mix on one connection", () => {
  assert.deepEqual(decodeAll("PING\r\n" + resp("GET", "k") + "GET k\n"), [
    { args: ["PING"] },
    { args: ["GET", "k"] },
    { args: ["GET", "k"] },
  ]);
});

Deno.test("inline: a line waits for its newline", () => {
  const d = new RespRequestDecoder(4096);
  const bytes = bin("GET k");
  assert.equal(d.decode(bytes, 0, bytes.length), 0);
});

Deno.test("inline: unbalanced quotes are a fatal error", () => {
  for (const line of ['SET k "abc\r\n', "SET k 'abc\n", 'GET "a"b\n', 'GET "\\"\n']) {
    assert.deepEqual(decodeAll(line), protocolError("unbalanced quotes in request"), line);
  }
});

Deno.test("inline: too big inline request", () => {
  // The line, without its \n, may take min(64 KiB, maxMessageBytes).
  const fits = "x".repeat(63) + "\r";
  assert.deepEqual(decodeAll(fits + "\n", 64), [{ args: ["x".repeat(63)] }]);
  assert.deepEqual(decodeAll("x".repeat(65), 64), protocolError("too big inline request"));
  assert.deepEqual(decodeAll("x".repeat(65) + "\n", 64), protocolError("too big inline request"));
  const big = 1024 * 1024;
  assert.deepEqual(decodeAll(`GET ${"k".repeat(64 * 1024)}\n`, big).length, 1);
  assert.deepEqual(
    whole(`GET ${"k".repeat(64 * 1024)}`, big),
    protocolError("too big inline request"),
  );
  assert.deepEqual(
    whole(`GET ${"k".repeat(64 * 1024 - 4)}\n`, big),
    [{ args: ["GET", "k".repeat(64 * 1024 - 4)] }],
  );
});

Deno.test("invalid multibulk length", () => {
  const cases = [
    "*abc\r\n",
    "*\r\n",
    "*-\r\n",
    "*-0\r\n",
    "*01\r\n",
    "*+1\r\n",
    "* 1\r\n",
    "*1 \r\n",
    "*1\rX",
    "*1.5\r\n",
    "*99999999999999999999\r\n",
    "*-9223372036854775809\r\n",
    "*-99999999999999999999\r\n",
  ];
  for (const input of cases) {
    assert.deepEqual(decodeAll(input), protocolError("invalid multibulk length"), input);
  }
});

Deno.test("invalid multibulk length: count over 1024^3 args", () => {
  const max = 64 * 1024 ** 3 * 8; // large enough that only the count limit applies
  assert.deepEqual(whole("*1073741824\r\n", max), []);
  assert.deepEqual(
    whole("*1073741825\r\n", max),
    protocolError("invalid multibulk length"),
  );
});

Deno.test("invalid multibulk length: count that cannot fit maxMessageBytes", () => {
  // "*10\r\n" takes 5 bytes and each bulk at least 6: 65 > 64.
  assert.deepEqual(decodeAll("*10\r\n", 64), protocolError("invalid multibulk length"));
  // "*9\r\n" and nine "$0\r\n\r\n": 58 bytes, fits.
  assert.deepEqual(decodeAll("*9\r\n" + "$0\r\n\r\n".repeat(9), 64), [
    { args: Array(9).fill("") },
  ]);
});

Deno.test("too big mbulk count string", () => {
  assert.deepEqual(
    decodeAll("*" + "1".repeat(100), 64),
    protocolError("too big mbulk count string"),
  );
  assert.deepEqual(
    decodeAll("*" + "1".repeat(100) + "\r\n", 64),
    protocolError("too big mbulk count string"),
  );
  assert.deepEqual(
    whole("*" + "x".repeat(64 * 1024), 1024 * 1024),
    protocolError("too big mbulk count string"),
  );
  // The count line may be as long as the limit, but is still not a number.
  assert.deepEqual(
    decodeAll("*" + "x".repeat(61) + "\r\n", 64),
    protocolError("invalid multibulk length"),
  );
});

Deno.test("invalid bulk length", () => {
  const cases = [
    "$abc\r\n",
    "$\r\n",
    "$-1\r\n",
    "$-5\r\n",
    "$-0\r\n",
    "$03\r\n",
    "$00\r\n",
    "$010\r\n",
    "$0100\r\n",
    "$+3\r\n",
    "$ 3\r\n",
    "$3 \r\n",
    "$3\rX",
    "$99999999999999999999\r\n",
    "$9007199254740993\r\n",
  ];
  for (const bulk of cases) {
    const input = "*1\r\n" + bulk;
    assert.deepEqual(decodeAll(input), protocolError("invalid bulk length"), input);
  }
});

Deno.test("bulk lengths of one to four digits, at each boundary, decode whole and split", () => {
  for (const length of [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001]) {
    const value = "v".repeat(length);
    const input = resp("SET", "k", value) + resp("GET", "k");
    assert.deepEqual(
      decodeAll(input),
      [{ args: ["SET", "k", value] }, { args: ["GET", "k"] }],
      `length ${length}`,
    );
  }
});

Deno.test("expected '$', got ...", () => {
  assert.deepEqual(decodeAll("*1\r\nx3\r\n"), protocolError("expected '$', got 'x'"));
  assert.deepEqual(decodeAll("*1\r\n:3\r\n"), protocolError("expected '$', got ':'"));
  assert.deepEqual(
    decodeAll(resp("GET", "k").replace("$1", "+1")),
    protocolError("expected '$', got '+'"),
  );
  // The line ends at its \r, so an empty line names the \r itself.
  assert.deepEqual(decodeAll("*1\r\n\r\n"), protocolError("expected '$', got '\r'"));
  // As in Redis, the line must be complete before it is judged.
  const d = new RespRequestDecoder(4096);
  const partial = bin("*1\r\nGET");
  assert.equal(d.decode(partial, 0, partial.length), 0);
});

Deno.test("too big bulk count string", () => {
  assert.deepEqual(
    decodeAll("*1\r\n$" + "1".repeat(100), 64),
    protocolError("too big bulk count string"),
  );
  assert.deepEqual(
    whole("*1\r\n$" + "x".repeat(64 * 1024), 1024 * 1024),
    protocolError("too big bulk count string"),
  );
});

Deno.test("bulk data must be followed by CRLF", () => {
  for (
    const input of [
      "*1\r\n$3\r\nabcX\r\n",
      "*1\r\n$3\r\nabc\rX",
      "*1\r\n$3\r\nabcd",
      "*1\r\n$3\r\nab\r\n\r\n",
    ]
  ) {
    assert.deepEqual(decodeAll(input), protocolError("expected CRLF after bulk data"), input);
  }
  assert.deepEqual(
    decodeAll(resp("GET", "k") + "*1\r\n$3\r\nabcX\r\n" + resp("PING")),
    [{ args: ["GET", "k"] }, ...protocolError("expected CRLF after bulk data")],
  );
});

Deno.test("a request of exactly maxMessageBytes is accepted, one byte more rejected", () => {
  // "*1\r\n$53\r\n" + 53 bytes + "\r\n" = 64 bytes.
  const exact = resp("v".repeat(53));
  assert.equal(exact.length, 64);
  assert.deepEqual(decodeAll(exact, 64), [{ args: ["v".repeat(53)] }]);
  const over = resp("v".repeat(54));
  assert.deepEqual(decodeAll(over, 64), protocolError("invalid bulk length"));
  // Rejected from its header alone: the data is never buffered.
  assert.deepEqual(whole("*1\r\n$54\r\n", 64), protocolError("invalid bulk length"));
  // The whole request counts, not just one bulk.
  const two = resp("SET", "v".repeat(44));
  assert.equal(two.length, 64);
  assert.deepEqual(decodeAll(two, 64), [{ args: ["SET", "v".repeat(44)] }]);
  assert.deepEqual(
    decodeAll(resp("SET", "v".repeat(45)), 64),
    protocolError("invalid bulk length"),
  );
  // A first bulk that leaves no room for the bulks still to come.
  assert.deepEqual(
    whole("*2\r\n$49\r\n", 64),
    protocolError("invalid bulk length"),
  );
});

Deno.test("large bulks up to a large limit", () => {
  const value = "\x00\r\n".repeat(300_000);
  const input = bin(resp("SET", "k", value));
  const d = new RespRequestDecoder(input.length);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < input.length; i += 64 * 1024) chunks.push(input.subarray(i, i + 64 * 1024));
  assert.deepEqual(feed(d, chunks), [{ args: ["SET", "k", value] }]);
  assert.deepEqual(
    feed(new RespRequestDecoder(input.length - 1), chunks),
    protocolError("invalid bulk length"),
  );
});

Deno.test("a fatal error resets the decoder's state", () => {
  const d = new RespRequestDecoder(4096);
  const partial = bin("*2\r\n$3\r\nGET\r\n");
  assert.equal(d.decode(partial, 0, partial.length), 0);
  const bad = bin("*2\r\n$3\r\nGET\r\nx\r\n");
  assert.equal(d.decode(bad, 0, bad.length), bad.length);
  assert.equal(d.error?.message, "Protocol error: expected '$', got 'x'");
  assert.equal(d.fatal, true);
  const good = bin(resp("PING"));
  assert.equal(d.decode(good, 0, good.length), good.length);
  assert.deepEqual(d.args, ["PING"]);
  assert.equal(d.fatal, false);
  assert.equal(d.error, undefined);
});

Deno.test("rejects a limit that is not a positive integer", () => {
  for (const max of [0, -1, 1.5, NaN]) {
    assert.throws(() => new RespRequestDecoder(max), RangeError);
  }
});

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("fuzz: mutated input never stalls, throws or depends on splitting", () => {
  const next = random(42);
  const alphabet = bin("*$\r\n0123456789-+ \"'xAB\x00\xff");
  const valid = bin(
    resp("SET", "key", "a\r\nb") + "PING\r\n" + resp("GET", "key") + "*0\r\n",
  );
  for (let round = 0; round < 2000; round++) {
    const bytes = new Uint8Array(valid.length + 8);
    bytes.set(valid);
    for (let k = valid.length; k < bytes.length; k++) {
      bytes[k] = alphabet[Math.floor(next() * alphabet.length)];
    }
    const mutations = 1 + Math.floor(next() * 4);
    for (let m = 0; m < mutations; m++) {
      bytes[Math.floor(next() * bytes.length)] = alphabet[Math.floor(next() * alphabet.length)];
    }
    const expected = whole(bytes, 40);
    assert.deepEqual(byteByByte(bytes, 40), expected, `round ${round}`);
    const cut = Math.floor(next() * bytes.length);
    assert.deepEqual(
      feed(new RespRequestDecoder(40), [bytes.subarray(0, cut), bytes.subarray(cut)]),
      expected,
      `round ${round} cut ${cut}`,
    );
  }
});

Deno.test("fuzz: maxBufferedBytes of any bytes always decode something", () => {
  const next = random(7);
  const alphabet = bin('*$\r\n0123456789-x "');
  for (const max of [16, 40, 64]) {
    const d = new RespRequestDecoder(max);
    for (let round = 0; round < 3000; round++) {
      const bytes = new Uint8Array(d.maxBufferedBytes);
      for (let k = 0; k < bytes.length; k++) {
        bytes[k] = alphabet[Math.floor(next() * alphabet.length)];
      }
      if (next() < 0.5) bytes.set(bin("*2\r\n$3\r\nGET\r\n").subarray(0, Math.min(14, max)));
      const fresh = new RespRequestDecoder(max);
      assert.ok(fresh.decode(bytes, 0, bytes.length) > 0, `max ${max} round ${round}`);
    }
  }
});

Deno.test("a NUL hides the end of a line, as Redis's strchr does: the request waits, then is too big", () => {
  // Redis 7.0.15: "PING\0\r\nPING\r\n" gets no reply; with 70 KiB more,
  // "too big inline request".
  assert.deepEqual(decodeAll("PING\0\r\nPING\r\n"), []);
  assert.deepEqual(decodeAll('ECHO "a\0b"\r\n'), []);
  assert.deepEqual(
    whole("PING\0\r\n" + "x".repeat(70_000), 1024 * 1024),
    protocolError("too big inline request"),
  );
  assert.deepEqual(decodeAll("*1\0\r\n"), []);
  assert.deepEqual(decodeAll("*1\r\n$4\0\r\nPING\r\n"), []);
  assert.deepEqual(
    whole("*1\0\r\n" + "x".repeat(70_000), 1024 * 1024),
    protocolError("too big mbulk count string"),
  );
  assert.deepEqual(
    whole("*1\r\n$4\0\r\n" + "x".repeat(70_000), 1024 * 1024),
    protocolError("too big bulk count string"),
  );
  // A NUL after the newline is the next request's business.
  assert.deepEqual(decodeAll("PING\r\n\0"), [{ args: ["PING"] }]);
});

Deno.test("inline commands split as Redis's sdssplitargs", () => {
  assert.deepEqual(decodeAll('ECHO a"b c"\r\n'), [{ args: ["ECHO", "ab c"] }]);
  assert.deepEqual(decodeAll("PING\rPING\r\n"), [{ args: ["PING", "PING"] }]);
  assert.deepEqual(decodeAll("ECHO a\x0bb\r\n"), [{ args: ["ECHO", "a\x0bb"] }]);
  assert.deepEqual(decodeAll('ECHO "a""b"\r\n'), protocolError("unbalanced quotes in request"));
  assert.deepEqual(decodeAll("\r\r\n   \r\n\n"), [
    { skipped: true },
    { skipped: true },
    { skipped: true },
  ]);
});

Deno.test("before AUTH: Redis's limits of 10 arguments and 16 KiB bulks, before the data arrives", () => {
  const stranger = (input: string) => {
    const d = new RespRequestDecoder(1024 * 1024);
    d.unauthenticated = true;
    return feed(d, [bin(input)]);
  };
  const ten = Array.from({ length: 10 }, () => "a");
  assert.deepEqual(stranger(resp(...ten)), [{ args: ten }]);
  assert.deepEqual(
    stranger("*11\r\n"),
    protocolError("unauthenticated multibulk length"),
  );
  const big = "x".repeat(16 * 1024);
  assert.deepEqual(stranger(resp("SET", "k", big)), [{ args: ["SET", "k", big] }]);
  assert.deepEqual(
    stranger(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${16 * 1024 + 1}\r\n`),
    protocolError("unauthenticated bulk length"),
  );
  // The same requests from a client that has logged in.
  assert.deepEqual(whole(resp("SET", "k", big + "x"), 1024 * 1024), [{
    args: ["SET", "k", big + "x"],
  }]);
});
