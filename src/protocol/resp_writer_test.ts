import assert from "node:assert/strict";
import { bytesToBinary } from "../bytes/binary_string.ts";
import { OutBuffer } from "./out_buffer.ts";
import { CommandError, type TextRendering } from "./reply_writer.ts";
import { RespRequestDecoder } from "./resp_decoder.ts";
import { RespReplyWriter } from "./resp_writer.ts";
import { formatDouble } from "./double_format.ts";

function setup(): { out: OutBuffer; w: RespReplyWriter; text: () => string } {
  const out = new OutBuffer(16);
  const w = new RespReplyWriter(out);
  return { out, w, text: () => bytesToBinary(out.view()) };
}

/** The RESP bytes (as a binary string) of what `write` renders. */
function render(write: (w: RespReplyWriter) => void): string {
  const { w, text } = setup();
  w.begin(undefined, 1);
  write(w);
  return text();
}

Deno.test("status", () => {
  assert.equal(render((w) => w.status("OK")), "+OK\r\n");
  assert.equal(render((w) => w.status("PONG")), "+PONG\r\n");
  assert.equal(render((w) => w.status("")), "+\r\n");
});

Deno.test("status and error lines lose CR and LF, as in Redis", () => {
  assert.equal(render((w) => w.status("a\r\nb")), "+a  b\r\n");
  assert.equal(
    render((w) => w.error(new CommandError("ERR", "Protocol error: expected '$', got '\r'"))),
    "-ERR Protocol error: expected '$', got ' '\r\n",
  );
});

Deno.test("error is -CODE message", () => {
  assert.equal(
    render((w) => w.error(new CommandError("ERR", "unknown command 'FOO'", "other words"))),
    "-ERR unknown command 'FOO'\r\n",
  );
  assert.equal(
    render((w) =>
      w.error(new CommandError("READONLY", "You can't write against a read only replica."))
    ),
    "-READONLY You can't write against a read only replica.\r\n",
  );
  assert.equal(render((w) => w.error(new CommandError("ERR", ""))), "-ERR\r\n");
});

Deno.test("error text: binary chars as bytes, wider chars as UTF-8", () => {
  assert.equal(
    render((w) => w.error(new CommandError("ERR", "key '\x00\xff'"))),
    "-ERR key '\x00\xff'\r\n",
  );
  assert.equal(
    render((w) => w.error(new CommandError("ERR", "é→\n"))),
    "-ERR \xc3\xa9\xe2\x86\x92 \r\n",
  );
});

Deno.test("integer", () => {
  const cases: [number, string][] = [
    [0, ":0\r\n"],
    [-0, ":0\r\n"],
    [1, ":1\r\n"],
    [-1, ":-1\r\n"],
    [-2, ":-2\r\n"],
    [-3, ":-3\r\n"],
    [10, ":10\r\n"],
    [1023, ":1023\r\n"],
    [1024, ":1024\r\n"],
    [123456789, ":123456789\r\n"],
    [-123456789, ":-123456789\r\n"],
    [2147483647, ":2147483647\r\n"],
    [2147483648, ":2147483648\r\n"],
    [-2147483648, ":-2147483648\r\n"],
    [-2147483649, ":-2147483649\r\n"],
    [Number.MAX_SAFE_INTEGER, ":9007199254740991\r\n"],
    [-Number.MAX_SAFE_INTEGER, ":-9007199254740991\r\n"],
    [2 ** 60, ":1152921504606846976\r\n"],
    [-(2 ** 63), ":-9223372036854775808\r\n"],
  ];
  for (const [value, bytes] of cases) {
    assert.equal(render((w) => w.integer(value)), bytes, String(value));
  }
});

Deno.test("integer: a non-integer is a bug, not a reply", () => {
  for (const value of [1.5, -0.5, NaN, Infinity]) {
    assert.throws(() => render((w) => w.integer(value)), RangeError);
  }
});

Deno.test("bulk", () => {
  assert.equal(render((w) => w.bulk("")), "$0\r\n\r\n");
  assert.equal(render((w) => w.bulk("abc")), "$3\r\nabc\r\n");
  assert.equal(render((w) => w.bulk("a\r\nb")), "$4\r\na\r\nb\r\n");
  for (const length of [1023, 1024, 100_000]) {
    const value = "x".repeat(length);
    assert.equal(render((w) => w.bulk(value)), `$${length}\r\n${value}\r\n`);
  }
});

Deno.test("bulk: all 256 byte values", () => {
  let all = "";
  for (let b = 0; b < 256; b++) all += String.fromCharCode(b);
  const { out, w } = setup();
  w.bulk(all);
  const bytes = out.view();
  assert.equal(bytesToBinary(bytes, 0, 6), "$256\r\n");
  for (let b = 0; b < 256; b++) assert.equal(bytes[6 + b], b);
  assert.equal(bytesToBinary(bytes, 262), "\r\n");
});

Deno.test("nil", () => {
  assert.equal(render((w) => w.nil()), "$-1\r\n");
});

Deno.test("begin ignores the text rendering", () => {
  const rendering: TextRendering = {
    nil: "ERROR: key not found",
    integer: () => "OK",
  };
  const { w, text } = setup();
  w.begin(rendering, 2);
  w.nil();
  w.begin(rendering, 2);
  w.integer(1);
  assert.equal(text(), "$-1\r\n:1\r\n");
});

Deno.test("arrays, empty and nested", () => {
  assert.equal(render((w) => w.array(0)), "*0\r\n");
  assert.equal(render((w) => w.array(2000)), "*2000\r\n");
  assert.equal(
    render((w) => {
      w.array(4);
      w.bulk("a");
      w.nil();
      w.integer(7);
      w.array(2);
      w.status("OK");
      w.array(0);
    }),
    "*4\r\n$1\r\na\r\n$-1\r\n:7\r\n*2\r\n+OK\r\n*0\r\n",
  );
  assert.equal(
    render((w) => {
      w.array(2);
      w.bulk("0");
      w.array(2);
      w.bulk("k1");
      w.error(new CommandError("WRONGTYPE", "wrong kind"));
    }),
    "*2\r\n$1\r\n0\r\n*2\r\n$2\r\nk1\r\n-WRONGTYPE wrong kind\r\n",
  );
});

Deno.test("replies to many requests append in order", () => {
  const { w, text } = setup();
  w.begin(undefined, 3);
  w.status("OK");
  w.begin(undefined, 2);
  w.bulk("v");
  w.begin(undefined, 2);
  w.integer(1);
  assert.equal(text(), "+OK\r\n$1\r\nv\r\n:1\r\n");
});

Deno.test("round trip: arrays of bulks decode back to their values", () => {
  let all = "";
  for (let b = 0; b < 256; b++) all += String.fromCharCode(b);
  const requests: string[][] = [
    ["PING"],
    ["SET", "key", "value"],
    ["SET", "", ""],
    ["MSET", all, "\r\n", "*1\r\n$3\r\n", "x".repeat(5000)],
    Array.from({ length: 300 }, (_, i) => String(i)),
  ];
  const { out, w } = setup();
  for (const args of requests) {
    w.begin(undefined, 0);
    w.array(args.length);
    for (const arg of args) w.bulk(arg);
  }
  const bytes = out.view();
  const decoder = new RespRequestDecoder(16 * 1024);
  const decoded: string[][] = [];
  let at = 0;
  while (at < bytes.length) {
    const used = decoder.decode(bytes, at, bytes.length);
    assert.ok(used > 0, `stalled at ${at}`);
    assert.equal(decoder.error, undefined);
    decoded.push(decoder.args!);
    at += used;
  }
  assert.deepEqual(decoded, requests);
});

Deno.test("bulkBytes: small values copied, large ones referenced, same bytes as bulk", () => {
  for (const length of [0, 1, 1023, 1024, 64 * 1024 - 1, 64 * 1024, 200_000]) {
    const value = new Uint8Array(length).map((_, i) => (i * 7) & 0xff);
    const asBytes = setup();
    asBytes.w.begin(undefined, 2);
    asBytes.w.bulkBytes(value);
    const asString = setup();
    asString.w.begin(undefined, 2);
    asString.w.bulk(bytesToBinary(value));
    assert.equal(asBytes.text(), asString.text(), `length ${length}`);
    assert.equal(asBytes.text(), `$${length}\r\n${bytesToBinary(value)}\r\n`);
    const referenced = length >= 64 * 1024 ? length : 0;
    assert.equal(asBytes.out.referencedBytes, referenced, `bytes of ${length} referenced`);
    assert.equal(asString.out.referencedBytes, referenced, `string of ${length} referenced`);
  }
});

Deno.test("bulkBytes: a large value is sent from the caller's bytes, not a copy", () => {
  const { out, w } = setup();
  const value = new Uint8Array(100_000).fill(0x61);
  w.begin(undefined, 2);
  w.bulkBytes(value);
  value[0] = 0x62; // the caller's promise broken on purpose, to see the reference
  const sent = bytesToBinary(out.view());
  assert.equal(sent.slice(0, 12), "$100000\r\nbaa");
  assert.ok(out.length < 100_000 + 64 && out.referencedBytes === 100_000);
});

/** Renders with a writer whose session speaks `protocol`. */
function renderIn(protocol: 2 | 3, write: (w: RespReplyWriter) => void): string {
  const out = new OutBuffer(16);
  const w = new RespReplyWriter(out, { protocol });
  w.begin(undefined, 1);
  write(w);
  return bytesToBinary(out.view());
}

Deno.test("RESP3 types, and each as Redis renders it in RESP2", () => {
  const cases: [string, (w: RespReplyWriter) => void, string, string][] = [
    ["nil", (w) => w.nil(), "$-1\r\n", "_\r\n"],
    ["nilArray", (w) => w.nilArray(), "*-1\r\n", "_\r\n"],
    [
      "map",
      (w) => {
        w.map(1);
        w.bulk("k");
        w.integer(1);
      },
      "*2\r\n$1\r\nk\r\n:1\r\n",
      "%1\r\n$1\r\nk\r\n:1\r\n",
    ],
    ["empty map", (w) => w.map(0), "*0\r\n", "%0\r\n"],
    [
      "set",
      (w) => {
        w.set(2);
        w.bulk("a");
        w.bulk("b");
      },
      "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
      "~2\r\n$1\r\na\r\n$1\r\nb\r\n",
    ],
    [
      "push",
      (w) => {
        w.push(1);
        w.bulk("message");
      },
      "*1\r\n$7\r\nmessage\r\n",
      ">1\r\n$7\r\nmessage\r\n",
    ],
    ["double", (w) => w.double(0.1), "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"],
    ["double inf", (w) => w.double(Infinity), "$3\r\ninf\r\n", ",inf\r\n"],
    ["double -inf", (w) => w.double(-Infinity), "$4\r\n-inf\r\n", ",-inf\r\n"],
    ["double nan", (w) => w.double(NaN), "$3\r\nnan\r\n", ",nan\r\n"],
    ["double 1e17", (w) => w.double(1e17), "$5\r\n1e+17\r\n", ",1e+17\r\n"],
    [
      "bigNumber",
      (w) => w.bigNumber(-(2n ** 70n)),
      "$23\r\n-1180591620717411303424\r\n",
      "(-1180591620717411303424\r\n",
    ],
    ["bigNumber string", (w) => w.bigNumber("123"), "$3\r\n123\r\n", "(123\r\n"],
    ["verbatim", (w) => w.verbatim("txt", "a\r\nb"), "$4\r\na\r\nb\r\n", "=8\r\ntxt:a\r\nb\r\n"],
    ["true", (w) => w.boolean(true), ":1\r\n", "#t\r\n"],
    ["false", (w) => w.boolean(false), ":0\r\n", "#f\r\n"],
    [
      "bulk and integers unchanged",
      (w) => {
        w.array(2);
        w.bulk("x");
        w.integer(-2);
      },
      "*2\r\n$1\r\nx\r\n:-2\r\n",
      "*2\r\n$1\r\nx\r\n:-2\r\n",
    ],
  ];
  for (const [name, write, resp2, resp3] of cases) {
    assert.equal(renderIn(2, write), resp2, `${name} in RESP2`);
    assert.equal(renderIn(3, write), resp3, `${name} in RESP3`);
  }
  assert.equal(render((w) => w.nil()), "$-1\r\n", "a writer without a session speaks RESP2");
});

Deno.test("the RESP version is read at each reply: a switch applies to the next one", () => {
  const out = new OutBuffer(16);
  const session: { protocol: 2 | 3 } = { protocol: 2 };
  const w = new RespReplyWriter(out, session);
  w.nil();
  session.protocol = 3;
  w.nil();
  session.protocol = 2;
  w.nil();
  assert.equal(bytesToBinary(out.view()), "$-1\r\n_\r\n$-1\r\n");
});

Deno.test("bigNumber and verbatim refuse what the wire cannot carry", () => {
  assert.throws(() => render((w) => w.bigNumber("12a")), RangeError);
  assert.throws(() => render((w) => w.verbatim("text", "x")), RangeError);
});

Deno.test("RespReplyWriter.double: integers (written digit by digit) read as formatDouble's text, in RESP2 and RESP3", () => {
  const values = [0, -0, 1, -1, 9, 10, -10, 12345, -99999, 2 ** 31 - 1, -(2 ** 31) + 1, -(2 ** 31)];
  for (let i = 0; i < 500; i++) values.push(Math.floor((Math.random() - 0.5) * 2 ** 33));
  values.push(2 ** 31, 1e15, 1.5, -2.5);
  for (const value of values) {
    const text = formatDouble(value);
    assert.equal(renderIn(2, (w) => w.double(value)), `$${text.length}\r\n${text}\r\n`, `${value}`);
    assert.equal(renderIn(3, (w) => w.double(value)), `,${text}\r\n`, `${value}`);
  }
});
