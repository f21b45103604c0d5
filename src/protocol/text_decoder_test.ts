import assert from "node:assert/strict";
import { CommandError } from "./reply_writer.ts";
import { splitTextArguments, TextRequestDecoder } from "./text_decoder.ts";

const encoder = new TextEncoder();

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

function split(line: string): string[] {
  const bytes = bin(line);
  return splitTextArguments(bytes, 0, bytes.length);
}

function splitError(line: string): CommandError {
  let caught: unknown;
  try {
    split(line);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CommandError, `expected CommandError for ${JSON.stringify(line)}`);
  return caught;
}

/** One decoder event: a request, an error, or bytes skipped silently. */
type Event = { args: string[] } | { error: string } | { skipped: number };

/**
 * Feeds `chunks` the way a connection does: append to a pending buffer,
 * decode until a call uses 0 bytes, keep the rest for the next read.
 */
function feed(decoder: TextRequestDecoder, chunks: Uint8Array[]): Event[] {
  const events: Event[] = [];
  let pending = new Uint8Array(0);
  for (const chunk of chunks) {
    const joined = new Uint8Array(pending.length + chunk.length);
    joined.set(pending);
    joined.set(chunk, pending.length);
    let at = 0;
    while (at < joined.length) {
      const used = decoder.decode(joined, at, joined.length);
      if (used === 0) break;
      assert.ok(used > 0 && at + used <= joined.length, `decode used ${used}`);
      if (decoder.args !== undefined) {
        assert.equal(decoder.error, undefined, "args and error both set");
        events.push({ args: decoder.args });
      } else if (decoder.error !== undefined) {
        events.push({ error: decoder.error.text });
      } else {
        events.push({ skipped: used });
      }
      at += used;
    }
    pending = joined.slice(at);
    assert.ok(
      pending.length <= decoder.maxBufferedBytes,
      `pending ${pending.length} > ${decoder.maxBufferedBytes}`,
    );
  }
  return events;
}

/** Events without the silent skips (how many there are depends on chunking). */
function normalise(events: Event[]): Event[] {
  return events.filter((e) => !("skipped" in e));
}

Deno.test("split: plain arguments", () => {
  assert.deepEqual(split("SET key value"), ["SET", "key", "value"]);
  assert.deepEqual(split("GET k"), ["GET", "k"]);
  assert.deepEqual(split("PING"), ["PING"]);
});

Deno.test("split: runs of blanks and tabs, leading and trailing", () => {
  assert.deepEqual(split("  SET \t key\t\t value  \t"), ["SET", "key", "value"]);
  assert.deepEqual(split("\tGET\tk"), ["GET", "k"]);
});

Deno.test("split: empty or blank line gives no arguments", () => {
  assert.deepEqual(split(""), []);
  assert.deepEqual(split("   \t  "), []);
});

Deno.test("split: start/end bounds are honoured", () => {
  const bytes = bin("xxGET kyy");
  assert.deepEqual(splitTextArguments(bytes, 2, 7), ["GET", "k"]);
});

Deno.test("split: double-quoted with every escape", () => {
  assert.deepEqual(split('SET k "a b"'), ["SET", "k", "a b"]);
  assert.deepEqual(split('"\\""'), ['"']);
  assert.deepEqual(split('"\\\\"'), ["\\"]);
  assert.deepEqual(split('"\\n"'), ["\n"]);
  assert.deepEqual(split('"\\r"'), ["\r"]);
  assert.deepEqual(split('"\\t"'), ["\t"]);
  assert.deepEqual(split('"\\a"'), ["\x07"]);
  assert.deepEqual(split('"\\b"'), ["\x08"]);
  assert.deepEqual(split('"\\x00\\xff\\x7F\\xAb"'), ["\x00\xff\x7f\xab"]);
  assert.deepEqual(split('"\\c\\q\\\'"'), ["cq'"]);
  assert.deepEqual(
    split('"say \\"hi\\"\\n\\tthere\\x21"'),
    ['say "hi"\n\tthere!'],
  );
  assert.deepEqual(split('""'), [""]);
  assert.deepEqual(split('SET "" ""'), ["SET", "", ""]);
  assert.deepEqual(split('"a\'b"'), ["a'b"]);
});

Deno.test("split: \\x without two hex digits is a literal x", () => {
  assert.deepEqual(split('"\\x4"'), ["x4"]);
  assert.deepEqual(split('"\\xzz"'), ["xzz"]);
  assert.deepEqual(split('"\\x"'), ["x"]);
});

Deno.test("split: single quotes take only \\'", () => {
  assert.deepEqual(split("'it\\'s'"), ["it's"]);
  assert.deepEqual(split("'a b'"), ["a b"]);
  assert.deepEqual(split("'a\\nb'"), ["a\\nb"]);
  assert.deepEqual(split("'a\\\\b'"), ["a\\\\b"]);
  // as in redis-cli, a backslash before the closing quote escapes it
  assert.throws(() => split("'\\\\'"), CommandError);
  assert.deepEqual(split("'a\"b'"), ['a"b']);
  assert.deepEqual(split("''"), [""]);
});

Deno.test("split: quoted arguments next to plain ones", () => {
  assert.deepEqual(split("SET \"k 1\"\t'v 2' x"), ["SET", "k 1", "v 2", "x"]);
  assert.deepEqual(split('a"b c'), ['a"b', "c"]);
});

Deno.test("split: binary bytes in unquoted arguments are kept", () => {
  assert.deepEqual(split("SET \x00k\xff \x01\x80\x7f\xfe"), [
    "SET",
    "\x00k\xff",
    "\x01\x80\x7f\xfe",
  ]);
  assert.deepEqual(split("a\rb"), ["a\rb"]);
});

Deno.test("split: unbalanced quotes are an error", () => {
  for (const line of ['SET k "abc', "SET k 'abc", '"', "'", '"abc\\"', '"abc\\', "'abc\\'"]) {
    const e = splitError(line);
    assert.equal(e.text, "syntax error: unbalanced quotes in request", line);
    assert.equal(e.code, "ERR");
  }
});

Deno.test("split: a closing quote followed by a non-blank is an error", () => {
  for (const line of ['"a"b', "'a'b", 'SET "k"v x', '""x']) {
    const e = splitError(line);
    assert.equal(e.text, "syntax error: closing quote must be followed by a blank", line);
  }
  assert.deepEqual(split('"a"\t"b"'), ["a", "b"]);
});

Deno.test("decoder: one request, \\n and \\r\\n", () => {
  const d = new TextRequestDecoder(4096);
  let b = encoder.encode("SET k v\n");
  assert.equal(d.decode(b, 0, b.length), 8);
  assert.deepEqual(d.args, ["SET", "k", "v"]);
  assert.equal(d.error, undefined);
  b = encoder.encode("GET k\r\n");
  assert.equal(d.decode(b, 0, b.length), 7);
  assert.deepEqual(d.args, ["GET", "k"]);
  b = encoder.encode("GET k\r\r\n");
  assert.equal(d.decode(b, 0, b.length), 8);
  assert.deepEqual(d.args, ["GET", "k\r"]);
});

Deno.test("decoder: no newline yet uses nothing", () => {
  const d = new TextRequestDecoder(4096);
  const b = encoder.encode("GET k");
  assert.equal(d.decode(b, 0, b.length), 0);
  assert.equal(d.args, undefined);
  assert.equal(d.error, undefined);
  assert.equal(d.decode(b, 0, 0), 0);
});

Deno.test("decoder: empty lines give empty args", () => {
  const d = new TextRequestDecoder(4096);
  const b = encoder.encode("\n\r\n  \n");
  assert.deepEqual(feed(d, [b]), [{ args: [] }, { args: [] }, { args: [] }]);
});

Deno.test("decoder: a syntax error is reported and the next request decodes", () => {
  const d = new TextRequestDecoder(4096);
  const b = encoder.encode('SET k "v\nGET k\n');
  assert.deepEqual(feed(d, [b]), [
    { error: "syntax error: unbalanced quotes in request" },
    { args: ["GET", "k"] },
  ]);
});

Deno.test("decoder: pipelined requests decode one at a time", () => {
  const d = new TextRequestDecoder(4096);
  const b = encoder.encode("SET a 1\nGET a\r\nDEL a\nGET a\n");
  assert.equal(d.decode(b, 0, b.length), 8);
  assert.deepEqual(d.args, ["SET", "a", "1"]);
  assert.equal(d.decode(b, 8, b.length), 7);
  assert.deepEqual(d.args, ["GET", "a"]);
  assert.equal(d.decode(b, 15, b.length), 6);
  assert.deepEqual(d.args, ["DEL", "a"]);
  assert.equal(d.decode(b, 21, b.length), 6);
  assert.deepEqual(d.args, ["GET", "a"]);
  assert.equal(b.length, 27);
});

Deno.test("decoder: 2000 pipelined requests in one buffer", () => {
  const d = new TextRequestDecoder(4096);
  let text = "";
  for (let i = 0; i < 2000; i++) text += `SET key${i} "v ${i}"\n`;
  const events = feed(d, [encoder.encode(text)]);
  assert.equal(events.length, 2000);
  for (let i = 0; i < 2000; i++) {
    assert.deepEqual(events[i], { args: ["SET", `key${i}`, `v ${i}`] });
  }
});

const MIXED = bin(
  'SET k1 "a b\\n"\r\nGET k1\n\nDEL \x00\xff\n' +
    "SET 'q\\'x' v\n" +
    'BAD "x\n' +
    "X".repeat(40) + "\n" + // over the limit of 32
    "GET last\n",
);

Deno.test("decoder: every split point gives the same result as one buffer", () => {
  const whole = normalise(feed(new TextRequestDecoder(32), [MIXED]));
  assert.deepEqual(whole, [
    { args: ["SET", "k1", "a b\n"] },
    { args: ["GET", "k1"] },
    { args: [] },
    { args: ["DEL", "\x00\xff"] },
    { args: ["SET", "q'x", "v"] },
    { error: "syntax error: unbalanced quotes in request" },
    { error: "request too large: over 32 bytes (network.max_message_size); discarded" },
    { args: ["GET", "last"] },
  ]);
  for (let cut = 0; cut <= MIXED.length; cut++) {
    const events = feed(new TextRequestDecoder(32), [MIXED.subarray(0, cut), MIXED.subarray(cut)]);
    assert.deepEqual(normalise(events), whole, `split at ${cut}`);
  }
  for (let a = 1; a < MIXED.length; a += 3) {
    for (let b = a; b < MIXED.length; b += 5) {
      const chunks = [MIXED.subarray(0, a), MIXED.subarray(a, b), MIXED.subarray(b)];
      assert.deepEqual(normalise(feed(new TextRequestDecoder(32), chunks)), whole, `${a}/${b}`);
    }
  }
});

Deno.test("decoder: byte-at-a-time feeding matches one buffer", () => {
  const whole = normalise(feed(new TextRequestDecoder(32), [MIXED]));
  const bytes = Array.from(MIXED, (_, i) => MIXED.subarray(i, i + 1));
  assert.deepEqual(normalise(feed(new TextRequestDecoder(32), bytes)), whole);
});

Deno.test("decoder: a line of exactly maxMessageBytes is accepted", () => {
  const max = 64;
  const value = "v".repeat(max - "SET k ".length);
  for (const ending of ["\n", "\r\n"]) {
    const d = new TextRequestDecoder(max);
    const b = encoder.encode(`SET k ${value}${ending}`);
    assert.deepEqual(feed(d, [b]), [{ args: ["SET", "k", value] }], JSON.stringify(ending));
    // and arriving byte by byte
    const d2 = new TextRequestDecoder(max);
    const bytes = Array.from(b, (_, i) => b.subarray(i, i + 1));
    assert.deepEqual(feed(d2, bytes), [{ args: ["SET", "k", value] }]);
  }
});

Deno.test("decoder: a line one byte over is one error, skipped through its newline", () => {
  const max = 64;
  const d = new TextRequestDecoder(max);
  const long = "x".repeat(max + 1);
  const b = encoder.encode(`${long}\nGET k\n`);
  assert.equal(d.decode(b, 0, b.length), max + 2);
  assert.equal(d.args, undefined);
  assert.ok(d.error instanceof CommandError);
  assert.equal(
    d.error.text,
    "request too large: over 64 bytes (network.max_message_size); discarded",
  );
  assert.equal(d.decode(b, max + 2, b.length), 6);
  assert.deepEqual(d.args, ["GET", "k"]);
  assert.equal(d.error, undefined);
  // the same with \r\n: 65 bytes of content is too large
  const d2 = new TextRequestDecoder(max);
  assert.deepEqual(normalise(feed(d2, [encoder.encode(`${long}\r\nGET k\r\n`)])), [
    { error: "request too large: over 64 bytes (network.max_message_size); discarded" },
    { args: ["GET", "k"] },
  ]);
});

Deno.test("decoder: oversized line over several chunks gives one error, then recovers", () => {
  const max = 64;
  const d = new TextRequestDecoder(max);
  const chunk = encoder.encode("y".repeat(50));
  const events = feed(d, [
    encoder.encode("GET a\n"),
    chunk,
    chunk,
    chunk,
    chunk,
    encoder.encode("yyy\nSET b 2\n"),
    encoder.encode("GET b\n"),
  ]);
  assert.deepEqual(normalise(events), [
    { args: ["GET", "a"] },
    { error: "request too large: over 64 bytes (network.max_message_size); discarded" },
    { args: ["SET", "b", "2"] },
    { args: ["GET", "b"] },
  ]);
  assert.equal(events.filter((e) => "error" in e).length, 1);
});

Deno.test("decoder: discard ends at the newline even in the same chunk as the next request", () => {
  const max = 64;
  const d = new TextRequestDecoder(max);
  const big = encoder.encode("z".repeat(200));
  assert.equal(d.decode(big, 0, big.length), 200);
  assert.ok(d.error !== undefined);
  const rest = encoder.encode("zzz\nGET c\n");
  assert.equal(d.decode(rest, 0, rest.length), 4);
  assert.equal(d.args, undefined);
  assert.equal(d.error, undefined);
  assert.equal(d.decode(rest, 4, rest.length), 6);
  assert.deepEqual(d.args, ["GET", "c"]);
});

Deno.test("decoder: maxBufferedBytes is the request, its \\r\\n and one byte", () => {
  assert.equal(new TextRequestDecoder(4096).maxBufferedBytes, 4099);
});
