import assert from "node:assert/strict";
import { MAX_REPLY_DEPTH, type Reply, ReplyParser, ReplyProtocolError } from "./reply.ts";

const encoder = new TextEncoder();

/** Every reply in `wire`, fed to the parser `step` bytes at a time. */
function parseAll(wire: string | Uint8Array, step = Infinity, mode: "resp" | "text" = "resp") {
  const bytes = typeof wire === "string" ? encoder.encode(wire) : wire;
  const parser = new ReplyParser(mode);
  const replies: Reply[] = [];
  for (let at = 0; at < bytes.length; at += step) {
    parser.push(bytes.subarray(at, Math.min(bytes.length, at + step)));
    for (let r = parser.next(); r !== undefined; r = parser.next()) replies.push(r);
  }
  return replies;
}

const WIRE = "+OK\r\n-ERR bad\r\n:-42\r\n$3\r\na\r\n\r\n$-1\r\n*-1\r\n_\r\n" +
  "*3\r\n:1\r\n*0\r\n*2\r\n$0\r\n\r\n%1\r\n+k\r\n~1\r\n#t\r\n" +
  ",1.5\r\n(123456789012345678901234567890\r\n#f\r\n=8\r\ntxt:ab\r\n\r\n" +
  ">2\r\n+message\r\n:1\r\n!5\r\nERR x\r\n|1\r\n+ttl\r\n:3\r\n:7\r\n" +
  "*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n";

const EXPECTED: Reply[] = [
  { type: "status", value: "OK" },
  { type: "error", value: "ERR bad" },
  { type: "integer", value: -42n },
  { type: "bulk", value: "a\r\n" },
  { type: "nil" },
  { type: "nil" },
  { type: "nil" },
  {
    type: "array",
    items: [
      { type: "integer", value: 1n },
      { type: "array", items: [] },
      {
        type: "array",
        items: [
          { type: "bulk", value: "" },
          {
            type: "map",
            items: [{ type: "status", value: "k" }, {
              type: "set",
              items: [{ type: "boolean", value: true }],
            }],
          },
        ],
      },
    ],
  },
  { type: "double", value: "1.5" },
  { type: "bignum", value: "123456789012345678901234567890" },
  { type: "boolean", value: false },
  { type: "verbatim", format: "txt", value: "ab\r\n" },
  { type: "push", items: [{ type: "status", value: "message" }, { type: "integer", value: 1n }] },
  { type: "error", value: "ERR x" },
  // An attribute annotates the reply after it and is dropped, at the top
  // level and inside an aggregate.
  { type: "integer", value: 7n },
  { type: "array", items: [{ type: "integer", value: 1n }, { type: "integer", value: 2n }] },
];

Deno.test("every RESP2 and RESP3 type, whole and split at every byte", () => {
  assert.deepEqual(parseAll(WIRE), EXPECTED);
  assert.deepEqual(parseAll(WIRE, 1), EXPECTED);
  assert.deepEqual(parseAll(WIRE, 7), EXPECTED);
});

Deno.test("bulk strings keep every byte", () => {
  const bytes = new Uint8Array([0x24, 0x33, 0x0d, 0x0a, 0x00, 0xff, 0x80, 0x0d, 0x0a]);
  assert.deepEqual(parseAll(bytes, 1), [{ type: "bulk", value: "\x00\xff\x80" }]);
});

Deno.test("a large reply arriving in small reads is read once", () => {
  const items = 100_000;
  let wire = `*${items}\r\n`;
  for (let i = 0; i < items; i++) wire += `$6\r\nv${String(i).padStart(5, "0")}\r\n`;
  const start = performance.now();
  const [reply] = parseAll(wire, 512);
  assert.equal(reply.type, "array");
  assert.equal((reply as { items: Reply[] }).items.length, items);
  // Re-parsing from the start at each read would take seconds.
  assert.ok(performance.now() - start < 2000);
});

Deno.test("text mode: a reply per line", () => {
  assert.deepEqual(parseAll("OK\r\nERROR: key not found\n", 3, "text"), [
    { type: "line", value: "OK" },
    { type: "line", value: "ERROR: key not found" },
  ]);
});

Deno.test("bytes that are no reply are refused, with a reason", () => {
  for (
    const [wire, reason] of [
      ["?x\r\n", /unexpected byte 0x3f/],
      [":1x\r\n", /bad integer/],
      ["$2\r\nabc\r\n", /not followed by CRLF/],
      ["$abc\r\n", /bad length/],
      ["*-2\r\n", /bad length/],
      ["#x\r\n", /bad boolean/],
      ["=2\r\nab\r\n", /bad verbatim/],
      ["+OK\n", /CRLF/],
      ["*1\r\n".repeat(MAX_REPLY_DEPTH + 1), /nested deeper/],
    ] as const
  ) {
    assert.throws(
      () => parseAll(wire),
      (e: Error) => e instanceof ReplyProtocolError && reason.test(e.message),
      wire,
    );
  }
});
